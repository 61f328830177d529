import { createHash } from 'node:crypto';
import { simpleParser, type Attachment, type ParsedMail, type SimpleParserOptions } from 'mailparser';
import { normaliseEmail } from '../domain/email-address';
import type { InboundFeedback } from '../domain/feedback';
import type { FeedbackMail, FeedbackMailReader } from '../domain/ports/feedback-mailbox';
import { findReturnTokens, type SignedTokens } from '../domain/signed-token';
import { first, readFieldBlocks, readHeaderBlock, statusCode, typedAddress, type Fields } from './report-fields';

/** The machine-readable part of a bounce notice (RFC 3464; the global one is RFC 6533's, for SMTPUTF8 mail). */
const DELIVERY_STATUS = new Set(['message/delivery-status', 'message/global-delivery-status']);
/** The machine-readable part of an abuse report (RFC 5965). */
const FEEDBACK_REPORT = 'message/feedback-report';
/** Parts that return the original message, whole or only its headers. */
const ORIGINAL = new Set(['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers']);

/**
 * Headers that say where a report was delivered. With BOUNCE_DOMAIN set, a bounce goes to the envelope sender of
 * the message, `bounces+<return token>@BOUNCE_DOMAIN`, and the receiving server writes that address here.
 */
const ENVELOPE_RECIPIENT = ['delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to', 'to'];

/** Subjects of bounce notices that are not in RFC 3464's format (qmail, older Exim and Sendmail, some gateways). */
const FAILURE_SUBJECT =
  /undeliver|delivery (status notification|failure|failed|has failed)|failure notice|returned mail|mail delivery (failed|failure|system)|non-?delivery|could not be delivered/i;
/** Subjects of delay warnings, which ask nothing of us: the server is still trying. */
const DELAY_SUBJECT = /\b(delayed|delay|warning)\b/i;
/** Where a plain-text bounce stops explaining and starts quoting the original (qmail, Exim, Sendmail). */
const QUOTE_START = /^\s*-{2,}.*(copy of the message|original message|below this line|message headers)|^Received: /im;

/** A List-Unsubscribe mailto subject: `unsubscribe <token>` (see Links.unsubscribe). */
const UNSUBSCRIBE_SUBJECT = /\bunsubscribe\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/i;

/** The consent trail keeps the reporter's words; the policy bounds them again, this keeps the report's. */
const MAX_REASON = 300;

/**
 * mailparser's options for reports: delivery-status parts stay attachments instead of being merged into the text
 * (`keepDeliveryStatus`), and an enclosed message stays one leaf attachment with its headers (`ignoreEmbedded`, an
 * option of mailparser's splitter, mailsplit, which mailparser passes on but does not declare): without it, an
 * enclosed original marked `Content-Disposition: inline` is flattened into the text and its Message-ID is lost.
 * HTML is never needed, so it is not converted.
 */
const PARSE_OPTIONS: SimpleParserOptions & { ignoreEmbedded: boolean } = {
  keepDeliveryStatus: true,
  ignoreEmbedded: true,
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
};

/**
 * Reads what a message in the feedback mailbox says: a delivery status notification (RFC 3464), an abuse report
 * (RFC 5965), a plain-text bounce that quotes the original (qmail, older Exim), or a List-Unsubscribe mailto
 * request. It only reads: no I/O, no store, and every report it returns still goes through the feedback receiver,
 * which verifies the return token and finds the person.
 *
 * The person a report is about is found by the signed return token first, because feedback loops often redact the
 * recipient's address and forwarding changes it: in the address the report was delivered to (VERP), and in the
 * returned original's Message-ID and Return-Path. The address the report states is the fallback.
 */
export class ReportParser implements FeedbackMailReader {
  constructor(private readonly deps: { tokens: Pick<SignedTokens, 'verifyReturn'> }) {}

  mightBeFeedback(headers: Buffer): boolean {
    const fields = readHeaderBlock(headers.toString('utf8'));
    if (/^\s*multipart\/report\b/i.test(first(fields, 'content-type') ?? '')) return true;
    // Raw, not RFC 2047-decoded: mail clients write the ASCII mailto subject as it is, and a quoted-printable
    // encoded word keeps its letters; only a base64-encoded "unsubscribe" is missed, and left for a person.
    const subject = (fields.get('subject') ?? []).join(' ');
    if (/unsubscribe/i.test(subject) || FAILURE_SUBJECT.test(subject)) return true;
    if (fromMailSystem(fields)) return true;
    return this.returnToken(ENVELOPE_RECIPIENT.flatMap((name) => fields.get(name) ?? [])) !== undefined;
  }

  async read(raw: Buffer): Promise<FeedbackMail> {
    const mail = await simpleParser(raw, PARSE_OPTIONS);
    const headers = readHeaderBlock(headerText(raw));
    const id = reportId(mail, raw);
    const status = mail.attachments.find((a) => DELIVERY_STATUS.has(a.contentType));
    const feedback = mail.attachments.find((a) => a.contentType === FEEDBACK_REPORT);
    const original = mail.attachments.find((a) => ORIGINAL.has(a.contentType));
    // The parts decide, not the report-type parameter, which some servers leave out or get wrong.
    if (status) return this.deliveryStatus(headers, text(status), original, id);
    if (feedback) return this.abuseReport(headers, text(feedback), original, id);
    if (isReport(mail)) return { kind: 'other', why: 'a report of another kind' };

    const unsubscribe = UNSUBSCRIBE_SUBJECT.exec(mail.subject ?? '');
    if (unsubscribe) return { kind: 'unsubscribe', token: unsubscribe[1] };
    return this.plainBounce(headers, mail, id) ?? { kind: 'other', why: 'not a report' };
  }

  /**
   * RFC 3464: a block of per-message fields, then one block per recipient. Only `Action: failed` asks something of
   * us; `delayed`, `delivered`, `relayed` and `expanded` are news that needs nothing done.
   */
  private deliveryStatus(headers: Fields, body: string, original: Attachment | undefined, id: string): FeedbackMail {
    const blocks = readFieldBlocks(body);
    // Some servers leave out the blank line after the per-message fields: a block is a recipient's by its fields.
    const recipients = blocks.filter((b) => b.has('final-recipient') || b.has('original-recipient') || b.has('action'));
    if (!recipients.length) return { kind: 'other', why: 'a delivery status naming no recipient' };
    const perMessage = blocks[0] && !recipients.includes(blocks[0]) ? blocks[0] : new Map<string, string[]>();
    const returned = original ? readHeaderBlock(text(original)) : new Map<string, string[]>();
    const returnToken = this.returnToken([
      ...envelopeRecipient(headers),
      // Postfix names the envelope sender of the bounced message here.
      ...(perMessage.get('x-postfix-sender') ?? []),
      ...originalIdentity(returned),
    ]);

    const reports: InboundFeedback[] = [];
    let ignored = 0;
    recipients.forEach((block, i) => {
      const action = (first(block, 'action') ?? '').toLowerCase().split(/[\s(;]/)[0];
      const status = statusCode(first(block, 'status'));
      // Action is required, but a block without it and a permanent status is a failure all the same.
      if (action !== 'failed' && !(action === '' && status?.class === '5')) {
        ignored++;
        return;
      }
      // Original-Recipient is the address as we sent it; Final-Recipient may be where forwarding led.
      const email = mailbox(first(block, 'original-recipient')) ?? mailbox(first(block, 'final-recipient'));
      if (!returnToken && !email) {
        ignored++;
        return;
      }
      reports.push({
        source: 'mailbox',
        eventId: `${id}:${i}`,
        type: 'bounce',
        // A failure after a run of temporary errors (the server gave up retrying) says nothing final about the
        // address; any other failure does.
        bounceType: status?.class === '4' ? 'soft' : 'hard',
        returnToken,
        email,
        reason: reason(
          status?.code,
          first(block, 'diagnostic-code') ?? first(block, 'x-exim-diagnostic') ?? 'delivery failed',
        ),
      });
    });
    return { kind: 'report', format: 'dsn', reports, ignored };
  }

  /** RFC 5965: one block of fields. Only `Feedback-Type: abuse` is a person calling our mail spam. */
  private abuseReport(headers: Fields, body: string, original: Attachment | undefined, id: string): FeedbackMail {
    const fields = new Map<string, string[]>();
    for (const block of readFieldBlocks(body))
      for (const [name, values] of block) fields.set(name, [...(fields.get(name) ?? []), ...values]);
    if ((first(fields, 'feedback-type') ?? '').trim().toLowerCase() !== 'abuse')
      return { kind: 'report', format: 'arf', reports: [], ignored: 1 };

    const returned = original ? readHeaderBlock(text(original)) : new Map<string, string[]>();
    const returnToken = this.returnToken([
      ...originalIdentity(returned),
      // The original's envelope sender: with VERP it carries the token even when the headers were cut.
      ...(fields.get('original-mail-from') ?? []),
      ...envelopeRecipient(headers),
    ]);
    const email =
      (fields.get('original-rcpt-to') ?? []).map(mailbox).find(Boolean) ??
      (fields.get('removal-recipient') ?? []).map(mailbox).find(Boolean) ??
      soleAddress(first(returned, 'to'));
    if (!returnToken && !email) return { kind: 'report', format: 'arf', reports: [], ignored: 1 };
    const agent = first(fields, 'user-agent') ?? first(fields, 'reporting-mta');
    return {
      kind: 'report',
      format: 'arf',
      reports: [
        {
          source: 'mailbox',
          eventId: `${id}:0`,
          type: 'complaint',
          returnToken,
          email,
          reason: reason('abuse report', agent && `from ${agent}`),
        },
      ],
      ignored: 0,
    };
  }

  /**
   * A bounce in no standard format, read only when it is cheap to be sure: it comes from a mail system, its subject
   * says delivery failed, and its explanation has a status or reply code or says "permanent". The person is found
   * by the token (where it was delivered, or the original's Message-ID quoted below the explanation) or by the
   * address Exim names in X-Failed-Recipients or qmail on a line of its own.
   */
  private plainBounce(headers: Fields, mail: ParsedMail, id: string): FeedbackMail | undefined {
    const subject = mail.subject ?? '';
    if (!fromMailSystem(headers)) return undefined;
    // Failure first: a failure's subject often quotes the original's, which may well say "warning".
    if (!FAILURE_SUBJECT.test(subject) && !headers.has('x-failed-recipients'))
      return DELAY_SUBJECT.test(subject) ? { kind: 'report', format: 'bounce', reports: [], ignored: 1 } : undefined;

    const body = mail.text ?? '';
    const quote = QUOTE_START.exec(body);
    const explanation = quote ? body.slice(0, quote.index) : body;
    const bounceType = plainBounceType(explanation);
    if (!bounceType) return { kind: 'other', why: 'a bounce of unknown kind' };
    const returnToken = this.returnToken([...envelopeRecipient(headers), body]);
    const email =
      soleAddress(first(headers, 'x-failed-recipients')) ??
      mailbox(/^\s*<([^<>\s]+@[^<>\s]+)>:\s*$/m.exec(explanation)?.[1]);
    if (!returnToken && !email) return { kind: 'other', why: 'a bounce naming nobody' };
    const code = /\b[245]\.\d{1,3}\.\d{1,3}\b/.exec(explanation)?.[0];
    return {
      kind: 'report',
      format: 'bounce',
      reports: [
        {
          source: 'mailbox',
          eventId: `${id}:0`,
          type: 'bounce',
          bounceType,
          returnToken,
          email,
          reason: reason(code, subject),
        },
      ],
      ignored: 0,
    };
  }

  /** The first return token in these texts that is ours (verifies), in the order given. */
  private returnToken(texts: (string | undefined)[]): string | undefined {
    for (const t of texts) {
      if (!t) continue;
      const ours = findReturnTokens(t).find((candidate) => this.deps.tokens.verifyReturn(candidate));
      if (ours) return ours;
    }
    return undefined;
  }
}

/** A stable id of the report for the receiver's de-duplication: its Message-ID, else its content. */
function reportId(mail: ParsedMail, raw: Buffer): string {
  const hash = createHash('sha256');
  if (mail.messageId) hash.update(`message-id:${mail.messageId.trim()}`);
  else hash.update('content:').update(raw);
  return hash.digest('hex').slice(0, 32);
}

function isReport(mail: ParsedMail): boolean {
  const type = mail.headers.get('content-type') as { value?: string } | undefined;
  return type?.value === 'multipart/report';
}

/** Sent by a mail server rather than a person: the null sender, a daemon's From, or Exim's list of failures. */
function fromMailSystem(headers: Fields): boolean {
  if ((headers.get('return-path') ?? []).some((v) => /^<\s*>$/.test(v.trim()))) return true;
  if (headers.has('x-failed-recipients')) return true;
  return (headers.get('from') ?? []).some((v) => /\b(mailer-daemon|postmaster|mail-daemon)@/i.test(v));
}

/** Where the report itself was delivered. */
function envelopeRecipient(headers: Fields): string[] {
  return ENVELOPE_RECIPIENT.flatMap((name) => headers.get(name) ?? []);
}

/** Where the returned original names its recipient's token: its Message-ID and Return-Path first, then anywhere. */
function originalIdentity(returned: Fields): string[] {
  return [
    ...(returned.get('message-id') ?? []),
    ...(returned.get('return-path') ?? []),
    ...[...returned.values()].flat(),
  ];
}

/** How final a plain-text bounce is, from its explanation; undefined when it does not say. */
function plainBounceType(explanation: string): 'hard' | 'soft' | undefined {
  const status = /\b([45])\.\d{1,3}\.\d{1,3}\b/.exec(explanation)?.[1];
  if (status) return status === '5' ? 'hard' : 'soft';
  const reply = /(?:^|\s)([45])\d\d[\s-]/.exec(explanation)?.[1];
  if (reply) return reply === '5' ? 'hard' : 'soft';
  if (/permanent/i.test(explanation)) return 'hard';
  return undefined;
}

/** A valid address from an address-type field or a bare address, normalised as the subscriber store keeps it. */
function mailbox(value: string | undefined): string | undefined {
  const parsed = typedAddress(value);
  if (!parsed || (parsed.type !== 'rfc822' && parsed.type !== 'utf-8')) return undefined;
  try {
    return normaliseEmail(parsed.address);
  } catch {
    return undefined;
  }
}

/** The one address of an address header (`Reader <reader@example.com>`); undefined for none or several. */
function soleAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const found = value.match(/[^\s<>,;:"]+@[^\s<>,;:"]+/g) ?? [];
  return found.length === 1 ? mailbox(found[0]) : undefined;
}

/** The part's decoded content as text (report parts are ASCII, or UTF-8 for the global kinds). */
function text(part: Attachment): string {
  return part.content.toString('utf8');
}

/** The raw header block of the message, up to the first blank line. */
function headerText(raw: Buffer): string {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0);
  return raw.subarray(0, ends.length ? Math.min(...ends) : raw.length).toString('utf8');
}

/** One line of the reporter's words for the consent trail. */
function reason(...parts: (string | undefined)[]): string {
  return parts.filter(Boolean).join(' ').replace(/\s+/g, ' ').trim().slice(0, MAX_REASON);
}
