import express, { Router, type Request, type Response } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Campaigns } from '../domain/campaigns';
import { NotFoundError, ValidationError } from '../domain/errors';
import type { Newsletters } from '../domain/newsletters';
import type { Preferences } from '../domain/preferences';
import type { Subscriptions } from '../domain/subscriptions';
import { InvalidTokenError } from '../domain/signed-token';
import { formBody, jsonBody } from './body-parsers';
import { contextOf } from './request-context';
import { newsletterPagePolicy } from './content-security';
import { jsonError, mapError, setRetryAfter } from './errors';
import * as pages from './pages';

const ASSETS = {
  'site.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(__dirname, 'assets', 'site.css')) },
  'signup.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(__dirname, 'assets', 'signup.js')) },
};

const BODY_LIMIT = '16kb';

/**
 * The visitor's side: signup page and API, confirmation, unsubscribe, the web versions of newsletters.
 * Handlers validate, call one use case, map the result.
 */
export function publicRoutes(deps: {
  subscriptions: Subscriptions;
  preferences: Preferences;
  newsletters: Pick<Newsletters, 'listPublic' | 'defaultSlug'>;
  campaigns: Campaigns;
  page: pages.PageContext;
}): Router {
  const { subscriptions, preferences, newsletters, campaigns, page } = deps;
  const r = Router();
  const json = jsonBody(BODY_LIMIT);
  const form = formBody(BODY_LIMIT, 80);
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

  /** The public newsletters as the pages offer them. */
  const offered = async (): Promise<pages.OfferedNewsletter[]> =>
    (await newsletters.listPublic()).map(({ slug, name, description }) => ({ slug, name, description }));

  // `?newsletter=slug` (a link from a page about one newsletter) ticks that one instead of the default.
  r.get('/', async (req, res) => {
    const choice = await offered();
    const wanted = str(req.query.newsletter);
    const ticked = choice.some((n) => n.slug === wanted) ? [wanted] : [newsletters.defaultSlug];
    html(res, 200, pages.signupPage(page, { ticked }, choice));
  });
  r.get('/terms', (_req, res) => html(res, 200, pages.termsPage(page)));
  // Names what was chosen: only public newsletters are named, so the query can reveal nothing else.
  r.get('/thanks', async (req, res) => {
    const chosen = strings(req.query.newsletters);
    const names = (await offered()).filter((n) => chosen.includes(n.slug)).map((n) => n.name);
    html(res, 200, pages.thanksPage(page, names));
  });

  r.get('/archive/:id', async (req, res) => {
    const id = /^[1-9]\d{0,14}$/.test(req.params.id) ? Number(req.params.id) : 0;
    try {
      if (!id) throw new NotFoundError();
      const body = await campaigns.webVersion(id);
      // Public and the same for everyone: caches may keep it a while.
      res.status(200).type('html').setHeader('Cache-Control', 'public, max-age=300');
      // The mail's HTML: its own styles by hash, no script, form or frame (see newsletterPagePolicy).
      res.setHeader('Content-Security-Policy', newsletterPagePolicy(body, "'none'")).send(body);
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
        pages.signupPage(
          page,
          {
            error: m.message,
            email: str(body.email),
            name: str(body.name),
            source: str(body.source),
            ticked: strings(body.newsletters),
          },
          await offered(),
        ),
      );
    }
    if (isForm) {
      const thanks = new URLSearchParams(strings(body.newsletters).map((slug) => ['newsletters', slug]));
      return void res.redirect(303, `/thanks${thanks.size ? `?${thanks}` : ''}`);
    }
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
      html(res, 200, pages.unsubscribePage(page, token, await subscriptions.checkUnsubscribeToken(token)));
    } catch (err) {
      tokenFailure(res, err, 'This unsubscribe link is not valid');
    }
  });

  // RFC 8058: mail providers POST `List-Unsubscribe=One-Click` (form-encoded or multipart) to the header URL and
  // expect a 2xx, never a redirect. The token in the URL is all we need, so the body is read only to be drained,
  // except for our own page's `scope=everything` (its "unsubscribe from everything" button).
  r.post('/unsubscribe', express.raw({ type: () => true, limit: BODY_LIMIT }), async (req, res) => {
    const token = str(req.query.token) || formField(req, 'token');
    const oneClick = isOneClick(req);
    const everything = !oneClick && formField(req, 'scope') === 'everything';
    try {
      const done = await subscriptions.unsubscribe(token, contextOf(req), oneClick ? 'one-click' : 'page', everything);
      html(
        res,
        200,
        done.left === 'newsletter'
          ? pages.leftNewsletterPage(page, done.newsletter.name, done.preferencesUrl)
          : pages.unsubscribedPage(page),
      );
    } catch (err) {
      tokenFailure(res, err, 'This unsubscribe link is not valid');
    }
  });

  r.get('/preferences', async (req, res) => {
    const token = str(req.query.token);
    try {
      const notice = req.query.saved === '1' ? { kind: 'ok' as const, text: 'Your choices are saved.' } : undefined;
      html(res, 200, await preferencesPage(token, notice));
    } catch (err) {
      tokenFailure(res, err, 'This link is not valid');
    }
  });

  // A Save, or "Unsubscribe from everything" (`action=unsubscribe-all`). A Save answers with a redirect to the page
  // (so reloading it does not post again) showing the choices as now stored.
  r.post('/preferences', form, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = str(body.token) || str(req.query.token);
    try {
      if (body.action === 'unsubscribe-all') {
        await preferences.unsubscribeAll(token, contextOf(req));
        return html(res, 200, pages.unsubscribedPage(page));
      }
      const saved = await preferences.save(token, body.newsletters, contextOf(req));
      if (saved.outcome === 'unsubscribed') return html(res, 200, pages.unsubscribedPage(page));
      if (saved.outcome === 'not_subscribed') return html(res, 200, pages.notSubscribedPage(page));
      res.redirect(303, `/preferences?token=${encodeURIComponent(token)}&saved=1`);
    } catch (err) {
      if (!(err instanceof ValidationError)) return tokenFailure(res, err, 'This link is not valid');
      html(res, 422, await preferencesPage(token, { kind: 'error', text: err.message }));
    }
  });

  /** The preference page for a token, or the "not subscribed" page; throws InvalidTokenError. */
  async function preferencesPage(token: string, notice?: pages.PreferencesPageState['notice']): Promise<string> {
    const view = await preferences.view(token);
    if (view.state !== 'reader') return pages.notSubscribedPage(page);
    return pages.preferencesPage(page, { token, email: view.subscriber.email, choices: view.choices, notice });
  }

  return r;
}

/** The RFC 8058 body, form-encoded (`List-Unsubscribe=One-Click`) or multipart (a part named List-Unsubscribe). */
function isOneClick(req: Request): boolean {
  if (!Buffer.isBuffer(req.body)) return false;
  const body = req.body.toString('latin1');
  return body.includes('List-Unsubscribe=One-Click') || MULTIPART_ONE_CLICK.test(body);
}
const MULTIPART_ONE_CLICK = /name="?List-Unsubscribe"?[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click\r?\n/i;

/** A field of a form-encoded body read raw (the unsubscribe route takes any body, as RFC 8058 senders vary). */
function formField(req: Request, name: string): string {
  if (!Buffer.isBuffer(req.body) || !req.is('application/x-www-form-urlencoded')) return '';
  return new URLSearchParams(req.body.toString('utf8')).get(name) ?? '';
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A form's repeated field (one value or several), empty values left out. */
function strings(v: unknown): string[] {
  return (Array.isArray(v) ? v : [v]).filter((s): s is string => typeof s === 'string' && s !== '');
}
