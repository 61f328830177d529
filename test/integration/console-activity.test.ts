import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '../support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ workers: false, env: { SIGNUP_RATE_PER_IP: '100' } });
});
afterAll(async () => {
  await app?.stop();
});

const ctx = { ip: '203.0.113.7', userAgent: 'jest' };
const today = () => app.container.activity.days(new Date(), 1).then((d) => d[0]);
const settle = () => new Promise((ok) => setTimeout(ok, 100));

describe("the dashboard's daily counters", () => {
  test('a signup, its confirmation and an unsubscribe each count once on today; a repeat signup and a bot do not', async () => {
    const { subscriptions, subscribers, links } = app.container;
    const before = await today();
    await subscriptions.subscribe({ email: 'daily@count.test', consent: true }, ctx);
    await subscriptions.subscribe({ email: 'bot@count.test', consent: true, website: 'spam' }, ctx);
    const id = (await subscribers.getByEmail('daily@count.test'))!.id;
    const token = new URL(links.confirm(id)).searchParams.get('token');
    await subscriptions.confirm(token, ctx);
    await subscriptions.subscribe({ email: 'daily@count.test', consent: true }, ctx);
    const unsubscribe = new URL(links.unsubscribe(id).url).searchParams.get('token');
    await subscriptions.unsubscribe(unsubscribe, ctx, 'page');
    await settle();
    const after = await today();
    expect({
      signups: after.signups - before.signups,
      confirmations: after.confirmations - before.confirmations,
      unsubscribes: after.unsubscribes - before.unsubscribes,
    }).toEqual({ signups: 1, confirmations: 1, unsubscribes: 1 });
  });

  test('days() gives the asked number of UTC days, oldest first, zero-filled, and the day hashes expire in about 40 days', async () => {
    const days = await app.container.activity.days(new Date('2026-03-01T10:00:00Z'), 30);
    expect(days).toHaveLength(30);
    expect(days[0].day).toBe('2026-01-31');
    expect(days.at(-1)).toEqual({ day: '2026-03-01', signups: 0, confirmations: 0, unsubscribes: 0 });
    const key = `${app.prefix}:activity:${new Date().toISOString().slice(0, 10)}`;
    const ttl = await app.container.redis.ttl(key);
    expect(ttl).toBeGreaterThan(39 * 86400);
    expect(ttl).toBeLessThanOrEqual(40 * 86400);
  });
});

describe('sends per minute and the feed’s last poll', () => {
  test('a campaign’s sends add up per minute, oldest first', async () => {
    const { activity } = app.container;
    await activity.add(77, new Date('2026-12-01T10:00:05Z'), 10);
    await activity.add(77, new Date('2026-12-01T10:00:59Z'), 5);
    await activity.add(77, new Date('2026-12-01T09:59:00Z'), 2);
    expect(await activity.perMinute(77)).toEqual([
      { minute: '2026-12-01T09:59:00.000Z', count: 2 },
      { minute: '2026-12-01T10:00:00.000Z', count: 15 },
    ]);
  });

  test('the feed ingester records each poll, a failed one with its error', async () => {
    const server: Server = createServer((req, res) => {
      if (req.url === '/rss.xml')
        return void res
          .writeHead(200, { 'content-type': 'application/rss+xml' })
          .end(
            '<rss version="2.0"><channel><title>T</title><item><title>One</title><link>https://news.test/one</link><guid>one</guid></item></channel></rss>',
          );
      res.writeHead(500).end('down');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await app.container.feedIngester.poll(`${base}/rss.xml`);
      expect(await app.container.activity.last()).toMatchObject({
        url: `${base}/rss.xml`,
        ok: true,
        added: 1,
        seen: 0,
      });
      await expect(app.container.feedIngester.poll(`${base}/down.xml`)).rejects.toThrow();
      expect(await app.container.activity.last()).toMatchObject({ url: `${base}/down.xml`, ok: false });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });
});
