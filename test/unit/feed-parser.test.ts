import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FeedError, parseFeed } from '../../src/domain/feed-parser';
import { sanitiseArticleHtml } from '../../src/domain/article-html';

const SAMPLE = readFileSync(join(__dirname, '..', 'fixtures', 'sample-article.txt'), 'utf8');
const SAMPLE_HTML = SAMPLE.split(/\n\s*\n/)
  .map((p) => p.trim())
  .filter(Boolean)
  .map((p) => `<p>${p}</p>`)
  .join('\n');

const RSS_NAMESPACES = [
  'xmlns:content="http://purl.org/rss/1.0/modules/content/"',
  'xmlns:dc="http://purl.org/dc/elements/1.1/"',
  'xmlns:media="http://search.yahoo.com/mrss/"',
  'xmlns:atom="http://www.w3.org/2005/Atom"',
].join(' ');

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" ${RSS_NAMESPACES}>
  <channel>
    <title>The Test Gazette</title>
    <link>https://news.test/</link>
    <atom:link href="https://news.test/feed.xml" rel="self" type="application/rss+xml"/>
    <item>
      <title>UN rights chief&#8217;s China visit draws criticism</title>
      <link>https://news.test/world/bachelet-china</link>
      <guid isPermaLink="false">news-1001</guid>
      <dc:creator><![CDATA[Staff Reporter]]></dc:creator>
      <pubDate>Mon, 30 May 2022 09:15:00 +0000</pubDate>
      <description>Human rights groups say a historic opportunity was missed &amp; more.</description>
      <content:encoded><![CDATA[${SAMPLE_HTML}]]></content:encoded>
      <media:content url="https://news.test/img/bachelet.jpg" medium="image" width="1200"/>
    </item>
    <item>
      <title>Second story</title>
      <link>/world/second</link>
      <guid>https://news.test/world/second</guid>
      <author>desk@news.test (News Desk)</author>
      <pubDate>Sun, 29 May 2022 18:00:00 GMT</pubDate>
      <description>&lt;p&gt;Escaped &lt;em&gt;HTML&lt;/em&gt; body&lt;/p&gt;</description>
      <enclosure url="https://news.test/img/second.png" type="image/png" length="1234"/>
    </item>
  </channel>
</rss>`;

const XHTML_DIV = '<div xmlns="http://www.w3.org/1999/xhtml">';

const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
  <title>The Test Gazette</title>
  <id>urn:uuid:60a76c80-d399-11d9-b91C-0003939e0af6</id>
  <updated>2022-05-30T10:00:00Z</updated>
  <entry>
    <title type="html">Rights &amp;amp; wrongs</title>
    <link rel="alternate" type="text/html" href="https://news.test/opinion/rights"/>
    <link rel="enclosure" type="image/jpeg" href="https://news.test/img/rights.jpg"/>
    <id>tag:news.test,2022:opinion-7</id>
    <published>2022-05-30T11:00:00+02:00</published>
    <updated>2022-05-31T08:00:00Z</updated>
    <author><name>Ann Editor</name><email>ann@news.test</email></author>
    <summary type="text">A short summary.</summary>
    <content type="xhtml">${XHTML_DIV}<p>Inline <strong>XHTML</strong> &amp; an entity</p></div></content>
  </entry>
  <entry>
    <title>Plain title</title>
    <link href="/opinion/plain"/>
    <id>tag:news.test,2022:opinion-8</id>
    <updated>2022-05-29T07:30:00Z</updated>
    <content type="html">&lt;p&gt;Escaped &amp;amp; fine&lt;/p&gt;</content>
    <media:thumbnail url="https://news.test/img/plain.jpg"/>
  </entry>
</feed>`;

function laughs(): string {
  let dtd = '<!ENTITY lol "lol">';
  for (let i = 1; i <= 9; i++) dtd += `\n  <!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`;
  return `<?xml version="1.0"?>
<!DOCTYPE rss [
  ${dtd}
]>
<rss version="2.0"><channel><title>&lol9;</title>
  <item><title>Laughing &lol9;</title><link>https://news.test/lol</link><description>&lol9;</description></item>
</channel></rss>`;
}

const SVG_DATA_IMAGE = '<img src="data:image/svg+xml;base64,PHN2Zz4=">';

const HOSTILE = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel><title>Evil</title>
    <item>
      <title>Breaking&#13;&#10;Bcc: victim@example.com</title>
      <link>https://news.test/evil/1</link>
      <author>x@evil.test (Eve
Bcc: all@example.com)</author>
      <content:encoded><![CDATA[<p>Read <a href="javascript:alert(document.cookie)" onclick="steal()">this</a></p>
        <img src="x" onerror="alert(1)"><script>alert(2)</script><iframe src="https://evil.test"></iframe>
        <p style="display:none" onmouseover="steal()">hidden</p>${SVG_DATA_IMAGE}]]></content:encoded>
    </item>
    <item>
      <title>Line
break in a title</title>
      <link>javascript:alert(1)</link>
      <description>A javascript: link as the article itself</description>
    </item>
  </channel>
</rss>`;

function expectFeedInvalid(doc: string) {
  let err: unknown;
  try {
    parseFeed(doc);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FeedError);
  expect((err as FeedError).code).toBe('feed_invalid');
}

describe('parseFeed: RSS 2.0', () => {
  const feed = parseFeed(RSS, { baseUrl: 'https://news.test/feed.xml' });

  test('reads every item, in document order', () => {
    expect(feed.format).toBe('rss');
    expect(feed.title).toBe('The Test Gazette');
    expect(feed.entries.map((e) => e.title)).toEqual(['UN rights chief’s China visit draws criticism', 'Second story']);
  });

  test('maps guid, link, author, date, image, and content:encoded as the body with the description as summary', () => {
    const [first] = feed.entries;
    expect(first).toEqual({
      title: 'UN rights chief’s China visit draws criticism',
      url: 'https://news.test/world/bachelet-china',
      guid: 'news-1001',
      author: 'Staff Reporter',
      publishedAt: '2022-05-30T09:15:00.000Z',
      summary: 'Human rights groups say a historic opportunity was missed & more.',
      bodyHtml: SAMPLE_HTML,
      imageUrl: 'https://news.test/img/bachelet.jpg',
    });
    expect(first.bodyHtml).toContain('“could not have gone better for the Chinese government');
  });

  test('resolves a relative link against the feed, reads an escaped HTML description as the body, the name of an RSS author and an image enclosure', () => {
    expect(feed.entries[1]).toEqual({
      title: 'Second story',
      url: 'https://news.test/world/second',
      guid: 'https://news.test/world/second',
      author: 'News Desk',
      publishedAt: '2022-05-29T18:00:00.000Z',
      bodyHtml: '<p>Escaped <em>HTML</em> body</p>',
      imageUrl: 'https://news.test/img/second.png',
    });
  });

  test('a channel with a single item gives a list of one', () => {
    const one = parseFeed(
      '<rss version="2.0"><channel><title>One</title>' +
        '<item><title>Alone</title><link>https://news.test/alone</link></item></channel></rss>',
    );
    expect(one.entries).toEqual([{ title: 'Alone', url: 'https://news.test/alone' }]);
  });

  test('a channel with no items gives no entries', () => {
    expect(parseFeed('<rss version="2.0"><channel><title>Empty</title></channel></rss>').entries).toEqual([]);
  });

  test('a permalink guid stands in for a missing link', () => {
    const f = parseFeed(
      '<rss version="2.0"><channel><item><title>T</title><guid>https://news.test/by-guid</guid></item></channel></rss>',
    );
    expect(f.entries[0].url).toBe('https://news.test/by-guid');
  });

  test('unescaped HTML in a description is read as HTML rather than torn apart', () => {
    const f = parseFeed(
      '<rss version="2.0"><channel><item><title>T</title><link>https://n.test/t</link>' +
        '<description><p>Raw <b>markup</b></p></description></item></channel></rss>',
    );
    expect(f.entries[0].bodyHtml).toBe('<p>Raw <b>markup</b></p>');
  });

  test('reads RSS 1.0 (RDF) too', () => {
    const f =
      parseFeed(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
      <channel rdf:about="https://news.test/"><title>RDF</title></channel>
      <item rdf:about="https://news.test/r1"><title>R1</title><link>https://news.test/r1</link></item></rdf:RDF>`);
    expect(f.entries).toEqual([{ title: 'R1', url: 'https://news.test/r1' }]);
  });
});

describe('parseFeed: Atom', () => {
  const feed = parseFeed(ATOM, { baseUrl: 'https://news.test/atom.xml' });

  test('reads every entry', () => {
    expect(feed.format).toBe('atom');
    expect(feed.title).toBe('The Test Gazette');
    expect(feed.entries).toHaveLength(2);
  });

  test('maps id, alternate link, html title, xhtml content, summary, published date, author name and enclosure image', () => {
    const [e] = feed.entries;
    expect(e).toMatchObject({
      title: 'Rights & wrongs',
      url: 'https://news.test/opinion/rights',
      guid: 'tag:news.test,2022:opinion-7',
      publishedAt: '2022-05-30T09:00:00.000Z',
      author: 'Ann Editor',
      summary: 'A short summary.',
      imageUrl: 'https://news.test/img/rights.jpg',
    });
    expect(sanitiseArticleHtml(e.bodyHtml!)).toBe('<p>Inline <strong>XHTML</strong> &amp; an entity</p>');
  });

  test('falls back to updated for the date, resolves a relative link, decodes escaped html content, reads a media thumbnail', () => {
    expect(feed.entries[1]).toEqual({
      title: 'Plain title',
      url: 'https://news.test/opinion/plain',
      guid: 'tag:news.test,2022:opinion-8',
      publishedAt: '2022-05-29T07:30:00.000Z',
      bodyHtml: '<p>Escaped &amp; fine</p>',
      imageUrl: 'https://news.test/img/plain.jpg',
    });
  });

  test('a feed with a single entry gives a list of one', () => {
    const one = parseFeed(
      '<feed xmlns="http://www.w3.org/2005/Atom"><title>One</title>' +
        '<entry><title>Alone</title><id>urn:x:1</id><link href="https://news.test/a"/></entry></feed>',
    );
    expect(one.entries).toEqual([{ title: 'Alone', guid: 'urn:x:1', url: 'https://news.test/a' }]);
  });

  test('reads each category term; a category with no term is left out', () => {
    const feed = parseFeed(
      '<feed xmlns="http://www.w3.org/2005/Atom"><title>C</title><entry><title>Tagged</title><id>urn:x:2</id>' +
        '<link href="https://news.test/t"/><category term="Politics" label="Politics and power"/>' +
        '<category term=" Europe "/><category label="no term"/></entry></feed>',
    );
    expect(feed.entries[0].categories).toEqual(['Politics', 'Europe']);
  });
});

describe('parseFeed: categories in RSS', () => {
  test('reads every <category> of an item, one or many, trimmed, empty ones left out; none gives no field', () => {
    const feed = parseFeed(`<rss version="2.0"><channel><title>C</title>
      <item><title>Many</title><link>https://news.test/m</link>
        <category domain="https://news.test/sections">World</category><category> Climate
 change </category>
        <category></category></item>
      <item><title>One</title><link>https://news.test/o</link><category><![CDATA[Sport & Leisure]]></category></item>
      <item><title>None</title><link>https://news.test/n</link></item>
    </channel></rss>`);
    expect(feed.entries.map((e) => e.categories)).toEqual([
      ['World', 'Climate change'],
      ['Sport & Leisure'],
      undefined,
    ]);
    expect(feed.entries[2]).not.toHaveProperty('categories');
  });
});

describe('parseFeed: hostile and broken documents', () => {
  test('a billion-laughs DOCTYPE is not expanded: the document is read quickly and stays small', () => {
    const started = Date.now();
    const feed = parseFeed(laughs());
    expect(Date.now() - started).toBeLessThan(1000);
    expect(feed.entries).toHaveLength(1);
    expect(feed.entries[0].title!.length).toBeLessThan(100);
    expect(JSON.stringify(feed).length).toBeLessThan(1000);
    expect(JSON.stringify(feed)).not.toContain('lollol');
  });

  test('one large entity repeated many times (quadratic blow-up) is refused as feed_invalid', () => {
    const doc =
      `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "${'a'.repeat(1900)}">]>` +
      `<rss version="2.0"><channel><item><title>${'&a;'.repeat(5000)}</title><link>https://n.test/q</link></item>` +
      '</channel></rss>';
    const started = Date.now();
    expectFeedInvalid(doc);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('an external entity is refused, never fetched or read', () => {
    expectFeedInvalid(
      '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
        '<rss version="2.0"><channel><item><title>&xxe;</title><link>https://n.test/x</link></item></channel></rss>',
    );
  });

  test('line breaks in a title or author, literal or as character references, become spaces', () => {
    const [evil, second] = parseFeed(HOSTILE).entries;
    expect(evil.title).toBe('Breaking Bcc: victim@example.com');
    expect(evil.author).toBe('Eve Bcc: all@example.com');
    expect(second.title).toBe('Line break in a title');
    for (const e of [evil, second]) expect(`${e.title}${e.author ?? ''}`).not.toMatch(/[\r\n]/);
  });

  test('a javascript: link is passed on as given, for validation to refuse', () => {
    expect(parseFeed(HOSTILE).entries[1].url).toBe('javascript:alert(1)');
  });

  test('scripts, event handlers and javascript:/data: URLs in a body do not survive sanitising', () => {
    const body = sanitiseArticleHtml(parseFeed(HOSTILE).entries[0].bodyHtml!, { baseUrl: 'https://news.test/evil/1' });
    expect(body).not.toMatch(/<script|<iframe|onerror|onclick|onmouseover|style=|javascript:|data:/i);
    expect(body).toContain('<p>Read <a>this</a></p>');
    expect(body).toContain('hidden');
  });

  test.each([
    ['a truncated document', RSS.slice(0, RSS.length / 2)],
    ['mismatched tags', '<rss version="2.0"><channel><item><title>x</item></channel></rss>'],
    ['not XML at all', 'Service temporarily unavailable'],
    ['an empty body', ''],
    ['an HTML page', '<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</body></html>'],
    ['XML that is not a feed', '<?xml version="1.0"?><sitemap><url><loc>https://news.test/</loc></url></sitemap>'],
  ])('%s is feed_invalid', (_what, doc) => {
    expectFeedInvalid(doc);
  });

  test('reads at most maxEntries entries', () => {
    const items = Array.from(
      { length: 30 },
      (_, i) => `<item><title>T${i}</title><link>https://n.test/${i}</link></item>`,
    ).join('');
    expect(parseFeed(`<rss version="2.0"><channel>${items}</channel></rss>`, { maxEntries: 10 }).entries).toHaveLength(
      10,
    );
  });
});
