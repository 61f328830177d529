import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';

let sink: SmtpSink;
let app: TestApp;
beforeAll(async () => {
  sink = await startSmtpSink({ rcptResponse: (addr) => (addr.startsWith('nobody@') ? 550 : undefined) });
  app = await startTestApp({ smtpUrl: sink.url });
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

test('a confirmation mail refused with 5xx marks the address bounced and suppressed, and it is never tried again', async () => {
  const signup = () =>
    fetch(`${app.base}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.com', consent: true }),
    });
  expect((await signup()).status).toBe(202);
  const sub = await eventually(
    async () => {
      const s = await app.container.subscribers.getByEmail('nobody@example.com');
      return s?.status === 'bounced' ? s : null;
    },
    15000,
    'the subscriber to be bounced',
  );
  expect(sub!.bouncedAt).toBeTruthy();
  expect(await app.container.subscribers.isSuppressed('nobody@example.com')).toBe(true);
  const trail = await app.container.subscribers.consentTrail('nobody@example.com');
  expect(trail.map((e) => e.type)).toEqual(['subscribed', 'bounced']);

  // A later signup answers the same and sends nothing.
  expect((await signup()).status).toBe(202);
  await new Promise((ok) => setTimeout(ok, 500));
  expect(sink.rcptCounts.get('nobody@example.com')).toBe(1);
});
