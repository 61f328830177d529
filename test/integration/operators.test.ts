import { seedAddresses } from '../support/seed';
import { eventually, startTestApp, TEST_SECRETS, TestClock, type TestApp } from '../support/test-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field in assertions
type Json = Record<string, any>;

/** Cheap hashes: these tests are about accounts and access, not scrypt's cost (test/unit/password-hasher covers it). */
const FAST = { PASSWORD_SCRYPT_N: '1024', SIGN_IN_RATE_PER_IP: '200' };
const PASSWORD = 'a long and boring passphrase';

/** A browser-like session: the cookie from sign-in, and the CSRF token the console's scripts would send. */
interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
}

const HOUR = 3_600_000;

describe('operators, roles, sessions and the audit log over HTTP', () => {
  let app: TestApp;
  const clock = new TestClock();

  beforeAll(async () => {
    app = await startTestApp({ workers: false, clock, env: FAST });
  });
  afterAll(async () => {
    await app.stop();
  });

  const url = (path: string) => `${app.base}${path}`;

  /** A call to the admin API as the ADMIN_TOKEN, a bearer token, or a session (with or without its CSRF token). */
  function api(
    path: string,
    init: {
      method?: string;
      body?: unknown;
      token?: string;
      session?: Session;
      csrf?: string | null;
      headers?: Record<string, string>;
    } = {},
  ) {
    const headers: Record<string, string> = { ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.session) {
      headers.cookie = init.session.cookie;
      const csrf = init.csrf === undefined ? init.session.csrf : init.csrf;
      if (csrf !== null) headers['x-csrf-token'] = csrf;
    } else {
      headers.authorization = `Bearer ${init.token ?? TEST_SECRETS.ADMIN_TOKEN}`;
    }
    return fetch(url(`/api/admin${path}`), {
      method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  }

  async function json(res: Response, status: number): Promise<Json> {
    const text = await res.text();
    const body = (text ? JSON.parse(text) : {}) as Json;
    expect({ status: res.status, body }).toEqual({ status, body: expect.anything() });
    return body;
  }

  async function signIn(email: string, password = PASSWORD): Promise<Session> {
    const res = await fetch(url('/admin/sign-in'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const body = await json(res, 200);
    const setCookie = res.headers.getSetCookie()[0];
    return { cookie: setCookie.split(';')[0], csrf: body.csrfToken as string, setCookie };
  }

  async function addOperator(email: string, role: string): Promise<Json> {
    return json(await api('/operators', { body: { email, role, password: PASSWORD } }), 201);
  }

  /** The newest audit entries matching a query, waited for: entries are written once the answer is out. */
  async function auditEntries(query: string, atLeast = 1): Promise<Json[]> {
    return (await eventually<Json[] | null>(
      async () => {
        const body = await json(await api(`/audit?${query}`), 200);
        return body.entries.length >= atLeast ? (body.entries as Json[]) : null;
      },
      5000,
      `audit entries for ${query}`,
    ))!;
  }

  test('with no operator yet, signing in as "admin" with the ADMIN_TOKEN bootstraps the first admin, once', async () => {
    const wrong = await fetch(url('/admin/sign-in'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin', password: 'not-the-token-at-all' }),
    });
    expect((await json(wrong, 401)).error.code).toBe('invalid_credentials');

    const boot = await signIn('admin', TEST_SECRETS.ADMIN_TOKEN);
    const me = await json(await fetch(url('/admin/session'), { headers: { cookie: boot.cookie } }), 200);
    expect(me).toMatchObject({ actor: { kind: 'admin-token' }, role: 'admin' });

    const first = await json(
      await api('/operators', { session: boot, body: { email: 'Chief@Ops.test', role: 'admin', password: PASSWORD } }),
      201,
    );
    expect(first).toMatchObject({ email: 'chief@ops.test', role: 'admin', name: 'chief' });
    expect(first).not.toHaveProperty('password');

    // Once an operator exists the bootstrap session is over, and the bootstrap sign-in is refused.
    expect((await json(await api('/operators', { session: boot }), 401)).error.code).toBe('unauthorized');
    const again = await fetch(url('/admin/sign-in'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin', password: TEST_SECRETS.ADMIN_TOKEN }),
    });
    expect(again.status).toBe(401);

    const [created] = await auditEntries('action=operator.create');
    expect(created).toMatchObject({ actor: { kind: 'admin-token' }, object: { type: 'operator', id: first.id } });
  });

  test('sign-in sets an HttpOnly, SameSite=Strict session cookie for Path=/, not Secure on http', async () => {
    const s = await signIn('chief@ops.test');
    const attributes = s.setCookie.split(';').map((a) => a.trim().toLowerCase());
    expect(s.cookie).toMatch(/^nl_session=[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
    expect(attributes).not.toContain('secure');
    const me = await json(await fetch(url('/admin/session'), { headers: { cookie: s.cookie } }), 200);
    expect(me).toMatchObject({ actor: { kind: 'operator', email: 'chief@ops.test' }, role: 'admin' });
    expect(me.csrfToken).toBe(s.csrf);
  });

  test('a wrong password, an unknown login and a too-short password in a new account are refused', async () => {
    for (const body of [
      { email: 'chief@ops.test', password: 'wrong password, long enough' },
      { email: 'nobody@ops.test', password: PASSWORD },
    ]) {
      const res = await fetch(url('/admin/sign-in'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(await json(res, 401)).toEqual({
        error: { code: 'invalid_credentials', message: 'Wrong email or password.' },
      });
    }
    const short = await api('/operators', { body: { email: 'short@ops.test', role: 'viewer', password: 'too short' } });
    expect((await json(short, 422)).error).toMatchObject({ code: 'invalid_password' });
    const failed = await auditEntries('action=session.sign_in_failed', 2);
    expect(failed.slice(0, 2).map((e) => e.actor.email)).toEqual(['nobody@ops.test', 'chief@ops.test']);
  });

  describe('roles, one table for every route', () => {
    let viewer: Session;
    let editor: Session;
    let chief: Session;
    let subscriberEmails: string[];

    beforeAll(async () => {
      await addOperator('viewer@ops.test', 'viewer');
      await addOperator('editor@ops.test', 'editor');
      [viewer, editor, chief] = await Promise.all([
        signIn('viewer@ops.test'),
        signIn('editor@ops.test'),
        signIn('chief@ops.test'),
      ]);
      subscriberEmails = ['one@readers.test', 'two@readers.test', 'three@readers.test'];
      await seedAddresses(app.container, subscriberEmails);
    });

    test('a viewer reads but cannot change anything: 403 naming the role needed', async () => {
      await json(await api('/campaigns', { session: viewer }), 200);
      await json(await api('/subscribers/one%40readers.test', { session: viewer }), 200);
      const post = await json(
        await api('/articles', { session: viewer, body: { title: 'T', url: 'https://site.test/a' } }),
        403,
      );
      expect(post.error).toMatchObject({ code: 'forbidden', details: { needed: 'editor', role: 'viewer' } });
      expect(post.error.message).toMatch(/needs the editor role/);
      expect((await json(await api('/operators', { session: viewer }), 403)).error.details.needed).toBe('admin');
    });

    test('an editor composes but cannot erase a person or manage operators; an admin can', async () => {
      const article = await json(
        await api('/articles', { session: editor, body: { title: 'Roles', url: 'https://site.test/roles' } }),
        201,
      );
      expect(article.id).toBeDefined();
      const erase = await json(
        await api('/subscribers/one%40readers.test', { session: editor, method: 'DELETE' }),
        403,
      );
      expect(erase.error).toMatchObject({ code: 'forbidden', details: { needed: 'admin' } });
      const promote = await api('/operators/1/role', { session: editor, method: 'PUT', body: { role: 'editor' } });
      expect(promote.status).toBe(403);

      await json(await api('/subscribers/one%40readers.test', { session: chief, method: 'DELETE' }), 204);
      await json(await api('/subscribers/one%40readers.test'), 404);

      const [erased] = await auditEntries('action=subscriber.erase');
      expect(erased.actor).toMatchObject({ kind: 'operator', email: 'chief@ops.test', via: 'session' });
      // The erased person's address does not live on in the log: only the start of its hash.
      expect(erased.object.id).toMatch(/^sha256:[0-9a-f]{16}$/);
      expect(JSON.stringify(erased)).not.toContain('one@readers.test');
      const [created] = await auditEntries('action=article.create');
      expect(created).toMatchObject({
        actor: { email: 'editor@ops.test' },
        object: { type: 'article', id: String(article.id) },
      });
    });

    test('the ADMIN_TOKEN still works everywhere, as an admin named "admin-token"', async () => {
      await json(await api('/campaigns'), 200);
      await json(await api('/articles', { body: { title: 'By token', url: 'https://site.test/token' } }), 201);
      await json(await api('/subscribers/two%40readers.test', { method: 'DELETE' }), 204);
      await json(await api('/operators'), 200);
      const [erased] = await auditEntries('actor=admin-token&action=subscriber.erase');
      expect(erased.actor).toEqual({ kind: 'admin-token' });
      // The ADMIN_TOKEN is nobody: it has no tokens of its own.
      expect((await json(await api('/operators/me/tokens', { body: { name: 'x' } }), 403)).error.code).toBe(
        'forbidden',
      );
    });

    test('per-operator API tokens: shown once, listed without the secret, used as Bearer, revoked', async () => {
      const made = await json(
        await api('/operators/me/tokens', { session: editor, body: { name: 'nightly import' } }),
        201,
      );
      expect(made.token).toMatch(/^nlop_[A-Za-z0-9_-]{43}$/);
      const list = await json(await api('/operators/me/tokens', { session: editor }), 200);
      expect(list.tokens).toEqual([{ id: made.id, name: 'nightly import', createdAt: expect.any(String) }]);
      expect(JSON.stringify(list)).not.toContain(made.token);

      // The token acts with its operator's role, and needs no CSRF token (no ambient credential).
      const article = await json(
        await api('/articles', { token: made.token, body: { title: 'By API token', url: 'https://site.test/api' } }),
        201,
      );
      expect((await api('/subscribers/three%40readers.test', { token: made.token, method: 'DELETE' })).status).toBe(
        403,
      );
      const [byToken] = await auditEntries(`action=article.create&actor=editor%40ops.test`);
      expect(byToken).toMatchObject({
        actor: { kind: 'operator', email: 'editor@ops.test', via: 'api-token' },
        object: { id: String(article.id) },
      });
      expect((await api('/operators/me/tokens', { token: made.token })).status).toBe(200);

      await json(await api(`/operators/me/tokens/${made.id}`, { session: editor, method: 'DELETE' }), 204);
      expect((await json(await api('/campaigns', { token: made.token }), 401)).error.code).toBe('unauthorized');
      // A bad bearer token is refused even alongside a good cookie.
      const both = await fetch(url('/api/admin/campaigns'), {
        headers: { authorization: `Bearer ${made.token}`, cookie: editor.cookie },
      });
      expect(both.status).toBe(401);
      const actions = (await auditEntries('action=token.', 2)).map((e) => e.action);
      expect(actions).toEqual(['token.revoke', 'token.create']);
    });

    test('a change by cookie needs the session’s CSRF token; a read does not; no cookie at all is 401', async () => {
      const body = { title: 'CSRF', url: 'https://site.test/csrf' };
      const missing = await json(await api('/articles', { session: editor, csrf: null, body }), 403);
      expect(missing.error.code).toBe('csrf_failed');
      const wrong = await json(await api('/articles', { session: editor, csrf: viewer.csrf, body }), 403);
      expect(wrong.error.code).toBe('csrf_failed');
      const crossSite = await api('/articles', { session: editor, body, headers: { origin: 'https://evil.test' } });
      expect((await json(crossSite, 403)).error.code).toBe('csrf_failed');
      const fetchSite = await api('/articles', { session: editor, body, headers: { 'sec-fetch-site': 'cross-site' } });
      expect(fetchSite.status).toBe(403);
      await json(
        await api('/articles', {
          session: editor,
          body,
          headers: { origin: app.base, 'sec-fetch-site': 'same-origin' },
        }),
        201,
      );
      await json(await api('/campaigns', { session: editor, csrf: null }), 200);
      const none = await fetch(url('/api/admin/articles'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect((await json(none, 401)).error.code).toBe('unauthorized');
    });

    test('the last enabled admin cannot be demoted or disabled; with a second admin they can', async () => {
      const chiefId = (await json(await api('/operators'), 200)).operators.find(
        (o: Json) => o.email === 'chief@ops.test',
      ).id;
      const demote = await json(
        await api(`/operators/${chiefId}/role`, { method: 'PUT', body: { role: 'editor' } }),
        409,
      );
      expect(demote.error.code).toBe('last_admin');
      expect((await json(await api(`/operators/${chiefId}/disable`, { method: 'POST' }), 409)).error.code).toBe(
        'last_admin',
      );

      const deputy = await addOperator('deputy@ops.test', 'admin');
      const demoted = await json(
        await api(`/operators/${deputy.id}/role`, { session: chief, method: 'PUT', body: { role: 'viewer' } }),
        200,
      );
      expect(demoted.role).toBe('viewer');
      const [setRole] = await auditEntries('action=operator.set_role');
      expect(setRole).toMatchObject({ object: { id: deputy.id }, detail: { role: 'viewer' } });
      await json(await api(`/operators/${chiefId}/role`, { method: 'PUT', body: { role: 'emperor' } }), 422);
    });

    test('disabling an operator ends their sessions and stops their tokens', async () => {
      const s = await signIn('viewer@ops.test');
      const token = (await json(await api('/operators/me/tokens', { session: s, body: { name: 'reader' } }), 201))
        .token;
      await json(await api('/campaigns', { token }), 200);
      const viewerId = (await json(await api('/operators'), 200)).operators.find(
        (o: Json) => o.email === 'viewer@ops.test',
      ).id;
      const disabled = await json(await api(`/operators/${viewerId}/disable`, { method: 'POST' }), 200);
      expect(disabled.disabled).toBe(true);
      expect((await api('/campaigns', { session: s })).status).toBe(401);
      expect((await api('/campaigns', { token })).status).toBe(401);
      const res = await fetch(url('/admin/sign-in'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'viewer@ops.test', password: PASSWORD }),
      });
      expect(res.status).toBe(401);
    });
  });

  test('sign-out ends the session (a form post with the _csrf field, as the console page sends it)', async () => {
    const s = await signIn('chief@ops.test');
    const noToken = await fetch(url('/admin/sign-out'), {
      method: 'POST',
      headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect((await json(noToken, 403)).error.code).toBe('csrf_failed');
    const out = await fetch(url('/admin/sign-out'), {
      method: 'POST',
      headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: s.csrf }).toString(),
      redirect: 'manual',
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/admin/sign-in');
    expect(out.headers.getSetCookie()[0]).toMatch(/^nl_session=;/);
    expect((await fetch(url('/admin/session'), { headers: { cookie: s.cookie } })).status).toBe(401);
    expect((await api('/campaigns', { session: s })).status).toBe(401);
    const [signedOut] = await auditEntries('action=session.sign_out');
    expect(signedOut.actor.email).toBe('chief@ops.test');
  });

  test('a session ends after 8 idle hours, slides while used, and ends after 7 days whatever happens', async () => {
    const idle = await signIn('chief@ops.test');
    clock.advance(8 * HOUR - 60_000);
    await json(await api('/campaigns', { session: idle }), 200);
    clock.advance(8 * HOUR - 60_000);
    // Still alive: the request above restarted the idle time.
    await json(await api('/campaigns', { session: idle }), 200);
    clock.advance(8 * HOUR);
    expect((await api('/campaigns', { session: idle })).status).toBe(401);

    const busy = await signIn('chief@ops.test');
    for (let h = 0; h < 7 * 24 - 6; h += 6) {
      clock.advance(6 * HOUR);
      expect((await api('/campaigns', { session: busy })).status).toBe(200);
    }
    clock.advance(6 * HOUR);
    expect((await api('/campaigns', { session: busy })).status).toBe(401);
  });

  test('the sign-in page works without script: labels, a plain form post, 303 to /admin, errors shown', async () => {
    const page = await fetch(url('/admin/sign-in'));
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('<label for="email">');
    expect(html).toContain('<label for="password">');
    expect(html).toContain('<form method="post" action="/admin/sign-in">');
    expect(html).not.toMatch(/<script/i);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);

    const form = (password: string) =>
      fetch(url('/admin/sign-in'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: 'chief@ops.test', password }).toString(),
        redirect: 'manual',
      });
    const bad = await form('not the right password');
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain('Wrong email or password.');
    const good = await form(PASSWORD);
    expect(good.status).toBe(303);
    expect(good.headers.get('location')).toBe('/admin');
    const cookie = good.headers.getSetCookie()[0].split(';')[0];
    const home = await fetch(url('/admin'), { headers: { cookie } });
    const text = await home.text();
    expect(text).toContain('<h1>Dashboard</h1>');
    expect(text).toMatch(/<span>chief\S* <span class="role">\(admin\)<\/span>[\s\S]*name="_csrf"/);
  });

  test('a browser form post with "Origin: null" (Referrer-Policy no-referrer) signs in when Sec-Fetch-Site says same-origin, and only then', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(url('/admin/sign-in'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'null', ...headers },
        body: new URLSearchParams({ email: 'chief@ops.test', password: PASSWORD }).toString(),
        redirect: 'manual',
      });
    expect((await post({ 'sec-fetch-site': 'same-origin' })).status).toBe(303);
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({})).status).toBe(403);
  });

  test('the console’s session gate leaves paths outside /admin alone: the public pages and their stylesheet', async () => {
    const css = await fetch(url('/assets/site.css'), { redirect: 'manual' });
    expect([css.status, css.headers.get('content-type')]).toEqual([200, expect.stringMatching(/^text\/css/)]);
    expect((await fetch(url('/admin/audit'), { redirect: 'manual' })).status).toBe(303);
  });

  test('sign-in is rate-limited per login: 429 with Retry-After, whatever the password', async () => {
    await addOperator('target@ops.test', 'viewer');
    const attempt = (password: string) =>
      fetch(url('/admin/sign-in'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'target@ops.test', password }),
      });
    for (let i = 0; i < 10; i++) expect((await attempt(`guess number ${i} is wrong`)).status).toBe(401);
    const limited = await attempt(PASSWORD);
    expect((await json(limited, 429)).error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('the audit log pages newest first with a cursor, and filters by actor and action', async () => {
    const first = await json(await api('/audit?limit=2'), 200);
    expect(first.entries).toHaveLength(2);
    const second = await json(await api(`/audit?limit=2&cursor=${first.next}`), 200);
    expect(second.entries[0].id < first.entries[1].id).toBe(true);
    const all = await json(await api('/audit?limit=200'), 200);
    const times = all.entries.map((e: Json) => e.id);
    expect([...times].sort().reverse()).toEqual(times);
    const kinds = new Set(all.entries.map((e: Json) => e.actor.kind));
    expect(kinds).toEqual(new Set(['admin-token', 'operator']));
    for (const e of all.entries)
      expect(e).toEqual(expect.objectContaining({ at: expect.any(String), ip: expect.any(String) }));
    await json(await api('/audit?limit=0'), 400);
    await json(await api('/audit?bogus=1'), 400);
  });
});

describe('sessions under https and the per-IP sign-in limit', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      workers: false,
      env: { ...FAST, PUBLIC_URL: 'https://news.example.test', SIGN_IN_RATE_PER_IP: '3' },
    });
    await app.container.operators.create({ email: 'secure@ops.test', role: 'admin', password: PASSWORD });
  });
  afterAll(async () => {
    await app.stop();
  });

  test('under https the cookie is Secure and __Host- prefixed; the fourth attempt from one IP is refused', async () => {
    const attempt = (email: string) =>
      fetch(`${app.base}/admin/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
    const ok = await attempt('secure@ops.test');
    expect(ok.status).toBe(200);
    const setCookie = ok.headers.getSetCookie()[0];
    expect(setCookie).toMatch(/^__Host-nl_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie.split(';').map((a) => a.trim().toLowerCase())).toEqual(
      expect.arrayContaining(['secure', 'httponly', 'samesite=strict', 'path=/']),
    );
    expect((await attempt('someone@ops.test')).status).toBe(401);
    expect((await attempt('another@ops.test')).status).toBe(401);
    const limited = await attempt('secure@ops.test');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('a failed sign-in takes as long whether or not the login exists', () => {
  let app: TestApp;
  beforeAll(async () => {
    // A real cost (2^14: tens of milliseconds), so skipping the hash for unknown logins would show.
    app = await startTestApp({ workers: false, env: { PASSWORD_SCRYPT_N: '16384', SIGN_IN_RATE_PER_IP: '100' } });
    await app.container.operators.create({ email: 'real@ops.test', role: 'viewer', password: PASSWORD });
  });
  afterAll(async () => {
    await app.stop();
  });

  test('unknown login, wrong password and the bootstrap login all verify one hash', async () => {
    const timed = async (email: string) => {
      const started = process.hrtime.bigint();
      const res = await fetch(`${app.base}/admin/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'wrong password, but long' }),
      });
      expect(res.status).toBe(401);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const runs: Record<string, number[]> = { real: [], unknown: [], bootstrap: [] };
    for (let i = 0; i < 5; i++) {
      runs.real.push(await timed('real@ops.test'));
      runs.unknown.push(await timed(`nobody${i}@ops.test`));
      runs.bootstrap.push(await timed('admin'));
    }
    const real = median(runs.real);
    for (const other of [median(runs.unknown), median(runs.bootstrap)]) {
      expect(other / real).toBeGreaterThan(0.5);
      expect(other / real).toBeLessThan(2);
    }
  });
});
