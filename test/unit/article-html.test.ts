import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sanitiseArticleHtml, summaryFrom } from '../../src/domain/article-html';

const SAMPLE = readFileSync(join(__dirname, '..', 'fixtures', 'sample-article.txt'), 'utf8');
const sampleHtml = SAMPLE.split(/\n\s*\n/)
  .map((p) => p.trim())
  .filter(Boolean)
  .map((p) => `<p>${p.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p>`)
  .join('\n');

/** Nothing that can run, load or restyle anything in a mail client. */
function expectInert(html: string) {
  expect(html).not.toMatch(/<script|<style|<iframe|<object|<embed|<svg|<form|<input|<link|<meta/i);
  expect(html).not.toMatch(/\son[a-z]+\s*=/i);
  expect(html).not.toMatch(/\s(style|class|id)\s*=/i);
  expect(html).not.toMatch(/javascript:|vbscript:|data:/i);
}

describe('sanitiseArticleHtml', () => {
  test('keeps the email-safe subset as it is', () => {
    const html =
      '<h2>Sub</h2><h3>Three</h3><h4>Four</h4>' +
      '<p>A <strong>b</strong> <b>c</b> <em>d</em> <i>e</i> <u>f</u> <q>g</q><br /></p>' +
      '<blockquote>quote</blockquote><ul><li>one</li></ul><ol><li>two</li></ol><hr />' +
      '<figure><img src="https://news.test/a.jpg" alt="A picture" width="600" height="400" />' +
      '<figcaption>Cap</figcaption></figure>' +
      '<p><a href="https://news.test/x">link</a> <a href="mailto:desk@news.test">mail</a></p>';
    expect(sanitiseArticleHtml(html)).toBe(html);
  });

  test('drops scripts, styles and frames with their content, and keeps the text of other unknown tags', () => {
    const out = sanitiseArticleHtml(
      '<script>alert("x")</script><style>p{color:red}</style><iframe src="https://evil.test"></iframe>' +
        '<p>Kept <span>text</span> <font>too</font></p><noscript>no</noscript>',
    );
    expect(out).toBe('<p>Kept text too</p>');
  });

  test('removes event handlers, style, class and id attributes', () => {
    const out = sanitiseArticleHtml(
      '<p onclick="steal()" style="position:fixed" class="x" id="y">' +
        'Hi <img src="https://news.test/i.png" onerror="steal()" onload="x()" style="width:1px"></p>',
    );
    expect(out).toBe('<p>Hi <img src="https://news.test/i.png" /></p>');
    expectInert(out);
  });

  test.each([
    ['javascript:alert(1)'],
    ['JAVASCRIPT:alert(1)'],
    [' javascript:alert(1)'],
    ['java\tscript:alert(1)'],
    ['java&#x09;script:alert(1)'],
    ['&#106;avascript:alert(1)'],
    ['vbscript:msgbox(1)'],
    ['data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='],
    ['//evil.test/no-scheme'],
    ['file:///etc/passwd'],
  ])('a link to %j loses its href but keeps its text', (href) => {
    const out = sanitiseArticleHtml(`<p><a href="${href}">click</a></p>`);
    expect(out).toBe('<p><a>click</a></p>');
  });

  test('an image from data:, javascript: or nowhere is dropped whole', () => {
    const out = sanitiseArticleHtml(
      '<p>a<img src="data:image/png;base64,AAAA">b<img src="javascript:alert(1)">c<img>' +
        'd<img src="https://news.test/ok.png" alt="ok"></p>',
    );
    expect(out).toBe('<p>abcd<img src="https://news.test/ok.png" alt="ok" /></p>');
  });

  test('relative links and images are made absolute against the article url, or refused without one', () => {
    const html = '<p><a href="/world/2">next</a><img src="../img/a.jpg" alt="a"></p>';
    expect(sanitiseArticleHtml(html, { baseUrl: 'https://news.test/world/1/index.html' })).toBe(
      '<p><a href="https://news.test/world/2">next</a><img src="https://news.test/world/img/a.jpg" alt="a" /></p>',
    );
    expect(sanitiseArticleHtml(html)).toBe('<p><a>next</a></p>');
  });

  test('a wrapper around blocks is unwrapped, so paragraphs never nest', () => {
    expect(
      sanitiseArticleHtml('<div class="entry"><p>a</p><section><h2>b</h2><div>c <b>d</b></div></section></div>'),
    ).toBe('<p>a</p><h2>b</h2><p>c <b>d</b></p>');
  });

  test('only numeric image sizes survive', () => {
    expect(sanitiseArticleHtml('<img src="https://n.test/a.png" width="100%" height="expression(alert(1))">')).toBe(
      '<img src="https://n.test/a.png" width="100%" />',
    );
  });

  test('h1 becomes h2 and h5/h6 become h4; block containers become paragraphs so texts do not run together', () => {
    expect(sanitiseArticleHtml('<h1>T</h1><h5>F</h5><h6>S</h6><div>one</div><section>two</section>')).toBe(
      '<h2>T</h2><h4>F</h4><h4>S</h4><p>one</p><p>two</p>',
    );
  });

  test('a hostile mix comes out inert', () => {
    const hostile =
      `<p>Hello</p><img src=x onerror=alert(1)><svg onload=alert(1)><script>alert(2)</script></svg>
      <a href="javascript:alert(3)" onmouseover="alert(4)">x</a>` +
      `<math><mtext><table><mglyph><style><img src=x onerror=alert(5)>
      <iframe srcdoc="<script>alert(6)</script>"></iframe><form action="https://evil.test"><input name="p"></form>
      <object data="https://evil.test/x.swf"></object><link rel="stylesheet" href="https://evil.test/x.css">` +
      '<meta http-equiv="refresh" content="0;url=https://evil.test">';
    const out = sanitiseArticleHtml(hostile);
    expectInert(out);
    expect(out).toContain('<p>Hello</p>');
  });

  test('the sample article keeps its paragraphs and typographic quotation marks', () => {
    const out = sanitiseArticleHtml(sampleHtml);
    expect(out).toBe(sampleHtml);
    expect(out).toContain('“could not have gone better for the Chinese government');
    expect(out.match(/<p>/g)?.length).toBeGreaterThan(5);
  });
});

describe('summaryFrom', () => {
  test('is plain text: no tags, no link targets, entities decoded, whitespace collapsed', () => {
    const s = summaryFrom(
      '<h2>Head</h2>\n<p>Tom &amp; Jerry &#8220;quoted&#8221; <a href="https://x.test/secret">link</a>' +
        '<img src="https://x.test/i.png" alt="pic"></p>\r\n<p>Second\tpara</p>',
    );
    expect(s).toBe('Head Tom & Jerry “quoted” link Second para');
  });

  test('leaves out script and style text', () => {
    expect(summaryFrom('<script>var secret = 1</script><style>p{}</style><p>Only this</p>')).toBe('Only this');
  });

  test('a short text is returned whole', () => {
    expect(summaryFrom('<p>Short.</p>')).toBe('Short.');
  });

  test('a long text is cut at a word boundary, within the limit, with an ellipsis', () => {
    const s = summaryFrom(sampleHtml);
    expect(s.length).toBeLessThanOrEqual(300);
    expect(s.length).toBeGreaterThan(200);
    expect(s.endsWith('…')).toBe(true);
    expect(s.startsWith('The recent visit to China by the United Nations (UN) High Commissioner')).toBe(true);
    // The word before the ellipsis is a whole word of the article.
    const lastWord = s.slice(0, -1).split(' ').pop()!;
    expect(SAMPLE).toMatch(new RegExp(`\\b${lastWord.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`));
    expect(s).not.toMatch(/[\r\n]/);
  });

  test('honours a custom limit', () => {
    const s = summaryFrom('<p>' + 'word '.repeat(100) + '</p>', 50);
    expect(s.length).toBeLessThanOrEqual(50);
    expect(s).toMatch(/^(word )+word…$/);
  });
});
