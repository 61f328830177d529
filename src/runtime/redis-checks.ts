import type { Redis } from 'ioredis';

/** The Redis cannot hold this service's data safely: start-up stops with this one-line message. */
export class RedisRefusedError extends Error {
  readonly code = 'redis_refused';
}

/** BullMQ 6 refuses servers older than this (its RedisConnection.minimumVersion). */
export const MIN_REDIS_VERSION = '5.0.0';
/** BullMQ 6 warns below this (its recommendedMinimumVersion). */
export const RECOMMENDED_REDIS_VERSION = '6.2.0';

/** What the checks found worth telling operators without refusing to start. */
export interface RedisCheckResult {
  version: string;
  warnings: string[];
}

/**
 * The start-up checks of the Redis this service keeps everything in (subscribers, consent, ledgers, queued jobs):
 * - a version BullMQ 6 runs on;
 * - `maxmemory-policy noeviction`: any other policy lets Redis delete keys when memory runs short, which silently
 *   loses subscribers, ledgers (so people get a campaign twice) and jobs. Refused, with the commands that fix it.
 *   Managed Redis often refuses CONFIG: the policy is then read from INFO memory, else a warning says to check it;
 * - persistence: with neither an append-only file nor RDB save points a Redis restart loses everything. A warning
 *   (only loud under NODE_ENV=production: development's throwaway Redis needs no nagging).
 */
export async function checkRedis(
  redis: Redis,
  opts: { describe: string; production: boolean },
): Promise<RedisCheckResult> {
  const warnings: string[] = [];
  const server = parseInfo(await redis.info('server'));
  const version = server.valkey_version ?? server.redis_version ?? '0.0.0';
  const product = server.valkey_version ? 'Valkey' : 'Redis';
  if (versionBelow(version, MIN_REDIS_VERSION)) {
    throw new RedisRefusedError(
      `${product} ${version} at ${opts.describe} is too old: the job queues (BullMQ 6) need Redis ${MIN_REDIS_VERSION} ` +
        `or later (${RECOMMENDED_REDIS_VERSION} or later recommended); upgrade Redis`,
    );
  }
  if (!server.valkey_version && versionBelow(version, RECOMMENDED_REDIS_VERSION))
    warnings.push(`Redis ${version} works but ${RECOMMENDED_REDIS_VERSION} or later is recommended (BullMQ 6)`);

  const policy = (await configGet(redis, 'maxmemory-policy')) ?? parseInfo(await redis.info('memory')).maxmemory_policy;
  if (policy === undefined) {
    warnings.push(
      `could not read maxmemory-policy of ${opts.describe}; make sure it is noeviction, or Redis may delete ` +
        `subscribers and queued jobs when memory runs short`,
    );
  } else if (policy !== 'noeviction') {
    throw new RedisRefusedError(
      `Redis at ${opts.describe} has maxmemory-policy ${policy}: it would evict subscribers, ledgers and queued ` +
        `jobs when memory runs short. Fix: redis-cli${cliTarget(redis)} CONFIG SET maxmemory-policy noeviction ` +
        `(and "maxmemory-policy noeviction" in redis.conf so it stays after a restart)`,
    );
  }

  if (opts.production) {
    const save = await configGet(redis, 'save');
    const persistence = parseInfo(await redis.info('persistence'));
    // Without CONFIG (managed Redis) the save points cannot be read: persistence is then the provider's to tell.
    if (save !== undefined && save.trim() === '' && persistence.aof_enabled === '0') {
      warnings.push(
        `PERSISTENCE IS OFF on ${opts.describe}: no append-only file and no RDB save points, so a Redis restart ` +
          `loses every subscriber, consent record and queued mail. Turn on the append-only file: ` +
          `redis-cli${cliTarget(redis)} CONFIG SET appendonly yes (and "appendonly yes" in redis.conf)`,
      );
    }
  }
  return { version, warnings };
}

/** `CONFIG GET name`, or undefined when CONFIG is refused (managed Redis renames or forbids it). */
async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const reply = await redis.config('GET', name);
    return reply.length >= 2 ? reply[1] : undefined;
  } catch {
    return undefined;
  }
}

/** INFO's `field:value` lines. */
function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** Compares dotted versions numerically (7.10 > 7.9); missing parts count as 0. */
export function versionBelow(version: string, min: string): boolean {
  const a = version.split('.').map((n) => parseInt(n, 10) || 0);
  const b = min.split('.').map((n) => parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

/** The redis-cli options that reach the same server, for the fix line. */
function cliTarget(redis: Redis): string {
  const o = redis.options;
  if (o.path) return ` -s ${o.path}`;
  const host = o.host && o.host !== '127.0.0.1' && o.host !== 'localhost' ? ` -h ${o.host}` : '';
  const port = o.port && o.port !== 6379 ? ` -p ${o.port}` : '';
  return host + port;
}
