import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import iconv from 'iconv-lite';
import pino from 'pino';
import { FeedIngester } from '../../src/domain/feed-ingester';
import { Keys } from '../../src/store/keys';
import { RedisFeedValidatorStore } from '../../src/store/feed-validator-store';
import { startTestApp, type TestApp } from '../support/test-app';

/** One response of the test site: status, headers and body of a path. */
interface Page {
  type?: string;
  body: string | Buffer;
  etag?: string;
  lastModified?: string;
}

/**
 * A real HTTP server that serves set pages, counts requests, keeps each request's headers, and answers 304 the way a
 * web server does: when If-None-Match names the page's ETag, or (with no If-None-Match) If-Modified-Since is not
 * older than its Last-Modified.
 */
async function startSite() {
  const pages = new Map<string, Page>();
  const requests: { path: string; headers: IncomingHttpHeaders; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const page = pages.get(req.url ?? '');
    const log = (status: number) => requests.push({ path: req.url ?? '', headers: req.headers, status });
    if (!page) {
      log(404);
      return void res.writeHead(404).end('not found');
    }
    const headers: Record<string, string> = { 'content-type': page.type ?? 'application/rss+xml' };
    if (page.etag) headers.etag = page.etag;
    if (page.lastModified) headers['last-modified'] = page.lastModified;
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    const fresh = inm
      ? !!page.etag && inm.split(/\s*,\s*/).includes(page.etag)
      : !!ims && !!page.lastModified && Date.parse(ims) >= Date.parse(page.lastModified);
    if (fresh) {
      log(304);
      return void res.writeHead(304, headers).end();
    }
    log(200);
    res.writeHead(200, headers).end(page.body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pages,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

const rss = (items: string[], prolog = '<?xml version="1.0" encoding="UTF-8"?>\n') =>
  `${prolog}<rss version="2.0"><channel><title>Site</title>${items
    .map((i) => `<item><title>${i}</title><link>https://site.test/${encodeURIComponent(i)}</link></item>`)
    .join('')}</channel></rss>`;

/** A pino logger at debug level whose lines are kept, to see what a poll logged. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

describe('feed polling over real HTTP: conditional GET', () => {
  let app: TestApp;
  let site: Awaited<ReturnType<typeof startSite>>;

  beforeAll(async () => {
    site = await startSite();
    app = await startTestApp({ workers: false });
  });
  afterAll(async () => {
    await app.stop();
    await site.close();
  });

  test('the second poll sends If-None-Match and If-Modified-Since, gets a 304 and reads nothing; a change is read', async () => {
    site.pages.set('/cond.xml', {
      body: rss(['One', 'Two']),
      etag: '"v1"',
      lastModified: 'Tue, 01 Dec 2026 06:00:00 GMT',
    });
    const { log, lines } = capturedLog();
    const validators = new RedisFeedValidatorStore({ redis: app.container.redis, keys: new Keys(app.prefix) });
    const ingester = new FeedIngester({ articles: app.container.articles, log, validators });
    const url = `${site.base}/cond.xml`;

    expect(await ingester.poll(url)).toEqual({ added: 2, seen: 0, invalid: 0 });
    // Kept in Redis under the service's key scheme, by the feed's URL.
    expect(JSON.parse((await app.container.redis.hget(`${app.prefix}:feed:validators`, url))!)).toEqual({
      etag: '"v1"',
      lastModified: 'Tue, 01 Dec 2026 06:00:00 GMT',
    });

    expect(await ingester.poll(url)).toEqual({ added: 0, seen: 0, invalid: 0, notModified: true });
    expect(site.requests.map((r) => r.status)).toEqual([200, 304]);
    expect(site.requests[0].headers['if-none-match']).toBeUndefined();
    expect(site.requests[1].headers['if-none-match']).toBe('"v1"');
    expect(site.requests[1].headers['if-modified-since']).toBe('Tue, 01 Dec 2026 06:00:00 GMT');
    // Quiet: one debug line, nothing at info or above for the 304.
    const notModified = lines.filter((l) => l.event === 'feed.not_modified');
    expect(notModified).toHaveLength(1);
    expect(notModified[0].level).toBe(20);
    expect(lines.filter((l) => l.event === 'feed.polled')).toHaveLength(1);

    site.pages.set('/cond.xml', {
      body: rss(['Three', 'One', 'Two']),
      etag: '"v2"',
      lastModified: 'Tue, 01 Dec 2026 07:00:00 GMT',
    });
    expect(await ingester.poll(url)).toEqual({ added: 1, seen: 2, invalid: 0 });
    expect(site.requests.map((r) => r.status)).toEqual([200, 304, 200]);
    expect(await ingester.poll(url)).toEqual({ added: 0, seen: 0, invalid: 0, notModified: true });
    expect(site.requests[3].headers['if-none-match']).toBe('"v2"');
  });

  test('the service wires it: the container poller keeps validators and the dashboard log says "unchanged"', async () => {
    site.pages.set('/lm.xml', { body: rss(['Dated']), lastModified: 'Mon, 30 Nov 2026 12:00:00 GMT' });
    const url = `${site.base}/lm.xml`;
    const before = site.requests.length;
    expect(await app.container.feedIngester.poll(url)).toEqual({ added: 1, seen: 0, invalid: 0 });
    expect(await app.container.feedIngester.poll(url)).toEqual({ added: 0, seen: 0, invalid: 0, notModified: true });
    const mine = site.requests.slice(before);
    expect(mine.map((r) => r.status)).toEqual([200, 304]);
    // Only Last-Modified was given: only If-Modified-Since goes back.
    expect(mine[1].headers['if-modified-since']).toBe('Mon, 30 Nov 2026 12:00:00 GMT');
    expect(mine[1].headers['if-none-match']).toBeUndefined();
    expect(await app.container.activity.last()).toMatchObject({ url, ok: true, notModified: true });
  });

  test('validators are kept only after a poll that read the feed: a broken version is downloaded again', async () => {
    const url = `${site.base}/flaky.xml`;
    site.pages.set('/flaky.xml', { body: '<rss version="2.0"><channel><item><title>cut', etag: '"broken"' });
    await expect(app.container.feedIngester.poll(url)).rejects.toMatchObject({
      code: 'feed_invalid',
      message: expect.stringMatching(/^The feed could not be read as XML: .+ \(read as utf-8\)$/),
    });
    site.pages.set('/flaky.xml', { body: rss(['Fixed']), etag: '"fixed"' });
    const before = site.requests.length;
    expect(await app.container.feedIngester.poll(url)).toEqual({ added: 1, seen: 0, invalid: 0 });
    expect(site.requests[before].headers['if-none-match']).toBeUndefined();
    // A server that stops sending validators has its old ones forgotten: no stale If-None-Match afterwards.
    site.pages.set('/flaky.xml', { body: rss(['Fixed']) });
    await app.container.feedIngester.poll(url);
    await app.container.feedIngester.poll(url);
    expect(site.requests.at(-1)!.headers['if-none-match']).toBeUndefined();
    expect(site.requests.at(-1)!.status).toBe(200);
  });

  test('a 304 to a request that sent no validators is an error naming the status', async () => {
    const server = createServer((_req, res) => res.writeHead(304).end());
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/f.xml`;
    const err: unknown = await app.container.feedIngester.poll(url).catch((e: unknown) => e);
    server.closeAllConnections();
    server.close();
    expect(err).toMatchObject({ code: 'feed_unreachable', message: 'The feed answered HTTP 304.' });
  });
});

describe('feed polling over real HTTP: encodings and prologs', () => {
  let app: TestApp;
  let site: Awaited<ReturnType<typeof startSite>>;

  beforeAll(async () => {
    site = await startSite();
    app = await startTestApp({ workers: false });
  });
  afterAll(async () => {
    await app.stop();
    await site.close();
  });

  const titles = async () => {
    const res = await fetch(`${app.base}/api/admin/articles?status=all&limit=100`, { headers: app.adminHeaders });
    return ((await res.json()) as { articles: { title: string }[] }).articles.map((a) => a.title).sort();
  };

  test.each([
    [
      'UTF-16LE with a BOM',
      'UTF-16',
      (t: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')]),
    ],
    ['UTF-16BE with a BOM', 'UTF-16', (t: string) => iconv.encode(t, 'utf16be', { addBOM: true })],
    ['UTF-32LE with a BOM', 'UTF-32', (t: string) => iconv.encode(t, 'utf32le', { addBOM: true })],
    ['UTF-32BE with a BOM', 'UTF-32', (t: string) => iconv.encode(t, 'utf32be', { addBOM: true })],
  ])('a feed in %s is read, not refused', async (name, declared, encode) => {
    const title = `${name}: Café “crème” 😀`;
    const path = `/${name.replace(/\W+/g, '-')}.xml`;
    const doc =
      `<?xml version="1.0" encoding="${declared}"?><rss version="2.0"><channel><title>U</title>` +
      `<item><title>${title}</title><link>https://site.test/${encodeURIComponent(name)}</link></item></channel></rss>`;
    site.pages.set(path, { body: encode(doc), type: 'application/rss+xml' });
    expect(await app.container.feedIngester.poll(`${site.base}${path}`)).toEqual({ added: 1, seen: 0, invalid: 0 });
    expect(await titles()).toContain(title);
  });

  test('the Content-Type charset (windows-1252) is honoured; undeclared non-UTF-8 bytes fall back to Windows-1252', async () => {
    const body = (t: string) =>
      iconv.encode(
        `<rss version="2.0"><channel><item><title>${t}</title><link>https://site.test/${encodeURIComponent(t)}</link></item></channel></rss>`,
        'windows-1252',
      );
    site.pages.set('/cp1252.xml', {
      body: body('Declared “1252” – €5'),
      type: 'application/rss+xml; charset=windows-1252',
    });
    site.pages.set('/undeclared.xml', { body: body('Undeclared “café” – €5'), type: 'application/rss+xml' });
    expect(await app.container.feedIngester.poll(`${site.base}/cp1252.xml`)).toMatchObject({ added: 1 });
    expect(await app.container.feedIngester.poll(`${site.base}/undeclared.xml`)).toMatchObject({ added: 1 });
    const all = await titles();
    expect(all).toContain('Declared “1252” – €5');
    expect(all).toContain('Undeclared “café” – €5');
    expect(all.join('')).not.toContain('\uFFFD');
  });

  test('blank lines before <?xml, HTML entities, a prefixed Atom feed with xml:base: all read', async () => {
    site.pages.set('/blank.xml', { body: rss(['Caf&eacute; &mdash; blank'], '\n\n  <?xml version="1.0"?>\n') });
    site.pages.set('/prefixed.xml', {
      type: 'application/atom+xml',
      body:
        '<?xml version="1.0"?><a:feed xmlns:a="http://www.w3.org/2005/Atom" xml:base="/blog/"><a:title>P</a:title>' +
        '<a:entry><a:id>urn:prefixed:1</a:id><a:title>Prefixed entry</a:title><a:link href="posts/1"/></a:entry></a:feed>',
    });
    expect(await app.container.feedIngester.poll(`${site.base}/blank.xml`)).toEqual({ added: 1, seen: 0, invalid: 0 });
    expect(await app.container.feedIngester.poll(`${site.base}/prefixed.xml`)).toEqual({
      added: 1,
      seen: 0,
      invalid: 0,
    });
    const res = await fetch(`${app.base}/api/admin/articles?status=all&limit=100`, { headers: app.adminHeaders });
    const articles = ((await res.json()) as { articles: { title: string; url: string }[] }).articles;
    expect(articles.find((a) => a.title === 'Café — blank')).toBeDefined();
    // Relative to xml:base, itself relative to the feed's own URL.
    expect(articles.find((a) => a.title === 'Prefixed entry')?.url).toBe(`${site.base}/blog/posts/1`);
  });
});
