import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import type { InboundFeedback } from '../domain/feedback';
import type { Clock } from '../domain/ports/clock';
import type { FeedbackLedger } from '../domain/ports/feedback-ledger';
import { malformed, parseAs, parseJson, reasonText, recipientAddress, returnTokenIn } from './payload';
import { invalidSignature, requireFresh, sameHexMac } from './verification';
import type { WebhookDelivery, WebhookProvider } from './webhook';

/** Options of `MailgunWebhook`. */
export interface MailgunWebhookOptions {
  /** MAILGUN_WEBHOOK_SIGNING_KEY: the HTTP webhook signing key of the Mailgun account. */
  signingKey: string;
  /** Signatures older than this are refused (WEBHOOK_MAX_AGE_SECONDS). */
  maxAgeSeconds: number;
  clock: Clock;
  /** Remembers which event each signature token was first used for. */
  seen: Pick<FeedbackLedger, 'firstSeen'>;
}

const signatureShape = z.object({
  timestamp: z.union([z.string().regex(/^\d{1,12}$/), z.number().int().nonnegative()]),
  token: z.string().min(1).max(200),
  signature: z.string().min(1),
  'parent-signature': z.string().optional(),
});

const eventShape = z.object({
  id: z.string().min(1).max(200),
  event: z.string().min(1),
});

const reportShape = z.object({
  recipient: z.string().min(1),
  severity: z.string().nullish(),
  reason: z.string().nullish(),
  'delivery-status': z.object({ message: z.string().nullish(), description: z.string().nullish() }).partial().nullish(),
  message: z.object({ headers: z.record(z.string(), z.unknown()).nullish() }).nullish(),
});

/**
 * Mailgun's webhooks (the JSON ones: `{signature, "event-data"}`). Mailgun signs only `timestamp + token` (hex
 * HMAC-SHA256 with the webhook signing key), not the event, so a captured signature could carry forged event data:
 * each token is therefore bound to the first event id it arrives with, and refused with any other. A redelivery of
 * the same event with the same token goes through (Mailgun resends the original signature when it retries), and
 * the receiver drops it as a duplicate by `event-data.id`.
 */
export class MailgunWebhook implements WebhookProvider {
  readonly name = 'mailgun';

  constructor(private readonly opts: MailgunWebhookOptions) {}

  async read(delivery: WebhookDelivery): Promise<InboundFeedback[]> {
    const body = parseJson(delivery.body);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw malformed('The body must be a JSON object {signature, "event-data"}.');
    const signature = this.verify((body as Record<string, unknown>).signature);
    const data = (body as Record<string, unknown>)['event-data'];
    const event = parseAs(eventShape, data, 'event-data');
    await this.refuseReusedToken(signature.token, event.id);

    const kind = this.kindOf(event.event, data);
    if (!kind) return [];
    const r = parseAs(reportShape, data, 'event-data');
    const status = r['delivery-status'];
    const messageId = r.message?.headers?.['message-id'];
    return [
      {
        source: 'mailgun',
        eventId: event.id,
        ...kind,
        email: recipientAddress(r.recipient),
        returnToken: returnTokenIn(typeof messageId === 'string' ? messageId : undefined),
        reason: reasonText(r.reason, status?.description || status?.message),
      },
    ];
  }

  /** What an event says about the address; undefined for events that say nothing (delivered, opened, clicked). */
  private kindOf(event: string, data: unknown): Pick<InboundFeedback, 'type' | 'bounceType'> | undefined {
    switch (event) {
      case 'failed': {
        const { severity, reason } = parseAs(
          z.object({ severity: z.enum(['permanent', 'temporary']), reason: z.string().nullish() }),
          data,
          'event-data',
        );
        if (severity === 'temporary') return { type: 'bounce', bounceType: 'soft' };
        // Mailgun refused to send because its own suppression lists hold the address: take it for what it was.
        if (reason === 'suppress-unsubscribe') return { type: 'unsubscribe' };
        if (reason === 'suppress-complaint') return { type: 'complaint' };
        return { type: 'bounce', bounceType: 'hard' };
      }
      case 'complained':
        return { type: 'complaint' };
      case 'unsubscribed':
        return { type: 'unsubscribe' };
      default:
        return undefined;
    }
  }

  private verify(signature: unknown): z.output<typeof signatureShape> {
    const given = signatureShape.safeParse(signature);
    if (!given.success) throw invalidSignature('The signature object {timestamp, token, signature} is missing.');
    const s = given.data;
    const expected = createHmac('sha256', this.opts.signingKey).update(`${s.timestamp}${s.token}`).digest();
    // A subaccount's event carries the primary account's signature too: either key may be the one configured.
    const parent = s['parent-signature'];
    if (!sameHexMac(s.signature, expected) && !(parent && sameHexMac(parent, expected)))
      throw invalidSignature('The signature does not match its timestamp and token.');
    requireFresh(Number(s.timestamp) * 1000, this.opts.clock.now().getTime(), this.opts.maxAgeSeconds);
    return s;
  }

  private async refuseReusedToken(token: string, eventId: string): Promise<void> {
    // Remembered a little longer than a timestamp stays fresh, so a token is never forgotten while still usable.
    const ttl = this.opts.maxAgeSeconds + 600;
    const { seen } = this.opts;
    // Marking the pair first: a token is reused by another event exactly when its pair is new but the token is not.
    const pair = createHash('sha256').update(`${token}\n${eventId}`).digest('hex');
    const pairIsNew = await seen.firstSeen('mailgun-token-event', pair, ttl);
    const tokenIsNew = await seen.firstSeen('mailgun-token', token, ttl);
    if (pairIsNew && !tokenIsNew) throw invalidSignature('This signature was already used for another event.');
  }
}
