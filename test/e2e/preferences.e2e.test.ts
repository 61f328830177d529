import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import type { ParsedMail } from 'mailparser';
import { launchBrowser, PageOpener } from '../support/browser';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';

/** Set to a folder (e.g. /tmp/shots) to keep screenshots of the pages for a human to look at. */
const SHOTS = process.env.E2E_SCREENSHOT_DIR;

let sink: SmtpSink;
let app: TestApp;
let browser: Browser;
const pages = new PageOpener(() => browser);
const openPage = (options?: BrowserContextOptions) => pages.open(options);

beforeAll(async () => {
  [sink, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  app = await startTestApp({ smtpUrl: sink.url, env: { SIGNUP_RATE_PER_IP: '1000' } });
  const { newsletters } = app.container;
  await newsletters.create({
    slug: 'culture',
    name: 'The Culture Letter',
    description: 'Books, films and the arts, every Friday, with a reading list long enough to wrap on a phone.',
  });
  await newsletters.create({ slug: 'alerts', name: 'Breaking News', description: 'The big stories as they break.' });
  await newsletters.create({ slug: 'insiders', name: 'Insiders', public: false });
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

async function exportOf(email: string): Promise<Json> {
  const res = await fetch(`${app.base}/api/admin/subscribers/${encodeURIComponent(email)}`, {
    headers: app.adminHeaders,
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

async function mailTo(email: string, nth: number): Promise<ParsedMail> {
  const mail = await eventually(() => sink.to(email)[nth], 20000, `mail #${nth + 1} to ${email}`);
  return mail.parse();
}

function confirmLinkIn(mail: ParsedMail): string {
  return new RegExp(`${app.base.replace(/[.]/g, '\\.')}/confirm\\?token=[A-Za-z0-9_.-]+`).exec(mail.text ?? '')![0];
}

const box = (page: Page, name: string | RegExp) => page.getByRole('checkbox', { name });

/** Follows the mailed confirmation link and presses its button. */
async function confirmInBrowser(page: Page, mail: ParsedMail): Promise<void> {
  await page.goto(confirmLinkIn(mail));
  await page.getByRole('button', { name: 'Confirm my subscription' }).click();
  await page.getByRole('heading', { name: 'You are subscribed' }).waitFor();
}

/** The page does not scroll sideways at this width, and every button is on screen. */
async function fitsWidth(page: Page, width: number, shot?: string): Promise<void> {
  if (SHOTS && shot) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${shot}-${width}.png`), fullPage: true });
  }
  const layout = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth);
  for (const button of await page.getByRole('button').all()) {
    const b = (await button.boundingBox())!;
    expect(b.x).toBeGreaterThanOrEqual(0);
    expect(b.x + b.width).toBeLessThanOrEqual(width);
  }
}

describe('choosing newsletters on the signup page in a real browser', () => {
  test('with JavaScript: the public newsletters are labelled checkboxes in a fieldset, the default ticked; choosing two by keyboard, the confirmation names both and confirming makes a reader of both', async () => {
    const email = 'two.js@choice.test';
    const page = await openPage();
    await page.goto(`${app.base}/`);

    const group = page.getByRole('group', { name: 'Choose your newsletters' });
    await group.waitFor();
    expect(await group.getByRole('checkbox').count()).toBe(3);
    expect(await page.getByText('Insiders').count()).toBe(0);
    expect(await box(page, /The Test Gazette/).isChecked()).toBe(true);
    expect(await box(page, /The Culture Letter/).isChecked()).toBe(false);

    await page.fill('#email', email);
    // Keyboard only: Tab reaches each box in turn, the default first (the hidden fields take no focus), and Space
    // toggles it.
    await box(page, /The Test Gazette/).focus();
    await page.keyboard.press('Space'); // unticks the default
    expect(await box(page, /The Test Gazette/).isChecked()).toBe(false);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('nl-alerts');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('nl-culture');
    await page.keyboard.press('Space');
    await page.check('#consent');
    await page.click('button[type=submit]');

    await page
      .locator('#message.ok', { hasText: 'to confirm your subscription to Breaking News and The Culture Letter.' })
      .waitFor();
    const confirmMail = await mailTo(email, 0);
    expect(confirmMail.text).toContain('asked to receive Breaking News and The Culture Letter at this address');
    expect((await exportOf(email)).subscriber.requestedNewsletters).toEqual(['alerts', 'culture']);

    await confirmInBrowser(page, confirmMail);
    expect((await exportOf(email)).subscriber).toMatchObject({ status: 'active', newsletters: ['alerts', 'culture'] });
    expect(await app.container.subscribers.pageMemberIds('culture', 0, 1e6)).toContain(
      (await exportOf(email)).subscriber.id,
    );
    expect(page.errors).toEqual([]);
  });

  test('without JavaScript: nothing ticked shows the reason on the page and stores nothing; two ticked goes to /thanks naming them and the confirmation names both', async () => {
    const email = 'two.plain@choice.test';
    const page = await openPage({ javaScriptEnabled: false });
    await page.goto(`${app.base}/`);

    await page.fill('#email', email);
    await box(page, /The Test Gazette/).uncheck();
    await page.check('#consent');
    await page.click('button[type=submit]');
    await page.locator('#message.error', { hasText: 'Please choose at least one newsletter.' }).waitFor();
    expect(await page.inputValue('#email')).toBe(email);
    const unknown = await fetch(`${app.base}/api/admin/subscribers/${encodeURIComponent(email)}`, {
      headers: app.adminHeaders,
    });
    expect(unknown.status).toBe(404);

    await box(page, /The Culture Letter/).check();
    await box(page, /The Test Gazette/).check();
    await page.check('#consent');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/thanks\?/);
    await page
      .locator('.message.ok', { hasText: 'to confirm your subscription to The Test Gazette and The Culture Letter.' })
      .waitFor();
    const confirmMail = await mailTo(email, 0);
    expect(confirmMail.text).toContain('asked to receive The Test Gazette and The Culture Letter at this address');
    await confirmInBrowser(page, confirmMail);
    expect((await exportOf(email)).subscriber).toMatchObject({ status: 'active', newsletters: ['news', 'culture'] });
    expect(page.errors).toEqual([]);
  });

  test('?newsletter=slug ticks that newsletter instead of the default', async () => {
    const page = await openPage();
    await page.goto(`${app.base}/?newsletter=alerts`);
    expect(await box(page, /Breaking News/).isChecked()).toBe(true);
    expect(await box(page, /The Test Gazette/).isChecked()).toBe(false);
  });
});

describe('the preference page in a real browser', () => {
  async function reader(email: string, newsletters: string[]): Promise<number> {
    const now = new Date().toISOString();
    const consent = { at: now, ip: '', userAgent: '', termsVersion: '1', termsHash: '', source: 'e2e' };
    return (await app.container.subscribers.create({ email, name: '', status: 'active', consent, now, newsletters }))
      .id;
  }

  test('shows the current choices; adding one and dropping one with one Save sticks across a reload and is in the trail', async () => {
    const email = 'chooser@prefs.test';
    const id = await reader(email, ['news', 'culture', 'insiders']);
    const page = await openPage({ userAgent: 'e2e-prefs-browser' });
    await page.goto(app.container.links.preferences(id));

    await page.getByRole('heading', { name: 'Your newsletters' }).waitFor();
    const group = page.getByRole('group', { name: 'Tick the newsletters you want' });
    // Every public newsletter, and the private one this reader receives.
    expect(await group.getByRole('checkbox').count()).toBe(4);
    expect(await box(page, /The Test Gazette/).isChecked()).toBe(true);
    expect(await box(page, /The Culture Letter/).isChecked()).toBe(true);
    expect(await box(page, /Insiders/).isChecked()).toBe(true);
    expect(await box(page, /Breaking News/).isChecked()).toBe(false);

    await box(page, /The Culture Letter/).uncheck();
    await box(page, /Breaking News/).check();
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await page.locator('#message.ok', { hasText: 'Your choices are saved.' }).waitFor();

    await page.reload();
    expect(await box(page, /The Culture Letter/).isChecked()).toBe(false);
    expect(await box(page, /Breaking News/).isChecked()).toBe(true);
    expect(await box(page, /The Test Gazette/).isChecked()).toBe(true);

    const held = await exportOf(email);
    expect(held.subscriber).toMatchObject({ status: 'active', newsletters: ['news', 'insiders', 'alerts'] });
    expect(held.trail.filter((e: Json) => e.type === 'newsletters_changed')).toEqual([
      expect.objectContaining({
        detail: 'joined: alerts; left: culture (preferences)',
        userAgent: 'e2e-prefs-browser',
        ip: expect.stringContaining('127.0.0.1'),
      }),
    ]);
    expect(page.errors).toEqual([]);
  });

  test('"Unsubscribe from everything" leaves altogether, and the link then shows "not subscribed" with a way back', async () => {
    const email = 'leaver@prefs.test';
    const id = await reader(email, ['news', 'alerts']);
    const page = await openPage({ javaScriptEnabled: false });
    const url = app.container.links.preferences(id);
    await page.goto(url);
    await page.getByRole('button', { name: 'Unsubscribe from everything' }).click();
    await page.getByRole('heading', { name: 'You are unsubscribed' }).waitFor();
    const held = await exportOf(email);
    expect(held.subscriber).toMatchObject({ status: 'unsubscribed', newsletters: [] });
    expect(held.trail.at(-1)).toMatchObject({ type: 'unsubscribed', detail: 'preferences' });

    await page.goto(url);
    await page.getByRole('heading', { name: "You're not subscribed" }).waitFor();
    await page.getByRole('link', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Sign up to receive our latest news!' }).waitFor();
  });

  test('a tampered link shows the invalid-link page', async () => {
    const id = await reader('tampered@prefs.test', ['news']);
    const page = await openPage();
    const url = app.container.links.preferences(id);
    const res = await page.goto(url.replace(/token=./, (m) => (m.endsWith('c') ? 'token=d' : 'token=c')));
    expect(res?.status()).toBe(400);
    await page.getByRole('alert').filter({ hasText: 'The link is not valid.' }).waitFor();
  });

  test('at phone width (375 px) the signup and preference pages do not scroll sideways', async () => {
    const id = await reader('phone@prefs.test', ['news', 'culture']);
    const page = await openPage({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    await page.goto(`${app.base}/`);
    await fitsWidth(page, 375, 'signup-choice');
    await page.goto(app.container.links.preferences(id));
    await fitsWidth(page, 375, 'preferences');
    const unsubscribe = app.container.links.unsubscribe(id, 'culture').url;
    await page.goto(unsubscribe);
    await page.getByRole('heading', { name: 'Unsubscribe from The Culture Letter' }).waitFor();
    await fitsWidth(page, 375, 'unsubscribe-newsletter');
    expect(page.errors).toEqual([]);
  });
});
