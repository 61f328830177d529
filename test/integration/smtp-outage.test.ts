import type { CampaignReport } from '../../src/domain/campaigns';
import { seedArticles, seedSubscribers } from '../support/seed';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
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
  await second?.close();
});

test('the SMTP server down for 60 s and back: everything delivered, nobody missing, duplicates at most those in flight', async () => {
  await seedSubscribers(app.container, SUBSCRIBERS);
  await seedArticles(app.container, 1);
  const campaign = await app.container.campaigns.create({});
  await app.container.campaigns.send(campaign.id);

  await eventually(() => first.messages.length >= 100, 30000, '100 messages before the outage');
  await first.close();
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

  const counts = new Map<string, number>();
  for (const m of [...first.messages, ...second.messages])
    for (const to of m.to) counts.set(to, (counts.get(to) ?? 0) + 1);
  const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
  console.info(
    `smtp outage: ${atStop} delivered before the stop, down ${((backAt - downAt) / 1000).toFixed(0)} s, ` +
      `${second.messages.length} delivered after it, ${counts.size} of ${SUBSCRIBERS} recipients reached, ` +
      `${duplicates} duplicates, finished ${((finishedAt - backAt) / 1000).toFixed(1)} s after the server was back`,
  );
  expect(counts.size).toBe(SUBSCRIBERS);
  // In flight at the stop: at most DELIVERY_CONCURRENCY batches × the sends a batch runs at once (20).
  expect(duplicates).toBeLessThanOrEqual(4 * 20);
  expect(done!).toMatchObject({ sent: SUBSCRIBERS, failed: 0, total: SUBSCRIBERS });
}, 240_000);
