import type { Logger } from 'pino';
import { z } from 'zod';
import { DomainError } from '../domain/errors';
import type { InboundFeedback } from '../domain/feedback';
import type { Clock } from '../domain/ports/clock';
import { malformed, parseAs, parseJson, reasonText, recipientAddress, returnTokenIn } from './payload';
import { isSnsUrl, SnsSignatures, type SnsMessage } from './sns-signature';
import { invalidSignature } from './verification';
import type { HttpGet, WebhookDelivery, WebhookProvider } from './webhook';

/** Options of `SesWebhook`. */
export interface SesWebhookOptions {
  /** SES_TOPIC_ARN: the SNS topics SES publishes to. Messages from any other topic are refused. */
  topicArns: string[];
  /** Fetches signing certificates and confirms subscriptions; only ever called with URLs on SNS hosts. */
  get: HttpGet;
  clock: Clock;
  log: Logger;
}

const envelopeShape = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1),
  TopicArn: z.string().min(1),
  Message: z.string(),
  Timestamp: z.string().min(1),
  // Absent when published without one (null in Lambda's shape of the same message).
  Subject: z.string().nullish(),
  SubscribeURL: z.string().optional(),
  Token: z.string().optional(),
});

const signatureShape = z.object({
  Signature: z.string().min(1),
  SignatureVersion: z.string().min(1),
  SigningCertURL: z.string().min(1),
});

const recipient = z.object({ emailAddress: z.string().min(1) });

const mailShape = z
  .object({
    // SES rewrites the Message-ID it sends with; the original headers, ours with the return token, are kept here.
    commonHeaders: z.object({ messageId: z.string().nullish() }).partial().nullish(),
    headers: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
  })
  .partial()
  .nullish();

const bounceShape = z.object({
  bounce: z.object({
    bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']),
    bounceSubType: z.string().nullish(),
    bouncedRecipients: z
      .array(recipient.extend({ diagnosticCode: z.string().nullish(), status: z.string().nullish() }))
      .min(1),
    feedbackId: z.string().nullish(),
  }),
  mail: mailShape,
});

const complaintShape = z.object({
  complaint: z.object({
    complainedRecipients: z.array(recipient).min(1),
    complaintFeedbackType: z.string().nullish(),
    feedbackId: z.string().nullish(),
  }),
  mail: mailShape,
});

/**
 * Amazon SES bounce and complaint notifications, delivered by Amazon SNS: both SES's notification format
 * (`notificationType`) and its event publishing format (`eventType`). The SNS signature proves only that Amazon SNS
 * sent a message, and anyone can subscribe our URL to a topic of their own, so the topic must be one the operator
 * named (SES_TOPIC_ARN). A subscription confirmation from such a topic is confirmed by GETting its SubscribeURL when
 * that is on an SNS host; if that fails, the URL is logged for the operator to open. Each recipient of a bounce or
 * complaint is its own event, `<feedbackId>:<address>`, so a redelivered notification is applied once.
 */
export class SesWebhook implements WebhookProvider {
  readonly name = 'ses';
  private readonly signatures: SnsSignatures;
  private readonly topics: Set<string>;

  constructor(private readonly opts: SesWebhookOptions) {
    this.signatures = new SnsSignatures({ get: opts.get, clock: opts.clock });
    this.topics = new Set(opts.topicArns);
  }

  async read(delivery: WebhookDelivery): Promise<InboundFeedback[]> {
    const body = parseJson(delivery.body);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw malformed('The body must be an Amazon SNS message (a JSON object).');
    const signed = signatureShape.safeParse(body);
    if (!signed.success)
      throw invalidSignature(
        'The SNS message has no Signature, SignatureVersion or SigningCertURL (is raw message delivery on? It must be off).',
      );
    const envelope = parseAs(envelopeShape, body);
    const message: SnsMessage = { ...envelope, Subject: envelope.Subject ?? undefined, ...signed.data };
    await this.signatures.verify(message);
    if (!this.topics.has(message.TopicArn))
      throw new DomainError('topic_not_allowed', 'Messages from this SNS topic are not accepted here (SES_TOPIC_ARN).');

    switch (message.Type) {
      case 'SubscriptionConfirmation':
        await this.confirm(message);
        return [];
      case 'UnsubscribeConfirmation':
        this.opts.log.warn(
          { event: 'webhook.ses.unsubscribed', topicArn: message.TopicArn },
          'this endpoint was unsubscribed from an SES topic; bounces from it no longer arrive',
        );
        return [];
      case 'Notification':
        return this.reports(message);
    }
  }

  private reports(m: SnsMessage): InboundFeedback[] {
    let ses: unknown;
    try {
      ses = JSON.parse(m.Message);
    } catch {
      throw malformed('Message is not JSON; is this topic an SES notification topic?');
    }
    const kind = parseAs(z.object({ notificationType: z.string(), eventType: z.string() }).partial(), ses, 'Message');
    const type = kind.notificationType ?? kind.eventType;
    if (type === 'Bounce') {
      const { bounce, mail } = parseAs(bounceShape, ses, 'Message');
      const token = bounce.bouncedRecipients.length === 1 ? returnTokenOf(mail) : undefined;
      return bounce.bouncedRecipients.map((r) => ({
        source: 'ses',
        eventId: `${bounce.feedbackId ?? m.MessageId}:${r.emailAddress.toLowerCase()}`,
        type: 'bounce',
        // Transient: the mailbox is full or the server is down; Undetermined: SES could not tell. Neither is final.
        bounceType: bounce.bounceType === 'Permanent' ? 'hard' : 'soft',
        email: recipientAddress(r.emailAddress),
        returnToken: token,
        reason: reasonText(`${bounce.bounceType}/${bounce.bounceSubType ?? 'General'}`, r.diagnosticCode ?? r.status),
      }));
    }
    if (type === 'Complaint') {
      const { complaint, mail } = parseAs(complaintShape, ses, 'Message');
      // A "not-spam" report is a reader taking a message out of the spam folder: the opposite of a complaint.
      if (complaint.complaintFeedbackType === 'not-spam') return [];
      const token = complaint.complainedRecipients.length === 1 ? returnTokenOf(mail) : undefined;
      return complaint.complainedRecipients.map((r) => ({
        source: 'ses',
        eventId: `${complaint.feedbackId ?? m.MessageId}:${r.emailAddress.toLowerCase()}`,
        type: 'complaint',
        email: recipientAddress(r.emailAddress),
        returnToken: token,
        reason: reasonText(complaint.complaintFeedbackType ?? undefined),
      }));
    }
    // Deliveries, sends, opens, clicks, delays: nothing about whether to keep mailing the address.
    return [];
  }

  private async confirm(m: SnsMessage): Promise<void> {
    const { log, get } = this.opts;
    const url = m.SubscribeURL;
    if (!url || !m.Token) throw malformed('A SubscriptionConfirmation needs SubscribeURL and Token.');
    // The URL is signed by SNS, but GETting whatever a message names is how servers get turned against others.
    if (!isSnsUrl(url))
      throw malformed('SubscribeURL is not on an Amazon SNS host; the subscription was not confirmed.');
    let status: number | string;
    try {
      status = (await get(url)).status;
    } catch (err) {
      status = (err as Error).message;
    }
    if (status === 200) {
      log.info(
        { event: 'webhook.ses.subscription_confirmed', topicArn: m.TopicArn },
        'SES topic subscription confirmed',
      );
    } else {
      log.warn(
        { event: 'webhook.ses.subscription_not_confirmed', topicArn: m.TopicArn, subscribeUrl: url, status },
        'could not confirm the SES topic subscription: open subscribeUrl to confirm it',
      );
    }
  }
}

/** The return token in the original Message-ID of a notification's mail, if SES kept the headers. */
function returnTokenOf(mail: z.output<typeof mailShape>): string | undefined {
  const header = mail?.headers?.find((h) => h.name.toLowerCase() === 'message-id')?.value;
  return returnTokenIn(mail?.commonHeaders?.messageId ?? undefined, header);
}
