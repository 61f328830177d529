import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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
import type { SectionContext, SectionResult, TargetLine } from './section';
import { processTree, startWorkerChild, type WorkerChild } from './worker-child';

/** The limits at a million recipients. */
const QUEUES_LEDGERS_LIMIT = 64 * 1024 * 1024;
const WORKER_RSS_LIMIT = 256 * 1024 * 1024;
const MAX_TIME_RATIO = 11;

/** Rows per importActive call (one Lua script each) and calls in flight while bulk-loading. */
const LOAD_BATCH = 1000;
const LOAD_IN_FLIGHT = 2;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** What one size's run measured. */
interface ScaleRun {
  subscribers: number;
  loadMs: number;
  /** campaigns.send to status `sent`. */
  sendMs: number;
  /** Between 10 % and 90 % sent: the rate without ramp-up and tail. */
  steadyRate: number;
  sent: number;
  status: string;
  /** Peak MEMORY USAGE sum of the queues, jobs and campaign keys (ledger included) during the send. */
  peakQueueBytes: number;
  /** The same at the end, with the completed batches BullMQ keeps. */
  endQueueBytes: number;
  /** Most delivery batches waiting at once (the fan-out's high water bounds it). */
  maxWaiting: number;
  /** VmHWM of the bench process while loading, and while sending. */
  benchLoadRss?: number;
  benchSendRss?: number;
  /** VmHWM of each worker process (the child and its forks) by pid. */
  workerRss: Map<number, number>;
  /** The same of other processes under the child (tsx's esbuild service), by pid, with their names. */
  helperRss: Map<number, { name: string; rss: number }>;
  deleteMs: number;
  deletedKeys: number;
}

/**
 * Section "scale": fan-out and delivery of a campaign to a large list, at two sizes ten times apart (100,000 and
 * 1,000,000; `--quick` much smaller), through the real engine in worker processes whose transport accepts at once.
 */
export async function scaleSection(ctx: SectionContext): Promise<SectionResult> {
  const sizes = (args.get('scale-sizes') ?? (ctx.quick ? '5000,50000' : '100000,1000000')).split(',').map(Number);
  if (sizes.length !== 2 || sizes.some((n) => !Number.isInteger(n) || n <= 0) || sizes[0] >= sizes[1])
    throw new Error('--scale-sizes must be two whole numbers, the smaller first (e.g. 100000,1000000)');
  // One worker process per core by default: delivery is CPU-bound in the worker.
  const workerProcesses = num('scale-workers', cpus().length);
  heading(
    `Scale: one-article campaign to ${sizes.map(fmt.int).join(' and ')} subscribers, ` +
      `${workerProcesses} worker process(es), transport accepting at once`,
  );
  const runs: ScaleRun[] = [];
  for (const n of sizes) runs.push(await scaleRun(n, workerProcesses, ctx));
  printRuns(runs);
  return summarise(runs, ctx.quick);
}

async function scaleRun(n: number, workerProcesses: number, ctx: SectionContext): Promise<ScaleRun> {
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
  try {
    service = await boot({
      role: 'bench',
      env: settings,
      logger: () => pino({ level: 'error', base: { service: 'newsletter-bench' } }),
      transport: new AcceptingTransport(),
    });
    const { container } = service;

    resetPeakRss('self');
    const t0 = performance.now();
    await bulkLoad(container, service.config.terms, n);
    const loadMs = performance.now() - t0;
    const benchLoadRss = peakRss('self');
    console.log(
      `${fmt.int(n)}: loaded ${fmt.int(n)} active subscribers under ${prefix} in ${fmt.s(loadMs / 1000)} ` +
        `(${fmt.rate((n / loadMs) * 1000)}, importActive in calls of ${fmt.int(LOAD_BATCH)}, ${LOAD_IN_FLIGHT} at once)`,
    );

    const { article } = await container.articles.add(sampleArticleInputs()[0]);
    const campaign = await container.campaigns.create({ articleIds: [article.id] });

    const tStart = performance.now();
    workers = startWorkerChild(settings, workerProcesses, 'bench/scale-worker.ts');
    await waitForWorkers(container, workers, workerProcesses);
    console.log(
      `${fmt.int(n)}: ${workerProcesses} worker process(es) (bench/scale-worker.ts, pid ${workers.pid} and forks) ` +
        `took delivery jobs after ${fmt.s((performance.now() - tStart) / 1000)}`,
    );
    // Let a fork finish starting before the clock runs.
    await sleep(500);

    const send = await sendAndWatch(container, probe, prefix, campaign.id, n, workers);
    const tDelete = performance.now();
    await workers.stop();
    workers = undefined;
    await service.close();
    service = undefined;
    const deletedKeys = await probe.deletePrefix(prefix);
    const deleteMs = performance.now() - tDelete;
    console.log(
      `${fmt.int(n)}: campaign ${send.status} in ${fmt.s(send.sendMs / 1000)} ` +
        `(${fmt.rate((send.sent / send.sendMs) * 1000)}); workers stopped and ${fmt.int(deletedKeys)} keys ` +
        `deleted (UNLINK in batches) in ${fmt.s(deleteMs / 1000)}`,
    );
    return { subscribers: n, loadMs, benchLoadRss, ...send, deleteMs, deletedKeys };
  } finally {
    await workers?.stop();
    await service?.close();
    // After a failure: the keys must still go (a no-op after the normal path's delete).
    await probe.deletePrefix(prefix);
    probe.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Active subscribers through the store's bulk import (the path `cli import` takes), in big calls, a few in flight
 * over the container's auto-pipelined connection.
 */
async function bulkLoad(container: Container, terms: { version: string; textHash: string }, n: number): Promise<void> {
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
  let next = 0;
  await Promise.all(
    Array.from({ length: LOAD_IN_FLIGHT }, async () => {
      while (next < n) {
        const from = next;
        next = Math.min(n, next + LOAD_BATCH);
        const rows = [];
        for (let i = from; i < next; i++) rows.push({ email: `reader${i}@list.bench`, name: `Reader ${i}`, consent });
        const outcomes = await container.subscribers.importActive(rows, now, slug);
        const bad = outcomes.filter((o) => o !== 'imported');
        if (bad.length) throw new Error(`bulk load: ${bad.length} of ${rows.length} rows not added (${bad[0]})`);
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
 * `campaigns.send` to status `sent`, sampling every ~500 ms the bytes of the send's own keys and the peak RSS of
 * each worker process.
 */
async function sendAndWatch(
  container: Container,
  probe: RedisProbe,
  prefix: string,
  campaignId: number,
  n: number,
  workers: WorkerChild,
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
  const finished = new Map<string, number>();
  let peakQueueBytes = 0;
  let maxWaiting = 0;
  const progress: { t: number; sent: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [f, sent] = await Promise.all([
        probe.sendFootprint(prefix, campaignId, finished),
        probe.campaignSent(prefix, campaignId),
      ]);
      peakQueueBytes = Math.max(peakQueueBytes, f.bytes);
      maxWaiting = Math.max(maxWaiting, f.waiting);
      progress.push({ t: performance.now(), sent });
      readWorkerRss();
      await sleep(500);
    }
  })();

  resetPeakRss('self');
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
  const benchSendRss = peakRss('self');
  readWorkerRss();
  const end = await probe.sendFootprint(prefix, campaignId, finished);
  peakQueueBytes = Math.max(peakQueueBytes, end.bytes);
  const c = await campaignStore.get(campaignId);
  const sent = c?.sent ?? 0;
  if (status !== 'sent' || sent !== n)
    console.log(`CHECK FAILED: campaign ${status}, sent ${sent} of ${n}, failed ${c?.failed}, skipped ${c?.skipped}`);
  const at = (fraction: number) => progress.find((p) => p.sent >= fraction * n);
  const s10 = at(0.1);
  const s90 = at(0.9);
  const steadyRate = s10 && s90 && s90.t > s10.t ? ((s90.sent - s10.sent) / (s90.t - s10.t)) * 1000 : NaN;
  return {
    sendMs,
    steadyRate,
    sent,
    status,
    peakQueueBytes,
    endQueueBytes: end.bytes,
    maxWaiting,
    benchSendRss,
    workerRss,
    helperRss,
  };
}

const mbOrNa = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : fmt.mb(bytes));
const maxWorkerRss = (r: ScaleRun) => Math.max(0, ...r.workerRss.values());

function printRuns(runs: ScaleRun[]): void {
  console.log('');
  console.log(
    table([
      [
        'subscribers',
        'load',
        'load rows/s',
        'send -> sent',
        'messages/s',
        'steady 10-90%',
        'queues+ledgers peak',
        'at end',
        'batches waiting max',
        'bench RSS load | send',
        'worker RSS peak by process',
      ],
      ...runs.map((r) => [
        fmt.int(r.subscribers),
        fmt.s(r.loadMs / 1000),
        fmt.rate((r.subscribers / r.loadMs) * 1000),
        fmt.s(r.sendMs / 1000),
        fmt.rate((r.sent / r.sendMs) * 1000),
        fmt.rate(r.steadyRate),
        fmt.mb(r.peakQueueBytes),
        fmt.mb(r.endQueueBytes),
        r.maxWaiting,
        `${mbOrNa(r.benchLoadRss)} | ${mbOrNa(r.benchSendRss)}`,
        r.workerRss.size
          ? [
              ...[...r.workerRss].map(([pid, b]) => `${pid}: ${fmt.mb(b)}`),
              ...[...r.helperRss].map(([pid, h]) => `(${pid} ${h.name}: ${fmt.mb(h.rss)})`),
            ].join(', ')
          : 'n/a (no /proc)',
      ]),
    ]),
  );
  console.log(
    'queues+ledgers: MEMORY USAGE summed over the BullMQ queue keys, every job they hold and the campaign keys ' +
      '(ledger, counters, content), sampled every 500 ms; the subscriber records are not in it. ' +
      'RSS: VmHWM from /proc (the kernel-kept peak), the bench process reset between phases.',
  );
}

function summarise(runs: ScaleRun[], quick: boolean): SectionResult {
  const [small, large] = runs;
  const size = (n: number) => (n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n % 1000 === 0 ? `${n / 1000}k` : `${n}`);
  const timeRatio = large.sendMs / small.sendMs;
  const sizeRatio = large.subscribers / small.subscribers;
  // The time limit is the 11 for ten times the list: 1.1 times linear.
  const maxRatio = (MAX_TIME_RATIO / 10) * sizeRatio;
  const workerPeak = maxWorkerRss(large);
  const targets: TargetLine[] = [
    {
      label: `queues+ledgers peak at ${size(large.subscribers)} <= 64 MB`,
      ours: fmt.mb(large.peakQueueBytes),
      baseline: fmt.mb(QUEUES_LEDGERS_LIMIT),
      ratio: large.peakQueueBytes / QUEUES_LEDGERS_LIMIT,
      target: '<= 64 MB',
      met: large.peakQueueBytes <= QUEUES_LEDGERS_LIMIT,
    },
    {
      label: `worker RSS peak at ${size(large.subscribers)} <= 256 MB`,
      ours: large.workerRss.size ? fmt.mb(workerPeak) : 'n/a',
      baseline: fmt.mb(WORKER_RSS_LIMIT),
      ratio: workerPeak / WORKER_RSS_LIMIT,
      target: '<= 256 MB',
      met: large.workerRss.size > 0 && workerPeak <= WORKER_RSS_LIMIT,
    },
    {
      label: `${size(large.subscribers)} time / ${size(small.subscribers)} time <= ${maxRatio.toFixed(1)}`,
      ours: fmt.s(large.sendMs / 1000),
      baseline: fmt.s(small.sendMs / 1000),
      ratio: timeRatio,
      target: `<= ${maxRatio.toFixed(1)}`,
      met: timeRatio <= maxRatio,
    },
  ];
  const rows = runs.map((r) => [
    `scale: ${fmt.int(r.subscribers)} recipients, send -> sent | messages/s`,
    fmt.s(r.sendMs / 1000),
    fmt.rate((r.sent / r.sendMs) * 1000),
    '',
  ]);
  rows.push([
    `scale: queues+ledgers peak | worker RSS peak, at ${fmt.int(large.subscribers)}`,
    fmt.mb(large.peakQueueBytes),
    fmt.mb(workerPeak),
    '',
  ]);
  if (quick) rows.push(['scale: sizes are --quick ones; the targets are for 100k and 1M', '', '', '']);
  return { rows, targets };
}
