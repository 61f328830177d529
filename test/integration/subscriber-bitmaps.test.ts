import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../src/store/keys';
import { SubscriberStore } from '../../src/store/subscriber-store';
import { deleteKeys, TEST_REDIS } from '../support/redis';

/**
 * A newsletter's readers are a bitmap the store pages through a few KB at a time, skipping empty stretches, and
 * counts up to an id with BITCOUNT over whole bytes plus the last byte's bits. The ids here sit on the edges: byte
 * boundaries, the 4,096-byte chunk boundary (id 32,768), and a long empty stretch.
 */
const redis = new Redis(TEST_REDIS);
const prefix = `bm${randomBytes(5).toString('hex')}`;
const keys = new Keys(prefix);
const store = new SubscriberStore({ redis, keys });
const IDS = [1, 7, 8, 15, 16, 32_767, 32_768, 32_769, 100_000, 500_000];

beforeAll(async () => {
  for (const id of IDS) await redis.setbit(keys.newsletterMembers('news'), id, 1);
});

afterAll(async () => {
  await deleteKeys(`${prefix}:*`, redis);
  await redis.quit();
});

test('pages in id order, any page size, from any id, across chunks and empty stretches', async () => {
  for (const limit of [1, 3, 4, 1000]) {
    const seen: number[] = [];
    for (let after = 0; ;) {
      const page = await store.pageMemberIds('news', after, limit);
      if (!page.length) break;
      expect(page.length).toBeLessThanOrEqual(limit);
      seen.push(...page);
      after = page[page.length - 1];
    }
    expect(seen).toEqual(IDS);
  }
  expect(await store.pageMemberIds('news', 7, 2)).toEqual([8, 15]);
  expect(await store.pageMemberIds('news', 32_767, 2)).toEqual([32_768, 32_769]);
  expect(await store.pageMemberIds('news', 100_000, 10)).toEqual([500_000]);
  expect(await store.pageMemberIds('news', 500_000, 10)).toEqual([]);
  expect(await store.pageMemberIds('nobody-reads', 0, 10)).toEqual([]);
});

test('counts the readers with an id up to any id, the partial last byte included', async () => {
  for (const maxId of [0, 1, 6, 7, 8, 14, 15, 16, 17, 32_767, 32_768, 99_999, 100_000, 499_999, 500_000, 10_000_000])
    expect({ maxId, n: await store.countMembers('news', maxId) }).toEqual({
      maxId,
      n: IDS.filter((id) => id <= maxId).length,
    });
  expect(await store.countMembers('news')).toBe(IDS.length);
  expect(await store.countMembers('nobody-reads', 100)).toBe(0);
});
