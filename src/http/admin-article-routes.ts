import { Router } from 'express';
import type { Articles } from '../domain/articles';
import { jsonBody } from './body-parsers';
import { jsonError } from './errors';

/** An article body may be long HTML; 1 MB leaves room for the 500 KB body limit plus JSON escaping. */
const BODY_LIMIT = '1mb';

/** Operator API for articles, under /api/admin (the bearer guard sits in front, in app.ts). */
export function adminArticleRoutes(deps: { articles: Articles }): Router {
  const { articles } = deps;
  const r = Router();
  const json = jsonBody(BODY_LIMIT);

  // 201 with the new article; 200 with the stored one when its url (or guid) was known: posting twice is safe.
  r.post('/articles', json, async (req, res) => {
    if (!req.is(['application/json', 'application/*+json'])) {
      return void jsonError(res, 415, 'unsupported_media_type', 'Send the article as JSON (application/json).');
    }
    const { article, created } = await articles.add(req.body);
    if (created) res.location(`/api/admin/articles/${article.id}`);
    res.status(created ? 201 : 200).json(article);
  });

  // ?status=new (default: not yet in a sent campaign) or all; ?limit=1..500 (default 100). Newest first.
  r.get('/articles', async (req, res) => {
    res.json({ articles: await articles.list({ status: req.query.status, limit: req.query.limit }) });
  });

  r.get('/articles/:id', async (req, res) => {
    res.json(await articles.get(req.params.id));
  });

  return r;
}
