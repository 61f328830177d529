import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { generate } from 'selfsigned';
import type { HttpGet } from '../../src/webhooks/webhook';
import { seedAddresses } from '../support/seed';
import { startTestApp, type TestApp } from '../support/test-app';
import { personView, postWebhook, reports } from '../support/webhooks';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-feedback';
const CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';
const EXPIRED_CERT_URL =
  'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.pem';
const SUBSCRIBE_URL = `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336412f37fb687f`;

// Our own stand-in for Amazon's signing key and the certificate SNS publishes for it.
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
let certificate = '';
let expiredCertificate = '';

/** What the service fetched from "Amazon": the test's network, since this machine has none to Amazon. */
const fetched: string[] = [];
const httpGet: HttpGet = (url) => {
  fetched.push(url);
  if (url === CERT_URL) return Promise.resolve({ status: 200, body: certificate });
  if (url === EXPIRED_CERT_URL) return Promise.resolve({ status: 200, body: expiredCertificate });
  if (url === SUBSCRIBE_URL) return Promise.resolve({ status: 200, body: '<ConfirmSubscriptionResponse/>' });
  return Promise.resolve({ status: 404, body: '' });
};

let app: TestApp;
let n = 0;

/** A self-signed certificate for our signing key, valid between the two dates. */
async function certificateFor(from: string, to: string): Promise<string> {
  const pems = await generate([{ name: 'commonName', value: 'sns.amazonaws.com' }], {
    keyPair: {
      privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    },
    algorithm: 'sha256',
    notBeforeDate: new Date(from),
    notAfterDate: new Date(to),
  });
  return pems.cert;
}

beforeAll(async () => {
  certificate = await certificateFor('2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z');
  expiredCertificate = await certificateFor('2020-01-01T00:00:00Z', '2021-01-01T00:00:00Z');
  app = await startTestApp({ workers: false, httpGet, env: { SES_TOPIC_ARN: TOPIC } });
});
afterAll(() => app.stop());

async function readers(count: number): Promise<string[]> {
  const emails = Array.from({ length: count }, () => `reader${++n}@ses.test`);
  await seedAddresses(app.container, emails);
  return emails;
}

type Sns = Record<string, string | undefined>;

/**
 * Signs an SNS message as AWS documents it: `name\nvalue\n` for Message, MessageId, Subject (if any), Timestamp,
 * TopicArn and Type of a notification, or Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn and Type of a
 * confirmation; RSA with SHA1 (SignatureVersion 1) or SHA256 (2).
 */
function signSns(message: Sns, version: '1' | '2' = '1', certUrl = CERT_URL): Sns {
  const fields =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const text = fields
    .filter((f) => message[f] !== undefined)
    .map((f) => `${f}\n${message[f]}\n`)
    .join('');
  const signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(text), keys.privateKey);
  return { ...message, SignatureVersion: version, Signature: signature.toString('base64'), SigningCertURL: certUrl };
}

/** An SNS notification carrying an SES notification (`Message` is its JSON), as SNS posts it. */
function notification(ses: unknown, extra: Sns = {}): Sns {
  return {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: TOPIC,
    Message: JSON.stringify(ses),
    Timestamp: new Date().toISOString(),
    UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:c9135db0`,
    ...extra,
  };
}

/** The mail object of an SES notification, with the original headers SES keeps. */
function mail(destination: string[], messageId = '<0a1b2c3d4e5f.1764244800@gazette.test>') {
  return {
    timestamp: '2026-11-27T11:59:38.237Z',
    source: 'news@gazette.test',
    sourceArn: 'arn:aws:ses:eu-west-1:123456789012:identity/gazette.test',
    sendingAccountId: '123456789012',
    messageId: '0102019ac5e7c1a2-6d4e1f0b-3c2a-4b5e-9f7d-8e6a5b4c3d2e-000000',
    destination,
    headersTruncated: false,
    headers: [
      { name: 'From', value: 'The Test Gazette <news@gazette.test>' },
      { name: 'To', value: destination.join(', ') },
      { name: 'Message-ID', value: messageId },
      { name: 'Subject', value: 'Today’s news' },
    ],
    commonHeaders: {
      from: ['The Test Gazette <news@gazette.test>'],
      to: destination,
      messageId,
      subject: 'Today’s news',
    },
  };
}

function bounce(
  recipients: string[],
  bounceType: string,
  format: 'notificationType' | 'eventType',
  mailObj = mail(recipients),
) {
  return {
    [format]: 'Bounce',
    bounce: {
      bounceType,
      bounceSubType: 'General',
      bouncedRecipients: recipients.map((emailAddress) => ({
        emailAddress,
        action: 'failed',
        status: bounceType === 'Permanent' ? '5.1.1' : '4.4.7',
        diagnosticCode: bounceType === 'Permanent' ? 'smtp; 550 5.1.1 user unknown' : 'smtp; 421 4.4.7 try later',
      })),
      timestamp: '2026-11-27T12:00:01.000Z',
      feedbackId: `0102019ac5e7-${randomUUID()}-000000`,
      remoteMtaIp: '192.0.2.25',
      reportingMTA: 'dsn; a4-8.smtp-out.eu-west-1.amazonses.com',
    },
    mail: mailObj,
  };
}

function complaint(recipient: string, feedbackType = 'abuse') {
  return {
    eventType: 'Complaint',
    complaint: {
      complainedRecipients: [{ emailAddress: recipient }],
      timestamp: '2026-11-27T12:05:02.669Z',
      feedbackId: `0102019ac5e8-${randomUUID()}-000000`,
      userAgent: 'Mozilla/5.0',
      complaintFeedbackType: feedbackType,
      arrivalDate: '2026-11-27T12:05:02.669Z',
    },
    mail: mail([recipient]),
  };
}

/** Posts as SNS does: text/plain, with the message type in a header. */
const post = (message: Sns | string) =>
  postWebhook(app, 'ses', typeof message === 'string' ? message : JSON.stringify(message), {
    'content-type': 'text/plain; charset=UTF-8',
    'x-amz-sns-message-type': typeof message === 'string' ? 'Notification' : String(message.Type),
  });

function confirmation(topic = TOPIC, subscribeUrl = SUBSCRIBE_URL): Sns {
  return {
    Type: 'SubscriptionConfirmation',
    MessageId: randomUUID(),
    Token: '2336412f37fb687f',
    TopicArn: topic,
    Message: `You have chosen to subscribe to the topic ${topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: subscribeUrl,
    Timestamp: new Date().toISOString(),
  };
}

test('a subscription confirmation from the configured topic is confirmed by fetching its SubscribeURL', async () => {
  const r = await post(signSns(confirmation()));
  expect(r).toEqual({ status: 200, body: { received: 0 } });
  expect(fetched).toContain(SUBSCRIBE_URL);
});

test('a subscription confirmation from any other topic is refused with 403 and not confirmed', async () => {
  const other = 'arn:aws:sns:eu-west-1:999999999999:somebody-elses-topic';
  const url = `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${other}&Token=ab`;
  const r = await post(signSns(confirmation(other, url)));
  expect(r.status).toBe(403);
  expect(r.body.error?.code).toBe('topic_not_allowed');
  expect(fetched).not.toContain(url);
});

test('a signed confirmation whose SubscribeURL is not on an SNS host is refused with 400 and not fetched', async () => {
  const url = 'https://attacker.test/?Action=ConfirmSubscription';
  const r = await post(signSns(confirmation(TOPIC, url)));
  expect(r.status).toBe(400);
  expect(r.body.error?.message).toBe('SubscribeURL is not on an Amazon SNS host; the subscription was not confirmed.');
  expect(fetched).not.toContain(url);
});

test('a permanent bounce makes every listed recipient bounced, each with the server’s words', async () => {
  const [a, b] = await readers(2);
  const r = await post(signSns(notification(bounce([a, b], 'Permanent', 'notificationType'))));
  expect(r).toEqual({ status: 200, body: { received: 2 } });
  for (const email of [a, b]) {
    const view = await personView(app, email);
    expect(view.status).toBe('bounced');
    expect(reports(view)).toEqual([['bounced', 'ses: Permanent/General: smtp; 550 5.1.1 user unknown']]);
  }
});

test('the event publishing format with SignatureVersion 2: a transient bounce is soft, a complaint unsubscribes', async () => {
  const [soft, complainer] = await readers(2);
  expect((await post(signSns(notification(bounce([soft], 'Transient', 'eventType')), '2'))).status).toBe(200);
  expect((await post(signSns(notification(complaint(complainer)), '2'))).status).toBe(200);
  const s = await personView(app, soft);
  expect(s.status).toBe('active');
  expect(reports(s)).toEqual([['soft_bounced', 'ses: Transient/General: smtp; 421 4.4.7 try later']]);
  const c = await personView(app, complainer);
  expect(c.status).toBe('unsubscribed');
  expect(reports(c)).toEqual([['complained', 'ses: abuse']]);
});

test('a notification with a Subject is verified with the Subject signed too', async () => {
  const [email] = await readers(1);
  const message = notification(bounce([email], 'Permanent', 'notificationType'), { Subject: 'Amazon SES bounce' });
  expect((await post(signSns(message))).status).toBe(200);
  expect((await personView(app, email)).status).toBe('bounced');
});

test('the return token in the original Message-ID names the reader, whatever address the bounce states', async () => {
  const [email] = await readers(1);
  const id = (await app.container.subscribers.getByEmail(email))!.id;
  const messageId = `<${app.container.links.returnToken(id)}.77aa88bb@gazette.test>`;
  const ses = bounce(['old-alias@elsewhere.test'], 'Permanent', 'notificationType', mail([email], messageId));
  expect((await post(signSns(notification(ses)))).status).toBe(200);
  expect((await personView(app, email)).status).toBe('bounced');
});

test('a notification delivered twice is applied once, and the certificate is fetched once for all of them', async () => {
  const [email] = await readers(1);
  const message = signSns(notification(bounce([email], 'Permanent', 'notificationType')));
  expect((await post(message)).status).toBe(200);
  expect((await post(message)).status).toBe(200);
  expect((await personView(app, email)).trail).toHaveLength(1);
  expect(fetched.filter((u) => u === CERT_URL)).toHaveLength(1);
});

test('an unknown address gets the same answer as a known one; deliveries and not-spam reports are not reports', async () => {
  const [email] = await readers(1);
  const known = await post(signSns(notification(bounce([email], 'Permanent', 'notificationType'))));
  const unknown = await post(signSns(notification(bounce(['nobody@ses.test'], 'Permanent', 'notificationType'))));
  expect(unknown).toEqual(known);
  const delivery = { notificationType: 'Delivery', mail: mail([email]), delivery: { recipients: [email] } };
  expect((await post(signSns(notification(delivery)))).body).toEqual({ received: 0 });
  expect((await post(signSns(notification(complaint(email, 'not-spam'))))).body).toEqual({ received: 0 });
});

test('a message changed by one byte after signing is refused with 401 and changes nothing', async () => {
  const [email] = await readers(1);
  const signed = signSns(notification(bounce([email], 'Permanent', 'notificationType')));
  const tampered = { ...signed, Message: signed.Message!.replace('"Permanent"', '"Permanenu"') };
  expect(tampered.Message).not.toBe(signed.Message);
  const r = await post(tampered);
  expect(r.status).toBe(401);
  expect(r.body.error?.code).toBe('invalid_signature');
  expect(await personView(app, email)).toEqual({ status: 'active', trail: [] });
});

test('a message without its signature is refused with 401', async () => {
  const [email] = await readers(1);
  const unsigned = notification(bounce([email], 'Permanent', 'notificationType'));
  const r = await post(unsigned);
  expect(r.status).toBe(401);
  expect(r.body.error?.code).toBe('invalid_signature');
  expect((await personView(app, email)).status).toBe('active');
});

test('a SigningCertURL anywhere but an Amazon SNS host is refused with 401 without being fetched', async () => {
  const [email] = await readers(1);
  const foreign = [
    'https://attacker.test/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
    'https://sns.eu-west-1.amazonaws.com.attacker.test/SimpleNotificationService-0123.pem',
    'http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123.pem',
    'https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-0123.pem',
    'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123.txt',
  ];
  const before = fetched.length;
  for (const url of foreign) {
    const message = signSns(notification(bounce([email], 'Permanent', 'notificationType')), '1', url);
    const r = await post(message);
    expect(r.status).toBe(401);
    expect(r.body.error?.code).toBe('invalid_signature');
  }
  expect(fetched.slice(before)).toEqual([]);
  expect((await personView(app, email)).status).toBe('active');
});

test('a certificate SNS does not have (404 on its host) makes the message unverified: 401', async () => {
  const url = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-ffffffffffffffffffffffffffffffff.pem';
  const r = await post(signSns(notification(bounce(['a@ses.test'], 'Permanent', 'notificationType')), '1', url));
  expect(r.status).toBe(401);
  expect(fetched).toContain(url);
});

test('a message signed with an expired certificate is refused with 401', async () => {
  const [email] = await readers(1);
  const message = signSns(notification(bounce([email], 'Permanent', 'notificationType')), '2', EXPIRED_CERT_URL);
  const r = await post(message);
  expect(r.status).toBe(401);
  expect(r.body.error?.message).toBe('The SNS signing certificate is not valid at this time.');
  expect((await personView(app, email)).status).toBe('active');
});

test('a body that is not an SES notification is refused with 400 naming what is wrong', async () => {
  const notJson = await post('Type=Notification');
  expect(notJson.status).toBe(400);
  expect(notJson.body.error?.message).toMatch(/^The body is not valid JSON/);

  const plain = await post(signSns(notification('just words')));
  expect(plain.status).toBe(400);

  const notSes = await post(signSns({ ...notification({}), Message: 'Hello world!' }));
  expect(notSes.status).toBe(400);
  expect(notSes.body.error?.message).toBe('Message is not JSON; is this topic an SES notification topic?');

  const noRecipients = { notificationType: 'Bounce', bounce: { bounceType: 'Permanent', bouncedRecipients: [] } };
  const r = await post(signSns(notification(noRecipients)));
  expect(r.status).toBe(400);
  expect(r.body.error?.message).toMatch(/^Message\.bounce\.bouncedRecipients: /);
});
