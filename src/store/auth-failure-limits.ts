import type { Redis } from 'ioredis';
import { RateLimiterRes, type RateLimiterRedis } from 'rate-limiter-flexible';
import type { AuthFailureLimits } from '../domain/ports/rate-limits';
import type { Keys } from './keys';
import { redisLimiter } from './rate-limits';

/** Options of `AuthFailureRateLimits`. */
export interface AuthFailureRateLimitsOptions {
  /** Failed attempts a client IP may make per window; the next request from it is refused until the window ends. */
  perIp: number;
  /** The window, from the IP's first failure, in seconds. Default 900 (15 minutes). */
  windowSeconds?: number;
}

/**
 * Failed bearer tokens at /api/admin, counted per client IP in Redis (so a guesser cannot spread its tries over the
 * API processes). Only failures take points: a script making many good requests is never slowed.
 */
export class AuthFailureRateLimits implements AuthFailureLimits {
  private readonly limiter: RateLimiterRedis;

  constructor(
    deps: { redis: Redis; keys: Keys },
    private readonly opts: AuthFailureRateLimitsOptions,
  ) {
    this.limiter = redisLimiter(deps, 'admin-auth-failures', opts.perIp, opts.windowSeconds ?? 900);
  }

  async lockedFor(ip: string): Promise<number> {
    const res = await this.limiter.get(ip);
    return res && res.consumedPoints >= this.opts.perIp ? seconds(res) : 0;
  }

  async fail(ip: string): Promise<number> {
    try {
      const res = await this.limiter.consume(ip);
      return res.consumedPoints === this.opts.perIp ? seconds(res) : 0;
    } catch (err) {
      // Over the limit already (two guesses racing past the check): the lockout began with an earlier one.
      if (err instanceof RateLimiterRes) return 0;
      throw err;
    }
  }
}

function seconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}
