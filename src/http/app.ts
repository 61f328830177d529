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
}

export function createApp(opts: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', opts.trustProxy);
  // Helmet's headers, with the strict page policy of content-security.ts.
  app.use(securityHeaders({ https: opts.https }));
  app.use(requestLogging(opts.log));
  app.use(opts.opsRouter);
  app.use('/api/admin', ...opts.adminGuard, ...opts.adminRouters);
  app.use(opts.sessionRouter);
  app.use(opts.consoleRouter);
  app.use(opts.webhookRouter);
  app.use(opts.publicRouter);
  app.use((_req, res) => jsonError(res, 404, 'not_found', 'No such path'));
  app.use(errorHandler());
  return app;
}
