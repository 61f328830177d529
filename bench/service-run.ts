/**
 * The pieces of a bench that drives the whole service over HTTP with wrk: the service started as its command starts
 * it, wrk run with bench/saturation.lua, the answers read back, the run's Redis keys deleted. Shared by
 * bench/saturation.ts (`npm run bench:saturation`) and bench/signups.ts (the signups section of `npm run bench`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { errorMessage } from '../src/lib/errors';
import { terminate } from '../test/support/child-exit';
import { npmScriptNodeArgs } from './npm-script';
import { BENCH_REDIS } from './redis-probe';

export const ROOT = join(__dirname, '..');

/** What wrk's done() prints (bench/saturation.lua). */
export interface WrkSummary {
  requests: number;
  written: number;
  durationUs: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { mean: number; p50: number; p90: number; p99: number; max: number };
}

export { freePort } from '../test/support/free-port';

/** The terms version the bench's service runs with, and its signups agree to. */
export const TERMS_VERSION = 'bench-1';

/**
 * The service's settings in a bench run: its own port, key prefix, SMTP sink and data folder, throwaway secrets,
 * and the per-IP signup limit raised (every request comes from 127.0.0.1: it would answer 429 after the first 20).
 * Nothing else is set: the rest are the service's defaults. No inherited environment, so no .env or shell setting
 * changes what is measured.
 */
export function serviceEnv(o: {
  port: number;
  prefix: string;
  smtpUrl: string;
  dataDir: string;
}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PORT: String(o.port),
    PUBLIC_URL: `http://127.0.0.1:${o.port}`,
    REDIS_URL: `redis://${BENCH_REDIS.host}:${BENCH_REDIS.port}`,
    REDIS_PREFIX: o.prefix,
    SMTP_URL: o.smtpUrl,
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    APP_SECRET: 'bench-app-secret-0123456789abcdef0123456789',
    TERMS_VERSION,
    SIGNUP_RATE_PER_IP: '1000000000',
    DATA_DIR: o.dataDir,
  };
}

/** Whether a command is on the PATH (the bench installs nothing: a section without its tool is skipped). */
export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** False, after saying the section is skipped, when wrk is not on the PATH (the bench installs nothing). */
export function wrkOnPath(): boolean {
  if (onPath('wrk')) return true;
  console.log('skipped: wrk is not on the PATH (Debian: apt-get install wrk); the bench installs nothing');
  return false;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux only; undefined elsewhere). */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat(5), i.e. 11 and 12 after "pid (comm) ".
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** The pids of a process's children (Linux only: empty elsewhere); the service's WORKER_PROCESSES forks. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Starts the service with the node command of `npm start` (`src`) or `npm run start:prod` (`dist`, the compiled
 * build), flags included, and resolves once /readyz answers 200.
 */
export async function startService(opts: {
  env: Record<string, string>;
  port: number;
  target?: 'src' | 'dist';
  /** Extra Node flags, e.g. --cpu-prof for a profile of the service. */
  nodeFlags?: string[];
}): Promise<ChildProcess> {
  const entry = npmScriptNodeArgs(opts.target === 'dist' ? 'start:prod' : 'start');
  if (opts.target === 'dist' && !existsSync(join(ROOT, 'dist', 'src', 'main.js')))
    throw new Error('no dist/src/main.js: run npm run build first');
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), ...entry], {
    cwd: ROOT,
    env: opts.env,
    // Its log lines (one per request at LOG_LEVEL=info) go where an operator's would, but not onto the bench's output.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} before it was ready`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the service was not ready after 60 s');
    }
    const ready = await fetch(`http://127.0.0.1:${opts.port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return child;
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
export function stopService(child: ChildProcess, graceMs = 40_000): Promise<number | null> {
  return terminate(child, graceMs);
}

/**
 * Runs wrk with bench/saturation.lua. `mode` `post` posts a new address per request to `url` (a signup), `get`
 * fetches `url`; both log each answer's status under `outDir` (so both sides of a comparison pay the same per-answer
 * cost in wrk).
 */
export function runWrk(opts: {
  url: string;
  mode: 'post' | 'get';
  outDir: string;
  run: string;
  termsVersion: string;
  threads: number;
  connections: number;
  seconds: number;
}): Promise<{ summary: WrkSummary; output: string; command: string }> {
  const script = join(__dirname, 'saturation.lua');
  const wrkArgs = [
    `-t${opts.threads}`,
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    script,
    opts.url,
    '--',
    opts.run,
    opts.outDir,
    opts.termsVersion,
    opts.mode,
  ];
  const command = `wrk ${wrkArgs.join(' ')}`;
  return new Promise((ok, fail) => {
    const wrk = spawn('wrk', wrkArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    wrk.stdout.on('data', (c: Buffer) => (output += c.toString()));
    wrk.once('error', (err) =>
      fail(new Error(`could not run wrk (Debian: apt-get install wrk): ${errorMessage(err)}`)),
    );
    wrk.once('exit', (code) => {
      const line = /^SATURATION (.+)$/m.exec(output);
      if (code !== 0 || !line) return fail(new Error(`wrk exited with ${code}:\n${output}`));
      ok({ summary: JSON.parse(line[1]) as WrkSummary, output: output.replace(/^SATURATION .+\n?/m, ''), command });
    });
  });
}

/** The answers wrk's threads logged: status counts, and the request ids (THREAD-N) that got a 202. */
export function readAnswers(outDir: string): {
  statuses: Map<number, number>;
  accepted: string[];
  unlabelled: number;
} {
  const statuses = new Map<number, number>();
  const accepted: string[] = [];
  let unlabelled = 0;
  for (const name of readdirSync(outDir)) {
    for (const line of readFileSync(join(outDir, name), 'utf8').split('\n')) {
      if (!line) continue;
      const [status, id] = line.split(' ');
      statuses.set(Number(status), (statuses.get(Number(status)) ?? 0) + 1);
      if (status !== '202') continue;
      if (id === '-') unlabelled++;
      else accepted.push(id);
    }
  }
  return { statuses, accepted, unlabelled };
}

/** "202: 12,345, 429: 3" */
export function statusCounts(statuses: Map<number, number>): string {
  return (
    [...statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}: ${Math.round(n).toLocaleString('en-US')}`)
      .join(', ') || 'none'
  );
}

/** The address bench/saturation.lua posts for request id `id` of run `run`. */
export function signupAddress(run: string, id: string): string {
  return `sat-${run}-${id}@example.com`;
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== '0');
}
