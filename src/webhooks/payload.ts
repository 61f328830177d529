import type { z } from 'zod';
import { normaliseEmail } from '../domain/email-address';
import { ValidationError } from '../domain/errors';
import { findReturnTokens } from '../domain/signed-token';

/** A body the provider would not send: 400, with what is wrong. */
export function malformed(message: string, details?: unknown): ValidationError {
  return new ValidationError('invalid_request', message, details);
}

/** The body as JSON, or a 400 saying it is not. */
export function parseJson(body: Buffer): unknown {
  if (!body.length) throw malformed('The body is empty; a JSON document was expected.');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw malformed(`The body is not valid JSON (${(err as Error).message}).`);
  }
}

/**
 * Checks a parsed document against the shape a provider documents. The message names the first wrong field by its
 * path in the document (`event-data.recipient`, `3.sg_event_id`); `details.issues` lists them all.
 */
export function parseAs<T extends z.ZodType>(schema: T, input: unknown, where = ''): z.output<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    field: [where, ...i.path.map(String)].filter(Boolean).join('.') || 'body',
    message: i.message,
  }));
  throw malformed(`${issues[0].field}: ${issues[0].message}`, { issues });
}

/**
 * A recipient address as the receiver looks it up: normalised like a signup's, or as given when it is not an address
 * we could have sent to (the lookup then finds nobody, and the answer is the same as for anybody unknown).
 */
export function recipientAddress(raw: string): string {
  try {
    return normaliseEmail(raw);
  } catch {
    return raw.trim();
  }
}

/** The first return token in the texts (an original Message-ID header, say), if any. */
export function returnTokenIn(...texts: (string | undefined)[]): string | undefined {
  for (const text of texts) {
    const [token] = text ? findReturnTokens(text) : [];
    if (token) return token;
  }
  return undefined;
}

/** A provider's words for the consent trail: one line, bounded (the policy clips again; this keeps logs sane). */
export function reasonText(...parts: (string | undefined | null)[]): string | undefined {
  const text = parts
    .filter((p): p is string => typeof p === 'string' && p.trim() !== '')
    .join(': ')
    .replace(/\s+/g, ' ')
    .trim();
  return text ? text.slice(0, 500) : undefined;
}
