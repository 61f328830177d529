import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Metrics } from '../metrics';

/** Liveness, readiness and Prometheus metrics. */
export function opsRoutes(deps: { redis: Redis; metrics: Metrics; refreshGauges: () => Promise<void> }): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  r.get('/readyz', async (_req, res) => {
    try {
      await Promise.race([deps.redis.ping(), new Promise((_, no) => setTimeout(() => no(new Error('timeout')), 1000))]);
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ error: { code: 'not_ready', message: 'Redis does not answer' } });
    }
  });
  r.get('/metrics', async (_req, res) => {
    await deps.refreshGauges().catch(() => undefined);
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return r;
}
