import { Router } from 'express';
import type { DigestSchedules } from '../domain/digest-schedules';
import type { Newsletters } from '../domain/newsletters';
import { jsonBody } from './body-parsers';

/** Operator newsletter API under /api/admin/newsletters. */
export function adminNewsletterRoutes(deps: { newsletters: Newsletters; digests: DigestSchedules }): Router {
  const { newsletters, digests } = deps;
  const r = Router();
  const json = jsonBody('16kb', ['application/json']);

  r.get('/newsletters', async (_req, res) => {
    res.json({ newsletters: (await newsletters.list()).map((n) => digests.describe(n)) });
  });
  r.post('/newsletters', json, async (req, res) => {
    res.status(201).json(digests.describe(await newsletters.create(req.body)));
  });
  r.get(
    '/newsletters/:slug',
    async (req, res) => void res.json(digests.describe(await newsletters.get(req.params.slug))),
  );
  r.patch('/newsletters/:slug', json, async (req, res) => {
    res.json(digests.describe(await newsletters.update(req.params.slug, req.body)));
  });
  r.get('/newsletters/:slug/runs', async (req, res) => {
    res.json({ runs: await digests.runs(req.params.slug, req.query.limit) });
  });
  return r;
}
