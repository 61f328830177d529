import { freePort } from '../support/free-port';
import { startService, type ServiceProcess } from '../support/service-process';
import { startTestApp, TEST_REDIS, type TestApp } from '../support/test-app';

// Real processes on a shared, loaded machine: each start of the service takes seconds.
jest.setTimeout(180_000);

let app: TestApp;
let api: ServiceProcess | undefined;
beforeAll(async () => {
  app = await startTestApp({ workers: false });
});
afterAll(async () => {
  if (api && api.child.exitCode === null && api.child.signalCode === null) api.child.kill('SIGKILL');
  await app.stop();
});

test('the API killed with SIGKILL under a stream of signups: every signup that got a 202 is in Redis', async () => {
  const port = await freePort();
  api = startService({
    role: 'api',
    env: {
      REDIS_URL: `redis://${TEST_REDIS.host}:${TEST_REDIS.port}`,
      REDIS_PREFIX: app.prefix,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      TERMS_VERSION: '2026-01',
      SIGNUP_RATE_PER_IP: '1000000',
    },
  });
  await api.waitFor(/newsletter api started/, 120000);

  const accepted: string[] = [];
  const failed: string[] = [];
  let n = 0;
  let killed = false;
  // 16 clients signing up one after another each, as fast as the API answers.
  const client = async () => {
    while (!killed) {
      const email = `kill-${n++}@example.com`;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/subscriptions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, consent: true, termsVersion: '2026-01' }),
          signal: AbortSignal.timeout(10000),
        });
        await res.arrayBuffer();
        (res.status === 202 ? accepted : failed).push(email);
      } catch {
        // The connection died with the process: no answer, so no promise was made.
        failed.push(email);
      }
    }
  };
  const clients = Array.from({ length: 16 }, client);
  // Kill once the stream is well under way, mid-request for some of the clients.
  const deadline = Date.now() + 30000;
  while (accepted.length < 300 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
  api.child.kill('SIGKILL');
  await api.exited;
  killed = true;
  await Promise.all(clients);

  expect(accepted.length).toBeGreaterThanOrEqual(300);
  const missing: string[] = [];
  for (const email of accepted) {
    const s = await app.container.subscribers.getByEmail(email);
    if (!s || s.status !== 'pending') missing.push(email);
  }
  process.stdout.write(
    `api-sigkill: ${accepted.length} signups answered 202 before the kill, ${failed.length} cut off; ${missing.length} of the 202s missing\n`,
  );
  expect(missing).toEqual([]);
});
