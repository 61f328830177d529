import type { Redis } from 'ioredis';
import type { FeedValidators, FeedValidatorStore } from '../domain/ports/feed-validators';
import type { Keys } from './keys';

/** Each feed's ETag and Last-Modified in one Redis hash, feed URL -> JSON: a handful of feeds, one field each. */
export class RedisFeedValidatorStore implements FeedValidatorStore {
  constructor(private readonly deps: { redis: Redis; keys: Keys }) {}

  async get(url: string): Promise<FeedValidators | null> {
    const raw = await this.deps.redis.hget(this.deps.keys.feedValidators(), url);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as FeedValidators;
    } catch {
      // A damaged value only costs one unconditional poll, which writes a good one.
      return null;
    }
  }

  async set(url: string, validators: FeedValidators): Promise<void> {
    const key = this.deps.keys.feedValidators();
    if (!validators.etag && !validators.lastModified) await this.deps.redis.hdel(key, url);
    else await this.deps.redis.hset(key, url, JSON.stringify(validators));
  }
}
