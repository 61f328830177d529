import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface SinkStats {
  messages: number;
  bytes: number;
  /** User + system CPU time of the sink process since it started. */
  cpuMicros: number;
}

/** Handle on the SMTP sink child process (bench/smtp-sink-process.ts). */
export interface Sink {
  url: string;
  stats(): Promise<SinkStats>;
  stop(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  // The child runs under the same TypeScript loader as this process (tsx puts it in execArgv), without any
  // profiling flag given to the benchmark: the profile is of the engine, not of the sink.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--prof'));
  const child: ChildProcess = fork(join(__dirname, 'smtp-sink-process.ts'), [], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((ok, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`SMTP sink exited with ${code} before it was ready`)));
    child.on('message', (m: { type: string; port?: number }) => m.type === 'ready' && ok(m.port!));
  });
  child.removeAllListeners('exit');
  return {
    url: `smtp://127.0.0.1:${port}`,
    stats() {
      return new Promise((ok) => {
        const on = (m: { type: string } & SinkStats) => {
          if (m.type !== 'stats') return;
          child.off('message', on);
          ok({ messages: m.messages, bytes: m.bytes, cpuMicros: m.cpuMicros });
        };
        child.on('message', on);
        child.send({ type: 'stats' });
      });
    },
    stop() {
      return new Promise((ok) => {
        if (child.exitCode !== null) return ok();
        child.once('exit', () => ok());
        child.send({ type: 'stop' });
      });
    },
  };
}
