import express, { type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { errorHandler, jsonError } from './errors';
import { requestLogging } from './request-context';
import { requireAdmin } from './admin-auth';

/** Options of `createApp`: routers come built from the container. */
export interface AppOptions {
  log: Logger;
  adminToken: string;
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
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'form-action': ["'self'"],
          'script-src': ["'self'"],
          'upgrade-insecure-requests': opts.https ? [] : null,
        },
      },
    }),
  );
  app.use(requestLogging(opts.log));
  app.use(opts.opsRouter);
  app.use('/api/admin', requireAdmin(opts.adminToken), ...opts.adminRouters);
  app.use(opts.webhookRouter);
  app.use(opts.publicRouter);
  app.use((_req, res) => jsonError(res, 404, 'not_found', 'No such path'));
  app.use(errorHandler());
  return app;
}
