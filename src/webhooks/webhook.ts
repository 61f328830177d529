import type { InboundFeedback } from '../domain/feedback';

/**
 * The contract between the HTTP edge and the provider adapters of this folder: the routes know these types, only
 * the composition root knows the adapters.
 */

/** The providers that post reports here: the last segment of `POST /api/webhooks/<name>`. */
export const WEBHOOK_NAMES = ['ses', 'postmark', 'mailgun', 'sendgrid', 'generic'] as const;
export type WebhookName = (typeof WEBHOOK_NAMES)[number];

/** One POST to a webhook as it arrived. Signatures cover the exact bytes, so the body is never re-serialised. */
export interface WebhookDelivery {
  body: Buffer;
  /** A request header by its lower-case name; undefined when absent. */
  header(name: string): string | undefined;
}

/**
 * A provider's adapter: checks a delivery the way the provider documents, then reads the reports in it (none for
 * events that say nothing about an address, such as opens or deliveries). Throws a DomainError:
 * `invalid_signature` or `stale_signature` when the delivery does not prove it is the provider's and new,
 * `topic_not_allowed` for SNS topics the operator did not name, `invalid_request` for a body the provider would
 * not send. Nothing of the body is trusted before the signature is checked.
 */
export interface WebhookProvider {
  readonly name: WebhookName;
  /** The `WWW-Authenticate` challenge sent with a refusal, for a provider that authenticates with HTTP auth. */
  readonly challenge?: string;
  read(delivery: WebhookDelivery): Promise<InboundFeedback[]>;
}

/** A plain HTTPS GET: what the SNS adapter needs from the network (its certificates, subscription confirmation). */
export type HttpGet = (url: string) => Promise<{ status: number; body: string }>;
