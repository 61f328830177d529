import { z } from 'zod';
import type { InboundFeedback } from '../domain/feedback';
import { parseAs, parseJson, reasonText, recipientAddress } from './payload';
import { invalidSignature, sameSecret } from './verification';
import type { WebhookDelivery, WebhookProvider } from './webhook';

/** Options of `PostmarkWebhook`: the basic-auth credentials put in the webhook URL at Postmark. */
export interface PostmarkWebhookOptions {
  /** POSTMARK_WEBHOOK_USER */
  user: string;
  /** POSTMARK_WEBHOOK_PASSWORD */
  password: string;
}

type Kind = Pick<InboundFeedback, 'type' | 'bounceType'>;

/**
 * What each of Postmark's bounce types says about the address. Only the ones that say something about the
 * mailbox count: an out-of-office reply, a challenge, a DMARC refusal of our own domain or a virus notice is no
 * reason to stop mailing a reader (soft bounces may suppress after a few, so they must be the reader's).
 */
const BOUNCE_TYPES = new Map<string, Kind>([
  ['HardBounce', { type: 'bounce', bounceType: 'hard' }],
  ['BadEmailAddress', { type: 'bounce', bounceType: 'hard' }],
  // Deactivated at Postmark by hand: Postmark will not deliver to it again, which for us is a hard bounce.
  ['ManuallyDeactivated', { type: 'bounce', bounceType: 'hard' }],
  ['SoftBounce', { type: 'bounce', bounceType: 'soft' }],
  ['Transient', { type: 'bounce', bounceType: 'soft' }],
  ['DnsError', { type: 'bounce', bounceType: 'soft' }],
  ['Blocked', { type: 'bounce', bounceType: 'soft' }],
  // Postmark could not classify it; like SES's Undetermined, it counts as one soft bounce.
  ['Unknown', { type: 'bounce', bounceType: 'soft' }],
  ['SpamComplaint', { type: 'complaint' }],
  ['Unsubscribe', { type: 'unsubscribe' }],
]);

const bounce = z.object({
  RecordType: z.enum(['Bounce', 'SpamComplaint']),
  ID: z.union([z.number(), z.string().min(1)]),
  Type: z.string(),
  Email: z.string().min(1),
  Description: z.string().nullish(),
  Details: z.string().nullish(),
});

const subscriptionChange = z.object({
  RecordType: z.literal('SubscriptionChange'),
  Recipient: z.string().min(1),
  SuppressSending: z.boolean(),
  SuppressionReason: z.string().nullish(),
  ChangedAt: z.string().min(1),
  MessageID: z.string().nullish(),
});

/**
 * Postmark's bounce, spam complaint and subscription change webhooks. Postmark does not sign its webhooks: it
 * authenticates with the basic-auth credentials written into the webhook URL, compared here in constant time.
 * The event id is the bounce's `ID`; a subscription change has none, so its recipient and time stand in.
 */
export class PostmarkWebhook implements WebhookProvider {
  readonly name = 'postmark';
  // HTTP clients that send credentials only when challenged (RFC 7617) need this to try them.
  readonly challenge = 'Basic realm="webhooks", charset="UTF-8"';

  constructor(private readonly opts: PostmarkWebhookOptions) {}

  read(delivery: WebhookDelivery): Promise<InboundFeedback[]> {
    return new Promise((ok) => ok(this.reports(delivery)));
  }

  private reports(delivery: WebhookDelivery): InboundFeedback[] {
    this.authenticate(delivery.header('authorization'));
    const body = parseJson(delivery.body);
    const recordType = parseAs(z.object({ RecordType: z.string() }), body).RecordType;
    if (recordType === 'Bounce' || recordType === 'SpamComplaint') {
      const b = parseAs(bounce, body);
      const kind = BOUNCE_TYPES.get(b.Type);
      if (!kind) return [];
      return [
        {
          source: 'postmark',
          eventId: String(b.ID),
          ...kind,
          email: recipientAddress(b.Email),
          reason: reasonText(b.Type, b.Details || b.Description),
        },
      ];
    }
    if (recordType === 'SubscriptionChange') {
      const c = parseAs(subscriptionChange, body);
      // A reactivation is Postmark's business: here, coming back takes a new signup with consent. Suppressions for
      // a hard bounce or a spam complaint come with the Bounce and Spam Complaint webhooks, which carry the details,
      // so only a reader's own unsubscribe (or the operator's) is taken from this one.
      if (!c.SuppressSending || c.SuppressionReason !== 'ManualSuppression') return [];
      return [
        {
          source: 'postmark',
          eventId: `subscription-change:${c.Recipient.toLowerCase()}:${c.ChangedAt}`,
          type: 'unsubscribe',
          email: recipientAddress(c.Recipient),
        },
      ];
    }
    // Deliveries, opens, clicks: nothing about whether to keep mailing the address.
    return [];
  }

  private authenticate(header: string | undefined): void {
    const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
    if (!m) throw invalidSignature('Basic authentication is required (the credentials in the webhook URL).');
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    // Both are compared whatever the first gives, so the time taken does not tell which one was wrong.
    const userOk = sameSecret(user, this.opts.user);
    const passwordOk = sameSecret(password, this.opts.password);
    if (!userOk || !passwordOk) throw invalidSignature('The basic-auth credentials are wrong.');
  }
}
