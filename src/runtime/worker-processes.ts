import { execFile, fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import type { Logger } from 'pino';
import { workerForkFlags } from './worker-heap';

/**
 * Extra worker processes beside this one, so delivery uses more than one core (it is CPU-bound in the SMTP
 * client, see BENCHMARKS.md). Each is `main.ts worker` with the same settings; one that dies is started again.
 */
export class WorkerProcesses {
  private readonly children = new Set<ChildProcess>();
  private stopping = false;

  constructor(
    private readonly deps: {
      entry: string;
      count: number;
      log: Logger;
      /**
       * 'background': the forks take only CPU time nothing else wants (nice 19, and Linux's idle scheduling class where
       * it can be set); see main.ts for why `all` asks for it. Default 'normal': as this process.
       */
      priority?: 'normal' | 'background';
    },
  ) {}

  start(): void {
    for (let i = 0; i < this.deps.count; i++) this.spawn(i + 2);
  }

  /** Sends SIGTERM to each and waits for them to finish the work in hand and exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.children].map(
        (child) =>
          new Promise<void>((ok) => {
            if (child.exitCode !== null || child.signalCode !== null) return ok();
            child.once('exit', () => ok());
            child.kill('SIGTERM');
          }),
      ),
    );
  }

  private spawn(n: number): void {
    // Same runtime flags (the TypeScript loader among them) with the workers' heap limit, same environment, one
    // process of workers each. The forks serve no port of their own: WORKER_PORT belongs to the first process (they
    // would all want it).
    const child = fork(this.deps.entry, ['worker'], {
      env: { ...process.env, WORKER_PROCESSES: '1', WORKER_PORT: '0' },
      execArgv: workerForkFlags(process.execArgv, process.env.NODE_OPTIONS),
    });
    this.children.add(child);
    if (this.deps.priority === 'background' && child.pid !== undefined) this.background(child, n);
    this.deps.log.info({ event: 'worker_process.started', n, pid: child.pid }, 'worker process started');
    child.once('exit', (code, signal) => {
      this.children.delete(child);
      if (this.stopping) return;
      this.deps.log.error(
        { event: 'worker_process.exited', n, pid: child.pid, code, signal },
        'worker process exited; starting another',
      );
      setTimeout(() => !this.stopping && this.spawn(n), 1000).unref();
    });
  }

  /**
   * Nice 19, then SCHED_IDLE for every thread of the fork, which the scheduler runs only on CPU time no normal thread
   * wants. At nice 19 alone, in 8 s of signups on two cores the fork's main thread ran 3.2 s while the thread
   * answering HTTP waited 1.5 s for a core; in the idle class the same service answered 1-9 % more signups (see
   * main.ts). Node has no call for the policy, so util-linux's chrt sets it: straight away, and again two seconds
   * later, when Node's own threads have surely started (one started while chrt runs could miss it; threads started
   * later inherit it from the thread starting them).
   */
  private background(child: ChildProcess, n: number): void {
    const pid = child.pid!;
    try {
      setPriority(pid, 19);
    } catch (err) {
      // Only a scheduling preference: a system that refuses it runs the fork at the normal priority.
      this.deps.log.warn({ event: 'worker_process.priority_refused', n, err }, 'could not lower the fork priority');
    }
    if (process.platform !== 'linux') return;
    const idle = (last: boolean) =>
      execFile('chrt', ['--idle', '--all-tasks', '--pid', '0', String(pid)], (err) => {
        // A fork that exited meanwhile is no failure; nor, on the second call, one already reported.
        if (!err || child.exitCode !== null || child.signalCode !== null || last) return;
        this.deps.log.warn(
          { event: 'worker_process.idle_class_refused', n, err: err.message },
          'could not put the fork in the idle scheduling class (chrt); it runs at nice 19',
        );
      });
    idle(false);
    setTimeout(() => idle(true), 2000).unref();
  }
}
