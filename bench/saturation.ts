/**
 * `npm run bench:saturation`: the signup endpoint driven as hard as it goes for a minute, then checked. See
 * BENCHMARKS.md.
 *
 * The service runs as `npm start` runs it (`src/main.ts all` under tsx: the API and the workers in one process), or
 * compiled with --target=dist (`node dist/src/main.js all`, after `npm run build`), on a fresh Redis key prefix, with
 * SIGNUP_RATE_PER_IP raised so the per-IP limiter does not answer 429, and its confirmation mails going to an SMTP
 * sink child process. wrk (Debian's package) posts from a second process on loopback, a new address per request
 * (bench/saturation.lua). At the end: the status counts (any 5xx fails the run), and every address that got a 202
 * looked up in Redis (any missing fails the run); then the confirmation mails are waited for, and everything the run
 * wrote to Redis is deleted.
 *
 *   npm run bench:saturation
 *   npm run bench:saturation -- --seconds=60 --connections=32 --threads=2 --target=src|dist
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { errorMessage, errorStack } from '../src/lib/errors';
import { args, num } from './args';
import { Keys } from '../src/store/keys';
import { SubscriberStore } from '../src/store/subscriber-store';
import { BENCH_REDIS } from './redis-probe';
import { fmt, heading, machine, table } from './report';
import { startSink, type Sink } from './sink';

const ROOT = join(__dirname, '..');
const TERMS_VERSION = 'bench-1';

const options = {
  seconds: num('seconds', 60),
  connections: num('connections', 32),
  threads: num('threads', 2),
  /** How long the confirmation mails queued by the run get to reach the sink afterwards. */
  drainSeconds: num('drain-seconds', 180),
  target: args.get('target') ?? 'src',
};
if (options.target !== 'src' && options.target !== 'dist') throw new Error('--target must be src or dist');

/** What wrk's done() prints (bench/saturation.lua). */
interface WrkSummary {
  requests: number;
  written: number;
  durationUs: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { mean: number; p50: number; p90: number; p99: number; max: number };
}

const cleanups: (() => Promise<void> | void)[] = [];
let aborting = false;
async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse())
    await Promise.resolve()
      .then(c)
      .catch((err) => console.error(`cleanup failed: ${errorMessage(err)}`));
}
async function abort(why: string): Promise<void> {
  if (aborting) return void console.error(`bench: ${why} again; still cleaning up`);
  aborting = true;
  console.error(`bench: ${why}; cleaning up`);
  setTimeout(() => process.exit(1), 15_000).unref();
  await cleanUp();
  process.exit(1);
}
process.on('SIGINT', () => void abort('interrupted'));
process.on('SIGTERM', () => void abort('terminated'));

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => ok(port));
    });
  });
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux only; undefined elsewhere). */
function cpuMsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat(5), i.e. 11 and 12 after "pid (comm) ".
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Starts the service the way its command does and resolves once /readyz answers 200. */
async function startService(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const entry =
    options.target === 'dist'
      ? [join(ROOT, 'dist', 'src', 'main.js'), 'all']
      : // `npm start`'s service and loader, as one process (npm and the tsx CLI only wrap it).
        ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), 'all'];
  if (options.target === 'dist' && !existsSync(entry[0]))
    throw new Error('no dist/src/main.js: run npm run build first');
  const child = spawn(process.execPath, entry, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} before it was ready`);
    if (Date.now() > deadline) throw new Error('the service was not ready after 60 s');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return child;
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

function stopService(child: ChildProcess): Promise<number | null> {
  return new Promise((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok(child.exitCode);
    const kill = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.once('exit', (code) => {
      clearTimeout(kill);
      ok(code);
    });
    child.kill('SIGTERM');
  });
}

function runWrk(url: string, outDir: string, run: string): Promise<{ summary: WrkSummary; output: string }> {
  const script = join(__dirname, 'saturation.lua');
  const wrkArgs = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    script,
    url,
    '--',
    run,
    outDir,
    TERMS_VERSION,
  ];
  console.log(`wrk ${wrkArgs.join(' ')}`);
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
      ok({ summary: JSON.parse(line[1]) as WrkSummary, output: output.replace(/^SATURATION .+\n?/m, '') });
    });
  });
}

/** The answers wrk's threads logged: status counts, and the request ids (THREAD-N) that got a 202. */
function readAnswers(outDir: string): { statuses: Map<number, number>; accepted: string[]; unlabelled: number } {
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

/** Which of these addresses have no subscriber record under `keys` (index entry and record, both). */
async function missingFrom(redis: Redis, keys: Keys, addresses: string[]): Promise<string[]> {
  const store = new SubscriberStore({ redis, keys });
  const missing: string[] = [];
  const CHUNK = 100;
  for (let i = 0; i < addresses.length; i += CHUNK) {
    const chunk = addresses.slice(i, i + CHUNK);
    const found = await Promise.all(chunk.map((a) => store.getByEmail(a)));
    chunk.forEach((address, j) => {
      if (!found[j]) missing.push(address);
    });
  }
  return missing;
}

/**
 * MEMORY USAGE summed over every key under the prefix, split into the queues' keys (BullMQ, `PREFIX:bull:*`) and the
 * data: with only this run's signups under the prefix, the data's share per signup is what a subscriber costs.
 */
async function memoryOf(redis: Redis, prefix: string): Promise<{ data: number; queues: number; keys: number }> {
  const total = { data: 0, queues: 0, keys: 0 };
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    const pipe = redis.pipeline();
    for (const key of found) pipe.memory('USAGE', key);
    const sizes = (await pipe.exec()) ?? [];
    found.forEach((key, i) => {
      const bytes = Number(sizes[i]?.[1] ?? 0);
      if (key.startsWith(`${prefix}:bull:`)) total.queues += bytes;
      else total.data += bytes;
      total.keys++;
    });
  } while (cursor !== '0');
  return total;
}

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== '0');
}

async function main() {
  const m = machine();
  const started = new Date();
  console.log(
    `newsletter signup saturation: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.os}, ${m.memory} RAM; ` +
      `load average ${m.load}`,
  );
  const run = randomBytes(4).toString('hex');
  const prefix = `bench-sat-${run}`;
  const keys = new Keys(prefix);
  const redis = new Redis({ ...BENCH_REDIS, maxRetriesPerRequest: 3 });
  cleanups.push(() => void redis.disconnect());
  cleanups.push(() => deletePrefix(redis, prefix));
  const work = mkdtempSync(join(tmpdir(), 'nl-saturation-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const answersDir = join(work, 'answers');
  mkdirSync(answersDir);

  const sink: Sink = await startSink();
  cleanups.push(() => sink.stop());
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'development',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    REDIS_URL: `redis://${BENCH_REDIS.host}:${BENCH_REDIS.port}`,
    REDIS_PREFIX: prefix,
    SMTP_URL: sink.url,
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    APP_SECRET: 'bench-app-secret-0123456789abcdef0123456789',
    TERMS_VERSION,
    // Every request comes from 127.0.0.1: the per-IP limit would answer 429 after the first 20.
    SIGNUP_RATE_PER_IP: '1000000000',
    DATA_DIR: join(work, 'var'),
    // One request log line per signup would put the bench's own pipe on the measured path.
    LOG_LEVEL: 'warn',
  };
  const service = await startService(env, port);
  cleanups.push(async () => void (await stopService(service)));
  const cpu0 = cpuMsOf(service.pid!);
  const sent0 = (await sink.stats()).messages;

  heading(`${options.seconds} s of POST /api/subscriptions`);
  const { summary, output } = await runWrk(`http://127.0.0.1:${port}/api/subscriptions`, answersDir, run);
  const cpu1 = cpuMsOf(service.pid!);
  const mailsDuring = (await sink.stats()).messages - sent0;
  const loadEnd = machine().load;
  console.log(output.trim());

  const { statuses, accepted, unlabelled } = readAnswers(answersDir);
  const addressOf = (id: string) => `sat-${run}-${id}@example.com`;
  const missing = await missingFrom(redis, keys, accepted.map(addressOf));
  const fiveHundreds = [...statuses].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0);

  // The confirmation mails the run queued: each 202 of a new address queues one.
  const drainStart = Date.now();
  let mails = (await sink.stats()).messages - sent0;
  while (mails < accepted.length && Date.now() - drainStart < options.drainSeconds * 1000) {
    await new Promise((ok) => setTimeout(ok, 1000));
    mails = (await sink.stats()).messages - sent0;
  }
  const drainS = (Date.now() - drainStart) / 1000;
  const exitCode = await stopService(service);
  const memory = await memoryOf(redis, prefix);
  const stored = (await new SubscriberStore({ redis, keys }).countByStatus()).total;

  const seconds = summary.durationUs / 1e6;
  heading('Summary');
  console.log(
    table(
      [
        ['measure', 'value'],
        ['requests answered', fmt.int(summary.requests)],
        ['requests/s', fmt.rate(summary.requests / seconds)],
        [
          'latency p50 | p90 | p99 | max',
          [summary.latencyUs.p50, summary.latencyUs.p90, summary.latencyUs.p99, summary.latencyUs.max]
            .map((us) => fmt.ms(us / 1000))
            .join(' | '),
        ],
        [
          'status counts',
          [...statuses]
            .sort(([a], [b]) => a - b)
            .map(([s, n]) => `${s}: ${fmt.int(n)}`)
            .join(', ') || 'none',
        ],
        ['5xx', fmt.int(fiveHundreds)],
        [
          'socket errors: connect, read, write, timeout',
          [summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout].join(', '),
        ],
        ['202 answers without the echoed X-Request-Id', fmt.int(unlabelled)],
        ['202 addresses looked up in Redis | missing', `${fmt.int(accepted.length)} | ${fmt.int(missing.length)}`],
        ['requests written but unanswered at the end', fmt.int(Math.max(0, summary.written - summary.requests))],
        [
          'confirmation mails at the sink: during the run | total (after waiting)',
          `${fmt.int(mailsDuring)} | ${fmt.int(mails)} (${fmt.s(drainS)})`,
        ],
        [
          'Redis MEMORY USAGE: data per subscriber stored | queues (after the mails)',
          `${fmt.int(memory.data / Math.max(1, stored))} bytes (${fmt.int(stored)} subscribers) | ${fmt.kb(memory.queues)}`,
        ],
        [
          "service CPU during the run (cores, of the machine's " + `${m.cores})`,
          cpu0 !== undefined && cpu1 !== undefined ? ((cpu1 - cpu0) / 1000 / seconds).toFixed(2) : 'n/a',
        ],
        [
          // Less sensitive to the rest of the machine than requests/s: what one core of the service answers.
          'signups per second of service CPU',
          cpu0 !== undefined && cpu1 !== undefined ? fmt.rate(summary.requests / ((cpu1 - cpu0) / 1000)) : 'n/a',
        ],
        ['service exit code after SIGTERM', String(exitCode)],
      ],
      false,
    ),
  );
  console.log('');
  console.log(
    table(
      [
        ['machine', ''],
        ['CPU', m.cpu],
        ['cores (os.cpus())', m.cores],
        ['Node', m.node],
        ['OS', m.os],
        ['load average at start | end', `${m.load} | ${loadEnd}`],
        [
          'service',
          options.target === 'dist'
            ? 'node dist/src/main.js all (npm run start:prod)'
            : 'node --import tsx src/main.ts all (what npm start runs)',
        ],
        ['wrk', `${options.threads} threads, ${options.connections} connections, ${options.seconds} s`],
        ['run', `${started.toISOString()} (${fmt.s((Date.now() - started.getTime()) / 1000)})`],
      ],
      true,
    ),
  );
  if (missing.length) console.log(`missing (first 10): ${missing.slice(0, 10).join(', ')}`);

  await cleanUp();
  const failures = [
    fiveHundreds && `${fiveHundreds} answers were 5xx`,
    missing.length && `${missing.length} addresses answered 202 are not in Redis`,
    unlabelled && `${unlabelled} 202 answers carried no X-Request-Id, so their addresses could not be checked`,
    !accepted.length && 'no signup was accepted',
  ].filter(Boolean);
  if (failures.length) {
    console.error(`saturation run FAILED: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log('saturation run passed: no 5xx, every 202 address is in Redis');
  setTimeout(() => process.exit(0), 2000).unref();
}

main().catch(async (err) => {
  if (aborting) return;
  console.error(`bench failed: ${errorStack(err)}`);
  await cleanUp();
  process.exit(1);
});
