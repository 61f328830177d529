import { isUtf8 } from 'node:buffer';
import express from 'express';

/**
 * The JSON and form parsers every route uses: express's own, plus a refusal of bodies that are not UTF-8. Left to
 * the parsers, bytes that are not UTF-8 (raw in JSON, percent-escaped in a form) turn into U+FFFD and are stored as
 * if the client had typed that; the import refuses such lines, so the API does too. A refusal is 400
 * `invalid_encoding` (see errors.ts).
 */

class NotUtf8Error extends Error {
  readonly status = 400;
  readonly type = 'encoding.invalid';
}

/** `express.json` for `limit`, by default for application/json and application/*+json. */
export function jsonBody(
  limit: string,
  type: string[] = ['application/json', 'application/*+json'],
): ReturnType<typeof express.json> {
  return express.json({
    limit,
    type,
    // Only a body declared (or defaulting to) UTF-8 is checked: a declared UTF-16 body is decoded as such.
    verify: (_req, _res, buf, encoding) => {
      if (/^utf-?8$/i.test(encoding) && !isUtf8(buf)) throw new NotUtf8Error('The request body is not valid UTF-8.');
    },
  });
}

/** `express.urlencoded` (flat fields, a repeated field an array) for `limit` and at most `parameterLimit` fields. */
export function formBody(limit: string, parameterLimit = 1000): ReturnType<typeof express.urlencoded> {
  return express.urlencoded({
    limit,
    extended: false,
    parameterLimit,
    // The bytes the percent-escapes stand for, the form's text once decoded, must be UTF-8 (what browsers send).
    verify: (_req, _res, buf) => {
      if (!isUtf8(formBytes(buf))) throw new NotUtf8Error('The form is not valid UTF-8.');
    },
  });
}

/** A form body with its percent-escapes turned back into the bytes they stand for (latin1 keeps every byte as is). */
function formBytes(body: Buffer): Buffer {
  const text = body
    .toString('latin1')
    .replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(text, 'latin1');
}
