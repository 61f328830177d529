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
    // With no guid, rdf:about is the item's identity (feedparser's entry id).
    expect(f.entries).toEqual([{ title: 'R1', url: 'https://news.test/r1', guid: 'https://news.test/r1' }]);
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

describe('parseFeed: real-world documents, read as feedparser reads them', () => {
  const item = (inner: string) => `<rss version="2.0"><channel><title>C</title><item>${inner}</item></channel></rss>`;

  test('blank lines and spaces before <?xml do not reject the feed', () => {
    const feed = parseFeed(`\n\n  \r\n<?xml version="1.0" encoding="UTF-8"?>\n${item('<title>After blanks</title>')}`);
    expect(feed.entries).toEqual([{ title: 'After blanks' }]);
  });

  test('HTML named entities and numeric references in titles, authors, categories and summaries become characters', () => {
    const feed = parseFeed(
      item(
        '<title>Caf&eacute;&nbsp;cr&egrave;me &mdash; &ldquo;&#233;t&#xE9;&rdquo; &hellip; &amp; &lt;b&gt;</title>' +
          '<link>https://n.test/cafe</link><author>desk@n.test (Jos&eacute; &Aacute;lvarez)</author>' +
          '<category>Caf&eacute;s</category><description>Le caf&eacute; &euro;2</description>' +
          '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&lt;p&gt;Body&lt;/p&gt;</content:encoded>',
      ),
    );
    expect(feed.entries[0]).toMatchObject({
      // &nbsp; is a space like any other in a one-line field.
      title: 'Café crème — “été” … & <b>',
      author: 'José Álvarez',
      categories: ['Cafés'],
      summary: 'Le café €2',
      bodyHtml: '<p>Body</p>',
    });
  });

  test('an escaped entity stays text: &amp;eacute; is the six characters "&eacute;", as XML says', () => {
    expect(parseFeed(item('<title>Write &amp;eacute; for é</title>')).entries[0].title).toBe('Write &eacute; for é');
  });

  test('entities in an Atom feed, in text and html titles and in an entity the DOCTYPE declares itself', () => {
    const feed = parseFeed(
      '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY site "The Site">]>' +
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>&site;</title><entry><id>urn:1</id>' +
        '<title type="html">&lt;em&gt;Caf&amp;eacute;&lt;/em&gt; na&iuml;ve</title><author><name>Zo&euml;</name></author>' +
        '</entry></feed>',
    );
    expect(feed.title).toBe('The Site');
    expect(feed.entries[0]).toMatchObject({ title: 'Café naïve', author: 'Zoë' });
  });

  test('the entity limits still hold with HTML entities decoded: billion laughs stays small, external entities refused', () => {
    const started = Date.now();
    const feed = parseFeed(laughs().replace('<title>Laughing', '<title>Caf&eacute; laughing'));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(feed.entries[0].title!.startsWith('Café laughing')).toBe(true);
    expect(JSON.stringify(feed).length).toBeLessThan(1000);
    // A declared entity named like an HTML one is still the document's, under the same limits.
    expectFeedInvalid(
      `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY eacute "${'e'.repeat(1900)}">]>` +
        `<rss version="2.0"><channel><item><title>${'&eacute;'.repeat(5000)}</title></item></channel></rss>`,
    );
    expectFeedInvalid(
      '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp SYSTEM "file:///etc/passwd">]>' +
        '<rss version="2.0"><channel><item><title>&nbsp;</title></item></channel></rss>',
    );
  });

  test('a name that is no HTML entity is left as written, as feedparser leaves it', () => {
    expect(parseFeed(item('<title>Tom &notanentity; Jerry</title>')).entries[0].title).toBe('Tom &notanentity; Jerry');
  });

  test('a namespace-prefixed Atom feed is read by its namespace URI', () => {
    const feed = parseFeed(
      '<a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:m="http://search.yahoo.com/mrss/"><a:title>Prefixed</a:title>' +
        '<a:entry><a:id>urn:p1</a:id><a:title>First</a:title><a:link rel="alternate" href="https://n.test/p1"/>' +
        '<a:content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi <b>there</b></p></div></a:content>' +
        '<m:thumbnail url="https://n.test/p1.jpg"/><a:author><a:name>Ann</a:name></a:author></a:entry>' +
        '<a:entry><a:id>urn:p2</a:id><a:title>Second</a:title><a:link href="https://n.test/p2"/></a:entry></a:feed>',
    );
    expect(feed.format).toBe('atom');
    expect(feed.title).toBe('Prefixed');
    expect(feed.entries).toEqual([
      {
        title: 'First',
        url: 'https://n.test/p1',
        guid: 'urn:p1',
        bodyHtml: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Hi <b>there</b></p></div>',
        imageUrl: 'https://n.test/p1.jpg',
        author: 'Ann',
      },
      { title: 'Second', url: 'https://n.test/p2', guid: 'urn:p2' },
    ]);
  });

  test('RSS 1.0 with the RSS namespace under a prefix (<rss:item>) is read; so are renamed dc: and content:', () => {
    const feed = parseFeed(
      '<r:RDF xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rss="http://purl.org/rss/1.0/" ' +
        'xmlns:d="http://purl.org/dc/elements/1.1/" xmlns:c="http://purl.org/rss/1.0/modules/content/">' +
        '<rss:channel r:about="https://n.test/"><rss:title>RDF prefixed</rss:title></rss:channel>' +
        '<rss:item r:about="https://n.test/r1"><rss:title>R1</rss:title><rss:link>https://n.test/r1</rss:link>' +
        '<d:creator>Dee</d:creator><d:date>2024-03-01T10:00:00Z</d:date><c:encoded>&lt;p&gt;Full&lt;/p&gt;</c:encoded>' +
        '<rss:description>Short</rss:description></rss:item>' +
        '<rss:item r:about="https://n.test/r2"><rss:title>R2</rss:title></rss:item></r:RDF>',
    );
    expect(feed.format).toBe('rss');
    expect(feed.title).toBe('RDF prefixed');
    expect(feed.entries).toEqual([
      {
        title: 'R1',
        url: 'https://n.test/r1',
        guid: 'https://n.test/r1',
        author: 'Dee',
        publishedAt: '2024-03-01T10:00:00.000Z',
        bodyHtml: '<p>Full</p>',
        summary: 'Short',
      },
      { title: 'R2', guid: 'https://n.test/r2' },
    ]);
  });

  test('a default-namespace Atom feed and an RSS 2.0 feed with an atom:link keep working', () => {
    const atom = parseFeed(
      '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:d</id><title>D</title><link href="https://n.test/d"/></entry></feed>',
    );
    expect(atom.entries).toEqual([{ title: 'D', url: 'https://n.test/d', guid: 'urn:d' }]);
    expect(parseFeed(RSS).entries).toHaveLength(2);
  });

  test('Atom elements inside RSS items: an alternate atom:link stands in for a missing <link>; an atom:author does not hide <author>', () => {
    const feed = parseFeed(
      '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>C</title>' +
        '<atom:link rel="self" href="https://n.test/feed.xml"/>' +
        '<item><title>Only atom</title><atom:link rel="self" href="https://n.test/self"/><atom:link href="/only-atom"/></item>' +
        '<item><title>Both</title><atom:link href="https://n.test/atom"/><link>https://n.test/rss</link>' +
        '<atom:author><atom:name>Atom Name</atom:name></atom:author><author>desk@n.test (Desk)</author></item>' +
        '</channel></rss>',
      { baseUrl: 'https://n.test/feed.xml' },
    );
    expect(feed.entries).toEqual([
      { title: 'Only atom', url: 'https://n.test/only-atom' },
      { title: 'Both', url: 'https://n.test/rss', author: 'Desk' },
    ]);
  });

  test('xml:base on the feed, the entry and the link resolves relative links and images (RFC 3986)', () => {
    const feed = parseFeed(
      '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://n.test/blog/">' +
        '<entry><id>1</id><title>Feed base</title><link href="posts/one"/><link rel="enclosure" type="image/png" href="img/one.png"/></entry>' +
        '<entry xml:base="2024/"><id>2</id><title>Entry base</title><link href="two?x=1#top"/></entry>' +
        '<entry xml:base="/archive/"><id>3</id><title>Link base</title><link xml:base="deep/" href="../three"/></entry>' +
        '<entry xml:base="https://other.test/x/"><id>4</id><title>Absolute entry base</title><link href="four"/></entry>' +
        '<entry><id>5</id><title>Absolute link</title><link href="https://n.test/five"/></entry>' +
        '<entry><id>6</id><title>Dot segments</title><link href="../../six"/></entry></feed>',
      { baseUrl: 'https://feeds.test/atom.xml' },
    );
    expect(feed.entries.map((e) => e.url)).toEqual([
      'https://n.test/blog/posts/one',
      'https://n.test/blog/2024/two?x=1#top',
      'https://n.test/archive/three',
      'https://other.test/x/four',
      'https://n.test/five',
      'https://n.test/six',
    ]);
    expect(feed.entries[0].imageUrl).toBe('https://n.test/blog/img/one.png');
  });

  test('xml:base in RSS (channel, item, link) and a relative xml:base resolved against the feed URL', () => {
    const doc =
      '<rss version="2.0"><channel xml:base="/news/"><item><title>A</title><link>a.html</link>' +
      '<enclosure url="pics/a.jpg" type="image/jpeg"/></item>' +
      '<item xml:base="sport/"><title>B</title><link xml:base="https://m.test/" >b.html</link></item>' +
      '<item><title>C</title><link>c.html</link></item></channel></rss>';
    const feed = parseFeed(doc, { baseUrl: 'https://n.test/feeds/rss.xml' });
    expect(feed.entries.map((e) => [e.url, e.imageUrl])).toEqual([
      ['https://n.test/news/a.html', 'https://n.test/news/pics/a.jpg'],
      ['https://m.test/b.html', undefined],
      ['https://n.test/news/c.html', undefined],
    ]);
    // No xml:base: relative links resolve against the feed's own URL.
    expect(
      parseFeed(item('<title>R</title><link>../r.html</link>'), { baseUrl: 'https://n.test/feeds/rss.xml' }).entries[0]
        .url,
    ).toBe('https://n.test/r.html');
  });

  test('rdf:about is the identity of an RSS 1.0 item without a guid; a dc:identifier-free item with a guid keeps it', () => {
    const feed = parseFeed(
      '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">' +
        '<item rdf:about="https://n.test/about-1"><title>One</title><link>https://n.test/one?utm=x</link></item>' +
        '<item rdf:about="https://n.test/about-2"><title>Two</title><guid>g-2</guid></item></rdf:RDF>',
    );
    expect(feed.entries.map((e) => e.guid)).toEqual(['https://n.test/about-1', 'g-2']);
  });

  test('a document that is not a feed names its root element in the error', () => {
    let err: unknown;
    try {
      parseFeed('<?xml version="1.0"?><!-- a sitemap --><urlset><url/></urlset>');
    } catch (e) {
      err = e;
    }
    expect((err as FeedError).code).toBe('feed_invalid');
    expect((err as FeedError).message).toMatch(/<urlset>/);
  });
});
