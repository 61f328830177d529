import { randomBytes } from 'node:crypto';
import { freePort } from '../support/free-port';
import { TestRedisServer } from '../support/redis-servers';
import { startService, timedFetch, type ServiceProcess } from '../support/service-process';
import { eventually } from '../support/test-app';

// Real processes on a shared, loaded machine: each start of the service takes seconds.
jest.setTimeout(180_000);

const signup = (email: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email, consent: true, termsVersion: '1' }),
});

let redis: TestRedisServer | undefined;
let service: ServiceProcess | undefined;
afterEach(async () => {
  if (service && service.child.exitCode === null && service.child.signalCode === null) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
  service = undefined;
  await redis?.destroy();
  redis = undefined;
});

test('Redis away at start: one line saying so, /healthz 200, /readyz and the API 503 within 2 s; ready without a restart once Redis is up', async () => {
  redis = await TestRedisServer.create();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // debug: the chattiest level must not flood either.
  service = startService({
    role: 'all',
    env: { REDIS_URL: redis.url, PORT: String(port), PUBLIC_URL: base, LOG_LEVEL: 'debug' },
  });
  await service.waitFor(/waiting for Redis/);
  // Let the connections retry for a while: what an outage of some seconds looks like in the log.
  await new Promise((ok) => setTimeout(ok, 6000));

  expect((await timedFetch(`${base}/healthz`)).status).toBe(200);
  const ready = await timedFetch(`${base}/readyz`);
  expect(ready.status).toBe(503);
  for (const [path, init] of [
    ['/api/subscriptions', signup('away@example.com')],
    ['/confirm?token=whatever', {}],
    ['/', {}],
  ] as const) {
    const r = await timedFetch(`${base}${path}`, init, 2000);
    expect({ path, status: r.status, body: r.body }).toEqual({
      path,
      status: 503,
      body: { error: { code: 'redis_unavailable', message: expect.any(String) } },
    });
    expect(r.ms).toBeLessThan(2000);
  }
  // Metrics still serve (the process's own counters, redis_up 0), and do not wait on Redis.
  const metrics = await timedFetch(`${base}/metrics`, {}, 2000);
  expect(metrics.status).toBe(200);
  expect(String(metrics.body)).toMatch(/^newsletter_redis_up 0$/m);

  const out = service.output();
  expect(out).not.toMatch(/started/);
  expect(out).not.toMatch(/\n\s+at /); // no stack trace
  expect(out).not.toMatch(/Unhandled error event/);
  expect(out.match(/Redis unreachable at/g)).toHaveLength(1);
  // Over ~8 s of outage: the first line, then one per backoff step (1, 2, 4 s…), not one per connection per retry.
  const outageLines = out.split('\n').filter((l) => /unreachable/i.test(l));
  expect(outageLines.length).toBeLessThanOrEqual(5);
  expect(out.split('\n').filter((l) => /ECONNREFUSED/.test(l)).length).toBeLessThanOrEqual(5);

  // Redis comes up: the service gets ready by itself.
  const upAt = Date.now();
  await redis.start();
  await service.waitFor(/newsletter all started/, 90000);
  await eventually(async () => (await timedFetch(`${base}/readyz`)).status === 200, 15000, '/readyz 200');
  const readyAfterMs = Date.now() - upAt;
  const r = await timedFetch(`${base}/api/subscriptions`, signup(`back-${randomBytes(3).toString('hex')}@example.com`));
  expect(r.status).toBe(202);
  expect(service.output()).toMatch(/Redis answers again/);
  // The connections retry every 2 s at most, and start-up takes a few seconds on a loaded machine.
  expect(readyAfterMs).toBeLessThan(20000);
  process.stdout.write(`redis-away: ready ${readyAfterMs} ms after Redis came up\n`);

  service.child.kill('SIGTERM');
  expect((await service.exited).code).toBe(0);
});

test('Redis away at start, at LOG_LEVEL=fatal: not one line of connection errors, and SIGTERM exits within 5 s', async () => {
  const port = await freePort();
  const nothing = await freePort();
  service = startService({
    role: 'all',
    env: { REDIS_URL: `redis://127.0.0.1:${nothing}`, PORT: String(port), LOG_LEVEL: 'fatal' },
  });
  await service.waitFor(/waiting for Redis/);
  await new Promise((ok) => setTimeout(ok, 5000));
  expect((await timedFetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  // Only the one "waiting for Redis" line: at fatal no outage line, and nothing that bypasses the logger.
  expect(service.output().trim().split('\n')).toHaveLength(1);

  const sentAt = Date.now();
  service.child.kill('SIGTERM');
  const { code, at } = await service.exited;
  expect(code).toBe(0);
  expect(at - sentAt).toBeLessThan(5000);
  process.stdout.write(`redis-away: SIGTERM to exit ${at - sentAt} ms while waiting for Redis\n`);
});

test('the worker role waits for Redis too, serving /healthz on WORKER_PORT, and starts working once Redis is up', async () => {
  redis = await TestRedisServer.create();
  const workerPort = await freePort();
  service = startService({ role: 'worker', env: { REDIS_URL: redis.url, WORKER_PORT: String(workerPort) } });
  await service.waitFor(/waiting for Redis/);
  expect((await timedFetch(`http://127.0.0.1:${workerPort}/healthz`)).status).toBe(200);
  expect((await timedFetch(`http://127.0.0.1:${workerPort}/readyz`)).status).toBe(503);
  await redis.start();
  await service.waitFor(/newsletter worker started/, 90000);
  expect((await timedFetch(`http://127.0.0.1:${workerPort}/readyz`)).status).toBe(200);
  service.child.kill('SIGTERM');
  expect((await service.exited).code).toBe(0);
});
