import type { Browser, BrowserContextOptions } from 'playwright-core';
import { launchBrowser, PageOpener, type WatchedPage } from '../support/browser';
import { signInThroughPage } from '../support/console-pages';
import { seedAddresses, seedLongArticles } from '../support/seed';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';

/**
 * The Content-Security-Policy of every page the service serves: over plain HTTP, each HTML answer's header; in a
 * real browser, each page (and the console's preview frame) loaded and used with zero violations.
 */
const PASSWORD = 'correct horse battery staple';
const ADMIN = 'csp-admin@operators.test';

let sink: SmtpSink;
let app: TestApp;
let browser: Browser;
const pages = new PageOpener(() => browser);
/** Links a reader has: made by the service for a pending and an active reader. */
const links = { confirm: '', unsubscribe: '', preferences: '' };
let sentCampaign = 0;
let draftCampaign = 0;
let reader = '';

beforeAll(async () => {
  [sink, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  app = await startTestApp({ smtpUrl: sink.url, env: { SIGNUP_RATE_PER_IP: '1000' } });
  const { container } = app;
  await container.operators.create({ email: ADMIN, name: 'Csp Admin', role: 'admin', password: PASSWORD });
  // Two public newsletters, so the signup and preference pages show their choice of boxes.
  await container.newsletters.create({ slug: 'culture', name: 'The Culture Letter', description: 'Weekly.' });
  // A sent campaign of long articles (images, quotes, headings): its web version is the richest page there is.
  reader = 'csp-reader@example.com';
  const [readerId] = await seedAddresses(container, [reader]);
  const sent = await container.campaigns.create({ articleIds: await seedLongArticles(container, 3) });
  await container.campaigns.send(sent.id);
  await eventually(() => sink.to(reader).length > 0, 30000, 'the campaign to reach the reader');
  sentCampaign = sent.id;
  draftCampaign = (await container.campaigns.create({ articleIds: await seedLongArticles(container, 2) })).id;
  const pending = await container.subscribers.create({
    email: 'csp-pending@example.com',
    name: '',
    status: 'pending',
    consent: {
      at: new Date().toISOString(),
      ip: '',
      userAgent: '',
      termsVersion: '2026-01',
      termsHash: '',
      source: 't',
    },
    now: new Date().toISOString(),
    newsletters: [container.newsletters.defaultSlug],
  });
  links.confirm = container.links.confirm(pending.id);
  links.unsubscribe = container.links.unsubscribe(readerId).url;
  links.preferences = container.links.preferences(readerId);
}, 60000);
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sink?.close();
});
afterEach(async () => {
  await pages.closeAll();
});

/** The directives of a policy header, by name. */
function directives(header: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name, values);
  }
  return out;
}

/** The policy of the service's own pages, exactly. */
const PAGE_POLICY = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'"],
  'connect-src': ["'self'"],
  'form-action': ["'self'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
};

async function sessionCookie(): Promise<string> {
  const res = await fetch(`${app.base}/admin/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN, password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0];
}

describe('over HTTP: the policy header of every HTML page', () => {
  test('each page the service writes has the strict page policy; nothing allows inline script or style', async () => {
    const cookie = await sessionCookie();
    const slug = app.container.newsletters.defaultSlug;
    const form = (body: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
      redirect: 'manual' as const,
    });
    const token = (url: string) => new URL(url).searchParams.get('token')!;
    const listed: [string, number, RequestInit?][] = [
      ['/', 200],
      ['/terms', 200],
      ['/thanks', 200],
      [`/confirm?token=${token(links.confirm)}`, 200],
      ['/confirm?token=not-a-token', 400],
      [`/unsubscribe?token=${token(links.unsubscribe)}`, 200],
      ['/unsubscribe?token=not-a-token', 400],
      [`/preferences?token=${token(links.preferences)}`, 200],
      ['/preferences?token=not-a-token', 400],
      ['/archive/999999', 404],
      // The signup form sent back with its error, as a browser without JavaScript sees it.
      ['/api/subscriptions', 400, form({ email: 'not an address', consent: 'on' })],
      ['/admin/sign-in', 200],
      ['/admin/sign-in', 401, form({ email: ADMIN, password: 'wrong password' })],
      ...[
        '/admin',
        '/admin/campaigns',
        `/admin/campaigns/${sentCampaign}`,
        `/admin/compose?newsletter=${slug}`,
        '/admin/newsletters',
        '/admin/newsletters/new',
        `/admin/newsletters/${slug}`,
        `/admin/newsletters/${slug}/edit`,
        '/admin/audience',
        `/admin/audience/${encodeURIComponent(reader)}`,
        '/admin/audit',
        '/admin/operators',
      ].map((p): [string, number, RequestInit] => [p, 200, { headers: { cookie } }]),
    ];
    const table: string[] = [];
    for (const [path, status, init] of listed) {
      const res = await fetch(`${app.base}${path}`, init);
      expect(`${path} ${res.status}`).toBe(`${path} ${status}`);
      expect(`${path} ${res.headers.get('content-type')}`).toMatch(/ text\/html/);
      const header = res.headers.get('content-security-policy');
      table.push(`${init?.method ?? 'GET'} ${path} ${res.status}: ${header}`);
      const got = directives(header);
      // Only the compose page has a frame: the draft's preview.
      const expected = { ...PAGE_POLICY, 'frame-src': [path.startsWith('/admin/compose') ? "'self'" : "'none'"] };
      expect([path, Object.fromEntries(got)]).toEqual([path, expected]);
      expect(header).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    }
    expect(table).toHaveLength(listed.length);
  });

  test('the web version and the preview allow their own inline styles by hash only, and no script', async () => {
    const cookie = await sessionCookie();
    for (const [path, ancestors, init] of [
      [`/archive/${sentCampaign}`, "'none'", undefined],
      [`/api/admin/campaigns/${draftCampaign}/preview`, "'self'", { headers: { cookie } }],
    ] as const) {
      const res = await fetch(`${app.base}${path}`, init);
      expect(res.status).toBe(200);
      const got = directives(res.headers.get('content-security-policy'));
      expect(got.get('default-src')).toEqual(["'none'"]);
      expect(got.get('frame-ancestors')).toEqual([ancestors]);
      expect(got.get('form-action')).toEqual(["'none'"]);
      expect(got.has('script-src')).toBe(false);
      const [first, ...hashes] = got.get('style-src')!;
      expect(first).toBe("'unsafe-hashes'");
      expect(hashes.length).toBeGreaterThan(5);
      for (const h of hashes) expect(h).toMatch(/^'sha256-[A-Za-z0-9+/]{43}='$/);
    }
  });

  test('JSON answers keep a policy too (the default page one)', async () => {
    const res = await fetch(`${app.base}/api/admin/stats`, { headers: app.adminHeaders });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(directives(res.headers.get('content-security-policy')).get('default-src')).toEqual(["'none'"]);
  });
});

describe('in a real browser: every page loads and works with zero policy violations', () => {
  /** Opens a page that reports every policy violation (event and console message) into `errors`. */
  async function open(options: BrowserContextOptions = {}): Promise<WatchedPage> {
    const page = await pages.open(options);
    await page.addInitScript(() =>
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`securitypolicyviolation: ${e.effectiveDirective} ${e.blockedURI} ${e.sample}`),
      ),
    );
    return page;
  }

  /** Violations and script errors seen so far, without the images of the made-up news site failing to load. */
  const violations = (page: WatchedPage) => page.errors.filter((e) => !/ERR_NAME_NOT_RESOLVED/.test(e));

  /** Goes to `path` and waits for it to settle, answering the HTTP status. */
  async function visit(page: WatchedPage, path: string): Promise<number> {
    const res = await page.goto(`${app.base}${path}`, { waitUntil: 'load' });
    return res!.status();
  }

  test('the watcher sees a violation when there is one (an injected inline style)', async () => {
    const page = await open();
    await visit(page, '/');
    await page.evaluate(() => {
      const style = document.createElement('style');
      style.textContent = 'body { color: red }';
      document.head.append(style);
    });
    await eventually(() => violations(page).length > 0, 5000, 'the violation to be reported');
    expect(violations(page).join('\n')).toMatch(/style-src/);
  });

  test("the visitor's pages: signup with and without JavaScript, thanks, terms, confirm, unsubscribe, preferences, errors", async () => {
    const page = await open();
    expect(await visit(page, '/')).toBe(200);
    // The stylesheet applied: the brand line is styled by /assets/site.css, not by the browser's defaults.
    expect(await page.locator('.brand').evaluate((el) => getComputedStyle(el).fontWeight)).not.toBe('400');
    await page.fill('#email', 'csp-js@example.com');
    await page.check('#consent');
    await page.click('button[type=submit]');
    await page.locator('#message.ok').waitFor();
    for (const [path, status] of [
      ['/thanks?newsletters=news', 200],
      ['/terms', 200],
      ['/confirm?token=broken', 400],
      ['/unsubscribe?token=broken', 400],
      ['/preferences?token=broken', 400],
      ['/archive/999999', 404],
      [new URL(links.preferences).pathname + new URL(links.preferences).search, 200],
    ] as const)
      expect(`${path} ${await visit(page, path)}`).toBe(`${path} ${status}`);
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await page.waitForURL(/saved=1/);

    await visit(page, new URL(links.confirm).pathname + new URL(links.confirm).search);
    await page.getByRole('button', { name: 'Confirm my subscription' }).click();
    await page.getByRole('heading', { name: 'You are subscribed' }).waitFor();

    await visit(page, new URL(links.unsubscribe).pathname + new URL(links.unsubscribe).search);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByRole('heading', { name: 'You are unsubscribed' }).waitFor();
    expect(violations(page)).toEqual([]);

    // Without JavaScript the form posts and comes back with its error, then goes through to the thank-you page.
    const noJs = await open({ javaScriptEnabled: false });
    await visit(noJs, '/');
    await noJs.fill('#email', 'not an address');
    await noJs.check('#consent');
    await noJs.click('button[type=submit]');
    await noJs.locator('#message.error').waitFor();
    await noJs.fill('#email', 'csp-nojs@example.com');
    await noJs.check('#consent');
    await noJs.click('button[type=submit]');
    await noJs.waitForURL(/\/thanks/);
    expect(violations(noJs)).toEqual([]);
  });

  test('the web version of a sent newsletter keeps every one of its inline styles', async () => {
    const page = await open();
    expect(await visit(page, `/archive/${sentCampaign}`)).toBe(200);
    // Each element's inline style took effect: its declared padding is what the browser computed.
    const mismatches = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('[style*="padding:"]'))
        .filter((el) => el.style.padding && getComputedStyle(el).padding !== el.style.padding)
        .map((el) => el.outerHTML.slice(0, 120)),
    );
    expect(mismatches).toEqual([]);
    expect(await page.locator('[style]').count()).toBeGreaterThan(20);
    expect(violations(page)).toEqual([]);
  });

  test('the console: sign-in, every section, a campaign, and compose with its preview frame', async () => {
    const signIn = await open();
    await visit(signIn, '/admin/sign-in');
    expect(violations(signIn)).toEqual([]);
    const page = await signInThroughPage(pages, app.base, ADMIN, PASSWORD);
    // signInThroughPage opens its own page: watch it from here on.
    await page.addInitScript(() =>
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`securitypolicyviolation: ${e.effectiveDirective} ${e.blockedURI}`),
      ),
    );
    const slug = app.container.newsletters.defaultSlug;
    for (const path of [
      '/admin',
      '/admin/campaigns',
      `/admin/campaigns/${sentCampaign}`,
      '/admin/newsletters',
      '/admin/newsletters/new',
      `/admin/newsletters/${slug}`,
      `/admin/newsletters/${slug}/edit`,
      '/admin/audience',
      `/admin/audience/${encodeURIComponent(reader)}`,
      '/admin/audit',
      '/admin/operators',
    ])
      expect(`${path} ${await visit(page, path)}`).toBe(`${path} 200`);
    // The dashboard's charts are drawn (uPlot from /admin/assets, its styles set through the CSSOM).
    await visit(page, '/admin');
    await page.locator('.uplot canvas').first().waitFor();

    await seedLongArticles(app.container, 2);
    await visit(page, `/admin/compose?newsletter=${slug}`);
    await page.getByLabel('Subject').fill('Policy issue');
    await page.getByRole('button', { name: 'Save draft and preview' }).click();
    const frame = page.frameLocator('#preview');
    await frame.getByText('View in browser').first().waitFor();
    // The preview's inline styles apply inside the frame (its own policy allows them by hash).
    const styled = await frame
      .locator('[style*="padding:"]')
      .first()
      .evaluate((el: HTMLElement) => getComputedStyle(el).padding === el.style.padding && el.style.padding !== '');
    expect(styled).toBe(true);
    expect(violations(page)).toEqual([]);
  });
});
