import { type HostileCase, group } from './case';
import { NOW, SES_TOPIC, type World } from './world';

const JSON_TYPE = { 'content-type': 'application/json' };
const text = (body: unknown) => (typeof body === 'string' ? body : JSON.stringify(body));
const invalidSignature = { status: 401, code: 'invalid_signature' };
const stale = { status: 401, code: 'stale_signature' };
const malformed = { status: 400, code: 'invalid_request' };

/** A delivery whose headers are made from its exact bytes (signatures cover them). */
function signedBy(
  sign: (w: World, body: string) => Record<string, string>,
  body: unknown,
): Pick<HostileCase, 'headers' | 'body'> {
  return { body: text(body), headers: (w) => ({ ...JSON_TYPE, ...sign(w, text(body)) }) };
}

const generic = (body: unknown) => signedBy((w, b) => w.sign.generic(b), body);
const report = { id: 'evt-1', type: 'bounce', email: 'reader0@list.test', timestamp: Math.floor(NOW / 1000) };

export const WEBHOOK_GENERIC: HostileCase[] = group({ method: 'POST', path: '/api/webhooks/generic' }, [
  { name: 'generic: no signature', headers: JSON_TYPE, body: text(report), expect: invalidSignature },
  {
    name: 'generic: a signature that is not hex',
    headers: { ...JSON_TYPE, 'x-webhook-signature': 'sha256=zzzz' },
    body: text(report),
    expect: invalidSignature,
  },
  {
    name: 'generic: a signature of another body',
    body: text(report),
    headers: (w) => ({ ...JSON_TYPE, ...w.sign.generic(text({ ...report, type: 'complaint' })) }),
    expect: invalidSignature,
  },
  {
    name: 'generic: a signature with sha1=',
    headers: { ...JSON_TYPE, 'x-webhook-signature': `sha1=${'0'.repeat(40)}` },
    body: text(report),
    expect: invalidSignature,
  },
  { name: 'generic: signed malformed JSON', ...generic('{"id":'), expect: malformed },
  { name: 'generic: signed empty body', ...generic(''), expect: malformed },
  { name: 'generic: signed JSON array', ...generic([report]), expect: malformed },
  { name: 'generic: signed id as an array', ...generic({ ...report, id: ['evt-1'] }), expect: malformed },
  { name: 'generic: signed type "delete"', ...generic({ ...report, type: 'delete' }), expect: malformed },
  {
    name: 'generic: signed email with a Bcc header',
    ...generic({ ...report, email: 'reader0@list.test\r\nBcc: x@y.test' }),
    expect: malformed,
  },
  { name: 'generic: signed email as an object', ...generic({ ...report, email: { $ne: '' } }), expect: malformed },
  {
    name: 'generic: signed email on a numeric host',
    ...generic({ ...report, email: 'reader0@127.1' }),
    expect: malformed,
  },
  { name: 'generic: signed bounceType "medium"', ...generic({ ...report, bounceType: 'medium' }), expect: malformed },
  { name: 'generic: signed campaignId -1', ...generic({ ...report, campaignId: -1 }), expect: malformed },
  { name: 'generic: signed campaignId as a string', ...generic({ ...report, campaignId: '1' }), expect: malformed },
  {
    name: 'generic: signed reason of 501 characters',
    ...generic({ ...report, reason: 'r'.repeat(501) }),
    expect: malformed,
  },
  {
    name: 'generic: signed timestamp "yesterday"',
    ...generic({ ...report, timestamp: 'yesterday' }),
    expect: malformed,
  },
  {
    name: 'generic: signed timestamp 30 February',
    ...generic({ ...report, timestamp: '2026-02-30T10:00:00Z' }),
    expect: malformed,
  },
  { name: 'generic: signed timestamp NaN-like', ...generic({ ...report, timestamp: -1 }), expect: malformed },
  { name: 'generic: signed timestamp from 1970', ...generic({ ...report, timestamp: 1 }), expect: stale },
  {
    name: 'generic: signed timestamp a year ahead',
    ...generic({ ...report, timestamp: Math.floor(NOW / 1000) + 366 * 86400 }),
    expect: stale,
  },
  {
    name: 'generic: a 2 MB body',
    headers: JSON_TYPE,
    body: Buffer.alloc(2 * 1024 * 1024, 0x20),
    expect: { status: 413, code: 'payload_too_large' },
  },
  { name: 'generic: GET', method: 'GET', expect: { status: 404, code: 'not_found' } },
]);

const mailgunBody = (w: World, data: unknown, signature = w.sign.mailgun()) => text({ signature, 'event-data': data });
const mailgunEvent = { id: 'mg-1', event: 'failed', severity: 'permanent', recipient: 'reader0@list.test' };

export const WEBHOOK_MAILGUN: HostileCase[] = group(
  { method: 'POST', path: '/api/webhooks/mailgun', headers: JSON_TYPE },
  [
    { name: 'mailgun: malformed JSON', body: '{"signature":', expect: malformed },
    { name: 'mailgun: a JSON array', body: '[]', expect: malformed },
    { name: 'mailgun: no signature', body: text({ 'event-data': mailgunEvent }), expect: invalidSignature },
    {
      name: 'mailgun: a signature as a string',
      body: text({ signature: 'abc', 'event-data': mailgunEvent }),
      expect: invalidSignature,
    },
    {
      name: 'mailgun: a wrong signature',
      body: (w) => mailgunBody(w, mailgunEvent, { ...w.sign.mailgun(), signature: 'f'.repeat(64) }),
      expect: invalidSignature,
    },
    {
      name: 'mailgun: a timestamp of the wrong type',
      body: (w) => mailgunBody(w, mailgunEvent, { ...w.sign.mailgun(), timestamp: ['1'] as unknown as string }),
      expect: invalidSignature,
    },
    {
      name: 'mailgun: a signature from 1970',
      body: (w) => mailgunBody(w, mailgunEvent, w.sign.mailgun(1)),
      expect: stale,
    },
    { name: 'mailgun: signed, no event-data', body: (w) => mailgunBody(w, undefined), expect: malformed },
    {
      name: 'mailgun: signed, event-data id as an array',
      body: (w) => mailgunBody(w, { ...mailgunEvent, id: ['mg-1'] }),
      expect: malformed,
    },
    {
      name: 'mailgun: signed, event as a number',
      body: (w) => mailgunBody(w, { ...mailgunEvent, event: 7 }),
      expect: malformed,
    },
    {
      name: 'mailgun: signed, severity "maybe"',
      body: (w) => mailgunBody(w, { ...mailgunEvent, severity: 'maybe' }),
      expect: malformed,
    },
    {
      name: 'mailgun: signed, recipient as an object',
      body: (w) => mailgunBody(w, { ...mailgunEvent, recipient: { $ne: '' } }),
      expect: malformed,
    },
  ],
);

const bounce = { RecordType: 'Bounce', ID: 42, Type: 'HardBounce', Email: 'reader0@list.test' };

export const WEBHOOK_POSTMARK: HostileCase[] = group({ method: 'POST', path: '/api/webhooks/postmark' }, [
  { name: 'postmark: no credentials', headers: JSON_TYPE, body: text(bounce), expect: invalidSignature },
  {
    name: 'postmark: a wrong password',
    headers: {
      ...JSON_TYPE,
      authorization: `Basic ${Buffer.from('postmark-hostile:wrong-password-0000').toString('base64')}`,
    },
    body: text(bounce),
    expect: invalidSignature,
  },
  {
    name: 'postmark: a bearer token',
    headers: { ...JSON_TYPE, authorization: 'Bearer postmark-password-0123456789' },
    body: text(bounce),
    expect: invalidSignature,
  },
  {
    name: 'postmark: basic auth that is not base64',
    headers: { ...JSON_TYPE, authorization: 'Basic !!!' },
    body: text(bounce),
    expect: invalidSignature,
  },
  ...group({ headers: (w) => ({ ...JSON_TYPE, authorization: w.postmarkAuth }), expect: malformed }, [
    { name: 'postmark: authenticated malformed JSON', body: '{"RecordType":' },
    { name: 'postmark: authenticated RecordType as an array', body: text({ ...bounce, RecordType: ['Bounce'] }) },
    { name: 'postmark: authenticated Email as an object', body: text({ ...bounce, Email: { $ne: '' } }) },
    { name: 'postmark: authenticated ID as an object', body: text({ ...bounce, ID: {} }) },
    {
      name: 'postmark: authenticated SuppressSending as a string',
      body: text({
        RecordType: 'SubscriptionChange',
        Recipient: 'reader0@list.test',
        SuppressSending: 'true',
        ChangedAt: '2026-11-27T12:00:00Z',
      }),
    },
  ]),
]);

const sendgridEvent = { email: 'reader0@list.test', event: 'bounce', sg_event_id: 'sg-1', timestamp: 1764244800 };
const sendgrid = (body: unknown) => signedBy((w, b) => w.sign.sendgrid(b), body);

export const WEBHOOK_SENDGRID: HostileCase[] = group({ method: 'POST', path: '/api/webhooks/sendgrid' }, [
  { name: 'sendgrid: no signature headers', headers: JSON_TYPE, body: text([sendgridEvent]), expect: invalidSignature },
  {
    name: 'sendgrid: a signature that is not DER',
    headers: {
      ...JSON_TYPE,
      'x-twilio-email-event-webhook-signature': 'bm90IGEgc2lnbmF0dXJl',
      'x-twilio-email-event-webhook-timestamp': '1764244800',
    },
    body: text([sendgridEvent]),
    expect: invalidSignature,
  },
  {
    name: 'sendgrid: a signature of another timestamp',
    body: text([sendgridEvent]),
    headers: (w) => ({
      ...JSON_TYPE,
      ...w.sign.sendgrid(text([sendgridEvent]), '1'),
      'x-twilio-email-event-webhook-timestamp': '2',
    }),
    expect: invalidSignature,
  },
  { name: 'sendgrid: signed malformed JSON', ...sendgrid('[{"email":'), expect: malformed },
  { name: 'sendgrid: signed object, not an array', ...sendgrid(sendgridEvent), expect: malformed },
  { name: 'sendgrid: signed event as a number', ...sendgrid([{ ...sendgridEvent, event: 5 }]), expect: malformed },
  {
    name: 'sendgrid: signed bounce without an email',
    ...sendgrid([{ ...sendgridEvent, email: undefined }]),
    expect: malformed,
  },
  {
    name: 'sendgrid: signed bounce with sg_event_id as an array',
    ...sendgrid([{ ...sendgridEvent, sg_event_id: ['x'] }]),
    expect: malformed,
  },
  {
    name: 'sendgrid: signed array nested 3,000 deep',
    ...sendgrid(`[${'['.repeat(3000)}${']'.repeat(3000)}]`),
    expect: malformed,
  },
]);

const sesNotification = (message: string, extra: Record<string, string> = {}) => ({
  Type: 'Notification',
  MessageId: 'msg-1',
  TopicArn: SES_TOPIC,
  Message: message,
  Timestamp: '2026-11-27T12:00:00.000Z',
  ...extra,
});
const sesBounce = JSON.stringify({
  notificationType: 'Bounce',
  bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'reader0@list.test' }] },
  mail: {},
});
const ses = (message: (w: World) => Record<string, string | undefined>) => ({
  headers: JSON_TYPE,
  body: (w: World) => text(message(w)),
});

export const WEBHOOK_SES: HostileCase[] = group({ method: 'POST', path: '/api/webhooks/ses', headers: JSON_TYPE }, [
  { name: 'ses: malformed JSON', body: '{"Type":', expect: malformed },
  { name: 'ses: a JSON array', body: '[]', expect: malformed },
  { name: 'ses: no signature', body: text(sesNotification(sesBounce)), expect: invalidSignature },
  {
    name: 'ses: a certificate URL off Amazon',
    ...ses((w) => ({ ...w.sign.ses(sesNotification(sesBounce)), SigningCertURL: 'https://evil.test/cert.pem' })),
    expect: invalidSignature,
  },
  {
    name: 'ses: a certificate URL with a query',
    ...ses((w) => ({
      ...w.sign.ses(sesNotification(sesBounce)),
      SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/x.pem?redirect=https://evil.test',
    })),
    expect: invalidSignature,
  },
  {
    name: 'ses: a certificate URL over http',
    ...ses((w) => ({
      ...w.sign.ses(sesNotification(sesBounce)),
      SigningCertURL: 'http://sns.eu-west-1.amazonaws.com/x.pem',
    })),
    expect: invalidSignature,
  },
  {
    name: 'ses: SignatureVersion 3',
    ...ses((w) => ({ ...w.sign.ses(sesNotification(sesBounce)), SignatureVersion: '3' })),
    expect: invalidSignature,
  },
  {
    name: 'ses: a signed message with another Message',
    ...ses((w) => ({ ...w.sign.ses(sesNotification(sesBounce)), Message: sesBounce.replace('reader0', 'reader1') })),
    expect: invalidSignature,
  },
  {
    name: 'ses: Type "Order"',
    ...ses((w) => w.sign.ses(sesNotification(sesBounce, { Type: 'Order' }))),
    expect: malformed,
  },
  {
    name: 'ses: signed from a topic not configured',
    ...ses((w) => w.sign.ses(sesNotification(sesBounce, { TopicArn: 'arn:aws:sns:eu-west-1:999999999999:evil' }))),
    expect: { status: 403, code: 'topic_not_allowed' },
  },
  { name: 'ses: signed, Message not JSON', ...ses((w) => w.sign.ses(sesNotification('not json'))), expect: malformed },
  {
    name: 'ses: signed, a bounce with no recipients',
    ...ses((w) =>
      w.sign.ses(
        sesNotification(
          JSON.stringify({ notificationType: 'Bounce', bounce: { bounceType: 'Permanent', bouncedRecipients: [] } }),
        ),
      ),
    ),
    expect: malformed,
  },
  {
    name: 'ses: signed, a bounce type "Maybe"',
    ...ses((w) => w.sign.ses(sesNotification(sesBounce.replace('Permanent', 'Maybe')))),
    expect: malformed,
  },
  {
    name: 'ses: signed, a subscription confirmation off Amazon',
    ...ses((w) =>
      w.sign.ses({
        Type: 'SubscriptionConfirmation',
        MessageId: 'm',
        TopicArn: SES_TOPIC,
        Message: 'confirm',
        Timestamp: '2026-11-27T12:00:00.000Z',
        Token: 't',
        SubscribeURL: 'https://evil.test/confirm',
      }),
    ),
    expect: malformed,
  },
]);

export const WEBHOOK_PATHS: HostileCase[] = group({}, [
  {
    name: 'webhooks: an unknown provider',
    method: 'POST',
    path: '/api/webhooks/evil',
    headers: JSON_TYPE,
    body: '{}',
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'webhooks: an encoded traversal to a provider',
    method: 'POST',
    path: '/api/webhooks/..%2Fwebhooks%2Fgeneric',
    headers: JSON_TYPE,
    body: '{}',
    expect: { status: 404, code: 'not_found' },
  },
  {
    name: 'webhooks: a provider name in capitals',
    method: 'POST',
    path: '/api/webhooks/GENERIC',
    headers: JSON_TYPE,
    body: '{}',
    expect: { status: 404, code: 'not_found' },
  },
]);
