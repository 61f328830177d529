import { randomBytes } from 'node:crypto';
import { SignedTokens } from '../../src/domain/signed-token';
import { startTestApp, TEST_SECRETS, type TestApp } from '../support/test-app';

/**
 * APP_SECRET rotated the way the README says: the new deployment signs with the new secret and lists the old one in
 * APP_SECRET_PREVIOUS. Links mailed before the rotation (signed by the old deployment, running here on the same
 * data) must keep working; a link signed with a secret the service never had must not.
 */
const OLD_SECRET = TEST_SECRETS.APP_SECRET;
const NEW_SECRET = `new-app-secret-${randomBytes(16).toString('hex')}`;

let before: TestApp;
let rotated: TestApp;
let unrotated: TestApp;

beforeAll(async () => {
  before = await startTestApp({ workers: false, env: { SIGNUP_RATE_PER_IP: '1000' } });
  const shared = { workers: false, prefix: before.prefix };
  [rotated, unrotated] = await Promise.all([
    startTestApp({ ...shared, env: { APP_SECRET: NEW_SECRET, APP_SECRET_PREVIOUS: `${OLD_SECRET}` } }),
    startTestApp({ ...shared, env: { APP_SECRET: NEW_SECRET } }),
  ]);
});
afterAll(async () => {
  // Each stop deletes the shared prefix's keys: the last one leaves nothing behind.
  await rotated?.stop();
  await unrotated?.stop();
  await before?.stop();
});

/** A pending signup made through the old deployment, as a visitor would. */
async function pendingSignup(email: string): Promise<number> {
  const res = await fetch(`${before.base}/api/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, consent: true }),
  });
  expect(res.status).toBe(202);
  return (await before.container.subscribers.getByEmail(email))!.id;
}

const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

function post(app: TestApp, path: string, fields: Record<string, string>) {
  return fetch(`${app.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

async function statusOf(email: string): Promise<string> {
  return (await rotated.container.subscribers.getByEmail(email))!.status;
}

test('a confirmation link signed before the rotation still confirms after it', async () => {
  const id = await pendingSignup('rotate-confirm@example.com');
  const token = tokenOf(before.container.links.confirm(id));

  expect((await fetch(`${rotated.base}/confirm?token=${token}`)).status).toBe(200);
  const res = await post(rotated, '/confirm', { token });
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('You are subscribed');
  expect(await statusOf('rotate-confirm@example.com')).toBe('active');
});

test('unsubscribe and preference links signed before the rotation still work after it', async () => {
  const id = await pendingSignup('rotate-leave@example.com');
  await post(rotated, '/confirm', { token: tokenOf(before.container.links.confirm(id)) });
  const preferences = tokenOf(before.container.links.preferences(id));
  const unsubscribe = tokenOf(before.container.links.unsubscribe(id).url);

  const page = await fetch(`${rotated.base}/preferences?token=${preferences}`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('rotate-leave@example.com');
  expect((await fetch(`${rotated.base}/unsubscribe?token=${unsubscribe}`)).status).toBe(200);
  // RFC 8058 one-click, as a mail provider sends it from the List-Unsubscribe header of an old mail.
  const res = await post(rotated, `/unsubscribe?token=${unsubscribe}`, { 'List-Unsubscribe': 'One-Click' });
  expect(res.status).toBe(200);
  expect(await statusOf('rotate-leave@example.com')).toBe('unsubscribed');
});

test('links the rotated service issues are signed with the new secret, which the old deployment refuses', async () => {
  const id = await pendingSignup('rotate-new@example.com');
  const token = tokenOf(rotated.container.links.preferences(id));
  expect((await fetch(`${rotated.base}/preferences?token=${token}`)).status).toBe(200);
  expect((await fetch(`${before.base}/preferences?token=${token}`)).status).toBe(400);
});

test('without APP_SECRET_PREVIOUS the old links are refused: the setting is what keeps them alive', async () => {
  const id = await pendingSignup('rotate-unlisted@example.com');
  const token = tokenOf(before.container.links.unsubscribe(id).url);
  const res = await fetch(`${unrotated.base}/unsubscribe?token=${token}`);
  expect(res.status).toBe(400);
  expect(await res.text()).toContain('not valid');
});

test('a link signed with a secret the service never had is refused, before and after the rotation', async () => {
  const id = await pendingSignup('rotate-forged@example.com');
  const forger = new SignedTokens({
    secret: `forged-${randomBytes(20).toString('hex')}`,
    clock: { now: () => new Date() },
  });
  for (const app of [before, rotated]) {
    for (const path of ['/confirm', '/unsubscribe', '/preferences']) {
      const purpose = path.slice(1) as 'confirm' | 'unsubscribe' | 'preferences';
      const res = await fetch(`${app.base}${path}?token=${forger.issue(purpose, id)}`);
      expect(`${path} ${res.status}`).toBe(`${path} 400`);
    }
  }
  expect(await statusOf('rotate-forged@example.com')).toBe('pending');
});
