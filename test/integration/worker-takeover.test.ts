import type { ChildProcess } from 'node:child_process';
import { deliveryCounts, startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { sendCampaignTo } from '../support/seed';
import { startWorkerProcess } from '../support/worker-process';

// Real processes on a shared, loaded machine: each start of the service takes seconds.
jest.setTimeout(180_000);

const SUBSCRIBERS = 3000;
// The default lock (JOB_LOCK_SECONDS unset): what an operator gets.
const SETTINGS = {
  SEND_RATE_PER_SECOND: '300',
  DELIVERY_BATCH_SIZE: '100',
  DELIVERY_CONCURRENCY: '4',
  SMTP_MAX_CONNECTIONS: '5',
};

let sink: SmtpSink;
let app: TestApp;
const children: ChildProcess[] = [];

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url, workers: false, env: SETTINGS });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await app.stop();
  await sink.close();
});

test('a worker killed with SIGKILL mid-campaign: a restarted worker resumes delivery within 15 s, with the default lock', async () => {
  const campaign = await sendCampaignTo(app.container, SUBSCRIBERS, 2);

  const first = startWorkerProcess(app, sink.url, SETTINGS);
  children.push(first);
  await eventually(() => sink.messages.length >= 600, 120000, '600 messages before the kill');
  first.kill('SIGKILL');
  await new Promise((ok) => first.once('exit', ok));
  // Messages already on the wire may still land; then nothing moves.
  await new Promise((ok) => setTimeout(ok, 500));
  const atKill = sink.messages.length;
  expect(atKill).toBeLessThan(SUBSCRIBERS);

  const restartedAt = Date.now();
  children.push(startWorkerProcess(app, sink.url, SETTINGS));
  await eventually(() => sink.messages.length > atKill, 60000, 'a delivery after the restart');
  const resumedMs = Date.now() - restartedAt;
  process.stdout.write(`worker-takeover: first delivery ${resumedMs} ms after the restart\n`);
  // The dead worker's batches wait for their locks (10 s, renewed every 5 s) to run out, then for the next
  // stalled-job check (every 5 s); BullMQ's defaults (30 s + 30 s) made this 30 to 60 s.
  expect(resumedMs).toBeLessThan(15000);

  const done = await eventually(
    async () => {
      const c = await app.container.campaigns.get(campaign.id);
      return c.status === 'sent' ? c : null;
    },
    90000,
    'the campaign to finish after the restart',
  );
  const { reached, duplicates } = deliveryCounts(sink.messages);
  expect(reached).toBe(SUBSCRIBERS);
  process.stdout.write(`worker-takeover: ${duplicates} duplicates, 0 missing\n`);
  // In flight at the kill: at most DELIVERY_CONCURRENCY batches × their parallel sends (10 each here).
  expect(duplicates).toBeLessThanOrEqual(4 * 10);
  expect(done!.sent).toBe(SUBSCRIBERS);
});
