import type { NewsletterRun } from '../../src/domain/newsletter-run';
import { localDate } from '../../src/domain/schedule-slots';
import { digestJobId } from '../../src/queue/newsletter-queues';
import { runCli } from '../support/cli-process';
import { seedSubscribers } from '../support/seed';
import { ShiftClock } from '../support/shift-clock';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deliveriesSettled, eventually, startTestApp, type TestApp } from '../support/test-app';

// Far from the real date, so a CLI child process (real clock) planning the real next slot never takes these ids.
const MORNING = { cron: '0 7 * * *', timezone: 'Europe/London', minArticles: 2 };
const at = (iso: string, ms = 0) => new Date(Date.parse(iso) + ms).toISOString();
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

let sink: SmtpSink;
let app: TestApp;
const clock = new ShiftClock();

beforeAll(async () => {
  clock.set('2027-01-04T12:00:00Z');
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url, clock });
  // One reader: each campaign sent is one message.
  await seedSubscribers(app.container, 1);
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

function admin(on: TestApp, method: string, path: string, body?: unknown) {
  return fetch(`${on.base}/api/admin${path}`, {
    method,
    headers: { ...on.adminHeaders, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

let made = 0;
async function addArticles(on: TestApp, n: number, categories?: string[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    made++;
    await on.container.articles.add({ title: `Story ${made}`, url: `https://news.test/digest/${made}`, categories });
  }
}

async function runs(on: TestApp, slug: string): Promise<NewsletterRun[]> {
  const res = await admin(on, 'GET', `/newsletters/${slug}/runs`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { runs: NewsletterRun[] }).runs;
}

async function runOf(on: TestApp, slug: string, slot: string): Promise<NewsletterRun | undefined> {
  return (await runs(on, slug)).find((r) => r.slot === slot);
}

async function subjects(of: SmtpSink): Promise<string[]> {
  return Promise.all(of.messages.map(async (m) => (await m.parse()).subject ?? ''));
}

const digestSubject = (slot: string) => `The Test Gazette: ${localDate(new Date(slot), 'Europe/London')}`;

describe('a scheduled digest', () => {
  test('fires at its slot: the sink gets the campaign, the run says sent, nextRunAt moves on', async () => {
    const slot = '2027-01-05T07:00:00.000Z'; // 07:00 in London (GMT)
    clock.set(at(slot, -1500));
    await addArticles(app, 2);
    const patched = await admin(app, 'PATCH', '/newsletters/news', { schedule: MORNING });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { nextRunAt: string }).nextRunAt).toBe(slot);

    await eventually(async () => (await runOf(app, 'news', slot))?.outcome === 'sent', 20000, 'the slot to be sent');
    await eventually(async () => (await subjects(sink)).includes(digestSubject(slot)), 20000, 'the digest mail');
    await deliveriesSettled(app);
    expect((await subjects(sink)).filter((s) => s === digestSubject(slot))).toHaveLength(1);
    const run = (await runOf(app, 'news', slot))!;
    expect(run).toMatchObject({ slot, outcome: 'sent', articles: 2 });
    expect(run.lateBySeconds).toBeUndefined();
    expect((await app.container.campaigns.get(run.campaignId!)).subject).toBe(digestSubject(slot));

    const next = '2027-01-06T07:00:00.000Z';
    const shown = (await (await admin(app, 'GET', '/newsletters/news')).json()) as { nextRunAt: string };
    expect(shown.nextRunAt).toBe(next);
    const listed = (await (await admin(app, 'GET', '/newsletters')).json()) as {
      newsletters: { slug: string; nextRunAt?: string }[];
    };
    expect(listed.newsletters.find((n) => n.slug === 'news')?.nextRunAt).toBe(next);
    // The run planned the next slot's job itself.
    expect(await app.container.newsletterQueues.runs.getJob(digestJobId('news', next))).toBeDefined();
  });

  test('with fewer than minArticles new articles it records a skip, says why, and sends nothing', async () => {
    const created = await admin(app, 'POST', '/newsletters', {
      slug: 'weekly',
      name: 'The Weekly',
      categories: ['Culture'],
      schedule: { cron: '0 9 * * 1', timezone: 'Europe/London', minArticles: 3 },
    });
    expect(created.status).toBe(201);
    const slot = ((await created.json()) as { nextRunAt: string }).nextRunAt;
    expect(slot).toBe('2027-01-11T09:00:00.000Z'); // the next Monday, 09:00 in London
    await addArticles(app, 1, ['culture']);
    await addArticles(app, 2, ['Sport']); // not the weekly's
    const before = sink.messages.length;
    clock.set(at(slot, 500));

    expect(await app.container.digests.run('weekly', slot)).toBe('skipped');
    expect(await app.container.digests.run('weekly', slot)).toBe('duplicate');
    const recorded = (await runs(app, 'weekly')).filter((r) => r.slot === slot);
    expect(recorded).toEqual([
      expect.objectContaining({ slot, outcome: 'skipped', articles: 1, reason: 'fewer than 3 new articles (1)' }),
    ]);
    expect(recorded[0].campaignId).toBeUndefined();
    await sleep(300);
    expect(sink.messages.length).toBe(before);
  });

  test('two worker sets on one prefix send one campaign per slot', async () => {
    const slot = '2027-01-07T07:00:00.000Z';
    clock.set(at(slot, -1500));
    await addArticles(app, 2);
    // A second process's worth of service on the same Redis prefix; its start plans the same slot's job again.
    const two = await startTestApp({ smtpUrl: sink.url, clock, prefix: app.prefix });
    try {
      await app.container.digests.planNext(await app.container.newsletters.get('news'));
      await eventually(async () => (await runOf(app, 'news', slot))?.outcome === 'sent', 20000, 'the slot to be sent');
      await eventually(async () => (await subjects(sink)).includes(digestSubject(slot)), 20000, 'the digest mail');
      await deliveriesSettled(app);
      await deliveriesSettled(two);

      // And the job processor itself, run by both at once for the next slot (a job taken over from a stalled
      // worker while the first still runs): both may go on, but one campaign is made and sent.
      const slot2 = '2027-01-08T07:00:00.000Z';
      clock.set(at(slot2, 200));
      await addArticles(app, 2);
      await Promise.all([app.container.digests.run('news', slot2), two.container.digests.run('news', slot2)]);
      await eventually(async () => (await subjects(sink)).includes(digestSubject(slot2)), 20000, 'the second digest');
      await deliveriesSettled(app);
      await deliveriesSettled(two);
      await sleep(500);

      const got = await subjects(sink);
      expect(got.filter((s) => s === digestSubject(slot))).toHaveLength(1);
      expect(got.filter((s) => s === digestSubject(slot2))).toHaveLength(1);
      const campaigns = await app.container.campaigns.list();
      expect(campaigns.filter((c) => c.subject === digestSubject(slot2))).toHaveLength(1);
      expect((await runs(app, 'news')).filter((r) => r.slot === slot2)).toEqual([
        expect.objectContaining({ outcome: 'sent', articles: 2 }),
      ]);
    } finally {
      await two.container.close();
    }
  });

  test('a slot whose next slot has come too is missed, and only the latest goes out', async () => {
    const slot = '2027-01-11T09:00:00.000Z';
    const latest = '2027-01-18T09:00:00.000Z';
    await addArticles(app, 1, ['Culture']);
    clock.set(at(latest, 3600_000));
    // This slot was claimed by the skip of the earlier test: a late job of it finds that, and the record stays.
    expect(await app.container.digests.run('weekly', slot)).toBe('duplicate');
    expect((await runOf(app, 'weekly', slot))?.outcome).toBe('skipped');

    const older = '2027-01-04T09:00:00.000Z'; // a slot never run before
    expect(await app.container.digests.run('weekly', older)).toBe('missed');
    expect(await runOf(app, 'weekly', older)).toMatchObject({
      outcome: 'missed',
      reason: `the slot of ${latest} had come too when it ran; only the latest is sent`,
    });
    // The latest slot's job was queued at once; a worker runs it (a skip: the weekly has 2 of its 3 articles).
    await eventually(async () => (await runOf(app, 'weekly', latest))?.outcome === 'skipped', 15000, 'the latest');
    expect((await runOf(app, 'weekly', latest))?.lateBySeconds).toBeGreaterThanOrEqual(3600);
  });

  test('a slot later than SCHEDULE_MAX_LATE_MINUTES (120) is missed, not sent stale', async () => {
    const slot = '2027-01-25T09:00:00.000Z';
    clock.set(at(slot, 3 * 3600_000));
    expect(await app.container.digests.run('weekly', slot)).toBe('missed');
    expect(await runOf(app, 'weekly', slot)).toMatchObject({
      outcome: 'missed',
      lateBySeconds: 3 * 3600,
      reason: '10800 s late, more than the 120 minutes a slot may be late',
    });

    // A try cut short at its time (claimed, still `running`) and retried only now ends as missed too.
    const cut = '2027-02-01T09:00:00.000Z';
    await app.container.newsletterRunStore.claim('weekly', `s${Date.parse(cut)}`, {
      slot: cut,
      at: cut,
      outcome: 'running',
      articles: 0,
    });
    clock.set(at(cut, 3 * 3600_000));
    expect(await app.container.digests.run('weekly', cut)).toBe('missed');
    expect(await runOf(app, 'weekly', cut)).toMatchObject({ outcome: 'missed', lateBySeconds: 3 * 3600 });
  });

  test('a job of a slot the newsletter no longer has does nothing', async () => {
    clock.set('2027-01-26T12:00:00Z');
    const changed = await app.container.newsletters.update('weekly', {
      schedule: { cron: '0 10 * * 1', timezone: 'Europe/London', minArticles: 3 },
    });
    const next = app.container.digests.nextRunAt(changed)!;
    expect(next).toBe('2027-02-01T10:00:00.000Z');
    // The update planned the new slot's job.
    expect(await app.container.newsletterQueues.runs.getJob(digestJobId('weekly', next))).toBeDefined();
    const before = (await runs(app, 'weekly')).length;
    clock.set(at('2027-02-01T09:00:00.000Z', 1000));
    expect(await app.container.digests.run('weekly', '2027-02-01T09:00:00.000Z')).toBe('stale');
    await app.container.newsletters.update('weekly', { mode: 'alerts', schedule: null });
    expect(await app.container.digests.run('weekly', next)).toBe('stale');
    expect((await runs(app, 'weekly')).length).toBe(before);
  });

  test('the runs API is newest first and bounded; the CLI prints them', async () => {
    const all = await runs(app, 'weekly');
    expect(all.map((r) => r.at)).toEqual([...all.map((r) => r.at)].sort().reverse());
    const one = await admin(app, 'GET', '/newsletters/weekly/runs?limit=1');
    expect(((await one.json()) as { runs: unknown[] }).runs).toHaveLength(1);
    expect((await admin(app, 'GET', '/newsletters/weekly/runs?limit=0')).status).toBe(400);
    expect((await admin(app, 'GET', '/newsletters/weekly/runs?limit=101')).status).toBe(400);
    expect((await admin(app, 'GET', '/newsletters/nothing-here/runs')).status).toBe(404);

    const cli = await runCli(app.prefix, app.dataDir, ['newsletter', 'runs', 'weekly']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('missed');
    expect(cli.stdout).toContain('fewer than 3 new articles');
    const json = await runCli(app.prefix, app.dataDir, ['newsletter', 'runs', 'news', '--json', '--limit', '2']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toHaveLength(2);
  });
});

describe('a digest slot that falls due while no worker runs', () => {
  test('is sent once by the first workers back, and the run records how late', async () => {
    const lateSink = await startSmtpSink();
    const lateClock = new ShiftClock();
    const slot = '2027-03-02T07:00:00.000Z';
    lateClock.set(at(slot, -1000));
    // Two processes' worth of service on one prefix, both with their workers off at 07:00.
    const one = await startTestApp({ smtpUrl: lateSink.url, workers: false, clock: lateClock });
    const two = await startTestApp({ smtpUrl: lateSink.url, workers: false, clock: lateClock, prefix: one.prefix });
    try {
      await seedSubscribers(one.container, 1);
      await addArticles(one, 2);
      await one.container.newsletters.update('news', { schedule: MORNING });
      await sleep(2000);
      expect(await runs(one, 'news')).toEqual([]);

      // Back at 07:20: both start at once; one takes the job and sends.
      lateClock.advance(20 * 60_000);
      one.container.startWorkers();
      two.container.startWorkers();
      // 20 s timed out in a few loaded full-suite runs and never alone; no failing run has shown why yet. The wait is
      // for the outcome, not a speed, so it is a minute; should it still time out, the error says what was held then.
      await eventually(async () => (await runOf(one, 'news', slot))?.outcome === 'sent', 60000, 'the late send').catch(
        async (err: Error) => {
          const run = await runOf(one, 'news', slot);
          const jobs = await one.container.newsletterQueues.runs.getJobCounts();
          throw new Error(`${err.message}; the run: ${JSON.stringify(run)}; the runs queue: ${JSON.stringify(jobs)}`);
        },
      );
      await lateSink.waitForCount(1);
      await deliveriesSettled(one);
      await deliveriesSettled(two);
      await sleep(500);
      expect(lateSink.messages).toHaveLength(1);
      const run = (await runOf(one, 'news', slot))!;
      expect(run.lateBySeconds).toBeGreaterThanOrEqual(20 * 60);
      expect(run.lateBySeconds).toBeLessThan(20 * 60 + 30);
      expect((await runs(one, 'news')).filter((r) => r.slot === slot)).toHaveLength(1);
    } finally {
      await two.container.close();
      await one.stop();
      await lateSink.close();
    }
  }, 120_000);
});
