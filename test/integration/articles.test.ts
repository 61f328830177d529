import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FeedError, FeedIngester } from '../../src/domain/feed-ingester';
import { eventually, startTestApp, TestClock, type TestApp } from '../support/test-app';

const SAMPLE = readFileSync(join(__dirname, '..', 'fixtures', 'sample-article.txt'), 'utf8');
const SAMPLE_PARAGRAPHS = SAMPLE.split(/\n\s*\n/)
  .map((p) => p.trim())
  .filter(Boolean);
const SAMPLE_HTML = SAMPLE_PARAGRAPHS.map((p) => `<p>${p}</p>`).join('\n');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field in assertions
type Json = Record<string, any>;

const api = (
  app: TestApp,
  path: string,
  init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string>; auth?: boolean } = {},
) =>
  fetch(`${app.base}/api/admin${path}`, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
    headers: {
      ...(init.auth === false ? {} : app.adminHeaders),
      'content-type': 'application/json',
      ...(init.headers ?? {}),
    },
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });

async function listArticles(app: TestApp, status = 'new'): Promise<Json[]> {
  const res = await api(app, `/articles?status=${status}`);
  expect(res.status).toBe(200);
  return (await res.json()).articles;
}

async function expectError(res: Response, status: number, code: string, messagePattern?: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = await res.json();
  expect(body.error.code).toBe(code);
  if (messagePattern) expect(body.error.message).toMatch(messagePattern);
  return body;
}

async function pollError(ingester: FeedIngester, url: string): Promise<FeedError> {
  const err = await ingester.poll(url).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FeedError);
  return err as FeedError;
}

// ---------------------------------------------------------------------------------------------------------------
// A site serving its feeds over real HTTP.

const COOKIE_THIEF_LINK = '<a href="javascript:alert(document.cookie)">this</a>';

const RSS_ITEMS = {
  sample: `<item>
      <title>UN rights chief&#8217;s China visit draws criticism</title>
      <link>/world/bachelet-china</link>
      <guid isPermaLink="false">news-1001</guid>
      <dc:creator>Staff Reporter</dc:creator>
      <pubDate>Mon, 30 May 2022 09:15:00 +0000</pubDate>
      <description>Human rights groups say a historic opportunity was missed.</description>
      <content:encoded><![CDATA[${SAMPLE_HTML}]]></content:encoded>
      <media:content url="https://cdn.news.test/img/bachelet.jpg" medium="image"/>
    </item>`,
  second: `<item>
      <title>Second story</title>
      <link>https://news.test/world/second</link>
      <guid>https://news.test/world/second</guid>
      <pubDate>Sun, 29 May 2022 18:00:00 GMT</pubDate>
      <description>&lt;p&gt;A short &lt;em&gt;second&lt;/em&gt; story.&lt;/p&gt;</description>
    </item>`,
  hostile: `<item>
      <title>Breaking&#13;&#10;Bcc: victim@example.com</title>
      <link>https://news.test/world/hostile</link>
      <author>eve@evil.test (Eve&#13;&#10;X-Injected: 1)</author>
      <pubDate>Sat, 28 May 2022 12:00:00 GMT</pubDate>
      <content:encoded><![CDATA[<p onclick="steal()">Read ${COOKIE_THIEF_LINK} and <a href="/safe">that</a>.</p>
        <img src="x" onerror="alert(1)"><script>alert(2)</script><iframe src="https://evil.test/"></iframe>
        <img src="data:image/png;base64,AAAA"><img src="/img/ok.png" alt="ok">]]></content:encoded>
    </item>`,
  javascriptLink:
    '<item><title>Click me</title><link>javascript:alert(1)</link>' + '<description>bad link</description></item>',
  noTitle: `<item><link>https://news.test/untitled</link><description>no title</description></item>`,
};

const RSS_NAMESPACES = [
  'xmlns:content="http://purl.org/rss/1.0/modules/content/"',
  'xmlns:dc="http://purl.org/dc/elements/1.1/"',
  'xmlns:media="http://search.yahoo.com/mrss/"',
].join(' ');

const rss = (items: string[]) => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" ${RSS_NAMESPACES}>
  <channel><title>The Test Gazette</title><link>https://news.test/</link>
    ${items.join('\n    ')}
  </channel>
</rss>`;

const RIGHTS_HTML_ESCAPED =
  `&lt;h1&gt;Rights&lt;/h1&gt;&lt;p&gt;${SAMPLE_PARAGRAPHS[4]}&lt;/p&gt;` + '&lt;script&gt;alert(1)&lt;/script&gt;';
const XHTML_DIV = '<div xmlns="http://www.w3.org/1999/xhtml">';

const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>The Test Gazette: opinion</title>
  <id>tag:news.test,2022:opinion</id>
  <updated>2022-05-31T08:00:00Z</updated>
  <entry>
    <title type="html">Rights &amp;amp; wrongs</title>
    <link rel="alternate" type="text/html" href="https://news.test/opinion/rights"/>
    <id>tag:news.test,2022:opinion-7</id>
    <published>2022-05-31T10:00:00+02:00</published>
    <author><name>Ann Editor</name></author>
    <summary>Why the visit matters.</summary>
    <content type="html">${RIGHTS_HTML_ESCAPED}</content>
  </entry>
  <entry>
    <title>Already posted through the API</title>
    <link href="https://news.test/opinion/posted"/>
    <id>tag:news.test,2022:opinion-8</id>
    <updated>2022-05-30T07:30:00Z</updated>
    <content type="xhtml">${XHTML_DIV}<p>Same url as an article posted by hand.</p></div></content>
  </entry>
</feed>`;

const LATIN1_RSS = Buffer.from(
  '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>L</title>' +
    '<item><title>Caf\u00e9 cr\u00e8me</title><link>https://news.test/cafe</link></item>' +
    '</channel></rss>',
  'latin1',
);

interface FeedSite {
  base: string;
  rssBody: string;
  close(): Promise<void>;
}

async function startFeedSite(): Promise<FeedSite> {
  const site = {
    rssBody: rss([RSS_ITEMS.sample, RSS_ITEMS.second, RSS_ITEMS.hostile, RSS_ITEMS.javascriptLink, RSS_ITEMS.noTitle]),
  } as FeedSite;
  const send = (res: ServerResponse, type: string, body: string | Buffer) =>
    res.writeHead(200, { 'content-type': type }).end(body);
  const server: Server = createServer((req, res) => {
    switch (req.url) {
      case '/rss.xml':
        return send(res, 'application/rss+xml; charset=utf-8', site.rssBody);
      case '/atom.xml':
        return send(res, 'application/atom+xml', ATOM);
      case '/latin1.xml':
        return send(res, 'application/rss+xml', LATIN1_RSS);
      case '/broken.xml':
        return send(res, 'application/rss+xml', site.rssBody.slice(0, 700));
      case '/home.html':
        return send(res, 'text/html', '<!DOCTYPE html><html><body><p>Welcome to our site</p></body></html>');
      case '/big.xml': {
        // Streamed with no Content-Length: only counting the bytes read can stop it.
        res.writeHead(200, { 'content-type': 'application/rss+xml' });
        res.write('<rss version="2.0"><channel><title>Big</title>');
        const item =
          '<item><title>Filler</title><link>https://news.test/f</link>' +
          `<description>${'x'.repeat(1000)}</description></item>`;
        for (let i = 0; i < 100; i++) res.write(item);
        return void res.end('</channel></rss>');
      }
      case '/slow.xml':
        // Headers and a first line, then nothing: a server that never finishes.
        res.writeHead(200, { 'content-type': 'application/rss+xml' });
        return void res.write('<rss version="2.0"><channel>');
      default:
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  site.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  site.close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return site;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

// ---------------------------------------------------------------------------------------------------------------

describe('admin articles API', () => {
  const clock = new TestClock(Date.parse('2026-11-27T12:00:00Z'));
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ clock, workers: false });
  });
  afterAll(async () => {
    await app.stop();
  });

  test('needs the admin token', async () => {
    await expectError(await api(app, '/articles', { auth: false }), 401, 'unauthorized');
    await expectError(
      await api(app, '/articles', { auth: false, body: { title: 'T', url: 'https://news.test/no-auth' } }),
      401,
      'unauthorized',
    );
    await expectError(
      await api(app, '/articles', { headers: { authorization: 'Bearer wrong-token-wrong-token' } }),
      401,
      'unauthorized',
    );
    expect(await listArticles(app, 'all')).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ url: 'https://news.test/no-auth' })]),
    );
  });

  test('POST creates an article: 201, sanitised body, plain-text summary from the body, times from the clock', async () => {
    const res = await api(app, '/articles', {
      body: {
        title: '  UN rights chief’s China visit draws criticism  ',
        url: 'https://NEWS.test:443/world/bachelet',
        bodyHtml:
          `${SAMPLE_HTML}<script>alert(1)</script>` +
          '<p onclick="x()"><a href="javascript:alert(2)">bad</a> <a href="/world/next">next</a></p>',
        imageUrl: 'https://news.test/img/lead.jpg',
        author: 'Staff Reporter',
      },
    });
    expect(res.status).toBe(201);
    const article = await res.json();
    expect(res.headers.get('location')).toBe(`/api/admin/articles/${article.id}`);
    expect(article).toMatchObject({
      id: expect.any(Number),
      title: 'UN rights chief’s China visit draws criticism',
      url: 'https://news.test/world/bachelet',
      imageUrl: 'https://news.test/img/lead.jpg',
      author: 'Staff Reporter',
      publishedAt: '2026-11-27T12:00:00.000Z',
      createdAt: '2026-11-27T12:00:00.000Z',
    });
    expect(article.sentInCampaign).toBeUndefined();
    expect(article.bodyHtml.startsWith(SAMPLE_HTML)).toBe(true);
    expect(article.bodyHtml).not.toMatch(/<script|onclick|javascript:/i);
    expect(article.bodyHtml).toContain('<a>bad</a> <a href="https://news.test/world/next">next</a>');
    expect(article.summary.startsWith('The recent visit to China by the United Nations (UN) High Commissioner')).toBe(
      true,
    );
    expect(article.summary.length).toBeLessThanOrEqual(300);
    expect(article.summary).not.toMatch(/<|\n/);

    const one = await api(app, `/articles/${article.id}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(article);
  });

  test('POST of a known url answers 200 with the stored article and changes nothing', async () => {
    const first = await api(app, '/articles', {
      body: {
        title: 'Original',
        url: 'https://news.test/dedup',
        summary: 'First summary',
        publishedAt: '2026-11-20T08:00:00Z',
      },
    });
    expect(first.status).toBe(201);
    const created = await first.json();
    const again = await api(app, '/articles', {
      body: { title: 'Changed title', url: 'https://news.test/dedup', summary: 'Other' },
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(created);
    expect((await listArticles(app, 'all')).filter((a) => a.url === 'https://news.test/dedup')).toHaveLength(1);
  });

  test('POST takes categories, each once whatever its case; a category that is not a one-line string is 422', async () => {
    const res = await api(app, '/articles', {
      body: { title: 'Tagged', url: 'https://news.test/tagged', categories: [' Politics ', 'Europe', 'politics'] },
    });
    expect(res.status).toBe(201);
    const article = (await res.json()) as Json;
    expect(article.categories).toEqual(['Politics', 'Europe']);
    expect((await (await api(app, `/articles/${article.id}`)).json()).categories).toEqual(['Politics', 'Europe']);

    const untagged = (await (
      await api(app, '/articles', { body: { title: 'Untagged', url: 'https://news.test/untagged', categories: [] } })
    ).json()) as Json;
    expect(untagged).not.toHaveProperty('categories');
    for (const categories of ['Politics', [42], ['two\nlines'], Array.from({ length: 21 }, (_, i) => `c${i}`)]) {
      const body = await expectError(
        await api(app, '/articles', { body: { title: 'Bad', url: 'https://news.test/bad-categories', categories } }),
        422,
        'invalid_article',
      );
      expect(body.error.message).toMatch(/^categories/);
    }
    expect(await listArticles(app, 'all')).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ url: 'https://news.test/bad-categories' })]),
    );
  });

  test('concurrent POSTs of one url make one article', async () => {
    const url = 'https://news.test/race';
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => api(app, '/articles', { body: { title: `Race ${i}`, url } })),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(11);
    const ids = new Set((await Promise.all(answers.map((r) => r.json()))).map((a: Json) => a.id));
    expect(ids.size).toBe(1);
    expect((await listArticles(app, 'all')).filter((a) => a.url === url)).toHaveLength(1);
  });

  test.each<[string, Json, RegExp]>([
    ['a missing title', { url: 'https://news.test/x1' }, /^title is required/],
    ['a blank title', { title: '   ', url: 'https://news.test/x2' }, /^title must not be empty/],
    [
      'a title over 300 characters',
      { title: 'x'.repeat(301), url: 'https://news.test/x3' },
      /^title must be at most 300/,
    ],
    [
      'a CRLF in the title',
      { title: 'Hello\r\nBcc: victim@example.com', url: 'https://news.test/x4' },
      /^title must not contain line breaks/,
    ],
    [
      'a NUL in the title',
      { title: 'Hello\u0000', url: 'https://news.test/x5' },
      /^title must not contain line breaks/,
    ],
    ['a missing url', { title: 'T' }, /^url is required/],
    ['a javascript: url', { title: 'T', url: 'javascript:alert(1)' }, /^url must be an absolute http/],
    ['a relative url', { title: 'T', url: '/world/x' }, /^url must be an absolute http/],
    ['a url with a line break', { title: 'T', url: 'https://news.test/a\r\nBcc: x@y.z' }, /^url must not contain/],
    [
      'a url over 2048 characters',
      { title: 'T', url: `https://news.test/${'a'.repeat(2040)}` },
      /^url must be at most 2048/,
    ],
    [
      'a data: image',
      { title: 'T', url: 'https://news.test/x6', imageUrl: 'data:image/png;base64,AAAA' },
      /^imageUrl must be an absolute http/,
    ],
    [
      'an author with a line break',
      { title: 'T', url: 'https://news.test/x7', author: 'Eve\nX-Injected: 1' },
      /^author must not contain line breaks/,
    ],
    [
      'an author over 200 characters',
      { title: 'T', url: 'https://news.test/x8', author: 'a'.repeat(201) },
      /^author must be at most 200/,
    ],
    [
      'a summary over 2000 characters',
      { title: 'T', url: 'https://news.test/x9', summary: 's'.repeat(2001) },
      /^summary must be at most 2000/,
    ],
    [
      'a body over 500 KB',
      { title: 'T', url: 'https://news.test/x10', bodyHtml: `<p>${'b'.repeat(520 * 1024)}</p>` },
      /^bodyHtml must be at most 500 KB/,
    ],
    [
      'an unreadable date',
      { title: 'T', url: 'https://news.test/x11', publishedAt: 'yesterday' },
      /^publishedAt must be an ISO 8601 date/,
    ],
    ['a title that is not a string', { title: 42, url: 'https://news.test/x12' }, /^title must be a string/],
  ])('422 invalid_article for %s, naming the field', async (_what, body, message) => {
    await expectError(await api(app, '/articles', { body }), 422, 'invalid_article', message);
    if (typeof body.url === 'string')
      expect((await listArticles(app, 'all')).some((a) => a.url === body.url)).toBe(false);
  });

  test('422 for a body that is not an object, 400 for broken JSON, 413 over 1 MB, 415 for another media type', async () => {
    await expectError(
      await api(app, '/articles', { raw: '["a list"]' }),
      422,
      'invalid_article',
      /^body must be a JSON object/,
    );
    await expectError(await api(app, '/articles', { raw: '{"title": "T", "url": ' }), 400, 'invalid_json');
    await expectError(
      await api(app, '/articles', {
        body: { title: 'T', url: 'https://news.test/huge', bodyHtml: 'x'.repeat(1100 * 1024) },
      }),
      413,
      'payload_too_large',
    );
    await expectError(
      await api(app, '/articles', {
        raw: 'title=T&url=https://news.test/form',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'unsupported_media_type',
    );
  });

  test('GET ?status=new lists unsent articles newest first; a sent article moves to status=all only', async () => {
    const older = await (
      await api(app, '/articles', {
        body: { title: 'Older', url: 'https://news.test/older', publishedAt: '2026-11-25T08:00:00Z' },
      })
    ).json();
    const newer = await (
      await api(app, '/articles', {
        body: { title: 'Newer', url: 'https://news.test/newer', publishedAt: '2026-11-26T08:00:00+01:00' },
      })
    ).json();
    expect(newer.publishedAt).toBe('2026-11-26T07:00:00.000Z');

    const fresh = await listArticles(app, 'new');
    const order = fresh.map((a) => a.url);
    expect(order.indexOf('https://news.test/newer')).toBeLessThan(order.indexOf('https://news.test/older'));
    const times = fresh.map((a) => Date.parse(a.publishedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    await app.container.articleStore.markSent([older.id], 42);
    expect((await listArticles(app, 'new')).map((a) => a.id)).not.toContain(older.id);
    const all = await listArticles(app, 'all');
    expect(all.find((a) => a.id === older.id)).toMatchObject({ title: 'Older', sentInCampaign: 42 });
    expect(all.find((a) => a.id === newer.id)?.sentInCampaign).toBeUndefined();
  });

  test('GET with a bad status or limit is a 400 JSON error; a limit is honoured; an unknown id is 404', async () => {
    await expectError(
      await api(app, '/articles?status=sent'),
      400,
      'invalid_request',
      /^status must be "new" or "all"/,
    );
    await expectError(await api(app, '/articles?limit=0'), 400, 'invalid_request', /^limit/);
    await expectError(await api(app, '/articles?limit=ten'), 400, 'invalid_request', /^limit/);
    await expectError(await api(app, '/articles?status=new&status=all'), 400, 'invalid_request');
    const limited = await api(app, '/articles?status=all&limit=2');
    expect((await limited.json()).articles).toHaveLength(2);
    await expectError(await api(app, '/articles/999999'), 404, 'not_found');
  });
});

describe('feed ingestion over HTTP', () => {
  let app: TestApp;
  let site: FeedSite;

  beforeAll(async () => {
    site = await startFeedSite();
    app = await startTestApp({ workers: false });
  });
  afterAll(async () => {
    await app.stop();
    await site.close();
  });

  test('an RSS feed adds its good entries, sanitised, and counts the refused ones', async () => {
    const result = await app.container.feedIngester.poll(`${site.base}/rss.xml`);
    expect(result).toEqual({ added: 3, seen: 0, invalid: 2 });

    const articles = await listArticles(app, 'new');
    expect(articles.map((a) => a.title)).toEqual([
      'UN rights chief’s China visit draws criticism',
      'Second story',
      'Breaking Bcc: victim@example.com',
    ]);
    const [sample, second, hostile] = articles;

    expect(sample).toMatchObject({
      url: `${site.base}/world/bachelet-china`,
      guid: 'news-1001',
      author: 'Staff Reporter',
      summary: 'Human rights groups say a historic opportunity was missed.',
      imageUrl: 'https://cdn.news.test/img/bachelet.jpg',
      publishedAt: '2022-05-30T09:15:00.000Z',
    });
    expect(sample.bodyHtml).toBe(SAMPLE_HTML);
    expect(second).toMatchObject({
      url: 'https://news.test/world/second',
      bodyHtml: '<p>A short <em>second</em> story.</p>',
      summary: 'A short second story.',
    });

    // Nothing from the feed can reach a header or run in a mail.
    expect(hostile.author).toBe('Eve X-Injected: 1');
    for (const a of articles) expect(`${a.title}${a.author ?? ''}${a.url}${a.imageUrl ?? ''}`).not.toMatch(/[\r\n\0]/);
    expect(hostile.bodyHtml).not.toMatch(/<script|<iframe|onerror|onclick|javascript:|data:/i);
    expect(hostile.bodyHtml).toContain('Read <a>this</a> and <a href="https://news.test/safe">that</a>.');
    expect(hostile.bodyHtml).toContain('<img src="https://news.test/img/ok.png" alt="ok" />');

    const all = await listArticles(app, 'all');
    expect(all.some((a) => /javascript|untitled/.test(a.url))).toBe(false);
  });

  test('polling again adds nothing; an entry whose link changed is still known by its guid', async () => {
    expect(await app.container.feedIngester.poll(`${site.base}/rss.xml`)).toEqual({ added: 0, seen: 3, invalid: 2 });
    site.rssBody = rss([
      RSS_ITEMS.sample.replace('/world/bachelet-china', '/world/bachelet-china-updated'),
      RSS_ITEMS.second,
    ]);
    expect(await app.container.feedIngester.poll(`${site.base}/rss.xml`)).toEqual({ added: 0, seen: 2, invalid: 0 });
    expect((await listArticles(app, 'all')).filter((a) => a.guid === 'news-1001')).toHaveLength(1);
  });

  test("an item's <category> elements become the article's categories", async () => {
    const before = site.rssBody;
    try {
      site.rssBody = rss([
        '<item><title>Tagged in the feed</title><link>https://news.test/feed-tagged</link><guid>tagged-1</guid>' +
          '<category>World</category><category>world</category><category>Climate</category></item>',
      ]);
      expect(await app.container.feedIngester.poll(`${site.base}/rss.xml`)).toEqual({ added: 1, seen: 0, invalid: 0 });
      const [article] = (await listArticles(app, 'all')).filter((a) => a.guid === 'tagged-1');
      expect(article.categories).toEqual(['World', 'Climate']);
    } finally {
      // Later tests cut this body short to make a broken feed.
      site.rssBody = before;
    }
  });

  test('an Atom feed adds its entries; one whose url was posted through the API is not duplicated', async () => {
    const posted = await api(app, '/articles', {
      body: { title: 'Posted by hand', url: 'https://news.test/opinion/posted' },
    });
    expect(posted.status).toBe(201);

    expect(await app.container.feedIngester.poll(`${site.base}/atom.xml`)).toEqual({ added: 1, seen: 1, invalid: 0 });
    const all = await listArticles(app, 'all');
    expect(all.filter((a) => a.url === 'https://news.test/opinion/posted')).toEqual([
      expect.objectContaining({ title: 'Posted by hand' }),
    ]);
    const rights = all.find((a) => a.url === 'https://news.test/opinion/rights');
    expect(rights).toMatchObject({
      title: 'Rights & wrongs',
      guid: 'tag:news.test,2022:opinion-7',
      author: 'Ann Editor',
      summary: 'Why the visit matters.',
      publishedAt: '2022-05-31T08:00:00.000Z',
    });
    expect(rights!.bodyHtml).toBe(`<h2>Rights</h2><p>${SAMPLE_PARAGRAPHS[4]}</p>`);
  });

  test('a feed in ISO-8859-1 is decoded by its declared charset', async () => {
    expect(await app.container.feedIngester.poll(`${site.base}/latin1.xml`)).toEqual({ added: 1, seen: 0, invalid: 0 });
    expect((await listArticles(app, 'all')).find((a) => a.url === 'https://news.test/cafe')?.title).toBe('Café crème');
  });

  test('an unreachable host, a 404 and a server that never finishes are feed_unreachable', async () => {
    const err = await pollError(app.container.feedIngester, `http://127.0.0.1:${await closedPort()}/rss.xml`);
    expect(err.code).toBe('feed_unreachable');
    expect((await pollError(app.container.feedIngester, `${site.base}/missing.xml`)).code).toBe('feed_unreachable');

    const impatient = new FeedIngester({ articles: app.container.articles, log: app.container.log, timeoutMs: 300 });
    const started = Date.now();
    const slow = await pollError(impatient, `${site.base}/slow.xml`);
    expect(slow.code).toBe('feed_unreachable');
    expect(slow.message).toMatch(/300 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a malformed document, a page that is not a feed and an oversized feed are feed_invalid, and add nothing', async () => {
    const before = (await listArticles(app, 'all')).length;
    expect((await pollError(app.container.feedIngester, `${site.base}/broken.xml`)).code).toBe('feed_invalid');
    expect((await pollError(app.container.feedIngester, `${site.base}/home.html`)).code).toBe('feed_invalid');
    const small = new FeedIngester({ articles: app.container.articles, log: app.container.log, maxBytes: 20_000 });
    const big = await pollError(small, `${site.base}/big.xml`);
    expect(big.code).toBe('feed_invalid');
    expect(big.message).toMatch(/larger than 20000 bytes/);
    expect((await listArticles(app, 'all')).length).toBe(before);
  });
});

describe('feed worker', () => {
  let site: FeedSite;
  let good: TestApp;
  let broken: TestApp;

  beforeAll(async () => {
    site = await startFeedSite();
    good = await startTestApp({ env: { FEED_URL: `${site.base}/atom.xml`, FEED_POLL_CRON: '0 3 * * *' } });
    broken = await startTestApp({ env: { FEED_URL: `${site.base}/broken.xml`, FEED_POLL_CRON: '0 3 * * *' } });
  });
  afterAll(async () => {
    await good.stop();
    await broken.stop();
    await site.close();
  });

  test('registers one job scheduler with the configured cron in UTC, and its poll adds the articles', async () => {
    const feed = good.container.feedQueue!;
    expect(feed).toBeDefined();
    await feed.ready;
    const scheduler = await feed.queue.getJobScheduler('feed-poll');
    expect(scheduler).toMatchObject({ pattern: '0 3 * * *', tz: 'UTC' });
    expect(await feed.queue.getJobSchedulersCount()).toBe(1);

    await feed.pollNow();
    const articles = (await eventually(
      async () => {
        const list = await listArticles(good, 'new');
        return list.length === 2 ? list : null;
      },
      15000,
      'the feed poll to add two articles',
    ))!;
    expect(articles.map((a) => a.url).sort()).toEqual([
      'https://news.test/opinion/posted',
      'https://news.test/opinion/rights',
    ]);
  });

  test('a broken feed fails its job for a retry, and the service keeps running', async () => {
    const feed = broken.container.feedQueue!;
    await feed.ready;
    await feed.pollNow();
    const failed = (await eventually(
      async () => {
        const jobs = await feed.queue.getJobs(['delayed', 'failed', 'wait']);
        return jobs.find((j) => j.attemptsMade >= 1 && j.failedReason) ?? null;
      },
      15000,
      'the poll job to fail',
    ))!;
    expect(failed.failedReason).toMatch(/could not be read as XML/);
    expect(failed.attemptsMade).toBe(1);
    expect((await fetch(`${broken.base}/healthz`)).status).toBe(200);
    expect(await listArticles(broken, 'all')).toEqual([]);
  });
});
