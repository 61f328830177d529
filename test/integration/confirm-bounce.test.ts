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

test('a confirmation mail refused with 5xx marks the address bounced and suppressed, and is not retried; only a new signup sends another', async () => {
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

  await new Promise((ok) => setTimeout(ok, 500));
  expect(sink.rcptCounts.get('nobody@example.com')).toBe(1);

  // Signing up again is the person asking again: one new confirmation, which bounces in its turn. The address stays
  // suppressed meanwhile (only a confirmation lifts it).
  expect((await signup()).status).toBe(202);
  await eventually(() => sink.rcptCounts.get('nobody@example.com') === 2 || null, 15000, 'a second try');
  await eventually(
    async () => (await app.container.subscribers.getByEmail('nobody@example.com'))?.status === 'bounced' || null,
    15000,
    'the second bounce',
  );
  expect(await app.container.subscribers.isSuppressed('nobody@example.com')).toBe(true);
  const again = await app.container.subscribers.consentTrail('nobody@example.com');
  expect(again.map((e) => e.type)).toEqual(['subscribed', 'bounced', 'subscribed', 'bounced']);
});
