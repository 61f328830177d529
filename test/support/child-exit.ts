import type { ChildProcess } from 'node:child_process';

/** Resolves once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((ok) => child.once('exit', () => ok()));
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with its exit code once it has exited. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.kill('SIGTERM');
    await exited(child);
    clearTimeout(kill);
  }
  return child.exitCode;
}
