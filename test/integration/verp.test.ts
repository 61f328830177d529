import { seedArticles, seedSubscribers } from '../support/seed';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';

/**
 * Each message names its recipient and campaign in what comes back: with BOUNCE_DOMAIN, in the envelope sender
 * (VERP), and always at the head of its Message-ID.
 */
const VERP = /^bounces\+(f-[0-9a-z]+-[0-9a-z]+-[0-9a-f]{16})@bounces\.gazette\.test$/;

const messageIdOf = (m: ReceivedMail) => /^Message-ID: <([^>]+)>/im.exec(m.raw.toString('latin1'))?.[1] ?? '';

async function sendCampaignTo(app: TestApp, sink: SmtpSink, count: number): Promise<number> {
  await seedSubscribers(app.container, count, { domain: 'verp.test' });
  await seedArticles(app.container, 1);
  const campaign = await app.container.campaigns.create({});
  await app.container.campaigns.send(campaign.id);
  await sink.waitForCount(count);
  // The ledger is written right after the server accepts: wait for it, so late reports find the messages sent.
  await eventually(async () => (await app.container.campaigns.get(campaign.id)).status === 'sent', 10000, 'sent');
  return campaign.id;
}

describe('with BOUNCE_DOMAIN', () => {
  let sink: SmtpSink;
  let app: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink();
    app = await startTestApp({ smtpUrl: sink.url, env: { BOUNCE_DOMAIN: 'Bounces.Gazette.test' } });
  });
  afterAll(async () => {
    await app.stop();
    await sink.close();
  });

  test('the envelope sender is bounces+<token>@domain, the token names recipient and campaign, and leads the Message-ID', async () => {
    const campaignId = await sendCampaignTo(app, sink, 5);
    expect(sink.messages).toHaveLength(5);
    const tokens = new Set<string>();
    for (const m of sink.messages) {
      const verp = VERP.exec(m.from);
      expect(verp).not.toBeNull();
      const token = verp![1];
      const recipient = await app.container.subscribers.getByEmail(m.to[0]);
      expect(app.container.tokens.verifyReturn(token)).toEqual({ subscriberId: recipient!.id, campaignId });
      expect(messageIdOf(m).startsWith(`${token}.`)).toBe(true);
      // The header From stays the publication's.
      expect((await m.parse()).from?.value[0].address).toBe('news@gazette.test');
      tokens.add(token);
    }
    expect(tokens.size).toBe(5);
  });

  test('a bounce to the VERP address finds its recipient and campaign through the token alone', async () => {
    const m = sink.messages[0];
    const token = VERP.exec(m.from)![1];
    const outcome = await app.container.feedback.receive({
      source: 'mailbox',
      eventId: '<dsn-1@mx.verp.test>',
      type: 'bounce',
      returnToken: token,
      reason: '550 5.1.1 mailbox unknown',
    });
    expect(outcome).toBe('applied');
    const sub = (await app.container.subscribers.getByEmail(m.to[0]))!;
    expect(sub.status).toBe('bounced');
    const [campaign] = await app.container.campaigns.list();
    expect(campaign).toMatchObject({ lateBounces: 1, bounced: 1, delivered: 4 });
  });

  test("a confirmation mail's token names the person and no campaign", async () => {
    const res = await fetch(`${app.base}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'newcomer@verp.test', consent: true, termsVersion: '2026-01' }),
    });
    expect(res.status).toBe(202);
    await eventually(() => sink.to('newcomer@verp.test').length === 1, 10000, 'the confirmation mail');
    const m = sink.to('newcomer@verp.test')[0];
    const token = VERP.exec(m.from)![1];
    const sub = await app.container.subscribers.getByEmail('newcomer@verp.test');
    expect(app.container.tokens.verifyReturn(token)).toEqual({ subscriberId: sub!.id });
    expect(messageIdOf(m).startsWith(`${token}.`)).toBe(true);
  });
});

describe('without BOUNCE_DOMAIN', () => {
  let sink: SmtpSink;
  let app: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink();
    app = await startTestApp({ smtpUrl: sink.url });
  });
  afterAll(async () => {
    await app.stop();
    await sink.close();
  });

  test('the envelope sender is the From address; the Message-ID still carries the token', async () => {
    const campaignId = await sendCampaignTo(app, sink, 3);
    for (const m of sink.messages) {
      expect(m.from).toBe('news@gazette.test');
      const token = /^(f-[0-9a-z]+-[0-9a-z]+-[0-9a-f]{16})\./.exec(messageIdOf(m))?.[1] ?? '';
      const recipient = await app.container.subscribers.getByEmail(m.to[0]);
      expect(app.container.tokens.verifyReturn(token)).toEqual({ subscriberId: recipient!.id, campaignId });
    }
  });
});
