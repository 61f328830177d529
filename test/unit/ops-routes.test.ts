import express from 'express';
import type { Server } from 'node:http';
import { opsRoutes, type OpsRoutesDeps } from '../../src/http/ops-routes';
import { httpServerFor, listen } from '../../src/http/server';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

async function serve(deps: Partial<OpsRoutesDeps>): Promise<string> {
  const app = express();
  app.use(
    opsRoutes({
      ping: () => Promise.resolve('PONG'),
      metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
      ...deps,
    }),
  );
  const server = httpServerFor(app);
  servers.push(server);
  return `http://127.0.0.1:${await listen(server, 0)}`;
}

/** The timers this process holds: a route that answered should have left none of its own. */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** Opens the client's connection and the server's own timers first, so that only the route's can differ after. */
async function warm(url: string): Promise<void> {
  await (await fetch(`${url}/healthz`)).json();
}

test('/readyz answers ready when the store answers, and leaves no timer running', async () => {
  const url = await serve({});
  await warm(url);
  const before = timers();
  const res = await fetch(`${url}/readyz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ready' });
  expect(timers()).toBe(before);
});

test('/readyz answers 503 when the store fails, and leaves no timer running', async () => {
  const url = await serve({ ping: () => Promise.reject(new Error('ECONNREFUSED')) });
  await warm(url);
  const before = timers();
  const res = await fetch(`${url}/readyz`);
  expect(res.status).toBe(503);
  expect(await res.json()).toEqual({ error: { code: 'not_ready', message: 'Redis does not answer' } });
  expect(timers()).toBe(before);
});

test('/readyz gives up on a store that does not answer within a second', async () => {
  const url = await serve({ ping: () => new Promise(() => undefined) });
  const t0 = Date.now();
  const res = await fetch(`${url}/readyz`);
  expect(res.status).toBe(503);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(990);
});

test('/readyz answers 503 before start-up is done, without asking the store', async () => {
  let pinged = false;
  const url = await serve({
    ready: () => false,
    ping: () => {
      pinged = true;
      return Promise.resolve('PONG');
    },
  });
  const res = await fetch(`${url}/readyz`);
  expect(res.status).toBe(503);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_ready');
  expect(pinged).toBe(false);
});
