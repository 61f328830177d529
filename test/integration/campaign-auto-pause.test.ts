import { findReturnTokens } from '../../src/domain/signed-token';
import type { CampaignReport } from '../../src/domain/campaigns';
import { seedArticles, seedSubscribers } from '../support/seed';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp-sink';
import { eventually, deliveriesSettled, startTestApp, type TestApp } from '../support/test-app';

/**
 * A campaign pauses itself when its complaint or hard-bounce rate passes the limit (campaign-health.ts). The
 * minimum of messages before the rates are judged is lowered to 100 here, so a few hundred recipients show it.
 */
const MIN = 100;

const admin = (app: TestApp, path: string, body?: unknown) =>
  fetch(`${app.base}/api/admin${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...app.adminHeaders, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function status(app: TestApp, id: number): Promise<CampaignReport> {
  return (await (await admin(app, `/campaigns/${id}`)).json()) as CampaignReport;
}

async function startCampaign(app: TestApp): Promise<number> {
  await seedArticles(app.container, 1);
  const campaign = (await (await admin(app, '/campaigns', {})).json()) as CampaignReport;
  expect((await admin(app, `/campaigns/${campaign.id}/send`, {})).status).toBe(202);
  return campaign.id;
}

async function untilStatus(app: TestApp, id: number, want: string): Promise<CampaignReport> {
  // eventually() resolves only with a truthy value: never null.
  return (await eventually(
    async () => {
      const c = await status(app, id);
      return c.status === want ? c : null;
    },
    30000,
    `campaign ${id} to be ${want}`,
  ))!;
}

const untilSent = (app: TestApp, id: number, atLeast: number) =>
  eventually(async () => (await status(app, id)).sent >= atLeast, 30000, `${atLeast} sent`);

/** A counter's value as GET /metrics shows it. */
async function counter(app: TestApp, line: string): Promise<number> {
  const text = await (await fetch(`${app.base}/metrics`)).text();
  const m = new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Refuses (550) the seeded address `reader<n>@…` when `n` is a multiple of `every`. */
const refuseEvery = (every: number) => (addr: string) => {
  const n = /^reader(\d+)@/.exec(addr);
  return n && Number(n[1]) % every === 0 ? 550 : undefined;
};

/** The return token a received message carries (in its Message-ID), as the feedback mailbox would find it. */
const tokenOf = (m: ReceivedMail) => findReturnTokens(m.raw.toString('latin1'))[0];

describe('complaints past the complaint rate', () => {
  let sink: SmtpSink;
  let app: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink();
    app = await startTestApp({
      smtpUrl: sink.url,
      // Slow enough (50 a second, in bursts of a second's worth) to report complaints while it is still sending.
      env: { CAMPAIGN_RATE_MIN_MESSAGES: String(MIN), SEND_RATE_PER_SECOND: '50', DELIVERY_BATCH_SIZE: '20' },
    });
  });
  afterAll(async () => {
    await app.stop();
    await sink.close();
  });

  const complaint = (eventId: string, m: ReceivedMail) =>
    app.container.feedback.receive({ source: 'mailbox', eventId, type: 'complaint', returnToken: tokenOf(m) });

  test('pause the campaign once enough went out; a resume acknowledges the rate; a new rise pauses it again', async () => {
    await seedSubscribers(app.container, 400, { domain: 'complaints.test' });
    const id = await startCampaign(app);

    // One complaint in the first few dozen is 3 % and more, but too few messages to judge: it keeps sending.
    await untilSent(app, id, 30);
    expect(await complaint('c1', sink.messages[0])).toBe('applied');
    expect(await status(app, id)).toMatchObject({ status: 'sending', complained: 1 });

    // Once the minimum went out, the rate is judged (1 in about 100 delivered) and the campaign pauses itself.
    const paused = await untilStatus(app, id, 'paused');
    const reason = /^paused: complaint rate (\d+\.\d\d)% \(1 of (\d+) delivered\) is above the limit of 0\.30%$/.exec(
      paused.reason ?? '',
    );
    expect(reason).not.toBeNull();
    expect(Number(reason![2])).toBeGreaterThanOrEqual(MIN - 1);
    expect(Number(reason![1])).toBeGreaterThan(0.3);
    await deliveriesSettled(app);
    const atPause = sink.messages.length;
    await new Promise((ok) => setTimeout(ok, 800));
    expect(sink.messages.length).toBe(atPause);
    expect(atPause).toBeLessThan(400);
    expect(await counter(app, 'newsletter_campaign_auto_pauses_total{reason="complaint_rate"}')).toBe(1);

    // The operator resumes: the counters now are the baseline, so the same rate does not pause it again.
    const settled = await status(app, id);
    const resumed = (await (await admin(app, `/campaigns/${id}/resume`, {})).json()) as CampaignReport;
    expect(resumed.status).toBe('sending');
    expect(resumed.reason).toBeUndefined();
    expect(resumed.rateBaseline).toEqual({ sent: settled.sent, bounced: 0, lateBounces: 0, complained: 1 });
    await untilSent(app, id, settled.sent + MIN + 10);
    expect((await status(app, id)).status).toBe('sending');

    // One complaint about a message sent after the resume: about 1 % of what went out since, so it pauses at once.
    expect(await complaint('c2', sink.messages[atPause + 5])).toBe('applied');
    const again = await status(app, id);
    expect(again.status).toBe('paused');
    expect(again.reason).toMatch(
      /^paused: complaint rate \d+\.\d\d% \(1 of \d+ delivered since the last resume\) is above the limit of 0\.30%$/,
    );
    expect(await counter(app, 'newsletter_campaign_auto_pauses_total{reason="complaint_rate"}')).toBe(2);

    await admin(app, `/campaigns/${id}/resume`, {});
    const done = await untilStatus(app, id, 'sent');
    expect(done).toMatchObject({ sent: 400, delivered: 400, complained: 2, complaintRate: 0.005 });
    expect(new Set(sink.messages.flatMap((m) => m.to)).size).toBe(400);
  });
});

describe('refusals past the hard-bounce rate', () => {
  let sink: SmtpSink;
  let app: TestApp;
  beforeAll(async () => {
    // Every tenth address is refused for good: a 10 % hard-bounce rate against a 5 % limit.
    sink = await startSmtpSink({ rcptResponse: refuseEvery(10) });
    app = await startTestApp({
      smtpUrl: sink.url,
      env: { CAMPAIGN_RATE_MIN_MESSAGES: String(MIN), SEND_RATE_PER_SECOND: '300', DELIVERY_BATCH_SIZE: '50' },
    });
  });
  afterAll(async () => {
    await app.stop();
    await sink.close();
  });

  test('pause the campaign once the minimum went out, naming the rate', async () => {
    await seedSubscribers(app.container, 1000, { domain: 'bounces.test' });
    const id = await startCampaign(app);
    const paused = await untilStatus(app, id, 'paused');
    const reason =
      /^paused: hard-bounce rate (\d+\.\d\d)% \((\d+) of (\d+) handed off\) is above the limit of 5\.00%$/.exec(
        paused.reason ?? '',
      );
    expect(reason).not.toBeNull();
    expect(Number(reason![3])).toBeGreaterThanOrEqual(MIN);
    await deliveriesSettled(app);
    const after = await status(app, id);
    expect(after.sent + after.bouncedInSession).toBeLessThan(1000);
    expect(after.bounced).toBe(after.bouncedInSession);
    expect(after.bounceRate).toBeGreaterThan(0.05);
    expect(await counter(app, 'newsletter_campaign_auto_pauses_total{reason="bounce_rate"}')).toBe(1);
    expect(await counter(app, 'newsletter_campaign_auto_pauses_total{reason="complaint_rate"}')).toBe(0);
  });
});

describe('rates under the limits', () => {
  let sink: SmtpSink;
  let app: TestApp;
  beforeAll(async () => {
    // One address in forty is refused: 2.5 %, under the 5 % limit.
    sink = await startSmtpSink({ rcptResponse: refuseEvery(40) });
    app = await startTestApp({
      smtpUrl: sink.url,
      env: { CAMPAIGN_RATE_MIN_MESSAGES: String(MIN), SEND_RATE_PER_SECOND: '150', DELIVERY_BATCH_SIZE: '20' },
    });
  });
  afterAll(async () => {
    await app.stop();
    await sink.close();
  });

  test('a campaign whose complaint and bounce rates stay under the limits is not paused', async () => {
    await seedSubscribers(app.container, 600, { domain: 'fine.test' });
    const id = await startCampaign(app);
    // One complaint after 400 went out: at most 0.25 %, under 0.3 %.
    await untilSent(app, id, 400);
    const token = tokenOf(sink.messages[3]);
    const outcome = await app.container.feedback.receive({
      source: 'ses',
      eventId: 'x',
      type: 'complaint',
      returnToken: token,
    });
    expect(outcome).toBe('applied');
    expect((await status(app, id)).status).toBe('sending');
    const done = await untilStatus(app, id, 'sent');
    expect(done).toMatchObject({ bounced: 15, bouncedInSession: 15, complained: 1, sent: 585 });
    expect(done.reason).toBeUndefined();
    expect(done.bounceRate).toBe(0.025);
    expect(await counter(app, 'newsletter_campaign_auto_pauses_total{reason="bounce_rate"}')).toBe(0);
    expect(await counter(app, 'newsletter_campaign_auto_pauses_total{reason="complaint_rate"}')).toBe(0);
  });
});
