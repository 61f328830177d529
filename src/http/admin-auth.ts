import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { redactedAddress, type Audit, type AuditActor } from '../domain/audit';
import { roleAtLeast, type Operator, type Role } from '../domain/operator';
import type { Operators } from '../domain/operators';
import type { AuthFailureLimits } from '../domain/ports/rate-limits';
import { Sessions, type ActiveSession, type Principal } from '../domain/sessions';
import { formBody } from './body-parsers';
import { readCookie } from './cookies';
import { jsonError } from './errors';
import { isSafeMethod, policyFor, type AuditSpec } from './admin-policy';
import { contextOf } from './request-context';

/** Who is calling, resolved once per request by `identify`. */
export interface Caller {
  actor: AuditActor;
  role: Role;
  /** How the caller proved who they are: only a cookie (an ambient credential) needs a CSRF token. */
  via: 'admin-token' | 'api-token' | 'session';
  /** Present for operators (by session or their token); absent for the ADMIN_TOKEN. */
  operator?: Operator;
  session?: ActiveSession;
}

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

/** What the guards need; built once by the composition root. */
export interface AdminAccessOptions {
  adminToken: string;
  operators: Operators;
  sessions: Sessions;
  audit: Audit;
  /** Name of the session cookie (see `sessionCookieName`). */
  cookieName: string;
  /** Origin of PUBLIC_URL: a cookie-authenticated change must come from a page of this site. */
  publicOrigin: string;
  /** Failed bearer tokens per client IP (ADMIN_AUTH_FAILURES_PER_IP): past the limit the IP is locked out. */
  failures: AuthFailureLimits;
}

/** `__Host-` under https: the browser then insists on Secure, Path=/ and no Domain, so no sibling host can set it. */
export function sessionCookieName(https: boolean): string {
  return https ? '__Host-nl_session' : 'nl_session';
}

/** The caller a session speaks for. */
export function callerOfSession(session: ActiveSession): Caller {
  return { ...callerOf(session.principal, 'session'), session };
}

function callerOf(principal: Principal, via: Caller['via']): Caller {
  if (principal.kind === 'admin-token') return { actor: { kind: 'admin-token' }, role: 'admin', via };
  const { operator } = principal;
  return {
    actor: {
      kind: 'operator',
      id: operator.id,
      email: operator.email,
      via: via === 'session' ? 'session' : 'api-token',
    },
    role: operator.role,
    via,
    operator,
  };
}

/**
 * Who is calling: `Authorization: Bearer` with the ADMIN_TOKEN (an admin named "admin-token") or an operator's API
 * token, else the session cookie. A bearer header that does not check out is refused even with a cookie: a script
 * with a revoked token should learn so, not ride on a browser's session.
 *
 * Tokens cannot be guessed at leisure: each refused bearer header counts against the client's IP, and an IP past
 * its limit gets 429 for every bearer request, the right token included, until its window ends (answering the right
 * token would tell a guesser it had found it). Cookies are not counted: session ids are not guessable, and a
 * stale cookie of an editor's browser must not lock out the office.
 */
export function identify(opts: AdminAccessOptions): RequestHandler {
  const expected = sha256(opts.adminToken);
  return async (req, res, next) => {
    const auth = req.get('authorization');
    if (auth !== undefined) {
      const { ip } = contextOf(req);
      const wait = await opts.failures.lockedFor(ip);
      if (wait > 0) return lockedOut(res, wait);
      const m = /^Bearer (.{1,1024})$/.exec(auth);
      if (m && timingSafeEqual(sha256(m[1]), expected)) {
        req.caller = callerOf({ kind: 'admin-token' }, 'admin-token');
        return next();
      }
      const found = m ? await opts.operators.byToken(m[1]) : null;
      if (found) {
        req.caller = callerOf({ kind: 'operator', operator: found.operator }, 'api-token');
        return next();
      }
      const lockout = await opts.failures.fail(ip);
      if (lockout > 0) {
        req.log.warn(
          { event: 'admin.auth.locked_out', ip, retryAfterSeconds: lockout },
          'too many refused admin tokens from one address: locked out',
        );
        void opts.audit.record(
          { kind: 'anonymous' },
          'admin_auth.locked_out',
          { type: 'ip', id: ip },
          { ip, detail: { path: req.originalUrl.split('?')[0].slice(0, 100), seconds: lockout } },
        );
      }
      return unauthorized(res);
    }
    const sessionId = readCookie(req, opts.cookieName);
    const session = sessionId ? await opts.sessions.resolve(sessionId) : null;
    if (!session) return unauthorized(res);
    req.caller = callerOfSession(session);
    next();
  };
}

function lockedOut(res: Response, seconds: number) {
  res.setHeader('Retry-After', String(seconds));
  jsonError(res, 429, 'rate_limited', `Too many refused tokens from this address; try again in ${seconds} seconds.`, {
    retryAfterSeconds: seconds,
  });
}

function unauthorized(res: Response) {
  res.setHeader('WWW-Authenticate', 'Bearer realm="admin"');
  jsonError(
    res,
    401,
    'unauthorized',
    'Sign in, or send Authorization: Bearer <token> (an operator API token or the ADMIN_TOKEN).',
  );
}

const csrfFormBody = formBody('16kb');

/**
 * CSRF defence for cookie-authenticated changes: the browser must say the request comes from this site (Origin,
 * Sec-Fetch-Site, when it sends them), and the request must carry the session's synchronizer token, as the
 * `X-CSRF-Token` header or a `_csrf` form field. Bearer requests carry no ambient credential and need neither.
 */
export function requireCsrf(opts: Pick<AdminAccessOptions, 'publicOrigin'>): RequestHandler {
  return (req, res, next) => {
    const caller = req.caller;
    if (!caller?.session || isSafeMethod(req.method)) return next();
    if (!sameSite(req, opts.publicOrigin)) return csrfFailed(res, 'The request did not come from this site.');
    const check = () => {
      const given = req.get('x-csrf-token') ?? (req.body as { _csrf?: unknown } | undefined)?._csrf;
      if (!Sessions.csrfMatches(caller.session!, typeof given === 'string' ? given : undefined))
        return csrfFailed(res, 'A valid CSRF token is required (X-CSRF-Token header or _csrf form field).');
      next();
    };
    // A form post carries the token in its body: read it here (later parsers see it parsed and skip it).
    if (!req.get('x-csrf-token') && req.is('application/x-www-form-urlencoded'))
      return csrfFormBody(req, res, (err?: unknown) => (err ? next(err) : check()));
    check();
  };
}

/** Origin and Sec-Fetch-Site, where the browser sends them, must name this site. */
export function sameSite(req: Request, publicOrigin: string): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.get('origin');
  if (origin === undefined) return true;
  // Helmet's Referrer-Policy: no-referrer makes a browser send "Origin: null" with a form post (sign-in, sign-out).
  // Sec-Fetch-Site is set by the browser alone (no page can forge it), so with it saying same-origin that is us.
  if (origin === 'null' && site === 'same-origin') return true;
  return origin === publicOrigin || origin === `${req.protocol}://${req.get('host')}`;
}

function csrfFailed(res: Response, message: string) {
  jsonError(res, 403, 'csrf_failed', message);
}

/** The route table's verdict: 403 `forbidden`, naming the role needed, when the caller's role is below it. */
export function authorize(): RequestHandler {
  return (req, res, next) => {
    const caller = req.caller!;
    const { policy } = policyFor(req.method, req.path);
    if (!roleAtLeast(caller.role, policy.role))
      return jsonError(
        res,
        403,
        'forbidden',
        `This needs the ${policy.role} role; ${describe(caller)} has the ${caller.role} role.`,
        { needed: policy.role, role: caller.role },
      );
    next();
  };
}

function describe(c: Caller): string {
  return c.operator ? c.operator.email : 'this caller';
}

/**
 * Writes the audit entry of every successful change made through the admin API, as its answer ends: the one
 * place the API records, with the action and object the route table names. Failed requests change nothing and
 * are not recorded.
 */
export function auditTrail(audit: Audit): RequestHandler {
  return (req, res, next) => {
    if (isSafeMethod(req.method)) return next();
    const { policy, params } = policyFor(req.method, req.path);
    const spec = policy.audit;
    if (!spec) return next();
    const caller = req.caller!;
    // The answer's id names what a create made; keep a reference to the body as it is sent.
    let answer: unknown;
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      answer = body;
      return json(body);
    };
    // Recorded when the route ends its answer with a success status, whether or not the client is still there to
    // read it (a client that hung up after asking for a send still sent it). The body was parsed by the route.
    let recorded = false;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.end = ((...args: unknown[]) => {
      if (!recorded && res.statusCode < 400) {
        recorded = true;
        void audit.record(caller.actor, spec.action, objectOf(spec, params, answer, req), {
          ip: contextOf(req).ip,
          detail: detailOf(spec, req.body),
        });
      }
      return end(...args);
    }) as Response['end'];
    next();
  };
}

function objectOf(spec: AuditSpec, params: Record<string, string>, answer: unknown, req: Request) {
  if (spec.type === 'path') return { type: 'path', id: `${req.method} ${req.path}` };
  if (spec.param) {
    const value = params[spec.param];
    return { type: spec.type, id: spec.redact ? redactedAddress(value) : value };
  }
  const a = answer as { id?: unknown; slug?: unknown } | undefined;
  const id = a?.id ?? a?.slug;
  return { type: spec.type, ...(typeof id === 'string' || typeof id === 'number' ? { id: String(id) } : {}) };
}

function detailOf(spec: AuditSpec, body: unknown): Record<string, string> | undefined {
  if (!spec.detail || !body || typeof body !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const field of spec.detail) {
    const v = (body as Record<string, unknown>)[field];
    if (typeof v === 'string') out[field] = v.slice(0, 100);
  }
  return out;
}

/** The guards of /api/admin, in order: who (401), from where and with which token (CSRF), may they (403), record. */
export function adminAccess(opts: AdminAccessOptions): RequestHandler[] {
  return [identify(opts), requireCsrf(opts), authorize(), auditTrail(opts.audit)];
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
