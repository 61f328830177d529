import type { NextFunction, Request, Response } from 'express';
import { DomainError, RateLimitedError } from '../domain/errors';
import { InvalidTokenError } from '../domain/signed-token';

/** `{"error":{"code","message"}}` for every failure; unexpected errors are logged and answered without details. */
export function jsonError(res: Response, status: number, code: string, message: string, details?: unknown) {
  res.status(status).json({ error: { code, message, ...(details ? { details } : {}) } });
}

export function errorHandler() {
  // Express recognises an error handler by its four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    void _next;
    if (res.headersSent) return;
    const mapped = mapError(err);
    if (mapped.status >= 500) req.log?.error({ event: 'http.error', err }, 'unhandled error');
    if (err instanceof RateLimitedError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
    jsonError(res, mapped.status, mapped.code, mapped.message, mapped.details);
  };
}

export function mapError(err: unknown): { status: number; code: string; message: string; details?: unknown } {
  if (err instanceof DomainError) return { status: err.status, code: err.code, message: err.message, details: err.details };
  if (err instanceof InvalidTokenError) return { status: 400, code: err.code, message: err.message };
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') return { status: 413, code: 'payload_too_large', message: 'The request body is too large.' };
  if (e?.type === 'entity.parse.failed') return { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON.' };
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return { status: 415, code: 'unsupported_encoding', message: e.message ?? 'Unsupported encoding' };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return { status: e.status, code: 'bad_request', message: e.message ?? 'Bad request' };
  return { status: 500, code: 'internal_error', message: 'Something went wrong on our side.' };
}
