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
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { errorStack } from '../src/lib/errors';
import { BenchAbort } from './abort';
import { args, num } from './args';
import { Keys } from '../src/store/keys';
import { SubscriberStore } from '../src/store/subscriber-store';
import { BENCH_REDIS } from './redis-probe';
import { fmt, heading, machine, machineRows, table } from './report';
import { startSink, type Sink } from './sink';
import {
  cpuMsOf,
  deletePrefix,
  freePort,
  readAnswers,
  runWrk,
  serviceEnv,
  signupAddress,
  startService,
  statusCounts,
  TERMS_VERSION,
  stopService,
} from './service-run';

const options = {
  seconds: num('seconds', 60),
  connections: num('connections', 32),
  threads: num('threads', 2),
  /** How long the confirmation mails queued by the run get to reach the sink afterwards. */
  drainSeconds: num('drain-seconds', 180),
  target: (args.get('target') ?? 'src') as 'src' | 'dist',
};
if (options.target !== 'src' && options.target !== 'dist') throw new Error('--target must be src or dist');

const cut = new BenchAbort(15_000);

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
  cut.onCleanup(() => void redis.disconnect());
  cut.onCleanup(() => deletePrefix(redis, prefix));
  const work = mkdtempSync(join(tmpdir(), 'nl-saturation-'));
  cut.onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const answersDir = join(work, 'answers');
  mkdirSync(answersDir);

  const sink: Sink = await startSink();
  cut.onCleanup(() => sink.stop());
  const port = await freePort();
  const env = {
    ...serviceEnv({ port, prefix, smtpUrl: sink.url, dataDir: join(work, 'var') }),
    NODE_ENV: 'development',
    // One request log line per signup would put the bench's own pipe on the measured path.
    LOG_LEVEL: 'warn',
  };
  const service = await startService({ env, port, target: options.target });
  cut.onCleanup(async () => void (await stopService(service)));
  const cpu0 = cpuMsOf(service.pid!);
  const sent0 = (await sink.stats()).messages;

  heading(`${options.seconds} s of POST /api/subscriptions`);
  const { summary, output, command } = await runWrk({
    url: `http://127.0.0.1:${port}/api/subscriptions`,
    mode: 'post',
    outDir: answersDir,
    run,
    termsVersion: TERMS_VERSION,
    threads: options.threads,
    connections: options.connections,
    seconds: options.seconds,
  });
  console.log(command);
  const cpu1 = cpuMsOf(service.pid!);
  const mailsDuring = (await sink.stats()).messages - sent0;
  const loadEnd = machine().load;
  console.log(output.trim());

  const { statuses, accepted, unlabelled } = readAnswers(answersDir);
  const addressOf = (id: string) => signupAddress(run, id);
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
        ['status counts', statusCounts(statuses)],
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
        ...machineRows(m, loadEnd),
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

  await cut.cleanUp();
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
  if (cut.aborting) return;
  console.error(`bench failed: ${errorStack(err)}`);
  await cut.cleanUp();
  process.exit(1);
});
