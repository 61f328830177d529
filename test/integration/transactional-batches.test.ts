import { seedAddresses } from '../support/seed';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';

/**
 * The mails asked for in one turn of the event loop share a job. A job is retried for the mails that failed for now,
 * and only for them: a retry never mails twice someone whose mail went out.
 */
const GOOD = ['ana@batch.test', 'ben@batch.test', 'cleo@batch.test', 'dev@batch.test', 'eve@batch.test'];
const SOFT = 'later@batch.test';
const HARD = 'gone@batch.test';

let sink: SmtpSink;
let app: TestApp;
let softTries = 0;

beforeAll(async () => {
  sink = await startSmtpSink({
    rcptResponse: (address) => {
      if (address === HARD) return 550;
      // Refused for now on the first try only.
      if (address === SOFT && ++softTries === 1) return 451;
      return undefined;
    },
  });
  app = await startTestApp({ smtpUrl: sink.url });
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

test("one turn's mails are one job; its retry mails only those refused for now, and a refusal for good bounces its reader", async () => {
  const { queue } = app.container.transactionalQueue;
  const ids = await seedAddresses(app.container, [...GOOD, SOFT, HARD]);

  // Paused, the queue holds the job for the test to read before a worker takes it.
  await queue.pause();
  await Promise.all(ids.map((id) => app.container.transactionalQueue.enqueue('welcome', id)));
  const waiting = await queue.getJobs(['waiting']);
  expect(waiting.map((j) => j.data)).toEqual([{ kind: 'welcome', subscriberIds: ids }]);
  await queue.resume();

  // The retry comes after the backoff (2 s); by then every other mail has gone out or been refused for good.
  await eventually(() => sink.to(SOFT).length === 1, 20000, 'the mail refused for now, on its retry');
  await eventually(
    async () => (await app.container.subscribers.get(ids[ids.length - 1]))?.status === 'bounced',
    5000,
    'the reader refused for good, bounced',
  );
  await eventually(
    async () => Object.values(await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')).every((n) => n === 0),
    5000,
    'the job done, nothing failed',
  );

  for (const address of GOOD) {
    expect(sink.to(address)).toHaveLength(1);
    expect(sink.rcptCounts.get(address)).toBe(1);
  }
  expect(sink.rcptCounts.get(SOFT)).toBe(2);
  // Refused for good: not offered again.
  expect(sink.rcptCounts.get(HARD)).toBe(1);
  expect(sink.to(HARD)).toHaveLength(0);
});

test('a job queued before batching, with one subscriberId, is still sent', async () => {
  const [id] = await seedAddresses(app.container, ['legacy@batch.test']);
  await app.container.transactionalQueue.queue.add('welcome', { kind: 'welcome', subscriberId: id });
  await eventually(() => sink.to('legacy@batch.test').length === 1, 15000, 'the welcome of the old-shaped job');
  const mail = await sink.to('legacy@batch.test')[0].parse();
  expect(mail.subject).toMatch(/welcome/i);
});
