import pino from 'pino';
import type { SubscriberStatus } from '../../src/domain/subscriber';
import { SuppressionPolicy, type Feedback } from '../../src/domain/suppression-policy';
import { startTestApp, TestClock, type TestApp } from '../support/test-app';

const clock = new TestClock();
let app: TestApp;
let policy: SuppressionPolicy;
let n = 0;

beforeAll(async () => {
  app = await startTestApp({ clock, workers: false });
  const { subscribers, metrics } = app.container;
  policy = new SuppressionPolicy({ subscribers, metrics, clock, log: pino({ level: 'silent' }) });
});
afterAll(() => app.stop());

const consent = {
  at: '2026-01-01T00:00:00.000Z',
  ip: '203.0.113.9',
  userAgent: 'seed',
  termsVersion: '2026-01',
  termsHash: 'h',
  source: 'test',
};

/** A fresh person with this status, as the store holds them. */
async function person(status: SubscriberStatus = 'active') {
  const email = `person${++n}@policy.test`;
  await app.container.subscribers.create({ email, name: '', status, consent, now: clock.now().toISOString() });
  return (await app.container.subscribers.getByEmail(email))!;
}

const apply = async (status: SubscriberStatus, feedback: Feedback) => {
  const sub = await person(status);
  const effect = await policy.apply(sub, feedback);
  const after = (await app.container.subscribers.get(sub.id))!;
  const trail = await app.container.subscribers.consentTrail(sub.email);
  const suppressed = await app.container.subscribers.isSuppressed(sub.email);
  return { sub, effect, after, trail, suppressed };
};

/** A counter's value as GET /metrics shows it. */
async function counter(line: string): Promise<number> {
  const text = await (await fetch(`${app.base}/metrics`)).text();
  const m = new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const at = () => clock.now().toISOString();
const signup = (email: string) =>
  fetch(`${app.base}/api/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, consent: true }),
  });

test('a hard bounce moves an active person to bounced, suppresses the address and records why', async () => {
  const before = await counter('newsletter_bounces_total{type="hard"}');
  const r = await apply('active', { type: 'hard_bounce', reason: '550 5.1.1 No such user', campaignId: 7 });
  expect(r.effect).toBe('bounced');
  expect(r.after).toMatchObject({ status: 'bounced', bouncedAt: at(), updatedAt: at() });
  expect(r.suppressed).toBe(true);
  expect(r.trail.map((e) => [e.type, e.detail])).toEqual([['bounced', 'smtp: campaign 7: 550 5.1.1 No such user']]);
  expect(await app.container.subscribers.pageActiveIds(r.sub.id - 1, 1)).not.toContain(r.sub.id);
  expect(await counter('newsletter_bounces_total{type="hard"}')).toBe(before + 1);
});

test('a pending person whose confirmation bounces ends bounced too; a second report changes nothing but is recorded', async () => {
  const r = await apply('pending', { type: 'hard_bounce', reason: '550 mailbox unavailable' });
  expect(r.after.status).toBe('bounced');
  expect(await policy.apply(r.after, { type: 'hard_bounce', reason: '550 again' })).toBe('unchanged');
  const trail = await app.container.subscribers.consentTrail(r.sub.email);
  expect(trail.map((e) => e.detail)).toEqual(['smtp: 550 mailbox unavailable', 'smtp: 550 again']);
});

test('a soft bounce changes nothing for the person and only counts', async () => {
  const before = await counter('newsletter_bounces_total{type="soft"}');
  const r = await apply('active', { type: 'soft_bounce', reason: '452 mailbox full', campaignId: 3 });
  expect(r.effect).toBe('unchanged');
  expect(r.after.status).toBe('active');
  expect(r.suppressed).toBe(false);
  expect(r.trail).toEqual([]);
  expect(await counter('newsletter_bounces_total{type="soft"}')).toBe(before + 1);
});

test('a complaint unsubscribes and suppresses: a later signup from the address sends nothing', async () => {
  const before = await counter('newsletter_complaints_total');
  const r = await apply('active', { type: 'complaint', campaignId: 5 });
  expect(r.effect).toBe('unsubscribed');
  expect(r.after).toMatchObject({ status: 'unsubscribed', unsubscribedAt: at() });
  expect(r.suppressed).toBe(true);
  expect(r.trail.map((e) => [e.type, e.detail])).toEqual([['complained', 'smtp: campaign 5: marked as spam']]);
  expect(await counter('newsletter_complaints_total')).toBe(before + 1);

  expect((await signup(r.sub.email)).status).toBe(202);
  expect((await app.container.subscribers.get(r.sub.id))!.status).toBe('unsubscribed');
  expect(await app.container.subscribers.consentTrail(r.sub.email)).toHaveLength(1);
});

test('an unsubscribe records the evidence once and is not a suppression: the person may sign up again', async () => {
  const before = await counter('newsletter_unsubscribes_total{method="one-click"}');
  const from = { ip: '198.51.100.4', userAgent: 'Mail\r\nClient' };
  const r = await apply('active', { type: 'unsubscribe', method: 'one-click', from });
  expect(r.effect).toBe('unsubscribed');
  expect(r.after.status).toBe('unsubscribed');
  expect(r.suppressed).toBe(false);
  expect(r.trail).toEqual([
    { id: '1', type: 'unsubscribed', at: at(), ip: '198.51.100.4', userAgent: 'Mail  Client', detail: 'one-click' },
  ]);
  expect(await policy.apply(r.after, { type: 'unsubscribe', method: 'page', from })).toBe('unchanged');
  expect(await app.container.subscribers.consentTrail(r.sub.email)).toHaveLength(1);
  expect(await counter('newsletter_unsubscribes_total{method="one-click"}')).toBe(before + 1);

  expect((await signup(r.sub.email)).status).toBe(202);
  expect((await app.container.subscribers.get(r.sub.id))!.status).toBe('pending');
});
