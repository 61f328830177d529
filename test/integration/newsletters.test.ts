import { scheduleProblem } from '../../src/domain/newsletters';
import { Keys } from '../../src/store/keys';
import { startTestApp, TestClock, type TestApp } from '../support/test-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field in assertions
type Json = Record<string, any>;

let app: TestApp;

beforeEach(async () => {
  app = await startTestApp({ workers: false, clock: new TestClock() });
});

afterEach(async () => {
  await app.stop();
});

const api = (path: string, init: { method?: string; body?: unknown; auth?: boolean } = {}) =>
  fetch(`${app.base}/api/admin${path}`, {
    method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
    headers: { ...(init.auth === false ? {} : app.adminHeaders), 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

async function ok(res: Response, status = 200): Promise<Json> {
  const body = (await res.json()) as Json;
  expect({ status: res.status, body }).toEqual({ status, body: expect.anything() });
  return body;
}

/** Asserts the status and code, and that the first field the error names is `field`; returns the error. */
async function refused(res: Response, status: number, code: string, field: string): Promise<Json> {
  const body = (await res.json()) as Json;
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  expect(body.error.details.issues[0].field).toBe(field);
  expect(body.error.message).toMatch(new RegExp(`^${field.replace('.', '\\.')} `));
  return body.error as Json;
}

const briefing = {
  slug: 'morning-briefing',
  name: 'The Morning Briefing',
  description: 'What happened overnight, at seven.',
  fromName: 'The Morning Desk',
  categories: ['Politics', 'business', 'POLITICS'],
  mode: 'digest',
  schedule: { cron: '0 7 * * *', timezone: 'europe/london', minArticles: 3 },
};

describe('the default newsletter', () => {
  test('exists from the start, named after the site, as a digest with no schedule', async () => {
    const { newsletters } = await ok(await api('/newsletters'));
    expect(newsletters).toEqual([
      {
        slug: 'news',
        name: 'The Test Gazette',
        description: '',
        public: true,
        categories: [],
        mode: 'digest',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);
  });

  test('a restart on the same data keeps it as the operator changed it, and makes no second one', async () => {
    await ok(await api('/newsletters/news', { method: 'PATCH', body: { name: 'Daily News' } }));
    await app.container.close();
    app = await startTestApp({ workers: false, prefix: app.prefix });
    const { newsletters } = await ok(await api('/newsletters'));
    expect(newsletters.map((n: Json) => [n.slug, n.name])).toEqual([['news', 'Daily News']]);
  });

  test('DEFAULT_NEWSLETTER names it', async () => {
    await app.stop();
    app = await startTestApp({ workers: false, env: { DEFAULT_NEWSLETTER: 'daily' } });
    const { newsletters } = await ok(await api('/newsletters'));
    expect(newsletters.map((n: Json) => n.slug)).toEqual(['daily']);
  });
});

describe('POST /api/admin/newsletters', () => {
  test('creates a newsletter: the zone in its canonical spelling, categories once each whatever their case', async () => {
    const created = await ok(await api('/newsletters', { body: briefing }), 201);
    expect(created).toEqual({
      ...briefing,
      public: true,
      categories: ['Politics', 'business'],
      schedule: { cron: '0 7 * * *', timezone: 'Europe/London', minArticles: 3 },
      createdAt: '2026-11-27T12:00:00.000Z',
      updatedAt: '2026-11-27T12:00:00.000Z',
      // The next 07:00 in London after the test clock's 12:00 UTC on 27 November (GMT: 07:00 UTC).
      nextRunAt: '2026-11-28T07:00:00.000Z',
    });
    expect(await ok(await api('/newsletters/morning-briefing'))).toEqual(created);
    const { newsletters } = await ok(await api('/newsletters'));
    expect(newsletters.map((n: Json) => n.slug)).toEqual(['morning-briefing', 'news']);
  });

  test('an alerts newsletter takes a daily cap; description, categories and mode have defaults', async () => {
    const alerts = await ok(
      await api('/newsletters', { body: { slug: 'breaking', name: 'Breaking', mode: 'alerts', alertsPerDay: 4 } }),
      201,
    );
    expect(alerts).toMatchObject({ description: '', categories: [], mode: 'alerts', alertsPerDay: 4 });
    const plain = await ok(await api('/newsletters', { body: { slug: 'weekly', name: 'Weekly' } }), 201);
    expect(plain).toMatchObject({ mode: 'digest' });
    expect(plain).not.toHaveProperty('schedule');
  });

  test('a second newsletter with a taken slug is 409 newsletter_exists and the first stays as it was', async () => {
    const first = await ok(await api('/newsletters', { body: briefing }), 201);
    await refused(
      await api('/newsletters', { body: { ...briefing, name: 'Impostor' } }),
      409,
      'newsletter_exists',
      'slug',
    );
    await refused(
      await api('/newsletters', { body: { slug: 'news', name: 'Again' } }),
      409,
      'newsletter_exists',
      'slug',
    );
    expect(await ok(await api('/newsletters/morning-briefing'))).toEqual(first);
  });

  test.each([
    ['a slug with capitals', { slug: 'Morning' }, 'slug', /lowercase/],
    ['a slug of 41 characters', { slug: 'a'.repeat(41) }, 'slug', /1-40/],
    ['no name', { name: undefined }, 'name', /required/],
    ['a name with a line break', { name: 'Morning\r\nBcc: x@example.com' }, 'name', /line breaks/],
    ['an unknown mode', { mode: 'weekly' }, 'mode', /digest/],
    ['a field the API does not have', { frequency: 'daily' }, 'frequency', /not a newsletter field/],
    ['a cron that does not parse', { schedule: { ...briefing.schedule, cron: '61 7 * * *' } }, 'schedule.cron', /cron/],
    ['a cron of words', { schedule: { ...briefing.schedule, cron: 'every morning' } }, 'schedule.cron', /cron/],
    [
      'an unknown time zone',
      { schedule: { ...briefing.schedule, timezone: 'Europe/Atlantis' } },
      'schedule.timezone',
      /IANA/,
    ],
    ['an offset for a zone', { schedule: { ...briefing.schedule, timezone: '+01:00' } }, 'schedule.timezone', /IANA/],
    [
      'a schedule every 2 minutes',
      { schedule: { ...briefing.schedule, cron: '*/2 * * * *' } },
      'schedule.cron',
      /5 minutes/,
    ],
    [
      'two sends 3 minutes apart',
      { schedule: { ...briefing.schedule, cron: '0,3 7 * * *' } },
      'schedule.cron',
      /5 minutes/,
    ],
    ['every 30 seconds', { schedule: { ...briefing.schedule, cron: '*/30 * * * * *' } }, 'schedule.cron', /5 minutes/],
    [
      'no minimum of articles below 1',
      { schedule: { ...briefing.schedule, minArticles: 0 } },
      'schedule.minArticles',
      /at least 1/,
    ],
    ['a schedule on alerts', { mode: 'alerts' }, 'schedule', /only for mode "digest"/],
    ['a daily cap on a digest', { alertsPerDay: 5 }, 'alertsPerDay', /only for mode "alerts"/],
  ])('%s is 422 invalid_newsletter naming the field, and nothing is written', async (_, change, field, message) => {
    const err = await refused(
      await api('/newsletters', { body: { ...briefing, ...change } }),
      422,
      'invalid_newsletter',
      field,
    );
    expect(err.message).toMatch(message);
    const { newsletters } = await ok(await api('/newsletters'));
    expect(newsletters.map((n: Json) => n.slug)).toEqual(['news']);
  });

  test('a body that is not an object is 422; without the admin token nothing is answered', async () => {
    await refused(await api('/newsletters', { body: ['news'] }), 422, 'invalid_newsletter', 'body');
    expect((await api('/newsletters', { body: briefing, auth: false })).status).toBe(401);
    expect((await api('/newsletters', { auth: false })).status).toBe(401);
  });
});

describe('GET and PATCH /api/admin/newsletters/:slug', () => {
  test('an unknown slug is 404 for both', async () => {
    expect((await api('/newsletters/nothing')).status).toBe(404);
    expect((await api('/newsletters/NOT%20A%20SLUG')).status).toBe(404);
    expect((await api('/newsletters/nothing', { method: 'PATCH', body: { name: 'x' } })).status).toBe(404);
  });

  test('PATCH changes the fields named, null removes an optional one, and createdAt stays', async () => {
    const created = await ok(await api('/newsletters', { body: briefing }), 201);
    const changed = await ok(
      await api('/newsletters/morning-briefing', { method: 'PATCH', body: { name: 'Briefing', fromName: null } }),
    );
    expect(changed).toEqual({ ...created, name: 'Briefing', fromName: undefined, updatedAt: changed.updatedAt });
    expect(changed).not.toHaveProperty('fromName');
    expect(await ok(await api('/newsletters/morning-briefing'))).toEqual(changed);
  });

  test('the result is checked whole: alerts with the schedule still set is refused and nothing changes', async () => {
    const created = await ok(await api('/newsletters', { body: briefing }), 201);
    const patch = (body: unknown) => api('/newsletters/morning-briefing', { method: 'PATCH', body });
    await refused(await patch({ mode: 'alerts', alertsPerDay: 3 }), 422, 'invalid_newsletter', 'schedule');
    await refused(
      await patch({ schedule: { cron: '*/1 * * * *', timezone: 'UTC' } }),
      422,
      'invalid_newsletter',
      'schedule.cron',
    );
    await refused(await patch({ slug: 'renamed' }), 422, 'invalid_newsletter', 'slug');
    expect(await ok(await api('/newsletters/morning-briefing'))).toEqual(created);
    const alerts = await ok(await patch({ mode: 'alerts', schedule: null, alertsPerDay: 3 }));
    expect(alerts).toMatchObject({ mode: 'alerts', alertsPerDay: 3 });
    expect(alerts).not.toHaveProperty('schedule');
  });
});

describe('campaigns belong to a newsletter', () => {
  beforeEach(async () => {
    await ok(await api('/articles', { body: { title: 'Rates held', url: 'https://gazette.test/rates' } }), 201);
    await ok(await api('/newsletters', { body: { slug: 'weekly', name: 'Weekly' } }), 201);
  });

  test('a campaign naming none is in the default newsletter; one naming a newsletter is in it', async () => {
    const plain = await ok(await api('/campaigns', { body: {} }), 201);
    expect(plain.newsletter).toBe('news');
    const weekly = await ok(await api('/campaigns', { body: { newsletter: 'weekly' } }), 201);
    expect(weekly.newsletter).toBe('weekly');
    expect((await ok(await api(`/campaigns/${weekly.id}`))).newsletter).toBe('weekly');
  });

  test('"new" is per newsletter: an article sent in the default newsletter is still new for another', async () => {
    const later = await ok(
      await api('/articles', {
        body: { title: 'Later', url: 'https://gazette.test/later', publishedAt: '2026-11-27T13:00:00Z' },
      }),
      201,
    );
    const [rates] = (await ok(await api('/articles?status=all'))).articles.filter(
      (a: Json) => a.title === 'Rates held',
    );
    await app.container.articleStore.markSent([rates.id], 1, 'news');
    expect((await ok(await api('/campaigns', { body: {} }), 201)).articleIds).toEqual([later.id]);
    expect((await ok(await api('/campaigns', { body: { newsletter: 'weekly' } }), 201)).articleIds).toEqual([
      later.id,
      rates.id,
    ]);
  });

  test('a newsletter with categories takes only the new articles in one of them, whatever the case', async () => {
    await ok(
      await api('/newsletters', { body: { slug: 'sport', name: 'Sport', categories: ['Sport', 'Football'] } }),
      201,
    );
    const match = await ok(
      await api('/articles', {
        body: { title: 'Cup final', url: 'https://gazette.test/cup', categories: ['football'] },
      }),
      201,
    );
    await ok(
      await api('/articles', {
        body: { title: 'Budget', url: 'https://gazette.test/budget', categories: ['Politics'] },
      }),
      201,
    );
    expect((await ok(await api('/campaigns', { body: { newsletter: 'sport' } }), 201)).articleIds).toEqual([match.id]);
    await app.container.articleStore.markSent([match.id], 1, 'sport');
    const none = await api('/campaigns', { body: { newsletter: 'sport' } });
    expect(none.status).toBe(422);
    expect(((await none.json()) as Json).error).toMatchObject({
      code: 'no_new_articles',
      message: expect.stringContaining('newsletter "sport" (categories Sport, Football)'),
    });
  });

  test('an unknown newsletter is 422 unknown_newsletter and no campaign is made', async () => {
    await refused(
      await api('/campaigns', { body: { newsletter: 'monthly' } }),
      422,
      'unknown_newsletter',
      'newsletter',
    );
    await refused(await api('/campaigns', { body: { newsletter: 7 } }), 422, 'unknown_newsletter', 'newsletter');
    expect((await ok(await api('/campaigns'))).campaigns).toEqual([]);
  });
});

describe('scheduleProblem', () => {
  const from = new Date('2026-03-28T12:00:00Z');

  test('a daily 07:00 in Europe/London is allowed across the March change', () => {
    expect(scheduleProblem('0 7 * * *', 'Europe/London', from)).toBeUndefined();
  });

  test('every 5 minutes is the most often allowed, also through the October change', () => {
    expect(scheduleProblem('*/5 * * * *', 'Europe/London', new Date('2026-10-25T00:00:00Z'))).toBeUndefined();
    expect(scheduleProblem('*/4 * * * *', 'Europe/London', from)).toMatch(/5 minutes/);
  });

  test('minutes 58 and 1 of the next hour are 3 minutes apart', () => {
    expect(scheduleProblem('1,58 * * * *', 'UTC', from)).toMatch(/5 minutes/);
  });

  test('a date that never comes (30 February) is refused', () => {
    expect(scheduleProblem('0 7 30 2 *', 'UTC', from)).toBeDefined();
  });
});

describe('public and private newsletters', () => {
  test('a newsletter is public unless created or changed to private; `public` must be true or false', async () => {
    const made = await ok(
      await api('/newsletters', { body: { slug: 'insiders', name: 'Insiders', public: false } }),
      201,
    );
    expect(made.public).toBe(false);
    expect((await ok(await api('/newsletters/insiders'))).public).toBe(false);
    expect((await ok(await api('/newsletters/insiders', { method: 'PATCH', body: { public: true } }))).public).toBe(
      true,
    );
    // null removes the field, which is its default: public.
    await ok(await api('/newsletters/insiders', { method: 'PATCH', body: { public: false } }));
    expect((await ok(await api('/newsletters/insiders', { method: 'PATCH', body: { public: null } }))).public).toBe(
      true,
    );
    await refused(
      await api('/newsletters', { body: { slug: 'odd', name: 'Odd', public: 'yes' } }),
      422,
      'invalid_newsletter',
      'public',
    );
    expect((await api('/newsletters/odd')).status).toBe(404);
  });

  test('a newsletter stored before the field existed reads as public', async () => {
    const keys = new Keys(app.prefix);
    const { redis } = app.container;
    const old = {
      slug: 'old-letter',
      name: 'Old',
      description: '',
      categories: [],
      mode: 'digest',
      createdAt: 'x',
      updatedAt: 'x',
    };
    await redis.hset(keys.newsletters(), 'old-letter', JSON.stringify(old));
    expect(await ok(await api('/newsletters/old-letter'))).toEqual({ ...old, public: true });
    const signup = await fetch(`${app.base}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'old@letter.test', consent: true, newsletters: ['old-letter'] }),
    });
    expect(signup.status).toBe(202);
  });
});
