import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { cpuMsOf, freePort, onPath } from './service-run';
import type { Sink } from './sink';

const SMTP_SINK = '/usr/sbin/smtp-sink';

/** Postfix's smtp-sink, when installed (Debian's postfix package): it is on the PATH or in /usr/sbin. */
export function postfixSinkCommand(): string | undefined {
  if (onPath('smtp-sink')) return 'smtp-sink';
  return onPath(SMTP_SINK) ? SMTP_SINK : undefined;
}

/**
 * Postfix's smtp-sink as the bench's SMTP sink: a C program that accepts every message and keeps nothing, so it takes
 * far less of a 2-core machine than the Node sink (bench/sink.ts) while the service is measured. It counts with `-c`
 * (a running `sess=N quit=N mesg=N` line, rewritten after each message); bytes are not counted (0).
 */
export async function startPostfixSink(command: string): Promise<Sink> {
  const port = await freePort();
  // As root it must be told whom to run as; as anyone else the option is refused.
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn(command, [...user, '-c', `127.0.0.1:${port}`, '256'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let messages = 0;
  let tail = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('latin1')).slice(-200);
    const counts = tail.match(/mesg=(\d+)/g);
    if (counts) messages = Number(counts[counts.length - 1].slice(5));
  });
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  // Ready once it accepts a connection.
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`smtp-sink exited with ${child.exitCode}: ${errors.trim()}`);
    const open = await new Promise<boolean>((ok) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        ok(true);
      });
      socket.once('error', () => ok(false));
    });
    if (open) break;
    if (Date.now() > deadline) throw new Error(`smtp-sink did not listen on ${port}: ${errors.trim()}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return {
    url: `smtp://127.0.0.1:${port}`,
    stats: () => Promise.resolve({ messages, bytes: 0, cpuMicros: (cpuMsOf(child.pid!) ?? 0) * 1000 }),
    stop: () =>
      new Promise((ok) => {
        if (child.exitCode !== null || child.signalCode !== null) return ok();
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      }),
  };
}
