import { createHmac } from 'node:crypto';
import { seedAddresses } from '../support/seed';
import { startTestApp, TestClock, type TestApp } from '../support/test-app';
import { personView, postWebhook, reports } from '../support/webhooks';

const SECRET = 'generic-webhook-secret-0123456789abcdef';
const clock = new TestClock();
let app: TestApp;
let n = 0;

beforeAll(async () => {
  app = await startTestApp({ workers: false, clock, env: { WEBHOOK_SECRET: SECRET } });
});
afterAll(() => app.stop());

/** A fresh active reader. */
async function reader(): Promise<string> {
  const email = `reader${++n}@generic.test`;
  await seedAddresses(app.container, [email]);
  return email;
}

const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);
const sign = (body: string | Buffer, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Posts a report signed as a sender with WEBHOOK_SECRET would. */
function send(report: Record<string, unknown>) {
  const body = JSON.stringify(report);
  return postWebhook(app, 'generic', body, { 'x-webhook-signature': sign(body) });
}

test('a hard bounce makes the reader bounced, with the report in their trail', async () => {
  const email = await reader();
  const r = await send({
    id: 'evt-1',
    type: 'bounce',
    bounceType: 'hard',
    email,
    reason: '550 5.1.1 no such user',
    timestamp: nowSeconds(),
  });
  expect(r).toEqual({ status: 200, body: { received: 1 } });
  const view = await personView(app, email);
  expect(view.status).toBe('bounced');
  expect(reports(view)).toEqual([['bounced', 'generic: 550 5.1.1 no such user']]);
});

test('a bounce without bounceType is hard; a soft bounce leaves the reader active', async () => {
  const hard = await reader();
  const soft = await reader();
  expect((await send({ id: 'evt-2', type: 'bounce', email: hard, timestamp: nowSeconds() })).status).toBe(200);
  const r = await send({ id: 'evt-3', type: 'bounce', bounceType: 'soft', email: soft, timestamp: nowSeconds() });
  expect(r.status).toBe(200);
  expect((await personView(app, hard)).status).toBe('bounced');
  const s = await personView(app, soft);
  expect(s.status).toBe('active');
  expect(reports(s)).toEqual([['soft_bounced', 'generic: bounced']]);
});

test('a complaint unsubscribes and records the complaint; an unsubscribe unsubscribes', async () => {
  const complainer = await reader();
  const leaver = await reader();
  const iso = clock.now().toISOString();
  expect((await send({ id: 'evt-4', type: 'complaint', email: complainer, timestamp: iso })).status).toBe(200);
  expect((await send({ id: 'evt-5', type: 'unsubscribe', email: leaver, timestamp: iso })).status).toBe(200);
  const c = await personView(app, complainer);
  expect(c.status).toBe('unsubscribed');
  expect(reports(c)).toEqual([['complained', 'generic: marked as spam']]);
  const l = await personView(app, leaver);
  expect(l.status).toBe('unsubscribed');
  expect(reports(l)).toEqual([['unsubscribed', 'provider (generic)']]);
});

test('the same report delivered twice is applied once', async () => {
  const email = await reader();
  const report = { id: 'evt-6', type: 'bounce', email, reason: '550 gone', timestamp: nowSeconds() };
  expect((await send(report)).status).toBe(200);
  expect((await send(report)).status).toBe(200);
  expect(reports(await personView(app, email))).toEqual([['bounced', 'generic: 550 gone']]);
});

test('an unknown address gets the same answer as a known one', async () => {
  const known = await send({ id: 'evt-7', type: 'bounce', email: await reader(), timestamp: nowSeconds() });
  const unknown = await send({ id: 'evt-8', type: 'bounce', email: 'nobody@generic.test', timestamp: nowSeconds() });
  expect(unknown).toEqual(known);
  expect(unknown).toEqual({ status: 200, body: { received: 1 } });
});

test('a body changed by one byte after signing is refused with 401 and changes nothing', async () => {
  const email = await reader();
  const body = JSON.stringify({ id: 'evt-9', type: 'bounce', email, timestamp: nowSeconds() });
  const signature = sign(body);
  const tampered = body.replace('"bounce"', '"bouncf"');
  expect(tampered).not.toBe(body);
  const r = await postWebhook(app, 'generic', tampered, { 'x-webhook-signature': signature });
  expect(r.status).toBe(401);
  expect(r.body.error?.code).toBe('invalid_signature');
  expect(await personView(app, email)).toEqual({ status: 'active', trail: [] });
});

test('a missing, misshapen or wrongly keyed signature is refused with 401', async () => {
  const email = await reader();
  const body = JSON.stringify({ id: 'evt-10', type: 'bounce', email, timestamp: nowSeconds() });
  const missing = await postWebhook(app, 'generic', body);
  expect(missing.status).toBe(401);
  expect(missing.body.error).toEqual({
    code: 'invalid_signature',
    message: 'The X-Webhook-Signature header is missing.',
  });
  const bare = await postWebhook(app, 'generic', body, { 'x-webhook-signature': sign(body).slice('sha256='.length) });
  expect(bare.status).toBe(401);
  const otherKey = await postWebhook(app, 'generic', body, {
    'x-webhook-signature': sign(body, 'another-secret-0123456789abcdefghij'),
  });
  expect(otherKey.status).toBe(401);
  expect((await personView(app, email)).status).toBe('active');
});

test('a report signed longer ago than five minutes is refused as a replay; four minutes is fine', async () => {
  const email = await reader();
  const stale = await send({ id: 'evt-11', type: 'bounce', email, timestamp: nowSeconds() - 6 * 60 });
  expect(stale.status).toBe(401);
  expect(stale.body.error?.code).toBe('stale_signature');
  const future = await send({ id: 'evt-12', type: 'bounce', email, timestamp: nowSeconds() + 10 * 60 });
  expect(future.status).toBe(401);
  expect(future.body.error?.code).toBe('stale_signature');
  expect((await personView(app, email)).status).toBe('active');

  const isoFourMinutesAgo = new Date(clock.now().getTime() - 4 * 60_000).toISOString();
  expect((await send({ id: 'evt-13', type: 'bounce', email, timestamp: isoFourMinutesAgo })).status).toBe(200);
  expect((await personView(app, email)).status).toBe('bounced');
});

test('a signed body that is not a valid report is refused with 400 naming what is wrong', async () => {
  const notJson = '{"id": "evt-14",';
  const r1 = await postWebhook(app, 'generic', notJson, { 'x-webhook-signature': sign(notJson) });
  expect(r1.status).toBe(400);
  expect(r1.body.error?.code).toBe('invalid_request');
  expect(r1.body.error?.message).toMatch(/^The body is not valid JSON/);

  const r2 = await send({ id: 'evt-15', type: 'bonce', email: 'a@generic.test', timestamp: nowSeconds() });
  expect(r2.status).toBe(400);
  expect(r2.body.error?.message).toMatch(/^type: /);

  const r3 = await send({ id: 'evt-16', type: 'bounce', email: 'not-an-address', timestamp: nowSeconds() });
  expect(r3.status).toBe(400);
  expect(r3.body.error?.message).toBe('email: email must look like name@example.com');

  const r4 = await send({ id: 'evt-17', type: 'bounce', email: 'a@generic.test', timestamp: '27/11/2026' });
  expect(r4.status).toBe(400);
  expect(r4.body.error?.message).toMatch(/^timestamp: must be unix seconds or an ISO 8601 date-time/);

  const r5 = await send({ type: 'bounce', email: 'a@generic.test', timestamp: nowSeconds() });
  expect(r5.status).toBe(400);
  expect(r5.body.error?.message).toMatch(/^id: /);
});

test('a body over the size limit is refused with 413', async () => {
  const big = JSON.stringify({ id: 'evt-18', type: 'bounce', email: 'a@generic.test', reason: 'x'.repeat(1_100_000) });
  const r = await postWebhook(app, 'generic', big, { 'x-webhook-signature': sign(big) });
  expect(r.status).toBe(413);
  expect(r.body.error?.code).toBe('payload_too_large');
});
