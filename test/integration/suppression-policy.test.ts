import { PermanentDeliveryError, TransientDeliveryError } from '../../src/domain/errors';
import type { SubscriberStatus } from '../../src/domain/subscriber';
import type { Feedback, SuppressionPolicy } from '../../src/domain/suppression-policy';
import { startTestApp, TestClock, type TestApp } from '../support/test-app';

const clock = new TestClock();
let app: TestApp;
let policy: SuppressionPolicy;
let n = 0;

beforeAll(async () => {
  app = await startTestApp({ clock, workers: false });
  policy = app.container.policy;
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
  await app.container.subscribers.create({
    email,
    name: '',
    status,
    consent,
    now: clock.now().toISOString(),
    newsletters: ['news'],
  });
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
  const before = await counter('newsletter_bounces_total{type="hard",source="smtp"}');
  const r = await apply('active', { type: 'hard_bounce', reason: '550 5.1.1 No such user', campaignId: 7 });
  expect(r.effect).toBe('bounced');
  expect(r.after).toMatchObject({ status: 'bounced', bouncedAt: at(), updatedAt: at() });
  expect(r.suppressed).toBe(true);
  expect(r.trail.map((e) => [e.type, e.detail])).toEqual([['bounced', 'smtp: campaign 7: 550 5.1.1 No such user']]);
  expect(await app.container.subscribers.pageMemberIds('news', r.sub.id - 1, 1)).not.toContain(r.sub.id);
  expect(await counter('newsletter_bounces_total{type="hard",source="smtp"}')).toBe(before + 1);
});

test('a pending person whose confirmation bounces ends bounced too; a second report changes nothing but is recorded', async () => {
  const r = await apply('pending', { type: 'hard_bounce', reason: '550 mailbox unavailable' });
  expect(r.after.status).toBe('bounced');
  expect(await policy.apply(r.after, { type: 'hard_bounce', reason: '550 again' })).toBe('unchanged');
  const trail = await app.container.subscribers.consentTrail(r.sub.email);
  expect(trail.map((e) => e.detail)).toEqual(['smtp: 550 mailbox unavailable', 'smtp: 550 again']);
});

test('a hard bounce lands in the trail with who reported it as its source', async () => {
  const r = await apply('active', { type: 'hard_bounce', reason: '5.1.1 unknown user', source: 'ses' });
  expect(r.trail).toEqual([{ id: '1', type: 'bounced', at: at(), source: 'ses', detail: 'ses: 5.1.1 unknown user' }]);
});

test('a soft bounce below the limit changes nothing for the person but is recorded and counted by source', async () => {
  const before = await counter('newsletter_bounces_total{type="soft",source="postmark"}');
  const r = await apply('active', {
    type: 'soft_bounce',
    reason: '452 mailbox full',
    campaignId: 3,
    source: 'postmark',
  });
  expect(r.effect).toBe('unchanged');
  expect(r.after.status).toBe('active');
  expect(r.suppressed).toBe(false);
  expect(r.trail).toEqual([
    { id: '1', type: 'soft_bounced', at: at(), source: 'postmark', detail: 'postmark: campaign 3: 452 mailbox full' },
  ]);
  expect(await counter('newsletter_bounces_total{type="soft",source="postmark"}')).toBe(before + 1);
});

test('the third soft bounce within 30 days moves the person to bounced and suppresses the address, once', async () => {
  const sub = await person('active');
  const soft = (reason: string): Feedback => ({ type: 'soft_bounce', reason, source: 'mailbox' });
  expect(await policy.apply(sub, soft('mailbox full'))).toBe('unchanged');
  clock.advance(10 * 24 * 3600 * 1000);
  expect(await policy.apply(sub, soft('mailbox full'))).toBe('unchanged');
  clock.advance(10 * 24 * 3600 * 1000);
  expect(await policy.apply(sub, soft('over quota'))).toBe('bounced');
  const after = (await app.container.subscribers.get(sub.id))!;
  expect(after).toMatchObject({ status: 'bounced', bouncedAt: at() });
  expect(await app.container.subscribers.isSuppressed(sub.email)).toBe(true);
  // A fourth finds the person bounced already: recorded as evidence, no second 'bounced' event.
  expect(await policy.apply(after, soft('still full'))).toBe('unchanged');
  const trail = await app.container.subscribers.consentTrail(sub.email);
  expect(trail.map((e) => [e.type, e.source, e.detail])).toEqual([
    ['soft_bounced', 'mailbox', 'mailbox: mailbox full'],
    ['soft_bounced', 'mailbox', 'mailbox: mailbox full'],
    ['soft_bounced', 'mailbox', 'mailbox: over quota'],
    ['bounced', 'mailbox', '3 soft bounces in 30 days'],
    ['soft_bounced', 'mailbox', 'mailbox: still full'],
  ]);
});

test('soft bounces more than 30 days old do not count towards the limit', async () => {
  const sub = await person('active');
  const soft: Feedback = { type: 'soft_bounce', reason: 'mailbox full', source: 'generic' };
  expect(await policy.apply(sub, soft)).toBe('unchanged');
  expect(await policy.apply(sub, soft)).toBe('unchanged');
  clock.advance(31 * 24 * 3600 * 1000);
  expect(await policy.apply(sub, soft)).toBe('unchanged');
  expect(await policy.apply(sub, soft)).toBe('unchanged');
  expect((await app.container.subscribers.get(sub.id))!.status).toBe('active');
  expect(await policy.apply(sub, soft)).toBe('bounced');
});

describe('sendFailed: what a failed send in our own SMTP session says', () => {
  const deferral = () => new TransientDeliveryError('451 4.7.1 greylisted, try again later', 451);

  test('a 4xx that will be retried is a deferral: nothing recorded, nothing counted', async () => {
    const sub = await person('active');
    const before = await counter('newsletter_bounces_total{type="soft",source="smtp"}');
    for (let i = 0; i < 5; i++)
      expect(await policy.sendFailed(sub, deferral(), { campaignId: 4, willRetry: true })).toBe('unchanged');
    expect(await app.container.subscribers.consentTrail(sub.email)).toEqual([]);
    expect((await app.container.subscribers.get(sub.id))!.status).toBe('active');
    expect(await counter('newsletter_bounces_total{type="soft",source="smtp"}')).toBe(before);
  });

  test('a 4xx on the last try is a soft bounce from smtp; a 5xx a hard bounce; no answer code says nothing', async () => {
    const sub = await person('active');
    expect(await policy.sendFailed(sub, deferral(), { campaignId: 4, willRetry: false })).toBe('unchanged');
    const noAnswer = new TransientDeliveryError('connect ECONNREFUSED');
    expect(await policy.sendFailed(sub, noAnswer, { willRetry: false })).toBe('unchanged');
    const refused = new PermanentDeliveryError('550 5.1.1 no such user', 550);
    expect(await policy.sendFailed(sub, refused, { campaignId: 4, willRetry: true })).toBe('bounced');
    const trail = await app.container.subscribers.consentTrail(sub.email);
    expect(trail.map((e) => [e.type, e.source, e.detail])).toEqual([
      ['soft_bounced', 'smtp', 'smtp: campaign 4: 451 4.7.1 greylisted, try again later'],
      ['bounced', 'smtp', 'smtp: campaign 4: 550 5.1.1 no such user'],
    ]);
  });
});

test('a complaint unsubscribes and suppresses until the person signs up again and confirms', async () => {
  const before = await counter('newsletter_complaints_total{source="smtp"}');
  const r = await apply('active', { type: 'complaint', campaignId: 5 });
  expect(r.effect).toBe('unsubscribed');
  expect(r.after).toMatchObject({ status: 'unsubscribed', unsubscribedAt: at() });
  expect(r.suppressed).toBe(true);
  expect(r.trail.map((e) => [e.type, e.detail])).toEqual([['complained', 'smtp: campaign 5: marked as spam']]);
  expect(await counter('newsletter_complaints_total{source="smtp"}')).toBe(before + 1);

  // A signup alone does not lift it: anyone can type an address into a form.
  expect((await signup(r.sub.email)).status).toBe(202);
  expect((await app.container.subscribers.get(r.sub.id))!.status).toBe('pending');
  expect(await app.container.subscribers.isSuppressed(r.sub.email)).toBe(true);
  const token = app.container.tokens.issue('confirm', r.sub.id);
  await app.container.subscriptions.confirm(token, { ip: '198.51.100.4', userAgent: 'Phone' });
  expect(await app.container.subscribers.get(r.sub.id)).toMatchObject({ status: 'active', newsletters: ['news'] });
  expect(await app.container.subscribers.isSuppressed(r.sub.email)).toBe(false);
  const trail = await app.container.subscribers.consentTrail(r.sub.email);
  expect(trail.map((e) => [e.type, e.ip])).toEqual([
    ['complained', undefined],
    ['subscribed', expect.any(String)],
    ['confirmed', '198.51.100.4'],
    ['suppression_lifted', '198.51.100.4'],
  ]);
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
