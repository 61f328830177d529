import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { campaignEventRoutes } from '../../src/http/campaign-events';
import { seedArticles } from '../support/seed';
import { eventually, startTestApp, type TestApp } from '../support/test-app';

let app: TestApp;
let server: Server;
let base: string;
let reads = 0;

beforeAll(async () => {
  app = await startTestApp({ workers: false });
  const { campaigns, activity } = app.container;
  // The real use case, counted: how often an open stream reads the campaign.
  const counted = { get: (id: number) => (reads++, campaigns.get(id)) };
  const web = express();
  web.use(
    '/api/admin',
    campaignEventRoutes({ campaigns: counted, timeline: activity }, { intervalMs: 50, keepAliveMs: 200 }),
  );
  server = web.listen(0);
  await new Promise<void>((ok) => server.once('listening', () => ok()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
  await app?.stop();
});

async function pausedCampaign(): Promise<number> {
  const articles = await seedArticles(app.container, 1);
  const c = await app.container.campaigns.create({ subject: 'Quiet', articleIds: articles.map((a) => a.id) });
  await app.container.campaignStore.transition(c.id, ['draft'], 'paused', {});
  return c.id;
}

describe('the campaign event stream', () => {
  test('a quiet campaign gets one progress event, then keep-alive comments, never the same event again', async () => {
    const id = await pausedCampaign();
    const controller = new AbortController();
    const res = await fetch(`${base}/api/admin/campaigns/${id}/events`, { signal: controller.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = Date.now() + 700;
    while (Date.now() < until) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    controller.abort();
    expect(text.match(/^event: progress$/gm)).toHaveLength(1);
    expect(text.match(/^: keep-alive$/gm)!.length).toBeGreaterThanOrEqual(2);
    expect(text.startsWith('retry: 2000\n\n')).toBe(true);
  });

  test('when the client goes away the server stops reading the campaign', async () => {
    const id = await pausedCampaign();
    const controller = new AbortController();
    const res = await fetch(`${base}/api/admin/campaigns/${id}/events`, { signal: controller.signal });
    await res.body!.getReader().read();
    const before = reads;
    await eventually(() => reads >= before + 3, 2000, 'the stream to keep reading');
    controller.abort();
    await new Promise((ok) => setTimeout(ok, 150));
    const atClose = reads;
    await new Promise((ok) => setTimeout(ok, 400));
    expect(reads).toBe(atClose);
  });

  test('a finished campaign gets its state and the end event, then the stream closes', async () => {
    const id = await pausedCampaign();
    await app.container.campaignStore.transition(id, ['paused'], 'cancelled', { reason: 'by hand' });
    const text = await (await fetch(`${base}/api/admin/campaigns/${id}/events`)).text();
    expect(text).toContain('"status":"cancelled"');
    expect(text.trimEnd().endsWith('event: end\ndata: {}')).toBe(true);
  });
});
