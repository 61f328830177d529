import express, { Router } from 'express';
import type { Newsletters } from '../domain/newsletters';

/** Operator newsletter API under /api/admin/newsletters. */
export function adminNewsletterRoutes(deps: { newsletters: Newsletters }): Router {
  const { newsletters } = deps;
  const r = Router();
  const json = express.json({ limit: '16kb' });

  r.get('/newsletters', async (_req, res) => void res.json({ newsletters: await newsletters.list() }));
  r.post('/newsletters', json, async (req, res) => void res.status(201).json(await newsletters.create(req.body)));
  r.get('/newsletters/:slug', async (req, res) => void res.json(await newsletters.get(req.params.slug)));
  r.patch(
    '/newsletters/:slug',
    json,
    async (req, res) => void res.json(await newsletters.update(req.params.slug, req.body)),
  );
  return r;
}
