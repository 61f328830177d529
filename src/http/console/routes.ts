import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Role } from '../../domain/operator';
import { roleAtLeast } from '../../domain/operator';
import type { ActiveSession, Sessions } from '../../domain/sessions';
import { readCookie } from '../cookies';
import { consolePage, type ConsolePage, type ConsoleViewer } from './layout';

/** What every console page handler gets: who is looking, and how to answer with a page in the console's frame. */
export interface ConsoleRequestContext {
  viewer: ConsoleViewer;
  session: ActiveSession;
}

declare module 'express-serve-static-core' {
  interface Locals {
    console?: ConsoleRequestContext;
  }
}

/** Options of `consoleRoutes`. */
export interface ConsoleRoutesOptions {
  sessions: Sessions;
  cookieName: string;
  siteName: string;
  /** The sections' page routes, each given the router to add its GET pages to (behind the session check). */
  sections: ((r: Router) => void)[];
}

/** The console's own files, read once at start: small, and served with the CSP's script-src 'self'. */
const ASSET_DIR = join(__dirname, 'assets');
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const ASSETS = new Map<string, { type: string; body: Buffer }>();
// The scripts of the newsletters, compose, audience and operators pages are listed here with the frame's own files.
for (const name of ['api.js', 'console.css', 'newsletter-form.js', 'compose.js', 'person.js', 'operators.js'])
  ASSETS.set(name, { type: TYPES[name.slice(name.lastIndexOf('.'))], body: readFileSync(join(ASSET_DIR, name)) });

/** Adds a file to the console's assets (a section's script, a chart library from node_modules). */
export function addConsoleAsset(name: string, path: string): void {
  ASSETS.set(name, {
    type: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream',
    body: readFileSync(path),
  });
}

/**
 * The console at /admin: server-rendered pages behind the session cookie (signing in is in session-routes.ts), each
 * with a little script from /admin/assets that talks to the JSON admin API with the session and its CSRF token. A
 * request without a session is sent to the sign-in page. Pages only read; every change goes through /api/admin,
 * where the role table and the audit log apply to the console as to any other caller.
 */
export function consoleRoutes(opts: ConsoleRoutesOptions): Router {
  const r = Router();
  r.get('/admin/assets/:name', (req, res) => {
    const asset = ASSETS.get(req.params.name);
    if (!asset) return void res.status(404).end();
    res.type(asset.type).setHeader('Cache-Control', 'no-cache').send(asset.body);
  });

  const pages = Router();
  pages.use(async (req: Request, res: Response, next: NextFunction) => {
    // Only the console's own paths are gated: this router sits before the public and webhook routes, and a gate on
    // every path sent a visitor's POST /api/subscriptions to the sign-in page.
    if (req.path !== '/admin' && !req.path.startsWith('/admin/')) return next('router');
    const id = readCookie(req, opts.cookieName);
    const session = id ? await opts.sessions.resolve(id) : null;
    if (!session) return res.redirect(303, '/admin/sign-in');
    res.locals.console = { viewer: viewerOf(session), session };
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  for (const section of opts.sections) section(pages);
  r.use(pages);
  return r;
}

/** Sends a page in the console's frame. */
export function sendConsolePage(res: Response, siteName: string, page: ConsolePage, status = 200): void {
  const ctx = res.locals.console;
  if (!ctx) throw new Error('sendConsolePage outside the console router');
  res
    .status(status)
    .type('html')
    .send(consolePage(siteName, ctx.viewer, page));
}

/** True when the viewer's role reaches `least`; otherwise answers a 403 page naming the role needed. */
export function allowPage(res: Response, siteName: string, least: Role): boolean {
  const ctx = res.locals.console;
  if (ctx && roleAtLeast(ctx.viewer.role, least)) return true;
  sendConsolePage(
    res,
    siteName,
    {
      title: 'Not allowed',
      section: 'dashboard',
      body: `<p>This page needs the ${least} role; you are signed in as ${ctx?.viewer.role ?? 'nobody'}.</p>`,
    },
    403,
  );
  return false;
}

function viewerOf(s: ActiveSession): ConsoleViewer {
  return s.principal.kind === 'operator'
    ? {
        name: s.principal.operator.name || s.principal.operator.email,
        role: s.principal.operator.role,
        csrfToken: s.csrfToken,
      }
    : { name: 'admin-token', role: 'admin', csrfToken: s.csrfToken };
}
