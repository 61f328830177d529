import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  expectEveryFieldLabelled as everyFieldLabelled,
  shootBothWidths,
  signInThroughPage,
  submitSignIn,
} from '../support/console-pages';
import { launchBrowser, PageOpener, type WatchedPage } from '../support/browser';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startTestApp, type TestApp } from '../support/test-app';

/** Screenshots of each screen, desktop and phone, for a human to look at (gitignored). */
const SHOTS = join(__dirname, '..', 'artifacts', 'screenshots');
const PASSWORD = 'correct horse battery staple';
const ADMIN = 'ada@operators.test';
const EDITOR = 'eddie@operators.test';
const NEW_PASSWORD = 'a new operator passphrase';

let sink: SmtpSink;
let app: TestApp;
let browser: Browser;
const pages = new PageOpener(() => browser);
const trySignIn = (email: string, password: string) => submitSignIn(pages, app.base, email, password);
const signIn = (email: string, password = PASSWORD) => signInThroughPage(pages, app.base, email, password);
const shoot = (page: WatchedPage, name: string) => shootBothWidths(page, SHOTS, name);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [sink, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  app = await startTestApp({ smtpUrl: sink.url });
  const { operators } = app.container;
  await operators.create({ email: ADMIN, name: 'Ada Admin', role: 'admin', password: PASSWORD });
  await operators.create({ email: EDITOR, name: 'Eddie Editor', role: 'editor', password: PASSWORD });
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sink?.close();
});
afterEach(async () => {
  await pages.closeAll();
});

const status = (page: WatchedPage) => page.locator('#status');
const rowOf = (page: WatchedPage, email: string) => page.locator(`#operators tbody tr[data-email="${email}"]`);

describe('operators', () => {
  test('an admin adds an editor who can then sign in, makes it a viewer, and disables it so its sign-in is refused', async () => {
    const page = await signIn(ADMIN);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Operators' }).click();
    await page.waitForURL(`${app.base}/admin/operators`);
    await everyFieldLabelled(page);
    expect(await page.locator('#hint-password').textContent()).toContain('At least 12 characters');

    // A short password: the API's message in the live region and beside the field.
    await page.getByLabel('Email').fill('nora@operators.test');
    await page.getByLabel('Name', { exact: true }).fill('Nora New');
    await page.getByLabel('Role', { exact: true }).selectOption('editor');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Add operator' }).click();
    const error = page.locator('#err-password');
    await error.waitFor();
    expect(await error.textContent()).toContain('at least 12 characters');
    expect(await status(page).textContent()).toContain('at least 12 characters');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    await shoot(page, 'operators-form-error');

    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Add operator' }).click();
    const nora = rowOf(page, 'nora@operators.test');
    await nora.waitFor();
    expect(await nora.textContent()).toContain('Nora New');
    expect(await nora.getByRole('combobox').inputValue()).toBe('editor');
    expect(await status(page).textContent()).toContain('Added nora@operators.test as editor');
    await shoot(page, 'operators');

    // The new editor can sign in.
    const { status: signedIn } = await trySignIn('nora@operators.test', NEW_PASSWORD);
    expect(signedIn).toBe(303);

    // Role change.
    await nora.getByRole('combobox', { name: 'Role of nora@operators.test' }).selectOption('viewer');
    await nora.getByRole('button', { name: 'Change role of nora@operators.test' }).click();
    await page.getByText('nora@operators.test is now viewer.').waitFor();
    expect(await rowOf(page, 'nora@operators.test').getByRole('combobox').inputValue()).toBe('viewer');
    expect((await app.container.operators.find('nora@operators.test')).role).toBe('viewer');

    // Disabling asks first; dismissed, nothing changes.
    page.once('dialog', (d) => void d.dismiss());
    await rowOf(page, 'nora@operators.test').getByRole('button', { name: 'Disable nora@operators.test' }).click();
    expect((await app.container.operators.find('nora@operators.test')).disabled).toBeFalsy();
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await rowOf(page, 'nora@operators.test').getByRole('button', { name: 'Disable nora@operators.test' }).click();
    await page.getByText('nora@operators.test is disabled.').waitFor();
    expect(asked).toContain('Disable nora@operators.test?');
    expect(await rowOf(page, 'nora@operators.test').textContent()).toContain('disabled');
    expect(
      await rowOf(page, 'nora@operators.test').getByRole('button', { name: 'Enable nora@operators.test' }).count(),
    ).toBe(1);

    // Its sign-in is refused now.
    const refused = await trySignIn('nora@operators.test', NEW_PASSWORD);
    expect(refused.status).toBe(401);
    expect(refused.page.url()).not.toBe(`${app.base}/admin`);

    // And enabled again.
    await rowOf(page, 'nora@operators.test').getByRole('button', { name: 'Enable nora@operators.test' }).click();
    await page.getByText('nora@operators.test is enabled.').waitFor();
    expect((await app.container.operators.find('nora@operators.test')).disabled).toBeFalsy();
  });

  test('demoting the last admin shows the 409 message, and the role stays', async () => {
    const page = await signIn(ADMIN);
    await page.goto(`${app.base}/admin/operators`);
    const ada = rowOf(page, ADMIN);
    await ada.getByRole('combobox', { name: `Role of ${ADMIN}` }).selectOption('editor');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/role') && r.request().method() === 'PUT'),
      ada.getByRole('button', { name: `Change role of ${ADMIN}` }).click(),
    ]);
    expect(response.status()).toBe(409);
    await page.getByText('The last enabled admin cannot be demoted').waitFor();
    expect(await status(page).getAttribute('class')).toContain('error');
    expect((await app.container.operators.find(ADMIN)).role).toBe('admin');
    expect(await ada.getByRole('combobox').inputValue()).toBe('admin');
    await shoot(page, 'operators-last-admin');
  });

  test('an editor gets the 403 page and no Operators link', async () => {
    const page = await signIn(EDITOR);
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await nav.getByRole('link', { name: 'Operators' }).count()).toBe(0);
    const response = await page.goto(`${app.base}/admin/operators`);
    expect(response?.status()).toBe(403);
    expect(await page.locator('main').textContent()).toContain('needs the admin role');
    expect(await page.locator('#operators').count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Operators' }).count()).toBe(0);
  });
});
