import { verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { InboundFeedback } from '../domain/feedback';
import { parsePublicKey } from '../lib/public-key';
import { malformed, parseAs, parseJson, reasonText, recipientAddress, returnTokenIn } from './payload';
import { invalidSignature } from './verification';
import type { WebhookDelivery, WebhookProvider } from './webhook';

/** Options of `SendGridWebhook`. */
export interface SendGridWebhookOptions {
  /** SENDGRID_WEBHOOK_PUBLIC_KEY: the verification key of the Signed Event Webhook, base64 DER or PEM. */
  publicKey: string;
}

type Kind = Pick<InboundFeedback, 'type' | 'bounceType'>;

/**
 * Why SendGrid dropped a message, for the reasons that are about the address: SendGrid keeps its own suppression
 * lists and drops mail to anyone on them, so mailing them on is pointless. Other reasons (an over-quota account,
 * a bad request) are ours to fix, not the reader's.
 */
const DROPPED_REASONS = new Map<string, Kind>([
  ['Bounced Address', { type: 'bounce', bounceType: 'hard' }],
  ['Invalid', { type: 'bounce', bounceType: 'hard' }],
  ['Spam Reporting Address', { type: 'complaint' }],
  ['Unsubscribed Address', { type: 'unsubscribe' }],
]);

const eventShape = z.object({ event: z.string().min(1) });

const reportShape = z.object({
  sg_event_id: z.string().min(1).max(200),
  email: z.string().min(1),
  type: z.string().nullish(),
  reason: z.string().nullish(),
  status: z.string().nullish(),
  'smtp-id': z.string().nullish(),
});

/**
 * SendGrid's Signed Event Webhook: a JSON array of events, signed with ECDSA (P-256, SHA-256) over the
 * `X-Twilio-Email-Event-Webhook-Timestamp` header followed by the raw body, the signature in
 * `X-Twilio-Email-Event-Webhook-Signature` (base64 DER). Each event has its own `sg_event_id`, so a batch retried
 * after a partial failure is applied once. The signed timestamp is not held to a short window: the signature
 * covers every event in the body and each is applied once by its id, so a replay changes nothing.
 *
 * Verified with node:crypto (OpenSSL), as SendGrid's own helpers for Go and Ruby use their platform's crypto;
 * `@sendgrid/eventwebhook` would bring a pure-JavaScript ECDSA (starkbank-ecdsa, big-integer) to do the same call.
 */
export class SendGridWebhook implements WebhookProvider {
  readonly name = 'sendgrid';
  private readonly key: KeyObject;

  constructor(opts: SendGridWebhookOptions) {
    this.key = parsePublicKey(opts.publicKey);
  }

  read(delivery: WebhookDelivery): Promise<InboundFeedback[]> {
    return new Promise((ok) => ok(this.reports(delivery)));
  }

  private reports(delivery: WebhookDelivery): InboundFeedback[] {
    this.verify(delivery);
    const events = parseJson(delivery.body);
    if (!Array.isArray(events)) throw malformed('The body must be a JSON array of events.');
    const reports: InboundFeedback[] = [];
    events.forEach((e, i) => {
      const kind = kindOf(e, String(i));
      if (!kind) return;
      const r = parseAs(reportShape, e, String(i));
      reports.push({
        source: 'sendgrid',
        eventId: r.sg_event_id,
        ...kind,
        email: recipientAddress(r.email),
        returnToken: returnTokenIn(r['smtp-id'] ?? undefined),
        reason: reasonText(r.status, r.reason),
      });
    });
    return reports;
  }

  private verify(delivery: WebhookDelivery): void {
    const signature = delivery.header('x-twilio-email-event-webhook-signature');
    const timestamp = delivery.header('x-twilio-email-event-webhook-timestamp');
    if (!signature || !timestamp)
      throw invalidSignature(
        'The X-Twilio-Email-Event-Webhook-Signature and X-Twilio-Email-Event-Webhook-Timestamp headers are required.',
      );
    let valid: boolean;
    try {
      valid = verify(
        'sha256',
        Buffer.concat([Buffer.from(timestamp, 'utf8'), delivery.body]),
        this.key,
        Buffer.from(signature, 'base64'),
      );
    } catch {
      // OpenSSL throws on a signature that is not DER at all; that is as invalid as a wrong one.
      valid = false;
    }
    if (!valid) throw invalidSignature('The signature does not match the timestamp and body.');
  }
}

/** What one event says about the address; undefined for the rest (processed, delivered, deferred, open, click). */
function kindOf(event: unknown, where: string): Kind | undefined {
  const e = parseAs(eventShape, event, where).event;
  const { type, reason } = event as { type?: unknown; reason?: unknown };
  switch (e) {
    case 'bounce':
      // type "blocked": the receiving server refused this message (reputation, content), not the mailbox.
      return { type: 'bounce', bounceType: type === 'blocked' ? 'soft' : 'hard' };
    case 'dropped':
      return typeof reason === 'string' ? DROPPED_REASONS.get(reason) : undefined;
    case 'spamreport':
      return { type: 'complaint' };
    case 'unsubscribe':
    case 'group_unsubscribe':
      return { type: 'unsubscribe' };
    default:
      return undefined;
  }
}
