import { readdirSync, readFileSync } from 'node:fs';
import { WORKER_HEAP_FLAG } from '../../src/runtime/worker-heap';
import { freePort } from '../support/free-port';
import { startService } from '../support/service-process';
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

test('a digest slot fires once across two worker processes, to the newsletter’s readers only', async () => {
  const worker = startWorkerProcess(app, sink.url, { WORKER_PROCESSES: '2' });
  try {
    await eventually(
      async () => (await app.container.newsletterQueues.runs.getWorkers()).length === 2,
      20000,
      'two schedule workers',
    );
    const before = sink.messages.length;
    await seedSubscribers(app.container, 3, { domain: 'briefing.test', newsletters: ['briefing'] });
    await seedArticles(app.container, 2);
    // A daily cron (six fields, with seconds) whose one slot today is a few seconds from now, in UTC.
    const slot = new Date(Math.ceil((Date.now() + 4000) / 1000) * 1000);
    const cron = `${slot.getUTCSeconds()} ${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`;
    await app.container.newsletters.create({
      slug: 'briefing',
      name: 'The Briefing',
      mode: 'digest',
      schedule: { cron, timezone: 'UTC', minArticles: 1 },
    });
    const runs = async () => (await app.container.digests.runs('briefing')).filter((r) => r.slot);
    const sent = await eventually(
      async () => (await runs()).find((r) => r.outcome === 'sent'),
      30000,
      'the slot to be sent',
    );
    const run = sent!;
    expect(run).toMatchObject({ slot: slot.toISOString(), outcome: 'sent' });
    await eventually(
      async () => (await app.container.campaigns.get(run.campaignId!)).status === 'sent',
      20000,
      'the campaign to be sent',
    );
    const mails = sink.messages.slice(before);
    expect(mails.flatMap((m) => m.to).sort()).toEqual([
      'reader0@briefing.test',
      'reader1@briefing.test',
      'reader2@briefing.test',
    ]);
    // One run and one campaign for the slot, whichever process took it.
    expect((await runs()).filter((r) => r.slot === slot.toISOString())).toHaveLength(1);
  } finally {
    worker.kill('SIGTERM');
    await new Promise((ok) => worker.once('exit', ok));
  }
});

test('npm start with WORKER_PROCESSES=2 leaves the confirmation mails to the fork, which sends them', async () => {
  const port = await freePort();
  const service = startService({
    env: {
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: app.prefix,
      SMTP_URL: sink.url,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      TERMS_VERSION: '2026-01',
      WORKER_PROCESSES: '2',
    },
  });
  try {
    // Both processes run the other workers; only the fork, which serves no HTTP, takes the transactional queue.
    await eventually(
      async () => (await app.container.campaignQueues.deliveries.getWorkers()).length === 2,
      30000,
      'the delivery workers of both processes',
    );
    expect(await app.container.transactionalQueue.queue.getWorkers()).toHaveLength(1);
    // The fork runs with the delivery workers' heap limit; `npm start`'s own process, which answers HTTP, without.
    // (tsx may have an esbuild child of its own: only node processes of the worker role count)
    const fork = childPids(service.child.pid!).filter((pid) => commandLine(pid).includes('worker'));
    expect(fork).toHaveLength(1);
    expect(commandLine(fork[0])).toContain(WORKER_HEAP_FLAG);
    expect(commandLine(service.child.pid!)).not.toContain(WORKER_HEAP_FLAG);
    // and in the background, below the process answering HTTP: nice 19, and every thread in the idle class
    expect([niceness(fork[0]), niceness(service.child.pid!)]).toEqual([19, 0]);
    await eventually(() => policies(fork[0]).every((p) => p === SCHED_IDLE), 10000, "the fork's threads idle-class");
    expect(policies(service.child.pid!).every((p) => p === SCHED_OTHER)).toBe(true);

    const before = sink.messages.length;
    const res = await fetch(`http://127.0.0.1:${port}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'forked@example.com', consent: true }),
    });
    expect(res.status).toBe(202);
    await eventually(
      () => sink.messages.slice(before).some((m) => m.to.includes('forked@example.com')),
      20000,
      'the confirmation mail',
    );
  } finally {
    service.child.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
  }
});

/** The processes whose parent is `pid`, from /proc. */
function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** A process's scheduling niceness: field 19 of /proc/<pid>/stat (after the name in parentheses, which may hold spaces). */
function niceness(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** The scheduling policy of each thread of a process: field 41 of /proc/<pid>/task/<tid>/stat. */
function policies(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
  });
}

/** A process's arguments, its node flags among them. */
function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
}
