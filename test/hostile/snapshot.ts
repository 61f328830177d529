import type { Redis } from 'ioredis';

/** One key as held: its type, a readable rendering of its whole content, and its DUMP to put it back. */
interface Held {
  type: string;
  content: string;
  dump: Buffer;
  pttl: number;
}

export type Snapshot = Map<string, Held>;

/**
 * Keys a refused request may legitimately change, each with why. Kept tiny on purpose: everything else under the
 * suite's prefix must read the same, type and content, after every hostile case.
 */
const MAY_CHANGE: { pattern: RegExp; why: string }[] = [
  // rate-limiter-flexible's counters: every signup and sign-in attempt is counted, valid or not.
  { pattern: /:rl:/, why: 'rate-limit counters count attempts, refused ones included' },
  // Mailgun signs only timestamp + token, so a token is bound to the first event id it arrives with, even when that
  // event is then refused as malformed: a captured token cannot come back carrying other data.
  { pattern: /:feedback:seen:mailgun-token(-event)?:/, why: 'Mailgun signature tokens are bound on first use' },

  // Ids are taken (INCR) before the login's uniqueness is checked: a refused duplicate burns an id, which holds nothing.
  { pattern: /:operator:seq$/, why: 'a refused duplicate operator burns an id' },
];

/**
 * Audit entries written for what the suites do on purpose: a failed sign-in is evidence of guessing, an import that
 * refused every row still ran, and the CLI records every run of a changing command with its exit code (main.ts).
 */
function audited(entry: { action?: string; actor?: { kind?: string } }): boolean {
  return (
    entry.action === 'session.sign_in_failed' || entry.action === 'subscriber.import' || entry.actor?.kind === 'cli'
  );
}

async function scanKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys.sort();
}

/**
 * One SHA-1 over every key under the prefix (name and DUMP), the allowed ones left out, computed inside Redis in one
 * round trip: the cheap check made after every case; the full snapshot is read only when it differs.
 */
const DIGEST = `
local cursor, keys = '0', {}
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    local allowed = false
    for i = 2, #ARGV do if string.find(k, ARGV[i], 1, true) then allowed = true end end
    if not allowed then keys[#keys + 1] = k end
  end
until cursor == '0'
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do parts[#parts + 1] = k .. '=' .. (redis.call('DUMP', k) or '') end
return redis.sha1hex(table.concat(parts, '\\n'))`;

/** Substrings of the MAY_CHANGE keys, for the digest (Lua has no regular expressions). */
const MAY_CHANGE_PARTS = [':rl:', ':feedback:seen:mailgun-token', ':operator:seq'];

export async function digest(redis: Redis, prefix: string): Promise<string> {
  return (await redis.eval(DIGEST, 0, `${prefix}:*`, ...MAY_CHANGE_PARTS)) as string;
}

/** Every key under `prefix`, read whole. */
export async function takeSnapshot(redis: Redis, prefix: string): Promise<Snapshot> {
  const keys = (await scanKeys(redis, prefix)).filter((k) => !MAY_CHANGE.some((m) => m.pattern.test(k)));
  const types = await Promise.all(keys.map((k) => redis.type(k)));
  const snapshot: Snapshot = new Map();
  await Promise.all(
    keys.map(async (key, i) => {
      const type = types[i];
      if (type === 'none') return; // expired between SCAN and TYPE
      const [content, dump, pttl] = await Promise.all([read(redis, key, type), redis.dumpBuffer(key), redis.pttl(key)]);
      if (dump) snapshot.set(key, { type, content, dump, pttl });
    }),
  );
  return snapshot;
}

async function read(redis: Redis, key: string, type: string): Promise<string> {
  switch (type) {
    case 'string':
      return (await redis.getBuffer(key))?.toString('hex') ?? '';
    case 'hash': {
      const h = await redis.hgetall(key);
      return JSON.stringify(
        Object.keys(h)
          .sort()
          .map((f) => [f, h[f]]),
      );
    }
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify((await redis.smembers(key)).sort());
    case 'zset':
      return JSON.stringify(await redis.zrange(key, '0', '-1', 'WITHSCORES'));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return `(${type})`;
  }
}

/** The audit stream's entries after `before`'s last one, minus the refusals that are audited on purpose. */
function withoutAuditedRefusals(key: string, before: Held | undefined, after: Held): string {
  if (!key.endsWith(':audit') || after.type !== 'stream') return after.content;
  const kept = before ? (JSON.parse(before.content) as [string, string[]][]) : [];
  const known = new Set(kept.map(([id]) => id));
  const entries = (JSON.parse(after.content) as [string, string[]][]).filter(([id, fields]) => {
    if (known.has(id)) return true;
    // Each entry is one field `e` holding the entry as JSON (audit-store.ts).
    return !audited(JSON.parse(fields[1] ?? '{}') as Parameters<typeof audited>[0]);
  });
  return JSON.stringify(entries);
}

/** What differs between two snapshots, one line a key; empty when nothing held changed. */
export function differences(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [key, was] of before) {
    const now = after.get(key);
    if (!now) out.push(`${key}: deleted (was ${was.type} ${was.content.slice(0, 200)})`);
    else if (now.type !== was.type) out.push(`${key}: type ${was.type} -> ${now.type}`);
    else if (withoutAuditedRefusals(key, was, now) !== was.content)
      out.push(`${key}: ${was.content.slice(0, 300)} -> ${now.content.slice(0, 300)}`);
  }
  for (const [key, now] of after) {
    if (before.has(key)) continue;
    if (key.endsWith(':audit') && withoutAuditedRefusals(key, undefined, now) === '[]') continue;
    out.push(`${key}: added ${now.type} ${now.content.slice(0, 300)}`);
  }
  return out;
}

/**
 * Puts every key back as `snapshot` held it and deletes the ones added since, so a case that did change something
 * fails alone instead of failing every case after it.
 */
export async function restore(redis: Redis, prefix: string, snapshot: Snapshot): Promise<void> {
  const now = await scanKeys(redis, prefix);
  const extra = now.filter((k) => !snapshot.has(k) && !MAY_CHANGE.some((m) => m.pattern.test(k)));
  const multi = redis.multi();
  if (extra.length) multi.del(...extra);
  for (const [key, held] of snapshot) multi.restore(key, String(held.pttl > 0 ? held.pttl : 0), held.dump, 'REPLACE');
  await multi.exec();
}
