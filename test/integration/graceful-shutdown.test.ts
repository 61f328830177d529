import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deleteKeys, eventually, startTestApp, type TestApp } from '../support/test-app';
import { seedArticles, seedSubscribers } from '../support/seed';

const SETTINGS = {
  SEND_RATE_PER_SECOND: '400',
  DELIVERY_BATCH_SIZE: '50',
  DELIVERY_QUEUE_HIGH_WATER: '1',
  JOB_LOCK_SECONDS: '2',
};
let sink: SmtpSink;
let first: TestApp;
let second: TestApp | undefined;

beforeAll(async () => {
  sink = await startSmtpSink();
  first = await startTestApp({ smtpUrl: sink.url, env: SETTINGS });
});
afterAll(async () => {
  await second?.container.close();
  await deleteKeys(`${first.prefix}:*`);
  await sink.close();
});

test('a worker shut down mid-campaign lets its batches finish, and the next worker completes the send exactly once', async () => {
  await seedSubscribers(first.container, 1500);
  await seedArticles(first.container, 1);
  const campaign = await first.container.campaigns.create({});
  await first.container.campaigns.send(campaign.id);
  await eventually(() => sink.messages.length >= 300, 20000, '300 messages');

  // What SIGTERM does: stop taking work, finish the work in hand, close.
  await first.container.close();
  const atShutdown = sink.messages.length;
  expect(atShutdown).toBeLessThan(1500);
  await new Promise((ok) => setTimeout(ok, 1000));
  expect(sink.messages.length).toBe(atShutdown);

  second = await startTestApp({ smtpUrl: sink.url, env: SETTINGS, prefix: first.prefix, workers: false });
  expect((await second.container.campaigns.get(campaign.id)).status).toBe('sending');
  second.container.startWorkers();
  const done = await eventually(
    async () => {
      const c = await second!.container.campaigns.get(campaign.id);
      return c.status === 'sent' ? c : null;
    },
    60000,
    'the campaign to finish on the next worker',
  );

  const recipients = sink.messages.flatMap((m) => m.to);
  expect(recipients).toHaveLength(1500);
  expect(new Set(recipients).size).toBe(1500);
  expect(done).toMatchObject({ total: 1500, sent: 1500 });
});
