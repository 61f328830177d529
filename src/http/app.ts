import express, { type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import { securityHeaders } from './content-security';
import { errorHandler, jsonError } from './errors';
import { requestLogging } from './request-context';

/** Options of `createApp`: routers come built from the container. */
export interface AppOptions {
  log: Logger;
  /** Who may call /api/admin and what they may do there (admin-auth.ts): identify, CSRF, role, audit. */
  adminGuard: RequestHandler[];
  /** The console's sign-in, sign-out and session routes under /admin. */
  sessionRouter: Router;
  /** The operator console's pages and assets under /admin (signing in is the session router's). */
  consoleRouter: Router;
  trustProxy: number;
  /** Only an https site may tell browsers to upgrade requests; on http://localhost that would break the form. */
  https: boolean;
  publicRouter: Router;
  opsRouter: Router;
  adminRouters: Router[];
  /** The providers' bounce and complaint webhooks: they read their bodies raw, so no parser may run before them. */
  webhookRouter: Router;
  /**
   * False while the data store (Redis) is away: every route but the ops routes answers 503 redis_unavailable at
   * once instead of waiting on it. Default: always available.
   */
  storeAvailable?: () => boolean;
}

export function createApp(opts: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', opts.trustProxy);
  // Helmet's headers, with the strict page policy of content-security.ts.
  app.use(securityHeaders({ https: opts.https }));
  app.use(requestLogging(opts.log));
  app.use(opts.opsRouter);
  if (opts.storeAvailable) app.use(storeGate(opts.storeAvailable));
  // The visitors' routes first: they carry the traffic (signups, confirmations, unsubscribes), and none of their paths
  // is another router's (/admin, /api/admin, /api/webhooks), so a signup does not walk the console's routes.
  app.use(opts.publicRouter);
  app.use('/api/admin', ...opts.adminGuard, ...opts.adminRouters);
  app.use(opts.sessionRouter);
  app.use(opts.consoleRouter);
  app.use(opts.webhookRouter);
  app.use((_req, res) => jsonError(res, 404, 'not_found', 'No such path'));
  app.use(errorHandler());
  return app;
}

/** Answers 503 at once while the store is away: nothing here works without it, and a client should retry. */
function storeGate(available: () => boolean): RequestHandler {
  return (_req, res, next) => {
    if (available()) return next();
    res.set('Retry-After', '5');
    jsonError(res, 503, 'redis_unavailable', 'The service cannot reach its data store (Redis); try again shortly');
  };
}

/** Only /healthz, /readyz and /metrics: what a worker process serves on its own port (WORKER_PORT). */
export function createOpsApp(opts: { log: Logger; opsRouter: Router }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(opts.opsRouter);
  app.use((_req, res) => jsonError(res, 404, 'not_found', 'No such path'));
  app.use(errorHandler());
  return app;
}
