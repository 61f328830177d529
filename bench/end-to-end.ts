import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { Container } from '../src/container';
import { MjmlNewsletterRenderer } from '../src/mail/newsletter';
import type { Booted } from '../src/runtime/boot';
import { addressOf } from '../src/mail/address';
import { mailIdentity } from '../src/mail/mail-identity';
import { createMailTransport, type RawMessage } from '../src/mail/mail-transport';
import { SITE_NAME } from './fixture';
import { MessageFactory } from './messages';
import { RedisProbe } from './redis-probe';
import type { Sink } from './sink';
import type { WorkerChild } from './worker-child';

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

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

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
