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
import { SUBSCRIBER_BUCKET, type Keys } from './keys';
import { LuaScript } from './lua-script';
import {
  codesOf,
  decodeRecord,
  decodeTrail,
  encodeConsent,
  encodeEvent,
  encodeRecord,
  encodeTime,
  LUA_POSITIONS,
  STATUS_CODE,
  TIME_POSITION,
  type Record as RecordTuple,
  type TrailEvent,
} from './subscriber-record';

/** Every status, in the order their bitmaps are passed to the scripts (KEYS[6] to KEYS[9]). */
const STATUSES: SubscriberStatus[] = ['pending', 'active', 'unsubscribed', 'bounced'];
const STATUS_OF_CODE = Object.fromEntries(STATUSES.map((s) => [STATUS_CODE[s], s])) as Record<string, SubscriberStatus>;

/**
 * What every script below starts with. All get the same KEYS: 1 the strings table, 2 the id sequence, 3 the address
 * index, 4 the suppressed set, 5 the all-ids bitmap, 6-9 the status bitmaps (STATUSES order), 10 the erasure log;
 * and ARGV[1] the record bucket prefix, ARGV[2] the newsletter key prefix (buckets and readers' bitmaps are named
 * from the ids and the slugs the records hold). Records are the arrays of subscriber-record.ts.
 */
const PRELUDE = `${LUA_POSITIONS}
local BUCKET = ${SUBSCRIBER_BUCKET}
local CODES = {${STATUSES.map((s) => `'${STATUS_CODE[s]}'`).join(', ')}}
local function bucket(id) return ARGV[1] .. math.floor(tonumber(id) / BUCKET) end
local function load(id)
  local s = redis.call('HGET', bucket(id), id)
  if not s then return nil end
  return cjson.decode(s)
end
local function save(id, rec) redis.call('HSET', bucket(id), id, cjson.encode(rec)) end
-- Sets the id in the bitmap of its status and clears it in the three others.
local function place(id, code)
  for i, c in ipairs(CODES) do redis.call('SETBIT', KEYS[5 + i], id, c == code and 1 or 0) end
end
local function readers(slug) return ARGV[2] .. slug .. ':readers' end
local function split(s)
  local t = {}
  if type(s) == 'string' then for slug in string.gmatch(s, '[^,]+') do t[#t + 1] = slug end end
  return t
end
local function has(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end
-- The id held for a lower-cased address: its entry is "<address>\\0<id>", and no address contains NUL.
local function findId(addr)
  local hit = redis.call('ZRANGEBYLEX', KEYS[3], '[' .. addr .. '\\0', '[' .. addr .. '\\0\\255', 'LIMIT', 0, 1)
  if hit[1] then return tonumber(string.sub(hit[1], #addr + 2)) end
  return nil
end
-- The id and record JSON held for a lower-cased address, or nothing.
local function held(addr)
  local id = findId(addr)
  if not id then return nil end
  local rec = redis.call('HGET', bucket(id), id)
  if not rec then return nil end
  return id, rec
end
-- A string many records share becomes its code in the strings table (assigned on first sight, never changed).
local interned = {}
local function intern(v)
  if type(v) ~= 'string' or v == '' then return v end
  if interned[v] then return interned[v] end
  local c = redis.call('HGET', KEYS[1], '=' .. v)
  if not c then
    c = redis.call('HINCRBY', KEYS[1], '#', 1)
    redis.call('HSET', KEYS[1], '=' .. v, c, '#' .. c, v)
  end
  interned[v] = tonumber(c)
  return interned[v]
end
local function internConsent(c)
  for i = 3, 5 do c[i] = intern(c[i]) end
  return c
end
local function internEvent(e)
  if type(e[3]) == 'table' then for i = 2, 4 do e[3][i] = intern(e[3][i]) end end
  return e
end
-- Appends an event, its time '' when it is the record's creation time and its evidence 1 when it is the record's
-- consent's (see subscriber-record.ts).
local function append(rec, event)
  if type(rec[R_TRAIL]) ~= 'table' then rec[R_TRAIL] = {} end
  local trail = rec[R_TRAIL]
  internEvent(event)
  if event[2] == rec[R_CREATED] then event[2] = '' end
  local ev, c = event[3], rec[R_CONSENT]
  if type(ev) == 'table' and ev[1] == c[2] and ev[2] == c[3] and ev[3] == c[4] and ev[4] == c[5] then event[3] = 1 end
  trail[#trail + 1] = event
end
-- Before the consent changes, the events that refer to it get its values of their own.
local function detachConsent(rec)
  if type(rec[R_TRAIL]) ~= 'table' then return end
  local c = rec[R_CONSENT]
  for _, e in ipairs(rec[R_TRAIL]) do
    if e[3] == 1 then e[3] = {c[2], c[3], c[4], c[5]} end
  end
end
`;

/**
 * Creates a person unless the address is held, in one round trip: claims the address in the index, writes the
 * record, sets the id's bits. ARGV: 3 lower-cased address, 4 the record (JSON). Returns {id, 1 when created}.
 */
const CREATE = new LuaScript(`${PRELUDE}
local known = findId(ARGV[3])
if known then return {known, 0} end
local rec = cjson.decode(ARGV[4])
local id = redis.call('INCR', KEYS[2])
internConsent(rec[R_CONSENT])
if type(rec[R_TRAIL]) == 'table' then for _, e in ipairs(rec[R_TRAIL]) do internEvent(e) end end
save(id, rec)
redis.call('SETBIT', KEYS[5], id, 1)
place(id, rec[R_STATUS])
redis.call('ZADD', KEYS[3], 0, ARGV[3] .. '\\0' .. id)
if rec[R_STATUS] == 'a' then
  for _, slug in ipairs(split(rec[R_NEWS])) do redis.call('SETBIT', readers(slug), id, 1) end
end
return {id, 1}
`);

/** ARGV: 3 lower-cased address. Returns {id, record JSON} or false. */
const BY_ADDRESS = new LuaScript(`${PRELUDE}
local id, rec = held(ARGV[3])
if not id then return false end
return {id, rec}
`);

/**
 * A signup's two questions about an address in one call: whether it is suppressed, and who holds it.
 * ARGV: 3 lower-cased address, 4 its hash. Returns {suppressed (0/1)} or {suppressed, id, record JSON}.
 */
const ADDRESS_LOOKUP = new LuaScript(`${PRELUDE}
local suppressed = redis.call('SISMEMBER', KEYS[4], ARGV[4])
local id, rec = held(ARGV[3])
if not id then return {suppressed} end
return {suppressed, id, rec}
`);

/**
 * Moves a subscriber between statuses only if it is in one of the allowed ones, and keeps the status bitmaps, the
 * newsletters' bitmaps and the suppression set in step, in one atomic script so a confirm racing an unsubscribe
 * cannot leave both applied. Every move is away from active (only CONFIRM leads there), so the person leaves every
 * newsletter, and a request waiting for confirmation lapses.
 * ARGV: 3 id, 4 to (code), 5 email hash, 6 suppress (0/1), 7 the allowed codes, 8 {position: time} (JSON).
 * Returns 'ok', or the status code found, or false.
 */
const TRANSITION = new LuaScript(`${PRELUDE}
local id = ARGV[3]
local rec = load(id)
if not rec then return false end
if not string.find(ARGV[7], rec[R_STATUS], 1, true) then return rec[R_STATUS] end
for pos, v in pairs(cjson.decode(ARGV[8])) do rec[tonumber(pos)] = v end
for _, slug in ipairs(split(rec[R_NEWS])) do redis.call('SETBIT', readers(slug), id, 0) end
rec[R_NEWS] = ''
rec[R_REQ] = ''
rec[R_STATUS] = ARGV[4]
save(id, rec)
place(id, ARGV[4])
if ARGV[6] == '1' then redis.call('SADD', KEYS[4], ARGV[5]) end
return 'ok'
`);

/**
 * A later signup of a person who still exists (an id erased meanwhile is left alone rather than brought back). An
 * active person only has the newsletters they lack added to those awaiting confirmation: their consent and name
 * stay until they confirm, since anyone can type an address into a form. Anyone else becomes pending with the new
 * consent, asking for the given newsletters, plus those a pending person asked for before.
 * ARGV: 3 id, 4 asked (comma-separated), 5 [updatedAt, consent, name or ''] (JSON).
 * Returns 'renewed', 'requested', 'held' or 'missing' (RenewOutcome).
 */
const RENEW = new LuaScript(`${PRELUDE}
local id = ARGV[3]
local rec = load(id)
if not rec then return 'missing' end
local status = rec[R_STATUS]
local held = split(rec[R_NEWS])
local waiting = status == 'a' or status == 'p'
local requested = waiting and split(rec[R_REQ]) or {}
local added = false
for _, slug in ipairs(split(ARGV[4])) do
  if not has(held, slug) then
    added = true
    if not has(requested, slug) then requested[#requested + 1] = slug end
  end
end
if status == 'a' then
  if not added then return 'held' end
  rec[R_REQ] = table.concat(requested, ',')
  save(id, rec)
  return 'requested'
end
local input = cjson.decode(ARGV[5])
rec[R_UPDATED] = input[1]
detachConsent(rec)
rec[R_CONSENT] = internConsent(input[2])
if input[3] ~= '' then rec[R_NAME] = input[3] end
rec[R_STATUS] = 'p'
rec[R_REQ] = table.concat(requested, ',')
save(id, rec)
place(id, 'p')
return 'renewed'
`);

/**
 * A confirmation: a pending person becomes active with the newsletters they asked for (the fallback when a person
 * from before newsletters asked for none); an active person gains those waiting. Either way the address leaves the
 * suppression list. Anyone else (unsubscribed or bounced since the signup) is refused.
 * ARGV: 3 id, 4 email hash, 5 [now, fallback slug] (JSON).
 * Returns {'confirmed', status code before, joined (comma-separated), 1 when the suppression was lifted},
 * {'already'}, or {'refused', status code or ''}.
 */
const CONFIRM = new LuaScript(`${PRELUDE}
local id = ARGV[3]
local rec = load(id)
if not rec then return {'refused', ''} end
local status = rec[R_STATUS]
local held = split(rec[R_NEWS])
local asked = split(rec[R_REQ])
if status == 'a' and #asked == 0 then return {'already'} end
if status ~= 'p' and status ~= 'a' then return {'refused', status} end
local input = cjson.decode(ARGV[5])
if #held == 0 and #asked == 0 then asked = {input[2]} end
local joined = {}
for _, slug in ipairs(asked) do
  if not has(held, slug) then
    held[#held + 1] = slug
    joined[#joined + 1] = slug
    redis.call('SETBIT', readers(slug), id, 1)
  end
end
rec[R_REQ] = ''
rec[R_STATUS] = 'a'
rec[R_NEWS] = table.concat(held, ',')
rec[R_CONFIRMED] = input[1]
rec[R_UPDATED] = input[1]
save(id, rec)
place(id, 'a')
return {'confirmed', status, table.concat(joined, ','), redis.call('SREM', KEYS[4], ARGV[4])}
`);

/**
 * Adds and drops newsletters of an active person; refuses to leave them in none (leaving all is an unsubscribe,
 * with its own trail event and counter). A newsletter joined or dropped here no longer awaits confirmation.
 * ARGV: 3 id, 4 join (comma-separated), 5 leave (comma-separated), 6 [now] (JSON).
 * Returns {outcome, newsletters after, joined, left}, the lists comma-separated (NewsletterChangeResult), or
 * {'not_active', status code or ''}.
 */
const CHANGE = new LuaScript(`${PRELUDE}
local id = ARGV[3]
local rec = load(id)
if not rec or rec[R_STATUS] ~= 'a' then return {'not_active', rec and rec[R_STATUS] or ''} end
local held = split(rec[R_NEWS])
local join = split(ARGV[4])
local leave = split(ARGV[5])
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
if #after == 0 then return {'would_empty', rec[R_NEWS]} end
if #joined == 0 and #left == 0 then return {'unchanged', rec[R_NEWS]} end
for _, slug in ipairs(joined) do redis.call('SETBIT', readers(slug), id, 1) end
for _, slug in ipairs(left) do redis.call('SETBIT', readers(slug), id, 0) end
local requested = {}
for _, slug in ipairs(split(rec[R_REQ])) do
  if not has(join, slug) and not has(leave, slug) then requested[#requested + 1] = slug end
end
rec[R_REQ] = table.concat(requested, ',')
rec[R_NEWS] = table.concat(after, ',')
rec[R_UPDATED] = cjson.decode(ARGV[6])[1]
save(id, rec)
return {'changed', rec[R_NEWS], table.concat(joined, ','), table.concat(left, ',')}
`);

/**
 * Erases the person held on an address (record with its trail, index entry, bits) and suppresses the address by
 * its hash, with a line in the erasure log. ARGV: 3 lower-cased address, 4 its hash, 5 now. Returns 1 when a person
 * was held.
 */
const ERASE = new LuaScript(`${PRELUDE}
local id = findId(ARGV[3])
redis.call('SADD', KEYS[4], ARGV[4])
if id then
  local rec = load(id)
  if rec then
    for _, slug in ipairs(split(rec[R_NEWS])) do redis.call('SETBIT', readers(slug), id, 0) end
  end
  redis.call('HDEL', bucket(id), id)
  for i = 5, 9 do redis.call('SETBIT', KEYS[i], id, 0) end
  redis.call('ZREM', KEYS[3], ARGV[3] .. '\\0' .. id)
end
redis.call('XADD', KEYS[10], '*', 'hash', ARGV[4], 'at', ARGV[5])
return id and 1 or 0
`);

/** Appends an event to the trail of the person held on an address. ARGV: 3 lower-cased address, 4 the event. */
const APPEND = new LuaScript(`${PRELUDE}
local id = findId(ARGV[3])
if not id then return 0 end
local rec = load(id)
if not rec then return 0 end
append(rec, cjson.decode(ARGV[4]))
save(id, rec)
return 1
`);

/**
 * Takes one confirmation mail of a person's hourly allowance, counted in the record (window start, count) rather
 * than in a key of its own that expires: ~100 bytes per signup less, and nothing per person that Redis must expire.
 * ARGV: 3 id, 4 now (ms), 5 mails per window, 6 window (ms). Returns 1 when allowed (a person no longer held is).
 */
const TAKE_MAIL = new LuaScript(`${PRELUDE}
local rec = load(ARGV[3])
if not rec then return 1 end
local now = tonumber(ARGV[4])
local m = rec[R_MAILS]
if type(m) ~= 'table' or now - m[1] >= tonumber(ARGV[6]) or now < m[1] then m = {now, 0} end
if m[2] >= tonumber(ARGV[5]) then return 0 end
m[2] = m[2] + 1
rec[R_MAILS] = m
save(ARGV[3], rec)
return 1
`);

/**
 * Imports a batch in one atomic round trip. Per row, in order (so a repeat within the batch finds its first
 * occurrence): skip a suppressed hash ('s'); give an active person without the newsletter the newsletter, with
 * the join event in the trail ('j'); skip any other address already held whatever its status ('e', so an
 * unsubscribed person is never brought back); else take an id, write the record (its trail holds the imported
 * event), set its bits and index the address ('i'). Returns one letter a row.
 * ARGV: 3 the slug; 4 the rows as JSON [[email hash, lower-cased address, record, join event], ...] (one argument,
 * not thousands: building and parsing per-row arguments cost more than the writes).
 */
const IMPORT_ACTIVE = new LuaScript(`${PRELUDE}
local slug = ARGV[3]
local members = readers(slug)
local out = {}
for r, row in ipairs(cjson.decode(ARGV[4])) do
  if redis.call('SISMEMBER', KEYS[4], row[1]) == 1 then
    out[r] = 's'
  else
    local known = findId(row[2])
    if known then
      out[r] = 'e'
      local rec = load(known)
      if rec and rec[R_STATUS] == 'a' and not has(split(rec[R_NEWS]), slug) then
        rec[R_NEWS] = rec[R_NEWS] == '' and slug or (rec[R_NEWS] .. ',' .. slug)
        redis.call('SETBIT', members, known, 1)
        append(rec, row[4])
        save(known, rec)
        out[r] = 'j'
      end
    else
      local id = redis.call('INCR', KEYS[2])
      local rec = row[3]
      internConsent(rec[R_CONSENT])
      for _, e in ipairs(rec[R_TRAIL]) do internEvent(e) end
      save(id, rec)
      redis.call('SETBIT', KEYS[5], id, 1)
      redis.call('SETBIT', KEYS[7], id, 1)
      redis.call('SETBIT', members, id, 1)
      redis.call('ZADD', KEYS[3], 0, row[2] .. '\\0' .. id)
      out[r] = 'i'
    end
  end
end
return table.concat(out)
`);

/**
 * Writes people converted from the layout before compact records (migration 4): the record, the bits, the address
 * index entry. Writing one twice changes nothing, so a migration that died half-way can run again.
 * ARGV: 3 [[id, lower-cased address, record], ...] (JSON). Returns how many were written.
 */
const PUT_CONVERTED = new LuaScript(`${PRELUDE}
local rows = cjson.decode(ARGV[3])
for _, row in ipairs(rows) do
  local id, rec = row[1], row[3]
  internConsent(rec[R_CONSENT])
  if type(rec[R_TRAIL]) == 'table' then for _, e in ipairs(rec[R_TRAIL]) do internEvent(e) end end
  save(id, rec)
  redis.call('SETBIT', KEYS[5], id, 1)
  place(id, rec[R_STATUS])
  if rec[R_STATUS] == 'a' then
    for _, slug in ipairs(split(rec[R_NEWS])) do redis.call('SETBIT', readers(slug), id, 1) end
  end
  redis.call('ZADD', KEYS[3], 0, row[2] .. '\\0' .. id)
end
return #rows
`);

/**
 * One page of a prefix search: address index entries from a start to the end of the prefix, kept when the id's
 * bit is set in the membership bitmap (a status, a newsletter's readers, or all ids). At most `budget` entries are
 * read, so a rare status under a short prefix costs a bounded amount per call rather than a walk over the whole list.
 * KEYS: address index, membership bitmap. ARGV: start bound, prefix, limit, budget.
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
  if id and redis.call('GETBIT', KEYS[2], id) == 1 then
    kept[#kept + 1] = entry
    if #kept > limit then return {kept, 'more'} end
  end
end
if #entries == budget then return {kept, entries[#entries]} end
return {kept, ''}
`);

/**
 * The bytes of a bitmap from the first set bit at or after a byte: {that byte, up to ARGV[2] bytes}, or {-1, ''}.
 * BITPOS skips long empty stretches (a newsletter few read) in Redis rather than over the wire.
 * KEYS: the bitmap. ARGV: start byte, bytes.
 */
const BITS_FROM = new LuaScript(`
local pos = redis.call('BITPOS', KEYS[1], 1, ARGV[1])
if pos < 0 then return {-1, ''} end
local byte = math.floor(pos / 8)
return {byte, redis.call('GETRANGE', KEYS[1], byte, byte + tonumber(ARGV[2]) - 1)}
`);

/** Bitmap bytes one BITS_FROM call reads: 32,768 ids, a few KB over loopback. */
const BITMAP_CHUNK = 4096;

/** Address index entries one prefix-search page reads at most (see PAGE_BY_ADDRESS). */
const ADDRESS_SCAN_BUDGET = 5000;

const IMPORT_OUTCOME: { [letter: string]: ImportOutcome } = {
  i: 'imported',
  j: 'joined',
  s: 'suppressed',
  e: 'existing',
};

/**
 * SubscriberRepository on Redis: compact records (with their consent trails) in bucket hashes, the address index
 * (the one unique index), bitmaps of ids by status, of all ids and of each newsletter's readers, the strings table,
 * the suppression set of address hashes and the erasure log. See subscriber-record.ts and Keys.
 */
export class SubscriberStore implements SubscriberRepository {
  private readonly keys: Keys;
  /**
   * Strings table codes already read: a code never changes meaning under a prefix (the table is append only), so
   * the delivery path's getMany resolves them from memory, reading Redis only for codes it has not seen.
   */
  private readonly strings = new Map<number, string>();

  /** The KEYS and leading ARGV every record script takes (see PRELUDE): fixed for the prefix, so built once. */
  private readonly scriptKeys: string[];
  private readonly scriptPrefixes: string[];

  constructor(private readonly deps: { redis: Redis; keys: Keys }) {
    const k = (this.keys = deps.keys);
    this.scriptKeys = [
      k.subscriberStrings(),
      k.subscriberSeq(),
      k.subscriberAddresses(),
      k.suppressed(),
      k.allSubscribers(),
      ...STATUSES.map((status) => k.subscribersWithStatus(status)),
      k.erasureLog(),
    ];
    this.scriptPrefixes = [k.subscriberBucketPrefix(), k.newsletterKeyPrefix()];
  }

  private get redis() {
    return this.deps.redis;
  }

  /** Runs a record script with its ARGV after the two prefixes. */
  private run(script: LuaScript, ...args: (string | number)[]): Promise<unknown> {
    return script.run(this.redis, this.scriptKeys, [...this.scriptPrefixes, ...args]);
  }

  /** Fills the strings cache with the codes these records use that it lacks. */
  private async resolve(records: RecordTuple[]): Promise<void> {
    const codes = new Set<number>();
    for (const r of records) codesOf(r, codes);
    const missing = [...codes].filter((c) => !this.strings.has(c));
    if (!missing.length) return;
    const texts = await this.redis.hmget(this.keys.subscriberStrings(), ...missing.map((c) => `#${c}`));
    missing.forEach((c, i) => {
      const t = texts[i];
      if (t === null) throw new Error(`subscriber records refer to string ${c}, missing from the strings table`);
      this.strings.set(c, t);
    });
  }

  private readonly lookup = (code: number): string => this.strings.get(code) as string;

  private async decode(id: number, json: string | null): Promise<Subscriber | null> {
    if (json === null) return null;
    const rec = JSON.parse(json) as RecordTuple;
    await this.resolve([rec]);
    return decodeRecord(id, rec, this.lookup);
  }

  async get(id: number): Promise<Subscriber | null> {
    return this.decode(id, await this.redis.hget(this.keys.subscriberBucket(id), String(id)));
  }

  /** The id and record held on an address (matched case-insensitively). */
  private async byAddress(email: string): Promise<[number, RecordTuple] | null> {
    const found = (await this.run(BY_ADDRESS, email.toLowerCase())) as [number, string] | null;
    return found ? [Number(found[0]), JSON.parse(found[1]) as RecordTuple] : null;
  }

  async getByEmail(email: string): Promise<Subscriber | null> {
    const found = await this.byAddress(email);
    if (!found) return null;
    await this.resolve([found[1]]);
    return decodeRecord(found[0], found[1], this.lookup);
  }

  /**
   * Reads many subscribers in one round trip (an HMGET per bucket: a delivery batch of consecutive ids is one or
   * two); missing (erased) ids come back as null.
   */
  async getMany(ids: number[]): Promise<(Subscriber | null)[]> {
    if (!ids.length) return [];
    const buckets = new Map<string, number[]>();
    for (const id of ids) {
      const key = this.keys.subscriberBucket(id);
      const list = buckets.get(key);
      if (list) list.push(id);
      else buckets.set(key, [id]);
    }
    const pipe = this.redis.pipeline();
    for (const [key, list] of buckets) pipe.hmget(key, ...list.map(String));
    const results = (await pipe.exec()) ?? [];
    // A failed read (Redis restarting, a failover) must fail the caller, never read as "no such subscriber": the
    // delivery engine records a missing reader as skipped for good.
    const json = new Map<number, string | null>();
    [...buckets.values()].forEach((list, i) => {
      const [err, values] = results[i] ?? [new Error('no reply')];
      if (err) throw err;
      list.forEach((id, j) => json.set(id, (values as (string | null)[])[j]));
    });
    const records = ids.map((id) => {
      const text = json.get(id);
      return text ? (JSON.parse(text) as RecordTuple) : null;
    });
    await this.resolve(records.filter((r) => r !== null));
    return records.map((r, i) => (r ? decodeRecord(ids[i], r, this.lookup) : null));
  }

  async findForSignup(email: string): Promise<{ subscriber: Subscriber | null; suppressed: boolean }> {
    const [flag, id, json] = (await this.run(ADDRESS_LOOKUP, email.toLowerCase(), emailHash(email))) as [
      number,
      number?,
      string?,
    ];
    return { subscriber: await this.decode(Number(id), json ?? null), suppressed: flag === 1 };
  }

  async isSuppressed(email: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.suppressed(), emailHash(email))) === 1;
  }

  /**
   * Creates the subscriber with this status unless the address is known; returns the id and whether it was created.
   * One script claims the address and writes everything, so two concurrent signups of one address make one person.
   */
  async create(input: NewSubscriber): Promise<{ id: number; created: boolean }> {
    const active = input.status === 'active';
    const newsletters = [...new Set(input.newsletters)];
    const record = encodeRecord({
      email: input.email,
      name: input.name,
      status: input.status,
      newsletters: active ? newsletters : [],
      requested: active ? [] : newsletters,
      createdAt: input.now,
      updatedAt: input.now,
      confirmedAt: input.confirmedAt,
      consent: input.consent,
      trail: input.signup ? [encodeEvent(input.signup)] : [],
      // On the wall clock, as RateLimits.takeConfirmMail counts the later ones.
      mailSentAt: input.signup ? Date.now() : undefined,
    });
    const [id, created] = (await this.run(CREATE, input.email.toLowerCase(), JSON.stringify(record))) as [
      number,
      number,
    ];
    return { id: Number(id), created: created === 1 };
  }

  async renewConsent(
    id: number,
    input: { name?: string; consent: ConsentEvidence; now: string; newsletters: string[] },
  ): Promise<RenewOutcome> {
    const change = [encodeTime(input.now), encodeConsent(input.consent), input.name ?? ''];
    return (await this.run(RENEW, id, input.newsletters.join(','), JSON.stringify(change))) as RenewOutcome;
  }

  async confirm(id: number, now: string, fallback: string): Promise<ConfirmOutcome> {
    const sub = await this.get(id);
    if (sub === null) return { outcome: 'refused', current: null };
    const [outcome, was, joined, lifted] = (await this.run(
      CONFIRM,
      id,
      emailHash(sub.email),
      JSON.stringify([encodeTime(now), fallback]),
    )) as [string, string?, string?, number?];
    if (outcome === 'already') return { outcome: 'already_confirmed' };
    if (outcome === 'refused') return { outcome: 'refused', current: STATUS_OF_CODE[was ?? ''] ?? null };
    return {
      outcome: 'confirmed',
      was: STATUS_OF_CODE[was as string],
      joined: slugs(joined),
      liftedSuppression: lifted === 1,
    };
  }

  async changeNewsletters(id: number, change: NewsletterChange, now: string): Promise<NewsletterChangeResult> {
    const [outcome, after, joined, left] = (await this.run(
      CHANGE,
      id,
      change.join.join(','),
      change.leave.join(','),
      JSON.stringify([encodeTime(now)]),
    )) as [NewsletterChangeResult['outcome'], string, string?, string?];
    switch (outcome) {
      case 'not_active':
        return { outcome, current: STATUS_OF_CODE[after] ?? null };
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
    // Positions are 1-based in Lua.
    const set: { [position: number]: string | number } = {};
    for (const [field, value] of Object.entries(changes))
      if (value !== undefined) set[TIME_POSITION[field as keyof typeof TIME_POSITION] + 1] = encodeTime(value);
    const r = (await this.run(
      TRANSITION,
      sub.id,
      STATUS_CODE[to],
      emailHash(sub.email),
      options.suppress ? '1' : '0',
      from.map((s) => STATUS_CODE[s]).join(''),
      JSON.stringify(set),
    )) as string | null;
    return r === 'ok' ? { ok: true } : { ok: false, current: r ? STATUS_OF_CODE[r] : null };
  }

  async erase(email: string, now: string): Promise<boolean> {
    return (await this.run(ERASE, email.toLowerCase(), emailHash(email), now)) === 1;
  }

  /** An event for an address no person is held on is dropped: a trail only exists with its person (erasure). */
  async appendConsent(email: string, event: NewConsentEvent): Promise<void> {
    await this.run(APPEND, email.toLowerCase(), JSON.stringify(encodeEvent(event)));
  }

  async consentTrail(email: string): Promise<ConsentEvent[]> {
    const found = await this.byAddress(email);
    if (!found) return [];
    await this.resolve([found[1]]);
    return decodeTrail(found[1], this.lookup);
  }

  /**
   * Takes one confirmation mail of this person's allowance of `perWindow` per `windowMs`: false when it is used up.
   * The count lives in the record (see TAKE_MAIL).
   */
  async takeConfirmMail(id: number, now: Date, perWindow: number, windowMs: number): Promise<boolean> {
    return (await this.run(TAKE_MAIL, id, now.getTime(), perWindow, windowMs)) === 1;
  }

  async pageMemberIds(newsletter: string, afterId: number, limit: number): Promise<number[]> {
    return this.pageIds(this.keys.newsletterMembers(newsletter), afterId, limit);
  }

  /** Ids set in a bitmap after `afterId`, ascending, at most `limit`: a few KB of it at a time, decoded here. */
  private async pageIds(key: string, afterId: number, limit: number): Promise<number[]> {
    const ids: number[] = [];
    let from = afterId + 1;
    while (ids.length < limit) {
      const [byte, chunk] = (await BITS_FROM.runBuffer(this.redis, [key], [Math.floor(from / 8), BITMAP_CHUNK])) as [
        number,
        Buffer,
      ];
      if (byte < 0) break;
      collectIds(chunk, byte, from, limit, ids);
      if (chunk.length < BITMAP_CHUNK) break;
      from = (byte + chunk.length) * 8;
    }
    return ids;
  }

  async countMembers(newsletter: string, maxId?: number): Promise<number> {
    return this.countBits(this.keys.newsletterMembers(newsletter), maxId);
  }

  /**
   * Bits set for ids 0..maxId. BITCOUNT takes byte ranges only before Redis 7 (the service supports 5), so the last,
   * partial byte is counted here.
   */
  private async countBits(key: string, maxId?: number): Promise<number> {
    if (maxId === undefined) return this.redis.bitcount(key);
    if (maxId < 0) return 0;
    const whole = Math.floor((maxId + 1) / 8);
    const rest = (maxId + 1) % 8;
    const pipe = this.redis.pipeline();
    if (whole > 0) pipe.bitcount(key, 0, whole - 1);
    pipe.getrangeBuffer(key, whole, whole);
    const results = (await pipe.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
    const full = whole > 0 ? Number(results[0][1]) : 0;
    const edge = (results.at(-1)?.[1] as Buffer)[0] ?? 0;
    return full + popcount(edge & (0xff << (8 - rest)) & 0xff);
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
    const ids = await this.pageIds(members, query.after?.id ?? 0, query.limit + 1);
    const page = ids.slice(0, query.limit);
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
    for (const status of STATUSES) multi.bitcount(this.keys.subscribersWithStatus(status));
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

  async lastId(): Promise<number> {
    return Number((await this.redis.get(this.keys.subscriberSeq())) ?? 0);
  }

  /** Writes people converted from the layout before compact records (see PUT_CONVERTED); for migration 4 only. */
  async putConverted(people: { id: number; email: string; record: RecordTuple }[]): Promise<void> {
    if (!people.length) return;
    const rows = people.map((p) => [p.id, p.email.toLowerCase(), p.record]);
    await this.run(PUT_CONVERTED, JSON.stringify(rows));
  }

  /** One atomic script per batch (IMPORT_ACTIVE). */
  async importActive(rows: ImportRow[], now: string, newsletter: string): Promise<ImportOutcome[]> {
    if (!rows.length) return [];
    const packed: [string, string, RecordTuple, TrailEvent][] = [];
    for (const row of rows) {
      const { at, ...evidence } = row.consent;
      const imported = encodeEvent({
        type: 'imported',
        at: now,
        evidence,
        detail: `newsletter ${newsletter}; consent given at ${at}`,
      });
      const joined = encodeEvent({
        type: 'newsletters_changed',
        at: now,
        evidence,
        detail: `imported: joined ${newsletter}`,
      });
      const record = encodeRecord({
        email: row.email,
        name: row.name,
        status: 'active',
        newsletters: [newsletter],
        requested: [],
        createdAt: now,
        updatedAt: now,
        consent: row.consent,
        trail: [imported],
      });
      packed.push([emailHash(row.email), row.email.toLowerCase(), record, joined]);
    }
    const letters = (await this.run(IMPORT_ACTIVE, newsletter, JSON.stringify(packed))) as string;
    return [...letters].map((l) => IMPORT_OUTCOME[l]);
  }
}

/** Appends to `ids` the ids (> after-1, i.e. >= from) whose bits are set in `chunk`, which starts at byte `byte`. */
function collectIds(chunk: Buffer, byte: number, from: number, limit: number, ids: number[]): void {
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if (b === 0) continue;
    const base = (byte + i) * 8;
    for (let bit = 0; bit < 8; bit++) {
      // Bit 0 of a Redis bitmap is the byte's most significant bit.
      if (b & (0x80 >> bit) && base + bit >= from) {
        ids.push(base + bit);
        if (ids.length === limit) return;
      }
    }
  }
}

function popcount(b: number): number {
  let n = 0;
  for (let x = b; x; x &= x - 1) n++;
  return n;
}

/** A comma-separated list of slugs as the record and the scripts hold it. */
function slugs(list: string | null | undefined): string[] {
  return list ? list.split(',') : [];
}

function fromAddressEntry(entry: string): ListPosition {
  const nul = entry.lastIndexOf('\0');
  return { address: entry.slice(0, nul), id: Number(entry.slice(nul + 1)) };
}
