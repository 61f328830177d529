import type { Redis } from 'ioredis';
import type { Campaign, CampaignContent, CampaignStatus } from '../domain/campaign';
import type {
  CampaignChanges,
  CampaignRepository,
  CampaignTransition,
  DeliveryOutcome,
  DraftChanges,
  DraftSnapshot,
} from '../domain/ports/campaign-repository';
import type { Keys } from './keys';
import { LuaScript } from './lua-script';
import { TurnBatch } from './turn-batch';

type Row = Record<string, string>;

/** Not a hash field: asks TRANSITION to keep the current counters as the rate baseline. */
const RATE_BASELINE = '*rateBaseline';

/**
 * Moves status from one of ARGV[2..] ('--' ends them) to ARGV[1] and sets the remaining field/value pairs. The
 * pseudo-field RATE_BASELINE copies the rate counters into the baseline fields instead, inside the same step.
 */
const TRANSITION = new LuaScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
local i = 2
local allowed = false
while ARGV[i] ~= '--' do
  if ARGV[i] == status then allowed = true end
  i = i + 1
end
if not allowed then return status end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
i = i + 1
while ARGV[i] do
  if ARGV[i] == '${RATE_BASELINE}' then
    local c = redis.call('HMGET', KEYS[1], 'sent', 'bounced', 'lateBounces', 'complained')
    redis.call('HSET', KEYS[1], 'baseSent', c[1] or '0', 'baseBounced', c[2] or '0',
      'baseLateBounces', c[3] or '0', 'baseComplained', c[4] or '0')
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
  i = i + 2
end
return 'ok'
`);

/**
 * Edits a draft: sets the field/value pairs in ARGV only while the status is draft, and drops stored content, which
 * could only be of the draft before the edit. Returns 'ok', or the status found (false: no campaign).
 * KEYS: campaign, content.
 */
const UPDATE_DRAFT = new LuaScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if status ~= 'draft' then return status end
if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
redis.call('DEL', KEYS[2])
return 'ok'
`);

/**
 * Removes a draft and every key of it, only while it is a draft. Returns 'ok', or the status found (false: none).
 * KEYS: campaign, campaign list, then the campaign's other keys. ARGV: campaign id.
 */
const DELETE_DRAFT = new LuaScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if status ~= 'draft' then return status end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
return 'ok'
`);

/**
 * Starts a send: only while the campaign is a draft with the subject, preheader and article ids the sender rendered (and, when
 * ARGV[6] is not empty, still scheduled for that time), stores the content and moves the status to sending with the
 * field/value pairs after it. The schedule is cleared: a draft sent by hand must not go out again at its time.
 * Returns 'ok', or the status found (false: none); a draft edited or rescheduled since answers 'draft'.
 * KEYS: campaign, content. ARGV: subject, article ids (JSON as stored), content subject, html, text, expected
 * scheduledAt or '', preheader or '', field/value...
 */
const START_SENDING = new LuaScript(`
local c = redis.call('HMGET', KEYS[1], 'status', 'subject', 'articleIds', 'scheduledAt', 'preheader')
if not c[1] then return false end
if c[1] ~= 'draft' or c[2] ~= ARGV[1] or c[3] ~= ARGV[2] or (c[5] or '') ~= ARGV[7] then return c[1] end
if ARGV[6] ~= '' and c[4] ~= ARGV[6] then return c[1] end
redis.call('HSET', KEYS[2], 'subject', ARGV[3], 'html', ARGV[4], 'text', ARGV[5])
redis.call('HSET', KEYS[1], 'status', 'sending')
redis.call('HDEL', KEYS[1], 'scheduledAt')
if #ARGV > 7 then redis.call('HSET', KEYS[1], unpack(ARGV, 8)) end
return 'ok'
`);

/**
 * Sets (ARGV[1] not empty) or clears a draft's scheduledAt, only while it is a draft. Returns 'ok', or the status
 * found (false: none). KEYS: campaign.
 */
const SET_SCHEDULE = new LuaScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if status ~= 'draft' then return status end
if ARGV[1] == '' then redis.call('HDEL', KEYS[1], 'scheduledAt')
else redis.call('HSET', KEYS[1], 'scheduledAt', ARGV[1]) end
return 'ok'
`);

/**
 * Ends a sending campaign once every queued recipient is accounted for. Returns the new status or false.
 * KEYS: campaign. ARGV: finishedAt.
 */
const FINISH_IF_DONE = new LuaScript(`
local c = redis.call('HMGET', KEYS[1], 'status', 'fanoutDone', 'queued', 'sent', 'failed', 'skipped', 'bounced')
if c[1] ~= 'sending' or c[2] ~= '1' then return false end
local done = tonumber(c[4] or 0) + tonumber(c[5] or 0) + tonumber(c[6] or 0) + tonumber(c[7] or 0)
if done < tonumber(c[3] or 0) then return false end
local status = 'sent'
if tonumber(c[4] or 0) == 0 and tonumber(c[5] or 0) > 0 then status = 'failed' end
redis.call('HSET', KEYS[1], 'status', status, 'finishedAt', ARGV[1], 'total', c[3])
return status
`);

/**
 * Records recipients' outcomes, each exactly once: the ledger bit (sent) or the settled bit (everything else) is
 * set first, and the counter moves only if the bit was not set before, so a retried batch never counts twice. The
 * pairs are taken in order, as that many calls one after the other would be; the counters move once per outcome.
 * KEYS: campaign, ledger, settled. ARGV: subscriber id, outcome (sent|failed|skipped|bounced), id, outcome, ...
 * Returns 1 or 0 per pair: whether it was recorded by this call.
 */
const RECORD = new LuaScript(`
local recorded = {}
local counts = {}
local sent = false
for i = 1, #ARGV, 2 do
  local id, outcome = ARGV[i], ARGV[i + 1]
  local own, other = KEYS[2], KEYS[3]
  if outcome ~= 'sent' then own = KEYS[3]; other = KEYS[2] end
  local r = 0
  if redis.call('GETBIT', other, id) == 0 and redis.call('SETBIT', own, id, 1) == 0 then
    r = 1
    counts[outcome] = (counts[outcome] or 0) + 1
    if outcome == 'sent' then sent = true end
  end
  recorded[#recorded + 1] = r
end
for outcome, n in pairs(counts) do redis.call('HINCRBY', KEYS[1], outcome, n) end
if sent then redis.call('HSET', KEYS[1], 'consecutiveFailures', 0) end
return recorded
`);

/**
 * Moves the fan-out's cursor to ARGV[1] and adds ARGV[2] to queued, only while the cursor is ARGV[3] (when not
 * empty). Returns 1 when it moved. KEYS: campaign.
 */
const CHECKPOINT = new LuaScript(`
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'cursor') ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'cursor', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'queued', ARGV[2])
return 1
`);

/**
 * Counts a late report once per recipient and kind. A late bounce counts only for a message the ledger has as sent.
 * KEYS: campaign, feedback bitmap, ledger. ARGV: subscriber id, counter field.
 */
const RECORD_FEEDBACK = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == 'lateBounces' and redis.call('GETBIT', KEYS[3], ARGV[1]) == 0 then return 0 end
if redis.call('SETBIT', KEYS[2], ARGV[1], 1) == 1 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
return 1
`);

/**
 * CampaignRepository on Redis: a hash per campaign with its counters, its content hash, and two bitmaps by
 * subscriber id.
 */
export class CampaignStore implements CampaignRepository {
  /**
   * The outcomes recorded during one turn of the event loop go to Redis as one script call per campaign: the many
   * sends a worker has in flight are mostly answered in bursts, and one round trip per accepted message was the
   * largest share of its Redis time. Each `record` still answers only after its own write is done.
   */
  private readonly outcomes = new TurnBatch<number, [number, DeliveryOutcome], boolean>((id, items) =>
    this.recordAll(id, items),
  );

  constructor(private readonly deps: { redis: Redis; keys: Keys }) {}

  private get redis() {
    return this.deps.redis;
  }
  private get keys() {
    return this.deps.keys;
  }

  async create(input: {
    subject: string;
    preheader?: string;
    newsletter: string;
    articleIds: number[];
    now: string;
  }): Promise<Campaign> {
    const id = await this.redis.incr(this.keys.campaignSeq());
    const row: Row = {
      id: String(id),
      status: 'draft',
      subject: input.subject,
      ...(input.preheader ? { preheader: input.preheader } : {}),
      newsletter: input.newsletter,
      articleIds: JSON.stringify(input.articleIds),
      createdAt: input.now,
      total: '0',
      sent: '0',
      failed: '0',
      skipped: '0',
      bounced: '0',
      queued: '0',
      cursor: '0',
      maxSubscriberId: '0',
      fanoutDone: '0',
    };
    await this.redis.multi().hset(this.keys.campaign(id), row).zadd(this.keys.campaigns(), id, String(id)).exec();
    return toCampaign(row);
  }

  async get(id: number): Promise<Campaign | null> {
    const row = await this.redis.hgetall(this.keys.campaign(id));
    return row.status ? toCampaign(row) : null;
  }

  async status(id: number): Promise<CampaignStatus | null> {
    return (await this.redis.hget(this.keys.campaign(id), 'status')) as CampaignStatus | null;
  }

  async list(limit = 50): Promise<Campaign[]> {
    if (limit <= 0) return [];
    const ids = await this.redis.zrevrange(this.keys.campaigns(), 0, limit - 1);
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.keys.campaign(id));
    return ((await pipe.exec()) ?? []).map(([, row]) => toCampaign(row as Row));
  }

  async transition(
    id: number,
    from: CampaignStatus[],
    to: CampaignStatus,
    changes: CampaignChanges = {},
  ): Promise<CampaignTransition> {
    const r = (await TRANSITION.run(
      this.redis,
      [this.keys.campaign(id)],
      [to, ...from, '--', ...changeFields(changes)],
    )) as string | null;
    return transitionResult(r);
  }

  async updateDraft(id: number, changes: DraftChanges): Promise<CampaignTransition> {
    const fields: Row = {};
    if (changes.subject !== undefined) fields.subject = changes.subject;
    if (changes.preheader !== undefined) fields.preheader = changes.preheader;
    if (changes.articleIds !== undefined) fields.articleIds = JSON.stringify(changes.articleIds);
    const r = await UPDATE_DRAFT.run(
      this.redis,
      [this.keys.campaign(id), this.keys.campaignContent(id)],
      Object.entries(fields).flat(),
    );
    return transitionResult(r);
  }

  async deleteDraft(id: number): Promise<CampaignTransition> {
    const k = this.keys;
    const r = await DELETE_DRAFT.run(
      this.redis,
      [
        k.campaign(id),
        k.campaigns(),
        k.campaignContent(id),
        k.campaignLedger(id),
        k.campaignSettled(id),
        k.campaignFeedback(id, 'bounced'),
        k.campaignFeedback(id, 'complained'),
      ],
      [id],
    );
    return transitionResult(r);
  }

  async setSchedule(id: number, scheduledAt: string | null): Promise<CampaignTransition> {
    return transitionResult(await SET_SCHEDULE.run(this.redis, [this.keys.campaign(id)], [scheduledAt ?? '']));
  }

  async startSending(
    id: number,
    draft: DraftSnapshot,
    content: CampaignContent,
    changes: CampaignChanges,
  ): Promise<CampaignTransition> {
    const r = await START_SENDING.run(
      this.redis,
      [this.keys.campaign(id), this.keys.campaignContent(id)],
      [
        draft.subject,
        JSON.stringify(draft.articleIds),
        content.subject,
        content.html,
        content.text,
        draft.scheduledAt ?? '',
        draft.preheader ?? '',
        // A rate baseline needs the counters read inside a script; a send starts from zero, so it has none.
        ...changeFields({ ...changes, rateBaseline: false }),
      ],
    );
    return transitionResult(r);
  }

  async saveContent(id: number, content: CampaignContent): Promise<void> {
    await this.redis.hset(this.keys.campaignContent(id), {
      subject: content.subject,
      html: content.html,
      text: content.text,
    });
  }

  async content(id: number): Promise<CampaignContent | null> {
    const r = await this.redis.hgetall(this.keys.campaignContent(id));
    return r.html ? { subject: r.subject, html: r.html, text: r.text } : null;
  }

  async checkpoint(id: number, cursor: number, count: number, from?: number): Promise<boolean> {
    const r = await CHECKPOINT.run(this.redis, [this.keys.campaign(id)], [cursor, count, from ?? '']);
    return r === 1;
  }

  /** Both bitmaps read in one round trip each for a whole batch. */
  async recorded(id: number, subscriberIds: number[]): Promise<boolean[]> {
    if (!subscriberIds.length) return [];
    const args = subscriberIds.flatMap((s) => ['GET', 'u1', String(s)]);
    const [sent, settled] = await Promise.all([
      this.redis.call('BITFIELD_RO', this.keys.campaignLedger(id), ...args) as Promise<number[]>,
      this.redis.call('BITFIELD_RO', this.keys.campaignSettled(id), ...args) as Promise<number[]>,
    ]);
    return subscriberIds.map((_, i) => sent[i] === 1 || settled[i] === 1);
  }

  record(id: number, subscriberId: number, outcome: DeliveryOutcome): Promise<boolean> {
    return this.outcomes.add(id, [subscriberId, outcome]);
  }

  private async recordAll(id: number, items: [number, DeliveryOutcome][]): Promise<boolean[]> {
    const r = (await RECORD.run(
      this.redis,
      [this.keys.campaign(id), this.keys.campaignLedger(id), this.keys.campaignSettled(id)],
      items.flat(),
    )) as number[];
    return r.map((x) => x === 1);
  }

  async recordFeedback(id: number, subscriberId: number, kind: 'bounced' | 'complained'): Promise<boolean> {
    const r = await RECORD_FEEDBACK.run(
      this.redis,
      [this.keys.campaign(id), this.keys.campaignFeedback(id, kind), this.keys.campaignLedger(id)],
      [subscriberId, kind === 'bounced' ? 'lateBounces' : 'complained'],
    );
    return r === 1;
  }

  async countFailure(id: number): Promise<number> {
    return this.redis.hincrby(this.keys.campaign(id), 'consecutiveFailures', 1);
  }

  async finishFanout(id: number, now: string): Promise<CampaignStatus | null> {
    await this.redis.hset(this.keys.campaign(id), 'fanoutDone', '1');
    return this.finishIfDone(id, now);
  }

  async finishIfDone(id: number, now: string): Promise<CampaignStatus | null> {
    return (await FINISH_IF_DONE.run(this.redis, [this.keys.campaign(id)], [now])) as CampaignStatus | null;
  }
}

/** A script's answer: 'ok', or the status it found (null, from Lua's false, when there is no campaign). */
function transitionResult(r: unknown): CampaignTransition {
  return r === 'ok' ? { ok: true } : { ok: false, current: (r as CampaignStatus | null) ?? null };
}

/** The hash fields of a status change. */
function changeFields(c: CampaignChanges): string[] {
  const fields: Row = {};
  if (c.startedAt !== undefined) fields.startedAt = c.startedAt;
  if (c.pausedAt !== undefined) fields.pausedAt = c.pausedAt;
  if (c.finishedAt !== undefined) fields.finishedAt = c.finishedAt;
  if (c.reason !== undefined) fields.reason = c.reason;
  if (c.maxSubscriberId !== undefined) fields.maxSubscriberId = String(c.maxSubscriberId);
  if (c.total !== undefined) fields.total = String(c.total);
  if (c.startedLateBySeconds !== undefined) fields.startedLateBySeconds = String(c.startedLateBySeconds);
  if (c.resetFailures) fields.consecutiveFailures = '0';
  if (c.rateBaseline) fields[RATE_BASELINE] = '1';
  return Object.entries(fields).flat();
}

function toCampaign(r: Row): Campaign {
  const n = (k: string) => Number(r[k] ?? 0);
  return {
    id: n('id'),
    status: r.status as CampaignStatus,
    subject: r.subject,
    preheader: r.preheader || undefined,
    // Every campaign names one: those from before newsletters got the default's slug in migration 1.
    newsletter: r.newsletter,
    articleIds: JSON.parse(r.articleIds ?? '[]') as number[],
    total: r.fanoutDone === '1' ? n('queued') : n('total'),
    sent: n('sent'),
    failed: n('failed'),
    skipped: n('skipped'),
    bounced: n('bounced'),
    lateBounces: n('lateBounces'),
    complained: n('complained'),
    createdAt: r.createdAt,
    startedAt: r.startedAt || undefined,
    finishedAt: r.finishedAt || undefined,
    reason: r.reason || undefined,
    scheduledAt: r.scheduledAt || undefined,
    startedLateBySeconds: r.startedLateBySeconds === undefined ? undefined : n('startedLateBySeconds'),
    rateBaseline:
      r.baseSent === undefined
        ? undefined
        : {
            sent: n('baseSent'),
            bounced: n('baseBounced'),
            lateBounces: n('baseLateBounces'),
            complained: n('baseComplained'),
          },
    maxSubscriberId: n('maxSubscriberId'),
    cursor: n('cursor'),
    queued: n('queued'),
    fanoutDone: r.fanoutDone === '1',
  };
}
