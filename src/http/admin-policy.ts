import type { Role } from '../domain/operator';

/** What the audit log records for a route: a stable action name and the object acted on. */
export interface AuditSpec {
  action: string;
  type: string;
  /** The route parameter that names the object; without it, the `id` (or `slug`) of the JSON answer. */
  param?: string;
  /** The parameter is a person's address: record only its hash (an erased person must not live on in the log). */
  redact?: boolean;
  /** Fields of the request body worth keeping with the entry (never secrets). */
  detail?: string[];
}

/** One admin API route: the least role that may call it, and how a success is recorded when it changes state. */
export interface RoutePolicy {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to /api/admin; `:name` matches one path segment. */
  path: string;
  role: Role;
  audit?: AuditSpec;
}

const editor = (method: RoutePolicy['method'], path: string, audit: AuditSpec): RoutePolicy => ({
  method,
  path,
  role: 'editor',
  audit,
});
const admin = (method: RoutePolicy['method'], path: string, audit?: AuditSpec): RoutePolicy => ({
  method,
  path,
  role: 'admin',
  audit,
});
const campaign = (method: RoutePolicy['method'], path: string, action: string) =>
  editor(method, `/campaigns/:id${path}`, { action: `campaign.${action}`, type: 'campaign', param: 'id' });

/**
 * Who may do what on the admin API, in one table: the least role of each route, and the audit entry its success
 * writes. Reads (GET) not listed here are open to viewers; any other method not listed needs an admin, so a route
 * added without a line here is closed rather than open. Editors compose and send; admins also erase people and
 * manage operators.
 */
export const ADMIN_ROUTES: RoutePolicy[] = [
  editor('POST', '/articles', { action: 'article.create', type: 'article' }),
  editor('POST', '/subscribers/import', { action: 'subscriber.import', type: 'import' }),
  admin('DELETE', '/subscribers/:email', {
    action: 'subscriber.erase',
    type: 'subscriber',
    param: 'email',
    redact: true,
  }),
  editor('POST', '/campaigns', { action: 'campaign.create', type: 'campaign' }),
  campaign('PATCH', '', 'update'),
  campaign('DELETE', '', 'delete'),
  campaign('POST', '/test', 'test'),
  campaign('POST', '/send', 'send'),
  campaign('POST', '/schedule', 'schedule'),
  campaign('DELETE', '/schedule', 'unschedule'),
  campaign('POST', '/pause', 'pause'),
  campaign('POST', '/resume', 'resume'),
  campaign('POST', '/cancel', 'cancel'),
  editor('POST', '/newsletters', { action: 'newsletter.create', type: 'newsletter' }),
  editor('PATCH', '/newsletters/:slug', { action: 'newsletter.update', type: 'newsletter', param: 'slug' }),
  // Every operator, whatever the role, manages their own API tokens (a viewer's token reads only).
  {
    method: 'POST',
    path: '/operators/me/tokens',
    role: 'viewer',
    audit: { action: 'token.create', type: 'token', detail: ['name'] },
  },
  {
    method: 'DELETE',
    path: '/operators/me/tokens/:id',
    role: 'viewer',
    audit: { action: 'token.revoke', type: 'token', param: 'id' },
  },
  { method: 'GET', path: '/operators/me/tokens', role: 'viewer' },
  admin('GET', '/operators'),
  admin('POST', '/operators', { action: 'operator.create', type: 'operator', detail: ['role'] }),
  admin('PUT', '/operators/:id/role', { action: 'operator.set_role', type: 'operator', param: 'id', detail: ['role'] }),
  admin('POST', '/operators/:id/disable', { action: 'operator.disable', type: 'operator', param: 'id' }),
  admin('POST', '/operators/:id/enable', { action: 'operator.enable', type: 'operator', param: 'id' }),
];

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a method changes nothing (RFC 9110 safe methods): no CSRF token, no audit entry. */
export function isSafeMethod(method: string): boolean {
  return SAFE.has(method);
}

/** The policy of a request (HEAD is judged as GET), with the route parameters it matched. */
export function policyFor(method: string, path: string): { policy: RoutePolicy; params: Record<string, string> } {
  const m = method === 'HEAD' ? 'GET' : method;
  const segments = path.split('/').filter(Boolean);
  for (const policy of ADMIN_ROUTES) {
    if (policy.method !== m) continue;
    const params = match(policy.path, segments);
    if (params) return { policy, params };
  }
  const fallback: RoutePolicy = isSafeMethod(m)
    ? { method: 'GET', path, role: 'viewer' }
    : { method: m as RoutePolicy['method'], path, role: 'admin', audit: { action: 'admin.request', type: 'path' } };
  return { policy: fallback, params: {} };
}

function match(pattern: string, segments: string[]): Record<string, string> | null {
  const parts = pattern.split('/').filter(Boolean);
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].startsWith(':')) {
      try {
        params[parts[i].slice(1)] = decodeURIComponent(segments[i]);
      } catch {
        return null;
      }
    } else if (parts[i] !== segments[i]) return null;
  }
  return params;
}
