import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { SignupLimits } from '../domain/ports/rate-limits';
import type { Keys } from './keys';
import type { SubscriberStore } from './subscriber-store';

/** Options of `RateLimits`. */
export interface RateLimitsOptions {
  /** Signups per client IP per 10 minutes. */
  signupsPerIp: number;
  /** Confirmation mails per address per hour. */
  confirmMailsPerAddressPerHour: number;
}

/**
 * Counters kept in Redis, so every API process shares them. The per-IP counter is a key per IP that expires; the
 * per-address one lives in the person's record (SubscriberStore.takeConfirmMail), since a key per signed-up address
 * cost ~100 bytes per person for an hour, and the issue asks for no per-person keys that expire on their own.
 */
export class RateLimits implements SignupLimits {
  private readonly perIp: RateLimiterRedis;

  constructor(
    private readonly deps: { redis: Redis; keys: Keys; subscribers: Pick<SubscriberStore, 'takeConfirmMail'> },
    private readonly opts: RateLimitsOptions,
  ) {
    this.perIp = redisLimiter(deps, 'signup-ip', opts.signupsPerIp, 600);
  }

  async takeSignup(ip: string): Promise<number> {
    return take(this.perIp, ip);
  }

  async takeConfirmMail(subscriberId: number): Promise<boolean> {
    return this.deps.subscribers.takeConfirmMail(
      subscriberId,
      new Date(),
      this.opts.confirmMailsPerAddressPerHour,
      3_600_000,
    );
  }
}

/** A limiter of `points` per `seconds` under the prefix's rate-limit key `name`, shared by every process. */
export function redisLimiter(
  deps: { redis: Redis; keys: Keys },
  name: string,
  points: number,
  seconds: number,
): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: deps.redis,
    keyPrefix: deps.keys.rateLimit(name),
    points,
    duration: seconds,
  });
}

/** Takes one point: 0 when allowed, else the seconds to wait (at least 1). */
export async function take(limiter: RateLimiterRedis, key: string): Promise<number> {
  try {
    await limiter.consume(key);
    return 0;
  } catch (res) {
    if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    throw res;
  }
}
