import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import type { Container } from '../src/container';
import { boot, type Booted } from '../src/runtime/boot';
import { AcceptingTransport } from './accepting-transport';
import { args, num } from './args';
import { MAIL_FROM, POSTAL_ADDRESS, PUBLIC_URL, SITE_NAME, sampleArticleInputs } from './fixture';
import { BENCH_SECRET } from './messages';
import { peakRss, processName, resetPeakRss } from './process-memory';
import { BENCH_REDIS, RedisProbe } from './redis-probe';
import { fmt, heading, table } from './report';
import { memoryLogFile, type MemorySample } from './scale-worker-memory';
import type { SectionContext, SectionResult, TargetLine } from './section';
import { processTree, startWorkerChild, type WorkerChild } from './worker-child';

/** The limits at a million recipients. */
const QUEUES_LEDGERS_LIMIT = 64 * 1024 * 1024;
const WORKER_RSS_LIMIT = 256 * 1024 * 1024;
/** For ten times the list: 1.1 times linear. */
const MAX_TIME_RATIO_PER_10X = 11;

/**
 * Rows per importActive call (one Lua script each) and calls in flight while bulk-loading: two in flight keep both
 * Redis and this process busy (measured: 1,000 x 2 loaded 20,000 rows as fast as any mix of 500-5,000 and 1-4).
 */
const LOAD_BATCH = 1000;
const LOAD_IN_FLIGHT = 2;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** What the send to one size of list measured. */
interface ScaleRun {
  subscribers: number;
  /** Loading the people this size adds to the list. */
  loaded: number;
  loadMs: number;
  /** campaigns.send to status `sent`. */
  sendMs: number;
  /** Between 10 % and 90 % sent: the rate without ramp-up and tail. */
  steadyRate: number;
  sent: number;
  status: string;
  /** MEMORY USAGE sum of the queues, their jobs and the campaign's keys (ledger included): before, peak, at end. */
  queueBytes: { before: number; peak: number; end: number };
  /** Most delivery batches waiting at once (the fan-out's high water bounds it). */
  maxWaiting: number;
  /** VmHWM of the bench process while loading, and while sending. */
  benchLoadRss?: number;
  benchSendRss?: number;
  /** Peak RSS (VmHWM) of each worker process (the child and its forks) during the send, by pid. */
  workerRss: Map<number, number>;
  /** Node's own view of each worker process at its highest RSS during the send, by pid. */
  workerMemory: Map<number, MemorySample>;
  /** The same of other processes under the child (tsx's esbuild service), with their names. */
  helperRss: Map<number, { name: string; rss: number }>;
  /** False when a worker's VmHWM could not be reset before this send: it then includes the sends before. */
  peakReset: boolean;
}

/**
 * Section "scale": fan-out and delivery of a one-article campaign to a large list, at two sizes ten times apart
 * (100,000 then 1,000,000; `--quick` much smaller), through the real engine: `campaigns.send`, the fan-out job,
 * BullMQ batches and the ledger, with the workers in their own processes (WORKER_PROCESSES, one per core by
 * default) whose transport accepts each message at once.
 *
 * Both sizes share one list and one set of worker processes, as a service sends campaign after campaign: load the
 * first size and send to it, load the rest and send to all. Peaks are reset between the sends.
 */
export async function scaleSection(ctx: SectionContext): Promise<SectionResult> {
  const sizes = (args.get('scale-sizes') ?? (ctx.quick ? '1000,10000' : '100000,1000000')).split(',').map(Number);
  if (sizes.length !== 2 || sizes.some((n) => !Number.isInteger(n) || n <= 0) || sizes[0] >= sizes[1])
    throw new Error('--scale-sizes must be two whole numbers, the smaller first (e.g. 100000,1000000)');
  const workerProcesses = num('scale-workers', cpus().length);
  heading(
    `Scale: a one-article campaign to ${sizes.map(fmt.int).join(', then ')} subscribers; ` +
      `${workerProcesses} worker process(es) whose transport accepts at once` +
      (args.get('scale-node-options') ? `, node flags ${args.get('scale-node-options')}` : ''),
  );

  const prefix = `nlbench-${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'nl-bench-'));
  const probe = new RedisProbe();
  let workers: WorkerChild | undefined;
  let service: Booted | undefined;
  ctx.onCleanup(async () => {
    await workers?.stop(6000);
    const cleaner = new RedisProbe();
    console.error(`cleanup: deleted ${await cleaner.deletePrefix(prefix)} keys under ${prefix}:*`);
    cleaner.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const settings: Record<string, string> = {
    NODE_ENV: 'production',
    REDIS_PREFIX: prefix,
    REDIS_URL: `redis://${BENCH_REDIS.host}:${BENCH_REDIS.port}`,
    DATA_DIR: dataDir,
    PUBLIC_URL,
    // Production requires one; no process of this section connects to it (their transport accepts at once).
    SMTP_URL: 'smtp://accepting.invalid:25',
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    APP_SECRET: BENCH_SECRET,
    SITE_NAME,
    POSTAL_ADDRESS,
    MAIL_FROM,
    WORKER_PROCESSES: String(workerProcesses),
    // Errors only: each process would warn that the shared Redis keeps no data on disk.
    LOG_LEVEL: 'error',
  };
  // --scale-node-options='--max-semi-space-size=32': V8 flags for the worker processes (and their forks), after npm
  // run worker's own, to see what they do to the workers' peak RSS.
  const nodeFlags = args.get('scale-node-options')?.split(/\s+/).filter(Boolean) ?? [];
  try {
    service = await boot({
      role: 'bench',
      env: settings,
      logger: () => pino({ level: 'error', base: { service: 'newsletter-bench' } }),
      transport: new AcceptingTransport(),
    });
    const { container, config } = service;
    const { article } = await container.articles.add(sampleArticleInputs()[0]);
    const finished = new Map<string, number>();
    const runs: ScaleRun[] = [];
    let loaded = 0;
    for (const n of sizes) {
      resetPeakRss('self');
      const t0 = performance.now();
      await bulkLoad(container, config.terms, loaded, n);
      const loadMs = performance.now() - t0;
      const benchLoadRss = peakRss('self');
      console.log(
        `${fmt.int(n)}: loaded ${fmt.int(n - loaded)} active subscribers under ${prefix} in ` +
          `${fmt.s(loadMs / 1000)} (${fmt.rate(((n - loaded) / loadMs) * 1000)}; ` +
          `importActive, ${fmt.int(LOAD_BATCH)} rows a call, ${LOAD_IN_FLIGHT} calls at once)`,
      );
      const added = n - loaded;
      loaded = n;

      if (!workers) {
        const tStart = performance.now();
        workers = startWorkerChild(settings, workerProcesses, { entry: 'bench/scale-worker.ts', nodeFlags });
        await waitForWorkers(container, workers, workerProcesses);
        console.log(
          `${workerProcesses} worker process(es): bench/scale-worker.ts with npm run worker's node flags, ` +
            `pid ${workers.pid} and its forks, ` +
            `taking delivery jobs after ${fmt.s((performance.now() - tStart) / 1000)}`,
        );
        // Let a fork finish starting before the clock runs.
        await sleep(500);
      }
      // The same article each time, so every size sends the same message.
      const campaign = await container.campaigns.create({ articleIds: [article.id], allowResend: true });
      const peakReset = processTree(workers.pid).every((pid) => resetPeakRss(pid));
      const send = await sendAndWatch(container, probe, prefix, campaign.id, n, workers, finished, dataDir);
      runs.push({ subscribers: n, loaded: added, loadMs, benchLoadRss, peakReset, ...send });
      console.log(
        `${fmt.int(n)}: campaign ${campaign.id} ${send.status} in ${fmt.s(send.sendMs / 1000)} ` +
          `(${fmt.rate((send.sent / send.sendMs) * 1000)})`,
      );
    }

    const tDelete = performance.now();
    await workers?.stop();
    workers = undefined;
    await service.close();
    service = undefined;
    const deleted = await probe.deletePrefix(prefix);
    console.log(
      `workers stopped and ${fmt.int(deleted)} keys deleted (SCAN, UNLINK in batches) in ` +
        `${fmt.s((performance.now() - tDelete) / 1000)}`,
    );
    printRuns(runs);
    // A few seconds of probing: left out of --quick.
    const share = ctx.quick ? undefined : tsxShare();
    if (share !== undefined)
      console.log(
        `tsx's own share of each worker's RSS (an idle \`node --import tsx\` against an idle \`node\`): ` +
          `${fmt.mb(share)}; the compiled build (node dist/src/main.js worker) does not carry it`,
      );
    return summarise(runs, ctx.quick);
  } finally {
    await workers?.stop();
    await service?.close();
    // After a failure: the keys must still go (a quick no-op after the normal path's delete).
    await probe.deletePrefix(prefix);
    probe.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Active subscribers `from`..`to`-1 through the store's bulk import (what `cli import` ends in), in big calls, a few
 * in flight over the container's auto-pipelined connection.
 */
async function bulkLoad(
  container: Container,
  terms: { version: string; textHash: string },
  from: number,
  to: number,
): Promise<void> {
  const now = new Date().toISOString();
  const consent = {
    at: '2026-01-01T00:00:00.000Z',
    ip: '203.0.113.9',
    userAgent: 'Mozilla/5.0 (bench)',
    termsVersion: terms.version,
    termsHash: terms.textHash,
    source: 'bench-import',
  };
  const slug = container.newsletters.defaultSlug;
  let next = from;
  await Promise.all(
    Array.from({ length: LOAD_IN_FLIGHT }, async () => {
      while (next < to) {
        const start = next;
        next = Math.min(to, next + LOAD_BATCH);
        const rows = [];
        for (let i = start; i < next; i++) rows.push({ email: `reader${i}@list.bench`, name: `Reader ${i}`, consent });
        const outcomes = await container.subscribers.importActive(rows, now, slug);
        const bad = outcomes.filter((o) => o !== 'imported');
        if (bad.length) throw new Error(`bulk load: ${bad.length} of ${rows.length} rows not imported (${bad[0]})`);
      }
    }),
  );
}

/** Waits until the child's processes each have a delivery worker registered in Redis. */
async function waitForWorkers(container: Container, child: WorkerChild, count: number): Promise<void> {
  const deadline = performance.now() + 60_000;
  while ((await container.campaignQueues.deliveryWorkers()) < count) {
    if (!child.running()) throw new Error(`the worker process exited before its workers started:\n${child.tail()}`);
    if (performance.now() > deadline)
      throw new Error(`fewer than ${count} delivery workers registered after 60 s:\n${child.tail()}`);
    await sleep(200);
  }
}

/**
 * `campaigns.send` to status `sent`, sampling every ~500 ms the bytes of the queues and the campaign's keys, and
 * the peak RSS of each worker process.
 */
async function sendAndWatch(
  container: Container,
  probe: RedisProbe,
  prefix: string,
  campaignId: number,
  n: number,
  workers: WorkerChild,
  finished: Map<string, number>,
  dataDir: string,
) {
  const { campaigns, campaignStore } = container;
  const workerRss = new Map<number, number>();
  const helperRss = new Map<number, { name: string; rss: number }>();
  const readWorkerRss = () => {
    for (const pid of processTree(workers.pid)) {
      const rss = peakRss(pid);
      const name = processName(pid);
      if (rss === undefined || name === undefined) continue;
      // The worker and its forks are Node; tsx runs an esbuild process beside each to compile TypeScript, which a
      // compiled build does not have: shown, but not a worker.
      if (name === 'node' || pid === workers.pid) workerRss.set(pid, Math.max(rss, workerRss.get(pid) ?? 0));
      else helperRss.set(pid, { name, rss: Math.max(rss, helperRss.get(pid)?.rss ?? 0) });
    }
  };
  const before = (await probe.sendFootprint(prefix, campaignId, finished)).bytes;
  let peak = before;
  let maxWaiting = 0;
  const progress: { t: number; sent: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [f, sent] = await Promise.all([
        probe.sendFootprint(prefix, campaignId, finished),
        probe.campaignSent(prefix, campaignId),
      ]);
      peak = Math.max(peak, f.bytes);
      maxWaiting = Math.max(maxWaiting, f.waiting);
      progress.push({ t: performance.now(), sent });
      readWorkerRss();
      await sleep(500);
    }
  })();

  resetPeakRss('self');
  const wallStart = Date.now();
  const t0 = performance.now();
  let status: string;
  try {
    await campaigns.send(campaignId);
    // Generous: a million at a few hundred a second on a loaded machine still fits.
    const deadline = t0 + Math.max(120_000, n * 4);
    for (;;) {
      status = (await campaignStore.status(campaignId)) ?? 'missing';
      if (status !== 'sending') break;
      if (!workers.running()) throw new Error(`the worker process exited during the send:\n${workers.tail()}`);
      if (performance.now() > deadline)
        throw new Error(`the campaign was still sending after ${fmt.s((performance.now() - t0) / 1000)}`);
      await sleep(50);
    }
  } finally {
    sampling = false;
    await sampler;
  }
  const sendMs = performance.now() - t0;
  const wallEnd = Date.now();
  const benchSendRss = peakRss('self');
  readWorkerRss();
  const end = (await probe.sendFootprint(prefix, campaignId, finished)).bytes;
  peak = Math.max(peak, end);
  const c = await campaignStore.get(campaignId);
  const sent = c?.sent ?? 0;
  if (status !== 'sent' || sent !== n)
    console.log(`CHECK FAILED: campaign ${status}, sent ${sent} of ${n}, failed ${c?.failed}, skipped ${c?.skipped}`);
  const at = (fraction: number) => progress.find((p) => p.sent >= fraction * n);
  const s10 = at(0.1);
  const s90 = at(0.9);
  const steadyRate = s10 && s90 && s90.t > s10.t ? ((s90.sent - s10.sent) / (s90.t - s10.t)) * 1000 : NaN;
  const workerMemory = new Map<number, MemorySample>();
  for (const pid of workerRss.keys()) {
    const top = highestRss(dataDir, pid, wallStart, wallEnd);
    if (top) workerMemory.set(pid, top);
  }
  return {
    sendMs,
    steadyRate,
    sent,
    status,
    queueBytes: { before, peak, end },
    maxWaiting,
    benchSendRss,
    workerRss,
    workerMemory,
    helperRss,
  };
}

/**
 * What tsx itself adds to a process's RSS: an idle `node --import tsx` against an idle `node` (median of three each).
 * The bench's workers run under tsx, as `npm start` does; the compiled build (`node dist/src/main.js worker`) does
 * not carry this share. Undefined if the probe fails.
 */
function tsxShare(): number | undefined {
  const script = 'setTimeout(() => process.stdout.write(String(process.memoryUsage().rss)), 500)';
  const rss = (flags: string[]) => {
    const xs = [0, 1, 2].map(() =>
      Number(
        execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8', cwd: join(__dirname, '..') }),
      ),
    );
    return xs.sort((a, b) => a - b)[1];
  };
  try {
    return rss(['--import', 'tsx']) - rss([]);
  } catch {
    return undefined;
  }
}

/** The sample with the highest RSS that a worker process logged between two times (see scale-worker-memory.ts). */
function highestRss(dataDir: string, pid: number, from: number, to: number): MemorySample | undefined {
  let text: string;
  try {
    text = readFileSync(memoryLogFile(dataDir, pid), 'utf8');
  } catch {
    return undefined;
  }
  let top: MemorySample | undefined;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const s = JSON.parse(line) as MemorySample;
    if (s.t >= from && s.t <= to && (!top || s.rss > top.rss)) top = s;
  }
  return top;
}

const mbOrNa = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : fmt.mb(bytes));
const maxWorkerRss = (r: ScaleRun) => Math.max(0, ...r.workerRss.values());

function printRuns(runs: ScaleRun[]): void {
  console.log('');
  console.log(
    table([
      [
        'subscribers',
        'load (added)',
        'send -> sent',
        'messages/s',
        'steady 10-90%',
        'queues+ledgers before | peak | end',
        'batches waiting max',
        'bench RSS load | send',
        'worker RSS peak',
      ],
      ...runs.map((r) => [
        fmt.int(r.subscribers),
        `${fmt.s(r.loadMs / 1000)} (${fmt.int(r.loaded)}, ${fmt.rate((r.loaded / r.loadMs) * 1000)})`,
        fmt.s(r.sendMs / 1000),
        fmt.rate((r.sent / r.sendMs) * 1000),
        fmt.rate(r.steadyRate),
        `${fmt.mb(r.queueBytes.before)} | ${fmt.mb(r.queueBytes.peak)} | ${fmt.mb(r.queueBytes.end)}`,
        r.maxWaiting,
        `${mbOrNa(r.benchLoadRss)} | ${mbOrNa(r.benchSendRss)}`,
        r.workerRss.size ? fmt.mb(maxWorkerRss(r)) : 'n/a (no /proc)',
      ]),
    ]),
  );
  console.log(
    'queues+ledgers: MEMORY USAGE summed over the BullMQ queue keys, every job they hold (the completed batches of ' +
      'earlier sends included) and the campaign keys (ledger, counters, content), sampled every 500 ms; the ' +
      'subscriber records are not in it. RSS: VmHWM from /proc (the peak the kernel keeps), reset before each ' +
      'phase.',
  );
  for (const r of runs) {
    console.log(`worker processes at ${fmt.int(r.subscribers)}${r.peakReset ? '' : ' (VmHWM not reset: cumulative)'}:`);
    for (const [pid, rss] of r.workerRss) {
      const m = r.workerMemory.get(pid);
      // Node's figures of the main thread at its highest sampled RSS: the heap (live and not yet collected), the
      // Buffers outside it, and the rest (code, tsx's loader thread, allocator slack).
      const parts = m
        ? `; at the highest sample, RSS ${fmt.mb(m.rss)}: V8 heap ${fmt.mb(m.heapTotal)} ` +
          `(${fmt.mb(m.heapUsed)} in use), external ${fmt.mb(m.external)} ` +
          `(Buffers ${fmt.mb(m.arrayBuffers)}), other ${fmt.mb(m.rss - m.heapTotal - m.external)}`
        : '';
      console.log(`  pid ${pid}: VmHWM ${fmt.mb(rss)}${parts}`);
    }
    for (const [pid, h] of r.helperRss)
      console.log(`  pid ${pid} (${h.name}, tsx's compiler, not a worker): VmHWM ${fmt.mb(h.rss)}`);
  }
}

function summarise(runs: ScaleRun[], quick: boolean): SectionResult {
  const [small, large] = runs;
  const size = (n: number) => (n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n % 1000 === 0 ? `${n / 1000}k` : `${n}`);
  const timeRatio = large.sendMs / small.sendMs;
  const maxRatio = (MAX_TIME_RATIO_PER_10X / 10) * (large.subscribers / small.subscribers);
  const workerPeak = maxWorkerRss(large);
  const at = size(large.subscribers);
  const targets: TargetLine[] = [
    {
      label: `queues+ledgers peak at ${at} <= 64 MB`,
      ours: fmt.mb(large.queueBytes.peak),
      baseline: fmt.mb(QUEUES_LEDGERS_LIMIT),
      ratio: large.queueBytes.peak / QUEUES_LEDGERS_LIMIT,
      target: '<= 64 MB',
      met: large.queueBytes.peak <= QUEUES_LEDGERS_LIMIT,
    },
    {
      label: `worker RSS peak at ${at} <= 256 MB`,
      ours: large.workerRss.size ? fmt.mb(workerPeak) : 'n/a',
      baseline: fmt.mb(WORKER_RSS_LIMIT),
      ratio: workerPeak / WORKER_RSS_LIMIT,
      target: '<= 256 MB',
      met: large.workerRss.size > 0 && workerPeak <= WORKER_RSS_LIMIT,
    },
    {
      label: `${at} time / ${size(small.subscribers)} time <= ${maxRatio.toFixed(1)}`,
      ours: fmt.s(large.sendMs / 1000),
      baseline: fmt.s(small.sendMs / 1000),
      ratio: timeRatio,
      target: `<= ${maxRatio.toFixed(1)}`,
      met: timeRatio <= maxRatio,
    },
  ];
  const rows: (string | number)[][] = [
    [
      `scale: send -> sent, ${fmt.int(small.subscribers)} | ${fmt.int(large.subscribers)} recipients`,
      `${fmt.s(small.sendMs / 1000)} (${fmt.rate((small.sent / small.sendMs) * 1000)})`,
      `${fmt.s(large.sendMs / 1000)} (${fmt.rate((large.sent / large.sendMs) * 1000)})`,
      timeRatio.toFixed(2),
    ],
    [
      `scale: queues+ledgers peak | worker RSS peak, at ${fmt.int(large.subscribers)}`,
      fmt.mb(large.queueBytes.peak),
      fmt.mb(workerPeak),
      '',
    ],
  ];
  if (quick) rows.push(['scale: --quick sizes; the targets are for 100,000 and 1,000,000', '', '', '']);
  return { rows, targets };
}
