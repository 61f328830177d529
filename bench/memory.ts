/**
 * Section "memory": the Redis memory each subscriber costs. Imports N people (100,000; --quick 10,000) through the
 * real import use case (SubscriberImport reading a CSV, into the real SubscriberStore) under a fresh prefix, then
 * counts every key under it with MEMORY USAGE (SAMPLES 0: exact), by structure, and divides by N. As a cross-check,
 * when redis-server is on the PATH the section runs on a Redis of its own and also prints the used_memory delta,
 * which sees what MEMORY USAGE cannot (allocator rounding, the keyspace's own tables). A second row does the same
 * for people who sign up through a form and confirm (a browser's user agent, an IP, two trail events, the
 * confirmation mail's allowance), with the store calls the signup use case makes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { systemClock } from '../src/domain/ports/clock';
import { SubscriberImport } from '../src/domain/subscriber-import';
import { termsOf } from '../src/domain/terms';
import { Keys } from '../src/store/keys';
import { SubscriberStore } from '../src/store/subscriber-store';
import { BENCH_REDIS } from './redis-probe';
import { fmt, heading, table } from './report';
import type { SectionContext, SectionResult } from './section';

/** The limit: bytes of Redis per subscriber, everything the import adds counted. */
const LIMIT = 400;
const NEWSLETTER = 'news';
const TERMS = termsOf('2026-01', 'The terms of the bench newsletter.');
const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** Which structure a key under the prefix belongs to, for the breakdown. */
function structureOf(name: string): string {
  if (/^people:\d+$/.test(name)) return 'records with their trails (bucket hashes)';
  if (name === 'people:strings') return 'strings table';
  if (name === 'subscribers:by-address') return 'address index (sorted set)';
  if (/^subscribers:bits:/.test(name) || /^newsletter:.*:readers$/.test(name))
    return 'id bitmaps (status, all, readers)';
  return 'other';
}

interface Footprint {
  keys: number;
  bytes: number;
  by: Map<string, number>;
}

async function footprint(redis: Redis, prefix: string): Promise<Footprint> {
  const out: Footprint = { keys: 0, bytes: 0, by: new Map() };
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 2000);
    cursor = next;
    if (!batch.length) continue;
    const pipe = redis.pipeline();
    for (const k of batch) pipe.memory('USAGE', k, 'SAMPLES', '0');
    const results = (await pipe.exec()) ?? [];
    batch.forEach((key, i) => {
      const bytes = Number(results[i]?.[1] ?? 0);
      const what = structureOf(key.slice(prefix.length + 1));
      out.by.set(what, (out.by.get(what) ?? 0) + bytes);
      out.bytes += bytes;
      out.keys++;
    });
  } while (cursor !== '0');
  return out;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

/** A redis-server of the section's own, when one is on the PATH; null otherwise (the shared Redis is used). */
async function ownRedis(): Promise<{ port: number; stop(): Promise<void> } | null> {
  const port = await new Promise<number>((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as { port: number };
      s.close(() => ok(p));
    });
  });
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await new Promise<void>((ok, fail) => {
      child.once('spawn', ok);
      child.once('error', fail);
    });
  } catch {
    return null;
  }
  const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  probe.on('error', () => undefined); // refused until the server listens: the loop below retries
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      probe.disconnect();
      if (i > 50) throw new Error(`redis-server on port ${port} did not answer`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
  probe.disconnect();
  return {
    port,
    stop: () =>
      new Promise<void>((ok) => {
        if (child.exitCode !== null) return ok();
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      }),
  };
}

function csv(n: number): Readable {
  const lines = function* () {
    yield 'email,name,consentAt,consentSource\n';
    for (let i = 0; i < n; i++) {
      // Addresses and names of a realistic length (~25 and ~12 characters); consent times spread over a year.
      const day = new Date(Date.UTC(2025, 0, 1) + (i % 365) * 86_400_000).toISOString().slice(0, 10);
      yield `reader${String(i).padStart(6, '0')}@example.com,Reader ${i},${day}T09:30:00Z,newsletter signup 2025\n`;
    }
  };
  return Readable.from(lines());
}

/** What a form signup and its confirmation store, through the store calls Subscriptions makes, in its order. */
async function signUpAndConfirm(store: SubscriberStore, n: number): Promise<void> {
  const now = () => new Date().toISOString();
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, async (_, k) => {
        const email = `signup${String(i + k).padStart(6, '0')}@example.com`;
        const at = now();
        const consent = {
          at,
          ip: `198.51.${(i + k) >> 8}.${(i + k) & 255}`,
          userAgent: USER_AGENT,
          termsVersion: TERMS.version,
          termsHash: TERMS.textHash,
          source: 'form',
        };
        const { id } = await store.create({
          email,
          name: '',
          status: 'pending',
          consent,
          now: at,
          newsletters: [NEWSLETTER],
        });
        await store.appendConsent(email, {
          type: 'subscribed',
          at,
          evidence: consent,
          detail: `newsletters: ${NEWSLETTER}`,
        });
        await store.takeConfirmMail(id, new Date(), 3, 3_600_000);
        const confirmedAt = now();
        await store.confirm(id, confirmedAt, NEWSLETTER);
        const { ip, userAgent, termsVersion, termsHash, source } = consent;
        await store.appendConsent(email, {
          type: 'confirmed',
          at: confirmedAt,
          evidence: { ip, userAgent, termsVersion, termsHash, source },
          detail: `newsletters: ${NEWSLETTER}`,
        });
      }),
    );
  }
}

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 2000);
    cursor = next;
    if (batch.length) await redis.unlink(...batch);
  } while (cursor !== '0');
}

export async function memorySection(ctx: SectionContext): Promise<SectionResult> {
  const n = ctx.quick ? 10_000 : 100_000;
  const signups = ctx.quick ? 2_000 : 10_000;
  heading(`Memory: Redis per subscriber, ${fmt.int(n)} imported`);
  const own = await ownRedis();
  if (own) ctx.onCleanup(() => own.stop());
  const redis = new Redis(own ? { host: '127.0.0.1', port: own.port } : BENCH_REDIS);
  const prefixes: string[] = [];
  ctx.onCleanup(async () => {
    if (!own) for (const p of prefixes) await deletePrefix(redis, p);
    redis.disconnect();
  });
  try {
    console.log(
      own
        ? `on a redis-server of its own (port ${own.port}): MEMORY USAGE of every key and the used_memory delta`
        : 'redis-server not on the PATH: on the shared Redis, MEMORY USAGE of every key only (no used_memory delta)',
    );
    const measure = async (what: string, count: number, fill: (store: SubscriberStore) => Promise<void>) => {
      const prefix = `nlbench-${randomBytes(4).toString('hex')}`;
      prefixes.push(prefix);
      const store = new SubscriberStore({ redis, keys: new Keys(prefix) });
      const before = own ? await usedMemory(redis) : 0;
      const started = performance.now();
      await fill(store);
      const ms = performance.now() - started;
      const after = own ? await usedMemory(redis) : 0;
      const fp = await footprint(redis, prefix);
      const held = (await store.countByStatus()).total;
      if (held !== count) throw new Error(`${what}: ${fmt.int(held)} people held, expected ${fmt.int(count)}`);
      console.log(`\n${what}: ${fmt.int(count)} people in ${fmt.s(ms / 1000)}, ${fmt.int(fp.keys)} keys`);
      console.log(
        table([
          ['structure', 'bytes', 'per person'],
          ...[...fp.by].map(([k, b]) => [k, fmt.int(b), (b / count).toFixed(1)]),
          ['total (MEMORY USAGE)', fmt.int(fp.bytes), (fp.bytes / count).toFixed(1)],
          ...(own ? [['used_memory delta', fmt.int(after - before), ((after - before) / count).toFixed(1)]] : []),
        ]),
      );
      return { perPerson: fp.bytes / count, usedPerPerson: own ? (after - before) / count : undefined };
    };

    const imported = await measure('imported (CSV through SubscriberImport)', n, async (store) => {
      const use = new SubscriberImport({
        subscribers: store,
        clock: systemClock,
        log: pino({ level: 'warn' }),
        terms: TERMS,
        newsletters: { resolve: () => Promise.resolve(NEWSLETTER) },
      });
      const summary = await use.run(csv(n), 'csv');
      if (summary.imported !== n) throw new Error(`imported ${summary.imported} of ${n}: ${JSON.stringify(summary)}`);
    });
    const formed = await measure('form signup + confirmation', signups, (store) => signUpAndConfirm(store, signups));

    const both = (m: { perPerson: number; usedPerPerson?: number }) =>
      `${fmt.int(m.perPerson)} B` +
      (m.usedPerPerson === undefined ? '' : ` (used_memory ${fmt.int(m.usedPerPerson)} B)`);
    return {
      rows: [
        [
          `Redis per subscriber, ${fmt.int(n)} imported (limit | ours)`,
          `${LIMIT} B`,
          both(imported),
          (imported.perPerson / LIMIT).toFixed(2),
        ],
        [
          `   per form signup + confirmation, ${fmt.int(signups)}`,
          `${LIMIT} B`,
          both(formed),
          (formed.perPerson / LIMIT).toFixed(2),
        ],
      ],
      targets: [
        {
          label: `Redis per subscriber (${fmt.int(n)} imported)`,
          ours: `${fmt.int(imported.perPerson)} B`,
          baseline: `${LIMIT} B`,
          ratio: Number((imported.perPerson / LIMIT).toFixed(2)),
          target: `<= ${LIMIT} B`,
          // The measure is MEMORY USAGE; used_memory is the cross-check printed beside it (at --quick's
          // 10,000 people, fixed costs such as the script cache still weigh on it).
          met: imported.perPerson <= LIMIT,
        },
      ],
    };
  } finally {
    if (!own) for (const p of prefixes) await deletePrefix(redis, p);
    redis.disconnect();
    await own?.stop();
  }
}
