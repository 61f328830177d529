import { seedAddresses } from '../support/seed';
import { startTestApp, type TestApp } from '../support/test-app';
import { personView, postWebhook, reports } from '../support/webhooks';

const USER = 'postmark-hooks';
const PASSWORD = 'pm-webhook-password-0123456789';
let app: TestApp;
let n = 0;
let id = 1000;

beforeAll(async () => {
  app = await startTestApp({
    workers: false,
    env: { POSTMARK_WEBHOOK_USER: USER, POSTMARK_WEBHOOK_PASSWORD: PASSWORD },
  });
});
afterAll(() => app.stop());

async function reader(): Promise<string> {
  const email = `reader${++n}@postmark.test`;
  await seedAddresses(app.container, [email]);
  return email;
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** Posts as Postmark does with the credentials written into the webhook URL. */
const send = (record: Record<string, unknown>, auth: Record<string, string> = basic(USER, PASSWORD)) =>
  postWebhook(app, 'postmark', JSON.stringify(record), auth);

/** A bounce webhook as Postmark documents it (with Postmark's own sample values where they do not matter). */
function bounce(email: string, type: string, extra: Record<string, unknown> = {}) {
  return {
    RecordType: 'Bounce',
    MessageStream: 'outbound',
    ID: ++id,
    Type: type,
    TypeCode: type === 'HardBounce' ? 1 : 4096,
    Name: type === 'HardBounce' ? 'Hard bounce' : 'Soft bounce',
    Tag: 'Test',
    MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
    Metadata: { a_key: 'a_value' },
    ServerID: 23,
    Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
    Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
    Email: email,
    From: 'news@gazette.test',
    BouncedAt: '2026-11-27T16:33:54.9070259Z',
    DumpAvailable: true,
    Inactive: type === 'HardBounce',
    CanActivate: true,
    Subject: 'Today’s news',
    ...extra,
  };
}

function subscriptionChange(email: string, suppress: boolean, reason: string | null) {
  return {
    RecordType: 'SubscriptionChange',
    MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
    ServerID: 123456,
    MessageStream: 'outbound',
    ChangedAt: `2026-11-27T10:53:34.${String(++id).padStart(6, '0')}Z`,
    Recipient: email,
    Origin: 'Recipient',
    SuppressSending: suppress,
    SuppressionReason: reason,
    Tag: 'my-tag',
    Metadata: { 'example-key': 'example-value' },
  };
}

test('a HardBounce makes the reader bounced, with Postmark’s details in the trail', async () => {
  const email = await reader();
  expect(await send(bounce(email, 'HardBounce'))).toEqual({ status: 200, body: { received: 1 } });
  const view = await personView(app, email);
  expect(view.status).toBe('bounced');
  expect(reports(view)).toEqual([
    ['bounced', 'postmark: HardBounce: smtp;550 5.1.1 The email account that you tried to reach does not exist.'],
  ]);
});

test('a SoftBounce or a Transient leaves the reader active; an AutoResponder is not a report at all', async () => {
  const email = await reader();
  expect((await send(bounce(email, 'SoftBounce'))).body).toEqual({ received: 1 });
  expect((await send(bounce(email, 'Transient'))).body).toEqual({ received: 1 });
  expect((await send(bounce(email, 'AutoResponder'))).body).toEqual({ received: 0 });
  const view = await personView(app, email);
  expect(view.status).toBe('active');
  expect(reports(view).map(([type]) => type)).toEqual(['soft_bounced', 'soft_bounced']);
});

test('a SpamComplaint unsubscribes the reader and records the complaint', async () => {
  const email = await reader();
  const complaint = bounce(email, 'SpamComplaint', {
    RecordType: 'SpamComplaint',
    TypeCode: 512,
    Name: 'Spam complaint',
    Description: 'The subscriber explicitly marked this message as spam.',
    Details: 'Test spam complaint details',
  });
  expect((await send(complaint)).status).toBe(200);
  const view = await personView(app, email);
  expect(view.status).toBe('unsubscribed');
  expect(reports(view)).toEqual([['complained', 'postmark: SpamComplaint: Test spam complaint details']]);
});

test('a subscription change that suppresses a reader by their own choice unsubscribes them', async () => {
  const email = await reader();
  expect((await send(subscriptionChange(email, true, 'ManualSuppression'))).body).toEqual({ received: 1 });
  const view = await personView(app, email);
  expect(view.status).toBe('unsubscribed');
  expect(reports(view)).toEqual([['unsubscribed', 'provider (postmark)']]);
});

test('subscription changes for bounces and complaints, and reactivations, are left to the other webhooks', async () => {
  const email = await reader();
  expect((await send(subscriptionChange(email, true, 'HardBounce'))).body).toEqual({ received: 0 });
  expect((await send(subscriptionChange(email, false, null))).body).toEqual({ received: 0 });
  expect((await personView(app, email)).status).toBe('active');
});

test('the same bounce delivered twice is applied once', async () => {
  const email = await reader();
  const record = bounce(email, 'HardBounce');
  expect((await send(record)).status).toBe(200);
  expect((await send(record)).status).toBe(200);
  expect((await personView(app, email)).trail).toHaveLength(1);
});

test('an unknown address gets the same answer as a known one', async () => {
  const known = await send(bounce(await reader(), 'HardBounce'));
  const unknown = await send(bounce('nobody@postmark.test', 'HardBounce'));
  expect(unknown).toEqual(known);
});

test('wrong or missing credentials are refused with 401 and change nothing', async () => {
  const email = await reader();
  const record = bounce(email, 'HardBounce');
  const oneCharOff = PASSWORD.slice(0, -1) + 'X';
  for (const auth of [basic(USER, oneCharOff), basic('someone', PASSWORD), {}, { authorization: 'Bearer x' }]) {
    const r = await send(record, auth);
    expect(r.status).toBe(401);
    expect(r.body.error?.code).toBe('invalid_signature');
  }
  expect(await personView(app, email)).toEqual({ status: 'active', trail: [] });
  // A client that sends the URL's credentials only when challenged is told to.
  const challenged = await fetch(`${app.base}/api/webhooks/postmark`, { method: 'POST', body: JSON.stringify(record) });
  expect(challenged.status).toBe(401);
  expect(challenged.headers.get('www-authenticate')).toBe('Basic realm="webhooks", charset="UTF-8"');
});

test('a body that is not a Postmark record is refused with 400 naming what is wrong', async () => {
  const notJson = await postWebhook(app, 'postmark', 'RecordType=Bounce', basic(USER, PASSWORD));
  expect(notJson.status).toBe(400);
  expect(notJson.body.error?.message).toMatch(/^The body is not valid JSON/);
  const noEmail = await send({ ...bounce('x@postmark.test', 'HardBounce'), Email: undefined });
  expect(noEmail.status).toBe(400);
  expect(noEmail.body.error?.message).toMatch(/^Email: /);
  const noRecordType = await send({ ID: 1, Email: 'x@postmark.test' });
  expect(noRecordType.status).toBe(400);
  expect(noRecordType.body.error?.message).toMatch(/^RecordType: /);
});
