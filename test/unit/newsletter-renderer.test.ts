import { join } from 'node:path';
import type { Article } from '../../src/domain/article';
import { MjmlNewsletterRenderer } from '../../src/mail/newsletter';
import { TemplateRenderer } from '../../src/mail/template-renderer';

const templates = new TemplateRenderer({
  dir: join(__dirname, '..', '..', 'templates'),
  globals: {
    site_name: 'The Test Gazette',
    site_url: 'https://news.gazette.test',
    postal_address: '1 Test Street',
  },
});
const renderer = new MjmlNewsletterRenderer({
  templates,
  siteName: 'The Test Gazette',
  signupUrl: 'https://newsletter.gazette.test/',
});

const article = (id: number, over: Partial<Article> = {}): Article => ({
  id,
  title: `Story ${id}`,
  url: `https://news.gazette.test/story-${id}?a=1&b=2`,
  summary: `Summary of story ${id}.`,
  bodyHtml: '',
  publishedAt: '2026-12-01T00:00:00.000Z',
  createdAt: '2026-12-01T00:00:00.000Z',
  ...over,
});

describe('MjmlNewsletterRenderer', () => {
  test('an article whose title looks like a placeholder is printed as it is', async () => {
    const { html } = await renderer.render({
      subject: 'S',
      articles: [article(1, { title: 'What [[site_name]] and [[[articles]]] mean' })],
      webVersionUrl: 'https://newsletter.gazette.test/archive/1',
    });
    expect(html).toContain('What [[site_name]] and [[[articles]]] mean');
  });

  test('the text part leaves out the image link and keeps the headline link and the web version', async () => {
    const { text } = await renderer.render({
      subject: 'S',
      articles: [article(1, { imageUrl: 'https://news.gazette.test/1.jpg' })],
      webVersionUrl: 'https://newsletter.gazette.test/archive/1',
    });
    expect(text).toMatch(/View in browser\s+\[https:\/\/newsletter\.gazette\.test\/archive\/1\]/);
    expect(text).toContain('Story 1 [https://news.gazette.test/story-1?a=1&b=2]');
    expect(text).not.toMatch(/^https:\/\/news\.gazette\.test\/story-1/m);
    expect(text).not.toContain('1.jpg');
  });

  test('the first line lists the headlines as far as they fit', async () => {
    const long = Array.from({ length: 8 }, (_, i) =>
      article(i + 1, { title: `A fairly long headline number ${i + 1}` }),
    );
    const { html } = await renderer.render({ subject: 'S', articles: long, webVersionUrl: 'https://x.test/archive/1' });
    const line = /In this issue: [^<]*/.exec(html)![0];
    expect(line).toContain('A fairly long headline number 1 · A fairly long headline number 2');
    expect(line).toMatch(/ and more$/);
    expect(line.length).toBeLessThanOrEqual(150);
  });

  test('a preheader, when given, is the first line instead of the headlines, escaped', async () => {
    const { html } = await renderer.render({
      subject: 'S',
      preheader: 'Tom & Jerry <b>return</b>',
      articles: [article(1, { title: 'Only headline' })],
      webVersionUrl: 'https://x.test/archive/1',
    });
    expect(html).toContain('Tom &#38; Jerry &#60;b&#62;return&#60;/b&#62;');
    expect(html).not.toContain('<b>return');
    expect(html).not.toContain('In this issue:');
  });

  test('the web version keeps the articles and drops the reader, the unsubscribe link and the mail-only parts', async () => {
    const { html } = await renderer.render({
      subject: 'S',
      articles: [article(1), article(2)],
      webVersionUrl: 'https://newsletter.gazette.test/archive/7',
    });
    expect(html).toContain('{{unsubscribe_url}}');
    expect(html).toContain('archive/7');
    const web = await renderer.webVersion(html);
    expect(web).toContain('Hello reader, here is the latest');
    expect(web).toContain('Story 1');
    expect(web).toContain('Story 2');
    expect(web).toContain('href="https://newsletter.gazette.test/"');
    expect(web).not.toMatch(/\{\{|archive\/7|Unsubscribe|You get this because|mail-only/);
    // What is not personal stays byte for byte: links with their escaped ampersands, the postal address.
    expect(web).toContain('https://news.gazette.test/story-1?a=1&#38;b=2');
    expect(web).toContain('1 Test Street');
  });
});
