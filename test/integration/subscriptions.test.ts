import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, TestClock, type TestApp } from '../support/test-app';

let sink: SmtpSink;
let app: TestApp;
const clock = new TestClock();

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url, clock, env: { SIGNUP_RATE_PER_IP: '1000' } });
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

function signup(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${app.base}/api/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}
const exportOf = (email: string) =>
  fetch(`${app.base}/api/admin/subscribers/${encodeURIComponent(email)}`, { headers: app.adminHeaders });
const valid = (email: string, extra: Record<string, unknown> = {}) => ({
  email,
  consent: true,
  termsVersion: '2026-01',
  ...extra,
});

/** The link of the newest mail to `email` (or the nth) that carries one for `path`; waits for it to arrive. */
async function linkFrom(email: string, path: '/confirm' | '/unsubscribe', nth?: number): Promise<string> {
  const pattern = new RegExp(`https?://[^\\s"<>]+${path}\\?token=[A-Za-z0-9_.-]+`);
  return eventually<string>(
    async () => {
      const links: string[] = [];
      for (const mail of sink.to(email)) {
        const m = pattern.exec((await mail.parse()).text ?? '');
        if (m) links.push(m[0]);
      }
      return (nth === undefined ? links.at(-1) : links[nth]) ?? '';
    },
    15000,
    `a ${path} link mailed to ${email}`,
  );
}
const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;

describe('POST /api/subscriptions', () => {
  test('a valid signup answers 202 pending, stores a pending subscriber with consent evidence, and mails a confirmation link', async () => {
    const res = await signup(valid('Reader.One@Example.COM', { name: 'Zoë Reader', source: 'article-42' }), {
      'user-agent': 'TestBrowser/1.0',
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'pending' });

    const exported = await (await exportOf('Reader.One@example.com')).json();
    expect(exported.subscriber).toMatchObject({
      email: 'Reader.One@example.com',
      name: 'Zoë Reader',
      status: 'pending',
    });
    expect(exported.consent).toMatchObject({
      termsVersion: '2026-01',
      source: 'article-42',
      userAgent: 'TestBrowser/1.0',
    });
    expect(exported.consent.termsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(exported.consent.ip).toBeTruthy();
    expect(exported.trail.map((e: { type: string }) => e.type)).toEqual(['subscribed']);

    const link = await linkFrom('reader.one@example.com', '/confirm');
    const mail = await sink.to('reader.one@example.com')[0].parse();
    expect(mail.subject).toBe('Please confirm your subscription');
    expect(mail.html).toContain('Zoë Reader');
    expect(mail.text).toContain(link);
    expect(link.startsWith(app.base)).toBe(true);
  });

  test('a form post answers 303 to the thank-you page and stores the subscriber', async () => {
    const res = await fetch(`${app.base}/api/subscriptions`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=form%40example.com&consent=true&termsVersion=2026-01',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/thanks');
    expect((await (await exportOf('form@example.com')).json()).subscriber.status).toBe('pending');
  });

  test.each([
    ['missing', { email: 'c1@example.com' }],
    ['false', { email: 'c2@example.com', consent: false }],
    ['"false"', { email: 'c3@example.com', consent: 'false' }],
  ])('consent %s answers 422 consent_required and stores nothing', async (_label, body) => {
    const res = await signup(body);
    expect(res.status).toBe(422);
    expect((await res.json()).error.code).toBe('consent_required');
    expect((await exportOf(body.email)).status).toBe(404);
  });

  test('consent to an old terms version answers 422 terms_outdated and stores nothing', async () => {
    const res = await signup(valid('old-terms@example.com', { termsVersion: '2025-01' }));
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.error.code).toBe('terms_outdated');
    expect(body.error.details.currentVersion).toBe('2026-01');
    expect((await exportOf('old-terms@example.com')).status).toBe(404);
  });

  test.each([
    ['no at sign', 'not-an-address'],
    ['empty', '   '],
    ['a local part over 64 characters', `${'a'.repeat(65)}@example.com`],
    ['over 254 characters', `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(63)}.com`],
    ['a CRLF', 'victim@example.com\r\nBcc: all@example.com'],
    ['a NUL', 'nul\u0000@example.com'],
    ['no domain dot', 'someone@localhost'],
  ])('an address with %s answers 400 invalid_email', async (_label, email) => {
    const res = await signup(valid(email));
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('invalid_email');
  });

  test.each([
    ['jane@127.1', 'email domain must be a domain name, not a number or an IP address'],
    ['jane@0x7f.1', 'email domain must be a domain name, not a number or an IP address'],
    ['jane@2130706433', 'email domain must be a domain name, not a number or an IP address'],
    ['jane@[127.0.0.1]', 'email domain must be a domain name, not an IP address in brackets'],
    ['jane@ex%41mple.com', 'email domain must not contain a percent sign'],
  ])('%j is refused with 400 invalid_email, never rewritten to another address', async (email, message) => {
    const res = await signup(valid(email));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'invalid_email', message } });
    // Asked of the store: the API itself now refuses to look these up.
    for (const other of ['jane@127.0.0.1', 'jane@example.com', email])
      expect(await app.container.subscribers.getByEmail(other)).toBeNull();
  });

  test('a non-string email answers 400 invalid_email', async () => {
    const res = await signup({ email: ['a@b.com'], consent: true });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('invalid_email');
  });

  test('an IDN domain is stored as punycode and the domain lower-cased', async () => {
    expect((await signup(valid('  Ünïcode@BÜCHER.Example '))).status).toBe(400); // non-ASCII local part is refused
    expect((await signup(valid('  reader@BÜCHER.example  '))).status).toBe(202);
    const res = await exportOf('reader@xn--bcher-kva.example');
    expect(res.status).toBe(200);
    expect((await res.json()).subscriber.email).toBe('reader@xn--bcher-kva.example');
  });

  test('a name with a line break answers 400 and stores nothing', async () => {
    const res = await signup(valid('crlf-name@example.com', { name: 'Eve\r\nBcc: x@example.com' }));
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('invalid_request');
    expect((await exportOf('crlf-name@example.com')).status).toBe(404);
  });

  test.each([
    ['termsVersion', ['2026-01'], 'invalid_request', 'termsVersion must be a string'],
    ['termsVersion', ['2026-01', '2020-01'], 'invalid_request', 'termsVersion must be a string'],
    ['termsVersion', { v: '2026-01' }, 'invalid_request', 'termsVersion must be a string'],
    ['email', ['list-email@example.com'], 'invalid_email', 'email must be a string'],
    ['name', ['Ada', 'Eve'], 'invalid_request', 'name must be a string'],
    ['source', { from: 'x' }, 'invalid_request', 'source must be a string'],
  ])('JSON with %s as %j answers 400 %s and stores nothing', async (field, value, code, message) => {
    const email = `typed-${field}-${Array.isArray(value) ? value.length : 'o'}@example.com`;
    const res = await signup({ ...valid(email), [field]: value });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code, message } });
    expect((await exportOf(email)).status).toBe(404);
    expect((await exportOf('list-email@example.com')).status).toBe(404);
  });

  test.each([
    ['termsVersion', 'termsVersion=2026-01&termsVersion=2026-01', 'termsVersion must be a string'],
    ['email', 'email=form-b%40example.com', 'email must be a string'],
    ['name', 'name=Ada&name=Eve', 'name must be a string'],
    ['source', 'source=a&source=b', 'source must be a string'],
  ])(
    'a form repeating %s answers 400 with the signup page naming it, and stores nothing',
    async (_field, repeated, message) => {
      const res = await fetch(`${app.base}/api/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `email=form-a%40example.com&consent=on&${repeated}`,
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(message);
      for (const email of ['form-a@example.com', 'form-b@example.com'])
        expect((await exportOf(email)).status).toBe(404);
    },
  );

  test('malformed JSON answers 400 invalid_json, an oversized body 413, another content type 415', async () => {
    const bad = await fetch(`${app.base}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email":',
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('invalid_json');
    const big = await signup(valid('big@example.com', { name: 'x'.repeat(40000) }));
    expect(big.status).toBe(413);
    expect((await big.json()).error.code).toBe('payload_too_large');
    const xml = await fetch(`${app.base}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: '<a/>',
    });
    expect(xml.status).toBe(415);
  });

  test('the answer is the same for a new, pending, active and unsubscribed address (no enumeration)', async () => {
    const email = 'known@example.com';
    const answers: unknown[] = [];
    const ask = async () => {
      const res = await signup(valid(email));
      answers.push([res.status, await res.json()]);
    };
    await ask(); // new
    await ask(); // pending
    const confirm = tokenOf(await linkFrom(email, '/confirm', 0));
    await fetch(`${app.base}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${confirm}`,
    });
    expect((await (await exportOf(email)).json()).subscriber.status).toBe('active');
    await ask(); // active
    const unsub = await linkFrom(email, '/unsubscribe');
    await fetch(unsub, { method: 'POST' });
    expect((await (await exportOf(email)).json()).subscriber.status).toBe('unsubscribed');
    await ask(); // unsubscribed: a new signup with consent makes it pending again
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toEqual([202, { status: 'pending' }]);
    expect((await (await exportOf(email)).json()).subscriber.status).toBe('pending');
  });

  test('the honeypot gets the same success answer and stores nothing', async () => {
    const res = await signup(valid('bot@example.com', { website: 'http://spam.example' }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'pending' });
    expect((await exportOf('bot@example.com')).status).toBe(404);
  });

  test('a flood of signups for one address sends at most 3 confirmation mails', async () => {
    const email = 'flood@example.com';
    for (let i = 0; i < 8; i++) expect((await signup(valid(email))).status).toBe(202);
    await eventually(() => sink.to(email).length >= 3, 10000, 'three mails');
    await new Promise((ok) => setTimeout(ok, 500));
    expect(sink.to(email)).toHaveLength(3);
  });
});

describe('per-IP rate limit', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startTestApp({ smtpUrl: sink.url, env: { SIGNUP_RATE_PER_IP: '3' }, workers: false });
  });
  afterAll(() => limited.stop());

  test('answers 429 rate_limited with Retry-After once an IP exceeds its signups, for JSON and forms', async () => {
    const post = (i: number) =>
      fetch(`${limited.base}/api/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(valid(`ip${i}@example.com`)),
      });
    for (let i = 0; i < 3; i++) expect((await post(i)).status).toBe(202);
    const res = await post(4);
    expect(res.status).toBe(429);
    expect((await res.json()).error.code).toBe('rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const form = await fetch(`${limited.base}/api/subscriptions`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=ip9%40example.com&consent=true',
    });
    expect(form.status).toBe(429);
    expect(await form.text()).toContain('Too many requests');
  });
});

describe('confirmation', () => {
  test('GET /confirm shows a button and does not activate; POST activates and a welcome mail follows', async () => {
    const email = 'confirm-me@example.com';
    await signup(valid(email));
    const link = await linkFrom(email, '/confirm');
    const page = await fetch(link);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form method="post" action="/confirm">');
    expect((await (await exportOf(email)).json()).subscriber.status).toBe('pending');

    const res = await fetch(`${app.base}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Confirmer/2' },
      body: `token=${tokenOf(link)}`,
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You are subscribed');
    const exported = await (await exportOf(email)).json();
    expect(exported.subscriber.status).toBe('active');
    expect(exported.subscriber.confirmedAt).toBeTruthy();
    expect(exported.trail.map((e: { type: string }) => e.type)).toEqual(['subscribed', 'confirmed']);
    expect(exported.trail[1].userAgent).toBe('Confirmer/2');

    await eventually(() => sink.to(email).length === 2, 10000, 'welcome mail');
    const welcome = await sink.to(email)[1].parse();
    expect(welcome.subject).toMatch(/Welcome/);
    const header = (name: string) => welcome.headerLines.find((h) => h.key === name)?.line;
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(header('list-unsubscribe')).toMatch(
      new RegExp(
        /^List-Unsubscribe: <http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?token=[\w.-]+>, /.source +
          /<mailto:news@gazette\.test\?subject=unsubscribe%20[\w.-]+>$/.source,
      ),
    );
    // An IP address is no list namespace (RFC 2919): the test server's 127.0.0.1 gives the "localhost" one.
    expect(header('list-id')).toBe('List-ID: The Test Gazette <newsletter.localhost>');

    const again = await fetch(`${app.base}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${tokenOf(link)}`,
    });
    expect(await again.text()).toContain('already subscribed');
  });

  test('a tampered token is refused and changes nothing', async () => {
    const email = 'tamper@example.com';
    await signup(valid(email));
    const token = tokenOf(await linkFrom(email, '/confirm'));
    const [payload, mac] = token.split('.');
    const otherId = Buffer.from(
      Buffer.from(payload, 'base64url')
        .toString()
        .replace(/^c\.[0-9a-z]+/, 'c.1'),
    ).toString('base64url');
    for (const bad of [
      `${otherId}.${mac}`,
      `${payload}.${mac.slice(0, -2)}xx`,
      'garbage',
      '',
      `${payload}.${mac}.extra`,
    ]) {
      const res = await fetch(`${app.base}/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${encodeURIComponent(bad)}`,
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('not valid');
    }
    expect((await (await exportOf(email)).json()).subscriber.status).toBe('pending');
  });

  test('a confirmation token cannot unsubscribe and an unsubscribe token cannot confirm', async () => {
    const email = 'purpose@example.com';
    await signup(valid(email));
    const confirmToken = tokenOf(await linkFrom(email, '/confirm'));
    expect((await fetch(`${app.base}/unsubscribe?token=${confirmToken}`, { method: 'POST' })).status).toBe(400);
    const sub = (await (await exportOf(email)).json()).subscriber;
    const unsubToken = app.container.tokens.issue('unsubscribe', sub.id);
    const res = await fetch(`${app.base}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${unsubToken}`,
    });
    expect(res.status).toBe(400);
    expect((await (await exportOf(email)).json()).subscriber.status).toBe('pending');
  });

  test('a confirmation link expires after 7 days', async () => {
    const email = 'late@example.com';
    await signup(valid(email));
    const token = tokenOf(await linkFrom(email, '/confirm'));
    clock.advance(7 * 24 * 3600 * 1000 + 60_000);
    try {
      const res = await fetch(`${app.base}/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${token}`,
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('expired');
      expect((await (await exportOf(email)).json()).subscriber.status).toBe('pending');
    } finally {
      clock.advance(-(7 * 24 * 3600 * 1000 + 60_000));
    }
  });
});

describe('unsubscribe', () => {
  async function activeSubscriber(email: string): Promise<string> {
    await signup(valid(email));
    const token = tokenOf(await linkFrom(email, '/confirm'));
    await fetch(`${app.base}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${token}`,
    });
    return linkFrom(email, '/unsubscribe');
  }

  test('GET shows a button and keeps the subscription; POST unsubscribes at once', async () => {
    const email = 'leaver@example.com';
    const link = await activeSubscriber(email);
    const page = await fetch(link);
    expect(await page.text()).toContain('>Unsubscribe</button>');
    expect((await (await exportOf(email)).json()).subscriber.status).toBe('active');
    const res = await fetch(link, { method: 'POST', redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You are unsubscribed');
    const exported = await (await exportOf(email)).json();
    expect(exported.subscriber.status).toBe('unsubscribed');
    expect(exported.trail.at(-1)).toMatchObject({ type: 'unsubscribed', detail: 'page' });
  });

  test.each([
    ['form-encoded', 'application/x-www-form-urlencoded', 'List-Unsubscribe=One-Click'],
    [
      'multipart',
      'multipart/form-data; boundary=XyZ',
      '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n',
    ],
  ])('RFC 8058 one-click (%s) answers 200, never a redirect, and unsubscribes', async (label, type, body) => {
    const email = `oneclick-${label}@example.com`;
    const link = await activeSubscriber(email);
    const res = await fetch(link, { method: 'POST', redirect: 'manual', headers: { 'content-type': type }, body });
    expect(res.status).toBe(200);
    expect((await (await exportOf(email)).json()).subscriber.status).toBe('unsubscribed');
    // Idempotent: a second click is still a 200.
    expect(
      (await fetch(link, { method: 'POST', redirect: 'manual', headers: { 'content-type': type }, body })).status,
    ).toBe(200);
  });

  test('re-subscribing after leaving needs a new signup with consent and a new confirmation', async () => {
    const email = 'comeback@example.com';
    const link = await activeSubscriber(email);
    await fetch(link, { method: 'POST' });
    const before = sink.to(email).length;
    expect((await signup({ email })).status).toBe(422);
    expect((await signup(valid(email))).status).toBe(202);
    expect((await (await exportOf(email)).json()).subscriber.status).toBe('pending');
    await eventually(() => sink.to(email).length === before + 1, 10000, 'new confirmation');
  });
});

describe('admin export and erasure', () => {
  test('admin routes need the bearer token', async () => {
    expect((await fetch(`${app.base}/api/admin/subscribers/a@example.com`)).status).toBe(401);
    const wrong = await fetch(`${app.base}/api/admin/subscribers/a@example.com`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe('unauthorized');
  });

  test('DELETE erases everything and suppresses the address until the person signs up again and confirms', async () => {
    const email = 'forget-me@example.com';
    await signup(valid(email));
    expect((await exportOf(email)).status).toBe(200);
    const del = await fetch(`${app.base}/api/admin/subscribers/${email}`, {
      method: 'DELETE',
      headers: app.adminHeaders,
    });
    expect(del.status).toBe(204);
    expect((await exportOf(email)).status).toBe(404);
    expect(
      (await fetch(`${app.base}/api/admin/subscribers/${email}`, { method: 'DELETE', headers: app.adminHeaders }))
        .status,
    ).toBe(404);
    // Nothing in Redis names the person any more.
    const keys = await app.container.redis.keys(`${app.prefix}:*`);
    for (const k of keys) {
      const type = await app.container.redis.type(k);
      if (type === 'hash') expect(JSON.stringify(await app.container.redis.hgetall(k))).not.toContain(email);
    }
    // Signing up again makes a new person, pending, knowing nothing of the erased one; the address stays suppressed
    // until the mailed link is confirmed.
    const mails = sink.to(email).length;
    expect((await signup(valid(email))).status).toBe(202);
    const fresh = (await (await exportOf(email)).json()) as { subscriber: { status: string }; trail: unknown[] };
    expect(fresh.subscriber.status).toBe('pending');
    expect(fresh.trail).toHaveLength(1);
    expect(await app.container.subscribers.isSuppressed(email)).toBe(true);
    await eventually(() => sink.to(email).length > mails, 10000, 'a new confirmation mail');
    const confirm = tokenOf(await linkFrom(email, '/confirm'));
    const confirmed = await fetch(`${app.base}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: confirm }),
    });
    expect(confirmed.status).toBe(200);
    expect(await app.container.subscribers.isSuppressed(email)).toBe(false);
    const after = (await (await exportOf(email)).json()) as { trail: { type: string }[] };
    expect(after.trail.map((e) => e.type)).toEqual(['subscribed', 'confirmed', 'suppression_lifted']);
  });

  test('an invalid address in the path answers 400', async () => {
    const res = await fetch(`${app.base}/api/admin/subscribers/not-an-address`, { headers: app.adminHeaders });
    expect(res.status).toBe(400);
  });
});

describe('operations', () => {
  test('the built-in terms page shows the terms and their version', async () => {
    const res = await fetch(`${app.base}/terms`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Version 2026-01');
    expect(html).toContain('The Test Gazette newsletter. By submitting this form, I agree to the terms.');
  });

  test('healthz, readyz and metrics answer', async () => {
    expect(await (await fetch(`${app.base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${app.base}/readyz`)).json()).toEqual({ status: 'ready' });
    const metrics = await (await fetch(`${app.base}/metrics`)).text();
    expect(metrics).toMatch(/newsletter_signups_total\{outcome="new"\} [1-9]/);
    expect(metrics).toMatch(/newsletter_mails_sent_total\{kind="confirm"\} [1-9]/);
    expect(metrics).toContain('newsletter_queue_depth');
  });
});
