import { join } from 'node:path';
import type { PageOpener, WatchedPage } from './browser';

/** Fills and submits the console's sign-in page in a fresh context; answers the sign-in's HTTP status and the page. */
export async function submitSignIn(
  pages: PageOpener,
  base: string,
  email: string,
  password: string,
  width = 1280,
): Promise<{ status: number; page: WatchedPage }> {
  const page = await pages.open({ viewport: { width, height: 900 } });
  await page.goto(`${base}/admin/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/admin/sign-in') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  return { status: response.status(), page };
}

/** Signs in through the page and waits for the dashboard it lands on. */
export async function signInThroughPage(
  pages: PageOpener,
  base: string,
  email: string,
  password: string,
  width = 1280,
): Promise<WatchedPage> {
  const { page } = await submitSignIn(pages, base, email, password, width);
  await page.waitForURL(`${base}/admin`);
  return page;
}

/**
 * Saves the screen at desktop and phone width into `dir`, and checks the phone width has no page-level sideways
 * scroll; leaves the page at desktop width.
 */
export async function shootBothWidths(page: WatchedPage, dir: string, name: string, desktop = 1280): Promise<void> {
  await page.setViewportSize({ width: desktop, height: 900 });
  await page.screenshot({ path: join(dir, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.screenshot({ path: join(dir, `${name}-375.png`), fullPage: true });
  const layout = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect([name, layout.scrollWidth]).toEqual([name, layout.clientWidth]);
  await page.setViewportSize({ width: desktop, height: 900 });
}

/** Every input, select and textarea on the page has a label (its accessible name is not empty). */
export async function expectEveryFieldLabelled(page: WatchedPage): Promise<void> {
  const unlabelled = await page.evaluate(() =>
    Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
      .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label'))
      .map((el) => el.outerHTML),
  );
  expect(unlabelled).toEqual([]);
}
