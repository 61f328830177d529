import { runCli } from '../support/cli-process';
import { seedSubscribers } from '../support/seed';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deliveriesSettled, eventually, startTestApp, type TestApp } from '../support/test-app';

/** What the admin API shows of a campaign, as far as these tests look. */
interface Shown {
  id: number;
  status: string;
  subject: string;
  scheduledAt?: string;
  startedAt?: string;
  startedLateBySeconds?: number;
}

let sink: SmtpSink;
let app: TestApp;

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url });
  // One reader: each send is one message, so the sink's count for a subject is the number of sends.
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
/** A draft with an article and a subject of its own, so the sink tells its messages apart. */
async function draft(on: TestApp = app): Promise<Shown> {
  made++;
  const { article } = await on.container.articles.add({
    title: `Scheduled story ${made}`,
    url: `https://news.test/scheduled/${made}`,
    summary: `What happened in scheduled story ${made}.`,
  });
  const res = await admin(on, 'POST', '/campaigns', { articleIds: [article.id], subject: `Scheduled issue ${made}` });
  expect(res.status).toBe(201);
  return (await res.json()) as Shown;
}

async function show(id: number, on: TestApp = app): Promise<Shown> {
  return (await (await admin(on, 'GET', `/campaigns/${id}`)).json()) as Shown;
}

async function schedule(id: number, at: string, on: TestApp = app): Promise<Shown> {
  const res = await admin(on, 'POST', `/campaigns/${id}/schedule`, { at });
  expect(res.status).toBe(200);
  return (await res.json()) as Shown;
}

/** ISO time `ms` from now, whole milliseconds as the API stores them. */
function inMs(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

async function messagesWithSubject(subject: string): Promise<number> {
  const mails = await Promise.all(sink.messages.map((m) => m.parse()));
  return mails.filter((m) => m.subject === subject).length;
}

async function sentOnce(c: Shown, on: TestApp = app): Promise<Shown> {
  await untilSent(c.id, on);
  await deliveriesSettled(on);
  expect(await messagesWithSubject(c.subject)).toBe(1);
  return show(c.id, on);
}

async function untilSent(id: number, on: TestApp): Promise<void> {
  await eventually(async () => (await show(id, on)).status === 'sent', 30000, `campaign ${id} to be sent`);
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

describe('scheduling a draft', () => {
  test('sends it once at its time, not before, and clears the schedule', async () => {
    const c = await draft();
    const at = inMs(2000);
    const scheduled = await schedule(c.id, at);
    expect(scheduled).toMatchObject({ status: 'draft', scheduledAt: at });
    await sleep(1000);
    expect((await show(c.id)).status).toBe('draft');

    const sent = await sentOnce(c);
    expect(Date.parse(sent.startedAt!)).toBeGreaterThanOrEqual(Date.parse(at));
    expect(sent.scheduledAt).toBeUndefined();
    // On time: a worker was up, so nothing is recorded as late.
    expect(sent.startedLateBySeconds).toBeUndefined();
  });

  test('accepts any zone and stores the instant in UTC', async () => {
    const c = await draft();
    const at = new Date(Date.now() + 3600_000);
    at.setUTCMilliseconds(0);
    const local = `${new Date(at.getTime() + 2 * 3600_000).toISOString().slice(0, 19)}+02:00`;
    expect((await schedule(c.id, local)).scheduledAt).toBe(at.toISOString());
    await admin(app, 'DELETE', `/campaigns/${c.id}`);
  });

  test('rescheduled: only the new time fires', async () => {
    const c = await draft();
    const first = inMs(1500);
    await schedule(c.id, first);
    const second = inMs(4000);
    expect((await schedule(c.id, second)).scheduledAt).toBe(second);
    // Past the first time: the old job, had it survived, would have sent by now.
    await sleep(3000);
    expect(await show(c.id)).toMatchObject({ status: 'draft', scheduledAt: second });
    expect(await messagesWithSubject(c.subject)).toBe(0);

    const sent = await sentOnce(c);
    expect(Date.parse(sent.startedAt!)).toBeGreaterThanOrEqual(Date.parse(second));
  });

  test('an outdated job that still runs does nothing', async () => {
    const c = await draft();
    const at = inMs(3600_000);
    await schedule(c.id, at);
    // The job of a time the draft no longer has, as if its removal had failed: it must not send.
    expect(await app.container.campaigns.runSchedule(c.id, inMs(1000))).toBe('stale');
    expect(await show(c.id)).toMatchObject({ status: 'draft', scheduledAt: at });
    await admin(app, 'DELETE', `/campaigns/${c.id}`);
    // And the job of a deleted draft finds nothing.
    expect(await app.container.campaigns.runSchedule(c.id, at)).toBe('stale');
  });

  test('unscheduled: nothing fires', async () => {
    const c = await draft();
    await schedule(c.id, inMs(1500));
    const res = await admin(app, 'DELETE', `/campaigns/${c.id}/schedule`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Shown;
    expect(body.status).toBe('draft');
    expect(body.scheduledAt).toBeUndefined();
    await sleep(3000);
    expect((await show(c.id)).status).toBe('draft');
    expect(await messagesWithSubject(c.subject)).toBe(0);
  });

  test('an edit keeps the schedule; a delete takes its job away', async () => {
    const c = await draft();
    const at = inMs(3600_000);
    await schedule(c.id, at);
    const edited = await admin(app, 'PATCH', `/campaigns/${c.id}`, { subject: `${c.subject} (edited)` });
    expect(edited.status).toBe(200);
    expect(((await edited.json()) as Shown).scheduledAt).toBe(at);

    const { schedules } = app.container.campaignQueues;
    const jobId = `c${c.id}-s${Date.parse(at)}`;
    expect(await schedules.getJob(jobId)).toBeDefined();
    expect((await admin(app, 'DELETE', `/campaigns/${c.id}`)).status).toBe(204);
    expect(await schedules.getJob(jobId)).toBeUndefined();
  });

  test('refuses bad input, naming the field', async () => {
    const c = await draft();
    const cases: [unknown, RegExp][] = [
      [{}, /^at: /],
      [{ at: 'tomorrow' }, /^at: .*ISO 8601/],
      [{ at: '2026-12-01T08:00:00' }, /^at: .*zone/], // a local time: whose?
      [{ at: 1767254400000 }, /^at: /],
      [{ at: inMs(-60_000) }, /^at: .* in the past/], // beyond the slack
      [{ at: inMs(400 * 24 * 3600_000) }, /^at: .*more than a year/],
      [{ at: inMs(60_000), extra: true }, /extra/],
    ];
    for (const [body, message] of cases) {
      const res = await admin(app, 'POST', `/campaigns/${c.id}/schedule`, body);
      expect(res.status).toBe(422);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('invalid_schedule');
      expect(error.message).toMatch(message);
    }
    expect((await show(c.id)).scheduledAt).toBeUndefined();
    expect((await admin(app, 'POST', '/campaigns/abc/schedule', { at: inMs(60_000) })).status).toBe(400);
    expect((await admin(app, 'POST', '/campaigns/999999/schedule', { at: inMs(60_000) })).status).toBe(404);
    await admin(app, 'DELETE', `/campaigns/${c.id}`);
  });

  test('only a draft: a cancelled or sent campaign answers 409', async () => {
    const cancelled = await draft();
    expect((await admin(app, 'POST', `/campaigns/${cancelled.id}/cancel`)).status).toBe(200);
    const res = await admin(app, 'POST', `/campaigns/${cancelled.id}/schedule`, { at: inMs(60_000) });
    expect(res.status).toBe(409);
    expect(JSON.stringify(await res.json())).toContain('invalid_state');
    expect((await admin(app, 'DELETE', `/campaigns/${cancelled.id}/schedule`)).status).toBe(409);

    const sent = await draft();
    expect((await admin(app, 'POST', `/campaigns/${sent.id}/send`)).status).toBe(202);
    await sentOnce(sent);
    expect((await admin(app, 'POST', `/campaigns/${sent.id}/schedule`, { at: inMs(60_000) })).status).toBe(409);
  });

  test('a draft sent by hand before its time does not go out again at it', async () => {
    const c = await draft();
    const at = inMs(2000);
    await schedule(c.id, at);
    expect((await admin(app, 'POST', `/campaigns/${c.id}/send`)).status).toBe(202);
    const sent = await sentOnce(c);
    expect(sent.scheduledAt).toBeUndefined();
    await sleep(Math.max(0, Date.parse(at) - Date.now()) + 1500);
    await deliveriesSettled(app);
    expect(await messagesWithSubject(c.subject)).toBe(1);
  });

  test('the CLI schedules and unschedules', async () => {
    const c = await draft();
    const at = inMs(3600_000);
    const scheduled = await runCli(app.prefix, app.dataDir, ['campaign', 'schedule', String(c.id), '--at', at]);
    expect(scheduled.code).toBe(0);
    expect(scheduled.stdout).toContain(`campaign ${c.id} is scheduled for ${at}`);
    expect((await show(c.id)).scheduledAt).toBe(at);
    const bad = await runCli(app.prefix, app.dataDir, ['campaign', 'schedule', String(c.id), '--at', 'soon']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('at:');
    const unscheduled = await runCli(app.prefix, app.dataDir, ['campaign', 'unschedule', String(c.id)]);
    expect(unscheduled.code).toBe(0);
    expect((await show(c.id)).scheduledAt).toBeUndefined();
    await admin(app, 'DELETE', `/campaigns/${c.id}`);
  });
});

describe('a schedule that falls due while no worker runs', () => {
  test('is sent once by the first workers back, and the campaign records how late it started', async () => {
    const lateSink = await startSmtpSink();
    // Two processes' worth of containers on one key prefix, both with their workers off at the scheduled time.
    const one = await startTestApp({ smtpUrl: lateSink.url, workers: false });
    const two = await startTestApp({ smtpUrl: lateSink.url, workers: false, prefix: one.prefix });
    try {
      await seedSubscribers(one.container, 1);
      const c = await draft(one);
      const at = inMs(1500);
      await schedule(c.id, at, one);
      await sleep(5000);
      expect(await show(c.id, one)).toMatchObject({ status: 'draft', scheduledAt: at });

      // Both come back at once: BullMQ hands the job to one of them, and it sends once.
      one.container.startWorkers();
      two.container.startWorkers();
      await untilSent(c.id, one);
      await deliveriesSettled(one);
      await deliveriesSettled(two);
      const sent = await show(c.id, one);
      expect(lateSink.messages).toHaveLength(1);
      expect(sent.scheduledAt).toBeUndefined();
      expect(sent.startedLateBySeconds).toBeGreaterThanOrEqual(3);
      const late = (Date.parse(sent.startedAt!) - Date.parse(at)) / 1000;
      expect(Math.abs(late - sent.startedLateBySeconds!)).toBeLessThanOrEqual(1);
    } finally {
      await two.stop();
      await one.stop();
      await lateSink.close();
    }
  });
});
