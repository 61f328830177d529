import { Redis } from 'ioredis';
import { QUEUES } from '../src/queue/jobs';

export const BENCH_REDIS = { host: '127.0.0.1', port: 6379 };

/** Reads what the benchmark reports about Redis: memory, CPU, and the keys under the benchmark's own prefix. */
export class RedisProbe {
  private readonly redis = new Redis({ ...BENCH_REDIS, lazyConnect: false, maxRetriesPerRequest: 3 });
  /** Commands this probe has sent, so they can be left out of the engine's count. */
  issued = 0;

  async usedMemory(): Promise<number> {
    this.issued++;
    return infoField(await this.redis.info('memory'), 'used_memory');
  }

  /** The `sent` counter of a campaign. */
  async campaignSent(prefix: string, campaignId: number): Promise<number> {
    this.issued++;
    return Number((await this.redis.hget(`${prefix}:campaign:${campaignId}`, 'sent')) ?? 0);
  }

  /** CPU seconds Redis has used (user + system), for all its clients: the machine's Redis is shared. */
  async cpuSeconds(): Promise<number> {
    this.issued++;
    return redisCpuSeconds(this.redis);
  }

  /** Commands Redis has processed, from all clients. */
  async commands(): Promise<number> {
    this.issued++;
    return infoField(await this.redis.info('stats'), 'total_commands_processed');
  }

  /** Samples used_memory every `everyMs` until stopped; returns the samples with their times. */
  sampleMemory(everyMs: number): { stop(): Promise<{ t: number; bytes: number }[]> } {
    const samples: { t: number; bytes: number }[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        samples.push({ t: performance.now(), bytes: await this.usedMemory() });
        await new Promise((ok) => setTimeout(ok, everyMs));
      }
    })();
    return {
      async stop() {
        running = false;
        await loop;
        return samples;
      },
    };
  }

  /** Keys matching `pattern` and the bytes MEMORY USAGE reports for them. */
  async footprint(pattern: string): Promise<{ keys: number; bytes: number }> {
    let cursor = '0';
    let keys = 0;
    let bytes = 0;
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
      cursor = next;
      if (!batch.length) continue;
      const pipe = this.redis.pipeline();
      for (const k of batch) pipe.memory('USAGE', k, 'SAMPLES', '0');
      for (const [, v] of (await pipe.exec()) ?? []) bytes += Number(v ?? 0);
      keys += batch.length;
    } while (cursor !== '0');
    return { keys, bytes };
  }

  /**
   * Bytes (MEMORY USAGE) of the keys a campaign send creates or grows, found without scanning the keyspace (the
   * Redis is shared and may hold millions of other keys): the BullMQ structures of the campaign and delivery queues,
   * every job they still hold (waiting, active, completed, failed, delayed), and the campaign's own keys.
   *
   * `finished` (optional, kept by the caller across samples) holds the bytes of each completed job already measured:
   * a completed job no longer changes, so at a million recipients (5,000 batches kept) a sample measures only the
   * new ones instead of sending thousands of MEMORY USAGE calls every half second into the run it measures.
   */
  async sendFootprint(
    prefix: string,
    campaignId: number,
    finished?: Map<string, number>,
  ): Promise<{ keys: number; bytes: number; jobs: number; waiting: number }> {
    const keys: string[] = [];
    let jobs = 0;
    let waiting = 0;
    let cachedBytes = 0;
    let cachedKeys = 0;
    /** Completed job keys measured in this sample, to be remembered once their bytes are in. */
    const measuring = new Map<number, string>();
    for (const queue of [QUEUES.campaigns, QUEUES.deliveries]) {
      const base = `${prefix}:bull:${queue}:`;
      const structural = [
        'active',
        'wait',
        'waiting-children',
        'paused',
        'id',
        'delayed',
        'prioritized',
        'stalled-check',
        'completed',
        'failed',
        'stalled',
        'repeat',
        'limiter',
        'meta',
        'events',
        'pc',
        'marker',
        'de',
      ];
      keys.push(...structural.map((k) => base + k));
      const [[, wait], [, active], [, completed], [, failed], [, delayed], [, prioritized]] = (await this.redis
        .pipeline()
        .lrange(`${base}wait`, '0', '-1')
        .lrange(`${base}active`, '0', '-1')
        .zrange(`${base}completed`, '0', '-1')
        .zrange(`${base}failed`, '0', '-1')
        .zrange(`${base}delayed`, '0', '-1')
        .zrange(`${base}prioritized`, '0', '-1')
        .exec()) as [unknown, string[]][];
      this.issued += 6;
      const ids = new Set([...wait, ...active, ...completed, ...failed, ...delayed, ...prioritized]);
      jobs += ids.size;
      if (queue === QUEUES.deliveries) waiting = wait.length + delayed.length + prioritized.length;
      const done = new Set(completed);
      for (const id of ids) {
        const jobKey = base + id;
        const known = finished?.get(jobKey);
        if (known !== undefined) {
          cachedBytes += known;
          cachedKeys++;
          continue;
        }
        // A finished job's lock is gone; its hash and its logs are what stays.
        if (finished && done.has(id)) measuring.set(keys.length, jobKey);
        keys.push(jobKey, `${base}${id}:lock`, `${base}${id}:logs`);
      }
    }
    for (const suffix of ['', ':content', ':ledger', ':settled', ':minutes'])
      keys.push(`${prefix}:campaign:${campaignId}${suffix}`);
    const pipe = this.redis.pipeline();
    for (const k of keys) pipe.memory('USAGE', k, 'SAMPLES', '0');
    this.issued += keys.length;
    const usage = ((await pipe.exec()) ?? []).map(([, v]) => (v === null || v === undefined ? undefined : Number(v)));
    for (const [at, jobKey] of measuring) finished!.set(jobKey, (usage[at] ?? 0) + (usage[at + 2] ?? 0));
    let bytes = cachedBytes;
    let present = cachedKeys;
    for (const v of usage) {
      if (v === undefined) continue;
      present++;
      bytes += v;
    }
    return { keys: present, bytes, jobs, waiting };
  }

  /** Deletes every key under the prefix; returns how many. */
  async deletePrefix(prefix: string): Promise<number> {
    let cursor = '0';
    let n = 0;
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 2000);
      cursor = next;
      if (batch.length) n += await this.redis.unlink(...batch);
    } while (cursor !== '0');
    return n;
  }

  close(): void {
    this.redis.disconnect();
  }
}

function infoField(info: string, name: string): number {
  const m = new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info);
  return m ? Number(m[1]) : NaN;
}

/** CPU seconds the Redis server behind `redis` has used (user + system), for all its clients. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  return infoField(info, 'used_cpu_user') + infoField(info, 'used_cpu_sys');
}
