import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { seedAddresses } from '../support/seed';
import { startTestApp, type TestApp } from '../support/test-app';
import { personView, postWebhook, reports } from '../support/webhooks';

// Our own stand-in for the key pair SendGrid generates when the Signed Event Webhook is switched on.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let app: TestApp;
let n = 0;

beforeAll(async () => {
  // As SendGrid's settings page shows the verification key: the base64 of its DER encoding.
  const key = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  app = await startTestApp({ workers: false, env: { SENDGRID_WEBHOOK_PUBLIC_KEY: key } });
});
afterAll(() => app.stop());

async function readers(count: number): Promise<string[]> {
  const emails = Array.from({ length: count }, () => `reader${++n}@sendgrid.test`);
  await seedAddresses(app.container, emails);
  return emails;
}

/** The headers SendGrid sends: an ECDSA (SHA-256) signature of the timestamp followed by the body, base64 DER. */
function signed(body: string, timestamp = String(Math.floor(Date.now() / 1000))) {
  const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), privateKey);
  return {
    'x-twilio-email-event-webhook-signature': signature.toString('base64'),
    'x-twilio-email-event-webhook-timestamp': timestamp,
  };
}

/** One event as SendGrid's Event Webhook reference shows them. */
function event(email: string, fields: Record<string, unknown>) {
  return {
    email,
    timestamp: 1764244800,
    'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
    category: 'newsletter',
    sg_event_id: randomBytes(16).toString('base64url'),
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
    ...fields,
  };
}

function send(events: unknown) {
  const body = JSON.stringify(events);
  return postWebhook(app, 'sendgrid', body, signed(body));
}

test('one batch moves each reader by their own event; engagement events are not reports', async () => {
  const [bounced, blocked, complainer, leaver, groupLeaver, dropped, opener] = await readers(7);
  const r = await send([
    event(bounced, { event: 'bounce', type: 'bounce', status: '5.1.1', reason: '550 5.1.1 unknown user' }),
    event(blocked, { event: 'bounce', type: 'blocked', status: '4.0.0', reason: '421 try again later' }),
    event(complainer, { event: 'spamreport' }),
    event(leaver, { event: 'unsubscribe' }),
    event(groupLeaver, { event: 'group_unsubscribe', asm_group_id: 10 }),
    event(dropped, { event: 'dropped', reason: 'Bounced Address', status: '5.0.0' }),
    event(opener, { event: 'open', useragent: 'Mozilla/5.0', ip: '203.0.113.1' }),
    event(opener, { event: 'delivered', response: '250 OK' }),
    event(opener, { event: 'dropped', reason: 'Recipient List over Package Quota', status: '5.0.0' }),
  ]);
  expect(r).toEqual({ status: 200, body: { received: 6 } });

  const b = await personView(app, bounced);
  expect(b.status).toBe('bounced');
  expect(reports(b)).toEqual([['bounced', 'sendgrid: 5.1.1: 550 5.1.1 unknown user']]);
  const bl = await personView(app, blocked);
  expect(bl.status).toBe('active');
  expect(reports(bl)).toEqual([['soft_bounced', 'sendgrid: 4.0.0: 421 try again later']]);
  expect(reports(await personView(app, complainer))).toEqual([['complained', 'sendgrid: marked as spam']]);
  expect((await personView(app, leaver)).status).toBe('unsubscribed');
  expect((await personView(app, groupLeaver)).status).toBe('unsubscribed');
  expect((await personView(app, dropped)).status).toBe('bounced');
  expect(await personView(app, opener)).toEqual({ status: 'active', trail: [] });
});

test('a batch delivered again is applied once', async () => {
  const [email] = await readers(1);
  const batch = [event(email, { event: 'bounce', type: 'bounce', reason: '550 gone' })];
  expect((await send(batch)).status).toBe(200);
  expect((await send(batch)).status).toBe(200);
  expect((await personView(app, email)).trail).toHaveLength(1);
});

test('the return token in smtp-id names the reader, whatever address the event states', async () => {
  const [email] = await readers(1);
  const id = (await app.container.subscribers.getByEmail(email))!.id;
  const smtpId = `<${app.container.links.returnToken(id, 3)}.9f8e7d@gazette.test>`;
  const r = await send([event('old-alias@elsewhere.test', { event: 'bounce', type: 'bounce', 'smtp-id': smtpId })]);
  expect(r.status).toBe(200);
  expect(reports(await personView(app, email))).toEqual([['bounced', 'sendgrid: campaign 3: bounced']]);
});

test('an unknown address gets the same answer as a known one', async () => {
  const [email] = await readers(1);
  const known = await send([event(email, { event: 'spamreport' })]);
  const unknown = await send([event('nobody@sendgrid.test', { event: 'spamreport' })]);
  expect(unknown).toEqual(known);
});

test('a body changed by one byte after signing is refused with 401 and changes nothing', async () => {
  const [email] = await readers(1);
  const body = JSON.stringify([event(email, { event: 'bounce', type: 'bounce' })]);
  const headers = signed(body);
  const tampered = body.replace('"type":"bounce"', '"type":"bouncf"');
  expect(tampered).not.toBe(body);
  const r = await postWebhook(app, 'sendgrid', tampered, headers);
  expect(r.status).toBe(401);
  expect(r.body.error?.code).toBe('invalid_signature');
  expect(await personView(app, email)).toEqual({ status: 'active', trail: [] });
});

test('a changed timestamp, a missing header or a signature that is not DER is refused with 401', async () => {
  const [email] = await readers(1);
  const body = JSON.stringify([event(email, { event: 'spamreport' })]);
  const headers = signed(body, '1764244800');
  const otherTime = { ...headers, 'x-twilio-email-event-webhook-timestamp': '1764244801' };
  const noTimestamp = { 'x-twilio-email-event-webhook-signature': headers['x-twilio-email-event-webhook-signature'] };
  const garbage = { ...headers, 'x-twilio-email-event-webhook-signature': 'bm90IGEgc2lnbmF0dXJl' };
  for (const h of [otherTime, noTimestamp, garbage, {}]) {
    const r = await postWebhook(app, 'sendgrid', body, h);
    expect(r.status).toBe(401);
    expect(r.body.error?.code).toBe('invalid_signature');
  }
  expect((await personView(app, email)).status).toBe('active');
});

test('a signed body that is not a batch of events is refused with 400 naming what is wrong', async () => {
  const notArray = await send({ event: 'bounce', email: 'a@sendgrid.test' });
  expect(notArray.status).toBe(400);
  expect(notArray.body.error?.message).toBe('The body must be a JSON array of events.');
  const noId = await send([
    event('a@sendgrid.test', { event: 'open' }),
    { ...event('a@sendgrid.test', { event: 'bounce' }), sg_event_id: undefined },
  ]);
  expect(noId.status).toBe(400);
  expect(noId.body.error?.message).toMatch(/^1\.sg_event_id: /);
});
