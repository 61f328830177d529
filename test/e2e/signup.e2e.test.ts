import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions } from 'playwright-core';
import type { ParsedMail } from 'mailparser';
import { launchBrowser, PageOpener } from '../support/browser';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';

/** Set to a folder (e.g. /tmp/shots) to keep screenshots of the signup page for a human to look at. */
const SHOTS = process.env.E2E_SCREENSHOT_DIR;

let sink: SmtpSink;
let app: TestApp;
let browser: Browser;
const pages = new PageOpener(() => browser);
const openPage = (options?: BrowserContextOptions) => pages.open(options);

beforeAll(async () => {
  [sink, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  app = await startTestApp({ smtpUrl: sink.url });
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sink?.close();
});
afterEach(async () => {
  await pages.closeAll();
});

const exportOf = async (email: string) => {
  const res = await fetch(`${app.base}/api/admin/subscribers/${encodeURIComponent(email)}`, {
    headers: app.adminHeaders,
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { subscriber: { status: string; name: string } };
};
const statusOf = async (email: string) => (await exportOf(email)).subscriber.status;

/** Waits for the nth mail (0-based) to `email` and parses it. */
async function mailTo(email: string, nth: number): Promise<ParsedMail> {
  const mail = await eventually(() => sink.to(email)[nth], 20000, `mail #${nth + 1} to ${email}`);
  return mail.parse();
}

/** The one distinct link to `path` in a text; fails if there is none or several. */
function linkIn(text: string, path: '/confirm' | '/unsubscribe'): string {
  const pattern = new RegExp(`${app.base.replace(/[.]/g, '\\.')}${path}\\?token=[A-Za-z0-9_.~%-]+`, 'g');
  const found = [...new Set(text.match(pattern) ?? [])];
  expect(found).toHaveLength(1);
  return found[0];
}

/** A header as sent (unfolded), from the raw header lines; mailparser restructures List-* headers. */
function rawHeader(mail: ParsedMail, name: string): string | undefined {
  const line = mail.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line
    ?.slice(line.indexOf(':') + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .trim();
}

const decodeHtml = (s: string) => s.replace(/&amp;/g, '&');

describe('the signup page in a real browser', () => {
  test('with JavaScript: signs up inline, the mailed link confirms only on the button, and the welcome mail unsubscribes in one click', async () => {
    const email = 'js.reader@example.com';
    const page = await openPage();
    await page.goto(`${app.base}/`);

    await page.fill('#email', email);
    await page.fill('#name', 'Ada Reader');
    await page.check('#consent');
    await page.click('button[type=submit]');

    // The script answers in place: no navigation, the form is replaced by the message.
    await page.locator('#message.ok', { hasText: 'check your inbox' }).waitFor();
    expect(page.url()).toBe(`${app.base}/`);
    expect(await page.locator('#signup').isHidden()).toBe(true);

    const confirmMail = await mailTo(email, 0);
    expect(confirmMail.subject).toBe('Please confirm your subscription');
    expect(confirmMail.to && !Array.isArray(confirmMail.to) && confirmMail.to.value[0].address).toBe(email);
    expect(confirmMail.text).toContain('Hello Ada Reader');
    expect(confirmMail.html).toContain('Hello Ada Reader');
    const confirmLink = linkIn(confirmMail.text ?? '', '/confirm');
    expect(linkIn(decodeHtml(confirmMail.html || ''), '/confirm')).toBe(confirmLink);
    // A confirmation goes to someone not yet on the list: no list headers.
    expect(rawHeader(confirmMail, 'List-Unsubscribe')).toBeUndefined();

    // Opening the link (as a mail scanner would) shows a button and changes nothing.
    await page.goto(confirmLink);
    await page.getByRole('heading', { name: 'Confirm your subscription' }).waitFor();
    expect(await statusOf(email)).toBe('pending');

    await page.getByRole('button', { name: 'Confirm my subscription' }).click();
    await page.getByRole('heading', { name: 'You are subscribed' }).waitFor();
    expect(await statusOf(email)).toBe('active');

    const welcome = await mailTo(email, 1);
    expect(welcome.subject).toBe('Welcome: your subscription is confirmed');
    expect(welcome.text).toContain('Hello Ada Reader');
    const unsubscribeLink = linkIn(decodeHtml(welcome.html || ''), '/unsubscribe');
    expect(linkIn(welcome.text ?? '', '/unsubscribe')).toBe(unsubscribeLink);
    const listUnsubscribe = rawHeader(welcome, 'List-Unsubscribe');
    expect(listUnsubscribe).toMatch(/^<http:\/\/[^>]+>, <mailto:[^>]+>$/);
    expect(listUnsubscribe).toContain(`<${unsubscribeLink}>`);
    expect(rawHeader(welcome, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');

    await page.goto(unsubscribeLink);
    await page.getByRole('heading', { name: 'Unsubscribe' }).waitFor();
    expect(await statusOf(email)).toBe('active');
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByRole('heading', { name: 'You are unsubscribed' }).waitFor();
    expect(await statusOf(email)).toBe('unsubscribed');

    expect(page.errors).toEqual([]);
  });

  test('without JavaScript: a submit without consent shows the form again with the error and the typed address; with consent it lands on /thanks', async () => {
    const email = 'no.script@example.com';
    const page = await openPage({ javaScriptEnabled: false });
    await page.goto(`${app.base}/`);

    await page.fill('#email', email);
    await page.fill('#name', 'Plain Reader');
    await page.click('button[type=submit]');

    await page.locator('#message.error', { hasText: 'Please agree to the terms' }).waitFor();
    expect(await page.inputValue('#email')).toBe(email);
    expect(await page.inputValue('#name')).toBe('Plain Reader');
    expect(await page.isChecked('#consent')).toBe(false);
    // Refused before anything was stored.
    const unknown = await fetch(`${app.base}/api/admin/subscribers/${encodeURIComponent(email)}`, {
      headers: app.adminHeaders,
    });
    expect(unknown.status).toBe(404);

    await page.check('#consent');
    await page.click('button[type=submit]');
    // The site has one public newsletter: the form names it in a hidden field, and the thank-you page names it.
    await page.waitForURL(`${app.base}/thanks?newsletters=news`);
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await page.locator('.message.ok', { hasText: 'to confirm your subscription to The Test Gazette.' }).waitFor();

    expect(await statusOf(email)).toBe('pending');
    expect((await mailTo(email, 0)).subject).toBe('Please confirm your subscription');
    expect(page.errors).toEqual([]);
  });

  test('at phone width (375 px) the page does not scroll sideways and the button is on screen', async () => {
    const page = await openPage({
      viewport: { width: 375, height: 667 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await page.goto(`${app.base}/`);

    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      innerWidth: window.innerWidth,
    }));
    expect(layout.innerWidth).toBe(375); // the viewport meta tag is honoured
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth);

    const button = page.getByRole('button', { name: 'Subscribe' });
    expect(await button.isVisible()).toBe(true);
    const box = (await button.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(375);
    expect(box.height).toBeGreaterThanOrEqual(40); // a comfortable touch target
    for (const field of ['#email', '#name']) {
      const b = (await page.locator(field).boundingBox())!;
      expect(b.x + b.width).toBeLessThanOrEqual(375);
    }

    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'signup-375.png'), fullPage: true });
      const desktop = await openPage({ viewport: { width: 1280, height: 800 } });
      await desktop.goto(`${app.base}/`);
      await desktop.screenshot({ path: join(SHOTS, 'signup-1280.png'), fullPage: true });
    }
    expect(page.errors).toEqual([]);
  });
});
