import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type LaunchOptions,
  type Page,
} from 'playwright-core';

/**
 * Debian's `chromium` package (`.ci/run` installs it): playwright-core cannot download its own browser here.
 * `CHROMIUM_PATH` points elsewhere on a developer machine.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Tests run as root (no sandbox possible) on a closed network, so everything that phones home is off.
 * `--disable-dev-shm-usage`: containers often mount a 64 MB /dev/shm, too small for Chromium; Debian's launcher
 * script is meant to add this flag itself but its check can fail, so it is set here.
 */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Launches headless Chromium; the caller closes it. */
export function launchBrowser(opts: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    ...opts,
    args: [...ARGS, ...(opts.args ?? [])],
  });
}

/** A page with the script and console errors it met (CSP violations show up there) in `errors`. */
export type WatchedPage = Page & { errors: string[] };

/**
 * Opens each page in a fresh context (no cookies or storage shared between them) and closes them all at once, after
 * each test. HTTP error statuses are left out of `errors`: the tests assert the statuses they expect.
 */
export class PageOpener {
  private readonly contexts: BrowserContext[] = [];

  /** `browser` is read when a page opens: suites launch it in beforeAll, after they build their opener. */
  constructor(private readonly browser: () => Browser) {}

  async open(options: BrowserContextOptions = {}): Promise<WatchedPage> {
    const context = await this.browser().newContext(options);
    this.contexts.push(context);
    const page = (await context.newPage()) as WatchedPage;
    page.errors = [];
    page.on('pageerror', (err) => page.errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) page.errors.push(msg.text());
    });
    return page;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.contexts.splice(0).map((c) => c.close()));
  }
}
