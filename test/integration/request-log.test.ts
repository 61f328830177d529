import pino from 'pino';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The request log, read as an operator's log shipper reads it: the service's own pino lines, captured from a real
 * app answering real requests.
 */
interface Line {
  level: number;
  msg: string;
  event?: string;
  requestId?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
  ms?: number;
  [k: string]: unknown;
}

const raw: string[] = [];
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({
    workers: false,
    env: { ADMIN_AUTH_FAILURES_PER_IP: '1', TRUST_PROXY: '1' },
    logger: () => pino({ level: 'info' }, { write: (s: string) => void raw.push(s) }),
  });
});
afterAll(async () => {
  await app?.stop();
});

const lines = (): Line[] => raw.map((s) => JSON.parse(s) as Line);

/** The request line of the answer `res` (found by the id the answer carries); waits a moment for it. */
async function requestLineOf(res: Response): Promise<Line> {
  const id = res.headers.get('x-request-id');
  expect(id).toBeTruthy();
  for (let i = 0; i < 100; i++) {
    const found = lines().filter((l) => l.event === 'http.request' && l.requestId === id);
    if (found.length) {
      expect(found).toHaveLength(1);
      return found[0];
    }
    await new Promise((ok) => setTimeout(ok, 20));
  }
  throw new Error(`no request line for ${id}`);
}

test('a request to a mounted router is logged with its full path, method, status, duration and request id', async () => {
  const body = `${JSON.stringify({ email: 'logged@example.com', consentAt: '2024-05-01T09:30:00Z', consentSource: 'x' })}\n`;
  const res = await fetch(`${app.base}/api/admin/subscribers/import`, {
    method: 'POST',
    headers: { ...app.adminHeaders, 'content-type': 'application/x-ndjson' },
    body,
  });
  expect(res.status).toBe(200);
  const line = await requestLineOf(res);
  expect(line).toMatchObject({
    msg: 'request',
    level: 30,
    req: { method: 'POST', url: '/api/admin/subscribers/import' },
    res: { statusCode: 200 },
  });
  expect(typeof line.ms).toBe('number');
  expect(line.ms).toBeGreaterThanOrEqual(0);
  // Every line is a flat record of these fields: no request or response headers ride along.
  expect(Object.keys(line.req!).sort()).toEqual(['method', 'url']);
  expect(Object.keys(line.res!)).toEqual(['statusCode']);
});

test('tokens in query strings are redacted; harmless parameters are kept', async () => {
  const token = 'c2VjcmV0LXRva2Vu.abcdefghijklmnopqrstuvwxyz012345';
  const res = await fetch(`${app.base}/unsubscribe?token=${token}&newsletter=news`);
  expect(res.status).toBe(400);
  const line = await requestLineOf(res);
  expect(line.req).toEqual({ method: 'GET', url: '/unsubscribe?token=[REDACTED]&newsletter=news' });
  expect(line.res).toEqual({ statusCode: 400 });

  const search = await fetch(`${app.base}/api/admin/subscribers?q=ada%40example.com&status=active`, {
    headers: app.adminHeaders,
  });
  expect((await requestLineOf(search)).req!.url).toBe('/api/admin/subscribers?q=[REDACTED]&status=active');
  const bare = await fetch(`${app.base}/preferences?${token}`);
  expect((await requestLineOf(bare)).req!.url).toBe('/preferences?[REDACTED]');
  expect(raw.join('')).not.toContain(token);
  expect(raw.join('')).not.toContain('ada%40example.com');
});

test('the Authorization and Cookie headers are never logged', async () => {
  const cookie = 'nl_session=cookie-secret-0123456789';
  const res = await fetch(`${app.base}/api/admin/stats`, { headers: { ...app.adminHeaders, cookie } });
  expect(res.status).toBe(200);
  await requestLineOf(res);
  const text = raw.join('');
  expect(text).not.toContain(app.adminHeaders.authorization.slice('Bearer '.length));
  expect(text).not.toContain('cookie-secret-0123456789');
  expect(text.toLowerCase()).not.toContain('"authorization"');
  expect(text.toLowerCase()).not.toContain('"cookie"');
});

test('a sane X-Request-Id is kept and echoed; anything else is replaced by a fresh id', async () => {
  const kept = await fetch(`${app.base}/healthz`, { headers: { 'x-request-id': 'edge-1234.abc_D' } });
  expect(kept.headers.get('x-request-id')).toBe('edge-1234.abc_D');
  expect((await requestLineOf(kept)).req!.url).toBe('/healthz');

  const replaced = await fetch(`${app.base}/healthz`, { headers: { 'x-request-id': 'has spaces {and} braces' } });
  expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  await requestLineOf(replaced);
});

test("a handler's own events carry the request's id: the admin lockout is logged as a warning", async () => {
  const res = await fetch(`${app.base}/api/admin/stats`, {
    headers: { authorization: 'Bearer wrong-token-000000', 'x-forwarded-for': '192.0.2.44' },
  });
  expect(res.status).toBe(401);
  const id = res.headers.get('x-request-id');
  const locked = lines().find((l) => l.event === 'admin.auth.locked_out');
  expect(locked).toMatchObject({ level: 40, requestId: id, ip: '192.0.2.44', retryAfterSeconds: expect.any(Number) });
  expect((await requestLineOf(res)).res).toEqual({ statusCode: 401 });
  const again = await fetch(`${app.base}/api/admin/stats`, {
    headers: { ...app.adminHeaders, 'x-forwarded-for': '192.0.2.44' },
  });
  expect(again.status).toBe(429);
  expect((await requestLineOf(again)).res).toEqual({ statusCode: 429 });
});
