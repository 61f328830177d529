import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { SignInLimits } from '../domain/ports/rate-limits';
import type { Keys } from './keys';

/** Options of `SignInRateLimits`. */
export interface SignInRateLimitsOptions {
  /** Sign-in attempts per client IP per 15 minutes. */
  perIp: number;
  /** Sign-in attempts per login per 15 minutes (forgotten after a success). */
  perLogin: number;
}

const WINDOW_SECONDS = 900;

/**
 * Sign-in attempts counted in Redis, so every API process shares them: per IP against one machine trying many logins,
 * per login against many machines trying one (a botnet guessing an editor's password).
 */
export class SignInRateLimits implements SignInLimits {
  private readonly perIp: RateLimiterRedis;
  private readonly perLogin: RateLimiterRedis;

  constructor(deps: { redis: Redis; keys: Keys }, opts: SignInRateLimitsOptions) {
    this.perIp = new RateLimiterRedis({
      storeClient: deps.redis,
      keyPrefix: deps.keys.rateLimit('sign-in-ip'),
      points: opts.perIp,
      duration: WINDOW_SECONDS,
    });
    this.perLogin = new RateLimiterRedis({
      storeClient: deps.redis,
      keyPrefix: deps.keys.rateLimit('sign-in-login'),
      points: opts.perLogin,
      duration: WINDOW_SECONDS,
    });
  }

  async takeSignIn(ip: string, login: string): Promise<number> {
    const [a, b] = await Promise.all([take(this.perIp, ip), take(this.perLogin, login)]);
    return Math.max(a, b);
  }

  async clearLogin(login: string): Promise<void> {
    await this.perLogin.delete(login);
  }
}

async function take(limiter: RateLimiterRedis, key: string): Promise<number> {
  try {
    await limiter.consume(key);
    return 0;
  } catch (res) {
    if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    throw res;
  }
}
