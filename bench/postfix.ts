import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { freePort } from './service-run';
import type { Sink } from './sink';
import { treeCpu } from './worker-child';

/**
 * Postfix's test tools as the physical baseline of delivery: smtp-sink (a C SMTP server that accepts and discards)
 * and smtp-source (a C SMTP client that pushes generated messages). Found on PATH or where distributions put them
 * for the administrator (Debian: /usr/sbin, not on a normal user's PATH); the bench never installs them.
 */
const ADMIN_DIRS = ['/usr/sbin', '/usr/local/sbin'];

/** Full path of a Postfix tool, or undefined when it is not installed. */
export function findPostfixTool(name: 'smtp-sink' | 'smtp-source'): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...ADMIN_DIRS];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * smtp-sink on a free loopback port as the bench's SMTP server. It counts delivered messages itself (`-c` prints
 * "sess=N quit=N mesg=N" on each change); its CPU comes from /proc. Run as root it must drop privileges (`-u`).
 */
export async function startPostfixSink(bin: string): Promise<Sink> {
  const port = await freePort();
  const args = ['-c', ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), `127.0.0.1:${port}`, '1024'];
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let messages = 0;
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  // The counter line ends in \r, not \n: read the stream as it comes.
  child.stdout!.on('data', (b: Buffer) => {
    const m = /mesg=(\d+)[^m]*$/.exec(b.toString());
    if (m) messages = Number(m[1]);
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  // A bench cut short (watchdog, signal) exits before its clean-ups finish: the sink must not outlive it.
  const onExit = () => child.exitCode === null && child.kill('SIGTERM');
  process.on('exit', onExit);
  void exited.then(() => process.off('exit', onExit));
  await waitForListener(port, child, () => stderr);
  const pid = child.pid!;
  const stats = async () => {
    // the counter is printed as messages complete: a short pause lets the last ones reach this process
    await new Promise((ok) => setTimeout(ok, 50));
    return { messages, bytes: 0, cpuMicros: (treeCpu(pid)?.get(pid) ?? 0) * 1000 };
  };
  return {
    url: `smtp://127.0.0.1:${port}`,
    stats,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForListener(port: number, child: ChildProcess, why: () => string): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`smtp-sink exited at start: ${why()}`);
    const up = await new Promise<boolean>((ok) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        ok(true);
      });
      s.once('error', () => ok(false));
    });
    if (up) return;
    if (performance.now() > deadline) throw new Error(`smtp-sink did not listen on ${port} within 10 s: ${why()}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

export interface SourceRun {
  ms: number;
  rate: number;
}

/**
 * smtp-source pushes `count` messages of `bytes` payload over `sessions` parallel SMTP sessions that stay open
 * (`-d`, as our pooled connections do) to `sinkUrl`: the C client's rate against the same sink is the ceiling.
 */
export async function smtpSourceRun(
  bin: string,
  sinkUrl: string,
  opts: { count: number; bytes: number; sessions: number },
): Promise<SourceRun> {
  const { hostname, port } = new URL(sinkUrl);
  const args = [
    '-d',
    ...['-s', String(opts.sessions), '-m', String(opts.count), '-l', String(opts.bytes)],
    ...['-M', 'source.bench', '-f', 'news@gazette.bench', '-t', 'reader@list.bench'],
    `${hostname}:${port}`,
  ];
  const t0 = performance.now();
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const errors: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => errors.length < 20 && errors.push(l));
  const code = await new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`smtp-source ${args.join(' ')} exited with ${code}: ${errors.join(' | ')}`);
  return { ms, rate: (opts.count / ms) * 1000 };
}
