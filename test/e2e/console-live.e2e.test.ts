import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, PageOpener, type WatchedPage } from '../support/browser';
import { seedArticles, seedSubscribers } from '../support/seed';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deliveriesSettled, eventually, startTestApp, type TestApp } from '../support/test-app';

/**
 * Screenshots of every screen, kept out of git (.gitignore). With UPDATE_DOCS_SCREENSHOTS=1 two of them are also
 * copied to docs/ for the README; a plain test run leaves the committed files alone.
 */
const SHOTS = join(__dirname, '..', 'artifacts', 'screenshots');
const DOCS = join(__dirname, '..', '..', 'docs');
const toDocs = async (shotPath: Promise<string>, name: string) => {
  const path = await shotPath;
  if (process.env.UPDATE_DOCS_SCREENSHOTS === '1') copyFileSync(path, join(DOCS, name));
};
const READERS = 150;
const PASSWORD = 'correct horse battery staple';

let sink: SmtpSink;
let app: TestApp;
let browser: Browser;
const pages = new PageOpener(() => browser);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [sink, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  // A slow enough send (30/s over batches of 10) that the page can pause the campaign while it runs.
  app = await startTestApp({
    smtpUrl: sink.url,
    env: {
      PASSWORD_SCRYPT_N: '1024',
      SIGN_IN_RATE_PER_IP: '200',
      SEND_RATE_PER_SECOND: '30',
      DELIVERY_BATCH_SIZE: '10',
      SIGNUP_RATE_PER_IP: '100',
    },
  });
  const { operators } = app.container;
  await operators.create({ email: 'ed@gazette.test', name: 'Edith Editor', role: 'editor', password: PASSWORD });
  await operators.create({ email: 'vi@gazette.test', name: 'Victor Viewer', role: 'viewer', password: PASSWORD });
  await seedSubscribers(app.container, READERS);
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sink?.close();
});
afterEach(async () => {
  await pages.closeAll();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function signIn(email: string, width = 1280): Promise<WatchedPage> {
  const page = await pages.open({ viewport: { width, height: 900 } });
  await page.goto(`${app.base}/admin/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page
    .getByRole('heading', { name: 'Dashboard', level: 1 })
    .waitFor()
    .catch(async (err: Error) => {
      throw new Error(`${err.message}\n${page.url()}\n${(await page.textContent('body'))?.slice(0, 2000)}`);
    });
  return page;
}

/** Saves a full-page screenshot, then checks the page does not scroll sideways at its width. */
async function shot(page: Page, name: string): Promise<string> {
  const width = page.viewportSize()!.width;
  const path = join(SHOTS, `${name}-${width}.png`);
  await page.screenshot({ path, fullPage: true });
  const layout = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth);
  return path;
}

async function admin(path: string, method = 'GET', body?: unknown): Promise<Json> {
  const res = await fetch(`${app.base}/api/admin${path}`, {
    method,
    headers: { ...app.adminHeaders, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? {} : ((await res.json()) as Json);
}

/** A draft of the new articles. */
async function newCampaign(subject: string): Promise<number> {
  const articles = await seedArticles(app.container, 2);
  return (await admin('/campaigns', 'POST', { subject, articleIds: articles.map((a) => a.id) })).id as number;
}

const readerMails = () => sink.messages.filter((m) => m.to.some((t) => t.endsWith('@list.test'))).length;
const figure = async (page: Page, key: string) => Number((await page.textContent(`#c-${key}`))!.replace(/,/g, ''));

describe('the console dashboard and campaign view in a real browser', () => {
  test('the dashboard shows subscribers by status and newsletter, the 30-day chart with a signup made today, queue health and what comes next', async () => {
    const res = await fetch(`${app.base}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'new.reader@signup.test', consent: true }),
    });
    expect([res.status, await res.text()]).toEqual([202, '{"status":"pending"}']);
    const today = new Date().toISOString().slice(0, 10);
    await eventually(async () => (await app.container.activity.days(new Date(), 1))[0].signups === 1);
    const scheduled = await newCampaign('Sunday special');
    await admin(`/campaigns/${scheduled}/schedule`, 'POST', { at: new Date(Date.now() + 86_400_000).toISOString() });

    const page = await signIn('vi@gazette.test');
    const cards = page.locator('.card');
    await expect(cards.filter({ hasText: 'Active' }).locator('.figure').textContent()).resolves.toBe(String(READERS));
    await expect(cards.filter({ hasText: 'Pending' }).locator('.figure').textContent()).resolves.toBe('1');
    await page.getByRole('heading', { name: 'Readers by newsletter' }).waitFor();
    expect(await page.getByRole('row', { name: /The Test Gazette/ }).textContent()).toContain(String(READERS));
    // uPlot draws into a canvas inside the labelled chart box.
    await page.locator('#activity-chart canvas').first().waitFor();
    expect(await page.getByRole('img', { name: /Signups, confirmations and unsubscribes per day/ }).count()).toBe(1);
    await page.getByText('The numbers by day').click();
    expect(await page.getByRole('row', { name: new RegExp(today) }).textContent()).toMatch(/^\s*\S+\s*1\s*0\s*0\s*$/);
    // Queue health: every queue with a worker alive in this process.
    const deliveries = page.getByRole('row', { name: new RegExp(app.container.campaignQueues.deliveries.name) });
    expect(Number((await deliveries.locator('td').last().textContent())!)).toBeGreaterThanOrEqual(1);
    await page
      .getByRole('link', { name: /Sunday special/ })
      .first()
      .waitFor();
    expect(await page.getByRole('heading', { name: 'Feed' }).count()).toBe(1);
    expect(page.errors).toEqual([]);
    await toDocs(shot(page, 'dashboard'), 'console-dashboard.png');

    const phone = await signIn('vi@gazette.test', 375);
    await phone.locator('#activity-chart canvas').first().waitFor();
    await shot(phone, 'dashboard');
    await phone.goto(`${app.base}/admin/campaigns`);
    await phone.getByRole('link', { name: /Sunday special/ }).waitFor();
    await shot(phone, 'campaigns');
    await page.goto(`${app.base}/admin/campaigns`);
    await shot(page, 'campaigns');
    await admin(`/campaigns/${scheduled}`, 'DELETE').catch(() => undefined);
  });

  test('an editor watches a send live, pauses and resumes it from the page, and the bar reaches done with the counts the SMTP server received', async () => {
    const id = await newCampaign('Live from the newsroom');
    const before = readerMails();
    const page = await signIn('ed@gazette.test');
    await page.goto(`${app.base}/admin/campaigns/${id}`);
    await page.getByRole('heading', { name: `Campaign #${id}: Live from the newsroom` }).waitFor();
    await admin(`/campaigns/${id}/send`, 'POST');

    // Pushed by the events stream: the page itself never asks again.
    await page.locator('#c-status', { hasText: 'sending' }).waitFor();
    await eventually(async () => (await figure(page, 'sent')) >= 20, 15000, 'some sends shown');
    await shot(page, 'campaign-sending');
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#c-status', { hasText: 'paused' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    await deliveriesSettled(app);
    const atPause = (await app.container.campaignStore.get(id))!;
    expect(atPause.sent).toBeLessThan(READERS);
    await eventually(async () => (await figure(page, 'sent')) === atPause.sent, 5000, 'the paused count shown');
    expect(readerMails() - before).toBe(atPause.sent);

    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#c-status', { hasText: 'sending' }).waitFor();
    const phone = await signIn('ed@gazette.test', 375);
    await phone.goto(`${app.base}/admin/campaigns/${id}`);
    await phone.locator('#minute-chart canvas').first().waitFor();
    await shot(phone, 'campaign-sending');

    await page.locator('#c-status', { hasText: /^sent$/ }).waitFor({ timeout: 30000 });
    await page.locator('#c-progress-text', { hasText: `Done: ${READERS} of ${READERS} (100 %)` }).waitFor();
    const received = readerMails() - before;
    expect(received).toBe(READERS);
    expect(await figure(page, 'sent')).toBe(received);
    expect(await page.locator('#c-progress').evaluate((p: HTMLProgressElement) => [p.value, p.max])).toEqual([
      READERS,
      READERS,
    ]);
    for (const k of ['failed', 'skipped', 'bounced', 'complained']) expect(await figure(page, k)).toBe(0);
    expect(await page.getByRole('button', { name: 'Pause' }).isVisible()).toBe(false);
    await page.locator('#minute-chart canvas').first().waitFor();
    expect(page.errors).toEqual([]);
    await toDocs(shot(page, 'campaign-done'), 'console-campaign.png');
    await phone.reload();
    await phone.locator('#c-status', { hasText: /^sent$/ }).waitFor();
    await shot(phone, 'campaign-done');

    // The page's buttons went through the admin API: the audit log names the editor and the session.
    for (const action of ['campaign.pause', 'campaign.resume']) {
      const entries = JSON.stringify(await admin(`/audit?action=${action}`));
      expect(entries).toContain('ed@gazette.test');
      expect(entries).toContain('"via":"session"');
      expect(entries).toContain(`"id":"${id}"`);
    }
  });

  test('a campaign that paused itself shows its reason; cancel asks first and then ends the campaign', async () => {
    const id = await newCampaign('Stopped by a rule');
    await app.container.campaignStore.transition(id, ['draft'], 'paused', {
      reason: 'complaint rate 0.5 % over 0.3 %',
    });
    const page = await signIn('ed@gazette.test');
    await page.goto(`${app.base}/admin/campaigns/${id}`);
    await page.locator('#c-reason', { hasText: 'Paused itself: complaint rate 0.5 % over 0.3 %' }).waitFor();
    page.once('dialog', (d) => void d.dismiss());
    await page.getByRole('button', { name: 'Cancel the campaign' }).click();
    expect((await app.container.campaignStore.get(id))!.status).toBe('paused');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Cancel the campaign' }).click();
    await page.locator('#c-status', { hasText: 'cancelled' }).waitFor();
    expect((await app.container.campaignStore.get(id))!.status).toBe('cancelled');
    expect(page.errors).toEqual([]);
  });

  test('a viewer sees the campaign without pause, resume or cancel, and a pause posted with the viewer’s cookie and CSRF token is refused', async () => {
    const id = await newCampaign('For viewers');
    await app.container.campaignStore.transition(id, ['draft'], 'paused', {});
    const page = await signIn('vi@gazette.test');
    await page.goto(`${app.base}/admin/campaigns/${id}`);
    await page.locator('#c-status', { hasText: 'paused' }).waitFor();
    expect(await page.getByRole('button', { name: /Pause|Resume|Cancel/ }).count()).toBe(0);
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    const res = await page.request.post(`${app.base}/api/admin/campaigns/${id}/resume`, {
      headers: { 'x-csrf-token': csrf!, origin: app.base },
    });
    expect(res.status()).toBe(403);
    expect((await app.container.campaignStore.get(id))!.status).toBe('paused');
  });
});

describe('GET /api/admin/campaigns/:id/events (server-sent events)', () => {
  test('streams progress events over plain HTTP until the campaign finishes, then ends the stream', async () => {
    const id = await newCampaign('Streamed');
    const res = await fetch(`${app.base}/api/admin/campaigns/${id}/events`, { headers: app.adminHeaders });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    await admin(`/campaigns/${id}/send`, 'POST');

    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const events = text
      .split('\n\n')
      .filter((b) => b.startsWith('event:'))
      .map((b) => ({ type: /^event: (\w+)/.exec(b)![1], data: JSON.parse(/\ndata: (.*)/.exec(b)![1]) as Json }));
    const progress = events.filter((e) => e.type === 'progress').map((e) => e.data);
    expect(events.at(-1)!.type).toBe('end');
    expect(progress[0].status).toBe('draft');
    expect(progress.some((p) => p.status === 'sending')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ status: 'sent', sent: READERS, done: READERS, total: READERS });
    // Only changes are pushed: no two neighbouring events alike, and the counts never go back.
    for (let i = 1; i < progress.length; i++) {
      expect(JSON.stringify(progress[i])).not.toBe(JSON.stringify(progress[i - 1]));
      expect(progress[i].done).toBeGreaterThanOrEqual(progress[i - 1].done);
    }
    expect(progress.at(-1)!.perMinute.reduce((s: number, m: Json) => s + m.count, 0)).toBe(READERS);
  });

  test('without a session or token the stream is refused; an unknown campaign is a 404 before any stream', async () => {
    expect((await fetch(`${app.base}/api/admin/campaigns/1/events`)).status).toBe(401);
    const missing = await fetch(`${app.base}/api/admin/campaigns/999999/events`, { headers: app.adminHeaders });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/json/);
  });
});
