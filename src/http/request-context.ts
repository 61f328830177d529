import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { RequestContext } from '../domain/subscriber';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

/**
 * Query parameters whose values are logged as sent: they say what was asked for, never who asked or with what
 * key. Every other value is replaced, since query strings carry signed link tokens (`?token=`), searches for a
 * person (`?q=`, `?actor=`) and whatever a client puts there.
 */
const LOGGED_QUERY_VALUES = new Set(['status', 'newsletter', 'newsletters', 'saved', 'limit', 'cursor', 'format']);
const REDACTED = '[REDACTED]';

/** The URL as it arrived (mounted routers see less in req.url), with query values outside the list above redacted. */
export function loggedUrl(req: IncomingMessage & { originalUrl?: string }): string {
  const url = req.originalUrl ?? req.url ?? '';
  const q = url.indexOf('?');
  if (q < 0) return url;
  // Hand-split rather than URLSearchParams: names must come out exactly as sent (no decoding, no re-encoding).
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      // A bare `?abc` is a value without a name: it could be anything, a token included.
      if (eq < 0) return LOGGED_QUERY_VALUES.has(pair) || pair === '' ? pair : REDACTED;
      const name = pair.slice(0, eq);
      return LOGGED_QUERY_VALUES.has(name) ? pair : `${name}=${REDACTED}`;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}

/**
 * One log line per request through pino-http: `event: http.request`, the request id, method, full URL (query values
 * redacted as above), status and duration in ms. Headers are never logged (no Authorization, no Cookie), nor the
 * client's address. Each request gets an id, kept from X-Request-Id when sane and echoed back, and `req.log`, a child
 * logger carrying it, for the handlers' own events.
 */
export function requestLogging(log: Logger) {
  return pinoHttp({
    logger: log,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // req.log and the request line carry the id alone, not the whole request again.
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'requestId', responseTime: 'ms' },
    // The serializers below are the only view of a request or response the log gets: no headers, no body.
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage) => ({ method: req.method, url: loggedUrl(req) }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    // A 5xx was logged with its cause by the error handler; the request line only says it happened.
    customLogLevel: (_req, res) => (res.statusCode >= 500 ? 'warn' : 'info'),
    customSuccessObject: (req, res, line: { ms: number }) => requestLine(req, res, line.ms),
    customErrorObject: (req, res, _err, line: { ms: number }) => requestLine(req, res, line.ms),
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request',
  });
}

function requestLine(req: IncomingMessage, res: ServerResponse, ms: number) {
  const aborted = !res.writableFinished;
  return { event: 'http.request', req, res, ms, ...(aborted ? { aborted } : {}) };
}

export function contextOf(req: Request): RequestContext {
  return { ip: req.ip ?? req.socket.remoteAddress ?? 'unknown', userAgent: req.get('user-agent') ?? '' };
}
