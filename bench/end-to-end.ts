import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import pino from 'pino';
import type { Container } from '../src/container';
import { MjmlNewsletterRenderer } from '../src/mail/newsletter';
import { boot, type Booted } from '../src/runtime/boot';
import { addressOf } from '../src/mail/address';
import { mailIdentity } from '../src/mail/mail-identity';
import { createMailTransport, type RawMessage } from '../src/mail/mail-transport';
import { MAIL_FROM, POSTAL_ADDRESS, PUBLIC_URL, SITE_NAME, sampleArticleInputs } from './fixture';
import { BENCH_SECRET, MessageFactory } from './messages';
import { BENCH_REDIS, RedisProbe } from './redis-probe';
import type { Sink } from './sink';
import { fmt, heading, table } from './report';
import { startWorkerChild, type WorkerChild } from './worker-child';

/** Settings of the end-to-end section; the delivery ones are the service's own settings (env names in comments). */
export interface EndToEndOptions {
  subscribers: number;
  /** SMTP_MAX_CONNECTIONS, for the engine and the raw transport alike. */
  maxConnections: number;
  /** DELIVERY_BATCH_SIZE */
  batchSize: number;
  /** DELIVERY_CONCURRENCY */
  concurrency: number;
  /** DELIVERY_QUEUE_HIGH_WATER */
  highWater: number;
  /** Give up on a run after this long. */
  timeoutMs: number;
  /**
   * Write a V8 CPU profile of this process during the engine run (campaigns.send to sent) to this file, and one of
   * the second raw run next to it (`.raw.cpuprofile`).
   */
  cpuProfile?: string;
  /**
   * 0: the engine's workers run in this process (buildContainer + startWorkers). N >= 1: they run as the real
   * `src/main.ts worker` child process with WORKER_PROCESSES=N (it plus N-1 forks), and this process only seeds,
   * calls campaigns.send and watches.
   */
  workerProcesses: number;
}

/** CPU spent by each process while one run lasted. */
interface CpuUse {
  /** This process (engine or raw client), user + system, ms. */
  benchMs: number;
  sinkMs: number;
  /** Redis, all clients: the machine's Redis is shared, so other work shows here too. */
  redisMs: number;
  /** Event-loop utilisation of this process, 0..1. */
  elu: number;
  /** CPU the rest of the machine used meanwhile (all cores busy time minus this process, the sink and Redis), ms. */
  othersMs: number;
  /**
   * Commands Redis processed meanwhile (inside Lua scripts included), from all its clients but the benchmark's
   * probe.
   */
  redisCommands: number;
  /**
   * With --worker-processes: CPU of the worker child and its forks (from /proc), ms, in all and by pid; undefined
   * if unreadable.
   */
  workersMs?: number;
  workersByPid?: { pid: number; ms: number }[];
}

export interface RawResult {
  ms: number;
  rate: number;
  cpu: CpuUse;
}

/** Redis memory at one moment: the whole instance, and the keys this send creates or grows. */
export interface MemoryPoint {
  /** INFO memory used_memory: the whole shared instance. */
  used: number;
  /** MEMORY USAGE of the send's own keys (queues, jobs, campaign, ledger). */
  own: number;
  /** Jobs the two queues hold (waiting, active and the completed ones kept). */
  jobs: number;
  sent: number;
}

export interface EngineResult {
  ms: number;
  rate: number;
  /** Rate between 10 % and 90 % sent: the engine without ramp-up and tail. */
  steadyRate: number;
  cpu: CpuUse;
  memory: {
    /** Every key under the run's prefix before the send: the seeded list. */
    list: { keys: number; bytes: number };
    /** Of which the per-address consent trails. */
    records: { keys: number; bytes: number };
    before: MemoryPoint;
    after: MemoryPoint;
    atProgress: { pct: number; point: MemoryPoint }[];
    peakUsed: number;
    peakOwn: number;
  };
  maxPendingBatches: number;
  sent: number;
  received: number;
  status: string;
}

export interface EndToEndResult {
  options: EndToEndOptions;
  messageBytes: number;
  window: number;
  raw: RawResult[];
  engine: EngineResult;
  ratio: number;
  /**
   * Raw transport's CPU per message / the engine's, in the benchmark process: less sensitive to other load than
   * rates.
   */
  cpuRatio: number;
  /**
   * With --worker-processes: raw transport's CPU per message in the benchmark process / the worker processes'
   * (undefined if /proc was unreadable).
   */
  workerCpuRatio?: number;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** One run of the engine and the raw transport ceiling around it (before and after), against one sink. */
export async function endToEndSection(
  sink: Sink,
  opts: EndToEndOptions,
  onAbort: (cleanup: () => Promise<void>) => void,
): Promise<EndToEndResult> {
  heading(`3. End-to-end: a campaign to ${fmt.int(opts.subscribers)} subscribers vs the raw SMTP transport`);
  const prefix = `nlbench-${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'nl-bench-'));
  const probe = new RedisProbe();
  let workers: WorkerChild | undefined;
  // Should the run be cut short (deadline, Ctrl-C), the worker processes stop first (finishing the work in hand),
  // then its keys still go.
  onAbort(async () => {
    await workers?.stop(6000);
    const cleaner = new RedisProbe();
    console.error(`cleanup: deleted ${await cleaner.deletePrefix(prefix)} keys under ${prefix}:*`);
    cleaner.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  let service: Booted | undefined;
  try {
    const settings: Record<string, string> = {
      NODE_ENV: 'production',
      REDIS_PREFIX: prefix,
      DATA_DIR: dataDir,
      PUBLIC_URL,
      REDIS_URL: `redis://${BENCH_REDIS.host}:${BENCH_REDIS.port}`,
      SMTP_URL: sink.url,
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      APP_SECRET: BENCH_SECRET,
      SITE_NAME,
      POSTAL_ADDRESS,
      MAIL_FROM,
      SMTP_MAX_CONNECTIONS: String(opts.maxConnections),
      DELIVERY_BATCH_SIZE: String(opts.batchSize),
      DELIVERY_CONCURRENCY: String(opts.concurrency),
      DELIVERY_QUEUE_HIGH_WATER: String(opts.highWater),
      SEND_RATE_PER_SECOND: '0',
      LOG_LEVEL: 'warn',
    };
    service = await boot({
      role: 'bench',
      env: settings,
      logger: () => pino({ level: 'warn', base: { service: 'newsletter-bench' } }),
    });
    const { container, config } = service;
    // With --worker-processes the workers run in the child started before the engine run; this container only seeds,
    // sends and watches.
    if (!opts.workerProcesses) container.startWorkers();
    const { campaigns } = container;

    const tSeed = performance.now();
    await seed(container, opts.subscribers);
    for (const input of sampleArticleInputs()) await container.articles.add(input);
    console.log(
      `seeded ${fmt.int(opts.subscribers)} active subscribers and 5 articles under prefix ${prefix} ` +
        `in ${fmt.s((performance.now() - tSeed) / 1000)}`,
    );

    // The raw side sends the campaign's own message bytes: the same render, the same template, real values.
    const campaign = await campaigns.create({});
    const { messageBytes, rawMessage } = await campaignMessages(container, config, campaign.id);
    const window = rawWindow(opts);
    console.log(
      `message: ${fmt.int(messageBytes)} bytes; ${opts.maxConnections} pooled SMTP connections; ` +
        `batches of ${opts.batchSize}, ${opts.concurrency} at once; ` +
        `queue high water ${opts.highWater} batches; no send-rate limit`,
    );

    // Untimed warm-up: without it the first timed run pays for the JIT compiling Nodemailer's SMTP path (measured
    // here: the first of two raw runs was 10-25 % slower), which would flatter the engine that runs after it.
    await rawRun(sink, probe, { ...opts, subscribers: Math.min(2000, opts.subscribers) }, window, rawMessage, dataDir);
    const raw: RawResult[] = [];
    raw.push(await rawRun(sink, probe, opts, window, rawMessage, dataDir));
    console.log(`raw transport, run 1: ${fmt.s(raw[0].ms / 1000)}, ${fmt.rate(raw[0].rate)}`);

    if (opts.workerProcesses) {
      const tStart = performance.now();
      workers = startWorkerChild({ ...settings, WORKER_PROCESSES: String(opts.workerProcesses) }, opts.workerProcesses);
      await waitForWorkers(container, workers, opts.workerProcesses);
      console.log(
        `worker processes: \`node --import tsx src/main.ts worker\` (pid ${workers.pid}) ` +
          `with WORKER_PROCESSES=${opts.workerProcesses}; ` +
          `${opts.workerProcesses} delivery worker${opts.workerProcesses > 1 ? 's' : ''} ` +
          `registered after ${fmt.s((performance.now() - tStart) / 1000)}`,
      );
      // Let the last fork finish starting up, so its start-up is not counted in the engine run.
      await sleep(1000);
    }
    const engine = await engineRun(container, sink, probe, opts, campaign.id, prefix, workers);
    console.log(
      `engine: ${fmt.s(engine.ms / 1000)}, ${fmt.rate(engine.rate)} ` +
        `(campaign ${engine.status}, sent ${fmt.int(engine.sent)}, sink received ${fmt.int(engine.received)})`,
    );
    if (workers) {
      const tStop = performance.now();
      await workers.stop();
      console.log(`worker processes stopped (SIGTERM) and exited in ${fmt.s((performance.now() - tStop) / 1000)}`);
    }

    raw.push(
      await rawRun(
        sink,
        probe,
        opts,
        window,
        rawMessage,
        dataDir,
        opts.cpuProfile?.replace(/(\.cpuprofile)?$/, '.raw.cpuprofile'),
      ),
    );
    console.log(`raw transport, run 2: ${fmt.s(raw[1].ms / 1000)}, ${fmt.rate(raw[1].rate)}`);

    const rawRate = (raw[0].rate + raw[1].rate) / 2;
    const rawCpu = (raw[0].cpu.benchMs + raw[1].cpu.benchMs) / 2;
    const result: EndToEndResult = {
      options: opts,
      messageBytes,
      window,
      raw,
      engine,
      ratio: engine.rate / rawRate,
      cpuRatio: rawCpu / engine.cpu.benchMs,
    };
    if (engine.cpu.workersMs !== undefined) result.workerCpuRatio = rawCpu / engine.cpu.workersMs;
    printEndToEnd(result);
    return result;
  } finally {
    await workers?.stop();
    await service?.close();
    const deleted = await probe.deletePrefix(prefix);
    console.log(`cleanup: deleted ${fmt.int(deleted)} keys under ${prefix}:*`);
    probe.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** As many sends in flight as the engine can have: DELIVERY_CONCURRENCY batches, each max(2 x connections, 10). */
export const rawWindow = (opts: { concurrency: number; maxConnections: number }) =>
  opts.concurrency * Math.max(opts.maxConnections * 2, 10);

/**
 * The messages of campaign `campaignId` as the engine builds them (the same render, template and per-recipient
 * values), 500 of them prebuilt for the raw transport, which sends them in turn.
 */
export async function campaignMessages(
  container: Container,
  config: Booted['config'],
  campaignId: number,
): Promise<{ messageBytes: number; rawMessage: (i: number) => RawMessage }> {
  const campaign = await container.campaignStore.get(campaignId);
  if (!campaign) throw new Error(`campaign ${campaignId} does not exist`);
  const articles = await container.articleStore.getMany(campaign.articleIds);
  const content = {
    subject: campaign.subject,
    ...(await new MjmlNewsletterRenderer({
      templates: container.templates,
      siteName: SITE_NAME,
      signupUrl: `${config.publicUrl}/`,
    }).render({ subject: campaign.subject, articles, webVersionUrl: container.links.webVersion(campaign.id) })),
  };
  const factory = new MessageFactory({
    links: container.links,
    identity: mailIdentity({
      from: config.mail.from,
      replyTo: config.mail.replyTo,
      publicUrl: config.publicUrl,
      siteName: config.siteName,
      feedbackSender: config.mail.feedbackIdSender,
    }),
  });
  const template = factory.template(content);
  const prebuilt = Array.from({ length: 500 }, (_, i) => template.build(factory.values(i + 1)));
  const envelopeFrom = addressOf(config.mail.from);
  return {
    messageBytes: prebuilt[0].raw.length,
    rawMessage: (i: number): RawMessage => ({
      envelope: { from: envelopeFrom, to: `reader${i}@list.bench` },
      raw: prebuilt[i % prebuilt.length].raw,
      messageId: prebuilt[i % prebuilt.length].messageId,
      kind: 'newsletter',
    }),
  };
}

const consent = {
  at: '2026-01-01T00:00:00.000Z',
  ip: '203.0.113.9',
  userAgent: 'bench',
  termsVersion: '1',
  termsHash: 'bench',
  source: 'bench-seed',
};

/**
 * Active subscribers through the import path (one Lua call per 1,000 rows): seeding is not what is measured. Into
 * the default newsletter unless `newsletter` names another, as `<name>{i}@list.bench`.
 */
export async function seed(container: Container, n: number, newsletter?: string, name = 'reader'): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < n; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({
      email: `${name}${i + k}@list.bench`,
      name: `Reader ${i + k}`,
      consent,
    }));
    await container.subscribers.importActive(rows, now, newsletter ?? container.newsletters.defaultSlug);
  }
}

/**
 * Waits until the child's N processes each have a delivery worker registered in Redis (CLIENT LIST, through
 * BullMQ).
 */
export async function waitForWorkers(container: Container, child: WorkerChild, n: number): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    if (!child.running()) throw new Error(`the worker process exited before its workers started:\n${child.tail()}`);
    const count = await container.campaignQueues.deliveryWorkers();
    if (count >= n) {
      if (count > n) console.log(`CHECK: ${count} delivery workers registered, expected ${n}`);
      return;
    }
    if (performance.now() > deadline)
      throw new Error(`only ${count} of ${n} delivery workers registered after 60 s:\n${child.tail()}`);
    await sleep(200);
  }
}

/** Busy CPU time of the whole machine, all cores, ms. */
const machineBusyMs = () => cpus().reduce((a, c) => a + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);

async function cpuMark(sink: Sink, probe: RedisProbe, workers?: WorkerChild) {
  return {
    cpu: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
    sink: (await sink.stats()).cpuMicros,
    redis: await probe.cpuSeconds(),
    commands: await probe.commands(),
    probeIssued: probe.issued,
    machine: machineBusyMs(),
    workers: workers?.cpu(),
  };
}

async function cpuSince(
  mark: Awaited<ReturnType<typeof cpuMark>>,
  sink: Sink,
  probe: RedisProbe,
  workers?: WorkerChild,
): Promise<CpuUse> {
  const cpu = process.cpuUsage(mark.cpu);
  const workersNow = workers?.cpu();
  const sinkNow = (await sink.stats()).cpuMicros;
  const redisNow = await probe.cpuSeconds();
  const use: Omit<CpuUse, 'othersMs'> = {
    benchMs: (cpu.user + cpu.system) / 1000,
    sinkMs: (sinkNow - mark.sink) / 1000,
    redisMs: (redisNow - mark.redis) * 1000,
    elu: performance.eventLoopUtilization(mark.elu).utilization,
    redisCommands: (await probe.commands()) - mark.commands - (probe.issued - mark.probeIssued),
  };
  if (mark.workers && workersNow) {
    // A process started after the mark counts whole; one that ended was reaped into its parent's cutime/cstime.
    use.workersByPid = [...workersNow].map(([pid, ms]) => ({ pid, ms: ms - (mark.workers!.get(pid) ?? 0) }));
    use.workersMs = use.workersByPid.reduce((a, w) => a + w.ms, 0);
  }
  return {
    ...use,
    othersMs: Math.max(
      0,
      machineBusyMs() - mark.machine - use.benchMs - use.sinkMs - use.redisMs - (use.workersMs ?? 0),
    ),
  };
}

/**
 * The ceiling: prebuilt messages through one pooled Nodemailer transport (the service's own SMTP transport), no
 * Redis, no BullMQ.
 */
export async function rawRun(
  sink: Sink,
  probe: RedisProbe,
  opts: EndToEndOptions,
  window: number,
  message: (i: number) => RawMessage,
  dataDir: string,
  cpuProfile?: string,
): Promise<RawResult> {
  const transport = createMailTransport({
    smtpUrl: sink.url,
    outboxDir: join(dataDir, 'outbox'),
    maxConnections: opts.maxConnections,
  });
  const received0 = (await sink.stats()).messages;
  const profiler = cpuProfile ? await startProfiler() : undefined;
  const mark = await cpuMark(sink, probe);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < opts.subscribers) await transport.send(message(next++));
    }),
  );
  const ms = performance.now() - t0;
  const cpu = await cpuSince(mark, sink, probe);
  if (profiler) {
    writeFileSync(cpuProfile!, JSON.stringify(await profiler.stop()));
    console.log(`CPU profile of this raw run written to ${cpuProfile}`);
  }
  await transport.close();
  const received = (await sink.stats()).messages - received0;
  if (received !== opts.subscribers)
    console.log(`CHECK FAILED: the sink received ${received} of ${opts.subscribers} raw messages`);
  return { ms, rate: (opts.subscribers / ms) * 1000, cpu };
}

/** `campaigns.send` to status `sent`, through the real workers, with Redis memory sampled while it runs. */
export async function engineRun(
  container: Container,
  sink: Sink,
  probe: RedisProbe,
  opts: EndToEndOptions,
  campaignId: number,
  prefix: string,
  workers?: WorkerChild,
): Promise<EngineResult> {
  const { campaigns, campaignStore } = container;
  const received0 = (await sink.stats()).messages;
  const list = await probe.footprint(`${prefix}:*`);
  const records = await probe.footprint(`${prefix}:people:*`);
  const before: MemoryPoint = {
    used: await probe.usedMemory(),
    own: (await probe.sendFootprint(prefix, campaignId)).bytes,
    jobs: 0,
    sent: 0,
  };
  // used_memory every 100 ms; the send's own keys every 500 ms (a pipeline of a few hundred MEMORY USAGE calls).
  // All through the probe's own connection, whose commands are counted and left out of the engine's figure.
  const samples: (MemoryPoint & { t: number })[] = [];
  let maxPendingBatches = 0;
  let sampling = true;
  let own = { bytes: before.own, jobs: 0 };
  const ownSampler = (async () => {
    while (sampling) {
      const f = await probe.sendFootprint(prefix, campaignId);
      own = { bytes: f.bytes, jobs: f.jobs };
      maxPendingBatches = Math.max(maxPendingBatches, f.waiting);
      await sleep(500);
    }
  })();
  const usedSampler = (async () => {
    while (sampling) {
      const [used, sent] = await Promise.all([probe.usedMemory(), probe.campaignSent(prefix, campaignId)]);
      samples.push({ t: performance.now(), used, own: own.bytes, jobs: own.jobs, sent });
      await sleep(100);
    }
  })();

  const profiler = opts.cpuProfile ? await startProfiler() : undefined;
  const mark = await cpuMark(sink, probe, workers);
  const t0 = performance.now();
  await campaigns.send(campaignId);
  const deadline = t0 + opts.timeoutMs;
  let status: string;
  for (;;) {
    status = (await campaignStore.status(campaignId)) ?? 'missing';
    if (status !== 'sending') break;
    if (performance.now() > deadline)
      throw new Error(`the campaign was still sending after ${opts.timeoutMs / 1000} s`);
    if (workers && !workers.running()) throw new Error(`the worker process exited during the send:\n${workers.tail()}`);
    await sleep(20);
  }
  const ms = performance.now() - t0;
  const cpu = await cpuSince(mark, sink, probe, workers);
  if (profiler) {
    writeFileSync(opts.cpuProfile!, JSON.stringify(await profiler.stop()));
    console.log(
      `CPU profile of the engine run written to ${opts.cpuProfile} ` +
        `(summary: npx tsx bench/profile-summary.ts ${opts.cpuProfile})`,
    );
  }
  sampling = false;
  await Promise.all([ownSampler, usedSampler]);
  const c = await campaignStore.get(campaignId);
  const ownAfter = await probe.sendFootprint(prefix, campaignId);
  const after: MemoryPoint = {
    used: await probe.usedMemory(),
    own: ownAfter.bytes,
    jobs: ownAfter.jobs,
    sent: c?.sent ?? 0,
  };
  const received = (await sink.stats()).messages - received0;
  if (status !== 'sent' || c?.sent !== opts.subscribers || received !== opts.subscribers) {
    console.log(
      `CHECK FAILED: campaign ${status}, sent ${c?.sent}, failed ${c?.failed}, skipped ${c?.skipped}; ` +
        `the sink received ${received} of ${opts.subscribers}`,
    );
  }

  const at = (fraction: number) => samples.find((s) => s.sent >= fraction * opts.subscribers);
  const s10 = at(0.1);
  const s90 = at(0.9);
  const steadyRate = s10 && s90 && s90.t > s10.t ? ((s90.sent - s10.sent) / (s90.t - s10.t)) * 1000 : NaN;
  const atProgress = [0.25, 0.5, 0.75].flatMap((f) => {
    const s = at(f);
    return s ? [{ pct: f * 100, point: { used: s.used, own: s.own, jobs: s.jobs, sent: s.sent } }] : [];
  });
  const peakOf = (k: 'used' | 'own') => Math.max(before[k], after[k], ...samples.map((s) => s[k]));
  return {
    ms,
    rate: (opts.subscribers / ms) * 1000,
    steadyRate,
    cpu,
    memory: { list, records, before, after, atProgress, peakUsed: peakOf('used'), peakOwn: peakOf('own') },
    maxPendingBatches,
    sent: c?.sent ?? 0,
    received,
    status,
  };
}

/** V8's sampling profiler on this process, through the inspector (no restart with --cpu-prof needed). */
async function startProfiler() {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

function printEndToEnd(r: EndToEndResult): void {
  const n = r.options.subscribers;
  const per1000 = (ms: number) => fmt.ms((ms / n) * 1000);
  const row = (name: string, ms: number, rate: number, cpu: CpuUse) => [
    name,
    fmt.s(ms / 1000),
    fmt.rate(rate),
    per1000(cpu.benchMs),
    per1000(cpu.sinkMs),
    per1000(cpu.redisMs),
    `${(cpu.elu * 100).toFixed(0)}%`,
    (cpu.othersMs / ms).toFixed(2),
  ];
  // The engine's worker processes (--worker-processes): their CPU from /proc, in the bench-process column; no
  // event-loop figure for them.
  const workersRow = (count: number, cpu: CpuUse) => [
    `  + its ${count} worker process${count > 1 ? 'es' : ''} (child)`,
    '',
    '',
    cpu.workersMs === undefined ? 'n/a' : per1000(cpu.workersMs),
    '',
    '',
    'n/a',
    '',
  ];
  console.log('');
  console.log(
    table([
      [
        `${fmt.int(n)} messages of ${fmt.int(r.messageBytes)} bytes`,
        'wall',
        'messages/s',
        'CPU/1k: bench proc',
        'sink',
        'redis*',
        'event loop busy',
        'other load (cores)',
      ],
      row('raw transport, run 1 (before engine)', r.raw[0].ms, r.raw[0].rate, r.raw[0].cpu),
      row('engine: campaigns.send -> sent', r.engine.ms, r.engine.rate, r.engine.cpu),
      ...(r.options.workerProcesses ? [workersRow(r.options.workerProcesses, r.engine.cpu)] : []),
      row('raw transport, run 2 (after engine)', r.raw[1].ms, r.raw[1].rate, r.raw[1].cpu),
    ]),
  );
  console.log(
    'CPU/1k = CPU ms per 1,000 messages. * Redis CPU counts every client of the shared Redis on 127.0.0.1:6379. ' +
      `Other load: CPU the rest of the machine used meanwhile, in cores (of ${cpus().length}).`,
  );
  console.log(
    `engine steady rate (10% -> 90% sent): ${fmt.rate(r.engine.steadyRate)}; ` +
      `most batch jobs waiting at once: ${r.engine.maxPendingBatches} (high water ${r.options.highWater})`,
  );
  console.log(`ratio engine / raw (mean of the two raw runs): ${r.ratio.toFixed(2)}`);
  console.log(
    'Redis commands processed per message during the engine run ' +
      "(those inside Lua scripts included, the benchmark's own probes left out): " +
      `${(r.engine.cpu.redisCommands / n).toFixed(1)}; other clients' background during the raw runs: ` +
      `${(r.raw[0].cpu.redisCommands / n).toFixed(2)} and ${(r.raw[1].cpu.redisCommands / n).toFixed(2)} ` +
      'per message-time',
  );
  console.log(
    `CPU per message in the benchmark process, raw / engine: ${r.cpuRatio.toFixed(2)} ` +
      `(the engine's process spends ${fmt.ms((r.engine.cpu.benchMs / n) * 1000)} per 1,000 messages, ` +
      `the raw client ${fmt.ms(((r.raw[0].cpu.benchMs + r.raw[1].cpu.benchMs) / 2 / n) * 1000)})`,
  );
  if (r.options.workerProcesses) {
    const w = r.engine.cpu;
    console.log(
      `worker processes (WORKER_PROCESSES=${r.options.workerProcesses}): ` +
        'the engine ran in `src/main.ts worker` and its forks; ' +
        'the bench process only called campaigns.send and watched, ' +
        "so its engine row is that driver's CPU and event loop.",
    );
    if (w.workersMs !== undefined && r.workerCpuRatio !== undefined) {
      console.log(
        `CPU per message, raw client / the worker processes: ${r.workerCpuRatio.toFixed(2)} ` +
          `(worker processes ${fmt.ms((w.workersMs / n) * 1000)} per 1,000 messages: ` +
          `${w.workersByPid!.map((p) => `pid ${p.pid} ${fmt.ms((p.ms / n) * 1000)}`).join(', ')}; ` +
          `with the driver ${fmt.ms(((w.workersMs + w.benchMs) / n) * 1000)}; ` +
          `${(w.workersMs / r.engine.ms).toFixed(2)} cores during the send)`,
      );
    } else
      console.log(
        'CPU of the worker processes: not available (/proc could not be read); ' +
          'the "other load" column then includes it.',
      );
  }
  const m = r.engine.memory;
  const sign = (v: number) => `${v >= 0 ? '+' : ''}${fmt.mb(v)}`;
  const memRow = (name: string, p: MemoryPoint) => [
    name,
    fmt.mb(p.used),
    sign(p.used - m.before.used),
    fmt.kb(p.own),
    fmt.int(p.jobs),
  ];
  console.log('');
  console.log(
    `seeded list under the prefix: ${fmt.int(m.list.keys)} keys, ${fmt.mb(m.list.bytes)} ` +
      `(${fmt.int(m.list.bytes / r.options.subscribers)} bytes per subscriber, ` +
      `of which ${fmt.int(m.records.bytes / r.options.subscribers)} in the records with their consent trails)`,
  );
  console.log(
    table([
      ['Redis memory', 'used_memory', 'vs before', "send's own keys", 'jobs held'],
      memRow('before campaigns.send', m.before),
      ...m.atProgress.map((p) => memRow(`at ${p.pct}% sent`, p.point)),
      ['peak during the send', fmt.mb(m.peakUsed), sign(m.peakUsed - m.before.used), fmt.kb(m.peakOwn), ''],
      memRow('after status sent', m.after),
    ]),
  );
  console.log(
    "used_memory is the whole shared instance (other clients' keys come and go in it); " +
      `"send's own keys" is MEMORY USAGE of this campaign's queue, job and ledger keys.`,
  );
}
