import { createHmac, randomBytes } from 'node:crypto';
import { seedAddresses } from '../support/seed';
import { startTestApp, TestClock, type TestApp } from '../support/test-app';
import { personView, postWebhook, reports } from '../support/webhooks';

const SIGNING_KEY = 'mailgun-signing-key-0123456789abcdef';
const clock = new TestClock();
let app: TestApp;
let n = 0;

beforeAll(async () => {
  app = await startTestApp({ workers: false, clock, env: { MAILGUN_WEBHOOK_SIGNING_KEY: SIGNING_KEY } });
});
afterAll(() => app.stop());

async function reader(): Promise<{ email: string; id: number }> {
  const email = `reader${++n}@mailgun.test`;
  const [id] = await seedAddresses(app.container, [email]);
  return { email, id };
}

/** A signature block as Mailgun makes one: hex HMAC-SHA256 of timestamp + token with the webhook signing key. */
function signature(at = clock.now(), key = SIGNING_KEY) {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const token = randomBytes(25).toString('hex');
  return {
    timestamp,
    token,
    signature: createHmac('sha256', key)
      .update(timestamp + token)
      .digest('hex'),
  };
}

/** Event data in the shape of Mailgun's documented samples. */
function event(
  recipient: string,
  kind: Record<string, unknown>,
  messageId = '20261127182626.18666.16540@mg.gazette.test',
) {
  return {
    id: randomBytes(16).toString('base64url'),
    timestamp: clock.now().getTime() / 1000,
    'log-level': 'error',
    envelope: { sender: 'news@mg.gazette.test', transport: 'smtp', targets: recipient },
    flags: { 'is-routed': false, 'is-authenticated': true, 'is-system-test': false, 'is-test-mode': false },
    message: {
      headers: {
        to: recipient,
        'message-id': messageId,
        from: 'The Test Gazette <news@gazette.test>',
        subject: 'Today’s news',
      },
      attachments: [],
      size: 111,
    },
    recipient,
    'recipient-domain': recipient.split('@')[1],
    campaigns: [],
    tags: [],
    'user-variables': {},
    ...kind,
  };
}

const permanentFailure = {
  event: 'failed',
  severity: 'permanent',
  reason: 'bounce',
  'delivery-status': {
    'attempt-no': 1,
    code: 550,
    message: '5.1.1 The email account that you tried to reach does not exist.',
    description: '',
    'session-seconds': 0.3,
  },
};

const send = (body: Record<string, unknown>) => postWebhook(app, 'mailgun', JSON.stringify(body));

test('a permanent failure makes the reader bounced, with the server’s words in the trail', async () => {
  const { email } = await reader();
  const r = await send({ signature: signature(), 'event-data': event(email, permanentFailure) });
  expect(r).toEqual({ status: 200, body: { received: 1 } });
  const view = await personView(app, email);
  expect(view.status).toBe('bounced');
  expect(reports(view)).toEqual([
    ['bounced', 'mailgun: bounce: 5.1.1 The email account that you tried to reach does not exist.'],
  ]);
});

test('a temporary failure leaves the reader active; a delivery is not a report', async () => {
  const { email } = await reader();
  const temporary = { ...permanentFailure, severity: 'temporary', reason: 'generic' };
  expect((await send({ signature: signature(), 'event-data': event(email, temporary) })).body).toEqual({ received: 1 });
  const delivered = await send({ signature: signature(), 'event-data': event(email, { event: 'delivered' }) });
  expect(delivered.body).toEqual({ received: 0 });
  // A soft bounce is evidence for the trail and counts towards BOUNCE_SOFT_LIMIT, but leaves the reader active.
  const view = await personView(app, email);
  expect(view.status).toBe('active');
  expect(reports(view)).toEqual([
    ['soft_bounced', 'mailgun: generic: 5.1.1 The email account that you tried to reach does not exist.'],
  ]);
});

test('a complaint unsubscribes and records it; an unsubscribe unsubscribes', async () => {
  const complainer = (await reader()).email;
  const leaver = (await reader()).email;
  await send({ signature: signature(), 'event-data': event(complainer, { event: 'complained' }) });
  await send({ signature: signature(), 'event-data': event(leaver, { event: 'unsubscribed' }) });
  const c = await personView(app, complainer);
  expect(c.status).toBe('unsubscribed');
  expect(reports(c)).toEqual([['complained', 'mailgun: marked as spam']]);
  expect(reports(await personView(app, leaver))).toEqual([['unsubscribed', 'provider (mailgun)']]);
});

test('a refusal to send to an address on Mailgun’s own lists counts as what put it there', async () => {
  const complainer = (await reader()).email;
  const leaver = (await reader()).email;
  const suppressed = (reason: string) => ({ ...permanentFailure, reason, 'delivery-status': { code: 605 } });
  await send({ signature: signature(), 'event-data': event(complainer, suppressed('suppress-complaint')) });
  await send({ signature: signature(), 'event-data': event(leaver, suppressed('suppress-unsubscribe')) });
  expect(reports(await personView(app, complainer))).toEqual([['complained', 'mailgun: suppress-complaint']]);
  expect(reports(await personView(app, leaver))).toEqual([['unsubscribed', 'provider (mailgun)']]);
});

test('the return token in the original Message-ID names the reader, whatever address the event states', async () => {
  const { email, id } = await reader();
  const token = app.container.links.returnToken(id);
  const messageId = `${token}.0a1b2c3d4e5f@gazette.test`;
  const data = event('forwarded-alias@elsewhere.test', permanentFailure, messageId);
  expect((await send({ signature: signature(), 'event-data': data })).status).toBe(200);
  expect((await personView(app, email)).status).toBe('bounced');
});

test('a delivery retried with its signature is applied once', async () => {
  const { email } = await reader();
  const body = { signature: signature(), 'event-data': event(email, permanentFailure) };
  expect((await send(body)).status).toBe(200);
  expect((await send(body)).status).toBe(200);
  expect((await personView(app, email)).trail).toHaveLength(1);
});

test('a signature already used for one event is refused for another', async () => {
  const first = (await reader()).email;
  const second = (await reader()).email;
  const sig = signature();
  expect((await send({ signature: sig, 'event-data': event(first, permanentFailure) })).status).toBe(200);
  const replayed = await send({ signature: sig, 'event-data': event(second, permanentFailure) });
  expect(replayed.status).toBe(401);
  expect(replayed.body.error).toEqual({
    code: 'invalid_signature',
    message: 'This signature was already used for another event.',
  });
  expect((await personView(app, second)).status).toBe('active');
});

test('an unknown address gets the same answer as a known one', async () => {
  const known = await send({ signature: signature(), 'event-data': event((await reader()).email, permanentFailure) });
  const unknown = await send({ signature: signature(), 'event-data': event('nobody@mailgun.test', permanentFailure) });
  expect(unknown).toEqual(known);
});

test('a signature changed by one character, made with another key, or missing is refused with 401', async () => {
  const { email } = await reader();
  const data = event(email, permanentFailure);
  const good = signature();
  const flipped = good.signature.slice(0, -1) + (good.signature.endsWith('0') ? '1' : '0');
  const bodies = [
    { signature: { ...good, signature: flipped }, 'event-data': data },
    { signature: { ...good, timestamp: String(Number(good.timestamp) - 1) }, 'event-data': data },
    { signature: signature(clock.now(), 'another-key-0123456789abcdef'), 'event-data': data },
    { 'event-data': data },
  ];
  for (const body of bodies) {
    const r = await send(body);
    expect(r.status).toBe(401);
    expect(r.body.error?.code).toBe('invalid_signature');
  }
  expect(await personView(app, email)).toEqual({ status: 'active', trail: [] });
});

test('a signature older than five minutes, or from the future, is refused as stale', async () => {
  const { email } = await reader();
  const old = signature(new Date(clock.now().getTime() - 6 * 60_000));
  const r = await send({ signature: old, 'event-data': event(email, permanentFailure) });
  expect(r.status).toBe(401);
  expect(r.body.error?.code).toBe('stale_signature');
  const ahead = signature(new Date(clock.now().getTime() + 10 * 60_000));
  expect((await send({ signature: ahead, 'event-data': event(email, permanentFailure) })).status).toBe(401);
  expect((await personView(app, email)).status).toBe('active');
});

test('a signed body without the event’s fields is refused with 400 naming the field', async () => {
  const noId = { ...event('a@mailgun.test', permanentFailure), id: undefined };
  const r1 = await send({ signature: signature(), 'event-data': noId });
  expect(r1.status).toBe(400);
  expect(r1.body.error?.message).toMatch(/^event-data\.id: /);
  const noSeverity = { ...event('a@mailgun.test', permanentFailure), severity: undefined };
  const r2 = await send({ signature: signature(), 'event-data': noSeverity });
  expect(r2.status).toBe(400);
  expect(r2.body.error?.message).toMatch(/^event-data\.severity: /);
  const r3 = await postWebhook(app, 'mailgun', '[1, 2');
  expect(r3.status).toBe(400);
  expect(r3.body.error?.message).toMatch(/^The body is not valid JSON/);
});
