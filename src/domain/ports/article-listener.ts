import type { Article } from '../article';

/** Told of each article the first time it is stored (API or feed); what follows (alerts) is the listener's business. */
export interface ArticleListener {
  articleAdded(article: Article): Promise<void>;
}
