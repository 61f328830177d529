import { Router, type Request, type Response } from 'express';
import type { Audit } from '../domain/audit';
import { normaliseEmail } from '../domain/email-address';
import { RateLimitedError } from '../domain/errors';
import { InvalidCredentialsError, Sessions, type ActiveSession } from '../domain/sessions';
import { callerOfSession, sameSite } from './admin-auth';
import { formBody, jsonBody } from './body-parsers';
import { readCookie } from './cookies';
import { jsonError, mapError, setRetryAfter } from './errors';
import { signInPage } from './console-pages';
import { contextOf } from './request-context';

/** Options of `sessionRoutes`. */
export interface SessionRoutesOptions {
  sessions: Sessions;
  audit: Audit;
  siteName: string;
  cookieName: string;
  /** Set the cookie's Secure attribute (PUBLIC_URL is https). */
  secure: boolean;
  /** Origin of PUBLIC_URL. */
  publicOrigin: string;
  /** The session's absolute lifetime: the cookie's Max-Age, so the browser drops it when the server would. */
  maxAgeMs: number;
}

/**
 * Signing in and out of the console (/admin/sign-in, /admin/sign-out, /admin/session). The session lives in Redis;
 * the cookie holds only its random id. These routes write their own audit entries (the sign-in outcome is known
 * only here), through the same Audit as the admin API's middleware.
 */
export function sessionRoutes(opts: SessionRoutesOptions): Router {
  const { sessions, audit } = opts;
  const r = Router();
  const body = [formBody('16kb'), jsonBody('16kb', ['application/json'])];
  const cookieOptions = { httpOnly: true, sameSite: 'strict' as const, secure: opts.secure, path: '/' };

  const current = async (req: Request): Promise<{ id: string; session: ActiveSession } | null> => {
    const id = readCookie(req, opts.cookieName);
    const session = id ? await sessions.resolve(id) : null;
    return id && session ? { id, session } : null;
  };
  const isForm = (req: Request) => req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';

  r.get('/admin/sign-in', (_req, res) => void sendPage(res, 200, signInPage(opts.siteName)));

  r.post('/admin/sign-in', ...body, async (req, res) => {
    const form = isForm(req);
    const fields = (req.body ?? {}) as { email?: unknown; password?: unknown };
    const login = typeof fields.email === 'string' ? fields.email.slice(0, 254) : '';
    const password = typeof fields.password === 'string' ? fields.password : '';
    // Login CSRF: another site must not sign a visitor in to an account of its choosing.
    if (!sameSite(req, opts.publicOrigin))
      return jsonError(res, 403, 'csrf_failed', 'The request did not come from this site.');
    const ip = contextOf(req).ip;
    try {
      const signedIn = await sessions.signIn(login, password, ip);
      res.cookie(opts.cookieName, signedIn.sessionId, { ...cookieOptions, maxAge: opts.maxAgeMs });
      const caller = callerOfSession(signedIn);
      void audit.record(caller.actor, 'session.sign_in', sessionObject(signedIn), { ip });
      if (form) return res.redirect(303, '/admin');
      res.json(sessionJson(signedIn));
    } catch (err) {
      const refused = err instanceof InvalidCredentialsError || err instanceof RateLimitedError;
      // Anything else is a fault, not an answer: the error handler logs it.
      if (!refused) throw err;
      // A rate-limited attempt is not recorded: a flood of them must not push real entries out of the capped log.
      if (err instanceof InvalidCredentialsError)
        void audit.record(
          { kind: 'operator', ...loginOf(login) },
          'session.sign_in_failed',
          { type: 'session' },
          { ip },
        );
      const mapped = mapError(err);
      setRetryAfter(res, err);
      if (form) return sendPage(res, mapped.status, signInPage(opts.siteName, { error: mapped.message, email: login }));
      jsonError(res, mapped.status, mapped.code, mapped.message);
    }
  });

  r.post('/admin/sign-out', formBody('16kb'), async (req, res) => {
    const found = await current(req);
    if (!found) return jsonError(res, 401, 'unauthorized', 'Not signed in.');
    const given = req.get('x-csrf-token') ?? (req.body as { _csrf?: unknown } | undefined)?._csrf;
    if (
      !sameSite(req, opts.publicOrigin) ||
      !Sessions.csrfMatches(found.session, typeof given === 'string' ? given : undefined)
    )
      return jsonError(
        res,
        403,
        'csrf_failed',
        'A valid CSRF token is required (X-CSRF-Token header or _csrf form field).',
      );
    await sessions.signOut(found.id);
    res.clearCookie(opts.cookieName, cookieOptions);
    void audit.record(callerOfSession(found.session).actor, 'session.sign_out', sessionObject(found.session), {
      ip: contextOf(req).ip,
    });
    if (isForm(req)) return res.redirect(303, '/admin/sign-in');
    res.status(204).end();
  });

  r.get('/admin/session', async (req, res) => {
    const found = await current(req);
    if (!found) return jsonError(res, 401, 'unauthorized', 'Not signed in.');
    res.setHeader('Cache-Control', 'no-store');
    res.json(sessionJson(found.session));
  });

  return r;
}

function sendPage(res: Response, status: number, html: string) {
  res.status(status).type('html').setHeader('Cache-Control', 'no-store');
  res.send(html);
}

function whoOf(s: ActiveSession) {
  return s.principal.kind === 'operator'
    ? { kind: 'operator' as const, ...s.principal.operator }
    : { kind: 'admin-token' as const, name: 'admin-token', role: 'admin' as const };
}

/** What the console's scripts need: who is signed in, their role, and the CSRF token to send with changes. */
function sessionJson(s: ActiveSession) {
  const who = whoOf(s);
  return {
    actor:
      who.kind === 'operator'
        ? { kind: who.kind, id: who.id, email: who.email, name: who.name }
        : { kind: who.kind, name: who.name },
    role: who.role,
    csrfToken: s.csrfToken,
  };
}

function sessionObject(s: ActiveSession) {
  return s.principal.kind === 'operator' ? { type: 'operator', id: s.principal.operator.id } : { type: 'admin-token' };
}

/** The login tried, kept only when it is an address: a password typed into the wrong field must not be logged. */
function loginOf(login: string): { email?: string } {
  try {
    return { email: normaliseEmail(login).toLowerCase() };
  } catch {
    return {};
  }
}
