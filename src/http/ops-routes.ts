import { Router } from 'express';
import { withTimeout } from '../lib/timeout';

/** Options of `opsRoutes`. */
export interface OpsRoutesDeps {
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<unknown>;
  /** False until start-up finished (Redis reached, checked, data prepared), and while the store is away. */
  ready?(): boolean;
  /** The Prometheus exposition, gauges refreshed. */
  metrics(): Promise<{ contentType: string; body: string }>;
}

/** Liveness, readiness and Prometheus metrics. */
export function opsRoutes(deps: OpsRoutesDeps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  r.get('/readyz', async (_req, res) => {
    if (deps.ready && !deps.ready()) {
      res.status(503).json({ error: { code: 'not_ready', message: 'Redis does not answer, or start-up is not done' } });
      return;
    }
    try {
      await withTimeout(deps.ping(), 1000);
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ error: { code: 'not_ready', message: 'Redis does not answer' } });
    }
  });
  r.get('/metrics', async (_req, res) => {
    const { contentType, body } = await deps.metrics();
    res.type(contentType).send(body);
  });
  return r;
}
