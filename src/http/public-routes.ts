import express, { Router, type Request, type Response } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Campaigns } from '../domain/campaigns';
import { NotFoundError } from '../domain/errors';
import type { Subscriptions } from '../domain/subscriptions';
import { InvalidTokenError } from '../domain/signed-token';
import { contextOf } from './request-context';
import { jsonError, mapError, setRetryAfter } from './errors';
import * as pages from './pages';

const ASSETS = {
  'site.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(__dirname, 'assets', 'site.css')) },
  'signup.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(__dirname, 'assets', 'signup.js')) },
};

const BODY_LIMIT = '16kb';

/**
 * The web version is the mail's HTML: styles written inline and in <style> blocks, images from the news site.
 * It needs no script, form or frame, so it gets none.
 */
const WEB_VERSION_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  'img-src https: http: data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The visitor's side: signup page and API, confirmation, unsubscribe, the web versions of newsletters.
 * Handlers validate, call one use case, map the result.
 */
export function publicRoutes(deps: {
  subscriptions: Subscriptions;
  campaigns: Campaigns;
  page: pages.PageContext;
}): Router {
  const { subscriptions, campaigns, page } = deps;
  const r = Router();
  const json = express.json({ limit: BODY_LIMIT, type: ['application/json', 'application/*+json'] });
  const form = express.urlencoded({ limit: BODY_LIMIT, extended: false, parameterLimit: 20 });
  const html = (res: Response, status: number, body: string) =>
    res.status(status).type('html').setHeader('Cache-Control', 'no-store').send(body);

  const tokenFailure = (res: Response, err: unknown, title: string) => {
    if (!(err instanceof InvalidTokenError)) throw err;
    const message =
      err.code === 'expired_token' ? 'The link has expired. Please sign up again to get a new one.' : err.message;
    html(res, 400, pages.errorPage(page, title, message));
  };

  r.get('/assets/:name', (req, res) => {
    const a = ASSETS[req.params.name as keyof typeof ASSETS];
    if (!a) return void res.status(404).end();
    res.type(a.type).setHeader('Cache-Control', 'public, max-age=3600').send(a.body);
  });

  r.get('/', (_req, res) => html(res, 200, pages.signupPage(page)));
  r.get('/terms', (_req, res) => html(res, 200, pages.termsPage(page)));
  r.get('/thanks', (_req, res) => html(res, 200, pages.thanksPage(page)));

  r.get('/archive/:id', async (req, res) => {
    const id = /^[1-9]\d{0,14}$/.test(req.params.id) ? Number(req.params.id) : 0;
    try {
      if (!id) throw new NotFoundError();
      const body = await campaigns.webVersion(id);
      // Public and the same for everyone: caches may keep it a while.
      res.status(200).type('html').setHeader('Cache-Control', 'public, max-age=300');
      res.setHeader('Content-Security-Policy', WEB_VERSION_CSP).send(body);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      html(res, 404, pages.errorPage(page, 'No such newsletter', 'This newsletter does not exist or is not public.'));
    }
  });

  r.post('/api/subscriptions', json, form, async (req, res) => {
    const isForm = req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';
    if (!isForm && !req.is('application/json')) {
      const message = 'Send JSON (application/json) or a form (application/x-www-form-urlencoded).';
      return void jsonError(res, 415, 'unsupported_media_type', message);
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      await subscriptions.subscribe(body, contextOf(req));
    } catch (err) {
      if (!isForm) throw err;
      // Without JavaScript the visitor sees the form again, with what they typed and the reason.
      const m = mapError(err);
      if (m.status >= 500) throw err;
      setRetryAfter(res, err);
      return html(
        res,
        m.status,
        pages.signupPage(page, {
          error: m.message,
          email: str(body.email),
          name: str(body.name),
          source: str(body.source),
        }),
      );
    }
    if (isForm) return void res.redirect(303, '/thanks');
    res.status(202).json({ status: 'pending' });
  });

  r.get('/confirm', async (req, res) => {
    const token = str(req.query.token);
    try {
      await subscriptions.checkConfirmToken(token);
      html(res, 200, pages.confirmPage(page, token));
    } catch (err) {
      tokenFailure(res, err, 'This confirmation link is not valid');
    }
  });

  r.post('/confirm', form, async (req, res) => {
    const token = str((req.body as Record<string, unknown> | undefined)?.token) || str(req.query.token);
    try {
      const outcome = await subscriptions.confirm(token, contextOf(req));
      html(res, 200, pages.confirmedPage(page, outcome === 'already_confirmed'));
    } catch (err) {
      tokenFailure(res, err, 'This confirmation link is not valid');
    }
  });

  r.get('/unsubscribe', async (req, res) => {
    const token = str(req.query.token);
    try {
      const sub = await subscriptions.checkUnsubscribeToken(token);
      html(
        res,
        200,
        pages.unsubscribePage(page, token, !sub || sub.status === 'unsubscribed' || sub.status === 'bounced'),
      );
    } catch (err) {
      tokenFailure(res, err, 'This unsubscribe link is not valid');
    }
  });

  // RFC 8058: mail providers POST `List-Unsubscribe=One-Click` (form-encoded or multipart) to the header URL and
  // expect a 2xx, never a redirect. The token in the URL is all we need, so the body is read only to be drained.
  r.post('/unsubscribe', express.raw({ type: () => true, limit: BODY_LIMIT }), async (req, res) => {
    const token = str(req.query.token) || tokenFromForm(req);
    const oneClick = Buffer.isBuffer(req.body) && req.body.includes('List-Unsubscribe=One-Click');
    try {
      await subscriptions.unsubscribe(token, contextOf(req), oneClick ? 'one-click' : 'page');
      html(res, 200, pages.unsubscribedPage(page));
    } catch (err) {
      tokenFailure(res, err, 'This unsubscribe link is not valid');
    }
  });

  return r;
}

function tokenFromForm(req: Request): string {
  if (!Buffer.isBuffer(req.body) || !req.is('application/x-www-form-urlencoded')) return '';
  return new URLSearchParams(req.body.toString('utf8')).get('token') ?? '';
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
