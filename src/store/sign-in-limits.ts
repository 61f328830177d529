import type { Redis } from 'ioredis';
import type { RateLimiterRedis } from 'rate-limiter-flexible';
import type { SignInLimits } from '../domain/ports/rate-limits';
import type { Keys } from './keys';
import { redisLimiter, take } from './rate-limits';

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
    this.perIp = redisLimiter(deps, 'sign-in-ip', opts.perIp, WINDOW_SECONDS);
    this.perLogin = redisLimiter(deps, 'sign-in-login', opts.perLogin, WINDOW_SECONDS);
  }

  async takeSignIn(ip: string, login: string): Promise<number> {
    const [a, b] = await Promise.all([take(this.perIp, ip), take(this.perLogin, login)]);
    return Math.max(a, b);
  }

  async clearLogin(login: string): Promise<void> {
    await this.perLogin.delete(login);
  }
}
