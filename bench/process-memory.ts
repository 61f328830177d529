import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Peak resident memory of a process from Linux's /proc: VmHWM ("high water mark") in /proc/<pid>/status, which
 * the kernel keeps for the process's whole life, so a reading just before it exits is its peak, whatever happened
 * between two samples.
 */
export function peakRss(pid: number | 'self'): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a process's VmHWM again from its current RSS (writing 5 to /proc/<pid>/clear_refs, Linux 4.0+), so one
 * process running two measurements reports each one's own peak. False when the kernel does not allow it.
 */
export function resetPeakRss(pid: number | 'self'): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The command name of a process (/proc/<pid>/comm), e.g. `node`, or undefined when it is gone. */
export function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
