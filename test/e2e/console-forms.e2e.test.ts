import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  expectEveryFieldLabelled as everyFieldLabelled,
  shootBothWidths,
  signInThroughPage,
} from '../support/console-pages';
import { launchBrowser, PageOpener, type WatchedPage } from '../support/browser';
import { seedAddresses, seedLongArticles } from '../support/seed';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deliveriesSettled, eventually, startTestApp, type TestApp } from '../support/test-app';

/** Screenshots of each screen, desktop and phone, for a human to look at (gitignored). */
const SHOTS = join(__dirname, '..', 'artifacts', 'screenshots');
const PASSWORD = 'correct horse battery staple';
const ADMIN = 'ada@console.test';
const EDITOR = 'eddie@console.test';
const READERS = ['r1@readers.test', 'r2@readers.test', 'r3@readers.test'];

let sink: SmtpSink;
let app: TestApp;
let browser: Browser;
const pages = new PageOpener(() => browser);
const signIn = (email: string, width = 1200) => signInThroughPage(pages, app.base, email, PASSWORD, width);
const shoot = (page: WatchedPage, name: string) => shootBothWidths(page, SHOTS, name, 1200);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [sink, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  app = await startTestApp({ smtpUrl: sink.url });
  const { operators } = app.container;
  await operators.create({ email: ADMIN, name: 'Ada Admin', role: 'admin', password: PASSWORD });
  await operators.create({ email: EDITOR, name: 'Eddie Editor', role: 'editor', password: PASSWORD });
  await seedAddresses(app.container, READERS);
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sink?.close();
});
afterEach(async () => {
  await pages.closeAll();
});

/**
 * Clicks a button after scrolling it into view. Playwright's own scroll-then-click missed buttons below the preview
 * iframe now and then (the click landed where the button had been), so the scroll is done first, on its own.
 */
async function click(page: WatchedPage, name: string): Promise<void> {
  const button = page.getByRole('button', { name, exact: true });
  await button.scrollIntoViewIfNeeded();
  await button.click();
}

function admin(method: string, path: string, body?: unknown) {
  return fetch(`${app.base}/api/admin${path}`, {
    method,
    headers: { ...app.adminHeaders, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function auditActions(): Promise<{ action: string; actor: { email?: string } }[]> {
  const res = await admin('GET', '/audit?limit=200');
  return ((await res.json()) as { entries: { action: string; actor: { email?: string } }[] }).entries;
}

describe('newsletters', () => {
  test('an editor creates a newsletter, a bad cron shows its error beside the field, and the fixed schedule shows the next run', async () => {
    const page = await signIn(EDITOR);
    await page.goto(`${app.base}/admin/newsletters/new`);
    await everyFieldLabelled(page);
    await page.getByLabel('Slug').fill('weekly');
    await page.getByLabel('Name', { exact: true }).fill('The Weekly');
    await page.getByLabel('Categories').fill('Politics, Science');
    await page.getByLabel('Cron expression').fill('every monday');
    await page.getByLabel('Time zone').fill('Europe/London');
    await page.getByRole('button', { name: 'Create newsletter' }).click();

    const error = page.locator('#err-schedule-cron');
    await error.waitFor();
    expect(await error.textContent()).toContain('is not a cron expression');
    // The error is tied to its field, and the field is marked invalid and focused.
    const cron = page.getByLabel('Cron expression');
    expect(await cron.getAttribute('aria-invalid')).toBe('true');
    expect(await cron.getAttribute('aria-describedby')).toContain('err-schedule-cron');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-schedule-cron');
    await shoot(page, 'newsletter-form-error');

    await cron.fill('0 7 * * 1');
    await page.getByRole('button', { name: 'Create newsletter' }).click();
    await page.waitForURL(`${app.base}/admin/newsletters/weekly`);
    expect(await page.locator('#next-run').textContent()).toMatch(/next digest builds at \d{4}-\d\d-\d\dT/);
    await shoot(page, 'newsletter');

    // Edit: switch to alerts with a cap; the schedule goes away.
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel(/Alerts: each article/).check();
    await page.getByLabel('Most alerts a day').fill('5000');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#err-alertsPerDay', { hasText: 'must be at most 1000' }).waitFor();
    await page.getByLabel('Most alerts a day').fill('3');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(`${app.base}/admin/newsletters/weekly`);
    expect(await page.locator('#next-run').textContent()).toContain('at most 3 a day');
    const stored = await app.container.newsletters.get('weekly');
    expect(stored).toMatchObject({ mode: 'alerts', alertsPerDay: 3, categories: ['Politics', 'Science'] });
    expect(stored.schedule).toBeUndefined();

    await page.goto(`${app.base}/admin/newsletters`);
    const row = page.getByRole('row', { name: /The Weekly/ });
    expect(await row.textContent()).toContain('alerts');
    await shoot(page, 'newsletters');
    expect(page.errors).toEqual([]);
  });
});

describe('the composer', () => {
  test('compose from new articles: preview with size, reorder by keyboard, test send, schedule, then send now after the confirmation naming the recipients', async () => {
    const { articles } = app.container;
    const made = [];
    for (const n of [1, 2, 3])
      made.push(
        (await articles.add({ title: `Composer story ${n}`, url: `https://news.test/c/${n}`, summary: `About ${n}.` }))
          .article,
      );
    const page = await signIn(EDITOR);
    await page.goto(`${app.base}/admin/compose?newsletter=${app.container.newsletters.defaultSlug}`);
    await everyFieldLabelled(page);
    const titles = () => page.locator('#articles .title').allTextContents();
    // Newest first, all ticked.
    expect(await titles()).toEqual(['Composer story 3', 'Composer story 2', 'Composer story 1']);
    expect(await page.locator('#articles input:checked').count()).toBe(3);

    await page.getByLabel('Subject').fill('Console issue');
    await page.getByLabel('Preheader').fill('Three stories from the console');
    await page.getByRole('button', { name: 'Save draft and preview' }).click();
    const frame = page.frameLocator('#preview');
    await frame.getByText('Composer story 3').first().waitFor();
    expect(await page.locator('#size').textContent()).toMatch(/\d+\.\d KB of 100\.0 KB/);
    expect(await frame.locator('body').textContent()).toContain('Three stories from the console');

    // Keyboard only: focus "move down" of the first article and press Enter twice: it ends last.
    await page.getByRole('button', { name: 'Move down: Composer story 3' }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    expect(await titles()).toEqual(['Composer story 2', 'Composer story 1', 'Composer story 3']);
    // The preview follows: story 2 now comes before story 3.
    await eventually(
      async () => {
        const text = (await frame.locator('body').textContent()) ?? '';
        return (
          text.indexOf('Composer story 2') >= 0 && text.indexOf('Composer story 2') < text.indexOf('Composer story 3')
        );
      },
      10000,
      'the preview to show the new order',
    );
    // Leave story 1 out.
    await page.getByRole('checkbox', { name: 'Composer story 1' }).uncheck();
    await eventually(async () => !((await frame.locator('body').textContent()) ?? '').includes('Composer story 1'));
    const draftId = Number((await page.locator('#draft-state').textContent())!.match(/#(\d+)/)![1]);
    expect(await (await admin('GET', `/campaigns/${draftId}`)).json()).toMatchObject({
      subject: 'Console issue',
      preheader: 'Three stories from the console',
      articleIds: [made[1].id, made[2].id],
    });

    // Phone width preview.
    await page.getByLabel('Phone (375 px)').check();
    expect(await page.locator('#preview').getAttribute('width')).toBe('375');
    await page.getByLabel('Desktop').check();
    expect(await page.locator('#preview').getAttribute('width')).toBe('700');
    await page.getByLabel('Phone (375 px)').check();
    await shoot(page, 'compose');

    // A test to an address: the SMTP server receives it.
    await page.getByLabel('Address').fill('proof@desk.test');
    await click(page, 'Send test');
    await page.locator('#status', { hasText: 'Test sent to proof@desk.test' }).waitFor();
    const proof = await (await eventually(() => sink.to('proof@desk.test')[0], 15000, 'the test mail')).parse();
    expect(proof.subject).toBe('[Test] Console issue');

    // Schedule for 08:00 local time in ten days: the API gets that instant.
    const day = new Date(Date.now() + 10 * 86400_000);
    const local = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}T08:00`;
    await page.getByLabel(/Send at/).fill(local);
    await click(page, 'Schedule');
    await page.locator('#scheduled', { hasText: 'Scheduled for' }).waitFor();
    const scheduled = (await (await admin('GET', `/campaigns/${draftId}`)).json()) as { scheduledAt: string };
    const expected = await page.evaluate((at) => new Date(at).toISOString(), local);
    expect(scheduled.scheduledAt).toBe(expected);

    // Send now: the confirmation states the recipients; Cancel sends nothing.
    await click(page, 'Send now…');
    const dialog = page.getByRole('dialog', { name: 'Send this campaign?' });
    expect(await dialog.textContent()).toContain(`It goes to ${READERS.length} recipients`);
    await shoot(page, 'compose-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(((await (await admin('GET', `/campaigns/${draftId}`)).json()) as { status: string }).status).toBe('draft');
    await click(page, 'Send now…');
    await dialog.getByRole('button', { name: `Send to ${READERS.length} recipients` }).click();
    await page.waitForURL(`${app.base}/admin/campaigns/${draftId}`);
    await eventually(
      async () =>
        ((await (await admin('GET', `/campaigns/${draftId}`)).json()) as { status: string }).status === 'sent',
      30000,
      'the campaign to be sent',
    );
    await deliveriesSettled(app);
    for (const reader of READERS) expect(sink.to(reader).length).toBe(1);
    expect(page.errors.filter((e) => !e.includes('404'))).toEqual([]);
  });

  test('a draft over the clipping budget shows the newsletter_too_large error and its size', async () => {
    await seedLongArticles(app.container, 80);
    const page = await signIn(EDITOR);
    await page.goto(`${app.base}/admin/compose?newsletter=${app.container.newsletters.defaultSlug}`);
    await page.getByRole('button', { name: 'Save draft and preview' }).click();
    await page.locator('#status.error', { hasText: /over the 100\.0 KB .* limit/ }).waitFor();
    expect(await page.locator('#size').textContent()).toMatch(/^Too large: \d+\.\d KB/);
    // Untick all but the first few: it fits, and the draft is made.
    const boxes = await page.locator('#articles input[type=checkbox]').all();
    for (const box of boxes.slice(3)) await box.uncheck();
    await page.getByRole('button', { name: 'Save draft and preview' }).click();
    await page.locator('#draft-state', { hasText: 'saved' }).waitFor();
    // The size line is redrawn after the draft state: on a loaded machine it was read before its update landed.
    await page.locator('#size', { hasText: /KB of 100\.0 KB/ }).waitFor();
    expect(await page.locator('#size').textContent()).not.toMatch(/Too large/);
  });
});

describe('audience', () => {
  test('search by prefix and status, a person’s trail and export; an editor sees no erase button and the API refuses the editor', async () => {
    // A signup leaves a consent trail (seeded readers have none).
    await app.container.subscriptions.subscribe(
      { email: 'trail@readers.test', consent: true, termsVersion: '2026-01', source: 'signup-form' },
      { ip: '203.0.113.9', userAgent: 'e2e' },
    );
    const page = await signIn(EDITOR);
    await page.goto(`${app.base}/admin/audience`);
    await everyFieldLabelled(page);
    expect(await page.getByRole('link', { name: 'CSV' }).getAttribute('href')).toBe(
      '/api/admin/subscribers/export?format=csv',
    );
    await page.getByLabel('Address starts with').fill('TR');
    await page.getByLabel('Status').selectOption('pending');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/status=pending/);
    expect(await page.locator('tbody tr').allTextContents()).toEqual([expect.stringContaining('trail@readers.test')]);
    await shoot(page, 'audience');

    await page.getByRole('link', { name: 'trail@readers.test' }).click();
    await page.getByRole('heading', { name: 'Consent trail' }).waitFor();
    expect(await page.locator('dl.facts').textContent()).toContain('pending');
    const trail = await page.locator('tbody tr').allTextContents();
    expect(trail[0]).toContain('subscribed');
    expect(trail[0]).toContain('203.0.113.9');
    // The export is a same-origin download that carries the session cookie.
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Export this person (JSON)' }).click();
    const file = await download;
    const { readFileSync } = await import('node:fs');
    expect(JSON.parse(readFileSync(await file.path(), 'utf8'))).toMatchObject({
      subscriber: { email: 'trail@readers.test' },
    });
    expect(await page.getByRole('button', { name: /Erase/ }).count()).toBe(0);
    await shoot(page, 'person-editor');

    // Straight at the API with the editor's cookie and CSRF token: refused.
    const refused = await page.evaluate(async () => {
      const token = document.querySelector('meta[name="csrf-token"]')!.getAttribute('content')!;
      const res = await fetch('/api/admin/subscribers/trail%40readers.test', {
        method: 'DELETE',
        headers: { 'x-csrf-token': token },
      });
      return res.status;
    });
    expect(refused).toBe(403);
    expect((await admin('GET', '/subscribers/trail%40readers.test')).status).toBe(200);
  });

  test('an admin erases a person only after typing the address', async () => {
    await seedAddresses(app.container, ['gone@readers.test']);
    const page = await signIn(ADMIN);
    await page.goto(`${app.base}/admin/audience/gone%40readers.test`);
    const erase = page.getByRole('button', { name: 'Erase gone@readers.test' });
    expect(await erase.isDisabled()).toBe(true);
    await page.getByLabel('Type the address to confirm').fill('gone@readers.tes');
    expect(await erase.isDisabled()).toBe(true);
    await page.getByLabel('Type the address to confirm').fill('gone@readers.test');
    await shoot(page, 'person-admin');
    await erase.click();
    await page.locator('#status', { hasText: 'gone@readers.test was erased.' }).waitFor();
    expect((await admin('GET', '/subscribers/gone%40readers.test')).status).toBe(404);
    expect(page.errors).toEqual([]);
  });
});

describe('the session guard', () => {
  test('a request without the session cookie is refused, and one with a wrong CSRF token too', async () => {
    expect((await fetch(`${app.base}/api/admin/newsletters`)).status).toBe(401);
    const anonymous = await fetch(`${app.base}/admin/audience`, { redirect: 'manual' });
    expect([anonymous.status, anonymous.headers.get('location')]).toEqual([303, '/admin/sign-in']);

    const page = await signIn(ADMIN);
    const statuses = await page.evaluate(async () => {
      const send = (token: string) =>
        fetch('/api/admin/newsletters/weekly', {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', 'x-csrf-token': token },
          body: JSON.stringify({ description: 'changed' }),
        }).then((r) => r.status);
      return [await send('wrong-token'), await send('')];
    });
    expect(statuses).toEqual([403, 403]);
    expect((await app.container.newsletters.get('weekly')).description).toBe('');
  });
});

describe('the audit log', () => {
  test('shows each action of the console with its operator, newest first, filtered by actor and action', async () => {
    const actions = (await auditActions()).map((e) => `${e.action} ${e.actor.email ?? ''}`);
    // What the tests above did, as the log recorded it.
    for (const expected of [
      `newsletter.create ${EDITOR}`,
      `newsletter.update ${EDITOR}`,
      `campaign.create ${EDITOR}`,
      `campaign.update ${EDITOR}`,
      `campaign.test ${EDITOR}`,
      `campaign.schedule ${EDITOR}`,
      `campaign.send ${EDITOR}`,
      `subscriber.erase ${ADMIN}`,
    ])
      expect(actions).toContain(expected);

    const page = await signIn(ADMIN);
    await page.goto(`${app.base}/admin/audit`);
    await everyFieldLabelled(page);
    const firstRows = await page.locator('tbody tr').allTextContents();
    // Newest first: this sign-in is the top entry.
    expect(firstRows[0]).toContain('session.sign_in');
    expect(firstRows[0]).toContain(ADMIN);
    await shoot(page, 'audit');

    await page.getByLabel('Operator').fill(EDITOR);
    await page.getByLabel('Action').fill('campaign.');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=campaign\./);
    const rows = await page.locator('tbody tr').allTextContents();
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const row of rows) {
      expect(row).toContain(EDITOR);
      expect(row).toContain('campaign.');
    }
    expect(rows.some((r) => r.includes('campaign.send'))).toBe(true);

    // Paging: with more entries than a page the next link carries the cursor.
    for (let i = 0; i < 55; i++)
      await app.container.audit.record({ kind: 'cli', id: 'pager' }, 'test.page', { type: 'x' });
    await page.goto(`${app.base}/admin/audit?actor=cli`);
    expect(await page.locator('tbody tr').count()).toBe(50);
    await page.getByRole('link', { name: 'Older entries' }).click();
    expect(await page.locator('tbody tr').count()).toBeGreaterThanOrEqual(5);
    expect(page.errors).toEqual([]);
  });
});
