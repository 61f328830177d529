import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { AuthFailureRateLimits } from '../../src/store/auth-failure-limits';
import { Keys } from '../../src/store/keys';
import { deleteKeys, startTestApp, TEST_REDIS, type TestApp } from '../support/test-app';

/**
 * Guessing the admin token over HTTP: refused bearer tokens count against the client's IP (X-Forwarded-For, with
 * TRUST_PROXY=1, so one test can speak from several addresses), and past ADMIN_AUTH_FAILURES_PER_IP the address
 * gets 429 with Retry-After even for the right token.
 */
const LIMIT = 3;
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ workers: false, env: { ADMIN_AUTH_FAILURES_PER_IP: String(LIMIT), TRUST_PROXY: '1' } });
});
afterAll(async () => {
  await app?.stop();
});

/** A fresh client address for each test, so the tests do not share a count. */
const someIp = () => `203.0.113.${1 + (randomBytes(1)[0] % 250)}`;
const ipsUsed = new Set<string>();
function freshIp(): string {
  for (;;) {
    const ip = someIp();
    if (!ipsUsed.has(ip)) {
      ipsUsed.add(ip);
      return ip;
    }
  }
}

function stats(ip: string, token: string) {
  return fetch(`${app.base}/api/admin/stats`, {
    headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': ip },
  });
}
const right = () => app.adminHeaders.authorization.slice('Bearer '.length);
const wrong = () => `guess-${randomBytes(12).toString('hex')}`;

test('past the limit of refused tokens an address gets 429 with Retry-After, even with the right token', async () => {
  const ip = freshIp();
  for (let i = 0; i < LIMIT; i++) expect((await stats(ip, wrong())).status).toBe(401);

  for (const token of [right(), wrong()]) {
    const res = await stats(ip, token);
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    // The 15-minute window, less the seconds this test has taken so far.
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      error: {
        code: 'rate_limited',
        message: expect.stringContaining('Too many refused tokens'),
        details: { retryAfterSeconds: retryAfter },
      },
    });
  }
});

test('successes do not count: many good requests between refusals leave the address its full allowance', async () => {
  const ip = freshIp();
  for (let round = 0; round < LIMIT - 1; round++) {
    expect((await stats(ip, wrong())).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await stats(ip, right())).status).toBe(200);
  }
  expect((await stats(ip, right())).status).toBe(200);
  // The last refusal the limit allows: only now is the address locked out.
  expect((await stats(ip, wrong())).status).toBe(401);
  expect((await stats(ip, right())).status).toBe(429);
});

test('the count is per address: another client is not locked out by a guesser', async () => {
  const guesser = freshIp();
  for (let i = 0; i < LIMIT; i++) await stats(guesser, wrong());
  expect((await stats(guesser, right())).status).toBe(429);
  expect((await stats(freshIp(), right())).status).toBe(200);
});

test('a malformed Authorization header counts as a refused token too', async () => {
  const ip = freshIp();
  for (let i = 0; i < LIMIT; i++) {
    const res = await fetch(`${app.base}/api/admin/stats`, {
      headers: { authorization: 'Basic x', 'x-forwarded-for': ip },
    });
    expect(res.status).toBe(401);
  }
  expect((await stats(ip, right())).status).toBe(429);
});

test('the lockout is written to the audit log once, with the address', async () => {
  const ip = freshIp();
  for (let i = 0; i < LIMIT + 3; i++) await stats(ip, wrong());
  const res = await fetch(`${app.base}/api/admin/audit?action=admin_auth.locked_out`, {
    headers: { ...app.adminHeaders, 'x-forwarded-for': freshIp() },
  });
  expect(res.status).toBe(200);
  const { entries } = (await res.json()) as { entries: { actor: object; object: { id: string }; ip: string }[] };
  const mine = entries.filter((e) => e.ip === ip);
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({ actor: { kind: 'anonymous' }, object: { type: 'ip', id: ip } });
});

test('the lockout ends when the window from the first refusal has passed', async () => {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const redis = new Redis(TEST_REDIS);
  try {
    const limits = new AuthFailureRateLimits({ redis, keys: new Keys(prefix) }, { perIp: 2, windowSeconds: 2 });
    expect(await limits.fail('198.51.100.7')).toBe(0);
    expect(await limits.lockedFor('198.51.100.7')).toBe(0);
    // The failure that reaches the limit reports the lockout it starts; later ones do not report it again.
    expect(await limits.fail('198.51.100.7')).toBeGreaterThan(0);
    expect(await limits.fail('198.51.100.7')).toBe(0);
    expect(await limits.lockedFor('198.51.100.7')).toBeGreaterThan(0);
    expect(await limits.lockedFor('198.51.100.8')).toBe(0);
    await new Promise((ok) => setTimeout(ok, 2500));
    expect(await limits.lockedFor('198.51.100.7')).toBe(0);
  } finally {
    await deleteKeys(`${prefix}:*`, redis);
    redis.disconnect();
  }
});
