import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NewsletterRun } from '../../src/domain/newsletter-run';
import { seedSubscribers } from '../support/seed';
import { ShiftClock } from '../support/shift-clock';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deliveriesSettled, eventually, startTestApp, type TestApp } from '../support/test-app';

let sink: SmtpSink;
let app: TestApp;
const clock = new ShiftClock();
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

beforeAll(async () => {
  clock.set('2027-02-01T08:00:00Z');
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url, clock });
  await seedSubscribers(app.container, 1);
  // The default newsletter is the one that can send today (see README): it becomes breaking-news alerts.
  await app.container.newsletters.update('news', { mode: 'alerts', categories: ['Politics'], alertsPerDay: 4 });
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

function admin(method: string, path: string, body?: unknown) {
  return fetch(`${app.base}/api/admin${path}`, {
    method,
    headers: { ...app.adminHeaders, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

let made = 0;
/** Posts an article through the admin API, as an operator or a script would. */
async function post(title: string, categories: string[], url = `https://news.test/alert/${++made}`) {
  const res = await admin('POST', '/articles', { title, url, categories });
  expect([200, 201]).toContain(res.status);
  return (await res.json()) as { id: number };
}

async function runs(slug = 'news'): Promise<NewsletterRun[]> {
  return ((await (await admin('GET', `/newsletters/${slug}/runs?limit=100`)).json()) as { runs: NewsletterRun[] }).runs;
}
const runFor = async (articleId: number, slug = 'news') => (await runs(slug)).find((r) => r.articleId === articleId);

async function mailsTitled(title: string): Promise<number> {
  const subjects = await Promise.all(sink.messages.map(async (m) => (await m.parse()).subject));
  return subjects.filter((s) => s === title).length;
}

async function settle(): Promise<void> {
  await sleep(300);
  await eventually(async () => (await app.container.newsletterQueues.runs.getActiveCount()) === 0, 10000, 'runs');
  await eventually(async () => (await app.container.campaignQueues.fanout.getActiveCount()) === 0, 10000, 'fan-outs');
  await deliveriesSettled(app);
}

describe('an alerts newsletter', () => {
  test('sends each matching article as its own campaign, subject its title; others are ignored', async () => {
    const a = await post('Minister resigns', ['Politics']);
    const b = await post('Parliament dissolved', ['politics', 'UK']); // any case
    const c = await post('Cup final tonight', ['Sport']);
    await eventually(async () => (await mailsTitled('Parliament dissolved')) === 1, 20000, 'the alerts');
    await eventually(async () => (await mailsTitled('Minister resigns')) === 1, 20000, 'the alerts');
    await settle();
    expect(await mailsTitled('Minister resigns')).toBe(1);
    expect(await mailsTitled('Cup final tonight')).toBe(0);
    const runA = (await runFor(a.id))!;
    expect(runA).toMatchObject({ articleId: a.id, outcome: 'sent', articles: 1 });
    const campaign = await app.container.campaigns.get(runA.campaignId!);
    expect(campaign).toMatchObject({ subject: 'Minister resigns', articleIds: [a.id], newsletter: 'news' });
    expect((await runFor(b.id))?.outcome).toBe('sent');
    // Not matching: no job, no record.
    expect(await runFor(c.id)).toBeUndefined();
    expect(await app.container.newsletterQueues.runs.getJob(`a-news-${c.id}`)).toBeUndefined();
  });

  test('articles the feed poll brings in are alerted too', async () => {
    const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title><link>https://news.test/</link>
      <item><title>Vote of no confidence</title><link>https://news.test/feed/1</link><category>Politics</category></item>
      <item><title>Weather warning</title><link>https://news.test/feed/2</link><category>Weather</category></item>
    </channel></rss>`;
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.xml`;
      expect(await app.container.feedIngester.poll(url)).toMatchObject({ added: 2 });
      // Polled again: nothing new, nothing sent again.
      expect(await app.container.feedIngester.poll(url)).toMatchObject({ added: 0, seen: 2 });
      await eventually(async () => (await mailsTitled('Vote of no confidence')) === 1, 20000, 'the feed alert');
      await settle();
      expect(await mailsTitled('Vote of no confidence')).toBe(1);
      expect(await mailsTitled('Weather warning')).toBe(0);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });

  test('the same article twice, announced again or its job run again, goes out once', async () => {
    const url = 'https://news.test/alert/twice';
    const first = await post('Budget leaked', ['Politics'], url);
    const again = await post('Budget leaked', ['Politics'], url);
    expect(again.id).toBe(first.id);
    await eventually(async () => (await runFor(first.id))?.outcome === 'sent', 20000, 'the alert');
    const article = await app.container.articles.get(first.id);
    await app.container.alerts.articleAdded(article);
    expect(await app.container.alerts.run('news', first.id)).toBe('duplicate');
    await settle();
    expect(await mailsTitled('Budget leaked')).toBe(1);
    expect((await runs()).filter((r) => r.articleId === first.id)).toHaveLength(1);
  });

  test('past alertsPerDay in 24 hours an article is recorded as skipped, and not sent later', async () => {
    // Four went out above (three by the API, one from the feed): the cap (4) is reached.
    const over = await post('Coalition talks collapse', ['Politics']);
    await eventually(async () => (await runFor(over.id))?.outcome === 'skipped', 20000, 'the skip');
    expect(await runFor(over.id)).toMatchObject({ reason: 'over the cap of 4 alerts in 24 hours', articles: 1 });
    // A day later the window has room again; the skipped article still stays unsent.
    clock.advance(24 * 3600_000 + 60_000);
    const next = await post('New cabinet named', ['Politics']);
    await eventually(async () => (await runFor(next.id))?.outcome === 'sent', 20000, 'the next alert');
    await settle();
    expect(await mailsTitled('Coalition talks collapse')).toBe(0);
    expect(await mailsTitled('New cabinet named')).toBe(1);
  });

  test('two workers running one alert at once send it once', async () => {
    clock.advance(24 * 3600_000 + 60_000);
    const two = await startTestApp({ smtpUrl: sink.url, clock, prefix: app.prefix });
    try {
      // Stored without announcing it, so only the two runs below act on it.
      const { article } = await app.container.articleStore.add({
        title: 'Snap election called',
        url: 'https://news.test/alert/race',
        summary: '',
        bodyHtml: '',
        publishedAt: clock.now().toISOString(),
        createdAt: clock.now().toISOString(),
        categories: ['Politics'],
      });
      await Promise.all([app.container.alerts.run('news', article.id), two.container.alerts.run('news', article.id)]);
      await eventually(async () => (await mailsTitled('Snap election called')) === 1, 20000, 'the alert');
      await settle();
      await deliveriesSettled(two);
      expect(await mailsTitled('Snap election called')).toBe(1);
      const made = (await app.container.campaigns.list()).filter((c) => c.subject === 'Snap election called');
      expect(made).toHaveLength(1);
    } finally {
      await two.container.close();
    }
  });

  test('an article already sent in the newsletter is not sent again as an alert', async () => {
    const { article } = await app.container.articleStore.add({
      title: 'Old news',
      url: 'https://news.test/alert/old',
      summary: '',
      bodyHtml: '',
      publishedAt: clock.now().toISOString(),
      createdAt: clock.now().toISOString(),
      categories: ['Politics'],
    });
    await app.container.articleStore.markSent([article.id], 1, 'news');
    expect(await app.container.alerts.run('news', article.id)).toBe('skipped');
    expect(await runFor(article.id)).toMatchObject({ outcome: 'skipped', reason: 'already sent in this newsletter' });
    await sleep(300);
    expect(await mailsTitled('Old news')).toBe(0);
  });

  test('another alerts newsletter goes to its own readers only, with its own runs and its own cap', async () => {
    const res = await admin('POST', '/newsletters', {
      slug: 'breaking-sport',
      name: 'Breaking sport',
      mode: 'alerts',
      categories: ['Sport'],
      alertsPerDay: 1,
    });
    expect(res.status).toBe(201);
    await seedSubscribers(app.container, 2, { domain: 'sport.test', newsletters: ['breaking-sport'] });
    const goal = await post('Late winner', ['sport']);
    await eventually(async () => (await runFor(goal.id, 'breaking-sport'))?.outcome === 'sent', 20000, 'the run');
    await eventually(async () => (await mailsTitled('Late winner')) === 2, 20000, 'the alert to both readers');
    const recipients = sink.messages.filter((m) => m.raw.includes('Subject: Late winner')).flatMap((m) => m.to);
    expect(recipients.sort()).toEqual(['reader0@sport.test', 'reader1@sport.test']);
    // Its cap (1) is used up; the default newsletter's cap is its own.
    const second = await post('Record transfer', ['Sport']);
    await eventually(async () => (await runFor(second.id, 'breaking-sport'))?.outcome === 'skipped', 20000, 'run 2');
    // The default newsletter (Politics) ignored both.
    expect(await runFor(goal.id)).toBeUndefined();
    await settle();
    expect(await mailsTitled('Record transfer')).toBe(0);
  });

  test('a job of a newsletter no longer taking alerts does nothing', async () => {
    const a = await post('Sport quiet', ['Sport']);
    await eventually(async () => (await runFor(a.id, 'breaking-sport')) !== undefined, 20000, 'the run');
    await app.container.newsletters.update('breaking-sport', { mode: 'digest', alertsPerDay: null });
    const { article } = await app.container.articles.add({
      title: 'Derby',
      url: 'https://news.test/d',
      categories: ['Sport'],
    });
    expect(await app.container.alerts.run('breaking-sport', article.id)).toBe('ignored');
    expect(await runFor(article.id, 'breaking-sport')).toBeUndefined();
  });
});
