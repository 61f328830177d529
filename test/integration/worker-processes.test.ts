import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { seedArticles, seedSubscribers } from '../support/seed';
import { startWorkerProcess } from '../support/worker-process';

let sink: SmtpSink;
let app: TestApp;

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url, workers: false });
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

test('WORKER_PROCESSES=2 runs two worker processes that share a campaign, and SIGTERM stops both', async () => {
  const worker = startWorkerProcess(app, sink.url, { WORKER_PROCESSES: '2', DELIVERY_BATCH_SIZE: '100' });
  try {
    // Two processes, each with its own delivery worker connection.
    await eventually(
      async () => (await app.container.campaignQueues.deliveries.getWorkers()).length === 2,
      20000,
      'two delivery workers',
    );

    await seedSubscribers(app.container, 2000);
    await seedArticles(app.container, 1);
    const campaign = await app.container.campaigns.create({});
    await app.container.campaigns.send(campaign.id);
    const done = await eventually(
      async () => {
        const c = await app.container.campaigns.get(campaign.id);
        return c.status === 'sent' ? c : null;
      },
      60000,
      'the campaign to be sent',
    );
    expect(done!.sent).toBe(2000);
    expect(new Set(sink.messages.flatMap((m) => m.to)).size).toBe(2000);
    expect(sink.messages).toHaveLength(2000);
  } finally {
    worker.kill('SIGTERM');
    const code = await new Promise((ok) => worker.once('exit', (c) => ok(c)));
    expect(code).toBe(0);
  }
  // The forked process went with it.
  await eventually(
    async () => (await app.container.campaignQueues.deliveries.getWorkers()).length === 0,
    10000,
    'no delivery workers left',
  );
});
