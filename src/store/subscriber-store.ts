import type { Redis } from 'ioredis';
import { emailHash } from '../domain/email-address';
import type { ImportRow } from '../domain/import-parsers';
import type {
  ImportOutcome,
  ListPosition,
  NewConsentEvent,
  NewSubscriber,
  StatusCounts,
  SubscriberChanges,
  SubscriberListPage,
  SubscriberListQuery,
  SubscriberRepository,
  SubscriberTransition,
} from '../domain/ports/subscriber-repository';
import type { ConsentEvent, ConsentEvidence, Subscriber, SubscriberStatus } from '../domain/subscriber';
import type { Keys } from './keys';
import { LuaScript } from './lua-script';

/** Fields of the subscriber hash, flat strings as Redis holds them. */
type Row = Record<string, string>;

/** Every status, in the order their sets are passed to the scripts as KEYS. */
const STATUSES: SubscriberStatus[] = ['pending', 'active', 'unsubscribed', 'bounced'];

/**
 * Lua shared by the scripts that set a status: puts the id into the set of its status and takes it out of the three
 * others, so every held id is in exactly one status set and ZCARD of each is an exact count. The four sets are
 * KEYS[base] to KEYS[base + 3], in STATUSES order.
 */
const PLACE = `
local STATUSES = {${STATUSES.map((st) => `'${st}'`).join(', ')}}
local function place(base, id, status)
  for i, s in ipairs(STATUSES) do
    if s == status then redis.call('ZADD', KEYS[base + i - 1], id, id) else redis.call('ZREM', KEYS[base + i - 1], id) end
  end
end
`;

/**
 * Moves a subscriber between statuses only if it is in one of the allowed ones, and keeps the status sets (the
 * active one included) and suppression set in step, in one atomic script so a confirm racing an unsubscribe cannot
 * leave both applied.
 * KEYS: subscriber hash, suppressed set, the four status sets.
 * ARGV: id, to, email hash, suppress(0/1), allowed..., '--', field, value...
 */
const TRANSITION = new LuaScript(`${PLACE}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
local i = 5
local allowed = false
while ARGV[i] ~= '--' do
  if ARGV[i] == status then allowed = true end
  i = i + 1
end
if not allowed then return status end
i = i + 1
while ARGV[i] do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
place(3, ARGV[1], ARGV[2])
if ARGV[4] == '1' then redis.call('SADD', KEYS[2], ARGV[3]) end
return 'ok'
`);

/**
 * Writes a later consent onto a person who still exists, keeping the status sets in step; an id erased meanwhile is
 * left alone rather than brought back as a record with no address.
 * KEYS: subscriber hash, the four status sets. ARGV: id, status, field, value... Returns 1 when written, 0 when not held.
 */
const RENEW = new LuaScript(`${PLACE}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
place(2, ARGV[1], ARGV[2])
return 1
`);

/**
 * Imports a batch in one atomic round trip. Per row, in order (so a repeat within the batch finds its first
 * occurrence): skip a suppressed hash ('s'), skip a hash already in the index whatever its status ('e', so an
 * unsubscribed person is never brought back), else take an id, index it, write the hash, add it to the active
 * set, the set of all ids and the address index, and append the trail event ('i'). Returns one letter a row.
 * KEYS: index, id seq, active zset, suppressed set, all-ids zset, address index, then the consent trail of each row.
 * ARGV: subscriber key prefix; the rows as JSON
 * [[email hash, [field, value, ...], trail event as JSON, lower-cased address], ...]
 * (one argument, not thousands: building and parsing per-row arguments cost more than the writes).
 */
const IMPORT_ACTIVE = new LuaScript(`
local out = {}
for r, row in ipairs(cjson.decode(ARGV[2])) do
  local hash = row[1]
  if redis.call('SISMEMBER', KEYS[4], hash) == 1 then
    out[r] = 's'
  elseif redis.call('HEXISTS', KEYS[1], hash) == 1 then
    out[r] = 'e'
  else
    local id = redis.call('INCR', KEYS[2])
    redis.call('HSET', KEYS[1], hash, id)
    redis.call('HSET', ARGV[1] .. id, 'id', id, unpack(row[2]))
    redis.call('ZADD', KEYS[3], id, id)
    redis.call('ZADD', KEYS[5], id, id)
    redis.call('ZADD', KEYS[6], 0, row[4] .. '\\0' .. id)
    redis.call('RPUSH', KEYS[6 + r], row[3])
    out[r] = 'i'
  end
end
return table.concat(out)
`);

/**
 * One page of a prefix search: address index entries from a start to the end of the prefix, kept when the id is in
 * the membership set (a status set, or all ids). At most `budget` entries are read, so a rare status under a short
 * prefix costs a bounded amount per call rather than a walk over the whole list.
 * KEYS: address index, membership zset. ARGV: start bound, prefix, limit, budget.
 * Returns {entries kept (at most limit + 1), where the next page starts: 'more' when limit + 1 were kept, the last
 * entry read when the budget ran out, '' at the end of the prefix}.
 */
const PAGE_BY_ADDRESS = new LuaScript(`
local limit = tonumber(ARGV[3])
local budget = tonumber(ARGV[4])
-- No UTF-8 text contains the byte 0xFF, so it bounds every address that starts with the prefix.
local entries = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '[' .. ARGV[2] .. '\\255', 'LIMIT', 0, budget)
local kept = {}
for _, entry in ipairs(entries) do
  local id = string.match(entry, '%z(%d+)$')
  if id and redis.call('ZSCORE', KEYS[2], id) then
    kept[#kept + 1] = entry
    if #kept > limit then return {kept, 'more'} end
  end
end
if #entries == budget then return {kept, entries[#entries]} end
return {kept, ''}
`);

/**
 * Indexes people written before the audience indexes existed: for each id that is still held, with the address it
 * still has, its status set, the all-ids set and the address index. Reads the status inside the script, so a
 * transition running meanwhile (which keeps the sets itself) is never undone with a stale status.
 * KEYS: all-ids zset, address index, the four status sets. ARGV: subscriber key prefix, then id, address pairs.
 */
const BACKFILL = new LuaScript(`${PLACE}
local n = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local row = redis.call('HMGET', ARGV[1] .. id, 'status', 'email')
  if row[1] and row[2] and string.lower(row[2]) == string.lower(ARGV[i + 1]) then
    redis.call('ZADD', KEYS[1], id, id)
    redis.call('ZADD', KEYS[2], 0, ARGV[i + 1] .. '\\0' .. id)
    place(3, id, row[1])
    n = n + 1
  end
end
return n
`);

/** Bumped when the audience indexes change shape, so a start backfills them again. */
const AUDIENCE_INDEX_VERSION = '1';

/** Address index entries one prefix-search page reads at most (see PAGE_BY_ADDRESS). */
const ADDRESS_SCAN_BUDGET = 5000;

const IMPORT_OUTCOME: Record<string, ImportOutcome> = { i: 'imported', s: 'suppressed', e: 'existing' };

/**
 * SubscriberRepository on Redis: a hash per person, the index by address hash, the active zset, the suppression
 * set, the trail lists.
 */
export class SubscriberStore implements SubscriberRepository {
  private readonly keys: Keys;

  constructor(private readonly deps: { redis: Redis; keys: Keys }) {
    this.keys = deps.keys;
  }

  private get redis() {
    return this.deps.redis;
  }

  /** The four status sets, in STATUSES order, as the scripts take them. */
  private statusKeys(): string[] {
    return STATUSES.map((status) => this.keys.subscribersWithStatus(status));
  }

  private async findIdByEmail(email: string): Promise<number | null> {
    const id = await this.redis.hget(this.keys.subscriberIndex(), emailHash(email));
    return id ? Number(id) : null;
  }

  async get(id: number): Promise<Subscriber | null> {
    const row = await this.redis.hgetall(this.keys.subscriber(id));
    return row.status ? toSubscriber(row) : null;
  }

  async getByEmail(email: string): Promise<Subscriber | null> {
    const id = await this.findIdByEmail(email);
    return id === null ? null : this.get(id);
  }

  /** Reads many subscribers in one round trip; missing (erased) ids come back as null. */
  async getMany(ids: number[]): Promise<(Subscriber | null)[]> {
    if (!ids.length) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.keys.subscriber(id));
    const results = (await pipe.exec()) ?? [];
    return results.map(([err, row]) => (err || !(row as Row).status ? null : toSubscriber(row as Row)));
  }

  async isSuppressed(email: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.suppressed(), emailHash(email))) === 1;
  }

  /**
   * Creates the subscriber with this status unless the address is known; returns the id and whether it was created.
   * The index entry is claimed with HSETNX first, so two concurrent signups of one address make one subscriber.
   */
  async create(input: NewSubscriber): Promise<{ id: number; created: boolean }> {
    const hash = emailHash(input.email);
    const existing = await this.redis.hget(this.keys.subscriberIndex(), hash);
    if (existing) return { id: Number(existing), created: false };
    const id = await this.redis.incr(this.keys.subscriberSeq());
    if (!(await this.redis.hsetnx(this.keys.subscriberIndex(), hash, String(id)))) {
      return { id: Number(await this.redis.hget(this.keys.subscriberIndex(), hash)), created: false };
    }
    const row: Row = {
      id: String(id),
      email: input.email,
      name: input.name,
      status: input.status,
      createdAt: input.now,
      updatedAt: input.now,
      ...consentFields(input.consent),
    };
    if (input.confirmedAt) row.confirmedAt = input.confirmedAt;
    await this.redis
      .multi()
      .hset(this.keys.subscriber(id), row)
      .zadd(this.keys.subscribersWithStatus(input.status), id, String(id))
      .zadd(this.keys.allSubscribers(), id, String(id))
      .zadd(this.keys.subscriberAddresses(), 0, addressEntry(input.email, id))
      .exec();
    return { id, created: true };
  }

  async renewConsent(
    id: number,
    input: { name?: string; status: SubscriberStatus; consent: ConsentEvidence; now: string },
  ): Promise<boolean> {
    const row: Row = { status: input.status, updatedAt: input.now, ...consentFields(input.consent) };
    if (input.name) row.name = input.name;
    const written = await RENEW.run(
      this.redis,
      [this.keys.subscriber(id), ...this.statusKeys()],
      [id, input.status, ...Object.entries(row).flat()],
    );
    return written === 1;
  }

  async transition(
    sub: Pick<Subscriber, 'id' | 'email'>,
    from: SubscriberStatus[],
    to: SubscriberStatus,
    changes: SubscriberChanges,
    options: { suppress?: boolean } = {},
  ): Promise<SubscriberTransition> {
    const fields = Object.entries(changes).filter((e): e is [string, string] => e[1] !== undefined);
    const args = [
      String(sub.id),
      to,
      emailHash(sub.email),
      options.suppress ? '1' : '0',
      ...from,
      '--',
      ...fields.flat(),
    ];
    const r = (await TRANSITION.run(
      this.redis,
      [this.keys.subscriber(sub.id), this.keys.suppressed(), ...this.statusKeys()],
      args,
    )) as string | null;
    return r === 'ok' ? { ok: true } : { ok: false, current: (r as SubscriberStatus) ?? null };
  }

  async erase(email: string, now: string): Promise<boolean> {
    const hash = emailHash(email);
    const id = await this.redis.hget(this.keys.subscriberIndex(), hash);
    // The address as held (its case may differ from the one given) names the person's address index entry.
    const held = id ? await this.redis.hget(this.keys.subscriber(id), 'email') : null;
    const multi = this.redis
      .multi()
      .sadd(this.keys.suppressed(), hash)
      .del(this.keys.consentTrail(hash))
      .hdel(this.keys.subscriberIndex(), hash);
    if (id) {
      multi.del(this.keys.subscriber(id)).zrem(this.keys.allSubscribers(), id);
      for (const key of this.statusKeys()) multi.zrem(key, id);
      if (held) multi.zrem(this.keys.subscriberAddresses(), addressEntry(held, id));
    }
    multi.xadd(this.keys.erasureLog(), '*', 'hash', hash, 'at', now);
    await multi.exec();
    return id !== null;
  }

  /**
   * The trail is a Redis list of JSON events, only ever pushed to: a Stream per person would cost ~4.7 KB each on
   * Redis 7 (measured), a list ~260 bytes.
   */
  async appendConsent(email: string, event: NewConsentEvent): Promise<void> {
    await this.redis.rpush(this.keys.consentTrail(emailHash(email)), trailEntry(event));
  }

  async consentTrail(email: string): Promise<ConsentEvent[]> {
    const entries = await this.redis.lrange(this.keys.consentTrail(emailHash(email)), 0, -1);
    return entries.map((json, i) => ({ id: String(i + 1), ...JSON.parse(json) }) as ConsentEvent);
  }

  async pageActiveIds(afterId: number, limit: number): Promise<number[]> {
    const ids = await this.redis.zrangebyscore(this.keys.activeSubscribers(), `(${afterId}`, '+inf', 'LIMIT', 0, limit);
    return ids.map(Number);
  }

  async countActive(): Promise<number> {
    return this.redis.zcard(this.keys.activeSubscribers());
  }

  async countActiveUpTo(maxId: number): Promise<number> {
    return this.redis.zcount(this.keys.activeSubscribers(), '-inf', maxId);
  }

  async listSubscribers(query: SubscriberListQuery): Promise<SubscriberListPage> {
    const members = query.status ? this.keys.subscribersWithStatus(query.status) : this.keys.allSubscribers();
    if (query.addressPrefix) return this.pageByAddress(members, query.addressPrefix, query);
    // One more than asked: whether it exists says if a next page does, without an empty last page.
    const ids = await this.redis.zrangebyscore(
      members,
      `(${query.after?.id ?? 0}`,
      '+inf',
      'LIMIT',
      0,
      query.limit + 1,
    );
    const page = ids.slice(0, query.limit).map(Number);
    return {
      subscribers: (await this.getMany(page)).filter((s) => s !== null),
      next: ids.length > query.limit ? { id: page[page.length - 1] } : null,
    };
  }

  private async pageByAddress(members: string, prefix: string, query: SubscriberListQuery) {
    const start = query.after?.address !== undefined ? `(${query.after.address}\0${query.after.id}` : `[${prefix}`;
    const [kept, stop] = (await PAGE_BY_ADDRESS.run(
      this.redis,
      [this.keys.subscriberAddresses(), members],
      [start, prefix, query.limit, ADDRESS_SCAN_BUDGET],
    )) as [string[], string];
    const page = kept.slice(0, query.limit).map(fromAddressEntry);
    let next: ListPosition | null = null;
    if (stop === 'more') next = page[page.length - 1];
    else if (stop) next = fromAddressEntry(stop);
    return { subscribers: (await this.getMany(page.map((p) => p.id))).filter((s) => s !== null), next };
  }

  /** One MULTI, so the four counts are of one instant: a person moving between statuses is counted once. */
  async countByStatus(): Promise<StatusCounts> {
    const multi = this.redis.multi();
    for (const key of this.statusKeys()) multi.zcard(key);
    const results = (await multi.exec()) ?? [];
    const counts = { total: 0 } as StatusCounts;
    STATUSES.forEach((status, i) => {
      const [err, n] = results[i] ?? [new Error('no reply')];
      if (err) throw err;
      counts[status] = Number(n);
      counts.total += Number(n);
    });
    return counts;
  }

  async countSuppressed(): Promise<number> {
    return this.redis.scard(this.keys.suppressed());
  }

  /**
   * Brings data written before the audience indexes existed (the status sets other than active, the all-ids set,
   * the address index) into them, once: a version key records that it was done, so later starts cost one GET.
   * Safe to run while the service runs and in several processes at once: each id is indexed by a script that reads
   * its current status, people created meanwhile are indexed by the code that creates them, and indexing twice
   * changes nothing. Returns how many people it indexed, or null when the indexes were already up to date.
   */
  async backfillAudienceIndexes(batch = 1000): Promise<number | null> {
    if ((await this.redis.get(this.keys.audienceIndexVersion())) === AUDIENCE_INDEX_VERSION) return null;
    const last = await this.lastId();
    const keys = [this.keys.allSubscribers(), this.keys.subscriberAddresses(), ...this.statusKeys()];
    let indexed = 0;
    for (let from = 1; from <= last; from += batch) {
      const ids = Array.from({ length: Math.min(batch, last - from + 1) }, (_, i) => from + i);
      const pipe = this.redis.pipeline();
      for (const id of ids) pipe.hget(this.keys.subscriber(id), 'email');
      const emails = (await pipe.exec()) ?? [];
      const args: (string | number)[] = [this.keys.subscriber('')];
      ids.forEach((id, i) => {
        const email = emails[i]?.[1];
        if (typeof email === 'string') args.push(id, email.toLowerCase());
      });
      if (args.length > 1) indexed += Number(await BACKFILL.run(this.redis, keys, args));
    }
    await this.redis.set(this.keys.audienceIndexVersion(), AUDIENCE_INDEX_VERSION);
    return indexed;
  }

  async lastId(): Promise<number> {
    return Number((await this.redis.get(this.keys.subscriberSeq())) ?? 0);
  }

  /** One atomic script per batch (IMPORT_ACTIVE). */
  async importActive(rows: ImportRow[], now: string): Promise<ImportOutcome[]> {
    if (!rows.length) return [];
    const keys = [
      this.keys.subscriberIndex(),
      this.keys.subscriberSeq(),
      this.keys.activeSubscribers(),
      this.keys.suppressed(),
      this.keys.allSubscribers(),
      this.keys.subscriberAddresses(),
    ];
    const packed: [string, string[], string, string][] = [];
    for (const row of rows) {
      const hash = emailHash(row.email);
      keys.push(this.keys.consentTrail(hash));
      const fields = Object.entries({
        email: row.email,
        name: row.name,
        status: 'active',
        createdAt: now,
        updatedAt: now,
        ...consentFields(row.consent),
      }).flat();
      const { at, ...evidence } = row.consent;
      const event = trailEntry({ type: 'imported', at: now, evidence, detail: `consent given at ${at}` });
      packed.push([hash, fields, event, row.email.toLowerCase()]);
    }
    const letters = (await IMPORT_ACTIVE.run(this.redis, keys, [
      this.keys.subscriber(''),
      JSON.stringify(packed),
    ])) as string;
    return [...letters].map((l) => IMPORT_OUTCOME[l]);
  }
}

/** A person's entry in the address index: the lower-cased address, NUL (below any address character), the id. */
function addressEntry(email: string, id: number | string): string {
  return `${email.toLowerCase()}\0${id}`;
}

function fromAddressEntry(entry: string): ListPosition {
  const nul = entry.lastIndexOf('\0');
  return { address: entry.slice(0, nul), id: Number(entry.slice(nul + 1)) };
}

function trailEntry(e: NewConsentEvent): string {
  const event: Record<string, string> = { type: e.type, at: e.at };
  for (const [k, v] of Object.entries(e.evidence ?? {})) if (v !== undefined && v !== '' && k !== 'at') event[k] = v;
  if (e.detail) event.detail = e.detail;
  return JSON.stringify(event);
}

function consentFields(c: ConsentEvidence): Row {
  return {
    consentAt: c.at,
    consentIp: c.ip,
    consentUserAgent: c.userAgent,
    consentTermsVersion: c.termsVersion,
    consentTermsHash: c.termsHash,
    consentSource: c.source,
  };
}

function toSubscriber(r: Row): Subscriber {
  return {
    id: Number(r.id),
    email: r.email,
    name: r.name ?? '',
    status: r.status as SubscriberStatus,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    confirmedAt: r.confirmedAt,
    unsubscribedAt: r.unsubscribedAt,
    bouncedAt: r.bouncedAt,
    consent: {
      at: r.consentAt,
      ip: r.consentIp,
      userAgent: r.consentUserAgent,
      termsVersion: r.consentTermsVersion,
      termsHash: r.consentTermsHash,
      source: r.consentSource,
    },
  };
}
