import { createHmac } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import { seedArticles } from '../support/seed';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deliveriesSettled, eventually, startTestApp, TEST_SECRETS, type TestApp } from '../support/test-app';

let sink: SmtpSink;
let app: TestApp;

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url, env: { SIGNUP_RATE_PER_IP: '1000' } });
  await app.container.newsletters.create({ slug: 'culture', name: 'The Culture Letter', description: 'Weekly.' });
  await app.container.newsletters.create({ slug: 'alerts', name: 'Breaking News' });
  await app.container.newsletters.create({ slug: 'insiders', name: 'Insiders', public: false });
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const consent = {
  at: '2026-11-01T00:00:00.000Z',
  ip: '',
  userAgent: '',
  termsVersion: '1',
  termsHash: '',
  source: 't',
};

/** An active reader of `newsletters`, made through the store (the signup flow has its own tests). */
async function reader(email: string, newsletters: string[]): Promise<number> {
  const now = new Date().toISOString();
  return (await app.container.subscribers.create({ email, name: '', status: 'active', consent, now, newsletters })).id;
}

async function exportOf(email: string): Promise<Json> {
  const res = await fetch(`${app.base}/api/admin/subscribers/${encodeURIComponent(email)}`, {
    headers: app.adminHeaders,
  });
  return (await res.json()) as Json;
}

const UA = { 'user-agent': 'preferences-test/1.0' };

function postForm(url: string, fields: [string, string][], headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...UA, ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

/** The token of a link. */
const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

/** The token with its payload changed and its signature kept: what a person editing a link would send. */
function tampered(token: string, payload: string): string {
  return `${Buffer.from(payload).toString('base64url')}.${token.split('.')[1]}`;
}

/** A token as issued before tokens could name a newsletter (three payload fields), signed with the test secret. */
function oldUnsubscribeToken(id: number): string {
  const payload = Buffer.from(`u.${id.toString(36)}.0`).toString('base64url');
  const mac = createHmac('sha256', TEST_SECRETS.APP_SECRET).update(payload).digest('base64url').slice(0, 32);
  return `${payload}.${mac}`;
}

describe('public and private newsletters on signup', () => {
  test('GET / offers the public newsletters as checkboxes, the default ticked, with an empty companion field', async () => {
    const page = await (await fetch(`${app.base}/`)).text();
    expect(page).toContain('<legend>Choose your newsletters</legend>');
    expect(page).toContain('<input type="hidden" name="newsletters" value="">');
    for (const slug of ['news', 'culture', 'alerts']) expect(page).toContain(`value="${slug}"`);
    expect(page).not.toContain('insiders');
    expect(page).toMatch(/id="nl-news"[^>]* checked/);
    expect(page).not.toMatch(/id="nl-culture"[^>]* checked/);
    expect(page).toContain('Weekly.');

    const preselected = await (await fetch(`${app.base}/?newsletter=culture`)).text();
    expect(preselected).toMatch(/id="nl-culture"[^>]* checked/);
    expect(preselected).not.toMatch(/id="nl-news"[^>]* checked/);
    // A private or unknown one preselects nothing of its own and does not show.
    const hidden = await (await fetch(`${app.base}/?newsletter=insiders`)).text();
    expect(hidden).not.toContain('insiders');
    expect(hidden).toMatch(/id="nl-news"[^>]* checked/);
  });

  test('a signup naming a private newsletter is refused exactly as one naming an unknown newsletter; nothing is stored', async () => {
    const post = (email: string, newsletters: string[]) =>
      fetch(`${app.base}/api/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, consent: true, newsletters }),
      });
    const secret = await post('private@signup.test', ['culture', 'insiders']);
    const unknown = await post('unknown@signup.test', ['culture', 'nosuch']);
    expect([secret.status, unknown.status]).toEqual([422, 422]);
    const [a, b] = [(await secret.json()) as Json, (await unknown.json()) as Json];
    expect(a.error.code).toBe('unknown_newsletter');
    expect(a.error.message.replace('insiders', 'X')).toBe(b.error.message.replace('nosuch', 'X'));
    expect(await app.container.subscribers.getByEmail('private@signup.test')).toBeNull();
    // Operators and imports still reach it.
    expect(await app.container.newsletters.resolve('insiders')).toBe('insiders');
  });

  test('a form with nothing ticked shows the form again with the reason; nothing is stored', async () => {
    const email = 'nothing@signup.test';
    const res = await postForm(`${app.base}/api/subscriptions`, [
      ['email', email],
      ['consent', 'true'],
      ['newsletters', ''],
    ]);
    expect(res.status).toBe(422);
    const page = await res.text();
    expect(page).toContain('Please choose at least one newsletter.');
    expect(page).toContain(`value="${email}"`);
    expect(page).not.toMatch(/id="nl-news"[^>]* checked/);
    expect(await app.container.subscribers.getByEmail(email)).toBeNull();
  });

  test('an embedded form naming one newsletter in a hidden field subscribes to it; the thank-you page and the confirmation name it', async () => {
    const email = 'embedded@signup.test';
    const res = await postForm(`${app.base}/api/subscriptions`, [
      ['email', email],
      ['consent', 'on'],
      ['newsletters', 'culture'],
      ['source', 'partner-site'],
    ]);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/thanks?newsletters=culture');
    const thanks = await (await fetch(`${app.base}${res.headers.get('location')}`)).text();
    expect(thanks).toContain('to confirm your subscription to The Culture Letter.');
    expect((await exportOf(email)).subscriber.requestedNewsletters).toEqual(['culture']);
    const mail = await (await eventually(() => sink.to(email)[0], 10000, 'the confirmation')).parse();
    expect(mail.text).toContain('asked to receive The Culture Letter at this address');
  });

  test('the confirmation and the welcome name every newsletter chosen; the welcome links the preference page', async () => {
    const email = 'two@signup.test';
    const res = await postForm(`${app.base}/api/subscriptions`, [
      ['email', email],
      ['consent', 'on'],
      ['newsletters', ''],
      ['newsletters', 'culture'],
      ['newsletters', 'alerts'],
    ]);
    expect(res.headers.get('location')).toBe('/thanks?newsletters=culture&newsletters=alerts');
    const confirmMail = await (await eventually(() => sink.to(email)[0], 10000, 'the confirmation')).parse();
    expect(confirmMail.text).toContain('asked to receive The Culture Letter and Breaking News at this address');
    expect(confirmMail.html).toContain('asked to receive The Culture Letter and Breaking News at this address');
    const token = /\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(confirmMail.text ?? '')![1];
    expect((await postForm(`${app.base}/confirm`, [['token', token]])).status).toBe(200);
    expect((await exportOf(email)).subscriber.newsletters).toEqual(['culture', 'alerts']);

    const welcome = await (await eventually(() => sink.to(email)[1], 10000, 'the welcome')).parse();
    expect(welcome.text).toContain('You will receive The Culture Letter and Breaking News by email.');
    const prefs = /http:\/\/[^\s"<>]+\/preferences\?token=[A-Za-z0-9_.-]+/.exec(welcome.text ?? '')![0];
    expect(await (await fetch(prefs)).text()).toContain('<h1>Your newsletters</h1>');
    // The welcome is nobody's newsletter: its unsubscribe link leaves everything.
    expect(welcome.text).toContain('Unsubscribe from everything');
  });
});

describe('the preference page', () => {
  test('shows every public newsletter and the private ones the reader receives, theirs ticked', async () => {
    const id = await reader('viewer@prefs.test', ['culture', 'insiders']);
    const res = await fetch(app.container.links.preferences(id));
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('viewer@prefs.test');
    expect(page).toMatch(/id="nl-culture"[^>]* checked/);
    expect(page).toMatch(/id="nl-insiders"[^>]* checked/);
    expect(page).toMatch(/id="nl-news"(?![^>]* checked)[^>]*>/);
    const other = await reader('other@prefs.test', ['news']);
    expect(await (await fetch(app.container.links.preferences(other))).text()).not.toContain('insiders');
  });

  test('a Save adds and drops at once, redirects to the page as stored, and writes newsletters_changed with the request', async () => {
    const email = 'saver@prefs.test';
    const id = await reader(email, ['news', 'culture']);
    const token = tokenOf(app.container.links.preferences(id));
    const res = await postForm(`${app.base}/preferences`, [
      ['token', token],
      ['newsletters', ''],
      ['newsletters', 'news'],
      ['newsletters', 'alerts'],
    ]);
    expect(res.status).toBe(303);
    const page = await (await fetch(`${app.base}${res.headers.get('location')}`)).text();
    expect(page).toContain('Your choices are saved.');
    expect(page).toMatch(/id="nl-alerts"[^>]* checked/);
    expect(page).not.toMatch(/id="nl-culture"[^>]* checked/);

    const held = await exportOf(email);
    expect(held.subscriber).toMatchObject({ status: 'active', newsletters: ['news', 'alerts'] });
    expect(await app.container.subscribers.pageMemberIds('culture', 0, 1000)).not.toContain(id);
    expect(held.trail.at(-1)).toMatchObject({
      type: 'newsletters_changed',
      detail: 'joined: alerts; left: culture (preferences)',
      userAgent: 'preferences-test/1.0',
      ip: expect.stringMatching(/127\.0\.0\.1/),
    });

    // Saving the same again changes nothing and records nothing.
    const again = await postForm(`${app.base}/preferences`, [
      ['token', token],
      ['newsletters', 'alerts'],
      ['newsletters', 'news'],
    ]);
    expect(again.status).toBe(303);
    expect((await exportOf(email)).trail).toHaveLength(held.trail.length);
  });

  test('a private newsletter the reader does not receive cannot be added; the page says so and nothing changes', async () => {
    const email = 'sneaky@prefs.test';
    const id = await reader(email, ['news']);
    const res = await postForm(`${app.base}/preferences`, [
      ['token', tokenOf(app.container.links.preferences(id))],
      ['newsletters', 'news'],
      ['newsletters', 'insiders'],
    ]);
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('newsletter &#34;insiders&#34; does not exist');
    expect((await exportOf(email)).subscriber.newsletters).toEqual(['news']);
    // A post without the field at all (not our form) is refused rather than read as "leave everything".
    const bare = await postForm(`${app.base}/preferences`, [['token', tokenOf(app.container.links.preferences(id))]]);
    expect(bare.status).toBe(422);
    expect((await exportOf(email)).subscriber.status).toBe('active');
  });

  test('unticking every box is leaving everything: status unsubscribed, with the trail event', async () => {
    const email = 'untick@prefs.test';
    const id = await reader(email, ['news', 'culture']);
    const res = await postForm(`${app.base}/preferences`, [
      ['token', tokenOf(app.container.links.preferences(id))],
      ['newsletters', ''],
    ]);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You are unsubscribed');
    const held = await exportOf(email);
    expect(held.subscriber).toMatchObject({ status: 'unsubscribed', newsletters: [] });
    expect(held.trail.at(-1)).toMatchObject({ type: 'unsubscribed', detail: 'preferences' });
    expect(await app.container.subscribers.countMembers('culture')).toBe(
      (await app.container.subscribers.pageMemberIds('culture', 0, 1000)).length,
    );
  });

  test('"Unsubscribe from everything" leaves altogether; the page then says they are not subscribed, never a 500', async () => {
    const email = 'leaver@prefs.test';
    const id = await reader(email, ['news', 'alerts']);
    const url = app.container.links.preferences(id);
    const res = await postForm(`${app.base}/preferences`, [
      ['token', tokenOf(url)],
      ['action', 'unsubscribe-all'],
    ]);
    expect(res.status).toBe(200);
    expect((await exportOf(email)).subscriber.status).toBe('unsubscribed');
    // Pressed twice (a double click): the same answer.
    expect(
      (
        await postForm(`${app.base}/preferences`, [
          ['token', tokenOf(url)],
          ['action', 'unsubscribe-all'],
        ])
      ).status,
    ).toBe(200);

    const after = await fetch(url);
    expect(after.status).toBe(200);
    const page = await after.text();
    expect(page).toContain("You're not subscribed");
    expect(page).toContain('<a href="/">Sign up</a>');
    // A Save from a page left open meanwhile changes nothing.
    const late = await postForm(`${app.base}/preferences`, [
      ['token', tokenOf(url)],
      ['newsletters', 'news'],
    ]);
    expect(late.status).toBe(200);
    expect((await exportOf(email)).subscriber.status).toBe('unsubscribed');
  });

  test('pending, bounced and erased people see the "not subscribed" page', async () => {
    const now = new Date().toISOString();
    const { subscribers } = app.container;
    const pending = (
      await subscribers.create({
        email: 'pending@prefs.test',
        name: '',
        status: 'pending',
        consent,
        now,
        newsletters: ['news'],
      })
    ).id;
    const bounced = (
      await subscribers.create({
        email: 'bounced@prefs.test',
        name: '',
        status: 'bounced',
        consent,
        now,
        newsletters: [],
      })
    ).id;
    const erased = await reader('erased@prefs.test', ['news']);
    await app.container.subscriptions.erase('erased@prefs.test');
    for (const id of [pending, bounced, erased]) {
      const res = await fetch(app.container.links.preferences(id));
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("You're not subscribed");
    }
  });

  test('a tampered or foreign token gets the invalid-link page', async () => {
    const id = await reader('tamper@prefs.test', ['news']);
    const token = tokenOf(app.container.links.preferences(id));
    for (const bad of [
      tampered(token, `p.${(id + 1).toString(36)}.0`),
      tokenOf(app.container.links.unsubscribe(id).url),
      'nonsense',
    ]) {
      const res = await fetch(`${app.base}/preferences?token=${encodeURIComponent(bad)}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('The link is not valid.');
      const post = await postForm(`${app.base}/preferences`, [
        ['token', bad],
        ['newsletters', ''],
      ]);
      expect(post.status).toBe(400);
    }
    expect((await exportOf('tamper@prefs.test')).subscriber.status).toBe('active');
  });
});

describe("unsubscribing from one newsletter's mail", () => {
  /** A header as sent (unfolded). */
  function rawHeader(mail: ParsedMail, name: string): string {
    const line = mail.headerLines.find((h) => h.key === name.toLowerCase())!.line;
    return line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n(?=[ \t])/g, '')
      .trim();
  }

  test("one-click on a newsletter's List-Unsubscribe URL leaves that newsletter only; the reader keeps the other", async () => {
    const email = 'one-click@mail.test';
    const id = await reader(email, ['news', 'culture']);
    await seedArticles(app.container, 1);
    const campaign = await app.container.campaigns.create({ newsletter: 'culture' });
    await app.container.campaigns.send(campaign.id);
    const mail = await (await eventually(() => sink.to(email)[0], 15000, 'the culture letter')).parse();
    await deliveriesSettled(app);

    const header = rawHeader(mail, 'List-Unsubscribe');
    const [, https, mailto] = /^<(http:[^>]+)>, <(mailto:[^>]+)>$/.exec(header)!;
    expect(rawHeader(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    // The visible link is the same one, and the footer links the preference page beside it.
    expect(mail.text).toContain(https);
    expect(mail.text).toContain('Unsubscribe from this newsletter');
    expect(mail.text).toMatch(/\/preferences\?token=/);
    expect(mailto).toContain(tokenOf(https));

    // The page for the link names the newsletter and offers leaving everything and the preference page.
    const page = await (await fetch(https)).text();
    expect(page).toContain('Unsubscribe from The Culture Letter');
    expect(page).toContain('Unsubscribe from everything');
    expect(page).toMatch(/href="http:\/\/[^"]+\/preferences\?token=/);

    const oneClick = () =>
      fetch(https, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...UA },
        body: 'List-Unsubscribe=One-Click',
        redirect: 'manual',
      });
    const res = await oneClick();
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You are unsubscribed from The Culture Letter');
    let held = await exportOf(email);
    expect(held.subscriber).toMatchObject({ status: 'active', newsletters: ['news'] });
    expect(held.trail.at(-1)).toMatchObject({
      type: 'newsletters_changed',
      detail: 'left: culture (one-click)',
      userAgent: 'preferences-test/1.0',
    });
    expect(await app.container.subscribers.pageMemberIds('news', 0, 1e6)).toContain(id);

    // Again: idempotent, still 200, nothing more recorded.
    expect((await oneClick()).status).toBe(200);
    held = await exportOf(email);
    expect(held.subscriber.newsletters).toEqual(['news']);
    expect(held.trail.filter((e: Json) => e.type === 'newsletters_changed')).toHaveLength(1);
    // The page now says they no longer receive it and still offers leaving everything.
    expect(await (await fetch(https)).text()).toContain('You no longer receive The Culture Letter.');
  });

  test('leaving the last newsletter is leaving everything: status unsubscribed', async () => {
    const email = 'last@mail.test';
    const id = await reader(email, ['alerts']);
    const { url } = app.container.links.unsubscribe(id, 'alerts');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      body: '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n',
    });
    expect(res.status).toBe(200);
    const held = await exportOf(email);
    expect(held.subscriber).toMatchObject({ status: 'unsubscribed', newsletters: [] });
    // A multipart one-click counts as one-click, as the form-encoded one does.
    expect(held.trail.at(-1)).toMatchObject({ type: 'unsubscribed', detail: 'one-click' });
  });

  test('"Unsubscribe from everything" on a newsletter link\'s page leaves every newsletter', async () => {
    const email = 'everything@mail.test';
    const id = await reader(email, ['news', 'culture']);
    const { url } = app.container.links.unsubscribe(id, 'culture');
    const res = await postForm(url, [['scope', 'everything']]);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You are unsubscribed');
    expect((await exportOf(email)).subscriber).toMatchObject({ status: 'unsubscribed', newsletters: [] });
  });

  test('a mailed unsubscribe with a newsletter token leaves that newsletter only', async () => {
    const email = 'mailto@mail.test';
    const id = await reader(email, ['news', 'culture']);
    const token = tokenOf(app.container.links.unsubscribe(id, 'culture').url);
    expect(await app.container.subscriptions.unsubscribeByMail(token)).toBe('left_newsletter');
    expect(await app.container.subscriptions.unsubscribeByMail(token)).toBe('unchanged');
    const held = await exportOf(email);
    expect(held.subscriber).toMatchObject({ status: 'active', newsletters: ['news'] });
    expect(held.trail.at(-1)).toMatchObject({ type: 'newsletters_changed', detail: 'left: culture (mailto)' });
  });

  test('an unsubscribe token from before newsletters (no slug) still works and means everything', async () => {
    const email = 'old-token@mail.test';
    const id = await reader(email, ['news', 'culture']);
    const token = oldUnsubscribeToken(id);
    // The format did not change for whole-person tokens: today's are byte for byte the same.
    expect(tokenOf(app.container.links.unsubscribe(id).url)).toBe(token);
    const page = await (await fetch(`${app.base}/unsubscribe?token=${token}`)).text();
    expect(page).toContain('stop receiving all our newsletters');
    const res = await postForm(`${app.base}/unsubscribe?token=${token}`, [['List-Unsubscribe', 'One-Click']]);
    expect(res.status).toBe(200);
    expect((await exportOf(email)).subscriber).toMatchObject({ status: 'unsubscribed', newsletters: [] });
  });

  test('a tampered newsletter token (the slug edited) gets the invalid-link page and changes nothing', async () => {
    const email = 'tampered@mail.test';
    const id = await reader(email, ['news', 'culture']);
    const token = tokenOf(app.container.links.unsubscribe(id, 'culture').url);
    const edited = tampered(token, `u.${id.toString(36)}.0.news`);
    const stripped = tampered(token, `u.${id.toString(36)}.0`);
    for (const bad of [edited, stripped]) {
      const get = await fetch(`${app.base}/unsubscribe?token=${bad}`);
      expect(get.status).toBe(400);
      expect(await get.text()).toContain('This unsubscribe link is not valid');
      expect((await postForm(`${app.base}/unsubscribe?token=${bad}`, [['List-Unsubscribe', 'One-Click']])).status).toBe(
        400,
      );
    }
    expect((await exportOf(email)).subscriber.newsletters).toEqual(['news', 'culture']);
  });
});
