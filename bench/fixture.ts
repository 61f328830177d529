import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Article, ArticleInput } from '../src/domain/article';
import { ARTICLE_LIMITS } from '../src/domain/articles';
import { summaryFrom } from '../src/domain/article-html';
import { escapeHtml } from '../src/lib/html';

export const SITE_NAME = 'The Bench Gazette';
export const POSTAL_ADDRESS = '1 Bench Street, 00000 Benchville';
export const MAIL_FROM = 'The Bench Gazette <news@gazette.bench>';
export const PUBLIC_URL = 'https://gazette.bench';
export const TEMPLATES_DIR = join(__dirname, '..', 'templates');
/** What every template may use, as the container passes it. */
export const TEMPLATE_GLOBALS = { site_name: SITE_NAME, site_url: PUBLIC_URL, postal_address: POSTAL_ADDRESS };
/** The web version link of the benchmark's campaign. */
export const WEB_VERSION_URL = `${PUBLIC_URL}/archive/1`;
/** The feedback-loop sender id of the benchmark's mail. */
export const FEEDBACK_SENDER = 'benchgazette';

/** Lines of the sample that are the site's signup call, not the article. */
const TRAILER = ['Sign up to receive our latest news!', 'By submitting this form, I agree to the terms.'];

/**
 * Five articles cut from test/fixtures/sample-article.txt at its sub-headings (the lead section gives two: the
 * story and an analysis of the reactions). Each carries the section as its body and as much of it as the admin API
 * takes as a summary (2,000 characters), which is what the newsletter prints: a long-form digest, the large end
 * of what the service sends.
 */
export function sampleArticleInputs(): ArticleInput[] {
  const text = readFileSync(join(__dirname, '..', 'test', 'fixtures', 'sample-article.txt'), 'utf8');
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p && !TRAILER.includes(p));
  // A sub-heading is a short paragraph without a closing full stop.
  const isHeading = (p: string) => p.length < 100 && !/[.:”"]$/.test(p);
  const sections: { title: string; paragraphs: string[] }[] = [
    { title: 'UN rights chief’s China visit draws criticism', paragraphs: [] },
  ];
  for (const p of paragraphs) {
    if (isHeading(p)) sections.push({ title: p, paragraphs: [] });
    else sections[sections.length - 1].paragraphs.push(p);
  }
  const lead = sections[0];
  const half = Math.ceil(lead.paragraphs.length / 2);
  const five = [
    { title: lead.title, paragraphs: lead.paragraphs.slice(0, half) },
    { title: 'Why rights groups say a historic opportunity was missed', paragraphs: lead.paragraphs.slice(half) },
    ...sections.slice(1),
  ].slice(0, 5);
  while (five.length < 5)
    five.push({
      ...five[five.length % sections.length],
      title: `${five[five.length % sections.length].title} (continued)`,
    });
  return five.map((s, i) => ({
    title: s.title,
    url: `${PUBLIC_URL}/articles/${i + 1}-${s.title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')}`,
    summary: s.paragraphs.join('\n\n').slice(0, ARTICLE_LIMITS.summary),
    bodyHtml: s.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n'),
    imageUrl: i === 0 ? `${PUBLIC_URL}/img/lead.jpg` : undefined,
    author: i % 2 === 0 ? 'Staff Reporter' : undefined,
    publishedAt: new Date(Date.parse('2026-11-27T08:00:00Z') - i * 3600_000).toISOString(),
  }));
}

/** The same five as stored articles, without Redis, for the sections that only render and build. */
export function sampleArticles(): Article[] {
  return sampleArticleInputs().map((a, i) => ({
    id: i + 1,
    title: a.title as string,
    url: a.url as string,
    summary: summaryFrom(a.summary as string, ARTICLE_LIMITS.summary),
    bodyHtml: a.bodyHtml as string,
    imageUrl: a.imageUrl as string | undefined,
    author: a.author as string | undefined,
    publishedAt: a.publishedAt as string,
    createdAt: '2026-11-27T09:00:00.000Z',
  }));
}
