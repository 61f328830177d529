// The console pages' one way to the JSON admin API: the session cookie goes along by itself (same origin), and every
// change carries the CSRF token the page was rendered with. Errors come back as the API's {error: {code, message}}.

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Calls /api/admin + path; `body` is sent as JSON. Resolves to the parsed JSON (null for 204). */
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') init.headers['x-csrf-token'] = csrf;
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/api/admin${path}`, init);
  if (res.status === 401) {
    // The session ended (signed out elsewhere, or idle too long): back to the sign-in page.
    location.assign('/admin/sign-in');
    throw new ApiError(401, 'unauthorized', 'Signed out');
  }
  const type = res.headers.get('content-type') ?? '';
  const data = res.status === 204 ? null : type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const err = data?.error ?? {};
    throw new ApiError(res.status, err.code ?? 'error', err.message ?? `HTTP ${res.status}`, err.details);
  }
  return data;
}

/** Shows a message in the page's live region (read out by screen readers). */
export function say(text, kind = 'ok') {
  const el = document.getElementById('status');
  if (!el) return;
  el.textContent = text;
  el.className = `status ${kind}`;
}

/** Runs an action, showing its error (if any) in the live region instead of failing silently. */
export async function attempt(action) {
  try {
    return await action();
  } catch (e) {
    say(e instanceof ApiError ? `${e.message}` : `Something went wrong: ${e.message}`, 'error');
    return undefined;
  }
}

/** A number as people read it: 12,345. */
export const count = (n) => Number(n ?? 0).toLocaleString('en-US');

/** An element with attributes and children (strings become text, never HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  return el;
}
