import type { Article } from '../../src/domain/article';
import { runCli } from '../support/cli-process';
import { seedLongArticles, seedSubscribers } from '../support/seed';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deliveriesSettled, eventually, startTestApp, type TestApp } from '../support/test-app';

let sink: SmtpSink;
let app: TestApp;

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url });
  // One reader: every send below is one message, so what the sink holds says exactly what went out.
  await seedSubscribers(app.container, 1);
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

function admin(method: string, path: string, body?: unknown) {
  return fetch(`${app.base}/api/admin${path}`, {
    method,
    headers: { ...app.adminHeaders, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function create(body: unknown) {
  const res = await admin('POST', '/campaigns', body);
  expect(res.status).toBe(201);
  return (await res.json()) as { id: number; subject: string; articleIds: number[]; warnings: unknown[] };
}

async function waitUntilSent(id: number) {
  await eventually(
    async () => ((await (await admin('GET', `/campaigns/${id}`)).json()) as { status: string }).status === 'sent',
    30000,
    `campaign ${id} to be sent`,
  );
  await deliveriesSettled(app);
}

let made = 0;
/** Fresh articles with titles no other one has, so a rendered newsletter tells which of them it holds. */
async function articles(n: number): Promise<Article[]> {
  const out: Article[] = [];
  for (let i = 0; i < n; i++) {
    made++;
    const { article } = await app.container.articles.add({
      title: `Draft story number ${made} of the day`,
      url: `https://news.test/drafts/${made}`,
      summary: `What happened in story ${made}.`,
    });
    out.push(article);
  }
  return out;
}

/** Where each title first appears in the HTML, in the order given; -1 for one that is missing. */
function positions(html: string, list: Article[]): number[] {
  return list.map((a) => html.indexOf(a.title));
}

/** The HTML of the one message the sink received for this subject, parsed. */
async function sentHtml(subject: string): Promise<string> {
  const mails = await Promise.all(sink.messages.map((m) => m.parse()));
  const matching = mails.filter((m) => m.subject === subject);
  expect(matching).toHaveLength(1);
  return String(matching[0].html);
}

describe('editing a draft', () => {
  test('changes the subject and the articles, in the order given, and the preview shows that order', async () => {
    const [a, b, c] = await articles(3);
    const draft = await create({ articleIds: [a.id, b.id] });

    const res = await admin('PATCH', `/campaigns/${draft.id}`, {
      subject: 'Edited subject',
      articleIds: [c.id, a.id, b.id],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: draft.id,
      status: 'draft',
      subject: 'Edited subject',
      articleIds: [c.id, a.id, b.id],
      warnings: [],
    });

    const html = await (await admin('GET', `/campaigns/${draft.id}/preview`)).text();
    const [pc, pa, pb] = positions(html, [c, a, b]);
    expect(pc).toBeGreaterThan(-1);
    expect(pc).toBeLessThan(pa);
    expect(pa).toBeLessThan(pb);

    // A subject-only edit keeps the articles; the order can be changed again.
    const again = await admin('PATCH', `/campaigns/${draft.id}`, { articleIds: [b.id, a.id] });
    expect(await again.json()).toMatchObject({ subject: 'Edited subject', articleIds: [b.id, a.id] });
    const reordered = await (await admin('GET', `/campaigns/${draft.id}/preview`)).text();
    expect(reordered.indexOf(b.title)).toBeLessThan(reordered.indexOf(a.title));
    expect(reordered).not.toContain(c.title);
  });

  test('refuses unknown articles, bad input and an empty edit, and leaves the draft as it was', async () => {
    const [a] = await articles(1);
    const draft = await create({ articleIds: [a.id] });
    const cases: [unknown, number, string][] = [
      [{ articleIds: [a.id, 999999] }, 422, 'unknown_articles'],
      [{ articleIds: [] }, 422, 'invalid_campaign'],
      [{ articleIds: [a.id, a.id] }, 422, 'invalid_campaign'],
      [{ articleIds: Array.from({ length: 51 }, (_, i) => i + 1) }, 422, 'invalid_campaign'],
      [{ subject: 'two\nlines' }, 422, 'invalid_campaign'],
      [{}, 422, 'invalid_campaign'],
      [{ status: 'sent' }, 422, 'invalid_campaign'],
    ];
    for (const [body, status, code] of cases) {
      const res = await admin('PATCH', `/campaigns/${draft.id}`, body);
      expect([
        JSON.stringify(body),
        res.status,
        ((await res.json()) as { error: { code: string } }).error.code,
      ]).toEqual([JSON.stringify(body), status, code]);
    }
    expect(await (await admin('GET', `/campaigns/${draft.id}`)).json()).toMatchObject({
      subject: draft.subject,
      articleIds: [a.id],
    });
    expect((await admin('PATCH', '/campaigns/999999', { subject: 'x' })).status).toBe(404);
  });

  test('an edit that makes the newsletter too large is refused and changes nothing', async () => {
    const [small] = await articles(1);
    const draft = await create({ articleIds: [small.id] });
    const long = await seedLongArticles(app.container, 40);
    const res = await admin('PATCH', `/campaigns/${draft.id}`, { articleIds: long });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('newsletter_too_large');
    expect(await (await admin('GET', `/campaigns/${draft.id}`)).json()).toMatchObject({ articleIds: [small.id] });
  });

  test('a sending or sent campaign cannot be edited or deleted: 409 invalid_state naming its status', async () => {
    const [a, b] = await articles(2);
    const campaign = await create({ articleIds: [a.id] });
    expect((await admin('POST', `/campaigns/${campaign.id}/send`)).status).toBe(202);
    // Right after the send starts it is sending (or, with one reader, maybe already sent): either way not a draft.
    const edit = await admin('PATCH', `/campaigns/${campaign.id}`, { articleIds: [b.id] });
    expect(edit.status).toBe(409);
    const body = (await edit.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_state');
    expect(body.error.message).toMatch(/is (sending|sent); only a draft can be edited/);
    const del = await admin('DELETE', `/campaigns/${campaign.id}`);
    expect(del.status).toBe(409);

    await waitUntilSent(campaign.id);
    const after = await admin('PATCH', `/campaigns/${campaign.id}`, { subject: 'Too late' });
    expect(after.status).toBe(409);
    expect(((await after.json()) as { error: { message: string } }).error.message).toContain('is sent');
    expect((await admin('DELETE', `/campaigns/${campaign.id}`)).status).toBe(409);
    expect(await (await admin('GET', `/campaigns/${campaign.id}`)).json()).toMatchObject({
      status: 'sent',
      articleIds: [a.id],
    });
  });

  test('a paused campaign cannot be deleted either', async () => {
    const [a] = await articles(1);
    const campaign = await create({ articleIds: [a.id] });
    // Moved straight to paused through the store: a real send to one reader ends before a pause can land.
    await app.container.campaignStore.transition(campaign.id, ['draft'], 'paused', { reason: 'test' });
    const res = await admin('DELETE', `/campaigns/${campaign.id}`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('is paused');
  });
});

describe('the preheader', () => {
  test('a draft with a preheader shows it as the first line instead of the headlines, in the preview and the sent mail', async () => {
    const [a, b] = await articles(2);
    const draft = await create({
      articleIds: [a.id, b.id],
      subject: 'Preheader issue',
      preheader: '  Our pick of the week  ',
    });
    expect(draft).toMatchObject({ preheader: 'Our pick of the week' });
    const html = await (await admin('GET', `/campaigns/${draft.id}/preview`)).text();
    expect(html).toContain('Our pick of the week');
    expect(html).not.toContain('In this issue:');

    expect((await admin('POST', `/campaigns/${draft.id}/send`)).status).toBe(202);
    await waitUntilSent(draft.id);
    const sent = await sentHtml('Preheader issue');
    expect(sent).toContain('Our pick of the week');
    expect(sent).not.toContain('In this issue:');
  });

  test('an edit sets, changes and clears it (empty string: back to the headlines)', async () => {
    const [a] = await articles(1);
    const draft = await create({ articleIds: [a.id] });
    expect(draft).not.toHaveProperty('preheader');
    const preview = async () => (await admin('GET', `/campaigns/${draft.id}/preview`)).text();
    expect(await preview()).toContain(`In this issue: ${a.title}`);

    const set = await admin('PATCH', `/campaigns/${draft.id}`, { preheader: 'A quiet week' });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ preheader: 'A quiet week', subject: draft.subject });
    expect(await preview()).toContain('A quiet week');

    const cleared = await admin('PATCH', `/campaigns/${draft.id}`, { preheader: '' });
    expect(((await cleared.json()) as { preheader?: string }).preheader).toBeUndefined();
    expect(await preview()).toContain(`In this issue: ${a.title}`);
  });

  test('refuses a preheader over 150 characters or of two lines, on create and edit', async () => {
    const [a] = await articles(1);
    const draft = await create({ articleIds: [a.id] });
    for (const preheader of ['x'.repeat(151), 'two\nlines', 42]) {
      const made = await admin('POST', '/campaigns', { articleIds: [a.id], preheader });
      const edited = await admin('PATCH', `/campaigns/${draft.id}`, { preheader });
      for (const res of [made, edited]) {
        expect(res.status).toBe(422);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_campaign');
      }
    }
    expect((await admin('PATCH', `/campaigns/${draft.id}`, { preheader: 'x'.repeat(150) })).status).toBe(200);
  });
});

describe('deleting a draft', () => {
  test('answers 204, then the campaign is gone: 404, out of the list, no key left', async () => {
    const [a] = await articles(1);
    const draft = await create({ articleIds: [a.id] });
    // A preview renders the draft but stores nothing; the delete must leave no key of the campaign either way.
    expect((await admin('GET', `/campaigns/${draft.id}/preview`)).status).toBe(200);

    const res = await admin('DELETE', `/campaigns/${draft.id}`);
    expect(res.status).toBe(204);
    expect((await admin('GET', `/campaigns/${draft.id}`)).status).toBe(404);
    expect((await admin('DELETE', `/campaigns/${draft.id}`)).status).toBe(404);
    const list = (await (await admin('GET', '/campaigns')).json()) as { campaigns: { id: number }[] };
    expect(list.campaigns.map((c) => c.id)).not.toContain(draft.id);
    expect(await app.container.redis.keys(`${app.prefix}:campaign:${draft.id}*`)).toEqual([]);
    // Its articles are free again: no warning about a draft that no longer exists.
    expect((await create({ articleIds: [a.id] })).warnings).toEqual([]);
  });
});

describe('a send racing an edit or a delete of the same draft', () => {
  test('exactly one wins each time, and what goes out is one whole version of the draft', async () => {
    for (let round = 0; round < 8; round++) {
      const [a, b, c] = await articles(3);
      const subject = `Race ${round} original`;
      const editedSubject = `Race ${round} edited`;
      const draft = await create({ subject, articleIds: [a.id, b.id] });
      const [send, edit] = await Promise.all([
        admin('POST', `/campaigns/${draft.id}/send`),
        admin('PATCH', `/campaigns/${draft.id}`, { subject: editedSubject, articleIds: [c.id] }),
      ]);
      const sendCode = send.status === 202 ? 'ok' : ((await send.json()) as { error: { code: string } }).error.code;
      // The edit may also land before the send even read the draft: then both succeed, in that order.
      const editWonFirst = edit.status === 200;
      if (editWonFirst) expect(['ok', 'draft_changed']).toContain(sendCode);
      else expect([edit.status, sendCode]).toEqual([409, 'ok']);

      const stored = (await (await admin('GET', `/campaigns/${draft.id}`)).json()) as {
        status: string;
        subject: string;
        articleIds: number[];
      };
      if (sendCode !== 'ok') {
        expect(stored).toMatchObject({ status: 'draft', subject: editedSubject, articleIds: [c.id] });
        continue;
      }
      await waitUntilSent(draft.id);
      const expected = editWonFirst
        ? { subject: editedSubject, inside: [c], outside: [a, b] }
        : { subject, inside: [a, b], outside: [c] };
      expect(stored).toMatchObject({ subject: expected.subject, articleIds: expected.inside.map((x) => x.id) });
      const html = await sentHtml(expected.subject);
      for (const x of expected.inside) expect(html).toContain(x.title);
      for (const x of expected.outside) expect(html).not.toContain(x.title);
    }
  });

  test('a send and a delete: one wins, and a deleted draft sends nothing and leaves no key', async () => {
    for (let round = 0; round < 8; round++) {
      const [a] = await articles(1);
      const subject = `Delete race ${round}`;
      const draft = await create({ subject, articleIds: [a.id] });
      const [send, del] = await Promise.all([
        admin('POST', `/campaigns/${draft.id}/send`),
        admin('DELETE', `/campaigns/${draft.id}`),
      ]);
      if (del.status === 204) {
        expect(send.status).toBe(404);
        expect(await app.container.redis.keys(`${app.prefix}:campaign:${draft.id}*`)).toEqual([]);
      } else {
        expect([del.status, send.status]).toEqual([409, 202]);
        await waitUntilSent(draft.id);
      }
      const mails = await Promise.all(sink.messages.map((m) => m.parse()));
      expect(mails.filter((m) => m.subject === subject)).toHaveLength(del.status === 204 ? 0 : 1);
    }
  });
});

describe('articles used before', () => {
  test('an article already sent is refused without allowResend, naming it and its campaign, and accepted with it', async () => {
    const [a, b] = await articles(2);
    const first = await create({ articleIds: [a.id] });
    expect((await admin('POST', `/campaigns/${first.id}/send`)).status).toBe(202);
    await waitUntilSent(first.id);

    const refused = await admin('POST', '/campaigns', { articleIds: [b.id, a.id] });
    expect(refused.status).toBe(409);
    const { error } = (await refused.json()) as { error: { code: string; message: string; details: unknown } };
    expect(error.code).toBe('article_already_sent');
    expect(error.message).toContain(`article ${a.id}`);
    expect(error.message).toContain(`campaign ${first.id}`);
    expect(error.details).toEqual({ articles: [{ articleId: a.id, title: a.title, campaignId: first.id }] });

    const allowed = await create({ articleIds: [b.id, a.id], allowResend: true });
    expect(allowed.articleIds).toEqual([b.id, a.id]);

    // Editing a draft to take in a sent article follows the same rule.
    const draft = await create({ articleIds: [b.id] });
    const edit = await admin('PATCH', `/campaigns/${draft.id}`, { articleIds: [a.id] });
    expect(edit.status).toBe(409);
    expect(((await edit.json()) as { error: { code: string } }).error.code).toBe('article_already_sent');
    const forced = await admin('PATCH', `/campaigns/${draft.id}`, { articleIds: [a.id], allowResend: true });
    expect(forced.status).toBe(200);
  });

  test('an article another campaign is sending counts as sent', async () => {
    const [a] = await articles(1);
    const going = await create({ articleIds: [a.id] });
    await app.container.campaignStore.transition(going.id, ['draft'], 'paused', { reason: 'test' });
    const res = await admin('POST', '/campaigns', { articleIds: [a.id] });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(`campaign ${going.id}`);
  });

  test('an article in another draft is allowed, with a warning naming that draft; an edit does not warn of itself', async () => {
    const [a, b, c] = await articles(3);
    const one = await create({ articleIds: [a.id, b.id] });
    const two = await create({ articleIds: [b.id, c.id, a.id] });
    expect(two.warnings).toEqual([
      {
        code: 'article_in_other_draft',
        campaignId: one.id,
        articleIds: [b.id, a.id],
        message: `Draft campaign ${one.id} also holds articles ${b.id}, ${a.id}.`,
      },
    ]);
    const edited = await admin('PATCH', `/campaigns/${one.id}`, { articleIds: [a.id] });
    expect(((await edited.json()) as { warnings: unknown[] }).warnings).toEqual([
      expect.objectContaining({ campaignId: two.id, articleIds: [a.id] }),
    ]);
    const unshared = await admin('PATCH', `/campaigns/${two.id}`, { articleIds: [c.id] });
    expect(((await unshared.json()) as { warnings: unknown[] }).warnings).toEqual([]);
  });
});

describe('the CLI', () => {
  test('campaign edit, create --allow-resend with its warning, and campaign delete', async () => {
    const [a, b, c] = await articles(3);
    const draft = await create({ articleIds: [a.id] });
    const run = (args: string[]) => runCli(app.prefix, app.dataDir, args);

    const edited = await run([
      'campaign',
      'edit',
      String(draft.id),
      '--subject',
      'From the CLI',
      '--articles',
      `${c.id},${a.id}`,
    ]);
    expect(edited.stderr).toBe('');
    expect(edited).toMatchObject({ code: 0 });
    expect(edited.stdout).toContain(`edited campaign ${draft.id} (draft): articles ${c.id}, ${a.id}: From the CLI`);
    expect(await app.container.campaigns.get(draft.id)).toMatchObject({
      subject: 'From the CLI',
      articleIds: [c.id, a.id],
    });

    expect(await run(['campaign', 'edit', String(draft.id)])).toMatchObject({ code: 2 });

    // A second draft with article c: created, and the CLI prints the warning.
    const second = await run(['campaign', 'create', '--articles', `${b.id},${c.id}`]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`warning: Draft campaign ${draft.id} also holds article ${c.id}.`);

    const sent = await create({ articleIds: [b.id], allowResend: true });
    await app.container.campaigns.send(sent.id);
    await waitUntilSent(sent.id);
    const refused = await run(['campaign', 'edit', String(draft.id), '--articles', `${b.id}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`article ${b.id}`);
    expect(refused.stderr).toContain('--allow-resend');
    const forced = await run(['campaign', 'edit', String(draft.id), '--articles', `${b.id}`, '--allow-resend']);
    expect(forced.code).toBe(0);

    const deleted = await run(['campaign', 'delete', String(draft.id)]);
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted campaign ${draft.id}\n` });
    expect(await app.container.campaignStore.get(draft.id)).toBeNull();
    const again = await run(['campaign', 'delete', String(sent.id)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`Campaign ${sent.id} is sent; only a draft can be deleted`);
  });
});
