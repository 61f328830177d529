import { Router } from 'express';

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
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise((_, no) => (timer = setTimeout(() => no(new Error('timeout')), 1000)));
      await Promise.race([deps.ping(), late]);
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ error: { code: 'not_ready', message: 'Redis does not answer' } });
    } finally {
      // A timer left running would hold a stopping process (and a test's worker) up to a second after its answer.
      clearTimeout(timer);
    }
  });
  r.get('/metrics', async (_req, res) => {
    const { contentType, body } = await deps.metrics();
    res.type(contentType).send(body);
  });
  return r;
}
