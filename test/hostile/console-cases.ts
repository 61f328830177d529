import { type HostileCase, group } from './case';

const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };
const WRONG = /wrong|not valid|invalid/i;

/** Signing in and out, and the console's pages with a session (they read only, so hostile queries get pages). */
export const SESSIONS: HostileCase[] = group({ method: 'POST', path: '/admin/sign-in' }, [
  {
    name: 'sign-in: malformed JSON',
    headers: JSON_TYPE,
    body: '{"email":',
    expect: { status: 400, code: 'invalid_json' },
  },
  {
    name: 'sign-in: email and password as objects',
    body: { email: { $ne: null }, password: { $ne: null } },
    expect: { status: 401, code: 'invalid_credentials' },
  },
  {
    name: 'sign-in: email as an array',
    body: { email: ['admin@ops.test'], password: 'correct horse battery staple' },
    expect: { status: 401, code: 'invalid_credentials' },
  },
  {
    name: 'sign-in: password as true',
    body: { email: 'admin@ops.test', password: true },
    expect: { status: 401, code: 'invalid_credentials' },
  },
  {
    name: 'sign-in: a wrong password',
    body: { email: 'admin@ops.test', password: 'not the password' },
    expect: { status: 401, code: 'invalid_credentials' },
  },
  {
    name: 'sign-in: the email with CRLF',
    body: { email: 'admin@ops.test\r\nX: y', password: 'correct horse battery staple' },
    expect: { status: 401, code: 'invalid_credentials' },
  },
  {
    name: 'sign-in: a 20 KB password',
    body: { email: 'admin@ops.test', password: 'p'.repeat(20_000) },
    expect: { status: 413, code: 'payload_too_large' },
  },
  {
    name: 'sign-in: from another site',
    headers: { ...JSON_TYPE, origin: 'https://evil.test' },
    body: JSON.stringify({ email: 'admin@ops.test', password: 'correct horse battery staple' }),
    expect: { status: 403, code: 'csrf_failed' },
  },
  {
    name: 'sign-in: Sec-Fetch-Site cross-site',
    headers: { ...JSON_TYPE, 'sec-fetch-site': 'cross-site' },
    body: JSON.stringify({ email: 'admin@ops.test', password: 'correct horse battery staple' }),
    expect: { status: 403, code: 'csrf_failed' },
  },
  {
    name: 'sign-in: the bootstrap login once operators exist',
    body: { email: 'admin', password: 'test-admin-token-0123456789' },
    expect: { status: 401, code: 'invalid_credentials' },
  },
  {
    name: 'sign-in: a form with a wrong password',
    headers: FORM_TYPE,
    body: 'email=admin%40ops.test&password=nope',
    expect: { status: 401, page: WRONG },
  },
  {
    name: 'sign-in: a script in the form email is shown escaped',
    headers: FORM_TYPE,
    body: 'email=%3Cscript%3Ealert(1)%3C%2Fscript%3E&password=nope',
    expect: { status: 401, page: /Sign in/, check: ({ text }) => expect(text).not.toContain('<script>alert(1)') },
  },
  {
    name: 'sign-in: text/plain',
    headers: { 'content-type': 'text/plain' },
    body: 'admin@ops.test correct horse battery staple',
    expect: { status: 401, code: 'invalid_credentials' },
  },
  { name: 'sign-out: no session', path: '/admin/sign-out', expect: { status: 401, code: 'unauthorized' } },
  {
    name: 'sign-out: the session cookie without CSRF',
    path: '/admin/sign-out',
    auth: 'session-no-csrf',
    expect: { status: 403, code: 'csrf_failed' },
  },
  {
    name: 'sign-out: a wrong _csrf field',
    path: '/admin/sign-out',
    auth: 'session-no-csrf',
    headers: FORM_TYPE,
    body: '_csrf=guess',
    expect: { status: 403, code: 'csrf_failed' },
  },
  {
    name: 'sign-out: the right token from another origin',
    path: '/admin/sign-out',
    auth: 'session',
    headers: { origin: 'https://evil.test' },
    expect: { status: 403, code: 'csrf_failed' },
  },
  { name: 'session: no cookie', method: 'GET', path: '/admin/session', expect: { status: 401, code: 'unauthorized' } },
  {
    name: 'session: a cookie of 4,000 characters',
    method: 'GET',
    path: '/admin/session',
    headers: { cookie: `nl_session=${'a'.repeat(4000)}` },
    expect: { status: 401, code: 'unauthorized' },
  },
  {
    name: 'session: a quoted cookie with a NUL escape',
    method: 'GET',
    path: '/admin/session',
    headers: { cookie: 'nl_session="%00"' },
    expect: { status: 401, code: 'unauthorized' },
  },
  {
    name: 'session: DELETE',
    method: 'DELETE',
    path: '/admin/session',
    auth: 'session',
    expect: { status: 404, code: 'not_found' },
  },
]);

const SIGN_IN = '/admin/sign-in';

export const CONSOLE_PAGES: HostileCase[] = group({}, [
  ...group({ method: 'GET', expect: { status: 303, location: SIGN_IN } }, [
    { name: 'console: /admin without a session', path: '/admin' },
    {
      name: 'console: /admin/audience with a forged cookie',
      path: '/admin/audience',
      headers: { cookie: `nl_session=${'B'.repeat(43)}` },
    },
    {
      name: 'console: /admin/operators with a cookie of another name',
      path: '/admin/operators',
      headers: (w) => ({ cookie: w.session.cookie.replace('nl_session', 'nl_sessionx') }),
    },
    { name: 'console: an encoded traversal without a session', path: '/admin/..%2F..%2Fetc%2Fpasswd' },
  ]),
  ...group({ method: 'GET', auth: 'session' }, [
    {
      name: 'console: a campaign of a word',
      path: '/admin/campaigns/abc',
      expect: { status: 404, page: /No such campaign/ },
    },
    {
      name: 'console: a campaign by a hex alias',
      path: (w) => `/admin/campaigns/0x${w.campaignId.toString(16)}`,
      expect: { status: 404, page: /No such campaign/ },
    },
    {
      name: 'console: a campaign of 20 digits',
      path: '/admin/campaigns/99999999999999999999',
      expect: { status: 404, page: /No such campaign/ },
    },
    {
      name: 'console: a person that is not an address',
      path: '/admin/audience/..%2F..%2Fetc',
      expect: { status: 404, page: /Nobody with this address/ },
    },
    {
      name: 'console: a person with CRLF',
      path: '/admin/audience/jane%40list.test%0D%0AX%3A%20y',
      expect: { status: 404, page: /Nobody with this address/ },
    },
    {
      name: 'console: the audience ?status=gone',
      path: '/admin/audience?status=gone',
      expect: { status: 422, page: /status must be one of/ },
    },
    {
      name: 'console: the audience ?cursor of garbage',
      path: '/admin/audience?cursor=%3Cscript%3E',
      expect: { status: 422, page: /cursor/, check: ({ text }) => expect(text).not.toContain('<script>') },
    },
    {
      name: 'console: the audience ?q of 10,000 characters',
      path: `/admin/audience?q=${'q'.repeat(10_000)}`,
      expect: { status: 422, page: /at most/ },
    },
    {
      name: 'console: the audit log ?cursor of garbage',
      path: '/admin/audit?cursor=garbage',
      expect: { status: 422, page: /cursor/ },
    },
    {
      name: 'console: compose for an unknown newsletter',
      path: '/admin/compose?newsletter=..%2F..%2Fetc',
      expect: { status: 404, page: /No newsletter/ },
    },
    {
      name: 'console: a newsletter by an encoded traversal',
      path: '/admin/newsletters/..%2Fnews',
      expect: { status: 404 },
    },
    {
      name: 'console: a newsletter edit page of __proto__',
      path: '/admin/newsletters/__proto__/edit',
      expect: { status: 404 },
    },
    {
      name: 'console: a page that does not exist',
      path: '/admin/nothing-here',
      expect: { status: 404, code: 'not_found' },
    },
    {
      name: 'console: POST to a page',
      method: 'POST',
      path: '/admin/campaigns',
      expect: { status: 404, code: 'not_found' },
    },
  ]),
]);
