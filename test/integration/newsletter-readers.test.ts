import { seedArticles } from '../support/seed';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deliveriesSettled, eventually, startTestApp, type TestApp } from '../support/test-app';

let sink: SmtpSink;
let app: TestApp;

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url, env: { SIGNUP_RATE_PER_IP: '1000' } });
  for (const [slug, name] of [
    ['culture', 'The Culture Letter'],
    ['alerts', 'Breaking News'],
  ])
    await app.container.newsletters.create({ slug, name });
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function signup(body: Json, type: 'json' | 'form' = 'json') {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) for (const one of [v].flat()) form.append(k, String(one));
  return fetch(`${app.base}/api/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': type === 'json' ? 'application/json' : 'application/x-www-form-urlencoded' },
    body: type === 'json' ? JSON.stringify(body) : form.toString(),
    redirect: 'manual',
  });
}
const valid = (email: string, newsletters?: unknown) => ({ email, consent: true, newsletters });

async function exportOf(email: string): Promise<Json> {
  const res = await fetch(`${app.base}/api/admin/subscribers/${encodeURIComponent(email)}`, {
    headers: app.adminHeaders,
  });
  return (await res.json()) as Json;
}

/** Confirms through the mailed link: the newest confirmation mail to `email` after `before` mails. */
async function confirmFromMail(email: string, before: number): Promise<void> {
  const mail = await eventually(() => sink.to(email)[before], 10000, `a confirmation mail to ${email}`);
  const token = /\/confirm\?token=([A-Za-z0-9_.-]+)/.exec((await mail.parse()).text ?? '')![1];
  const res = await fetch(`${app.base}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  expect(res.status).toBe(200);
}

describe('choosing newsletters on signup', () => {
  test('one confirmation confirms every newsletter chosen; the trail names them', async () => {
    const email = 'chooser@readers.test';
    expect((await signup(valid(email, ['culture', 'alerts']))).status).toBe(202);
    let held = await exportOf(email);
    expect(held.subscriber).toMatchObject({
      status: 'pending',
      newsletters: [],
      requestedNewsletters: ['culture', 'alerts'],
    });
    expect(await app.container.subscribers.countMembers('culture')).toBe(0);

    await confirmFromMail(email, 0);
    held = await exportOf(email);
    expect(held.subscriber).toMatchObject({
      status: 'active',
      newsletters: ['culture', 'alerts'],
      requestedNewsletters: [],
    });
    expect(held.trail.map((e: Json) => [e.type, e.detail])).toEqual([
      ['subscribed', 'newsletters: culture, alerts'],
      ['confirmed', 'newsletters: culture, alerts'],
    ]);
    // One welcome for a new reader.
    await eventually(() => sink.to(email).length === 2, 10000, 'the welcome mail');
  });

  test('no choice means the default newsletter; a form field naming one (a hidden field) is a choice of one', async () => {
    expect((await signup(valid('plain@readers.test'))).status).toBe(202);
    expect((await exportOf('plain@readers.test')).subscriber.requestedNewsletters).toEqual(['news']);
    expect((await signup(valid('hidden@readers.test', 'culture'), 'form')).status).toBe(303);
    expect((await exportOf('hidden@readers.test')).subscriber.requestedNewsletters).toEqual(['culture']);
  });

  test('an unknown slug is refused with 422 naming it, a choice of none with 422, and neither stores anything', async () => {
    const unknown = await signup(valid('typo@readers.test', ['culture', 'sport']));
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as Json).error).toMatchObject({ code: 'unknown_newsletter' });
    const none = await signup(valid('none@readers.test', ['']));
    expect(none.status).toBe(422);
    expect(((await none.json()) as Json).error).toMatchObject({ code: 'no_newsletter_chosen' });
    const wrongType = await signup(valid('object@readers.test', [{ slug: 'news' }]));
    expect(wrongType.status).toBe(422);
    for (const email of ['typo@readers.test', 'none@readers.test', 'object@readers.test'])
      expect(await app.container.subscribers.getByEmail(email)).toBeNull();
  });

  test('a reader asking for one more newsletter confirms it by mail; nothing changes until then, and no second welcome', async () => {
    const email = 'more@readers.test';
    await signup(valid(email, ['news']));
    await confirmFromMail(email, 0);
    await eventually(() => sink.to(email).length === 2, 10000, 'the welcome mail');

    expect((await signup(valid(email, ['news', 'culture']))).status).toBe(202);
    expect((await exportOf(email)).subscriber).toMatchObject({
      status: 'active',
      newsletters: ['news'],
      requestedNewsletters: ['culture'],
    });
    await confirmFromMail(email, 2);
    expect((await exportOf(email)).subscriber).toMatchObject({ newsletters: ['news', 'culture'] });
    await new Promise((ok) => setTimeout(ok, 300));
    expect(sink.to(email)).toHaveLength(3);

    // Asking again for what one has sends nothing.
    await signup(valid(email, ['culture']));
    await new Promise((ok) => setTimeout(ok, 300));
    expect(sink.to(email)).toHaveLength(3);
  });
});

describe('a newsletter goes to its readers only', () => {
  test('a campaign of one newsletter reaches its readers and nobody else, and counts only them; a reader who left it since the fan-out is skipped', async () => {
    const { subscribers } = app.container;
    const consent = {
      at: new Date().toISOString(),
      ip: '',
      userAgent: '',
      termsVersion: '1',
      termsHash: '',
      source: 't',
    };
    const person = async (email: string, newsletters: string[]) =>
      (await subscribers.create({ email, name: '', status: 'active', consent, now: consent.at, newsletters })).id;
    await person('news-only@send.test', ['news']);
    await person('both@send.test', ['news', 'culture']);
    await person('culture-only@send.test', ['culture']);
    const leaving = await person('leaving@send.test', ['culture', 'news']);
    const readers = await subscribers.countMembers('culture');

    await seedArticles(app.container, 1);
    const campaign = await app.container.campaigns.create({ newsletter: 'culture' });
    // Leaves after the draft is made, before the send: the fan-out does not see them.
    await subscribers.changeNewsletters(leaving, { join: [], leave: ['culture'] }, new Date().toISOString());
    await app.container.campaigns.send(campaign.id);
    await eventually(async () => (await app.container.campaigns.get(campaign.id)).status === 'sent', 15000, 'sent');
    await deliveriesSettled(app);

    const report = await app.container.campaigns.get(campaign.id);
    expect(report).toMatchObject({ total: readers - 1, sent: readers - 1 });
    for (const email of ['both@send.test', 'culture-only@send.test'])
      expect(sink.to(email).map((m) => m.from).length).toBe(1);
    for (const email of ['news-only@send.test', 'leaving@send.test']) expect(sink.to(email)).toHaveLength(0);
  });

  test('GET /api/admin/stats counts the readers of each newsletter', async () => {
    const res = await fetch(`${app.base}/api/admin/stats`, { headers: app.adminHeaders });
    const stats = (await res.json()) as Json;
    const readers = Object.fromEntries(stats.newsletters.map((n: Json) => [n.slug, n.readers]));
    for (const slug of ['news', 'culture', 'alerts'])
      expect(readers[slug]).toBe(await app.container.subscribers.countMembers(slug));
    expect(readers.culture).toBeGreaterThan(0);
  });
});
