import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deliveriesSettled, eventually, startTestApp, type TestApp } from '../support/test-app';
import { seedAddresses, seedArticles, seedSubscribers } from '../support/seed';

const admin = (app: TestApp, path: string, body?: unknown) =>
  fetch(`${app.base}/api/admin${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...app.adminHeaders, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function campaignStatus(app: TestApp, id: number) {
  return (await admin(app, `/campaigns/${id}`)).json();
}

async function waitForStatus(app: TestApp, id: number, status: string, timeoutMs = 60000) {
  return eventually(
    async () => {
      const c = await campaignStatus(app, id);
      return c.status === status ? c : null;
    },
    timeoutMs,
    `campaign ${id} to be ${status}`,
  );
}

describe('a campaign to 2,000+ subscribers', () => {
  let sink: SmtpSink;
  let app: TestApp;

  beforeAll(async () => {
    sink = await startSmtpSink();
    app = await startTestApp({
      smtpUrl: sink.url,
      env: { DELIVERY_BATCH_SIZE: '150', DELIVERY_QUEUE_HIGH_WATER: '3' },
    });
  });
  afterAll(async () => {
    await app.stop();
    await sink.close();
  });

  test('reaches every active subscriber exactly once, no pending, unsubscribed or erased one, and renders MJML once', async () => {
    const { container } = app;
    const active = await seedSubscribers(container, 2100);
    await seedSubscribers(container, 30, { status: 'pending', domain: 'pending.test' });
    await seedSubscribers(container, 30, { status: 'unsubscribed', domain: 'gone.test' });
    // Erased after being active: the record is gone and the address suppressed.
    for (let i = 0; i < 20; i++)
      expect(
        (
          await fetch(`${app.base}/api/admin/subscribers/reader${i}@list.test`, {
            method: 'DELETE',
            headers: app.adminHeaders,
          })
        ).status,
      ).toBe(204);
    const articles = await seedArticles(container, 3);

    const created = await admin(app, '/campaigns', {});
    expect(created.status).toBe(201);
    const campaign = await created.json();
    expect(campaign).toMatchObject({ status: 'draft', subject: articles[0].title });
    expect([...campaign.articleIds].sort()).toEqual(articles.map((a) => a.id).sort());

    const rendersBefore = container.templates.renders;
    const sent = await admin(app, `/campaigns/${campaign.id}/send`, {});
    expect(sent.status).toBe(202);
    const done = await waitForStatus(app, campaign.id, 'sent', 90000);

    const expected = active.length - 20;
    expect(done).toMatchObject({ total: expected, sent: expected, failed: 0, bounced: 0, skipped: 0 });
    expect(done.startedAt).toBeTruthy();
    expect(done.finishedAt).toBeTruthy();
    expect(sink.messages).toHaveLength(expected);
    const recipients = sink.messages.flatMap((m) => m.to);
    expect(new Set(recipients).size).toBe(expected);
    expect(recipients.every((r) => r.endsWith('@list.test'))).toBe(true);
    for (let i = 0; i < 20; i++) expect(recipients).not.toContain(`reader${i}@list.test`);
    // One render for the whole campaign, none per recipient.
    expect(container.templates.renders - rendersBefore).toBe(1);

    // The articles are no longer new (marked by the worker right after the campaign ends, so possibly a moment
    // later).
    await eventually(
      async () => (await container.articleStore.listNew()).length === 0,
      5000,
      'the articles to be marked sent',
    );
    // ... in the newsletter the campaign went to, and only there.
    expect(await container.articleStore.listNewIn('news')).toEqual([]);
    expect((await container.articleStore.listNewIn('another')).length).toBeGreaterThan(0);
    expect((await admin(app, '/campaigns', {})).status).toBe(422);
  });

  test('each message is personalised, carries the list headers, and its one-click unsubscribe works', async () => {
    const msg = sink.to('reader100@list.test')[0];
    const mail = await msg.parse();
    const header = (name: string) => mail.headerLines.find((h) => h.key === name)?.line ?? '';
    expect(mail.subject).toBe('UN rights chief’s China visit draws criticism');
    expect(mail.from?.value[0]).toMatchObject({ name: 'The Test Gazette', address: 'news@gazette.test' });
    // The return token leads the Message-ID (so a bounce quoting only the headers names its recipient); a random
    // part after it keeps every Message-ID unique.
    const messageId = /^Message-ID: <(f-[0-9a-z]+-[0-9a-z]+-[0-9a-f]{16})\.[0-9a-f]{32}@gazette\.test>$/.exec(
      header('message-id'),
    );
    expect(messageId).not.toBeNull();
    const reader = await app.container.subscribers.getByEmail('reader100@list.test');
    const [campaign] = await app.container.campaigns.list();
    expect(app.container.tokens.verifyReturn(messageId![1])).toEqual({
      subscriberId: reader!.id,
      campaignId: campaign.id,
    });
    expect(header('list-id')).toContain('List-ID: The Test Gazette');
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const listUnsub = /<(http[^>]+)>, <mailto:[^>]+>/.exec(header('list-unsubscribe'));
    expect(listUnsub).not.toBeNull();
    expect(mail.html).toContain('Hello Reader 100,');
    expect(mail.html).toContain(listUnsub![1]);
    expect(mail.html).toContain('1 Test Street, Testville');
    expect(mail.text).toContain('Hello Reader 100,');
    expect(mail.text).toContain('Unsubscribe');
    expect(mail.html).not.toMatch(/<script/i);
    expect(mail.html).not.toContain('{{');

    const res = await fetch(listUnsub![1], {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    const exported = await (
      await fetch(`${app.base}/api/admin/subscribers/reader100@list.test`, { headers: app.adminHeaders })
    ).json();
    expect(exported.subscriber.status).toBe('unsubscribed');
  });
});

describe('failures, pause and unsubscribes during a send', () => {
  let sink: SmtpSink;
  let app: TestApp;
  const attempts = new Map<string, number>();

  beforeAll(async () => {
    sink = await startSmtpSink({
      rcptResponse: (addr) => {
        if (addr.startsWith('hard')) return 550;
        if (addr.startsWith('soft')) {
          const n = (attempts.get(addr) ?? 0) + 1;
          attempts.set(addr, n);
          return n === 1 ? 451 : undefined;
        }
        return undefined;
      },
    });
    app = await startTestApp({
      smtpUrl: sink.url,
      env: { DELIVERY_BATCH_SIZE: '50', SEND_RATE_PER_SECOND: '300', CAMPAIGN_MAX_CONSECUTIVE_FAILURES: '1000' },
    });
  });
  afterAll(async () => {
    await app.stop();
    await sink.close();
  });

  test('5xx recipients end bounced and suppressed; 4xx recipients are retried and delivered', async () => {
    const { container } = app;
    await seedSubscribers(container, 5, { domain: 'ok.test' });
    const hard = await seedAddresses(container, ['hard0@bounce.test', 'hard1@bounce.test', 'hard2@bounce.test']);
    await seedAddresses(container, ['soft0@later.test', 'soft1@later.test']);
    await seedArticles(container, 1);
    const campaign = await (await admin(app, '/campaigns', { subject: 'Failures' })).json();
    await admin(app, `/campaigns/${campaign.id}/send`, {});
    const done = await waitForStatus(app, campaign.id, 'sent', 60000);
    expect(done).toMatchObject({ total: 10, sent: 7, bounced: 3, failed: 0 });
    expect(sink.to('soft0@later.test')).toHaveLength(1);
    expect(sink.to('soft1@later.test')).toHaveLength(1);
    expect(sink.rcptCounts.get('soft0@later.test')).toBe(2);
    // A 4xx that was retried and then delivered is no bounce: nothing about it in the person's trail.
    for (const email of ['soft0@later.test', 'soft1@later.test']) {
      const trail = await container.subscribers.consentTrail(email);
      expect(trail.filter((e) => e.type === 'soft_bounced' || e.type === 'bounced')).toEqual([]);
    }
    for (const id of hard) {
      const sub = await container.subscribers.get(id);
      expect(sub?.status).toBe('bounced');
      expect(await container.subscribers.isSuppressed(sub!.email)).toBe(true);
      // Never retried.
      expect(sink.rcptCounts.get(sub!.email)).toBe(1);
    }
    // A bounced address that signs up again waits for its confirmation, still suppressed: no newsletter reaches it.
    expect(
      (
        await fetch(`${app.base}/api/subscriptions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'hard0@bounce.test', consent: true }),
        })
      ).status,
    ).toBe(202);
    expect((await container.subscribers.getByEmail('hard0@bounce.test'))?.status).toBe('pending');
    expect(await container.subscribers.isSuppressed('hard0@bounce.test')).toBe(true);
  });

  test('pause holds within a batch, resume delivers the rest exactly once, and an unsubscribe during sending is honoured', async () => {
    const { container } = app;
    const before = sink.messages.length;
    const ids = await seedSubscribers(container, 1200, { domain: 'paused.test' });
    await seedArticles(container, 1);
    const campaign = await (await admin(app, '/campaigns', { subject: 'Pause me' })).json();
    await admin(app, `/campaigns/${campaign.id}/send`, {});
    await eventually(() => sink.messages.length - before >= 200, 20000, '200 messages');

    const paused = await (await admin(app, `/campaigns/${campaign.id}/pause`, {})).json();
    expect(paused.status).toBe('paused');
    // Messages already handed to the SMTP pool may still land; after that nothing moves.
    await deliveriesSettled(app);
    const atPause = sink.messages.length;
    await new Promise((ok) => setTimeout(ok, 1500));
    expect(sink.messages.length).toBe(atPause);
    expect(atPause - before).toBeLessThan(1200);

    // Unsubscribe the last 10 (not yet reached: fan-out goes in id order) while paused.
    const leaving = ids.slice(-10);
    for (const id of leaving) {
      const token = container.tokens.issue('unsubscribe', id);
      expect((await fetch(`${app.base}/unsubscribe?token=${token}`, { method: 'POST' })).status).toBe(200);
    }

    expect((await (await admin(app, `/campaigns/${campaign.id}/resume`, {})).json()).status).toBe('sending');
    const done = await waitForStatus(app, campaign.id, 'sent', 60000);
    const got = sink.messages
      .slice(before)
      .flatMap((m) => m.to)
      .filter((a) => a.endsWith('@paused.test'));
    expect(got).toHaveLength(1190);
    expect(new Set(got).size).toBe(1190);
    for (const id of leaving) expect(got).not.toContain((await container.subscribers.get(id))!.email);
    // Those who left are either skipped by their batch or, if fan-out had not reached them yet, never queued.
    expect(done.sent).toBe(sink.messages.length - before);
    expect(done.skipped).toBeLessThanOrEqual(10);
    expect(done.total).toBe(done.sent + done.skipped);
  });

  test('cancel stops a campaign for good', async () => {
    const { container } = app;
    await seedSubscribers(container, 600, { domain: 'cancel.test' });
    await seedArticles(container, 1);
    const campaign = await (await admin(app, '/campaigns', { subject: 'Cancel me' })).json();
    await admin(app, `/campaigns/${campaign.id}/send`, {});
    await eventually(() => sink.messages.some((m) => m.to[0].endsWith('@cancel.test')), 20000, 'first message');
    const cancelled = await (await admin(app, `/campaigns/${campaign.id}/cancel`, {})).json();
    expect(cancelled.status).toBe('cancelled');
    // Messages handed to the SMTP pool before the cancel may still arrive; after that nothing moves.
    await deliveriesSettled(app);
    const count = sink.messages.filter((m) => m.to[0].endsWith('@cancel.test')).length;
    await new Promise((ok) => setTimeout(ok, 1500));
    expect(sink.messages.filter((m) => m.to[0].endsWith('@cancel.test')).length).toBe(count);
    expect(count).toBeLessThan(600);
    expect((await admin(app, `/campaigns/${campaign.id}/resume`, {})).status).toBe(409);
  });
});

describe('a 4xx answer on the last try of a batch', () => {
  let sink: SmtpSink;
  let app: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink({ rcptResponse: (addr) => (addr.startsWith('full@') ? 452 : undefined) });
    // No workers: the test runs the batch itself, as the delivery worker would, choosing which try it is.
    app = await startTestApp({ smtpUrl: sink.url, workers: false });
  });
  afterAll(async () => {
    await app.stop();
    await sink.close();
  });

  test('is a soft bounce from smtp in the trail; on an earlier try it was only a deferral', async () => {
    const { container } = app;
    const [full, fine] = await seedAddresses(container, ['full@mailbox.test', 'fine@mailbox.test']);
    await seedArticles(container, 1);
    const campaign = await container.campaigns.create({ subject: 'Last try' });
    await container.campaigns.send(campaign.id);

    await expect(container.delivery.deliverBatch(campaign.id, [full, fine], false)).rejects.toThrow(/452/);
    expect(await container.subscribers.consentTrail('full@mailbox.test')).toEqual([]);
    await container.delivery.deliverBatch(campaign.id, [full, fine], true);

    expect(sink.to('fine@mailbox.test')).toHaveLength(1);
    expect(sink.rcptCounts.get('full@mailbox.test')).toBe(2);
    const trail = await container.subscribers.consentTrail('full@mailbox.test');
    expect(trail.map((e) => [e.type, e.source])).toEqual([['soft_bounced', 'smtp']]);
    expect(trail[0].detail).toMatch(new RegExp(`^smtp: campaign ${campaign.id}: .*452`));
    // One soft bounce is below the limit: the person stays on the list; the campaign counts the send as failed.
    expect((await container.subscribers.get(full))!.status).toBe('active');
    expect(await container.campaigns.get(campaign.id)).toMatchObject({ sent: 1, failed: 1, bounced: 0 });
  });
});

describe('a campaign that keeps failing', () => {
  let sink: SmtpSink;
  let app: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink({ rcptResponse: () => 421 });
    app = await startTestApp({ smtpUrl: sink.url, env: { CAMPAIGN_MAX_CONSECUTIVE_FAILURES: '5' } });
  });
  afterAll(async () => {
    await app.stop();
    await sink.close();
  });

  test('pauses itself and shows why', async () => {
    await seedSubscribers(app.container, 30);
    await seedArticles(app.container, 1);
    const campaign = await (await admin(app, '/campaigns', {})).json();
    await admin(app, `/campaigns/${campaign.id}/send`, {});
    const paused = await waitForStatus(app, campaign.id, 'paused', 20000);
    expect(paused.reason).toMatch(/consecutive failed sends/);
    expect(paused.sent).toBe(0);
    const metrics = await (await fetch(`${app.base}/metrics`)).text();
    expect(metrics).toMatch(/^newsletter_campaign_auto_pauses_total\{reason="consecutive_failures"\} 1$/m);
  });
});

describe('campaign API', () => {
  let sink: SmtpSink;
  let app: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink();
    app = await startTestApp({ smtpUrl: sink.url });
  });
  afterAll(async () => {
    await app.stop();
    await sink.close();
  });

  test('preview renders every article and no script; test sends one message; bad input gets precise errors', async () => {
    const articles = await seedArticles(app.container, 3);
    const campaign = await (
      await admin(app, '/campaigns', { articleIds: [articles[1].id, articles[0].id], subject: 'Two stories' })
    ).json();
    expect(campaign.articleIds).toEqual([articles[1].id, articles[0].id]);
    const preview = await admin(app, `/campaigns/${campaign.id}/preview`);
    expect(preview.headers.get('content-type')).toMatch(/text\/html/);
    const html = await preview.text();
    expect(html).toContain(articles[0].title.replace('’', '’'));
    expect(html).toContain(articles[1].title);
    expect(html).not.toContain(articles[2].title);
    expect(html).not.toMatch(/<script/i);

    const test = await admin(app, `/campaigns/${campaign.id}/test`, { to: 'editor@news.test' });
    expect(test.status).toBe(200);
    await eventually(() => sink.to('editor@news.test').length === 1, 10000, 'test message');
    expect((await sink.to('editor@news.test')[0].parse()).subject).toBe('[Test] Two stories');
    expect((await campaignStatus(app, campaign.id)).status).toBe('draft');

    expect((await (await admin(app, `/campaigns/${campaign.id}/test`, { to: 'nope' })).json()).error.code).toBe(
      'invalid_email',
    );
    expect((await (await admin(app, '/campaigns', { articleIds: [99999] })).json()).error.code).toBe(
      'unknown_articles',
    );
    expect((await (await admin(app, '/campaigns', { subject: 'a\r\nBcc: x@y.z' })).json()).error.code).toBe(
      'invalid_campaign',
    );
    expect((await (await admin(app, '/campaigns', { unknown: 1 })).json()).error.code).toBe('invalid_campaign');
    expect((await admin(app, '/campaigns/424242')).status).toBe(404);
    expect((await admin(app, '/campaigns/abc')).status).toBe(400);
    expect((await admin(app, `/campaigns/${campaign.id}/pause`, {})).status).toBe(409);
    expect((await fetch(`${app.base}/api/admin/campaigns`, { method: 'POST' })).status).toBe(401);
  });
});
