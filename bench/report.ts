import { readFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';

/** A plain-text table: first row is the header; columns after the first are right-aligned unless `left`. */
export function table(rows: (string | number)[][], left = false): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((v, c) => (c === 0 || left ? v.padEnd(widths[c]) : v.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const fmt = {
  us: (v: number) => `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} µs`,
  ms: (v: number) => `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms`,
  s: (v: number) => `${v.toFixed(2)} s`,
  rate: (v: number) => `${Math.round(v).toLocaleString('en-US')}/s`,
  ratio: (v: number) => `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}x`,
  kb: (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`,
  mb: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`,
  int: (v: number) => Math.round(v).toLocaleString('en-US'),
};

export function machine(): { cpu: string; cores: number; node: string; os: string; memory: string; load: string } {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    node: process.version,
    os: `${platform()} ${release()}`,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GB`,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

/** The first rows of a run's machine table: what ran it, and the load at its start and end. */
export function machineRows(start: ReturnType<typeof machine>, loadAtEnd: string): (string | number)[][] {
  return [
    ['machine', ''],
    ['CPU', start.cpu],
    ['cores (os.cpus())', start.cores],
    ['Node', start.node],
    ['OS', start.os],
    ['load average at start | end', `${start.load} | ${loadAtEnd}`],
  ];
}

/**
 * CPU time the whole machine has spent working, in ms summed over its cores: user, nice, system, irq and softirq
 * from /proc/stat, so the kernel's network work for loopback connections counts; elsewhere Node's per-core times
 * (which have no softirq). Steal, time the hypervisor gave to other guests, is not this machine's work.
 */
export function machineBusyMs(): number {
  try {
    const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // USER_HZ is 100 on Linux: a tick is 10 ms.
    return (user + nice + system + irq + softirq) * 10;
  } catch {
    return cpus().reduce((a, c) => a + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
  }
}

/**
 * CPU the rest of the machine uses while a section runs, in cores: all cores' busy time minus this process's. On a
 * shared machine this is what makes two runs differ.
 */
export function otherLoad(): { stop(): number } {
  const b0 = machineBusyMs();
  const p0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    stop() {
      const p = process.cpuUsage(p0);
      return Math.max(0, machineBusyMs() - b0 - (p.user + p.system) / 1000) / (performance.now() - t0);
    },
  };
}

export function heading(s: string): void {
  console.log(`\n== ${s} ${'='.repeat(Math.max(0, 74 - s.length))}`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Spread of repeated measurements as ± percent of the median: (max - min) / 2 / median. */
export function spread(xs: number[]): number {
  return ((Math.max(...xs) - Math.min(...xs)) / 2 / median(xs)) * 100;
}
