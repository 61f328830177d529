import type { Article, NewArticle } from '../article';

/**
 * Articles with their url and guid indexes, and which are still new (in no sent campaign). Listings are newest
 * first by publication time. `test/contract/article-repository.contract.ts` is the executable form of this contract.
 */
export interface ArticleRepository {
  /**
   * Stores the article unless one with its url, or its guid, is known; returns the stored one either way. When
   * found by url, a guid not yet known is indexed to it, so a later add with that guid (after the article moved to
   * another url) finds it. Concurrent adds of one url make one article.
   */
  add(input: NewArticle): Promise<{ article: Article; created: boolean }>;
  get(id: number): Promise<Article | null>;
  /** In the order given; unknown ids are dropped. */
  getMany(ids: number[]): Promise<Article[]>;
  /** Articles in no sent campaign of any newsletter. */
  listNew(limit?: number): Promise<Article[]>;
  /**
   * Articles not yet sent in this newsletter (an article sent in another one is still new here), newest first;
   * with `categories`, only those sharing one of them, compared case-insensitively. `limit` (default 100) counts
   * the articles returned, after that filter.
   */
  listNewIn(newsletter: string, opts?: { categories?: string[]; limit?: number }): Promise<Article[]>;
  list(limit?: number): Promise<Article[]>;
  /**
   * Takes the articles out of the new ones, and out of `newsletter`'s new ones when named; the first campaign to
   * send an article stays recorded on it.
   */
  markSent(ids: number[], campaignId: number, newsletter?: string): Promise<void>;
  /** For each id, in order, whether it went out in a sent campaign of this newsletter. */
  sentIn(newsletter: string, ids: number[]): Promise<boolean[]>;
}
