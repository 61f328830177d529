import type { Redis } from 'ioredis';
import type { FeedbackLedger } from '../domain/ports/feedback-ledger';
import type { Keys } from './keys';

/** Ids of reports are the provider's: bounded so a hostile one cannot make a huge key. */
const MAX_EVENT_ID = 200;

/** FeedbackLedger on Redis: an expiring key per handled report, a sorted set of soft bounce times per person. */
export class FeedbackStore implements FeedbackLedger {
  constructor(private readonly deps: { redis: Redis; keys: Keys }) {}

  async firstSeen(source: string, eventId: string, ttlSeconds: number): Promise<boolean> {
    const key = this.deps.keys.feedbackSeen(source, eventId.slice(0, MAX_EVENT_ID));
    return (await this.deps.redis.set(key, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async addSoftBounce(subscriberId: number, atMs: number, windowMs: number): Promise<number> {
    const key = this.deps.keys.softBounces(subscriberId);
    // The member is unique per call so two bounces in one millisecond both count.
    const member = `${atMs}:${Math.random().toString(36).slice(2, 10)}`;
    const r = await this.deps.redis
      .multi()
      .zremrangebyscore(key, '-inf', atMs - windowMs)
      .zadd(key, atMs, member)
      .zcount(key, atMs - windowMs + 1, '+inf')
      .pexpire(key, windowMs)
      .exec();
    return Number(r?.[2]?.[1] ?? 0);
  }
}
