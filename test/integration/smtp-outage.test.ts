import { CampaignPausedSignal } from '../../src/domain/campaign-delivery';
import type { CampaignReport } from '../../src/domain/campaigns';
import { seedArticles, seedSubscribers, sendCampaignTo } from '../support/seed';
import { deliveryCounts, startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';

/**
 * The SMTP server stops mid-campaign (its open sessions are answered 421 and closed, then nothing listens on the
 * port) and a new one starts on the same port 60 s later. Sends in the meantime are refused at the TCP level: the
 * batches retry with their backoff (5 s, doubling) and the campaign neither pauses nor gives anybody up.
 */
const SUBSCRIBERS = 400;
const OUTAGE_MS = 60_000;
const SETTINGS = {
  SEND_RATE_PER_SECOND: '100',
  DELIVERY_BATCH_SIZE: '50',
  DELIVERY_CONCURRENCY: '4',
  SMTP_MAX_CONNECTIONS: '5',
};

let first: SmtpSink;
let second: SmtpSink | undefined;
let stopped = false;
let app: TestApp;

const report = async (id: number) =>
  (await (
    await fetch(`${app.base}/api/admin/campaigns/${id}`, { headers: app.adminHeaders })
  ).json()) as CampaignReport;

beforeAll(async () => {
  first = await startSmtpSink({ closeTimeoutMs: 200 });
  app = await startTestApp({ smtpUrl: first.url, env: SETTINGS });
});
afterAll(async () => {
  await app?.stop();
  if (!stopped) await first?.close();
  await second?.close();
});

test('the SMTP server down for 60 s and back: everything delivered, nobody missing, duplicates at most those in flight', async () => {
  const campaign = await sendCampaignTo(app.container, SUBSCRIBERS);

  await eventually(() => first.messages.length >= 100, 30000, '100 messages before the outage');
  await first.close();
  stopped = true;
  const downAt = Date.now();
  const atStop = first.messages.length;

  // Most of the minute passes with the server away: the campaign keeps waiting, it does not pause or give up.
  await new Promise((ok) => setTimeout(ok, OUTAGE_MS - 5000));
  const during = await report(campaign.id);
  expect(during.status).toBe('sending');
  expect(during.failed).toBe(0);
  await new Promise((ok) => setTimeout(ok, downAt + OUTAGE_MS - Date.now()));

  second = await startSmtpSink({ port: first.port });
  const backAt = Date.now();
  const done = await eventually(
    async () => {
      const c = await report(campaign.id);
      return c.status === 'sent' ? c : null;
    },
    120000,
    'the campaign to finish once the server is back',
  );
  const finishedAt = Date.now();

  const { reached, duplicates } = deliveryCounts([...first.messages, ...second.messages]);
  console.info(
    `smtp outage: ${atStop} delivered before the stop, down ${((backAt - downAt) / 1000).toFixed(0)} s, ` +
      `${second.messages.length} delivered after it, ${reached} of ${SUBSCRIBERS} recipients reached, ` +
      `${duplicates} duplicates, finished ${((finishedAt - backAt) / 1000).toFixed(1)} s after the server was back`,
  );
  expect(reached).toBe(SUBSCRIBERS);
  // In flight at the stop: at most DELIVERY_CONCURRENCY batches × the sends a batch runs at once (20).
  expect(duplicates).toBeLessThanOrEqual(4 * 20);
  expect(done!).toMatchObject({ sent: SUBSCRIBERS, failed: 0, total: SUBSCRIBERS });
}, 240_000);

test("still unreachable at a batch's last try: the campaign pauses itself (smtp_unreachable) and nobody is given up", async () => {
  // A port nothing listens on any more.
  const gone = await startSmtpSink();
  await gone.close();
  const quiet = await startTestApp({ smtpUrl: gone.url, workers: false, env: SETTINGS });
  try {
    const ids = await seedSubscribers(quiet.container, 30);
    await seedArticles(quiet.container, 1);
    const campaign = await quiet.container.campaigns.create({});
    await quiet.container.campaigns.send(campaign.id);
    // The batch's last try, as the worker runs it when the queue's tries are used up.
    await expect(quiet.container.delivery.deliverBatch(campaign.id, ids, true)).rejects.toBeInstanceOf(
      CampaignPausedSignal,
    );
    const c = await quiet.container.campaigns.get(campaign.id);
    expect(c).toMatchObject({ status: 'paused', sent: 0, failed: 0, skipped: 0 });
    expect(c.reason).toMatch(
      /^paused: the SMTP server could not be reached for any of this batch's tries; last error: /,
    );
    const metrics = await (await fetch(`${quiet.base}/metrics`)).text();
    expect(metrics).toMatch(/^newsletter_campaign_auto_pauses_total\{reason="smtp_unreachable"\} 1$/m);
  } finally {
    await quiet.stop();
  }
});
