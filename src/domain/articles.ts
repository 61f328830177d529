import { z } from 'zod';
import type { Logger } from 'pino';
import type { Article, ArticleStatusFilter } from './article';
import { sanitiseArticleHtml, summaryFrom } from './article-html';
import { NotFoundError } from './errors';
import type { Newsletter } from './newsletter';
import type { ArticleListener } from './ports/article-listener';
import type { ArticleRepository } from './ports/article-repository';
import type { Clock } from './ports/clock';
import { isCalendarDate, LINE_BREAKING, oneLine, parseFields, recordId, required } from './validation';

export interface ArticlesDeps {
  store: ArticleRepository;
  clock: Clock;
  log: Logger;
  /** Told of each article stored for the first time (alerts). Default: nobody. */
  listener?: ArticleListener;
}

export const ARTICLE_LIMITS = {
  title: 300,
  url: 2048,
  summary: 2000,
  /** Bytes of UTF-8, before sanitising. */
  bodyHtmlBytes: 500 * 1024,
  author: 200,
  guid: 2048,
  category: 100,
  /** Categories one article keeps; a feed may list many more tags than sections. */
  categories: 20,
  /** Length of a summary derived from the body. */
  derivedSummary: 300,
  /** Most articles one listing returns. */
  list: 500,
} as const;

const absent = (v: unknown) => (v === null || v === '' ? undefined : v);

/** An absolute http(s) URL, normalised (lower-case host, default port dropped) so equal URLs index equally. */
const httpUrl = z
  .string(required('a string'))
  .transform((v) => v.trim())
  .refine((v) => v.length <= ARTICLE_LIMITS.url, `must be at most ${ARTICLE_LIMITS.url} characters`)
  // Checked before parsing: the URL parser would silently remove tabs and newlines instead of refusing them.
  .refine((v) => !LINE_BREAKING.test(v) && !/\s/.test(v), 'must not contain spaces, line breaks or control characters')
  .transform((v, ctx) => {
    const url = URL.canParse(v) ? new URL(v) : null;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL' });
      return z.NEVER;
    }
    return url.href;
  });

const isoDate = z
  .string(required('a string'))
  .refine(
    (v) =>
      /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(v.trim()) &&
      !Number.isNaN(Date.parse(v.trim())) &&
      isCalendarDate(v.trim()),
    'must be an ISO 8601 date, e.g. 2026-11-27T09:30:00Z',
  )
  .transform((v) => new Date(Date.parse(v.trim())).toISOString());

const optional = <T extends z.ZodTypeAny>(t: T) => z.preprocess(absent, t.optional());

const articleSchema = z.object(
  {
    title: oneLine(ARTICLE_LIMITS.title),
    url: httpUrl,
    summary: optional(
      z
        .string(required('a string'))
        .max(ARTICLE_LIMITS.summary, `must be at most ${ARTICLE_LIMITS.summary} characters`),
    ),
    bodyHtml: optional(
      z
        .string(required('a string'))
        .refine(
          (v) => Buffer.byteLength(v, 'utf8') <= ARTICLE_LIMITS.bodyHtmlBytes,
          `must be at most ${ARTICLE_LIMITS.bodyHtmlBytes / 1024} KB`,
        ),
    ),
    imageUrl: optional(httpUrl),
    author: optional(oneLine(ARTICLE_LIMITS.author)),
    publishedAt: optional(isoDate),
    guid: optional(oneLine(ARTICLE_LIMITS.guid)),
    categories: optional(
      z
        .array(oneLine(ARTICLE_LIMITS.category), { error: 'must be an array of strings' })
        .max(ARTICLE_LIMITS.categories, `must have at most ${ARTICLE_LIMITS.categories} entries`)
        // Matching ignores case, so "Politics" and "politics" are one category; the first spelling is kept.
        .transform((l) => l.filter((c, i) => l.findIndex((d) => d.toLowerCase() === c.toLowerCase()) === i)),
    ),
  },
  { error: 'must be a JSON object' },
);

const listSchema = z.object({
  status: optional(z.enum(['new', 'all'], { error: 'must be "new" or "all"' })),
  limit: optional(
    z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(ARTICLE_LIMITS.list, `must be at most ${ARTICLE_LIMITS.list}`),
  ),
});

/**
 * Articles come in from the admin API or the feed and wait, as "new", for a campaign to send them. Everything about
 * an article is untrusted until `add` has validated it and reduced its HTML to the email-safe subset.
 */
export class Articles {
  constructor(private readonly deps: ArticlesDeps) {}

  /** Validates, sanitises and stores an article; an article with the same url (or guid) is returned, not duplicated. */
  async add(input: unknown): Promise<{ article: Article; created: boolean }> {
    const fields = parseFields(articleSchema, input, 'invalid_article');
    const now = this.deps.clock.now().toISOString();
    const bodyHtml = fields.bodyHtml ? sanitiseArticleHtml(fields.bodyHtml, { baseUrl: fields.url }) : '';
    const given = fields.summary ? summaryFrom(fields.summary, ARTICLE_LIMITS.summary) : '';
    const summary = given || summaryFrom(bodyHtml, ARTICLE_LIMITS.derivedSummary);

    const result = await this.deps.store.add({
      title: fields.title,
      url: fields.url,
      summary,
      bodyHtml,
      imageUrl: fields.imageUrl,
      author: fields.author,
      publishedAt: fields.publishedAt ?? now,
      createdAt: now,
      guid: fields.guid,
      categories: fields.categories?.length ? fields.categories : undefined,
    });
    if (result.created) {
      this.deps.log.info({ event: 'article.added', articleId: result.article.id }, 'article added');
      await this.announce(result.article);
    } else this.deps.log.debug({ event: 'article.known', articleId: result.article.id }, 'article already known');
    return result;
  }

  /**
   * Tells the listener of a new article. Its failure does not fail the add: the article is stored, and an add
   * repeated after an error finds it known and announces nothing, so failing here would only mislead the caller.
   */
  private async announce(article: Article): Promise<void> {
    try {
      await this.deps.listener?.articleAdded(article);
    } catch (err) {
      this.deps.log.error(
        { event: 'article.listener_failed', articleId: article.id, err: (err as Error).message },
        'could not queue what follows a new article (alerts)',
      );
    }
  }

  async get(rawId: unknown): Promise<Article> {
    const id = recordId(rawId);
    const article = id === undefined ? null : await this.deps.store.get(id);
    if (!article) throw new NotFoundError('No article with this id');
    return article;
  }

  /** Articles not yet in a sent campaign, newest first: what a campaign with no explicit articles will carry. */
  listNew(limit = 100): Promise<Article[]> {
    return this.deps.store.listNew(limit);
  }

  /** The articles new in one newsletter (its categories applied), newest first: what the composer offers. */
  listNewIn(newsletter: Pick<Newsletter, 'slug' | 'categories'>, limit = 50): Promise<Article[]> {
    return this.deps.store.listNewIn(newsletter.slug, { categories: newsletter.categories, limit });
  }

  /** A listing from untrusted query values: `status` new (default) or all, `limit` 1-500 (default 100). */
  async list(query: { status?: unknown; limit?: unknown } = {}): Promise<Article[]> {
    const q = parseFields(listSchema, { status: query.status, limit: query.limit }, 'invalid_request');
    const status: ArticleStatusFilter = q.status ?? 'new';
    const limit = q.limit ?? 100;
    return status === 'new' ? this.deps.store.listNew(limit) : this.deps.store.list(limit);
  }
}
