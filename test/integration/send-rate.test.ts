import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { seedArticles, seedSubscribers } from '../support/seed';

let sink: SmtpSink;
let app: TestApp;
beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({
    smtpUrl: sink.url,
    env: { SEND_RATE_PER_SECOND: '50', DELIVERY_BATCH_SIZE: '20', DELIVERY_CONCURRENCY: '4' },
  });
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

test('SEND_RATE_PER_SECOND holds across concurrent batches: 150 messages at 50/s take at least two seconds', async () => {
  await seedSubscribers(app.container, 150);
  await seedArticles(app.container, 1);
  const campaign = await app.container.campaigns.create({});
  const started = Date.now();
  await app.container.campaigns.send(campaign.id);
  await eventually(
    async () => (await app.container.campaigns.get(campaign.id)).status === 'sent',
    20000,
    'the campaign to be sent',
  );
  // 50 permits a second: the first 50 go at once, the last 50 no sooner than two windows later.
  expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  expect(sink.messages).toHaveLength(150);
});
