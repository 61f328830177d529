import { createServer } from 'node:net';
import { freePort } from '../support/free-port';
import { startService, timedFetch, type ServiceProcess } from '../support/service-process';
import { startTestApp, TEST_REDIS, type TestApp } from '../support/test-app';

// Real processes on a shared, loaded machine: each start of the service takes seconds.
jest.setTimeout(180_000);

let app: TestApp;
const services: ServiceProcess[] = [];
beforeAll(async () => {
  app = await startTestApp({ workers: false });
});
afterAll(async () => {
  for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await app.stop();
});

function worker(env: Record<string, string>): ServiceProcess {
  const s = startService({
    role: 'worker',
    env: { REDIS_URL: `redis://${TEST_REDIS.host}:${TEST_REDIS.port}`, REDIS_PREFIX: app.prefix, ...env },
  });
  services.push(s);
  return s;
}

test('the worker role serves /healthz, /readyz and /metrics on WORKER_PORT, and nothing else', async () => {
  const port = await freePort();
  const w = worker({ WORKER_PORT: String(port) });
  const out = await w.waitFor(/newsletter worker started[\s\S]*health:/, 120000);
  expect(out).toContain(`health: http://localhost:${port}/healthz`);
  const base = `http://127.0.0.1:${port}`;
  expect(await timedFetch(`${base}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
  expect(await timedFetch(`${base}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
  const metrics = await timedFetch(`${base}/metrics`);
  expect(metrics.status).toBe(200);
  expect(String(metrics.body)).toMatch(/^newsletter_redis_up 1$/m);
  expect(String(metrics.body)).toMatch(/^newsletter_queue_depth\{queue="deliveries"\} \d+$/m);
  // The worker is not the API.
  expect((await timedFetch(`${base}/api/subscriptions`, { method: 'POST' })).status).toBe(404);
  w.child.kill('SIGTERM');
  expect((await w.exited).code).toBe(0);
});

test('WORKER_PORT=0 serves no port; a WORKER_PORT already taken stops the start with a line naming the setting', async () => {
  const off = worker({ WORKER_PORT: '0' });
  const out = await off.waitFor(/newsletter worker started[\s\S]*\n\s*$/, 120000);
  expect(out).not.toMatch(/health:/);
  off.child.kill('SIGTERM');
  await off.exited;

  const taken = createServer();
  await new Promise<void>((ok) => taken.listen(0, '127.0.0.1', ok));
  try {
    const port = (taken.address() as { port: number }).port;
    const w = worker({ WORKER_PORT: String(port) });
    const { code } = await w.exited;
    expect(code).toBe(1);
    expect(w.output()).toMatch(/^WORKER_PORT: cannot listen \(EADDRINUSE\); choose another port$/m);
  } finally {
    taken.close();
  }
});
