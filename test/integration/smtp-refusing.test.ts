import type { CampaignReport } from '../../src/domain/campaigns';
import { sendCampaignTo } from '../support/seed';
import { deliveryCounts, startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deliveriesSettled, eventually, startTestApp, type TestApp } from '../support/test-app';

/**
 * An SMTP server that answers 421 to everything (new sessions and MAIL FROM on open ones) mid-campaign: unlike a
 * server that is down, it is there and refusing, so every send counts towards CAMPAIGN_MAX_CONSECUTIVE_FAILURES and
 * the campaign pauses itself, saying why. Resumed once the server is healthy again, it finishes.
 */
const SUBSCRIBERS = 400;
const MAX_FAILURES = 30;
const SETTINGS = {
  SEND_RATE_PER_SECOND: '150',
  DELIVERY_BATCH_SIZE: '50',
  DELIVERY_CONCURRENCY: '4',
  SMTP_MAX_CONNECTIONS: '5',
  CAMPAIGN_MAX_CONSECUTIVE_FAILURES: String(MAX_FAILURES),
};

let refusing = false;
let sink: SmtpSink;
let app: TestApp;

const admin = async (path: string, method = 'GET') =>
  (await (
    await fetch(`${app.base}/api/admin${path}`, {
      method,
      headers: { ...app.adminHeaders, 'content-type': 'application/json' },
      body: method === 'POST' ? '{}' : undefined,
    })
  ).json()) as CampaignReport;

beforeAll(async () => {
  sink = await startSmtpSink({ refuse: () => (refusing ? 421 : undefined) });
  app = await startTestApp({ smtpUrl: sink.url, env: SETTINGS });
});
afterAll(async () => {
  await app?.stop();
  await sink?.close();
});

test('a server answering 421 to everything pauses the campaign; resumed once it is healthy, it finishes with nobody missing and no duplicates', async () => {
  const campaign = await sendCampaignTo(app.container, SUBSCRIBERS);

  await eventually(() => sink.messages.length >= 100, 30000, '100 messages before the refusals');
  refusing = true;
  const refusingAt = Date.now();
  const paused = (await eventually(
    async () => {
      const c = await admin(`/campaigns/${campaign.id}`);
      return c.status === 'paused' ? c : null;
    },
    30000,
    'the campaign to pause itself',
  ))!;
  const pausedAfter = Date.now() - refusingAt;
  expect(paused.reason).toMatch(
    new RegExp(`^paused after ${MAX_FAILURES} consecutive failed sends; last error: .*421 .*try again later`),
  );
  expect(paused.failed).toBe(0);
  await deliveriesSettled(app);
  const atPause = sink.messages.length;
  expect(atPause).toBeLessThan(SUBSCRIBERS);

  // Paused, its batches wait: a healthy server now gets nothing until the operator resumes.
  refusing = false;
  await new Promise((ok) => setTimeout(ok, 3000));
  expect(sink.messages.length).toBe(atPause);

  const resumed = await admin(`/campaigns/${campaign.id}/resume`, 'POST');
  expect(resumed.status).toBe('sending');
  const done = await eventually(
    async () => {
      const c = await admin(`/campaigns/${campaign.id}`);
      return c.status === 'sent' ? c : null;
    },
    60000,
    'the campaign to finish after the resume',
  );

  const { reached, duplicates } = deliveryCounts(sink.messages);
  console.info(
    `smtp 421: ${atPause} delivered before the pause, paused ${(pausedAfter / 1000).toFixed(1)} s after the ` +
      `refusals began ("${paused.reason}"), ${reached} of ${SUBSCRIBERS} recipients reached after the resume, ` +
      `${duplicates} duplicates`,
  );
  expect(reached).toBe(SUBSCRIBERS);
  // A 421 refuses the message before any of it is accepted: nothing was delivered twice.
  expect(duplicates).toBe(0);
  expect(done!).toMatchObject({ sent: SUBSCRIBERS, failed: 0, total: SUBSCRIBERS });
  // Deferred, not bounced: nobody was marked as soft-bounced or suppressed by the outage.
  const readers = await app.container.subscribers.getMany([1, 2, 3, 200, 400]);
  expect(readers.map((r) => r?.status)).toEqual(['active', 'active', 'active', 'active', 'active']);
});
