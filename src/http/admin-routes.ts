import { Router } from 'express';
import type { Subscriptions } from '../domain/subscriptions';

/** Operator API under /api/admin (the bearer guard sits in front, in app.ts). */
export function adminSubscriberRoutes(deps: { subscriptions: Subscriptions }): Router {
  const r = Router();
  r.get('/subscribers/:email', async (req, res) => {
    res.json(await deps.subscriptions.export(req.params.email));
  });
  r.delete('/subscribers/:email', async (req, res) => {
    await deps.subscriptions.erase(req.params.email);
    res.status(204).end();
  });
  return r;
}
