import type { SubscriberStatus } from '../../src/domain/subscriber';
import { seedSubscribers } from '../support/seed';
import { parseCsv } from '../support/csv';
import { startTestApp, type TestApp } from '../support/test-app';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ workers: false });
});
afterAll(async () => {
  await app.stop();
});

/** Every test starts on an empty audience: the counts and listings below are of what the test made. */
beforeEach(async () => {
  const held = [];
  for await (const page of app.container.audience.exportPages()) held.push(...page);
  for (const s of held) await app.container.subscriptions.erase(s.email);
  await app.container.redis.del(`${app.prefix}:suppressed`);
});

const ctx = { ip: '203.0.113.5', userAgent: 'audience test' };
const consent = {
  at: '2026-01-01T00:00:00.000Z',
  ip: ctx.ip,
  userAgent: ctx.userAgent,
  termsVersion: '2026-01',
  termsHash: 'x',
  source: 'audience-test',
};

interface Member {
  id: number;
  email: string;
  name: string;
  status: SubscriberStatus;
  newsletters: string[];
  createdAt: string;
  confirmedAt?: string;
}
interface Page {
  subscribers: Member[];
  nextCursor: string | null;
}

async function get(path: string) {
  return fetch(`${app.base}${path}`, { headers: app.adminHeaders });
}

async function listPage(query: Record<string, string>): Promise<Page> {
  const res = await get(`/api/admin/subscribers?${new URLSearchParams(query).toString()}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

/** Follows nextCursor to the end; returns every listed person in the order given. */
async function listAll(query: Record<string, string>): Promise<Member[]> {
  const all: Member[] = [];
  let cursor: string | null = null;
  do {
    const page: Page = await listPage(cursor ? { ...query, cursor } : query);
    all.push(...page.subscribers);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

async function create(email: string, status: SubscriberStatus = 'pending', name = '') {
  const now = new Date().toISOString();
  return (await app.container.subscribers.create({ email, name, status, consent, now, newsletters: ['news'] })).id;
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string; fields: string[] }> {
  const body = (await res.json()) as {
    error: { code: string; message: string; details?: { issues?: { field: string }[]; field?: string } };
  };
  const d = body.error.details;
  const fields = d?.issues?.map((i) => i.field) ?? (d?.field ? [d.field] : []);
  return { status: res.status, code: body.error.code, message: body.error.message, fields };
}

describe('GET /api/admin/subscribers', () => {
  test('lists people in signup order with their fields, filtered by status, never the erased', async () => {
    const a = await create('ada@example.com', 'active', 'Ada');
    const b = await create('bob@example.com', 'pending');
    const c = await create('cy@example.com', 'unsubscribed');
    const d = await create('dee@example.com', 'bounced');
    const e = await create('erased@example.com', 'active');
    expect(
      (
        await fetch(`${app.base}/api/admin/subscribers/erased%40example.com`, {
          method: 'DELETE',
          headers: app.adminHeaders,
        })
      ).status,
    ).toBe(204);

    const page = await listPage({});
    expect(page.nextCursor).toBeNull();
    expect(page.subscribers.map((s) => s.id)).toEqual([a, b, c, d]);
    expect(page.subscribers.map((s) => s.id)).not.toContain(e);
    expect(page.subscribers[0]).toMatchObject({
      id: a,
      email: 'ada@example.com',
      name: 'Ada',
      status: 'active',
      consentSource: 'audience-test',
    });
    expect(page.subscribers[0]).not.toHaveProperty('consentIp');
    for (const status of ['pending', 'active', 'unsubscribed', 'bounced'])
      expect((await listPage({ status })).subscribers.map((s) => s.status)).toEqual([status]);
  });

  test('searches by address prefix in any case, in address order, with a status filter alongside', async () => {
    await create('Anna.Karenina@Example.com', 'active');
    await create('anne@example.org', 'pending');
    await create('bert@example.com', 'active');
    await create('ANDY@example.net', 'active');

    expect((await listAll({ q: 'AN', limit: '1' })).map((s) => s.email)).toEqual([
      'ANDY@example.net',
      'Anna.Karenina@Example.com',
      'anne@example.org',
    ]);
    expect((await listAll({ q: 'anna.k' })).map((s) => s.email)).toEqual(['Anna.Karenina@Example.com']);
    expect((await listAll({ q: 'an', status: 'pending' })).map((s) => s.email)).toEqual(['anne@example.org']);
    expect(await listAll({ q: 'zz' })).toEqual([]);
    // An empty search is no search.
    expect(await listAll({ q: '' })).toHaveLength(4);
  });

  test('pages stay whole and unrepeated while people sign up during the paging', async () => {
    const before = await seedSubscribers(app.container, 120, { domain: 'paging.test' });
    let page = await listPage({ limit: '25' });
    const seen = page.subscribers.map((s) => s.id);
    const added: number[] = [];
    for (let round = 0; page.nextCursor; round++) {
      // Signups keep coming while the operator reads the next page.
      const signups =
        round < 3
          ? Promise.all(Array.from({ length: 10 }, (_, k) => create(`late${round}-${k}@paging.test`)))
          : Promise.resolve([]);
      const [next, ids] = await Promise.all([listPage({ limit: '25', cursor: page.nextCursor }), signups]);
      added.push(...ids);
      seen.push(...next.subscribers.map((s) => s.id));
      page = next;
    }
    expect(added).toHaveLength(30);
    expect(seen).toEqual([...before, ...added.sort((x, y) => x - y)]);
  });

  test('bad input is refused with 400 naming the field; an unknown newsletter with 422', async () => {
    const cases: [string, string][] = [
      ['status=gone', 'status'],
      ['status=active&status=pending', 'status'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=not-a-cursor', 'cursor'],
      [`q=${'a'.repeat(255)}`, 'q'],
    ];
    for (const [query, field] of cases) {
      const e = await errorOf(await get(`/api/admin/subscribers?${query}`));
      expect({ query, status: e.status, code: e.code, fields: e.fields }).toEqual({
        query,
        status: 400,
        code: 'invalid_request',
        fields: [field],
      });
      expect(e.message).toMatch(new RegExp(`^${field} `));
    }

    // A cursor of another listing is not one for this listing.
    for (let i = 0; i < 3; i++) await create(`c${i}@example.com`, 'active');
    const { nextCursor } = await listPage({ status: 'active', limit: '1' });
    expect(nextCursor).not.toBeNull();
    const other = await errorOf(await get(`/api/admin/subscribers?status=pending&cursor=${nextCursor}`));
    expect(other).toMatchObject({ status: 400, fields: ['cursor'] });
    expect((await errorOf(await get(`/api/admin/subscribers?q=c&cursor=${nextCursor}`))).fields).toEqual(['cursor']);

    expect(await errorOf(await get('/api/admin/subscribers?newsletter=culture'))).toMatchObject({
      status: 422,
      code: 'unknown_newsletter',
      fields: ['newsletter'],
    });
    expect((await listPage({ newsletter: 'news' })).subscribers).toHaveLength(3);
    // A newsletter holds its readers only: nobody has joined this one.
    await app.container.newsletters.create({ slug: 'weekly', name: 'The Weekly', mode: 'digest' });
    expect(await listPage({ newsletter: 'weekly' })).toEqual({ subscribers: [], nextCursor: null });
    expect((await fetch(`${app.base}/api/admin/subscribers`)).status).toBe(401);
  });
});

describe('GET /api/admin/stats', () => {
  test('counts by status are exact after a concurrent mix of signups, confirmations, unsubscribes, bounces, complaints and erasures', async () => {
    const { subscriptions, tokens, policy, subscribers } = app.container;
    const ids = await seedSubscribers(app.container, 60, { status: 'pending', domain: 'mix.test' });
    const people = (await subscribers.getMany(ids)).map((p) => p!);

    await Promise.all(
      people.map(async (p, i) => {
        // Every person is confirmed, most at the same moment as something else happens to them.
        // A confirmation that loses the race to a leave, a bounce or an erasure is refused: that is the point.
        const confirm = subscriptions.confirm(tokens.issue('confirm', p.id), ctx).catch(() => 'refused');
        switch (i % 6) {
          case 0:
            return confirm.then(() => subscriptions.confirm(tokens.issue('confirm', p.id), ctx)); // twice is fine
          case 1:
            return Promise.all([confirm, subscriptions.unsubscribe(tokens.issue('unsubscribe', p.id), ctx, 'page')]);
          case 2:
            return Promise.all([confirm, policy.apply(p, { type: 'hard_bounce', reason: '550 5.1.1 no such user' })]);
          case 3:
            return Promise.all([confirm, policy.apply(p, { type: 'complaint' })]);
          case 4:
            return Promise.all([confirm, subscriptions.erase(p.email)]);
          default:
            return confirm;
        }
      }),
    );
    // And signups through the public API, which start pending.
    for (const email of ['new1@mix.test', 'new2@mix.test']) {
      const res = await fetch(`${app.base}/api/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, consent: true, termsVersion: '2026-01' }),
      });
      expect(res.status).toBe(202);
    }

    const res = await get('/api/admin/stats');
    expect(res.status).toBe(200);
    const stats = (await res.json()) as {
      subscribers: Record<string, number>;
      newsletters: { slug: string; readers: number }[];
      suppressed: number;
    };

    // The truth, read person by person.
    const held = (await listAll({ limit: '500' })).map((s) => s.status);
    const truth = { pending: 0, active: 0, unsubscribed: 0, bounced: 0 } as Record<SubscriberStatus, number>;
    for (const s of held) truth[s]++;
    expect(stats.subscribers).toEqual({ ...truth, total: held.length });
    // Ten in each group of six whichever way each race went: the erased are gone, a complaint unsubscribes.
    expect(stats.subscribers).toEqual({ pending: 2, active: 20, unsubscribed: 20, bounced: 10, total: 52 });
    // Bounced, complained and erased addresses.
    expect(stats.suppressed).toBe(30);
    // Every active person here reads the default newsletter, and only it.
    expect(stats.newsletters.find((n) => n.slug === 'news')).toMatchObject({ readers: truth.active });
  });
});

describe('GET /api/admin/subscribers/export', () => {
  test('streams thousands of people as CSV and as NDJSON, each parsed back equal to the listing', async () => {
    await seedSubscribers(app.container, 3000, { domain: 'export.test' });
    await create('tricky@export.test', 'pending', 'Smith, "Jo"\nSecond line');
    await create('formula@export.test', 'active', '=HYPERLINK("http://evil.test","click")');
    const listed = await listAll({ limit: '500' });
    expect(listed).toHaveLength(3002);

    const csvRes = await get('/api/admin/subscribers/export?format=csv');
    expect(csvRes.status).toBe(200);
    expect(csvRes.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csvRes.headers.get('content-disposition')).toMatch(/^attachment; filename="subscribers-.*\.csv"$/);
    // Streamed: no length known up front.
    expect(csvRes.headers.get('transfer-encoding')).toBe('chunked');
    const [header, ...rows] = parseCsv(await csvRes.text());
    expect(header).toEqual([
      'email',
      'name',
      'status',
      'newsletters',
      'createdAt',
      'confirmedAt',
      'unsubscribedAt',
      'bouncedAt',
      'consentAt',
      'consentSource',
      'termsVersion',
    ]);
    const expected = listed.map((s) => [
      s.email,
      s.name,
      s.status,
      s.newsletters.join(' '),
      s.createdAt,
      s.confirmedAt ?? '',
    ]);
    const formula = expected.findIndex((r) => r[0] === 'formula@export.test');
    // OWASP: a cell a spreadsheet would run as a formula is made text with a leading apostrophe.
    expected[formula][1] = `'=HYPERLINK("http://evil.test","click")`;
    expect(rows.map((r) => r.slice(0, 6))).toEqual(expected);
    expect(rows.find((r) => r[0] === 'tricky@export.test')?.[1]).toBe('Smith, "Jo"\nSecond line');

    const ndRes = await get('/api/admin/subscribers/export?format=ndjson');
    expect(ndRes.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const lines = (await ndRes.text()).split('\n');
    expect(lines.pop()).toBe('');
    const records = lines.map((l) => JSON.parse(l) as Record<string, string>);
    expect(records.map((r) => [r.email, r.name, r.status, r.createdAt])).toEqual(
      listed.map((s) => [s.email, s.name, s.status, s.createdAt]),
    );
    // NDJSON keeps every value exactly, the formula included.
    expect(records.find((r) => r.email === 'formula@export.test')?.name).toBe('=HYPERLINK("http://evil.test","click")');
    expect(records[0]).toMatchObject({ consentSource: 'test-seed', consentAt: '2026-01-01T00:00:00.000Z' });
  });

  test('an unknown format is refused with 400 naming the field, before anything is streamed', async () => {
    expect(await errorOf(await get('/api/admin/subscribers/export?format=xlsx'))).toMatchObject({
      status: 400,
      fields: ['format'],
    });
  });
  // Last in the file: the people it makes are left for stop() to delete with the prefix, not erased one by one.
  test('reads the list only as fast as the client takes it: a person erased while the client waits is not exported', async () => {
    // Long names make a big export out of few people: 10,000 of 2 KB each.
    const rows = Array.from({ length: 10_000 }, (_, i) => ({
      email: `slow${i}@export.test`,
      name: `${'n'.repeat(2000)}${i}`,
      consent,
    }));
    for (let i = 0; i < rows.length; i += 1000)
      await app.container.subscribers.importActive(rows.slice(i, i + 1000), new Date().toISOString(), 'news');
    const res = await get('/api/admin/subscribers/export?format=ndjson');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    // ~22 MB in all, more than the socket buffers between us hold: had the server read ahead, the last person
    // would already be on the way.
    await new Promise((ok) => setTimeout(ok, 300));
    await app.container.subscriptions.erase('slow9999@export.test');
    const decoder = new TextDecoder();
    let text = decoder.decode(first.value, { stream: true });
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      text += decoder.decode(chunk.value, { stream: true });
    const emails = text
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { email: string }).email);
    expect(emails).toHaveLength(9_999);
    expect(emails.at(-1)).toBe('slow9998@export.test');
  });
});
