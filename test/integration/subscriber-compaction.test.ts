import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Redis } from 'ioredis';
import { Keys } from '../../src/store/keys';
import { convertSubscribers } from '../../src/store/subscriber-conversion';
import type { MigrationContext } from '../../src/store/migrations';
import { SubscriberStore } from '../../src/store/subscriber-store';
import expected from '../fixtures/old-layout-answers.json';
import { OLD_ADDRESSES, seedOldSubscribers } from '../support/old-subscriber-layout';
import { deleteKeys, TEST_REDIS } from '../support/redis';
import { startTestApp, TestClock, type TestApp } from '../support/test-app';

/**
 * Migration 4 (compact records) on people written as the store before it wrote them. The expected answers in
 * test/fixtures/old-layout-answers.json are what that store (commit ca62cbc) answered on the very same seed, after
 * its start-up backfill: every person with their trail, the listings, the counts, the readers, the suppressions.
 */
const redis = new Redis(TEST_REDIS);
let prefix: string;
let keys: Keys;
let app: TestApp | undefined;

beforeEach(() => {
  prefix = `mc${randomBytes(5).toString('hex')}`;
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

/** The same questions the old store was asked, as JSON (what the API shows: absent and undefined alike). */
async function answers(s: SubscriberStore): Promise<unknown> {
  const people: { [address: string]: unknown } = {};
  for (const a of OLD_ADDRESSES) people[a] = { subscriber: await s.getByEmail(a), trail: await s.consentTrail(a) };
  const ids = (p: { subscribers: { id: number }[] }) => p.subscribers.map((x) => x.id);
  const out = {
    people,
    listing: {
      all: ids(await s.listSubscribers({ limit: 100 })),
      pending: ids(await s.listSubscribers({ status: 'pending', limit: 100 })),
      active: ids(await s.listSubscribers({ status: 'active', limit: 100 })),
      unsubscribed: ids(await s.listSubscribers({ status: 'unsubscribed', limit: 100 })),
      bounced: ids(await s.listSubscribers({ status: 'bounced', limit: 100 })),
      news: ids(await s.listSubscribers({ newsletter: 'news', limit: 100 })),
      culture: ids(await s.listSubscribers({ newsletter: 'culture', limit: 100 })),
      prefixO: ids(await s.listSubscribers({ addressPrefix: 'o', limit: 100 })),
      prefixB: ids(await s.listSubscribers({ addressPrefix: 'b', limit: 100 })),
    },
    counts: await s.countByStatus(),
    suppressed: await s.countSuppressed(),
    members: {
      news: await s.pageMemberIds('news', 0, 100),
      culture: await s.pageMemberIds('culture', 0, 100),
      newsCount: await s.countMembers('news'),
      newsUpTo2: await s.countMembers('news', 2),
    },
    isSuppressed: await Promise.all([...OLD_ADDRESSES, 'erased@example.com'].map((a) => s.isSuppressed(a))),
    lastId: await s.lastId(),
  };
  return JSON.parse(JSON.stringify(out));
}

/** Every key under the prefix with its type, but the queues' (a start adds those). */
async function keyNames(): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch.map((k) => k.slice(prefix.length + 1)).filter((k) => !/^(bull|feed)/.test(k)));
  } while (cursor !== '0');
  return found.sort();
}

const ctx = (): MigrationContext => ({
  redis,
  keys,
  log: pino({ level: 'silent' }),
  clock: new TestClock(),
  defaultNewsletter: 'news',
});

describe('migration 4: subscribers into compact records', () => {
  test('a start converts everyone: the store answers exactly what the old one did, and the old keys are gone', async () => {
    await seedOldSubscribers(redis, keys);
    await redis.set(keys.schemaVersion(), '3');
    app = await startTestApp({ workers: false, prefix, clock: new TestClock() });
    expect(await redis.get(keys.schemaVersion())).toBe('4');

    expect(await answers(app.container.subscribers)).toEqual(expected);
    const names = await keyNames();
    expect(
      names.filter((k) =>
        /^(subscriber:\d|subscriber:by-email|consent:[0-9a-f]{64}|subscribers:(all|active|pending|unsubscribed|bounced|indexed)$|newsletter:.*:members)/.test(
          k,
        ),
      ),
    ).toEqual([]);
    // Records in one bucket, bitmaps, the address index, the strings table, the suppression set and erasure log.
    expect(names).toEqual(
      expect.arrayContaining([
        'people:0',
        'people:strings',
        'subscribers:by-address',
        'subscribers:bits:all',
        'subscribers:bits:active',
        'newsletter:news:readers',
        'newsletter:culture:readers',
        'suppressed',
        'consent:erasures',
      ]),
    );

    // The converted people go on as anyone: the pending one confirms into both newsletters asked for, the old one
    // without audience indexes is found by address, and the export shows the whole trail.
    const { container } = app;
    const pending = (await container.subscribers.getByEmail('pending@example.com'))!;
    await container.subscriptions.confirm(container.tokens.issue('confirm', pending.id), {
      ip: '203.0.113.9',
      userAgent: 'test',
    });
    expect(await container.subscribers.get(pending.id)).toMatchObject({
      status: 'active',
      newsletters: ['news', 'culture'],
    });
    expect(await container.subscribers.countMembers('culture')).toBe(2);
    const changer = await container.subscriptions.export('CHANGER@example.com');
    expect(changer.trail.map((e) => e.type)).toEqual(['subscribed', 'confirmed', 'newsletters_changed', 'subscribed']);
  });

  test('a run that dies after writing a page runs again to the same result; a run after the end changes nothing', async () => {
    await seedOldSubscribers(redis, keys);
    const unlink = jest.spyOn(redis, 'unlink').mockRejectedValueOnce(new Error('connection lost'));
    await expect(convertSubscribers(ctx())).rejects.toThrow('connection lost');
    unlink.mockRestore();
    // Written, old keys still there: the next run converts them again.
    expect(await redis.exists(keys.subscriber(1))).toBe(1);
    expect(await convertSubscribers(ctx())).toBe(7);
    const store = new SubscriberStore({ redis, keys });
    expect(await answers(store)).toEqual(expected);
    // The strings table holds each shared string once, however many runs met it.
    const strings = await redis.hgetall(keys.subscriberStrings());
    expect(Object.keys(strings).filter((f) => f.startsWith('#') && f !== '#')).toHaveLength(Number(strings['#']));

    const before = await keyNames();
    expect(await convertSubscribers(ctx())).toBe(0);
    expect(await keyNames()).toEqual(before);
    expect(await answers(store)).toEqual(expected);
  });
});
