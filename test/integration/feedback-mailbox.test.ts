import { randomBytes } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { PROCESSED_KEYWORD } from '../../src/feedback-mailbox/imap-mailbox';
import { startDovecot, type TestDovecot } from '../support/dovecot';
import { seedAddresses, seedArticles } from '../support/seed';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';

/**
 * The feedback mailbox end to end: a real campaign goes out to the SMTP sink, reports about two of its messages are
 * written around the messages as delivered (so their tokens are the real ones), and they are put into a real
 * Dovecot mailbox over IMAP with a mailed unsubscribe and a reader's reply; the service reads the mailbox with its
 * own poll job.
 */

const READERS = ['bounce', 'complain', 'leave', 'reply', 'stay', 'bounce2', 'complain2'].map(
  (n) => `${n}@readers.test`,
);
const env = (dovecot: TestDovecot) => ({
  FEEDBACK_IMAP_URL: dovecot.url(),
  // The schedule runs once at start; the test asks for every other read itself.
  FEEDBACK_POLL_SECONDS: '3600',
  BOUNCE_DOMAIN: 'bounces.gazette.test',
  MAIL_REPLY_TO: 'letters@gazette.test',
});

let dovecot: TestDovecot;
let sink: SmtpSink;
let app: TestApp;
let campaignId: number;

beforeAll(async () => {
  dovecot = await startDovecot();
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url, env: env(dovecot) });
  await seedAddresses(app.container, READERS);
  await seedArticles(app.container, 1);
  const created = await admin('/campaigns', {});
  campaignId = ((await created.json()) as { id: number }).id;
  expect((await admin(`/campaigns/${campaignId}/send`, {})).status).toBe(202);
  await eventually(async () => (await campaign()).status === 'sent', 30000, 'the campaign to be sent');
  // The read the schedule makes at start (of an empty mailbox) is over before anything is put in.
  const queue = app.container.feedbackQueue!.queue;
  await eventually(async () => (await queue.getCompletedCount()) + (await queue.getFailedCount()) > 0, 15000);
  expect(await queue.getFailedCount()).toBe(0);
});
afterAll(async () => {
  await app?.stop();
  await sink?.close();
  await dovecot?.stop();
});

function admin(path: string, body?: unknown) {
  return fetch(`${app.base}/api/admin${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...app.adminHeaders, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function campaign(): Promise<Record<string, unknown>> {
  return (await admin(`/campaigns/${campaignId}`)).json();
}

async function person(email: string) {
  const res = await admin(`/subscribers/${encodeURIComponent(email)}`);
  const body = (await res.json()) as {
    subscriber: { status: string };
    trail: { type: string; detail?: string }[];
  };
  return {
    status: body.subscriber.status,
    trail: body.trail.map((e) => [e.type, e.detail ?? '']),
    suppressed: await app.container.subscribers.isSuppressed(email),
  };
}

/** The newsletter as the sink received it for `email`. */
function delivered(email: string): ReceivedMail {
  const [mail] = sink.to(email);
  if (!mail) throw new Error(`no newsletter reached ${email}`);
  return mail;
}

function header(raw: Buffer, name: string): string {
  const head = raw
    .toString('utf8')
    .split(/\r\n\r\n/)[0]
    .replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (!line) throw new Error(`no ${name} header`);
  return line.slice(name.length + 1).trim();
}

const id = () => randomBytes(8).toString('hex');

/** A Postfix bounce of a delivered newsletter, sent to its VERP envelope sender, returning the whole message. */
function bounceNotice(original: ReceivedMail): string {
  const boundary = `${id()}/mx.readers.test`;
  const rcpt = original.to[0];
  return [
    'Return-Path: <>',
    `Delivered-To: ${original.from}`,
    'From: MAILER-DAEMON@mx.readers.test (Mail Delivery System)',
    'Subject: Undelivered Mail Returned to Sender',
    `To: ${original.from}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-Id: <${id()}@mx.readers.test>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `<${rcpt}>: host mail.readers.test[192.0.2.25] said: 550 5.1.1 <${rcpt}>: Recipient`,
    '    address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)',
    '',
    `--${boundary}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.readers.test',
    `X-Postfix-Sender: rfc822; ${original.from}`,
    '',
    `Final-Recipient: rfc822; ${rcpt}`,
    `Original-Recipient: rfc822;${rcpt}`,
    'Action: failed',
    'Status: 5.1.1',
    'Remote-MTA: dns; mail.readers.test',
    `Diagnostic-Code: smtp; 550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown`,
    '',
    `--${boundary}`,
    'Content-Description: Undelivered Message',
    'Content-Type: message/rfc822',
    '',
    original.raw.toString('utf8').replace(/\r\n$/, ''),
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/**
 * A feedback loop's abuse report (RFC 5965) about a delivered newsletter. Like many loops it redacts the recipient
 * and returns only the headers, so only the token in the Message-ID says who complained.
 */
function abuseReport(original: ReceivedMail): string {
  const boundary = `part1_${id()}`;
  const headers = original.raw
    .toString('utf8')
    .split('\r\n\r\n')[0]
    .replace(/^To: .*$/m, 'To: redacted@fbl.readers.test');
  return [
    'From: Feedback Loop <feedback@fbl.readers.test>',
    `Date: ${new Date().toUTCString()}`,
    `Subject: FW: ${header(original.raw, 'Subject')}`,
    'To: fbl@gazette.test',
    `Message-ID: <${id()}@fbl.readers.test>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report;\r\n     boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset="US-ASCII"',
    '',
    'This is an email abuse report for an email message received from IP 198.51.100.7.',
    '',
    `--${boundary}`,
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: ReadersFBL/1.0',
    'Version: 1',
    'Reporting-MTA: dns; mx.fbl.readers.test',
    'Source-IP: 198.51.100.7',
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    headers,
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** What a mail client sends for the newsletter's List-Unsubscribe mailto. */
function mailtoUnsubscribe(original: ReceivedMail): string {
  const mailto = /<mailto:([^?>]+)\?subject=([^>]+)>/.exec(header(original.raw, 'List-Unsubscribe'));
  if (!mailto) throw new Error('no mailto in List-Unsubscribe');
  return [
    `From: <${original.to[0]}>`,
    `To: ${mailto[1]}`,
    `Subject: ${decodeURIComponent(mailto[2])}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${id()}@mail.readers.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'This message was automatically generated by the mail client to unsubscribe from this list.',
    '',
  ].join('\r\n');
}

/** A reader answering the newsletter: it quotes the Message-ID, token and all, and is not feedback. */
function readerReply(original: ReceivedMail): string {
  return [
    `From: Reader <${original.to[0]}>`,
    'To: letters@gazette.test',
    `Subject: Re: ${header(original.raw, 'Subject')}`,
    `In-Reply-To: ${header(original.raw, 'Message-ID')}`,
    `References: ${header(original.raw, 'Message-ID')}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${id()}@mail.readers.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Thank you for this piece.',
    '',
  ].join('\r\n');
}

/** Puts messages into the user's INBOX; returns their UIDs. */
async function append(...messages: string[]): Promise<number[]> {
  const client = await dovecot.client();
  try {
    const uids: number[] = [];
    for (const m of messages) {
      const r = await client.append('INBOX', m);
      if (!r || !r.uid) throw new Error('APPEND gave no UID');
      uids.push(r.uid);
    }
    return uids;
  } finally {
    await client.logout();
  }
}

/** The flags of every message in INBOX, by UID. */
async function flags(): Promise<Map<number, string[]>> {
  const client: ImapFlow = await dovecot.client();
  try {
    await client.mailboxOpen('INBOX', { readOnly: true });
    const all = await client.fetchAll('1:*', { uid: true, flags: true });
    return new Map(all.map((m) => [m.uid, [...(m.flags ?? [])].sort()]));
  } finally {
    await client.logout();
  }
}

const PROCESSED = [PROCESSED_KEYWORD, '\\Seen'].sort();
let bounceMail: string;

test('bounces, abuse reports and mailed unsubscribes act on the people they name; a reply stays unread', async () => {
  bounceMail = bounceNotice(delivered('bounce@readers.test'));
  const [bounce, complaint, unsubscribe, reply] = await append(
    bounceMail,
    abuseReport(delivered('complain@readers.test')),
    mailtoUnsubscribe(delivered('leave@readers.test')),
    readerReply(delivered('reply@readers.test')),
  );

  const summary = await app.container.feedbackQueue!.pollNow();
  expect(summary).toEqual({
    examined: 4,
    processed: 3,
    left: 1,
    tooLarge: 0,
    outcomes: { applied: 2, unsubscribed: 1 },
  });

  const bounced = await person('bounce@readers.test');
  expect(bounced).toMatchObject({ status: 'bounced', suppressed: true });
  expect(bounced.trail.at(-1)).toEqual([
    'bounced',
    `mailbox: campaign ${campaignId}: 5.1.1 smtp; 550 5.1.1 <bounce@readers.test>: Recipient address rejected: User unknown`,
  ]);
  const complained = await person('complain@readers.test');
  expect(complained).toMatchObject({ status: 'unsubscribed', suppressed: true });
  expect(complained.trail.at(-1)).toEqual([
    'complained',
    `mailbox: campaign ${campaignId}: abuse report from ReadersFBL/1.0`,
  ]);
  // A mailed unsubscribe is an unsubscribe, not a suppression: the person may sign up again.
  const left = await person('leave@readers.test');
  expect(left).toMatchObject({ status: 'unsubscribed', suppressed: false });
  expect(left.trail.at(-1)).toEqual(['unsubscribed', 'mailto (mailbox)']);
  for (const email of ['reply@readers.test', 'stay@readers.test'])
    expect(await person(email)).toMatchObject({ status: 'active', suppressed: false });

  // The status counts every hard bounce in `bounced`; this one came after the session, none in it.
  expect(await campaign()).toMatchObject({
    sent: READERS.length,
    bounced: 1,
    bouncedInSession: 0,
    lateBounces: 1,
    delivered: READERS.length - 1,
    complained: 1,
  });

  const now = await flags();
  expect(now.get(bounce)).toEqual(PROCESSED);
  expect(now.get(complaint)).toEqual(PROCESSED);
  expect(now.get(unsubscribe)).toEqual(PROCESSED);
  expect(now.get(reply)).toEqual([]);
});

test('a second poll changes nothing: processed mail is not read again, the reply is looked at and left', async () => {
  const before = await Promise.all(READERS.map(person));
  const flagsBefore = await flags();

  const summary = await app.container.feedbackQueue!.pollNow();
  expect(summary).toEqual({ examined: 1, processed: 0, left: 1, tooLarge: 0, outcomes: {} });

  expect(await Promise.all(READERS.map(person))).toEqual(before);
  expect(await campaign()).toMatchObject({ lateBounces: 1, complained: 1 });
  expect(await flags()).toEqual(flagsBefore);
});

test('a second copy of a handled report is marked processed and changes nothing', async () => {
  const before = await person('bounce@readers.test');
  const [copy] = await append(bounceMail);

  const summary = await app.container.feedbackQueue!.pollNow();
  expect(summary).toMatchObject({ examined: 2, processed: 1, outcomes: { duplicate: 1 } });
  expect(await person('bounce@readers.test')).toEqual(before);
  expect(await campaign()).toMatchObject({ lateBounces: 1, complained: 1 });
  expect((await flags()).get(copy)).toEqual(PROCESSED);
});

test('two workers asked to read at once take turns, and each report is handled once', async () => {
  await append(bounceNotice(delivered('bounce2@readers.test')), abuseReport(delivered('complain2@readers.test')));
  // A second service process on the same Redis prefix: another worker of the same queues. Last test: stopping a
  // test app deletes its prefix's keys.
  const other = await startTestApp({ smtpUrl: sink.url, prefix: app.prefix, env: env(dovecot) });
  try {
    const [a, b] = await Promise.all([
      app.container.feedbackQueue!.pollNow(),
      other.container.feedbackQueue!.pollNow(),
    ]);
    expect(a.processed + b.processed).toBe(2);
    expect({ ...a.outcomes, ...b.outcomes }).not.toHaveProperty('duplicate');
    expect(await person('bounce2@readers.test')).toMatchObject({ status: 'bounced', suppressed: true });
    expect(await person('complain2@readers.test')).toMatchObject({ status: 'unsubscribed', suppressed: true });
    expect(await campaign()).toMatchObject({ lateBounces: 2, complained: 2 });
  } finally {
    await other.stop();
  }
});
