/**
 * An article as stored and as a campaign reads it. Invariants, held by `Articles.add` before anything is stored:
 * `bodyHtml` is sanitised to the email-safe subset of `article-html.ts`; `summary` is plain text; `title`, `author`,
 * `url`, `imageUrl` and `guid` hold no control characters (no CR, LF or NUL), so none of them can add a mail header;
 * `url` and `imageUrl` are absolute http(s) URLs.
 */
export interface Article {
  id: number;
  title: string;
  /** Canonical link of the article; unique across articles (the dedup key). */
  url: string;
  /** Plain text, at most 2000 characters; derived from the body when none is given. */
  summary: string;
  /** Sanitised HTML; may be empty. */
  bodyHtml: string;
  imageUrl?: string;
  author?: string;
  /** ISO 8601, UTC. */
  publishedAt: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  /** The feed's guid (RSS) or id (Atom); unique across articles when present. */
  guid?: string;
  /**
   * Sections or tags from the feed or the operator, each once whatever its case; absent when there are none. A
   * newsletter with categories takes the articles that share one (compared case-insensitively).
   */
  categories?: string[];
  /** Id of the first campaign that sent this article; unset while it is new. */
  sentInCampaign?: number;
}

/** A validated, sanitised article ready to be stored: what `ArticleStore.add` takes. */
export type NewArticle = Omit<Article, 'id' | 'sentInCampaign'>;

/**
 * What an operator (admin API) or a feed supplies, before validation: every field is untrusted.
 * Only `title` and `url` are required.
 */
export interface ArticleInput {
  title?: unknown;
  url?: unknown;
  summary?: unknown;
  bodyHtml?: unknown;
  imageUrl?: unknown;
  author?: unknown;
  publishedAt?: unknown;
  guid?: unknown;
  categories?: unknown;
}

export type ArticleStatusFilter = 'new' | 'all';
