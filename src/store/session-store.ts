import type { Redis } from 'ioredis';
import type { SessionRecord, SessionStore } from '../domain/ports/session-store';
import type { Keys } from './keys';
import { LuaScript } from './lua-script';

const TOUCH = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** SessionStore on Redis: a hash per session that expires by itself once the session cannot be valid any more. */
export class RedisSessionStore implements SessionStore {
  constructor(private readonly deps: { redis: Redis; keys: Keys }) {}

  async put(idHash: string, s: SessionRecord, ttlMs: number): Promise<void> {
    const { redis, keys } = this.deps;
    const fields: Record<string, string> = {
      csrfToken: s.csrfToken,
      createdAt: String(s.createdAt),
      lastSeenAt: String(s.lastSeenAt),
      ...(s.operatorId ? { operatorId: s.operatorId } : {}),
      ...(s.ip ? { ip: s.ip } : {}),
    };
    const multi = redis.multi().hset(keys.session(idHash), fields).pexpire(keys.session(idHash), ttlMs);
    if (s.operatorId) {
      // The operator's set outlives each session in it; members whose session expired are deleted harmlessly later.
      multi.sadd(keys.operatorSessions(s.operatorId), idHash).pexpire(keys.operatorSessions(s.operatorId), ttlMs);
    }
    await multi.exec();
  }

  async get(idHash: string): Promise<SessionRecord | null> {
    const h = await this.deps.redis.hgetall(this.deps.keys.session(idHash));
    if (!h.csrfToken) return null;
    return {
      csrfToken: h.csrfToken,
      createdAt: Number(h.createdAt),
      lastSeenAt: Number(h.lastSeenAt),
      ...(h.operatorId ? { operatorId: h.operatorId } : {}),
      ...(h.ip ? { ip: h.ip } : {}),
    };
  }

  async touch(idHash: string, lastSeenAt: number, ttlMs: number): Promise<void> {
    const { redis, keys } = this.deps;
    // Only a session still there is touched: HSET on one signed out in between would bring back a headless hash.
    await TOUCH.run(redis, [keys.session(idHash)], [String(lastSeenAt), ttlMs]);
  }

  async delete(idHash: string): Promise<void> {
    await this.deps.redis.del(this.deps.keys.session(idHash));
  }

  async deleteAllOf(operatorId: string): Promise<void> {
    const { redis, keys } = this.deps;
    const hashes = await redis.smembers(keys.operatorSessions(operatorId));
    await redis.del(keys.operatorSessions(operatorId), ...hashes.map((h) => keys.session(h)));
  }
}
