import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { npmScriptNodeArgs } from './npm-script';

/**
 * The engine's workers as the service runs them: `npm run worker`'s command (package.json) as a child
 * of the benchmark, with WORKER_PROCESSES=N (that process plus N-1 forks of its own). The benchmark only watches
 * it: its CPU, and the CPU of every process under it, is read from /proc (Linux only).
 *
 * The child gets its own process group (detached), so a Ctrl-C at the terminal reaches only the benchmark, which
 * then stops the child in order (SIGTERM, wait for the exit) before deleting its Redis keys. Should the benchmark
 * exit without that, an exit hook sends SIGTERM to the whole group.
 */
export interface WorkerChild {
  pid: number;
  /** True until the child has exited. */
  running(): boolean;
  /** Resolves when the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its last lines of output (stdout and stderr), for error messages. */
  tail(): string;
  /**
   * CPU time (user + system, ms) of the child and every process under it, by pid, reaped ones included (they are
   * counted in their parent's cutime/cstime). Undefined where /proc cannot be read.
   */
  cpu(): Map<number, number> | undefined;
  /**
   * SIGTERM, then wait for it (and its forks) to finish the work in hand and exit; SIGKILL to the group after
   * `graceMs`.
   */
  stop(graceMs?: number): Promise<void>;
}

const ROOT = join(__dirname, '..');

let tickMs: number | undefined;
function clockTickMs(): number {
  if (tickMs === undefined) {
    try {
      tickMs = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      tickMs = 10; // USER_HZ is 100 on every Linux this runs on
    }
    if (!Number.isFinite(tickMs) || tickMs <= 0) tickMs = 10;
  }
  return tickMs;
}

/** ppid and utime + stime + cutime + cstime (clock ticks) of one process, from /proc/<pid>/stat. */
function procStat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state); ppid is field 4, utime..cstime are fields 14..17.
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/** Every process of /proc with its parent and CPU ticks; undefined where /proc cannot be read. */
function allProcesses(): Map<number, { ppid: number; ticks: number }> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = procStat(Number(e));
    if (st) stats.set(Number(e), st);
  }
  return stats;
}

/** The pids of `root` and all its descendants now alive (empty when `root` is gone or /proc cannot be read). */
function treeOf(root: number, stats: Map<number, { ppid: number }>): Set<number> {
  if (!stats.has(root)) return new Set();
  const inTree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, st] of stats) {
      if (!inTree.has(pid) && inTree.has(st.ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  return inTree;
}

/** `root` and every process under it now alive. */
export function processTree(root: number): number[] {
  const stats = allProcesses();
  return stats ? [...treeOf(root, stats)] : [];
}

/** CPU ms by pid of `root` and all its descendants now alive. */
export function treeCpu(root: number): Map<number, number> | undefined {
  const stats = allProcesses();
  if (!stats?.has(root)) return undefined;
  const ms = clockTickMs();
  return new Map([...treeOf(root, stats)].map((pid) => [pid, stats.get(pid)!.ticks * ms]));
}

/**
 * Starts `npm run worker`'s node command, its flags included; the scale bench passes its own `entry` in place of
 * `src/main.ts`, which boots the same worker role with a transport that accepts at once. `count` sets
 * WORKER_PROCESSES; undefined leaves it to the service's default (one per core). `nodeFlags` go to node after the
 * script's own (e.g. --cpu-prof: Node refuses it in NODE_OPTIONS); the forks inherit them.
 */
export function startWorkerChild(
  env: Record<string, string>,
  count?: number,
  options: { entry?: string; nodeFlags?: string[] } = {},
): WorkerChild {
  // npm run worker's flags, then the caller's (later flags win: --max-old-space-size=512 overrides the script's), then
  // the entry and the role.
  const script = npmScriptNodeArgs('worker');
  const at = script.indexOf('src/main.ts');
  if (at < 0) throw new Error(`npm run worker does not run src/main.ts: ${script.join(' ')}`);
  const child = spawn(
    process.execPath,
    [...script.slice(0, at), ...(options.nodeFlags ?? []), options.entry ?? script[at], ...script.slice(at + 1)],
    {
      cwd: ROOT,
      // Only the service's settings (no .env, no inherited configuration), plus what a process needs to run.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        LOG_LEVEL: 'warn',
        ...env,
        ...(count === undefined ? {} : { WORKER_PROCESSES: String(count) }),
        // No health port: the bench watches the process itself, and a second bench run must not find it taken.
        WORKER_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the worker process');
  let alive = true;
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.once('exit', (code, signal) => {
      alive = false;
      ok({ code, signal });
    }),
  );
  child.once('error', (err) => lines.push(`spawn error: ${err.message}`));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 50) lines.shift();
      console.log(`  [worker] ${line}`);
    });
  }
  // Last resort (the benchmark exits some other way): the group gets SIGTERM; each process shuts down on its own.
  const onExit = () => {
    if (!alive) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  process.on('exit', onExit);

  const groupAlive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  return {
    pid,
    running: () => alive,
    exited,
    tail: () => lines.join('\n'),
    cpu: () => (alive ? treeCpu(pid) : undefined),
    async stop(graceMs = 30_000) {
      if (alive) {
        child.kill('SIGTERM');
        const kill = setTimeout(() => {
          console.error(
            `worker process ${pid} did not exit within ${graceMs / 1000} s of SIGTERM; killing its process group`,
          );
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, graceMs);
        const { code, signal } = await exited;
        clearTimeout(kill);
        if (code !== 0) console.error(`worker process ${pid} exited with ${signal ?? `code ${code}`}`);
      }
      // It waits for its forks before exiting; should one outlive it, give it a little (5 s at most), then SIGKILL the
      // group.
      for (let i = 0; i < Math.min(50, graceMs / 200) && groupAlive(); i++)
        await new Promise((ok) => setTimeout(ok, 100));
      if (groupAlive()) {
        console.error(`a process of worker group ${pid} was still running after its parent exited; killing it`);
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      process.off('exit', onExit);
    },
  };
}
