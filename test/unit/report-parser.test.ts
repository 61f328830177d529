import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InboundFeedback } from '../../src/domain/feedback';
import type { FeedbackMail } from '../../src/domain/ports/feedback-mailbox';
import { SignedTokens } from '../../src/domain/signed-token';
import { ReportParser } from '../../src/feedback-mailbox/report-parser';
import { TEST_SECRETS } from '../support/test-app';

const clock = { now: () => new Date('2026-11-27T12:00:00Z') };
const tokens = new SignedTokens({ secret: TEST_SECRETS.APP_SECRET, clock });
const parser = new ReportParser({ tokens });

/** Subscriber 42's newsletter of campaign 7, as the fixtures' placeholders stand for. */
const RETURN_TOKEN = tokens.issueReturn(42, 7);
const UNSUBSCRIBE_TOKEN = tokens.issue('unsubscribe', 42);

/** A fixture with its placeholders filled, and with CRLF line ends when asked (as mail travels). */
function fixture(name: string, opts: { crlf?: boolean; edit?: (text: string) => string } = {}): Buffer {
  let text = readFileSync(join(__dirname, '..', 'fixtures', 'feedback', name), 'utf8')
    .replaceAll('{{RETURN_TOKEN}}', RETURN_TOKEN)
    .replaceAll('{{UNSUBSCRIBE_TOKEN}}', UNSUBSCRIBE_TOKEN);
  if (opts.edit) text = opts.edit(text);
  return Buffer.from(opts.crlf ? text.replace(/\r?\n/g, '\r\n') : text);
}

/** The header block, as the mailbox hands it over before fetching the rest. */
function headersOf(raw: Buffer): Buffer {
  const end = raw.indexOf('\n\n') >= 0 ? raw.indexOf('\n\n') : raw.indexOf('\r\n\r\n');
  return raw.subarray(0, end + 1);
}

async function reportsOf(raw: Buffer): Promise<{ mail: FeedbackMail; reports: InboundFeedback[] }> {
  const mail = await parser.read(raw);
  return { mail, reports: mail.kind === 'report' ? mail.reports : [] };
}

test('a sample token pair verifies, so the fixtures carry real tokens', () => {
  expect(tokens.verifyReturn(RETURN_TOKEN)).toEqual({ subscriberId: 42, campaignId: 7 });
  expect(tokens.verify('unsubscribe', UNSUBSCRIBE_TOKEN)).toBe(42);
});

describe('delivery status notifications (RFC 3464)', () => {
  test('a Postfix bounce of a VERP newsletter is a hard bounce naming the token, the address and the reason', async () => {
    const raw = fixture('postfix-dsn.eml', { crlf: true });
    expect(parser.mightBeFeedback(headersOf(raw))).toBe(true);
    const { mail, reports } = await reportsOf(raw);
    expect(mail).toMatchObject({ kind: 'report', format: 'dsn', ignored: 0 });
    expect(reports).toEqual([
      {
        source: 'mailbox',
        eventId: expect.stringMatching(/^[0-9a-f]{32}:0$/),
        type: 'bounce',
        bounceType: 'hard',
        returnToken: RETURN_TOKEN,
        email: 'reader@example.org',
        reason:
          '5.1.1 smtp; 550 5.1.1 <reader@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
      },
    ]);
  });

  test('the same report read twice has the same event id, so the receiver handles it once', async () => {
    const a = await reportsOf(fixture('postfix-dsn.eml'));
    const b = await reportsOf(fixture('postfix-dsn.eml', { crlf: true }));
    expect(a.reports[0].eventId).toBe(b.reports[0].eventId);
  });

  test('a token that does not verify is passed over for the one that does', async () => {
    const forged = RETURN_TOKEN.replace(/[0-9a-f]{16}$/, '0123456789abcdef');
    const raw = fixture('postfix-dsn.eml', {
      edit: (t) => t.replace(/^(Delivered-To|To): bounces\+[^@]+/gm, `$1: bounces+${forged}`),
    });
    expect((await reportsOf(raw)).reports[0].returnToken).toBe(RETURN_TOKEN);
  });

  test('the token in the returned original Message-ID is enough when nothing else carries one', async () => {
    const raw = fixture('postfix-dsn.eml', {
      edit: (t) =>
        t
          .replaceAll(`bounces+${RETURN_TOKEN}@bounces.gazette.test`, 'news@gazette.test')
          .replace(/^Final-Recipient: .*$/m, 'Final-Recipient: rfc822; forwarded@example.net')
          .replace(/^Original-Recipient: .*\n/m, ''),
    });
    expect((await reportsOf(raw)).reports[0]).toMatchObject({
      returnToken: RETURN_TOKEN,
      email: 'forwarded@example.net',
    });
  });

  test('an Exim bounce to the From address: Status 5.0.0 is hard, the token comes from the returned headers', async () => {
    const raw = fixture('exim-dsn.eml');
    expect(parser.mightBeFeedback(headersOf(raw))).toBe(true);
    const { mail, reports } = await reportsOf(raw);
    expect(mail).toMatchObject({ kind: 'report', format: 'dsn', ignored: 0 });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      type: 'bounce',
      bounceType: 'hard',
      returnToken: RETURN_TOKEN,
      email: 'reader@example.net',
      reason: '5.0.0 smtp; 550 5.1.1 <reader@example.net>: mailbox unavailable',
    });
  });

  test('a delay warning (Action: delayed) asks nothing: a report with nothing to act on', async () => {
    const raw = fixture('postfix-delayed.eml');
    expect(await parser.read(raw)).toEqual({ kind: 'report', format: 'dsn', reports: [], ignored: 1 });
  });

  test('delivered and relayed recipients are ignored, a failed one beside them is reported', async () => {
    const raw = fixture('postfix-dsn.eml', {
      edit: (t) =>
        t.replace(
          'Final-Recipient: rfc822; reader@example.org',
          'Final-Recipient: rfc822; fine@example.org\nAction: delivered\nStatus: 2.0.0\n\n' +
            'Final-Recipient: rfc822; relayed@example.org\nAction: relayed\nStatus: 2.0.0\n\n' +
            'Final-Recipient: rfc822; reader@example.org',
        ),
    });
    const mail = await parser.read(raw);
    expect(mail).toMatchObject({ kind: 'report', ignored: 2 });
    expect(mail.kind === 'report' && mail.reports.map((r) => [r.email, r.eventId.slice(-2)])).toEqual([
      ['reader@example.org', ':2'],
    ]);
  });

  test('a DSN for two recipients and no returned original reports each by address: 5.x.x hard, 4.x.x soft', async () => {
    const raw = fixture('sendmail-two-recipients.eml', { crlf: true });
    const { mail, reports } = await reportsOf(raw);
    expect(mail).toMatchObject({ kind: 'report', format: 'dsn', ignored: 0 });
    expect(reports.map((r) => [r.email, r.bounceType, r.returnToken, r.reason])).toEqual([
      ['one@example.com', 'hard', undefined, '5.1.1 SMTP; 550 5.1.1 <one@example.com>... User unknown'],
      ['two@example.com', 'soft', undefined, '4.4.7 SMTP; 447 4.4.7 Message could not be delivered for 5 days'],
    ]);
    expect(new Set(reports.map((r) => r.eventId)).size).toBe(2);
  });

  test('field blocks without the blank line after the per-message fields still read', async () => {
    const raw = fixture('sendmail-two-recipients.eml', {
      edit: (t) =>
        t.replace('Arrival-Date: Fri, 22 Nov 2026 11:58:02 GMT\n\n', 'Arrival-Date: Fri, 22 Nov 2026 11:58:02 GMT\n'),
    });
    expect((await reportsOf(raw)).reports.map((r) => r.email)).toEqual(['one@example.com', 'two@example.com']);
  });
});

describe('abuse reports (RFC 5965)', () => {
  test('Feedback-Type abuse is a complaint; the recipient is redacted, the token names the person', async () => {
    const raw = fixture('arf-abuse.eml');
    expect(parser.mightBeFeedback(headersOf(raw))).toBe(true);
    const { mail, reports } = await reportsOf(raw);
    expect(mail).toMatchObject({ kind: 'report', format: 'arf', ignored: 0 });
    expect(reports).toEqual([
      {
        source: 'mailbox',
        eventId: expect.stringMatching(/^[0-9a-f]{32}:0$/),
        type: 'complaint',
        returnToken: RETURN_TOKEN,
        // The redacted To is all the report says about the address; the receiver tries the token first.
        email: 'redacted@arf.example.com',
        reason: 'abuse report from ExampleFBL/2.0',
      },
    ]);
  });

  test('the Message-ID of an original enclosed inline is read (no VERP sender in the report)', async () => {
    const raw = fixture('arf-abuse.eml', { edit: (t) => t.replace(/^Original-Mail-From: .*\n/m, '') });
    expect((await reportsOf(raw)).reports[0].returnToken).toBe(RETURN_TOKEN);
  });

  test('without a token the report names the person by Original-Rcpt-To', async () => {
    const raw = fixture('arf-abuse.eml', {
      edit: (t) =>
        t
          .replaceAll(RETURN_TOKEN, 'f-1-1-0000000000000000')
          .replace('Version: 1\n', 'Version: 1\nOriginal-Rcpt-To: <Reader@Example.ORG>\n'),
    });
    expect((await reportsOf(raw)).reports[0]).toMatchObject({ returnToken: undefined, email: 'Reader@example.org' });
  });

  test('feedback other than abuse (not-spam, virus) asks nothing', async () => {
    const raw = fixture('arf-abuse.eml', { edit: (t) => t.replace('Feedback-Type: abuse', 'Feedback-Type: not-spam') });
    expect(await parser.read(raw)).toEqual({ kind: 'report', format: 'arf', reports: [], ignored: 1 });
  });
});

describe('plain-text bounces, mailed unsubscribes and other mail', () => {
  test('a qmail failure notice is a hard bounce found by the quoted Message-ID and the address it names', async () => {
    const raw = fixture('qmail-bounce.eml');
    expect(parser.mightBeFeedback(headersOf(raw))).toBe(true);
    const { mail, reports } = await reportsOf(raw);
    expect(mail).toMatchObject({ kind: 'report', format: 'bounce', ignored: 0 });
    expect(reports).toEqual([
      expect.objectContaining({
        type: 'bounce',
        bounceType: 'hard',
        returnToken: RETURN_TOKEN,
        email: 'reader@example.org',
        reason: '5.1.1 failure notice',
      }),
    ]);
  });

  test('a plain delay warning asks nothing; a failure whose quoted subject says "warning" is still a failure', async () => {
    const delay = fixture('qmail-bounce.eml', {
      edit: (t) => t.replace('Subject: failure notice', 'Subject: Warning: message 1vPq3s-000Ab1-2F delayed 24 hours'),
    });
    expect(await parser.read(delay)).toEqual({ kind: 'report', format: 'bounce', reports: [], ignored: 1 });
    const failure = fixture('qmail-bounce.eml', {
      edit: (t) => t.replace('Subject: failure notice', 'Subject: Undeliverable: Storm warning for the coast'),
    });
    expect((await reportsOf(failure)).reports).toEqual([expect.objectContaining({ bounceType: 'hard' })]);
  });

  test('a mailer daemon writing something that is not a failure is left for a person', async () => {
    const raw = fixture('qmail-bounce.eml', {
      edit: (t) => t.replace('Subject: failure notice', 'Subject: Your mailbox is almost full'),
    });
    expect((await parser.read(raw)).kind).toBe('other');
  });

  test('a List-Unsubscribe mailto request yields its token, unverified (the use case verifies it)', async () => {
    const raw = fixture('mailto-unsubscribe.eml', { crlf: true });
    expect(parser.mightBeFeedback(headersOf(raw))).toBe(true);
    expect(await parser.read(raw)).toEqual({ kind: 'unsubscribe', token: UNSUBSCRIBE_TOKEN });
  });

  test('a reader replying to a newsletter is not feedback, though the reply quotes the token in In-Reply-To', async () => {
    const raw = fixture('reader-reply.eml');
    expect(parser.mightBeFeedback(headersOf(raw))).toBe(false);
    expect(await parser.read(raw)).toEqual({ kind: 'other', why: 'not a report' });
  });

  test('a report of another kind (a read receipt) is not ours to act on', async () => {
    const raw = fixture('postfix-dsn.eml', {
      edit: (t) =>
        t
          .replace('report-type=delivery-status', 'report-type=disposition-notification')
          .replace('Content-Type: message/delivery-status', 'Content-Type: message/disposition-notification'),
    });
    expect(await parser.read(raw)).toEqual({ kind: 'other', why: 'a report of another kind' });
  });
});
