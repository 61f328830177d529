import { simpleParser } from 'mailparser';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, TestClock, type TestApp } from '../support/test-app';
import { seedAddresses, seedArticles, seedLongArticles } from '../support/seed';

const LIMIT = 100 * 1024;

let sink: SmtpSink;
let app: TestApp;
const clock = new TestClock(Date.parse('2026-12-01T01:30:00Z'));

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({
    smtpUrl: sink.url,
    clock,
    env: { SITE_URL: 'https://news.gazette.test', SMTP_NAME: 'mailer.gazette.test', FEEDBACK_ID_SENDER: 'gazette-nl' },
  });
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${app.base}/api/admin${path}`, {
    ...init,
    headers: { ...app.adminHeaders, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });

/** Sends a campaign of these articles to these addresses and returns its id and the parsed messages. */
async function sendCampaign(articleIds: number[], emails: string[]) {
  await seedAddresses(app.container, emails);
  const campaign = await app.container.campaigns.create({ articleIds });
  await app.container.campaigns.send(campaign.id);
  await eventually(
    () => emails.every((e) => sink.to(e).length > 0),
    20000,
    `campaign ${campaign.id} at ${emails.join(', ')}`,
  );
  return { id: campaign.id, mails: await Promise.all(emails.map((e) => sink.to(e)[0].parse())) };
}

describe('size budget', () => {
  test('a 12-article newsletter of long articles goes out with its HTML part under 100 KB, and its size is reported', async () => {
    const ids = await seedLongArticles(app.container, 12);
    const { id, mails } = await sendCampaign(ids, ['twelve@size.test']);
    const html = mails[0].html as string;
    expect(Buffer.byteLength(html)).toBeLessThan(LIMIT);
    // Minified: only the <style> blocks and Outlook's conditional comments keep line breaks (MJML's own output of
    // this newsletter has over 1,200 lines).
    expect(html.split('\n').length).toBeLessThan(100);
    // Every article made it in: the budget was not met by dropping any.
    for (let i = 1; i <= 12; i++) expect(html).toContain(`Story ${i}: rights groups`);

    const status = await (await admin(`/campaigns/${id}`)).json();
    expect(status.htmlBytes).toBeGreaterThan(30 * 1024);
    expect(status.htmlBytes).toBeLessThan(LIMIT);
    // The reported size is that of the HTML as sent, before the reader's values went in.
    expect(Math.abs(status.htmlBytes - Buffer.byteLength(html))).toBeLessThan(1024);
    const preview = await admin(`/campaigns/${id}/preview`);
    expect(Number(preview.headers.get('newsletter-html-bytes'))).toBe(status.htmlBytes);
  });

  test('a 25-article newsletter is refused with 422 newsletter_too_large, naming its size and how many articles fit', async () => {
    const ids = await seedLongArticles(app.container, 25);
    const before = (await app.container.campaigns.list()).length;
    const res = await admin('/campaigns', { method: 'POST', body: JSON.stringify({ articleIds: ids }) });
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.code).toBe('newsletter_too_large');
    const { htmlBytes, limitBytes, articles, articlesThatFit } = error.details;
    expect(limitBytes).toBe(LIMIT);
    expect(htmlBytes).toBeGreaterThan(LIMIT);
    expect(articles).toBe(25);
    expect(articlesThatFit).toBeGreaterThanOrEqual(12);
    expect(articlesThatFit).toBeLessThan(25);
    expect(error.message).toContain(`${htmlBytes.toLocaleString('en-US')} bytes`);
    expect(error.message).toContain(`${articlesThatFit} of its 25 articles fit`);
    expect((await app.container.campaigns.list()).length).toBe(before);

    // "fit" is exact: that many articles make a campaign, one more does not.
    const fits = await admin('/campaigns', {
      method: 'POST',
      body: JSON.stringify({ articleIds: ids.slice(0, articlesThatFit) }),
    });
    expect(fits.status).toBe(201);
    const oneMore = await admin('/campaigns', {
      method: 'POST',
      body: JSON.stringify({ articleIds: ids.slice(0, articlesThatFit + 1) }),
    });
    expect(oneMore.status).toBe(422);
  });
});

describe('the newsletter body', () => {
  let campaignId: number;
  let html: string;
  let articles: Awaited<ReturnType<typeof seedArticles>>;

  beforeAll(async () => {
    articles = await seedArticles(app.container, 2);
    const sent = await sendCampaign(
      articles.map((a) => a.id),
      ['body@mail.test'],
    );
    campaignId = sent.id;
    html = sent.mails[0].html as string;
  });

  test('the lead image links to its article, says where the link goes without repeating the headline, and has only valid attributes', () => {
    const lead = articles[0];
    const img = new RegExp(`<a href="${lead.url}"[^>]*>\\s*<img ([^>]*)>`).exec(html);
    expect(img).not.toBeNull();
    expect(img![1]).toContain('src="https://news.test/img/lead.jpg"');
    expect(img![1]).toMatch(/alt="Open the article"/);
    expect(img![1]).not.toContain(lead.title);
    expect(html).not.toMatch(/height="auto"/);
  });

  test('the header links to the site, and a visible first line links the web version', () => {
    expect(html).toMatch(/<a href="https:\/\/news\.gazette\.test"[^>]*>The Test Gazette<\/a>/);
    expect(html).toContain(`In this issue: ${articles[0].title.replace('’', '&#8217;')}`.slice(0, 20));
    expect(html).toContain(`<a href="${app.base}/archive/${campaignId}"`);
    expect(html).toContain('View in browser');
    // No hidden text: what a reader's mail app shows beside the subject is the visible first line.
    expect(html).not.toMatch(/display:\s*none/);
  });

  test('GET /archive/:id serves the sent newsletter with nothing personal in it, under a policy without scripts', async () => {
    const res = await fetch(`${app.base}/archive/${campaignId}`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    // The mail's own styles are allowed by their hashes, never by 'unsafe-inline'.
    expect(csp).toMatch(/style-src 'unsafe-hashes'( 'sha256-[A-Za-z0-9+/=]+')+;/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('script-src');
    const page = await res.text();
    for (const a of articles) expect(page).toContain(a.url);
    expect(page).toContain('Hello reader,');
    expect(page).not.toContain('{{');
    expect(page).not.toContain('token=');
    expect(page).not.toContain('Unsubscribe');
    expect(page).not.toContain('View in browser');
    expect(page).toMatch(new RegExp(`<a href="${app.base}/"[^>]*>Sign up</a>`));
    // The mail itself had the reader's unsubscribe link: the web version is a different thing, not the same bytes.
    expect(html).toContain('/unsubscribe?token=');
  });

  test('GET /archive/:id answers 404 for a draft, a cancelled campaign, an unknown id and a malformed one', async () => {
    // The article went out in the campaign above; these two only need to exist, so they take it again on purpose.
    const draft = await app.container.campaigns.create({ articleIds: [articles[1].id], allowResend: true });
    const cancelled = await app.container.campaigns.create({ articleIds: [articles[1].id], allowResend: true });
    await app.container.campaigns.cancel(cancelled.id);
    for (const path of [draft.id, cancelled.id, 999999, 'abc', '01', '1e3']) {
      const res = await fetch(`${app.base}/archive/${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('No such newsletter');
    }
  });

  test('a campaign cancelled while sending is withdrawn from the web at once, though its page was served before', async () => {
    // No workers: the campaign stays "sending" until it is cancelled.
    const idle = await startTestApp({ workers: false });
    try {
      await seedAddresses(idle.container, ['idle@mail.test']);
      const [lead] = await seedArticles(idle.container, 1);
      const c = await idle.container.campaigns.create({ articleIds: [lead.id] });
      await idle.container.campaigns.send(c.id);
      expect((await fetch(`${idle.base}/archive/${c.id}`)).status).toBe(200);
      await idle.container.campaigns.cancel(c.id);
      expect((await fetch(`${idle.base}/archive/${c.id}`)).status).toBe(404);
    } finally {
      await idle.stop();
    }
  });
});

describe('headers and the SMTP session', () => {
  test('each message is dated when it is built, even from a template compiled long before', async () => {
    await fetch(`${app.base}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'first@date.test', consent: true, termsVersion: '2026-01' }),
    });
    await eventually(() => sink.to('first@date.test').length === 1, 10000, 'first confirmation');
    clock.advance(7 * 60_000 + 500);
    await fetch(`${app.base}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'second@date.test', consent: true, termsVersion: '2026-01' }),
    });
    await eventually(() => sink.to('second@date.test').length === 1, 10000, 'second confirmation');
    const [first, second] = await Promise.all(
      ['first@date.test', 'second@date.test'].map((e) => simpleParser(sink.to(e)[0].raw)),
    );
    expect(second.date!.getTime() - first.date!.getTime()).toBe(7 * 60_000);
    expect(sink.to('second@date.test')[0].raw.toString()).toMatch(
      /\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\n/,
    );
  });

  test('the client greets with SMTP_NAME, and every kind of mail carries its Feedback-ID', async () => {
    const confirm = sink.to('first@date.test')[0];
    expect(confirm.helo).toBe('mailer.gazette.test');
    expect((await confirm.parse()).headers.get('feedback-id')).toBe('confirm:transactional:gazette-nl');
    const newsletter = sink.to('body@mail.test')[0];
    expect(newsletter.helo).toBe('mailer.gazette.test');
    expect((await newsletter.parse()).headers.get('feedback-id')).toMatch(/^campaign-\d+:newsletter:gazette-nl$/);
  });

  test('without SMTP_NAME the client greets with the host of PUBLIC_URL, and the List-Id does not repeat its label', async () => {
    const other = await startTestApp({
      smtpUrl: sink.url,
      workers: true,
      env: { PUBLIC_URL: 'https://newsletter.gazette.test' },
    });
    try {
      await other.container.subscribers.create({
        email: 'welcome@helo.test',
        name: 'W',
        status: 'active',
        consent: { at: '2026-01-01T00:00:00Z', ip: '', userAgent: '', termsVersion: '1', termsHash: '', source: 's' },
        now: new Date().toISOString(),
        newsletters: ['news'],
      });
      const sub = await other.container.subscribers.getByEmail('welcome@helo.test');
      await other.container.transactionalQueue.enqueue('welcome', sub!.id);
      await eventually(() => sink.to('welcome@helo.test').length === 1, 10000, 'welcome mail');
      const mail = sink.to('welcome@helo.test')[0];
      expect(mail.helo).toBe('newsletter.gazette.test');
      const parsed = await mail.parse();
      expect(parsed.headers.get('feedback-id')).toBe('welcome:transactional:thetestgazette');
      expect(parsed.headerLines.find((h) => h.key === 'list-id')?.line).toBe(
        'List-ID: The Test Gazette <newsletter.gazette.test>',
      );
    } finally {
      await other.stop();
    }
  });
});
