import type { Redis } from 'ioredis';
import { emailHash } from '../domain/email-address';
import type { ImportRow } from '../domain/import-parsers';
import type {
  ConfirmOutcome,
  ImportOutcome,
  ListPosition,
  NewConsentEvent,
  NewsletterChange,
  NewsletterChangeResult,
  RenewOutcome,
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
 * Lua shared by the scripts that read or write a person's newsletters: the record holds them as one comma-separated
 * field (`newsletters`, and `requested` for those awaiting confirmation); each newsletter's readers are the sorted
 * set `<prefix><slug>:members`, the prefix passed by the caller since the slugs come from the record.
 */
const LISTS = `
local function split(s)
  local t = {}
  if s then for slug in string.gmatch(s, '[^,]+') do t[#t + 1] = slug end end
  return t
end
local function has(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end
local function members(prefix, slug) return prefix .. slug .. ':members' end
`;

/**
 * Moves a subscriber between statuses only if it is in one of the allowed ones, and keeps the status sets (the
 * active one included), the newsletters' sets and the suppression set in step, in one atomic script so a confirm
 * racing an unsubscribe cannot leave both applied. Every move is away from active (only CONFIRM leads there), so
 * the person leaves every newsletter, and a request waiting for confirmation lapses.
 * KEYS: subscriber hash, suppressed set, the four status sets.
 * ARGV: id, to, email hash, suppress(0/1), newsletter key prefix, allowed..., '--', field, value...
 */
const TRANSITION = new LuaScript(`${PLACE}${LISTS}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
local i = 6
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
for _, slug in ipairs(split(redis.call('HGET', KEYS[1], 'newsletters'))) do
  redis.call('ZREM', members(ARGV[5], slug), ARGV[1])
end
redis.call('HDEL', KEYS[1], 'newsletters', 'requested')
redis.call('HSET', KEYS[1], 'status', ARGV[2])
place(3, ARGV[1], ARGV[2])
if ARGV[4] == '1' then redis.call('SADD', KEYS[2], ARGV[3]) end
return 'ok'
`);

/**
 * A later signup of a person who still exists (an id erased meanwhile is left alone rather than brought back as a
 * record with no address). An active person only has the newsletters they lack added to those awaiting
 * confirmation: their consent and name stay until they confirm, since anyone can type an address into a form.
 * Anyone else becomes pending with the new consent, asking for the given newsletters, plus those a pending person
 * asked for before.
 * KEYS: subscriber hash, the four status sets. ARGV: id, asked (comma-separated), field, value...
 * Returns 'renewed', 'requested', 'held' or 'missing' (RenewOutcome).
 */
const RENEW = new LuaScript(`${PLACE}${LISTS}
local row = redis.call('HMGET', KEYS[1], 'status', 'newsletters', 'requested')
if not row[1] then return 'missing' end
local held = split(row[2])
local waiting = row[1] == 'active' or row[1] == 'pending'
local requested = waiting and split(row[3]) or {}
local added = false
for _, slug in ipairs(split(ARGV[2])) do
  if not has(held, slug) then
    added = true
    if not has(requested, slug) then requested[#requested + 1] = slug end
  end
end
if row[1] == 'active' then
  if not added then return 'held' end
  redis.call('HSET', KEYS[1], 'requested', table.concat(requested, ','))
  return 'requested'
end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'status', 'pending', 'requested', table.concat(requested, ','))
place(2, ARGV[1], 'pending')
return 'renewed'
`);

/**
 * A confirmation: a pending person becomes active with the newsletters they asked for (ARGV[5] when a person from
 * before newsletters asked for none); an active person gains those waiting. Either way the address leaves the
 * suppression list. Anyone else (unsubscribed or bounced since the signup) is refused.
 * KEYS: subscriber hash, suppressed set, the four status sets.
 * ARGV: id, email hash, newsletter key prefix, now, fallback slug.
 * Returns {'confirmed', status before, joined (comma-separated), 1 when the suppression was lifted},
 * {'already'}, or {'refused', status or ''}.
 */
const CONFIRM = new LuaScript(`${PLACE}${LISTS}
local row = redis.call('HMGET', KEYS[1], 'status', 'newsletters', 'requested')
local status = row[1]
if not status then return {'refused', ''} end
local held = split(row[2])
local asked = split(row[3])
if status == 'active' and #asked == 0 then return {'already'} end
if status ~= 'pending' and status ~= 'active' then return {'refused', status} end
if #held == 0 and #asked == 0 then asked = {ARGV[5]} end
local joined = {}
for _, slug in ipairs(asked) do
  if not has(held, slug) then
    held[#held + 1] = slug
    joined[#joined + 1] = slug
    redis.call('ZADD', members(ARGV[3], slug), ARGV[1], ARGV[1])
  end
end
redis.call('HDEL', KEYS[1], 'requested')
redis.call('HSET', KEYS[1], 'status', 'active', 'newsletters', table.concat(held, ','), 'confirmedAt', ARGV[4],
  'updatedAt', ARGV[4])
place(3, ARGV[1], 'active')
return {'confirmed', status, table.concat(joined, ','), redis.call('SREM', KEYS[2], ARGV[2])}
`);

/**
 * Adds and drops newsletters of an active person; refuses to leave them in none (leaving all is an unsubscribe,
 * with its own trail event and counter). A newsletter joined or dropped here no longer awaits confirmation.
 * KEYS: subscriber hash. ARGV: id, newsletter key prefix, join (comma-separated), leave (comma-separated), now.
 * Returns {outcome, newsletters after, joined, left}, the lists comma-separated (NewsletterChangeResult).
 */
const CHANGE = new LuaScript(`${LISTS}
local row = redis.call('HMGET', KEYS[1], 'status', 'newsletters', 'requested')
if row[1] ~= 'active' then return {'not_active', row[1] or ''} end
local held = split(row[2])
local join = split(ARGV[3])
local leave = split(ARGV[4])
local after, joined, left = {}, {}, {}
for _, slug in ipairs(held) do
  if has(leave, slug) then left[#left + 1] = slug else after[#after + 1] = slug end
end
for _, slug in ipairs(join) do
  if not has(after, slug) and not has(leave, slug) then
    if not has(held, slug) then joined[#joined + 1] = slug end
    after[#after + 1] = slug
  end
end
if #after == 0 then return {'would_empty', row[2]} end
if #joined == 0 and #left == 0 then return {'unchanged', row[2]} end
for _, slug in ipairs(joined) do redis.call('ZADD', members(ARGV[2], slug), ARGV[1], ARGV[1]) end
for _, slug in ipairs(left) do redis.call('ZREM', members(ARGV[2], slug), ARGV[1]) end
local requested = {}
for _, slug in ipairs(split(row[3])) do
  if not has(join, slug) and not has(leave, slug) then requested[#requested + 1] = slug end
end
if #requested == 0 then redis.call('HDEL', KEYS[1], 'requested')
else redis.call('HSET', KEYS[1], 'requested', table.concat(requested, ',')) end
redis.call('HSET', KEYS[1], 'newsletters', table.concat(after, ','), 'updatedAt', ARGV[5])
return {'changed', table.concat(after, ','), table.concat(joined, ','), table.concat(left, ',')}
`);

/**
 * Imports a batch in one atomic round trip. Per row, in order (so a repeat within the batch finds its first
 * occurrence): skip a suppressed hash ('s'); give an active person without the newsletter the newsletter, with
 * the join event in the trail ('j'); skip any other hash already in the index whatever its status ('e', so an
 * unsubscribed person is never brought back); else take an id, index it, write the hash, add it to the active
 * set, the newsletter's set, the set of all ids and the address index, and append the trail event ('i').
 * Returns one letter a row.
 * KEYS: index, id seq, active zset, suppressed set, all-ids zset, address index, the newsletter's members, then the
 * consent trail of each row.
 * ARGV: subscriber key prefix; the rows as JSON
 * [[email hash, [field, value, ...], trail event as JSON, lower-cased address, join event as JSON], ...]
 * (one argument, not thousands: building and parsing per-row arguments cost more than the writes); the slug.
 */
const IMPORT_ACTIVE = new LuaScript(`${LISTS}
local out = {}
for r, row in ipairs(cjson.decode(ARGV[2])) do
  local hash = row[1]
  local known = redis.call('HGET', KEYS[1], hash)
  if redis.call('SISMEMBER', KEYS[4], hash) == 1 then
    out[r] = 's'
  elseif known then
    out[r] = 'e'
    local held = redis.call('HMGET', ARGV[1] .. known, 'status', 'newsletters')
    if held[1] == 'active' and not has(split(held[2]), ARGV[3]) then
      redis.call('HSET', ARGV[1] .. known, 'newsletters', held[2] .. ',' .. ARGV[3])
      redis.call('ZADD', KEYS[7], known, known)
      redis.call('RPUSH', KEYS[7 + r], row[5])
      out[r] = 'j'
    end
  else
    local id = redis.call('INCR', KEYS[2])
    redis.call('HSET', KEYS[1], hash, id)
    redis.call('HSET', ARGV[1] .. id, 'id', id, unpack(row[2]))
    redis.call('ZADD', KEYS[3], id, id)
    redis.call('ZADD', KEYS[5], id, id)
    redis.call('ZADD', KEYS[6], 0, row[4] .. '\\0' .. id)
    redis.call('ZADD', KEYS[7], id, id)
    redis.call('RPUSH', KEYS[7 + r], row[3])
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

const IMPORT_OUTCOME: Record<string, ImportOutcome> = { i: 'imported', j: 'joined', s: 'suppressed', e: 'existing' };

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
    // A failed read (Redis restarting, a failover) must fail the caller, never read as "no such subscriber": the
    // delivery engine records a missing reader as skipped for good.
    return results.map(([err, row]) => {
      if (err) throw err;
      return (row as Row).status ? toSubscriber(row as Row) : null;
    });
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
    const active = input.status === 'active';
    const newsletters = [...new Set(input.newsletters)];
    if (newsletters.length) row[active ? 'newsletters' : 'requested'] = newsletters.join(',');
    const multi = this.redis
      .multi()
      .hset(this.keys.subscriber(id), row)
      .zadd(this.keys.subscribersWithStatus(input.status), id, String(id))
      .zadd(this.keys.allSubscribers(), id, String(id))
      .zadd(this.keys.subscriberAddresses(), 0, addressEntry(input.email, id));
    if (active) for (const slug of newsletters) multi.zadd(this.keys.newsletterMembers(slug), id, String(id));
    await multi.exec();
    return { id, created: true };
  }

  async renewConsent(
    id: number,
    input: { name?: string; consent: ConsentEvidence; now: string; newsletters: string[] },
  ): Promise<RenewOutcome> {
    const row: Row = { updatedAt: input.now, ...consentFields(input.consent) };
    if (input.name) row.name = input.name;
    return (await RENEW.run(
      this.redis,
      [this.keys.subscriber(id), ...this.statusKeys()],
      [id, input.newsletters.join(','), ...Object.entries(row).flat()],
    )) as RenewOutcome;
  }

  async confirm(id: number, now: string, fallback: string): Promise<ConfirmOutcome> {
    const email = await this.redis.hget(this.keys.subscriber(id), 'email');
    if (email === null) return { outcome: 'refused', current: null };
    const [outcome, was, joined, lifted] = (await CONFIRM.run(
      this.redis,
      [this.keys.subscriber(id), this.keys.suppressed(), ...this.statusKeys()],
      [id, emailHash(email), this.keys.newsletterKeyPrefix(), now, fallback],
    )) as [string, string?, string?, number?];
    if (outcome === 'already') return { outcome: 'already_confirmed' };
    if (outcome === 'refused') return { outcome: 'refused', current: (was as SubscriberStatus) || null };
    return {
      outcome: 'confirmed',
      was: was as SubscriberStatus,
      joined: slugs(joined),
      liftedSuppression: lifted === 1,
    };
  }

  async changeNewsletters(id: number, change: NewsletterChange, now: string): Promise<NewsletterChangeResult> {
    const [outcome, after, joined, left] = (await CHANGE.run(
      this.redis,
      [this.keys.subscriber(id)],
      [id, this.keys.newsletterKeyPrefix(), change.join.join(','), change.leave.join(','), now],
    )) as [NewsletterChangeResult['outcome'], string, string?, string?];
    switch (outcome) {
      case 'not_active':
        return { outcome, current: (after as SubscriberStatus) || null };
      case 'changed':
        return { outcome, newsletters: slugs(after), joined: slugs(joined), left: slugs(left) };
      default:
        return { outcome, newsletters: slugs(after) };
    }
  }

  async transition(
    sub: Pick<Subscriber, 'id' | 'email'>,
    from: SubscriberStatus[],
    to: SubscriberStatus,
    changes: SubscriberChanges,
    options: { suppress?: boolean } = {},
  ): Promise<SubscriberTransition> {
    if (to === 'active') throw new Error('only a confirmation makes a person active (SubscriberRepository.confirm)');
    const fields = Object.entries(changes).filter((e): e is [string, string] => e[1] !== undefined);
    const args = [
      String(sub.id),
      to,
      emailHash(sub.email),
      options.suppress ? '1' : '0',
      this.keys.newsletterKeyPrefix(),
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
    const [held, newsletters] = id ? await this.redis.hmget(this.keys.subscriber(id), 'email', 'newsletters') : [];
    const multi = this.redis
      .multi()
      .sadd(this.keys.suppressed(), hash)
      .del(this.keys.consentTrail(hash))
      .hdel(this.keys.subscriberIndex(), hash);
    if (id) {
      multi.del(this.keys.subscriber(id)).zrem(this.keys.allSubscribers(), id);
      for (const key of this.statusKeys()) multi.zrem(key, id);
      if (held) multi.zrem(this.keys.subscriberAddresses(), addressEntry(held, id));
      for (const slug of slugs(newsletters)) multi.zrem(this.keys.newsletterMembers(slug), id);
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

  async pageMemberIds(newsletter: string, afterId: number, limit: number): Promise<number[]> {
    const members = this.keys.newsletterMembers(newsletter);
    return (await this.redis.zrangebyscore(members, `(${afterId}`, '+inf', 'LIMIT', 0, limit)).map(Number);
  }

  async countMembers(newsletter: string, maxId?: number): Promise<number> {
    return this.redis.zcount(this.keys.newsletterMembers(newsletter), '-inf', maxId ?? '+inf');
  }

  async listSubscribers(query: SubscriberListQuery): Promise<SubscriberListPage> {
    // A newsletter's readers are all active: with another status asked for as well, nobody is both.
    if (query.newsletter && query.status && query.status !== 'active') return { subscribers: [], next: null };
    const members = query.newsletter
      ? this.keys.newsletterMembers(query.newsletter)
      : query.status
        ? this.keys.subscribersWithStatus(query.status)
        : this.keys.allSubscribers();
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
  async importActive(rows: ImportRow[], now: string, newsletter: string): Promise<ImportOutcome[]> {
    if (!rows.length) return [];
    const keys = [
      this.keys.subscriberIndex(),
      this.keys.subscriberSeq(),
      this.keys.activeSubscribers(),
      this.keys.suppressed(),
      this.keys.allSubscribers(),
      this.keys.subscriberAddresses(),
      this.keys.newsletterMembers(newsletter),
    ];
    const packed: [string, string[], string, string, string][] = [];
    for (const row of rows) {
      const hash = emailHash(row.email);
      keys.push(this.keys.consentTrail(hash));
      const fields = Object.entries({
        email: row.email,
        name: row.name,
        status: 'active',
        newsletters: newsletter,
        createdAt: now,
        updatedAt: now,
        ...consentFields(row.consent),
      }).flat();
      const { at, ...evidence } = row.consent;
      const detail = `newsletter ${newsletter}; consent given at ${at}`;
      const event = trailEntry({ type: 'imported', at: now, evidence, detail });
      const joined = trailEntry({
        type: 'newsletters_changed',
        at: now,
        evidence,
        detail: `imported: joined ${newsletter}`,
      });
      packed.push([hash, fields, event, row.email.toLowerCase(), joined]);
    }
    const letters = (await IMPORT_ACTIVE.run(this.redis, keys, [
      this.keys.subscriber(''),
      JSON.stringify(packed),
      newsletter,
    ])) as string;
    return [...letters].map((l) => IMPORT_OUTCOME[l]);
  }
}

/** A comma-separated list of slugs as the record and the scripts hold it. */
function slugs(list: string | null | undefined): string[] {
  return list ? list.split(',') : [];
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
    newsletters: slugs(r.newsletters),
    requestedNewsletters: slugs(r.requested),
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
