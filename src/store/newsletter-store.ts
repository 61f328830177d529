import type { Redis } from 'ioredis';
import type { Newsletter } from '../domain/newsletter';
import type { NewsletterRepository } from '../domain/ports/newsletter-repository';
import type { Keys } from './keys';
import { LuaScript } from './lua-script';

/** Replaces a field only when it exists: an update never brings back a newsletter that is not there. */
const REPLACE = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`);

/**
 * NewsletterRepository on Redis: one hash, slug -> JSON. A site has a handful of newsletters, read together (the
 * signup page, the schedules), so one HGETALL beats a key each; HSETNX makes a slug unique without a lock.
 */
export class NewsletterStore implements NewsletterRepository {
  constructor(private readonly deps: { redis: Redis; keys: Keys }) {}

  async create(newsletter: Newsletter): Promise<boolean> {
    const { redis, keys } = this.deps;
    return (await redis.hsetnx(keys.newsletters(), newsletter.slug, JSON.stringify(newsletter))) === 1;
  }

  async get(slug: string): Promise<Newsletter | null> {
    const json = await this.deps.redis.hget(this.deps.keys.newsletters(), slug);
    return json ? read(json) : null;
  }

  async list(): Promise<Newsletter[]> {
    const all = await this.deps.redis.hgetall(this.deps.keys.newsletters());
    return Object.keys(all)
      .sort()
      .map((slug) => read(all[slug]));
  }

  async update(newsletter: Newsletter): Promise<boolean> {
    const { redis, keys } = this.deps;
    const done = await REPLACE.run(redis, [keys.newsletters()], [newsletter.slug, JSON.stringify(newsletter)]);
    return done === 1;
  }
}

/** A stored newsletter; one written before the `public` field existed was offered to everyone, so it is public. */
function read(json: string): Newsletter {
  const n = JSON.parse(json) as Newsletter;
  if (typeof n.public !== 'boolean') n.public = true;
  return n;
}
