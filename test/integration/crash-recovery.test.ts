import type { ChildProcess } from 'node:child_process';
import { deliveryCounts, startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { seedArticles, seedSubscribers } from '../support/seed';
import { startWorkerProcess } from '../support/worker-process';
import { exited } from '../support/child-exit';

const SUBSCRIBERS = 3000;
const SETTINGS = {
  SEND_RATE_PER_SECOND: '500',
  DELIVERY_BATCH_SIZE: '100',
  DELIVERY_CONCURRENCY: '4',
  SMTP_MAX_CONNECTIONS: '5',
  JOB_LOCK_SECONDS: '2',
};

let sink: SmtpSink;
let app: TestApp;
const children: ChildProcess[] = [];

function startWorker(): ChildProcess {
  const child = startWorkerProcess(app, sink.url, SETTINGS);
  children.push(child);
  return child;
}

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url, workers: false, env: SETTINGS });
});
afterAll(async () => {
  // Waited for: a child still exiting when the file ends holds up the test process that ran it.
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map(exited));
  await app.stop();
  await sink.close();
});

test('a worker killed with SIGKILL mid-campaign and restarted finishes it: nobody missed, duplicates only from messages in flight', async () => {
  await seedSubscribers(app.container, SUBSCRIBERS);
  await seedArticles(app.container, 2);
  const campaign = await app.container.campaigns.create({});
  await app.container.campaigns.send(campaign.id);

  const first = startWorker();
  await eventually(() => sink.messages.length >= 700, 40000, '700 messages before the kill');
  first.kill('SIGKILL');
  await new Promise((ok) => first.once('exit', ok));
  // Messages already on the wire may still land; after that nothing moves until a worker runs again.
  await new Promise((ok) => setTimeout(ok, 500));
  const atKill = sink.messages.length;
  await new Promise((ok) => setTimeout(ok, 1500));
  expect(sink.messages.length).toBe(atKill);
  expect(atKill).toBeLessThan(SUBSCRIBERS);

  startWorker();
  const done = await eventually(
    async () => {
      const c = await app.container.campaigns.get(campaign.id);
      return c.status === 'sent' ? c : null;
    },
    60000,
    'the campaign to finish after the restart',
  );

  const { reached, duplicates } = deliveryCounts(sink.messages);
  expect(reached).toBe(SUBSCRIBERS);
  // In flight at the kill: at most DELIVERY_CONCURRENCY batches × their parallel sends (10 each here).
  expect(duplicates).toBeLessThanOrEqual(4 * 10);
  expect(done!.sent).toBe(SUBSCRIBERS);
  expect(done!.total).toBe(SUBSCRIBERS);
});
