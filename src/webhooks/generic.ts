import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { normaliseEmail } from '../domain/email-address';
import { isCalendarDate } from '../domain/validation';
import type { InboundFeedback } from '../domain/feedback';
import type { Clock } from '../domain/ports/clock';
import { malformed, parseAs, parseJson } from './payload';
import { invalidSignature, requireFresh, sameHexMac } from './verification';
import type { WebhookDelivery, WebhookProvider } from './webhook';

/** Options of `GenericWebhook`. */
export interface GenericWebhookOptions {
  /** WEBHOOK_SECRET: the HMAC-SHA256 key both ends share. */
  secret: string;
  /** Reports whose `timestamp` is older than this are refused as replays (WEBHOOK_MAX_AGE_SECONDS). */
  maxAgeSeconds: number;
  clock: Clock;
}

/** An ISO 8601 date-time with its zone, as `Date.parse` reads it the same everywhere. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

const report = z.object({
  id: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  type: z.enum(['bounce', 'complaint', 'unsubscribe']),
  email: z.string(),
  bounceType: z.enum(['hard', 'soft']).optional(),
  campaignId: z.number().int().positive().optional(),
  reason: z.string().max(500, 'must be at most 500 characters').optional(),
  timestamp: z.union([
    z.number().int().positive(),
    z.string().regex(ISO_8601, 'must be unix seconds or an ISO 8601 date-time with a zone (2026-11-27T12:00:00Z)'),
  ]),
});

/**
 * The webhook for anything we did not write an adapter for (a relay, a script, another provider through a small
 * bridge): `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with WEBHOOK_SECRET, one report a
 * request. The body's own `timestamp` (unix seconds or ISO 8601) is covered by the signature, so a captured
 * request cannot be freshened; an old one is refused with `stale_signature`, a fresh repeat is a duplicate by `id`.
 */
export class GenericWebhook implements WebhookProvider {
  readonly name = 'generic';

  constructor(private readonly opts: GenericWebhookOptions) {}

  read(delivery: WebhookDelivery): Promise<InboundFeedback[]> {
    // Checking needs no I/O; the promise carries a refusal the same way as the adapters that do.
    return new Promise((ok) => ok(this.reports(delivery)));
  }

  private reports(delivery: WebhookDelivery): InboundFeedback[] {
    this.verify(delivery);
    const r = parseAs(report, parseJson(delivery.body));
    let email: string;
    try {
      email = normaliseEmail(r.email);
    } catch (err) {
      throw malformed(`email: ${(err as Error).message}`);
    }
    const signedAt = typeof r.timestamp === 'number' ? r.timestamp * 1000 : Date.parse(r.timestamp);
    if (Number.isNaN(signedAt) || (typeof r.timestamp === 'string' && !isCalendarDate(r.timestamp)))
      throw malformed('timestamp: is not a real date');
    requireFresh(signedAt, this.opts.clock.now().getTime(), this.opts.maxAgeSeconds);
    return [
      {
        source: 'generic',
        eventId: r.id,
        type: r.type,
        bounceType: r.type === 'bounce' ? (r.bounceType ?? 'hard') : undefined,
        email,
        campaignId: r.campaignId,
        reason: r.reason,
      },
    ];
  }

  private verify(delivery: WebhookDelivery): void {
    const header = delivery.header('x-webhook-signature');
    if (!header) throw invalidSignature('The X-Webhook-Signature header is missing.');
    const m = /^sha256=([0-9a-f]+)$/i.exec(header.trim());
    if (!m) throw invalidSignature('X-Webhook-Signature must be sha256=<hex HMAC-SHA256 of the body>.');
    const expected = createHmac('sha256', this.opts.secret).update(delivery.body).digest();
    if (!sameHexMac(m[1], expected)) throw invalidSignature('The signature does not match the body.');
  }
}
