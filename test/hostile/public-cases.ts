import { type Case, type HostileCase, WRONG_TYPES, group, nested } from './case';

const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };

/** A signup that would be accepted: each case spoils one thing. */
const signup = { email: 'newcomer@list.test', consent: true, termsVersion: '2026-01' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const validForm = { email: 'newcomer@list.test', consent: 'on' };

/** The same answer for every bad address: 400 invalid_email. */
const badAddress = (label: string, email: string): Case => ({
  name: `email ${label} (${JSON.stringify(email).slice(0, 60)})`,
  body: { ...signup, email },
  expect: { status: 400, code: 'invalid_email' },
});

/** POST /api/subscriptions as JSON: every field of the wrong type, shape or size. */
export const SIGNUP_JSON: HostileCase[] = group({ method: 'POST', path: '/api/subscriptions' }, [
  {
    name: 'malformed JSON',
    headers: JSON_TYPE,
    body: '{"email": "a@b.test",',
    expect: { status: 400, code: 'invalid_json' },
  },
  { name: 'JSON null', headers: JSON_TYPE, body: 'null', expect: { status: 400, code: 'invalid_json' } },
  {
    name: 'a JSON string',
    headers: JSON_TYPE,
    body: '"newcomer@list.test"',
    expect: { status: 400, code: 'invalid_json' },
  },
  { name: 'a JSON array of the fields', body: [signup], expect: { status: 400, code: 'invalid_email' } },
  { name: 'an empty JSON body', headers: JSON_TYPE, body: '', expect: { status: 400, code: 'invalid_email' } },
  { name: 'no content type', body: JSON.stringify(signup), expect: { status: 415, code: 'unsupported_media_type' } },
  {
    name: 'text/plain',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(signup),
    expect: { status: 415, code: 'unsupported_media_type' },
  },
  {
    name: 'multipart/form-data',
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
    body: '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.test\r\n--x--\r\n',
    expect: { status: 415, code: 'unsupported_media_type' },
  },
  {
    name: 'application/xml',
    headers: { 'content-type': 'application/xml' },
    body: '<email>a@b.test</email>',
    expect: { status: 415, code: 'unsupported_media_type' },
  },
  {
    name: 'a UTF-16 charset on UTF-8 bytes',
    headers: { 'content-type': 'application/json; charset=utf-16' },
    body: JSON.stringify(signup),
    expect: { status: 400, code: 'invalid_json' },
  },
  {
    name: 'an unknown charset',
    headers: { 'content-type': 'application/json; charset=x-klingon' },
    body: JSON.stringify(signup),
    expect: { status: 415, code: 'unsupported_encoding' },
  },
  {
    name: 'an unknown content encoding',
    headers: { ...JSON_TYPE, 'content-encoding': 'compress' },
    body: JSON.stringify(signup),
    expect: { status: 415, code: 'unsupported_encoding' },
  },
  {
    name: 'gzip encoding that is not gzip',
    headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
    body: JSON.stringify(signup),
    expect: { status: 400, code: 'invalid_gzip' },
  },
  {
    name: 'a 20 KB body',
    body: { ...signup, name: 'x'.repeat(20_000) },
    expect: { status: 413, code: 'payload_too_large' },
  },
  {
    name: 'a 2 MB body',
    headers: JSON_TYPE,
    body: Buffer.alloc(2 * 1024 * 1024, 0x20),
    expect: { status: 413, code: 'payload_too_large' },
  },
  {
    name: 'JSON nested 5,000 arrays deep',
    headers: JSON_TYPE,
    body: nested(5000),
    expect: { status: 400, code: 'invalid_email' },
  },
  {
    name: 'email nested 3,000 arrays deep',
    headers: JSON_TYPE,
    body: `{"consent":true,"email":${nested(3000, '"a@b.test"')}}`,
    expect: { status: 400, code: 'invalid_email' },
  },
  {
    name: 'newsletters nested 3,000 arrays deep',
    headers: JSON_TYPE,
    body: `{"email":"newcomer@list.test","consent":true,"newsletters":${nested(3000, '"x"')}}`,
    expect: { status: 422, code: 'unknown_newsletter' },
  },
  ...WRONG_TYPES.map(([label, v]): Case => ({
    name: `email as ${label}`,
    body: { ...signup, email: v },
    expect: { status: 400, code: 'invalid_email' },
  })),
  ...WRONG_TYPES.filter(([label]) => label !== 'null').flatMap(([label, v]): Case[] => [
    { name: `name as ${label}`, body: { ...signup, name: v }, expect: { status: 400, code: 'invalid_request' } },
    { name: `source as ${label}`, body: { ...signup, source: v }, expect: { status: 400, code: 'invalid_request' } },
  ]),
  ...WRONG_TYPES.filter(([label]) => label !== 'true').map(([label, v]): Case => ({
    name: `consent as ${label}`,
    body: { ...signup, consent: v },
    expect: { status: 422, code: 'consent_required' },
  })),
  {
    name: 'consent as the string "false"',
    body: { ...signup, consent: 'false' },
    expect: { status: 422, code: 'consent_required' },
  },
  {
    name: 'termsVersion as an array of the current version',
    body: { ...signup, termsVersion: ['2026-01'] },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'termsVersion as an object',
    body: { ...signup, termsVersion: { v: '2026-01' } },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'termsVersion as true',
    body: { ...signup, termsVersion: true },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'termsVersion of older terms',
    body: { ...signup, termsVersion: '2025-01' },
    expect: { status: 422, code: 'terms_outdated' },
  },
  {
    name: 'termsVersion as a number',
    body: { ...signup, termsVersion: 2026 },
    expect: { status: 422, code: 'terms_outdated' },
  },
  {
    name: 'newsletters naming an unknown one',
    body: { ...signup, newsletters: ['no-such-list'] },
    expect: { status: 422, code: 'unknown_newsletter' },
  },
  {
    name: 'newsletters as a path',
    body: { ...signup, newsletters: '../../etc/passwd' },
    expect: { status: 422, code: 'unknown_newsletter' },
  },
  {
    name: 'newsletters as an object',
    body: { ...signup, newsletters: { 'hostile-weekly': true } },
    expect: { status: 422, code: 'unknown_newsletter' },
  },
  {
    name: 'newsletters as a number',
    body: { ...signup, newsletters: 7 },
    expect: { status: 422, code: 'unknown_newsletter' },
  },
  {
    name: 'newsletters empty',
    body: { ...signup, newsletters: [] },
    expect: { status: 422, code: 'no_newsletter_chosen' },
  },
  {
    name: 'newsletters listing 500',
    body: { ...signup, newsletters: Array.from({ length: 500 }, (_, i) => `n${i}`) },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'a __proto__ key carrying consent',
    headers: JSON_TYPE,
    body: '{"email":"newcomer@list.test","__proto__":{"consent":true}}',
    expect: { status: 422, code: 'consent_required' },
  },
  {
    name: 'a constructor.prototype key carrying consent',
    body: { email: 'newcomer@list.test', constructor: { prototype: { consent: true } } },
    expect: { status: 422, code: 'consent_required' },
  },
  {
    name: 'a __proto__ key as the email',
    headers: JSON_TYPE,
    body: '{"__proto__":{"email":"newcomer@list.test"},"consent":true}',
    expect: { status: 400, code: 'invalid_email' },
  },
  badAddress('with CRLF and a Bcc header', 'newcomer@list.test\r\nBcc: victim@else.test'),
  badAddress('with a bare LF', 'newcomer@list.test\nX-Injected: 1'),
  badAddress('with a NUL byte', 'newcomer@list.test\u0000'),
  badAddress('with a line separator', 'new\u2028comer@list.test'),
  badAddress('with a tab in the domain', 'newcomer@list\t.test'),
  badAddress('with a quoted local part', '"new comer"@list.test'),
  badAddress('without a domain', 'newcomer@'),
  badAddress('without a dot in the domain', 'newcomer@localhost'),
  badAddress('with an IP literal', 'newcomer@[127.0.0.1]'),
  badAddress('on a dotted-quad IP', 'jane@1.2.3.4'),
  badAddress('on a short numeric host (the issue)', 'jane@127.1'),
  badAddress('on a hex host (the issue)', 'jane@0x7f.1'),
  badAddress('on a decimal host (the issue)', 'jane@2130706433'),
  badAddress('with a percent-escape in the domain (the issue)', 'jane@ex%41mple.com'),
  badAddress('with a trailing dot', 'newcomer@list.test.'),
  badAddress('with an empty label', 'newcomer@list..test'),
  badAddress('of 300 characters', `${'a'.repeat(60)}@${'b'.repeat(230)}.test`),
  badAddress('with a 65-character local part', `${'a'.repeat(65)}@list.test`),
  badAddress('of two addresses', 'a@list.test,b@list.test'),
  {
    name: 'name with CRLF and a header',
    body: { ...signup, name: 'Jane\r\nBcc: victim@else.test' },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'name with a NUL byte',
    body: { ...signup, name: 'Ja\u0000ne' },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'name with a bell control character',
    body: { ...signup, name: 'Ja\u0007ne' },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'name with a Unicode line separator',
    body: { ...signup, name: 'Jane\u2028Bcc: victim@else.test' },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'name with a C1 control (NEL)',
    body: { ...signup, name: 'Jane\u0085Doe' },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'name with a lone surrogate',
    headers: JSON_TYPE,
    body: '{"email":"newcomer@list.test","consent":true,"name":"Ja\\ud800ne"}',
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'name in bytes that are not UTF-8',
    headers: JSON_TYPE,
    body: Buffer.concat([
      Buffer.from('{"email":"newcomer@list.test","consent":true,"name":"Ja'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('ne"}'),
    ]),
    expect: { status: 400, code: 'invalid_encoding' },
  },
  {
    name: 'name of 101 characters',
    body: { ...signup, name: 'n'.repeat(101) },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'source of 201 characters',
    body: { ...signup, source: 's'.repeat(201) },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'source with CRLF',
    body: { ...signup, source: 'form\r\nX-Evil: 1' },
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'the honeypot filled in: answered like a signup, nothing stored',
    body: { ...signup, website: 'https://spam.test' },
    expect: { status: 202, check: ({ json }) => expect(json).toEqual({ status: 'pending' }) },
  },
]);

/** POST /api/subscriptions as the no-JavaScript form: the form page again, with the reason, at the same status. */
export const SIGNUP_FORM: HostileCase[] = group({ method: 'POST', path: '/api/subscriptions', headers: FORM_TYPE }, [
  {
    name: 'form: no consent',
    body: form({ email: 'newcomer@list.test' }),
    expect: { status: 422, page: /agree to the terms/ },
  },
  {
    name: 'form: consent "off"',
    body: form({ ...validForm, consent: 'off' }),
    expect: { status: 422, page: /agree to the terms/ },
  },
  {
    name: 'form: an empty email',
    body: form({ ...validForm, email: '' }),
    expect: { status: 400, page: /email is required/ },
  },
  {
    name: 'form: the email twice',
    body: 'email=a%40list.test&email=b%40list.test&consent=on',
    expect: { status: 400, page: /email must be a string/ },
  },
  {
    name: 'form: CRLF header injection in the email',
    body: form({ ...validForm, email: 'newcomer@list.test\r\nBcc: victim@else.test' }),
    expect: { status: 400, page: /line breaks/ },
  },
  {
    name: 'form: CRLF header injection in the name',
    body: form({ ...validForm, name: 'Jane\r\nBcc: victim@else.test' }),
    expect: { status: 400, page: /line breaks/ },
  },
  {
    name: 'form: a percent-encoded NUL in the name',
    body: 'email=newcomer%40list.test&consent=on&name=Ja%00ne',
    expect: { status: 400, page: /NUL/ },
  },
  {
    name: 'form: name bytes that are not UTF-8',
    body: 'email=newcomer%40list.test&consent=on&name=Ja%FF%FEne',
    expect: { status: 400, code: 'invalid_encoding' },
  },
  {
    name: 'form: a script in the email is shown escaped',
    body: form({ ...validForm, email: '<script>alert(1)</script>' }),
    expect: {
      status: 400,
      page: /&#60;script&#62;alert\(1\)/,
      check: ({ text }) => expect(text).not.toContain('<script>alert(1)'),
    },
  },
  {
    name: 'form: termsVersion twice (an array)',
    body: 'email=newcomer%40list.test&consent=on&termsVersion=2026-01&termsVersion=2026-01',
    expect: { status: 400, page: /termsVersion/ },
  },
  {
    name: 'form: 81 fields',
    body: Array.from({ length: 81 }, (_, i) => `f${i}=1`).join('&'),
    expect: { status: 413, code: 'payload_too_large' },
  },
  {
    name: 'form: a 20 KB body',
    body: form({ ...validForm, name: 'x'.repeat(20_000) }),
    expect: { status: 413, code: 'payload_too_large' },
  },
  {
    name: 'form: an unknown newsletter',
    body: form({ ...validForm, newsletters: '../admin' }),
    expect: { status: 422, page: /does not exist/ },
  },
  {
    name: 'form: __proto__[consent]',
    body: 'email=newcomer%40list.test&__proto__%5Bconsent%5D=on',
    expect: { status: 422, page: /agree to the terms/ },
  },
]);

/** A real token with its last character changed. */
const tampered = (t: string) => t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');

const INVALID_LINK = /not valid/;

/** /confirm, /unsubscribe, /preferences: tokens tampered, truncated, of the wrong purpose, missing, repeated. */
export const TOKEN_PAGES: HostileCase[] = group({}, [
  ...group({ method: 'GET', expect: { status: 400, page: INVALID_LINK } }, [
    { name: 'GET /confirm without a token', path: '/confirm' },
    { name: 'GET /confirm with an empty token', path: '/confirm?token=' },
    { name: 'GET /confirm with garbage', path: '/confirm?token=not-a-token' },
    {
      name: 'GET /confirm with a tampered token',
      path: (w) => `/confirm?token=${tampered(w.token('confirm', w.subscriberIds.pending))}`,
    },
    {
      name: 'GET /confirm with a truncated token',
      path: (w) => `/confirm?token=${w.token('confirm', w.subscriberIds.pending).slice(0, 20)}`,
    },
    {
      name: 'GET /confirm with an unsubscribe token',
      path: (w) => `/confirm?token=${w.token('unsubscribe', w.subscriberIds.pending)}`,
    },
    { name: 'GET /confirm with a token for nobody', path: (w) => `/confirm?token=${w.token('confirm', 987654)}` },
    {
      name: 'GET /confirm with the token twice',
      path: (w) => {
        const t = w.token('confirm', w.subscriberIds.pending);
        return `/confirm?token=${t}&token=${t}`;
      },
    },
    {
      name: 'GET /confirm with a 5,000-character token',
      path: `/confirm?token=${'a'.repeat(2500)}.${'b'.repeat(2499)}`,
    },
    {
      name: 'GET /confirm with a NUL in the token',
      path: (w) => `/confirm?token=${w.token('confirm', w.subscriberIds.pending)}%00`,
    },
    {
      name: 'GET /confirm with a token of three parts',
      path: (w) => `/confirm?token=${w.token('confirm', w.subscriberIds.pending)}.x`,
    },
    { name: 'GET /unsubscribe without a token', path: '/unsubscribe' },
    {
      name: 'GET /unsubscribe with a tampered token',
      path: (w) => `/unsubscribe?token=${tampered(w.token('unsubscribe', w.subscriberIds.active))}`,
    },
    {
      name: 'GET /unsubscribe with a confirmation token',
      path: (w) => `/unsubscribe?token=${w.token('confirm', w.subscriberIds.active)}`,
    },
    {
      name: 'GET /unsubscribe with a preferences token',
      path: (w) => `/unsubscribe?token=${w.token('preferences', w.subscriberIds.active)}`,
    },
    {
      name: 'GET /preferences with a tampered token',
      path: (w) => `/preferences?token=${tampered(w.token('preferences', w.subscriberIds.active))}`,
    },
    {
      name: 'GET /preferences with an unsubscribe token',
      path: (w) => `/preferences?token=${w.token('unsubscribe', w.subscriberIds.active)}`,
    },
    { name: 'GET /preferences with the token as a path', path: '/preferences?token=..%2F..%2Fetc%2Fpasswd' },
  ]),
  {
    name: 'GET /confirm with an expired token',
    method: 'GET',
    path: (w) => `/confirm?token=${w.expiredConfirmToken}`,
    expect: { status: 400, page: /expired/ },
  },
  ...group({ method: 'POST', headers: FORM_TYPE, expect: { status: 400, page: INVALID_LINK } }, [
    {
      name: 'POST /confirm with a tampered token',
      path: '/confirm',
      body: (w) => form({ token: tampered(w.token('confirm', w.subscriberIds.pending)) }),
    },
    {
      name: 'POST /confirm with an unsubscribe token',
      path: '/confirm',
      body: (w) => form({ token: w.token('unsubscribe', w.subscriberIds.pending) }),
    },
    {
      name: 'POST /confirm with the token in JSON',
      path: '/confirm',
      headers: JSON_TYPE,
      body: (w) => ({ token: w.token('confirm', w.subscriberIds.pending) }),
    },
    {
      name: 'POST /confirm with the token twice in the form',
      path: '/confirm',
      body: (w) => {
        const t = w.token('confirm', w.subscriberIds.pending);
        return `token=${t}&token=${t}`;
      },
    },
    {
      name: 'POST /confirm with an expired token',
      path: '/confirm',
      body: (w) => form({ token: w.expiredConfirmToken }),
      expect: { status: 400, page: /expired/ },
    },
    { name: 'POST /unsubscribe one-click without a token', path: '/unsubscribe', body: 'List-Unsubscribe=One-Click' },
    {
      name: 'POST /unsubscribe one-click with a tampered token',
      path: (w) => `/unsubscribe?token=${tampered(w.token('unsubscribe', w.subscriberIds.active))}`,
      body: 'List-Unsubscribe=One-Click',
    },
    {
      name: 'POST /unsubscribe one-click with a confirmation token',
      path: (w) => `/unsubscribe?token=${w.token('confirm', w.subscriberIds.active)}`,
      body: 'List-Unsubscribe=One-Click',
    },
    {
      name: 'POST /unsubscribe with the token twice in the query',
      path: (w) => {
        const t = w.token('unsubscribe', w.subscriberIds.active);
        return `/unsubscribe?token=${t}&token=${t}`;
      },
      body: 'List-Unsubscribe=One-Click',
    },
    {
      name: 'POST /unsubscribe multipart one-click with a truncated token',
      path: (w) => `/unsubscribe?token=${w.token('unsubscribe', w.subscriberIds.active).slice(0, 30)}`,
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      body: '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n',
    },
    {
      name: 'POST /preferences with a tampered token',
      path: '/preferences',
      body: (w) =>
        form({ token: tampered(w.token('preferences', w.subscriberIds.active)), newsletters: 'hostile-weekly' }),
    },
    {
      name: 'POST /preferences unsubscribe-all with an unsubscribe token',
      path: '/preferences',
      body: (w) => form({ token: w.token('unsubscribe', w.subscriberIds.active), action: 'unsubscribe-all' }),
    },
  ]),
  {
    name: 'POST /unsubscribe with a 20 KB body',
    method: 'POST',
    path: (w) => `/unsubscribe?token=${tampered(w.token('unsubscribe', w.subscriberIds.active))}`,
    headers: FORM_TYPE,
    body: `List-Unsubscribe=One-Click&pad=${'x'.repeat(20_000)}`,
    expect: { status: 413, code: 'payload_too_large' },
  },
  {
    name: 'POST /confirm with a 20 KB body',
    method: 'POST',
    path: '/confirm',
    headers: FORM_TYPE,
    body: `token=${'x'.repeat(20_000)}`,
    expect: { status: 413, code: 'payload_too_large' },
  },
  {
    name: 'POST /preferences choosing an unknown newsletter (a real token)',
    method: 'POST',
    path: '/preferences',
    headers: FORM_TYPE,
    body: (w) => form({ token: w.token('preferences', w.subscriberIds.active), newsletters: '../../admin' }),
    expect: { status: 422, page: /does not exist/ },
  },
  {
    name: 'POST /preferences without the newsletters field (a real token)',
    method: 'POST',
    path: '/preferences',
    headers: FORM_TYPE,
    body: (w) => form({ token: w.token('preferences', w.subscriberIds.active) }),
    expect: { status: 422, page: /newsletters is required/ },
  },
]);

const NOT_PUBLIC = /does not exist or is not public/;

/** The other public paths: web versions, assets, unknown paths and methods, the request line itself. */
export const PUBLIC_PATHS: HostileCase[] = group({}, [
  ...group({ method: 'GET', expect: { status: 404, page: NOT_PUBLIC } }, [
    { name: 'GET /archive/ of a word', path: '/archive/abc' },
    { name: 'GET /archive/0', path: '/archive/0' },
    { name: 'GET /archive/ of an exponent', path: '/archive/1e3' },
    { name: 'GET /archive/ of a hex number', path: '/archive/0x1' },
    { name: 'GET /archive/ of 20 digits', path: '/archive/99999999999999999999' },
    { name: 'GET /archive/ of an encoded path traversal', path: '/archive/..%2F..%2Fpackage.json' },
    { name: 'GET /archive/ of a draft', path: (w) => `/archive/${w.campaignId}` },
  ]),
  {
    name: 'GET /assets/ with an encoded path traversal',
    method: 'GET',
    path: '/assets/..%2F..%2Fpackage.json',
    expect: { status: 404 },
  },
  { name: 'GET /assets/ with a NUL', method: 'GET', path: '/assets/site.css%00', expect: { status: 404 } },
  {
    name: 'GET /admin/assets/ with an encoded path traversal',
    method: 'GET',
    path: '/admin/assets/..%2F..%2F..%2Fconfig.ts',
    expect: { status: 404 },
  },
  { name: 'GET /admin/assets/ of __proto__', method: 'GET', path: '/admin/assets/__proto__', expect: { status: 404 } },
  {
    name: 'GET of a dot-dot path',
    method: 'GET',
    path: '/../../etc/passwd',
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'PUT /api/subscriptions',
    method: 'PUT',
    path: '/api/subscriptions',
    body: signup,
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'DELETE /api/subscriptions',
    method: 'DELETE',
    path: '/api/subscriptions',
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'GET /api/subscriptions',
    method: 'GET',
    path: '/api/subscriptions',
    expect: { status: 404, code: 'not_found' },
  },
  { name: 'PATCH /confirm', method: 'PATCH', path: '/confirm', expect: { status: 404, code: 'not_found' } },
  {
    name: 'DELETE /unsubscribe',
    method: 'DELETE',
    path: '/unsubscribe?token=x',
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'POST /',
    method: 'POST',
    path: '/',
    headers: FORM_TYPE,
    body: form(validForm),
    expect: { status: 404, code: 'not_found' },
  },
  { name: 'a 20 KB query string', method: 'GET', path: `/?newsletter=${'n'.repeat(20_000)}`, expect: { status: 431 } },
  {
    name: 'an unknown method',
    raw: 'BREW / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    path: '/',
    expect: { status: 400 },
  },
  {
    name: 'a NUL in a header',
    raw: 'GET / HTTP/1.1\r\nHost: x\r\nX-Evil: a\u0000b\r\nConnection: close\r\n\r\n',
    path: '/',
    expect: { status: 400 },
  },
  {
    name: 'a header folded over two lines',
    raw: 'GET / HTTP/1.1\r\nHost: x\r\nX-Evil: a\r\n b\r\nConnection: close\r\n\r\n',
    path: '/',
    expect: { status: 400 },
  },
  {
    name: 'two Content-Length headers that differ',
    raw: `POST /api/subscriptions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\nConnection: close\r\n\r\n{}`,
    path: '/',
    expect: { status: 400 },
  },
  {
    name: 'a script in ?newsletter= is not reflected',
    method: 'GET',
    path: '/?newsletter=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    expect: { status: 200, page: /<form/, check: ({ text }) => expect(text).not.toContain('<script>alert(1)') },
  },
  {
    name: 'POST /healthz',
    method: 'POST',
    path: '/healthz',
    body: '{}',
    headers: JSON_TYPE,
    expect: { status: 404, code: 'not_found' },
  },
  { name: 'DELETE /readyz', method: 'DELETE', path: '/readyz', expect: { status: 404, code: 'not_found' } },
  { name: 'PUT /metrics', method: 'PUT', path: '/metrics', body: 'x', expect: { status: 404, code: 'not_found' } },
  {
    name: 'GET /metrics with a 20 KB query string',
    method: 'GET',
    path: `/metrics?x=${'m'.repeat(20_000)}`,
    expect: { status: 431 },
  },
]);
