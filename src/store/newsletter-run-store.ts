import type { Redis } from 'ioredis';
import type { NewsletterRun } from '../domain/newsletter-run';
import type { ClaimResult, NewsletterRunRepository, RunCap } from '../domain/ports/newsletter-run-repository';
import type { Keys } from './keys';
import { LuaScript } from './lua-script';

/**
 * Claims a run key unless claimed, counting it against the cap's window when there is one, and trims the oldest runs
 * past the number kept: all in one step, so two workers never both claim, nor both take the last place under a cap.
 * KEYS: runs hash, order zset, window zset. ARGV: key, run JSON, now ms, runs kept, cap ('' none), window start ms,
 * the run stored when over the cap.
 * Returns {1 claimed | 2 capped | 0 found, the run JSON kept}.
 */
const CLAIM = new LuaScript(`
local found = redis.call('HGET', KEYS[1], ARGV[1])
if found then return {0, found} end
local run = ARGV[2]
local state = 1
if ARGV[5] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[6])
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then
    run = ARGV[7]
    state = 2
  else
    redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  end
end
redis.call('HSET', KEYS[1], ARGV[1], run)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, extra - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
  redis.call('HDEL', KEYS[1], unpack(old))
end
return {state, run}
`);

/** Sets the run's campaignId unless set; returns the one it holds, or false when the run is not kept. */
const ATTACH = new LuaScript(`
local found = redis.call('HGET', KEYS[1], ARGV[1])
if not found then return false end
local run = cjson.decode(found)
if run.campaignId then return run.campaignId end
run.campaignId = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(run))
return run.campaignId
`);

/** Replaces a kept run; with ARGV[3] = '1' also gives its place in the cap's window back. */
const FINISH = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '1' then redis.call('ZREM', KEYS[2], ARGV[1]) end
return 1
`);

/** Options of `NewsletterRunStore`. */
export interface NewsletterRunStoreOptions {
  redis: Redis;
  keys: Keys;
  /**
   * Runs kept per newsletter, the oldest trimmed first. Default 200: more than a listing shows (100), and enough that
   * a run is never trimmed while a retry of its job could still come (that takes 200 runs within minutes).
   */
  keep?: number;
}

/**
 * NewsletterRunRepository on Redis: per newsletter, a hash of runs by key (the claim is the field's existence), a
 * sorted set of their claim times (order and trimming), and for alerts the sorted set of the cap's window.
 */
export class NewsletterRunStore implements NewsletterRunRepository {
  private readonly keep: number;

  constructor(private readonly deps: NewsletterRunStoreOptions) {
    this.keep = deps.keep ?? 200;
  }

  async claim(newsletter: string, key: string, run: NewsletterRun, cap?: RunCap): Promise<ClaimResult> {
    const { redis, keys } = this.deps;
    const now = Date.parse(run.at);
    const [state, json] = (await CLAIM.run(
      redis,
      [keys.newsletterRuns(newsletter), keys.newsletterRunOrder(newsletter), keys.newsletterAlertWindow(newsletter)],
      [
        key,
        JSON.stringify(run),
        now,
        this.keep,
        cap ? cap.limit : '',
        cap ? now - cap.windowMs : 0,
        cap ? JSON.stringify(cap.over) : '',
      ],
    )) as [number, string];
    const kept = JSON.parse(json) as NewsletterRun;
    if (state === 1) return { claimed: true, run: kept };
    return { claimed: false, capped: state === 2, run: kept };
  }

  async attachCampaign(newsletter: string, key: string, campaignId: number): Promise<number | null> {
    const { redis, keys } = this.deps;
    const held = await ATTACH.run(redis, [keys.newsletterRuns(newsletter)], [key, campaignId]);
    return typeof held === 'number' ? held : null;
  }

  async finish(
    newsletter: string,
    key: string,
    run: NewsletterRun,
    opts: { releaseCap?: boolean } = {},
  ): Promise<void> {
    const { redis, keys } = this.deps;
    await FINISH.run(
      redis,
      [keys.newsletterRuns(newsletter), keys.newsletterAlertWindow(newsletter)],
      [key, JSON.stringify(run), opts.releaseCap ? '1' : '0'],
    );
  }

  async list(newsletter: string, limit: number): Promise<NewsletterRun[]> {
    const { redis, keys } = this.deps;
    if (limit <= 0) return [];
    const order = await redis.zrevrange(keys.newsletterRunOrder(newsletter), 0, limit - 1);
    if (!order.length) return [];
    const found = await redis.hmget(keys.newsletterRuns(newsletter), ...order);
    return found.filter((j): j is string => j !== null).map((j) => JSON.parse(j) as NewsletterRun);
  }
}
