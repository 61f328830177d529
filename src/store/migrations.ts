import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../domain/ports/clock';
import type { Keys } from './keys';
import { LuaScript } from './lua-script';
import { convertSubscribers } from './subscriber-conversion';

/** What a migration gets: the data's connection and names, and the settings the old data lacked. */
export interface MigrationContext {
  redis: Redis;
  keys: Keys;
  log: Logger;
  clock: Clock;
  /** Slug of the default newsletter (DEFAULT_NEWSLETTER): where data from before newsletters goes. */
  defaultNewsletter: string;
}

interface Migration {
  version: number;
  name: string;
  /**
   * Must be safe to run again over its own partial work: a process that dies mid-way leaves the version where it
   * was, and the next start runs the whole step again.
   */
  up(ctx: MigrationContext): Promise<void>;
}

/** Campaigns a migration reads per round trip. */
const PAGE = 500;

/**
 * The data migrations, in order; each runs once per Redis prefix. Append only: a released migration never changes,
 * since a database that ran it will not run it again.
 */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'campaigns belong to the default newsletter',
    // Campaigns written before newsletters name none, so they are filed under the default one; HSETNX keeps a newsletter
    // already set (by a run that died after some pages, or by a campaign created since).
    async up({ redis, keys, defaultNewsletter }) {
      // The index is scored by id: paging by score past the last id seen loses nothing to a concurrent create.
      let after = 0;
      for (;;) {
        const ids = await redis.zrangebyscore(keys.campaigns(), `(${after}`, '+inf', 'LIMIT', 0, PAGE);
        if (!ids.length) return;
        await redis.eval(FILE_CAMPAIGNS, ids.length, ...ids.map((id) => keys.campaign(id)), defaultNewsletter);
        after = Number(ids.at(-1));
      }
    },
  },
  {
    version: 2,
    name: 'articles sent before newsletters are sent in the default newsletter',
    // "New" became per newsletter: a set per newsletter of the articles sent in it. Every campaign sent before
    // newsletters went to the default newsletter's readers, so the articles it sent (those out of the global new
    // set) are no longer new there; for any other newsletter they still are.
    async up({ redis, keys, defaultNewsletter }) {
      for (let start = 0; ; start += PAGE) {
        const ids = await redis.zrange(keys.allArticles(), String(start), String(start + PAGE - 1));
        if (!ids.length) return;
        const isNew = await redis.zmscore(keys.newArticles(), ...ids);
        const sent = ids.filter((_, i) => isNew[i] === null);
        if (sent.length) await redis.sadd(keys.newsletterSent(defaultNewsletter), ...sent);
      }
    },
  },
  {
    version: 3,
    name: 'subscribers read the default newsletter',
    // Readers choose newsletters now, and each newsletter keeps the set of its readers. Everyone active before
    // received the one list there was, so they become readers of the default newsletter; a pending person asked for
    // it, so confirming adds them to it. Unsubscribed and bounced people receive nothing and stay so. Ids are read
    // up to the last one given; people created meanwhile are written by code that names their newsletters.
    async up({ redis, keys, defaultNewsletter }) {
      const last = Number((await redis.get(keys.subscriberSeq())) ?? 0);
      for (let from = 1; from <= last; from += PAGE) {
        const ids = Array.from({ length: Math.min(PAGE, last - from + 1) }, (_, i) => from + i);
        await JOIN_DEFAULT.run(
          redis,
          [keys.oldNewsletterMembers(defaultNewsletter)],
          [keys.subscriber(''), defaultNewsletter, ...ids],
        );
      }
    },
  },
  {
    version: 4,
    name: 'subscribers in compact records, id bitmaps and one address index',
    // About 1.8 KB per person became about 320 bytes (bench/memory.ts): see subscriber-conversion.ts.
    async up(ctx) {
      const started = Date.now();
      const converted = await convertSubscribers(ctx);
      ctx.log.info(
        { event: 'migration.subscribers_compacted', converted, ms: Date.now() - started },
        'subscribers converted to compact records',
      );
    },
  },
];

/**
 * Gives each held person (ARGV[3..], ids) without newsletters the default one (ARGV[2]): an active person receives
 * it and joins its set (KEYS[1]), a pending one asks for it. A person who has newsletters or a request already
 * (written since, or by an earlier run of this step) is left alone. ARGV[1]: the subscriber key prefix.
 */
const JOIN_DEFAULT = new LuaScript(`
for i = 3, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  local row = redis.call('HMGET', key, 'status', 'newsletters', 'requested')
  if row[1] == 'active' and not row[2] then
    redis.call('HSET', key, 'newsletters', ARGV[2])
    redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i])
  elseif row[1] == 'pending' and not row[3] then
    redis.call('HSET', key, 'requested', ARGV[2])
  end
end
return #ARGV - 2
`);

/**
 * Names the newsletter of each campaign hash (KEYS) that exists and has none; never creates a hash for an id the
 * index holds without one. ARGV: the slug.
 */
const FILE_CAMPAIGNS = `
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('HSETNX', KEYS[i], 'newsletter', ARGV[1]) end
end
return #KEYS
`;

/** Sets the version to ARGV[2] only when it is ARGV[1] (missing counts as 0) and the lock is still ours. */
const BUMP = new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return -1 end
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v ~= tonumber(ARGV[1]) then return v end
redis.call('SET', KEYS[1], ARGV[2])
return tonumber(ARGV[2])
`);

/** Deletes the lock only when it is ours: a lock that expired and was taken by another process stays theirs. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

export interface MigrationOptions {
  /** How long the lock lasts unless renewed; a holder that dies frees it after this. Default 60 s. */
  lockMs?: number;
  /** How often a process waiting for another's migration looks again. Default 200 ms. */
  pollMs?: number;
  /** How long a process waits for another's migration before giving up. Default 10 minutes. */
  waitMs?: number;
  /** Default: MIGRATIONS. Tests pass their own to watch the locking. */
  migrations?: Migration[];
}

/**
 * Brings the data under the prefix to the latest version. Every process calls this at start (the API, each worker
 * process, the CLI); one of them takes the lock and runs the missing migrations in order, bumping the version after
 * each, while the others wait for the lock to go and then find nothing left to do. The lock is renewed while a
 * migration runs, and every bump checks it is still held, so a holder that stalled past its lock cannot bump a
 * version another process is already migrating to.
 */
export async function runMigrations(ctx: MigrationContext, opts: MigrationOptions = {}): Promise<number> {
  const { redis, keys, log } = ctx;
  const migrations = opts.migrations ?? MIGRATIONS;
  const latest = migrations.at(-1)?.version ?? 0;
  const lockMs = opts.lockMs ?? 60_000;
  const pollMs = opts.pollMs ?? 200;
  const deadline = Date.now() + (opts.waitMs ?? 600_000);
  const version = async () => Number((await redis.get(keys.schemaVersion())) ?? 0);

  for (;;) {
    const current = await version();
    if (current >= latest) return current;
    const token = randomBytes(12).toString('hex');
    if ((await redis.set(keys.migrationLock(), token, 'PX', lockMs, 'NX')) === 'OK') {
      try {
        return await migrateHolding(ctx, migrations, token, lockMs);
      } finally {
        await RELEASE.run(redis, [keys.migrationLock()], [token]);
      }
    }
    if (Date.now() > deadline)
      throw new Error(`data migration: another process has held ${keys.migrationLock()} for too long`);
    log.debug({ event: 'migration.waiting' }, 'another process is migrating the data');
    await new Promise((ok) => setTimeout(ok, pollMs));
  }
}

async function migrateHolding(
  ctx: MigrationContext,
  migrations: Migration[],
  token: string,
  lockMs: number,
): Promise<number> {
  const { redis, keys, log } = ctx;
  // Read under the lock: a process that held it before us may have finished meanwhile.
  let current = Number((await redis.get(keys.schemaVersion())) ?? 0);
  for (const m of migrations) {
    if (m.version <= current) continue;
    const renew = setInterval(
      () => void redis.pexpire(keys.migrationLock(), lockMs).catch(() => undefined),
      lockMs / 3,
    );
    const started = Date.now();
    try {
      await m.up(ctx);
    } finally {
      clearInterval(renew);
    }
    const bumped = Number(
      await BUMP.run(redis, [keys.schemaVersion(), keys.migrationLock()], [current, m.version, token]),
    );
    if (bumped !== m.version)
      throw new Error(`data migration ${m.version} (${m.name}): lost the lock before recording it; start again`);
    current = m.version;
    log.info(
      { event: 'migration.applied', version: m.version, name: m.name, ms: Date.now() - started },
      'data migration applied',
    );
  }
  return current;
}
