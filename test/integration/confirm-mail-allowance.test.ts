import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../src/store/keys';
import { RateLimits } from '../../src/store/rate-limits';
import { SubscriberStore } from '../../src/store/subscriber-store';
import { deleteKeys, TEST_REDIS } from '../support/redis';

/**
 * The confirmation mails one address may be sent per hour are counted in the person's record, not in a key that
 * expires: a signup leaves nothing per person that Redis must expire.
 */
const redis = new Redis(TEST_REDIS);
const prefix = `cm${randomBytes(5).toString('hex')}`;
const keys = new Keys(prefix);
const store = new SubscriberStore({ redis, keys });
const HOUR = 3_600_000;

afterAll(async () => {
  await deleteKeys(`${prefix}:*`, redis);
  await redis.quit();
});

const person = async (email: string) =>
  (
    await store.create({
      email,
      name: '',
      status: 'pending',
      consent: {
        at: '2026-06-01T09:00:00.000Z',
        ip: '203.0.113.1',
        userAgent: 'UA',
        termsVersion: '1',
        termsHash: 'h',
        source: 'form',
      },
      now: '2026-06-01T09:00:00.000Z',
      newsletters: ['news'],
    })
  ).id;

test('three mails an hour per person: the fourth is refused until the hour from the first has passed', async () => {
  const id = await person('ada@example.com');
  const other = await person('bob@example.com');
  const t0 = new Date('2026-06-01T09:00:00.000Z');
  const at = (ms: number) => new Date(t0.getTime() + ms);
  const takes = [];
  for (const ms of [0, 1000, 2000, 3000]) takes.push(await store.takeConfirmMail(id, at(ms), 3, HOUR));
  expect(takes).toEqual([true, true, true, false]);
  // Another person's allowance is their own.
  expect(await store.takeConfirmMail(other, at(3000), 3, HOUR)).toBe(true);
  expect(await store.takeConfirmMail(id, at(HOUR - 1), 3, HOUR)).toBe(false);
  expect(await store.takeConfirmMail(id, at(HOUR), 3, HOUR)).toBe(true);
  // A clock set back (another process's) starts a new window rather than locking the person out.
  expect(await store.takeConfirmMail(id, at(-HOUR), 3, HOUR)).toBe(true);
  // The record is otherwise untouched.
  expect(await store.get(id)).toMatchObject({
    email: 'ada@example.com',
    status: 'pending',
    requestedNewsletters: ['news'],
  });
});

test('RateLimits takes the allowance from the record; no key under the prefix expires', async () => {
  const limits = new RateLimits(
    { redis, keys, subscribers: store },
    { signupsPerIp: 100, confirmMailsPerAddressPerHour: 2 },
  );
  const id = await person('carol@example.com');
  expect([
    await limits.takeConfirmMail(id),
    await limits.takeConfirmMail(id),
    await limits.takeConfirmMail(id),
  ]).toEqual([true, true, false]);
  // A person no longer held (erased meanwhile) has nothing to count against.
  expect(await limits.takeConfirmMail(999_999)).toBe(true);
  const found = await redis.keys(`${prefix}:*`);
  expect(found.length).toBeGreaterThan(0);
  for (const key of found) expect({ key, ttl: await redis.pttl(key) }).toEqual({ key, ttl: -1 });
});

test('a person created by a signup has used one mail of the allowance, and holds the signup in the trail', async () => {
  const limits = new RateLimits(
    { redis, keys, subscribers: store },
    { signupsPerIp: 100, confirmMailsPerAddressPerHour: 3 },
  );
  const at = '2026-06-01T09:00:00.000Z';
  const evidence = {
    at,
    ip: '203.0.113.1',
    userAgent: 'UA',
    termsVersion: '1',
    termsHash: 'h',
    source: 'form',
  };
  const { id, created } = await store.create({
    email: 'dora@example.com',
    name: '',
    status: 'pending',
    consent: evidence,
    now: at,
    newsletters: ['news'],
    signup: { type: 'subscribed', at, evidence, detail: 'newsletters: news' },
  });
  expect(created).toBe(true);
  // Two more this hour (the signup's was the first), then none.
  expect([
    await limits.takeConfirmMail(id),
    await limits.takeConfirmMail(id),
    await limits.takeConfirmMail(id),
  ]).toEqual([true, true, false]);
  const { at: _consentTime, ...held } = evidence;
  expect(await store.consentTrail('dora@example.com')).toEqual([
    { id: '1', type: 'subscribed', at, ...held, detail: 'newsletters: news' },
  ]);
});
