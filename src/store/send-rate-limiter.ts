import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { SendRate } from '../domain/ports/rate-limits';
import type { Keys } from './keys';

/**
 * One sending rate for every worker together, kept in Redis. Permits are taken per chunk of messages, so a fast
 * campaign costs one Redis call per chunk, not per message. A rate of 0 means no limit.
 */
export class SendRateLimiter implements SendRate {
  private readonly limiter?: RateLimiterRedis;

  constructor(
    deps: { redis: Redis; keys: Keys },
    private readonly perSecond: number,
  ) {
    if (perSecond > 0)
      this.limiter = new RateLimiterRedis({
        storeClient: deps.redis,
        keyPrefix: deps.keys.rateLimit('send'),
        points: perSecond,
        duration: 1,
      });
  }

  /** Waits until `n` messages may go. */
  async take(n: number): Promise<void> {
    if (!this.limiter) return;
    let left = n;
    while (left > 0) {
      const want = Math.min(left, this.perSecond);
      try {
        await this.limiter.consume('all', want);
        left -= want;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        // The failed consume still counted; give the points back before waiting.
        await this.limiter.reward('all', want);
        await new Promise((ok) => setTimeout(ok, Math.max(20, res.msBeforeNext)));
      }
    }
  }
}
