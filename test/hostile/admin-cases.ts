import { type Case, type HostileCase, WRONG_TYPES, group, nested } from './case';

const JSON_TYPE = { 'content-type': 'application/json' };
const ADMIN = '/api/admin';

/** Every /api/admin route family, asked without a credential or with a wrong one: 401, before anything is read. */
const GUARDED: [method: string, path: string][] = [
  ['GET', '/subscribers'],
  ['GET', '/subscribers/export'],
  ['GET', '/subscribers/jane%40list.test'],
  ['DELETE', '/subscribers/jane%40list.test'],
  ['POST', '/subscribers/import'],
  ['GET', '/stats'],
  ['GET', '/articles'],
  ['POST', '/articles'],
  ['GET', '/campaigns'],
  ['POST', '/campaigns'],
  ['POST', '/campaigns/1/send'],
  ['GET', '/campaigns/1/events'],
  ['GET', '/newsletters'],
  ['PATCH', '/newsletters/hostile-weekly'],
  ['GET', '/operators'],
  ['POST', '/operators/me/tokens'],
  ['GET', '/audit'],
];

const BAD_CREDENTIALS: [label: string, headers: Record<string, string>][] = [
  ['no credential', {}],
  ['a wrong bearer token', { authorization: 'Bearer not-the-admin-token' }],
  ['the admin token with a character more', { authorization: 'Bearer test-admin-token-0123456789x' }],
  [
    'basic auth with the admin token',
    { authorization: `Basic ${Buffer.from('admin:test-admin-token-0123456789').toString('base64')}` },
  ],
  ['a 2,000-character bearer token', { authorization: `Bearer ${'t'.repeat(2000)}` }],
  ['a bearer scheme in lower case and no token', { authorization: 'bearer' }],
  ['an API-token-shaped guess', { authorization: 'Bearer nlop_0000000000000000000000000000000000000000000' }],
  ['a session cookie that was never issued', { cookie: `nl_session=${'A'.repeat(43)}` }],
  ['a session cookie with a broken percent-escape', { cookie: 'nl_session=%E0%A4%A' }],
];

export const ADMIN_AUTH: HostileCase[] = group({}, [
  ...GUARDED.map(([method, path]): Case => ({
    name: `${method} ${path} with no credential`,
    method,
    path: `${ADMIN}${path}`,
    expect: { status: 401, code: 'unauthorized' },
  })),
  ...BAD_CREDENTIALS.map(([label, headers]): Case => ({
    name: `POST /campaigns with ${label}`,
    method: 'POST',
    path: `${ADMIN}/campaigns`,
    headers: { ...JSON_TYPE, ...headers },
    body: '{"subject":"x"}',
    expect: { status: 401, code: 'unauthorized' },
  })),
  ...group({ auth: 'viewer', expect: { status: 403, code: 'forbidden' } }, [
    { name: 'a viewer creates a campaign', method: 'POST', path: `${ADMIN}/campaigns`, body: { subject: 'x' } },
    { name: 'a viewer sends a campaign', method: 'POST', path: (w) => `${ADMIN}/campaigns/${w.campaignId}/send` },
    {
      name: 'a viewer adds an article',
      method: 'POST',
      path: `${ADMIN}/articles`,
      body: { title: 't', url: 'https://news.test/x' },
    },
    {
      name: 'a viewer imports subscribers',
      method: 'POST',
      path: `${ADMIN}/subscribers/import`,
      headers: { 'content-type': 'text/csv' },
      body: 'email,consentAt,consentSource\r\nx@list.test,2024-01-01,form\r\n',
    },
    { name: 'a viewer lists operators', method: 'GET', path: `${ADMIN}/operators` },
  ]),
  ...group({ auth: 'editor', expect: { status: 403, code: 'forbidden' } }, [
    { name: 'an editor erases a person', method: 'DELETE', path: `${ADMIN}/subscribers/jane%40list.test` },
    {
      name: 'an editor creates an operator',
      method: 'POST',
      path: `${ADMIN}/operators`,
      body: { email: 'new@ops.test', role: 'admin', password: 'a long enough password' },
    },
    {
      name: 'an editor makes themself admin',
      method: 'PUT',
      path: (w) => `${ADMIN}/operators/${w.editorId}/role`,
      body: { role: 'admin' },
    },
    { name: 'an editor sends an unlisted method', method: 'PUT', path: `${ADMIN}/campaigns`, body: {} },
  ]),
  {
    name: 'the ADMIN_TOKEN makes itself an API token',
    method: 'POST',
    path: `${ADMIN}/operators/me/tokens`,
    auth: 'admin',
    body: { name: 'x' },
    expect: { status: 403, code: 'forbidden' },
  },
]);

/** Console-style calls (session cookie) that lack what proves they come from the console's own pages. */
export const CSRF: HostileCase[] = group(
  {
    method: 'POST',
    path: `${ADMIN}/campaigns`,
    body: { subject: 'Planted' },
    expect: { status: 403, code: 'csrf_failed' },
  },
  [
    { name: 'the session cookie without a CSRF token', auth: 'session-no-csrf' },
    {
      name: 'the session cookie with a wrong CSRF token',
      auth: 'session-no-csrf',
      headers: (w) => ({ 'x-csrf-token': `${w.session.csrf}x` }),
    },
    { name: 'the session cookie with an empty CSRF token', auth: 'session-no-csrf', headers: { 'x-csrf-token': '' } },
    { name: 'a right CSRF token from another origin', auth: 'session', headers: { origin: 'https://evil.test' } },
    {
      name: 'a right CSRF token, Sec-Fetch-Site cross-site',
      auth: 'session',
      headers: { 'sec-fetch-site': 'cross-site' },
    },
    { name: 'a right CSRF token, Origin null without Sec-Fetch-Site', auth: 'session', headers: { origin: 'null' } },
    {
      name: 'a cross-site form post with a wrong _csrf field',
      auth: 'session-no-csrf',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '_csrf=guess&subject=Planted',
    },
    {
      name: 'the _csrf field twice (an array)',
      auth: 'session-no-csrf',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: (w) => `_csrf=${w.session.csrf}&_csrf=${w.session.csrf}`,
    },
    {
      name: 'an erasure with the session cookie alone',
      auth: 'session-no-csrf',
      method: 'DELETE',
      path: `${ADMIN}/subscribers/jane%40list.test`,
      body: undefined,
    },
    {
      name: 'a role change with the session cookie alone',
      auth: 'session-no-csrf',
      method: 'PUT',
      path: (w) => `${ADMIN}/operators/${w.editorId}/role`,
      body: { role: 'admin' },
    },
    {
      name: 'a send with the session cookie alone',
      auth: 'session-no-csrf',
      path: (w) => `${ADMIN}/campaigns/${w.campaignId}/send`,
      body: undefined,
    },
  ],
);

const article = { title: 'A hostile story', url: 'https://news.test/hostile-story' };
const invalidArticle = { status: 422, code: 'invalid_article' };

export const ARTICLES: HostileCase[] = group({ auth: 'admin', method: 'POST', path: `${ADMIN}/articles` }, [
  {
    name: 'articles: malformed JSON',
    headers: JSON_TYPE,
    body: '{"title":',
    expect: { status: 400, code: 'invalid_json' },
  },
  {
    name: 'articles: a form post',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'title=x&url=https%3A%2F%2Fnews.test%2Fx',
    expect: { status: 415, code: 'unsupported_media_type' },
  },
  {
    name: 'articles: no content type',
    body: JSON.stringify(article),
    expect: { status: 415, code: 'unsupported_media_type' },
  },
  {
    name: 'articles: a 1.5 MB body',
    headers: JSON_TYPE,
    body: JSON.stringify({ ...article, bodyHtml: 'x'.repeat(1_500_000) }),
    expect: { status: 413, code: 'payload_too_large' },
  },
  { name: 'articles: a JSON array', body: [article], expect: invalidArticle },
  { name: 'articles: JSON nested 5,000 deep', headers: JSON_TYPE, body: nested(5000), expect: invalidArticle },
  ...WRONG_TYPES.flatMap(([label, v]): Case[] => [
    { name: `articles: title as ${label}`, body: { ...article, title: v }, expect: invalidArticle },
    { name: `articles: url as ${label}`, body: { ...article, url: v }, expect: invalidArticle },
  ]),
  ...WRONG_TYPES.filter(([label]) => label !== 'null').flatMap(([label, v]): Case[] => [
    { name: `articles: summary as ${label}`, body: { ...article, summary: v }, expect: invalidArticle },
    { name: `articles: author as ${label}`, body: { ...article, author: v }, expect: invalidArticle },
    { name: `articles: publishedAt as ${label}`, body: { ...article, publishedAt: v }, expect: invalidArticle },
  ]),
  { name: 'articles: a javascript: url', body: { ...article, url: 'javascript:alert(1)' }, expect: invalidArticle },
  { name: 'articles: a file: url', body: { ...article, url: 'file:///etc/passwd' }, expect: invalidArticle },
  {
    name: 'articles: a url with CRLF',
    body: { ...article, url: 'https://news.test/x\r\nSet-Cookie: a=b' },
    expect: invalidArticle,
  },
  {
    name: 'articles: a data: image',
    body: { ...article, imageUrl: 'data:image/png;base64,AAAA' },
    expect: invalidArticle,
  },
  {
    name: 'articles: a title with CRLF',
    body: { ...article, title: 'Story\r\nBcc: victim@else.test' },
    expect: invalidArticle,
  },
  { name: 'articles: a title with a NUL', body: { ...article, title: 'Story\u0000' }, expect: invalidArticle },
  {
    name: 'articles: a title with a lone surrogate',
    headers: JSON_TYPE,
    body: '{"title":"Sto\\udc00ry","url":"https://news.test/hostile-story"}',
    expect: invalidArticle,
  },
  { name: 'articles: a title of 301 characters', body: { ...article, title: 't'.repeat(301) }, expect: invalidArticle },
  {
    name: 'articles: an author with a line separator',
    body: { ...article, author: 'Eve\u2028X-Injected: 1' },
    expect: invalidArticle,
  },
  { name: 'articles: publishedAt "yesterday"', body: { ...article, publishedAt: 'yesterday' }, expect: invalidArticle },
  {
    name: 'articles: publishedAt 30 February',
    body: { ...article, publishedAt: '2026-02-30T10:00:00Z' },
    expect: invalidArticle,
  },
  { name: 'articles: publishedAt month 13', body: { ...article, publishedAt: '2026-13-01' }, expect: invalidArticle },
  {
    name: 'articles: publishedAt in year 275760+',
    body: { ...article, publishedAt: '275761-01-01' },
    expect: invalidArticle,
  },
  { name: 'articles: categories as a string', body: { ...article, categories: 'politics' }, expect: invalidArticle },
  { name: 'articles: categories nested', body: { ...article, categories: [['politics']] }, expect: invalidArticle },
  {
    name: 'articles: 21 categories',
    body: { ...article, categories: Array.from({ length: 21 }, (_, i) => `c${i}`) },
    expect: invalidArticle,
  },
  {
    name: 'articles: a 600 KB body',
    body: { ...article, bodyHtml: '<p>x</p>'.repeat(80_000) },
    expect: invalidArticle,
  },
  {
    name: 'articles: a __proto__ key with the title',
    headers: JSON_TYPE,
    body: '{"__proto__":{"title":"x"},"url":"https://news.test/hostile-story"}',
    expect: invalidArticle,
  },
  ...group({ method: 'GET', expect: { status: 400, code: 'invalid_request' } }, [
    { name: 'articles: ?status=old', path: `${ADMIN}/articles?status=old` },
    { name: 'articles: ?status twice', path: `${ADMIN}/articles?status=new&status=all` },
    { name: 'articles: ?limit=-1', path: `${ADMIN}/articles?limit=-1` },
    { name: 'articles: ?limit=NaN', path: `${ADMIN}/articles?limit=NaN` },
    { name: 'articles: ?limit=1e309', path: `${ADMIN}/articles?limit=1e309` },
    { name: 'articles: ?limit=2.5', path: `${ADMIN}/articles?limit=2.5` },
  ]),
  ...group({ method: 'GET', expect: { status: 404, code: 'not_found' } }, [
    { name: 'articles: /articles/abc', path: `${ADMIN}/articles/abc` },
    { name: 'articles: /articles/ of a hex alias', path: (w) => `${ADMIN}/articles/0x${w.articleId.toString(16)}` },
    { name: 'articles: /articles/ of an encoded traversal', path: `${ADMIN}/articles/..%2F..%2Fcampaigns` },
    { name: 'articles: /articles/ of 25 digits', path: `${ADMIN}/articles/${'9'.repeat(25)}` },
  ]),
  {
    name: 'articles: DELETE /articles/:id',
    method: 'DELETE',
    path: (w) => `${ADMIN}/articles/${w.articleId}`,
    expect: { status: 404, code: 'not_found' },
  },
]);

const invalidCampaign = { status: 422, code: 'invalid_campaign' };
const badId = { status: 400, code: 'invalid_request' };

export const CAMPAIGNS: HostileCase[] = group({ auth: 'admin', method: 'POST', path: `${ADMIN}/campaigns` }, [
  {
    name: 'campaigns: malformed JSON',
    headers: JSON_TYPE,
    body: '{"subject":"x"',
    expect: { status: 400, code: 'invalid_json' },
  },
  {
    name: 'campaigns: a 100 KB body',
    body: { subject: 's'.repeat(100_000) },
    expect: { status: 413, code: 'payload_too_large' },
  },
  { name: 'campaigns: a JSON array', body: [{ subject: 'x' }], expect: invalidCampaign },
  ...WRONG_TYPES.filter(([label]) => label !== 'null').flatMap(([label, v]): Case[] => [
    { name: `campaigns: subject as ${label}`, body: { subject: v }, expect: invalidCampaign },
    { name: `campaigns: preheader as ${label}`, body: { preheader: v }, expect: invalidCampaign },
  ]),
  {
    name: 'campaigns: a subject with CRLF and a header',
    body: { subject: 'News\r\nBcc: victim@else.test' },
    expect: invalidCampaign,
  },
  { name: 'campaigns: a subject with a NUL', body: { subject: 'News\u0000' }, expect: invalidCampaign },
  {
    name: 'campaigns: a subject with a line separator',
    body: { subject: 'News\u2028Bcc: victim@else.test' },
    expect: invalidCampaign,
  },
  { name: 'campaigns: a subject of 1,000 characters', body: { subject: 's'.repeat(1000) }, expect: invalidCampaign },
  { name: 'campaigns: articleIds as a string', body: { articleIds: '1' }, expect: invalidCampaign },
  { name: 'campaigns: articleIds of strings', body: { articleIds: ['1'] }, expect: invalidCampaign },
  { name: 'campaigns: a negative article id', body: { articleIds: [-1] }, expect: invalidCampaign },
  { name: 'campaigns: a fractional article id', body: { articleIds: [1.5] }, expect: invalidCampaign },
  {
    name: 'campaigns: an article id of 1e300',
    headers: JSON_TYPE,
    body: '{"articleIds":[1e300]}',
    expect: invalidCampaign,
  },
  {
    name: 'campaigns: 51 article ids',
    body: { articleIds: Array.from({ length: 51 }, (_, i) => i + 1) },
    expect: invalidCampaign,
  },
  {
    name: 'campaigns: an article id twice',
    body: (w) => ({ articleIds: [w.articleId, w.articleId] }),
    expect: invalidCampaign,
  },
  {
    name: 'campaigns: an unknown article id',
    body: { articleIds: [987654] },
    expect: { status: 422, code: 'unknown_articles' },
  },
  { name: 'campaigns: an unknown field', body: { subject: 'x', status: 'sent' }, expect: invalidCampaign },
  {
    name: 'campaigns: a __proto__ key',
    headers: JSON_TYPE,
    body: '{"subject":"x","__proto__":{"status":"sent"}}',
    expect: invalidCampaign,
  },
  { name: 'campaigns: allowResend as a string', body: { subject: 'x', allowResend: 'yes' }, expect: invalidCampaign },
  {
    name: 'campaigns: newsletter as a path',
    body: { subject: 'x', newsletter: '../../etc' },
    expect: { status: 422, code: 'unknown_newsletter' },
  },
  {
    name: 'campaigns: newsletter as an object',
    body: { subject: 'x', newsletter: { slug: 'news' } },
    expect: { status: 422, code: 'unknown_newsletter' },
  },
  ...group({ method: 'GET', expect: badId }, [
    { name: 'campaigns: /campaigns/abc', path: `${ADMIN}/campaigns/abc` },
    { name: 'campaigns: /campaigns/0', path: `${ADMIN}/campaigns/0` },
    { name: 'campaigns: /campaigns/-1', path: `${ADMIN}/campaigns/-1` },
    { name: 'campaigns: /campaigns/ of 20 digits', path: `${ADMIN}/campaigns/99999999999999999999` },
    { name: 'campaigns: /campaigns/ of a hex alias', path: (w) => `${ADMIN}/campaigns/0x${w.campaignId.toString(16)}` },
    { name: 'campaigns: /campaigns/ of an exponent alias', path: (w) => `${ADMIN}/campaigns/${w.campaignId}e0` },
    { name: 'campaigns: /campaigns/ with a leading space', path: (w) => `${ADMIN}/campaigns/%20${w.campaignId}` },
    { name: 'campaigns: preview of a word', path: `${ADMIN}/campaigns/abc/preview` },
    { name: 'campaigns: events of a word', path: `${ADMIN}/campaigns/abc/events` },
    {
      name: 'campaigns: events of a binary alias',
      path: (w) => `${ADMIN}/campaigns/0b${w.campaignId.toString(2)}/events`,
    },
  ]),
  {
    name: 'campaigns: /campaigns/ of an unknown id',
    method: 'GET',
    path: `${ADMIN}/campaigns/987654`,
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'campaigns: send an unknown id',
    path: `${ADMIN}/campaigns/987654/send`,
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'campaigns: send a hex alias',
    path: (w) => `${ADMIN}/campaigns/0x${w.campaignId.toString(16)}/send`,
    expect: badId,
  },
  {
    name: 'campaigns: edit a binary alias',
    method: 'PATCH',
    path: (w) => `${ADMIN}/campaigns/0b${w.campaignId.toString(2)}`,
    body: { subject: 'Edited through an alias' },
    expect: badId,
  },
  {
    name: 'campaigns: delete an exponent alias',
    method: 'DELETE',
    path: (w) => `${ADMIN}/campaigns/${w.campaignId}e0`,
    expect: badId,
  },
  {
    name: 'campaigns: pause a draft',
    path: (w) => `${ADMIN}/campaigns/${w.campaignId}/pause`,
    expect: { status: 409, code: 'invalid_state' },
  },
  {
    name: 'campaigns: resume a draft',
    path: (w) => `${ADMIN}/campaigns/${w.campaignId}/resume`,
    expect: { status: 409, code: 'invalid_state' },
  },
  ...group({ method: 'PATCH', path: (w) => `${ADMIN}/campaigns/${w.campaignId}` }, [
    { name: 'campaigns: edit with nothing', body: {}, expect: invalidCampaign },
    { name: 'campaigns: edit the subject to an array', body: { subject: ['x'] }, expect: invalidCampaign },
    { name: 'campaigns: edit the status', body: { status: 'sent' }, expect: invalidCampaign },
    {
      name: 'campaigns: edit with JSON null',
      headers: JSON_TYPE,
      body: 'null',
      expect: { status: 400, code: 'invalid_json' },
    },
  ]),
  ...group({ path: (w) => `${ADMIN}/campaigns/${w.campaignId}/test` }, [
    {
      name: 'campaigns: a test to an address with a Bcc header',
      body: { to: 'ops@list.test\r\nBcc: victim@else.test' },
      expect: { status: 400, code: 'invalid_email' },
    },
    {
      name: 'campaigns: a test to two addresses',
      body: { to: ['ops@list.test', 'victim@else.test'] },
      expect: { status: 400, code: 'invalid_email' },
    },
    {
      name: 'campaigns: a test to a numeric host',
      body: { to: 'ops@127.1' },
      expect: { status: 400, code: 'invalid_email' },
    },
    { name: 'campaigns: a test with no address', body: {}, expect: { status: 400, code: 'invalid_email' } },
  ]),
  ...group(
    { path: (w) => `${ADMIN}/campaigns/${w.campaignId}/schedule`, expect: { status: 422, code: 'invalid_schedule' } },
    [
      { name: 'campaigns: schedule at "tomorrow"', body: { at: 'tomorrow' } },
      { name: 'campaigns: schedule at 30 February', body: { at: '2027-02-30T10:00:00Z' } },
      { name: 'campaigns: schedule at a time without a zone', body: { at: '2026-12-01T10:00:00' } },
      { name: 'campaigns: schedule at a number', body: { at: 1e20 } },
      { name: 'campaigns: schedule at an array', body: { at: ['2026-12-01T10:00:00Z'] } },
      { name: 'campaigns: schedule in the past', body: { at: '2020-01-01T00:00:00Z' } },
      { name: 'campaigns: schedule ten years ahead', body: { at: '2036-01-01T00:00:00Z' } },
      { name: 'campaigns: schedule with an extra field', body: { at: '2026-12-01T10:00:00Z', status: 'sending' } },
    ],
  ),
]);

const invalidNewsletter = { status: 422, code: 'invalid_newsletter' };
const newsletter = { slug: 'planted', name: 'Planted' };

export const NEWSLETTERS: HostileCase[] = group({ auth: 'admin', method: 'POST', path: `${ADMIN}/newsletters` }, [
  {
    name: 'newsletters: malformed JSON',
    headers: JSON_TYPE,
    body: '{"slug":',
    expect: { status: 400, code: 'invalid_json' },
  },
  {
    name: 'newsletters: a 20 KB body',
    body: { ...newsletter, description: 'd'.repeat(20_000) },
    expect: { status: 413, code: 'payload_too_large' },
  },
  { name: 'newsletters: a JSON array', body: [newsletter], expect: invalidNewsletter },
  { name: 'newsletters: a slug with a path', body: { ...newsletter, slug: '../../etc' }, expect: invalidNewsletter },
  {
    name: 'newsletters: a slug with capitals and spaces',
    body: { ...newsletter, slug: 'My List' },
    expect: invalidNewsletter,
  },
  { name: 'newsletters: a slug of __proto__', body: { ...newsletter, slug: '__proto__' }, expect: invalidNewsletter },
  ...WRONG_TYPES.filter(([label]) => label !== 'null').flatMap(([label, v]): Case[] => [
    { name: `newsletters: slug as ${label}`, body: { ...newsletter, slug: v }, expect: invalidNewsletter },
    { name: `newsletters: name as ${label}`, body: { ...newsletter, name: v }, expect: invalidNewsletter },
    { name: `newsletters: fromName as ${label}`, body: { ...newsletter, fromName: v }, expect: invalidNewsletter },
  ]),
  {
    name: 'newsletters: a fromName with CRLF',
    body: { ...newsletter, fromName: 'News\r\nBcc: victim@else.test' },
    expect: invalidNewsletter,
  },
  { name: 'newsletters: mode "weekly"', body: { ...newsletter, mode: 'weekly' }, expect: invalidNewsletter },
  { name: 'newsletters: public as "yes"', body: { ...newsletter, public: 'yes' }, expect: invalidNewsletter },
  {
    name: 'newsletters: the cron "every 5 min"',
    body: { ...newsletter, schedule: { cron: 'every 5 min', timezone: 'UTC' } },
    expect: invalidNewsletter,
  },
  {
    name: 'newsletters: a cron every minute',
    body: { ...newsletter, schedule: { cron: '* * * * *', timezone: 'UTC' } },
    expect: invalidNewsletter,
  },
  {
    name: 'newsletters: a time zone on Mars',
    body: { ...newsletter, schedule: { cron: '0 7 * * *', timezone: 'Mars/Olympus_Mons' } },
    expect: invalidNewsletter,
  },
  {
    name: 'newsletters: a time zone path',
    body: { ...newsletter, schedule: { cron: '0 7 * * *', timezone: '../../../etc/localtime' } },
    expect: invalidNewsletter,
  },
  {
    name: 'newsletters: minArticles -1',
    body: { ...newsletter, schedule: { cron: '0 7 * * *', timezone: 'UTC', minArticles: -1 } },
    expect: invalidNewsletter,
  },
  {
    name: 'newsletters: alertsPerDay 1e9',
    body: { ...newsletter, mode: 'alerts', alertsPerDay: 1e9 },
    expect: invalidNewsletter,
  },
  {
    name: 'newsletters: alertsPerDay as a string',
    body: { ...newsletter, mode: 'alerts', alertsPerDay: '3' },
    expect: invalidNewsletter,
  },
  {
    name: 'newsletters: a __proto__ key',
    headers: JSON_TYPE,
    body: '{"slug":"planted","name":"Planted","__proto__":{"public":false}}',
    expect: invalidNewsletter,
  },
  {
    name: 'newsletters: a constructor key',
    body: { ...newsletter, constructor: { name: 'x' } },
    expect: invalidNewsletter,
  },
  {
    name: 'newsletters: the slug of one that exists',
    body: (w) => ({ slug: w.newsletter, name: 'Taken over' }),
    expect: { status: 409, code: 'newsletter_exists' },
  },
  ...group({ method: 'PATCH', path: (w) => `${ADMIN}/newsletters/${w.newsletter}` }, [
    { name: 'newsletters: change the slug', body: { slug: 'renamed' }, expect: invalidNewsletter },
    { name: 'newsletters: patch with an array', body: [{ name: 'x' }], expect: invalidNewsletter },
    { name: 'newsletters: patch the mode to "weekly"', body: { mode: 'weekly' }, expect: invalidNewsletter },
    { name: 'newsletters: patch the name to null', body: { name: null }, expect: invalidNewsletter },
  ]),
  {
    name: 'newsletters: patch an encoded traversal',
    method: 'PATCH',
    path: `${ADMIN}/newsletters/..%2F..%2Fnews`,
    body: { name: 'x' },
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'newsletters: get an encoded traversal',
    method: 'GET',
    path: `${ADMIN}/newsletters/..%2Fnews`,
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'newsletters: get a NUL',
    method: 'GET',
    path: `${ADMIN}/newsletters/news%00`,
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'newsletters: runs ?limit=abc',
    method: 'GET',
    path: (w) => `${ADMIN}/newsletters/${w.newsletter}/runs?limit=abc`,
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'newsletters: runs ?limit=1e6',
    method: 'GET',
    path: (w) => `${ADMIN}/newsletters/${w.newsletter}/runs?limit=1e6`,
    expect: { status: 400, code: 'invalid_request' },
  },
  {
    name: 'newsletters: runs ?limit twice',
    method: 'GET',
    path: (w) => `${ADMIN}/newsletters/${w.newsletter}/runs?limit=1&limit=2`,
    expect: { status: 400, code: 'invalid_request' },
  },
]);

export const SUBSCRIBERS: HostileCase[] = group({ auth: 'admin', method: 'GET' }, [
  ...group({ expect: { status: 400, code: 'invalid_request' } }, [
    { name: 'subscribers: ?status=gone', path: `${ADMIN}/subscribers?status=gone` },
    { name: 'subscribers: ?status twice', path: `${ADMIN}/subscribers?status=active&status=pending` },
    { name: 'subscribers: ?limit=-5', path: `${ADMIN}/subscribers?limit=-5` },
    { name: 'subscribers: ?limit=abc', path: `${ADMIN}/subscribers?limit=abc` },
    { name: 'subscribers: ?limit=1e309', path: `${ADMIN}/subscribers?limit=1e309` },
    { name: 'subscribers: ?cursor of garbage', path: `${ADMIN}/subscribers?cursor=not-a-cursor` },
    {
      name: 'subscribers: ?cursor from another listing',
      path: `${ADMIN}/subscribers?status=active&cursor=${Buffer.from('{"v":1,"s":"pending","id":1}').toString('base64url')}`,
    },
    { name: 'subscribers: ?q of 10,000 characters', path: `${ADMIN}/subscribers?q=${'q'.repeat(10_000)}` },
    { name: 'subscribers: ?q twice', path: `${ADMIN}/subscribers?q=a&q=b` },
    { name: 'subscribers: export ?format=xml', path: `${ADMIN}/subscribers/export?format=xml` },
    { name: 'subscribers: export ?format twice', path: `${ADMIN}/subscribers/export?format=csv&format=ndjson` },
  ]),
  {
    name: 'subscribers: ?newsletter of a path',
    path: `${ADMIN}/subscribers?newsletter=..%2F..%2Fetc`,
    expect: { status: 422, code: 'unknown_newsletter' },
  },
  ...group({ expect: { status: 400, code: 'invalid_email' } }, [
    { name: 'subscribers: get a word', path: `${ADMIN}/subscribers/not-an-address` },
    { name: 'subscribers: get an encoded traversal', path: `${ADMIN}/subscribers/..%2F..%2Fstats` },
    { name: 'subscribers: get an address with CRLF', path: `${ADMIN}/subscribers/jane%40list.test%0D%0ABcc%3A%20x` },
    { name: 'subscribers: get an address with a NUL', path: `${ADMIN}/subscribers/jane%40list.test%00` },
    { name: 'subscribers: erase a word', method: 'DELETE', path: `${ADMIN}/subscribers/..%2F..` },
  ]),
  {
    name: 'subscribers: get a broken percent-escape',
    path: `${ADMIN}/subscribers/%E0%A4%A`,
    expect: { status: 400, code: 'bad_request' },
  },
  {
    name: 'subscribers: get an unknown address',
    path: `${ADMIN}/subscribers/nobody%40list.test`,
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'subscribers: erase a held address with a trailing dot',
    method: 'DELETE',
    path: `${ADMIN}/subscribers/reader0%40list.test.`,
    expect: { status: 400, code: 'invalid_email' },
  },
  {
    name: 'subscribers: PUT /subscribers',
    method: 'PUT',
    path: `${ADMIN}/subscribers`,
    body: {},
    expect: { status: 404, code: 'not_found' },
  },
]);

const invalidOperator = { status: 422, code: 'invalid_operator' };
const operator = { email: 'planted@ops.test', role: 'admin', password: 'a long enough password' };

export const OPERATORS: HostileCase[] = group({ auth: 'admin', method: 'POST', path: `${ADMIN}/operators` }, [
  {
    name: 'operators: malformed JSON',
    headers: JSON_TYPE,
    body: '{"email":',
    expect: { status: 400, code: 'invalid_json' },
  },
  ...WRONG_TYPES.map(([label, v]): Case => ({
    name: `operators: email as ${label}`,
    body: { ...operator, email: v },
    expect: invalidOperator,
  })),
  ...WRONG_TYPES.map(([label, v]): Case => ({
    name: `operators: role as ${label}`,
    body: { ...operator, role: v },
    expect: invalidOperator,
  })),
  ...WRONG_TYPES.map(([label, v]): Case => ({
    name: `operators: password as ${label}`,
    body: { ...operator, password: v },
    expect: { status: 422, code: 'invalid_password' },
  })),
  { name: 'operators: role "root"', body: { ...operator, role: 'root' }, expect: invalidOperator },
  {
    name: 'operators: a short password',
    body: { ...operator, password: 'short' },
    expect: { status: 422, code: 'invalid_password' },
  },
  {
    name: 'operators: a 2,000-character password',
    body: { ...operator, password: 'p'.repeat(2000) },
    expect: { status: 422, code: 'invalid_password' },
  },
  { name: 'operators: a name with CRLF', body: { ...operator, name: 'Op\r\nBcc: x' }, expect: invalidOperator },
  {
    name: 'operators: an email with CRLF',
    body: { ...operator, email: 'planted@ops.test\r\nBcc: x@y.test' },
    expect: invalidOperator,
  },
  {
    name: 'operators: an email on a numeric host',
    body: { ...operator, email: 'planted@127.1' },
    expect: invalidOperator,
  },
  { name: 'operators: an unknown field', body: { ...operator, disabled: false }, expect: invalidOperator },
  {
    name: 'operators: a __proto__ key with the role',
    headers: JSON_TYPE,
    body: '{"email":"planted@ops.test","password":"a long enough password","__proto__":{"role":"admin"}}',
    expect: invalidOperator,
  },
  {
    name: 'operators: the login of one that exists',
    body: { ...operator, email: 'EDITOR@ops.test' },
    expect: { status: 409, code: 'operator_exists' },
  },
  ...group({ method: 'PUT' }, [
    {
      name: 'operators: role "root" for an operator',
      path: (w) => `${ADMIN}/operators/${w.editorId}/role`,
      body: { role: 'root' },
      expect: invalidOperator,
    },
    {
      name: 'operators: role as an array',
      path: (w) => `${ADMIN}/operators/${w.editorId}/role`,
      body: { role: ['admin'] },
      expect: invalidOperator,
    },
    {
      name: 'operators: role of an unknown id',
      path: `${ADMIN}/operators/987654/role`,
      body: { role: 'viewer' },
      expect: { status: 404, code: 'not_found' },
    },
  ]),
  {
    name: 'operators: disable an encoded traversal',
    path: `${ADMIN}/operators/..%2F..%2Fme/disable`,
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'operators: enable an unknown id',
    path: `${ADMIN}/operators/987654/enable`,
    expect: { status: 404, code: 'not_found' },
  },
  ...group({ auth: 'editor', path: `${ADMIN}/operators/me/tokens` }, [
    {
      name: 'operators: a token named by an array',
      body: { name: ['x'] },
      expect: { status: 400, code: 'invalid_request' },
    },
    {
      name: 'operators: a token named with CRLF',
      body: { name: 'ci\r\nX: y' },
      expect: { status: 400, code: 'invalid_request' },
    },
    {
      name: 'operators: a token named with 101 characters',
      body: { name: 'n'.repeat(101) },
      expect: { status: 400, code: 'invalid_request' },
    },
    {
      name: 'operators: revoke an unknown token',
      method: 'DELETE',
      path: `${ADMIN}/operators/me/tokens/..%2F..`,
      expect: { status: 404, code: 'not_found' },
    },
  ]),
  ...group({ method: 'GET', expect: { status: 400, code: 'invalid_request' } }, [
    { name: 'audit: ?limit=abc', path: `${ADMIN}/audit?limit=abc` },
    { name: 'audit: ?limit=0', path: `${ADMIN}/audit?limit=0` },
    { name: 'audit: ?cursor of garbage', path: `${ADMIN}/audit?cursor=garbage` },
    { name: 'audit: an unknown filter', path: `${ADMIN}/audit?where=1` },
    { name: 'audit: ?action twice', path: `${ADMIN}/audit?action=a&action=b` },
  ]),
]);
