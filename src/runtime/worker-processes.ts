import { fork, type ChildProcess } from 'node:child_process';
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
      /** Scheduling niceness of the forks (0: as this process); see main.ts for why `all` lowers it. */
      niceness?: number;
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
    if (this.deps.niceness && child.pid !== undefined) {
      try {
        setPriority(child.pid, this.deps.niceness);
      } catch (err) {
        // Only a scheduling preference: a system that refuses it runs the fork at the normal priority.
        this.deps.log.warn({ event: 'worker_process.priority_refused', n, err }, 'could not lower the fork priority');
      }
    }
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
}
