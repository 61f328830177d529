import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Redis } from 'ioredis';
import { ArticleStore } from '../../src/store/article-store';
import { CampaignStore } from '../../src/store/campaign-store';
import { Keys } from '../../src/store/keys';
import { MIGRATIONS, runMigrations, type MigrationContext } from '../../src/store/migrations';
import { seedOldSubscribers } from '../support/old-subscriber-layout';
import { deleteKeys, TEST_REDIS } from '../support/redis';
import { startTestApp, TestClock, type TestApp } from '../support/test-app';

const redis = new Redis(TEST_REDIS);
let prefix: string;
let keys: Keys;
let app: TestApp | undefined;

beforeEach(() => {
  prefix = `m${randomBytes(5).toString('hex')}`;
  keys = new Keys(prefix);
});

afterEach(async () => {
  await app?.container.close();
  app = undefined;
  await deleteKeys(`${prefix}:*`, redis);
});

afterAll(async () => {
  await redis.quit();
});

const AT = '2026-06-01T09:00:00.000Z';

/**
 * Writes a dataset the way the code before newsletters did, through today's stores: people in every status with
 * their consent trails, an import, an erasure, articles, and campaigns sent and drafted. Today's stores name a
 * newsletter on each campaign and each person, and keep each newsletter's readers; the data written before did
 * not, so those fields and sets are taken off again.
 */
async function seedTodaysLayout(): Promise<number> {
  const articles = new ArticleStore({ redis, keys });
  const campaigns = new CampaignStore({ redis, keys });
  // People as the store before compact records wrote them (raw commands), without the newsletters they now name.
  await seedOldSubscribers(redis, keys);
  for (let id = 1; id <= Number(await redis.get(keys.subscriberSeq())); id++)
    await redis.hdel(keys.subscriber(id), 'newsletters', 'requested');
  for (const slug of ['news', 'culture']) await redis.del(keys.oldNewsletterMembers(slug));

  const a1 = (
    await articles.add({
      title: 'One',
      url: 'https://n.test/1',
      summary: '',
      bodyHtml: '',
      publishedAt: AT,
      createdAt: AT,
    })
  ).article;
  const a2 = (
    await articles.add({
      title: 'Two',
      url: 'https://n.test/2',
      summary: '',
      bodyHtml: '',
      publishedAt: AT,
      createdAt: AT,
    })
  ).article;
  for (const [subject, ids] of [
    ['Sent', [a1.id]],
    ['Draft', [a1.id, a2.id]],
  ] as const) {
    const c = await campaigns.create({ subject, newsletter: 'unused', articleIds: [...ids], now: AT });
    await redis.hdel(keys.campaign(c.id), 'newsletter');
    if (subject === 'Sent') {
      await campaigns.transition(c.id, ['draft'], 'sending', { startedAt: AT, total: 3 });
      await articles.markSent([a1.id], c.id);
    }
  }
  return a1.id;
}

/** Every key under the prefix with its whole value, read by type: what a migration must not lose. */
async function snapshot(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const type = await redis.type(key);
      if (type === 'hash') out[key] = await redis.hgetall(key);
      else if (type === 'list') out[key] = await redis.lrange(key, 0, -1);
      else if (type === 'zset') out[key] = await redis.zrange(key, '0', '-1', 'WITHSCORES');
      else if (type === 'set') out[key] = (await redis.smembers(key)).sort();
      else if (type === 'string') out[key] = await redis.get(key);
      else if (type === 'stream') out[key] = await redis.xrange(key, '-', '+');
      else out[key] = type;
    }
  } while (cursor !== '0');
  return out;
}

/** The keys of the data, not of the job queues, which a start may add or touch. */
const dataKeys = (s: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(s).filter(([k]) => !/:(bull|transactional|campaigns:|deliveries|feed)/.test(k.slice(prefix.length))),
  );

describe('migrations 1 to 3 on a dataset written before newsletters', () => {
  test('file every campaign, sent article and reader under the default newsletter and lose no person, consent record or article', async () => {
    const sentArticle = await seedTodaysLayout();
    const before = dataKeys(await snapshot());
    expect(await redis.get(keys.schemaVersion())).toBeNull();

    app = await startTestApp({ workers: false, prefix, clock: new TestClock() });
    const after = dataKeys(await snapshot());

    // Each key of before but the people's (which migration 4 converts, see subscriber-compaction.test.ts) is there
    // after, equal but for the newsletter now named on each campaign.
    const filed = (key: string, value: Record<string, string>) =>
      /^campaign:\d+$/.test(key.slice(prefix.length + 1)) ? { ...value, newsletter: 'news' } : value;
    const people = /:(subscriber|subscribers|consent:[0-9a-f]{64}$)/;
    for (const [key, value] of Object.entries(before))
      if (!people.test(key.slice(prefix.length)))
        expect({ key, value: after[key] }).toEqual({ key, value: filed(key, value as Record<string, string>) });
    // New: the version, the default newsletter, and what was sent in it: the one article a sent campaign carried.
    expect(
      Object.keys(after)
        .filter((k) => !(k in before) && !people.test(k.slice(prefix.length)))
        .sort(),
    ).toEqual(
      // The readers' bitmap and the records come from migration 4, which the same start runs.
      [
        keys.newsletters(),
        keys.schemaVersion(),
        keys.newsletterSent('news'),
        keys.newsletterMembers('news'),
        keys.subscriberBucket(1),
        keys.subscriberStrings(),
      ].sort(),
    );
    expect(after[keys.newsletterSent('news')]).toEqual([String(sentArticle)]);
    expect(await redis.get(keys.schemaVersion())).toBe(String(MIGRATIONS.at(-1)!.version));

    // Through the service: both campaigns in "news"; its members are the four active people, in id order.
    const { container } = app;
    expect((await container.campaigns.list()).map((c) => [c.subject, c.newsletter])).toEqual([
      ['Draft', 'news'],
      ['Sent', 'news'],
    ]);
    // The article sent before is no longer new in the default newsletter, and still new in another.
    await container.newsletters.create({ slug: 'weekly', name: 'Weekly' });
    expect((await container.campaigns.create({})).articleIds).toEqual([sentArticle + 1]);
    expect((await container.campaigns.create({ newsletter: 'weekly' })).articleIds.sort()).toEqual([
      sentArticle,
      sentArticle + 1,
    ]);
    const members = await container.subscribers.getMany(await container.subscribers.pageMemberIds('news', 0, 100));
    expect(members.map((m) => [m?.email, m?.newsletters])).toEqual([
      ['Imported.Reader@example.com', ['news']],
      ['confirmed@example.com', ['news']],
      ['changer@example.com', ['news']],
      ['Old.Timer@example.com', ['news']],
    ]);
    // The pending person asked for the one newsletter there was: confirming makes them its reader.
    const pending = (await container.subscribers.getByEmail('pending@example.com'))!;
    expect(pending.requestedNewsletters).toEqual(['news']);
    const token = container.tokens.issue('confirm', pending.id);
    await container.subscriptions.confirm(token, { ip: '203.0.113.9', userAgent: 'test' });
    expect(await container.subscribers.countMembers('news')).toBe(5);
    const left = await container.subscriptions.export('left@example.com');
    expect([left.subscriber.status, left.trail.map((e) => [e.type, e.detail])]).toEqual([
      'unsubscribed',
      [
        ['subscribed', 'newsletters: news'],
        ['confirmed', 'newsletters: news'],
        ['unsubscribed', 'one-click'],
      ],
    ]);
  });

  test('a second start changes nothing', async () => {
    await seedTodaysLayout();
    app = await startTestApp({ workers: false, prefix, clock: new TestClock() });
    const once = dataKeys(await snapshot());
    await app.container.close();
    app = await startTestApp({ workers: false, prefix, clock: new TestClock() });
    expect(dataKeys(await snapshot())).toEqual(once);
  });
});

describe('runMigrations', () => {
  const ctx = (): MigrationContext => ({
    redis,
    keys,
    log: pino({ level: 'silent' }),
    clock: new TestClock(),
    defaultNewsletter: 'news',
  });
  const slow = (runs: number[], version: number) => ({
    version,
    name: `step ${version}`,
    async up() {
      runs.push(version);
      await new Promise((ok) => setTimeout(ok, 150));
    },
  });

  test('five processes starting together run each migration once, and all wait for the last', async () => {
    const runs: number[] = [];
    const migrations = [slow(runs, 1), slow(runs, 2)];
    const versions = await Promise.all(
      Array.from({ length: 5 }, () => runMigrations(ctx(), { migrations, pollMs: 20 })),
    );
    expect(runs).toEqual([1, 2]);
    expect(versions).toEqual([2, 2, 2, 2, 2]);
    expect(await redis.get(keys.migrationLock())).toBeNull();
  });

  test('a migration that fails keeps the version before it and frees the lock; the next start runs only it', async () => {
    const runs: number[] = [];
    let fail = true;
    const flaky = {
      version: 2,
      name: 'flaky',
      up() {
        runs.push(2);
        return fail ? Promise.reject(new Error('interrupted')) : Promise.resolve();
      },
    };
    await expect(runMigrations(ctx(), { migrations: [slow(runs, 1), flaky] })).rejects.toThrow('interrupted');
    expect(await redis.get(keys.schemaVersion())).toBe('1');
    expect(await redis.get(keys.migrationLock())).toBeNull();
    fail = false;
    expect(await runMigrations(ctx(), { migrations: [slow(runs, 1), flaky] })).toBe(2);
    expect(runs).toEqual([1, 2, 2]);
  });

  test('a holder that lost its lock to another process does not record its version', async () => {
    const stolen = {
      version: 1,
      name: 'stalls',
      async up() {
        // Another process took the lock after this one's expired.
        await redis.set(keys.migrationLock(), 'someone-else');
      },
    };
    await expect(runMigrations(ctx(), { migrations: [stolen] })).rejects.toThrow(/lost the lock/);
    expect(await redis.get(keys.schemaVersion())).toBeNull();
    expect(await redis.get(keys.migrationLock())).toBe('someone-else');
  });
});
