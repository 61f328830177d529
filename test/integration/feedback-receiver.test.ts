import type { InboundFeedback } from '../../src/domain/feedback';
import type { Subscriber } from '../../src/domain/subscriber';
import { startTestApp, TestClock, type TestApp } from '../support/test-app';

const DAY = 24 * 3600 * 1000;
const clock = new TestClock();
let app: TestApp;
let n = 0;
let event = 0;

beforeAll(async () => {
  app = await startTestApp({ clock, workers: false });
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

/** A fresh active person, as the store holds them. */
async function person(): Promise<Subscriber> {
  const email = `reader${++n}@feedback.test`;
  await app.container.subscribers.create({
    email,
    name: '',
    status: 'active',
    consent,
    now: clock.now().toISOString(),
    newsletters: ['news'],
  });
  return (await app.container.subscribers.getByEmail(email))!;
}

/** A campaign that is sending and whose ledger has these people as sent (accepted by the server). */
async function campaignSentTo(...people: Subscriber[]): Promise<number> {
  const store = app.container.campaignStore;
  const { id } = await store.create({
    subject: 'Feedback',
    newsletter: 'news',
    articleIds: [1],
    now: clock.now().toISOString(),
  });
  await store.transition(id, ['draft'], 'sending', { startedAt: clock.now().toISOString(), total: people.length });
  for (const p of people) await store.record(id, p.id, 'sent');
  return id;
}

/** A report with a new event id unless one is given. */
const report = (r: Omit<InboundFeedback, 'eventId'> & { eventId?: string }): InboundFeedback => ({
  eventId: `evt-${++event}`,
  ...r,
});
const receive = (r: Omit<InboundFeedback, 'eventId'> & { eventId?: string }) =>
  app.container.feedback.receive(report(r));

const returnToken = (sub: Subscriber, campaignId?: number) => app.container.tokens.issueReturn(sub.id, campaignId);
const state = async (sub: Subscriber) => ({
  status: (await app.container.subscribers.get(sub.id))!.status,
  suppressed: await app.container.subscribers.isSuppressed(sub.email),
  trail: (await app.container.subscribers.consentTrail(sub.email)).map((e) => [e.type, e.source, e.detail]),
});
const campaign = (id: number) => app.container.campaigns.get(id);

/** Every key under the test app's prefix, to show a report wrote nothing. */
async function keys(): Promise<string[]> {
  return (await app.container.redis.keys(`${app.prefix}:*`)).sort();
}

describe('hard bounces', () => {
  test('by return token: the person is bounced and suppressed, the trail names the source, the campaign counts it', async () => {
    const sub = await person();
    const id = await campaignSentTo(sub);
    const outcome = await receive({
      source: 'ses',
      type: 'bounce',
      bounceType: 'hard',
      returnToken: returnToken(sub, id),
      reason: '5.1.1 user unknown',
    });
    expect(outcome).toBe('applied');
    expect(await state(sub)).toEqual({
      status: 'bounced',
      suppressed: true,
      trail: [['bounced', 'ses', `ses: campaign ${id}: 5.1.1 user unknown`]],
    });
    expect(await campaign(id)).toMatchObject({ sent: 1, lateBounces: 1, bounced: 1, delivered: 0 });
  });

  test('by address, with the campaign the channel names; a bounce without a type is hard', async () => {
    const sub = await person();
    const id = await campaignSentTo(sub);
    const outcome = await receive({
      source: 'postmark',
      type: 'bounce',
      email: sub.email.toUpperCase(),
      campaignId: id,
      reason: 'HardBounce',
    });
    expect(outcome).toBe('applied');
    expect(await state(sub)).toEqual({
      status: 'bounced',
      suppressed: true,
      trail: [['bounced', 'postmark', `postmark: campaign ${id}: HardBounce`]],
    });
    expect((await campaign(id)).lateBounces).toBe(1);
  });
});

describe('soft bounces', () => {
  test('two in 30 days leave the person active and unsuppressed, each in the trail with its source', async () => {
    const sub = await person();
    const id = await campaignSentTo(sub);
    const token = returnToken(sub, id);
    for (const source of ['mailgun', 'mailbox'] as const) {
      expect(await receive({ source, type: 'bounce', bounceType: 'soft', returnToken: token, reason: 'full' })).toBe(
        'unchanged',
      );
      clock.advance(DAY);
    }
    expect(await state(sub)).toEqual({
      status: 'active',
      suppressed: false,
      trail: [
        ['soft_bounced', 'mailgun', `mailgun: campaign ${id}: full`],
        ['soft_bounced', 'mailbox', `mailbox: campaign ${id}: full`],
      ],
    });
    // A soft bounce is not a campaign's bounce: the message may still have arrived.
    expect(await campaign(id)).toMatchObject({ lateBounces: 0, bounced: 0, delivered: 1 });
  });

  test('the third in 30 days makes the person bounced and suppressed, saying why', async () => {
    const sub = await person();
    for (let i = 0; i < 2; i++) {
      expect(await receive({ source: 'sendgrid', type: 'bounce', bounceType: 'soft', email: sub.email })).toBe(
        'unchanged',
      );
      clock.advance(12 * DAY);
    }
    expect(await receive({ source: 'sendgrid', type: 'bounce', bounceType: 'soft', email: sub.email })).toBe('applied');
    const after = await state(sub);
    expect(after).toMatchObject({ status: 'bounced', suppressed: true });
    expect(after.trail.at(-1)).toEqual(['bounced', 'sendgrid', '3 soft bounces in 30 days']);
    expect(after.trail.filter(([type]) => type === 'soft_bounced')).toHaveLength(3);
  });

  test('soft bounces older than 30 days do not count', async () => {
    const sub = await person();
    const soft = () => receive({ source: 'generic', type: 'bounce', bounceType: 'soft', email: sub.email });
    expect(await soft()).toBe('unchanged');
    expect(await soft()).toBe('unchanged');
    clock.advance(31 * DAY);
    expect(await soft()).toBe('unchanged');
    expect(await state(sub)).toMatchObject({ status: 'active', suppressed: false });
    clock.advance(DAY);
    expect(await soft()).toBe('unchanged');
    expect(await soft()).toBe('applied');
    expect(await state(sub)).toMatchObject({ status: 'bounced', suppressed: true });
  });
});

test('a complaint unsubscribes and suppresses, and counts on the campaign', async () => {
  const sub = await person();
  const id = await campaignSentTo(sub);
  const outcome = await receive({ source: 'mailbox', type: 'complaint', returnToken: returnToken(sub, id) });
  expect(outcome).toBe('applied');
  expect(await state(sub)).toEqual({
    status: 'unsubscribed',
    suppressed: true,
    trail: [['complained', 'mailbox', `mailbox: campaign ${id}: marked as spam`]],
  });
  expect(await campaign(id)).toMatchObject({ complained: 1, complaintRate: 1, delivered: 1 });
});

test("a provider's unsubscribe unsubscribes without suppressing and does not count on the campaign", async () => {
  const sub = await person();
  const id = await campaignSentTo(sub);
  expect(await receive({ source: 'sendgrid', type: 'unsubscribe', returnToken: returnToken(sub, id) })).toBe('applied');
  expect(await state(sub)).toEqual({
    status: 'unsubscribed',
    suppressed: false,
    trail: [['unsubscribed', 'sendgrid', 'provider (sendgrid)']],
  });
  expect(await campaign(id)).toMatchObject({ complained: 0, lateBounces: 0 });
});

test("a repeated event id is 'duplicate' and changes nothing; the same id from another source is another event", async () => {
  const sub = await person();
  const id = await campaignSentTo(sub);
  const first = {
    source: 'ses' as const,
    eventId: 'ses-42',
    type: 'bounce' as const,
    email: sub.email,
    campaignId: id,
  };
  expect(await receive({ ...first, bounceType: 'soft' })).toBe('unchanged');
  expect(await receive({ ...first, bounceType: 'soft' })).toBe('duplicate');
  expect(await receive({ ...first, type: 'complaint' })).toBe('duplicate');
  expect(await state(sub)).toMatchObject({ status: 'active', trail: [['soft_bounced', 'ses', expect.any(String)]] });
  expect(await receive({ ...first, source: 'mailgun', type: 'complaint' })).toBe('applied');
  expect((await state(sub)).trail).toHaveLength(2);
  expect((await campaign(id)).complained).toBe(1);
});

test("an unknown address is 'unknown_recipient' and writes nothing, not even its event id", async () => {
  const before = await keys();
  const outcome = await receive({
    source: 'ses',
    eventId: 'ses-unknown',
    type: 'bounce',
    email: 'nobody@nowhere.test',
  });
  expect(outcome).toBe('unknown_recipient');
  expect(await keys()).toEqual(before);
  // The event id was not used up: had it been written, a later report with it would be a duplicate.
  const sub = await person();
  expect(await receive({ source: 'ses', eventId: 'ses-unknown', type: 'bounce', email: sub.email })).toBe('applied');
});

describe('a return token is trusted only when its signature holds', () => {
  test('a tampered token falls back to the address, and its campaign is not believed', async () => {
    const victim = await person();
    const reporter = await person();
    const id = await campaignSentTo(victim, reporter);
    // The victim's id with the signature of the reporter's token: not ours.
    const good = returnToken(reporter, id);
    const forged = good.replace(/^f-[0-9a-z]+-/, `f-${victim.id.toString(36)}-`);
    expect(forged).not.toBe(good);
    expect(app.container.tokens.verifyReturn(forged)).toBeNull();
    const outcome = await receive({ source: 'generic', type: 'complaint', returnToken: forged, email: reporter.email });
    expect(outcome).toBe('applied');
    expect((await state(victim)).status).toBe('active');
    expect((await state(reporter)).status).toBe('unsubscribed');
    // The campaign came only from the forged token, so nothing is counted on it.
    expect((await campaign(id)).complained).toBe(0);
  });

  test('a token with a wrong signature and no address is an unknown recipient and writes nothing', async () => {
    const sub = await person();
    const id = await campaignSentTo(sub);
    const token = returnToken(sub, id);
    const otherMac = token.replace(/[0-9a-f]{16}$/, (mac) => (mac[0] === '0' ? '1' : '0') + mac.slice(1));
    const before = await keys();
    expect(await receive({ source: 'mailbox', type: 'bounce', returnToken: otherMac })).toBe('unknown_recipient');
    expect(await keys()).toEqual(before);
    expect((await state(sub)).status).toBe('active');
  });
});

test('campaign counters move once per recipient, whatever the number of reports', async () => {
  const [a, b, c, refused] = [await person(), await person(), await person(), await person()];
  const id = await campaignSentTo(a, b, c);
  await app.container.campaignStore.record(id, refused.id, 'bounced');
  for (let i = 0; i < 3; i++) await receive({ source: 'mailbox', type: 'complaint', returnToken: returnToken(a, id) });
  await receive({ source: 'ses', type: 'complaint', email: c.email, campaignId: id });
  for (let i = 0; i < 2; i++)
    await receive({ source: 'mailbox', type: 'bounce', bounceType: 'hard', returnToken: returnToken(b, id) });
  // Refused in the session: counted in `bounced` already, so a bounce notice about it is not a late bounce.
  await receive({ source: 'mailbox', type: 'bounce', returnToken: returnToken(refused, id) });
  expect(await campaign(id)).toMatchObject({
    sent: 3,
    complained: 2,
    lateBounces: 1,
    bouncedInSession: 1,
    bounced: 2,
    delivered: 2,
    handedOff: 4,
    complaintRate: 1,
    bounceRate: 0.5,
  });
  // Each report is still evidence in the person's trail.
  expect((await state(a)).trail).toHaveLength(3);
  expect((await state(b)).trail).toHaveLength(2);
});
