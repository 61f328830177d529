import type { NextFunction, Request, Response } from 'express';
import { isRedisConnectionError } from '../lib/redis-outage';
import { DomainError, RateLimitedError, type ErrorCode } from '../domain/errors';

/** The HTTP status of each domain error code: the one place where use-case failures meet HTTP. */
const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_email: 400,
  invalid_token: 400,
  expired_token: 400,
  empty_body: 400,
  invalid_csv_header: 400,
  // A CSV whose structure breaks mid-file (a record too long, a quote never closed): the import stopped there.
  invalid_csv: 400,
  consent_required: 422,
  terms_outdated: 422,
  invalid_article: 422,
  invalid_campaign: 422,
  invalid_schedule: 422,
  unknown_articles: 422,
  no_new_articles: 422,
  newsletter_too_large: 422,
  invalid_newsletter: 422,
  unknown_newsletter: 422,
  no_newsletter_chosen: 422,
  not_found: 404,
  // A webhook whose provider has no secret configured has no endpoint: nothing unverified is ever accepted.
  webhook_not_configured: 404,
  // A webhook delivery that does not prove where it came from, or proves it with an old or reused signature.
  invalid_signature: 401,
  stale_signature: 401,
  // Genuinely from Amazon SNS, but from a topic the operator did not name: anyone can point a topic at the URL.
  topic_not_allowed: 403,
  invalid_state: 409,
  // A send raced an edit of the same draft and lost: nothing went out.
  draft_changed: 409,
  // Allowed only when the operator says so (allowResend): readers would get the article a second time.
  article_already_sent: 409,
  // A newsletter's slug is its name in URLs and forms: a second one with the same slug is refused, not merged.
  newsletter_exists: 409,
  rate_limited: 429,
  // The other server (a feed, a mail server) failed or refused, not this one.
  feed_unreachable: 502,
  feed_invalid: 502,
  permanent_failure: 502,
  transient_failure: 503,
  // Operators, sessions and roles (see admin-auth.ts).
  invalid_operator: 422,
  invalid_password: 422,
  operator_exists: 409,
  // The last enabled admin cannot be disabled or demoted: nobody could manage operators any more.
  last_admin: 409,
  invalid_credentials: 401,
  unauthorized: 401,
  forbidden: 403,
  csrf_failed: 403,
};

export interface MappedError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

/** `{"error":{"code","message"}}` for every failure; unexpected errors are logged and answered without details. */
export function jsonError(res: Response, status: number, code: string, message: string, details?: unknown) {
  res.status(status).json({ error: { code, message, ...(details ? { details } : {}) } });
}

export function errorHandler() {
  // Express recognises an error handler by its four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    const mapped = mapError(err);
    if (mapped.code === 'redis_unavailable') res.setHeader('Retry-After', '5');
    else if (mapped.status >= 500) req.log?.error({ event: 'http.error', err }, 'unhandled error');
    setRetryAfter(res, err);
    jsonError(res, mapped.status, mapped.code, mapped.message, mapped.details);
  };
}

/** A rate-limited answer says when to come back. */
export function setRetryAfter(res: Response, err: unknown): void {
  if (err instanceof RateLimitedError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
}

export function mapError(err: unknown): MappedError {
  if (err instanceof DomainError)
    return { status: STATUS[err.code], code: err.code, message: err.message, details: err.details };
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large')
    return { status: 413, code: 'payload_too_large', message: 'The request body is too large.' };
  if (e?.type === 'entity.parse.failed')
    return { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON.' };
  if (e?.type === 'parameters.too.many')
    return { status: 413, code: 'payload_too_large', message: 'The form has too many fields.' };
  // Raised by body-parsers.ts.
  if (e?.type === 'encoding.invalid')
    return { status: 400, code: 'invalid_encoding', message: e.message ?? 'The request body is not valid UTF-8.' };
  // zlib's own error codes: a body sent gzip- or deflate-compressed that does not decompress.
  if (typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('Z_'))
    return { status: 400, code: 'invalid_gzip', message: 'The compressed body is corrupt.' };
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported')
    return { status: 415, code: 'unsupported_encoding', message: e.message ?? 'Unsupported encoding' };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500)
    return { status: e.status, code: 'bad_request', message: e.message ?? 'Bad request' };
  // Redis went away while the request was in hand: the client may retry, nothing is wrong with the request.
  if (isRedisConnectionError(err))
    return {
      status: 503,
      code: 'redis_unavailable',
      message: 'The service cannot reach its data store (Redis); try again shortly',
    };
  return { status: 500, code: 'internal_error', message: 'Something went wrong on our side.' };
}
