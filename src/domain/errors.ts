/**
 * Every code a use case can fail with. Stable: clients and scripts act on them, and `src/http` gives each one its
 * status code in one table (a code added here without a status there does not compile).
 */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_email'
  | 'consent_required'
  | 'terms_outdated'
  | 'invalid_article'
  | 'invalid_campaign'
  | 'invalid_schedule'
  | 'unknown_articles'
  | 'no_new_articles'
  | 'newsletter_too_large'
  | 'invalid_newsletter'
  | 'unknown_newsletter'
  | 'no_newsletter_chosen'
  | 'newsletter_exists'
  | 'not_found'
  | 'invalid_state'
  | 'draft_changed'
  | 'article_already_sent'
  | 'rate_limited'
  | 'invalid_token'
  | 'expired_token'
  | 'empty_body'
  | 'invalid_csv_header'
  | 'invalid_csv'
  | 'feed_unreachable'
  | 'feed_invalid'
  | 'permanent_failure'
  | 'transient_failure'
  | 'invalid_signature'
  | 'stale_signature'
  | 'topic_not_allowed'
  | 'webhook_not_configured'
  | 'invalid_operator'
  | 'invalid_password'
  | 'operator_exists'
  | 'last_admin'
  | 'invalid_credentials'
  | 'unauthorized'
  | 'forbidden'
  | 'csrf_failed';

/** Errors a use case raises on purpose: a stable `code`, a message fit to show, and details. No transport concerns. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The input is wrong; `details.issues` lists each bad field when there are several. */
export class ValidationError extends DomainError {}

export class NotFoundError extends DomainError {
  constructor(message = 'Not found') {
    super('not_found', message);
  }
}

/** The object exists but is in a state that does not allow the action. */
export class ConflictError extends DomainError {}

export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', 'Too many requests; try again later.');
  }
}

/** The receiving server refused this recipient for good (an SMTP 5xx, a hard bounce): retrying gets the same answer. */
export class PermanentDeliveryError extends DomainError {
  constructor(
    message: string,
    readonly responseCode?: number,
  ) {
    super('permanent_failure', message, responseCode ? { responseCode } : undefined);
  }
}

/** A 4xx answer or a connection problem: the same message may go through later. */
export class TransientDeliveryError extends DomainError {
  constructor(
    message: string,
    readonly responseCode?: number,
  ) {
    super('transient_failure', message, responseCode ? { responseCode } : undefined);
  }
}
