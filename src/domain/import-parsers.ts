import { isUtf8 } from 'node:buffer';
import type { ConsentEvidence } from './subscriber';
import { InvalidEmailError, normaliseEmail } from './email-address';
import { DomainError } from './errors';
import { LINE_BREAKING, LONE_SURROGATE } from './validation';

/** A file that cannot be read as an import at all: empty, or a CSV header without the needed columns. */
export class ImportFormatError extends DomainError {
  constructor(code: 'empty_body' | 'invalid_csv_header', message: string) {
    super(code, message);
  }
}

/** One row of an import line that failed; `line` is the 1-based physical line of the file. */
export class RowError extends Error {}

/** One physical line of the file: its text, or why it could not be read. */
export type SourceLine = { line: number; text: string } | { line: number; problem: string };

/** A row that passed validation, ready for the store. */
export interface ImportRow {
  email: string;
  name: string;
  consent: ConsentEvidence;
}

const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Splits a byte stream into physical lines (LF or CRLF), one array per chunk read so the caller pays one await
 * per chunk, not per line. Invariants: memory holds at most one chunk plus one partial line of `maxLineBytes`;
 * a longer line is dropped up to its end and reported, never buffered; each line is decoded whole, so a
 * multi-byte character split across chunks decodes right. Pulling lazily (for await) is the backpressure: the
 * next chunk is read only when the caller asks, so a slow consumer pauses the socket.
 */
export async function* readLines(
  source: AsyncIterable<Buffer | string>,
  maxLineBytes: number,
): AsyncGenerator<SourceLine[]> {
  let line = 0;
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let overlong = false;
  let first = true;

  const finish = (chunk: Buffer, start: number, end: number, out: SourceLine[]) => {
    line++;
    const tooLong = { line, problem: `line is longer than ${maxLineBytes} bytes` };
    // +1: the CR of a CRLF line is not part of it.
    if (overlong || carryBytes + (end - start) > maxLineBytes + 1) {
      out.push(tooLong);
    } else {
      let bytes = carry.length ? Buffer.concat([...carry, chunk.subarray(start, end)]) : chunk.subarray(start, end);
      if (first && bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
      if (bytes.length && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
      if (bytes.length > maxLineBytes) out.push(tooLong);
      else
        out.push(isUtf8(bytes) ? { line, text: bytes.toString('utf8') } : { line, problem: 'line is not valid UTF-8' });
    }
    first = false;
    carry = [];
    carryBytes = 0;
    overlong = false;
  };

  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    const out: SourceLine[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(LF, start); nl !== -1; nl = chunk.indexOf(LF, start)) {
      finish(chunk, start, nl, out);
      start = nl + 1;
    }
    if (start < chunk.length && !overlong) {
      if (carryBytes + chunk.length - start > maxLineBytes + 1) {
        overlong = true;
        carry = [];
        carryBytes = 0;
      } else {
        // Copied, because the stream may reuse the chunk's memory once we ask for the next one.
        carry.push(Buffer.from(chunk.subarray(start)));
        carryBytes += chunk.length - start;
      }
    }
    if (out.length) yield out;
  }
  if (carryBytes || overlong) {
    const out: SourceLine[] = [];
    finish(Buffer.alloc(0), 0, 0, out);
    yield out;
  }
}

/** A line that holds nothing: skipped, neither a row nor an error. */
export function isBlank(text: string): boolean {
  return text.trim() === '';
}

/** One NDJSON line as a raw record. Throws RowError. */
export function ndjsonRecord(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RowError('line is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RowError('line must be a JSON object');
  return value as Record<string, unknown>;
}

/**
 * The fields of one CSV line (RFC 4180: comma-separated, fields optionally in double quotes, "" for a quote
 * inside quotes). Throws RowError.
 *
 * Why not csv-parse's streaming parser over the whole body: after a malformed quote its error recovery stays in
 * quoting state and swallows the good rows that follow (seen with csv-parse 7.0.3 and skip_records_with_error:
 * `a,"x"y` then good lines gave no records at all), and per-line calls of its sync API cost ~26 µs a line.
 * No imported value may contain a line break, so a valid record is exactly one physical line, and parsing line
 * by line keeps a broken line from touching its neighbours.
 */
export function csvFields(text: string): string[] {
  const fields: string[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 0x22) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1)
          throw new RowError('a quoted field is not closed on this line (values must not contain line breaks)');
        value += text.slice(from, q);
        if (text.charCodeAt(q + 1) === 0x22) {
          value += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === n) return fields;
      if (text.charCodeAt(i) !== 0x2c)
        throw new RowError(`unexpected character after a closing quote in field ${fields.length}`);
      i++;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma === -1 ? n : comma;
      const value = text.slice(i, end);
      if (value.includes('"'))
        throw new RowError(
          `a quote inside an unquoted field ${fields.length + 1} (quote the whole field and double the quote)`,
        );
      fields.push(value);
      if (comma === -1) return fields;
      i = comma + 1;
    }
  }
}

/** What a CSV header maps to: the column index of each known field. */
export type CsvColumns = { index: Partial<Record<ImportField, number>>; count: number };

type ImportField = 'email' | 'name' | 'consentAt' | 'consentSource' | 'termsVersion';
const REQUIRED: ImportField[] = ['email', 'consentAt', 'consentSource'];
const KNOWN: ImportField[] = [...REQUIRED, 'name', 'termsVersion'];
const squash = (s: string) => s.toLowerCase().replace(/[\s_-]/g, '');

/**
 * Reads the header row: columns in any order, matched ignoring case, spaces, '_' and '-' (so consent_at is
 * consentAt); unknown columns are ignored. Throws ImportFormatError when a required column is missing or repeated.
 */
export function csvHeader(text: string): CsvColumns {
  let names: string[];
  try {
    names = csvFields(text);
  } catch (e) {
    throw new ImportFormatError(
      'invalid_csv_header',
      `The CSV header (line 1) cannot be read: ${(e as Error).message}.`,
    );
  }
  const index: CsvColumns['index'] = {};
  names.forEach((raw, i) => {
    const field = KNOWN.find((f) => squash(f) === squash(raw.trim()));
    if (!field) return;
    if (index[field] !== undefined)
      throw new ImportFormatError('invalid_csv_header', `The CSV header names the column ${field} twice.`);
    index[field] = i;
  });
  const missing = REQUIRED.filter((f) => index[f] === undefined);
  if (missing.length) {
    throw new ImportFormatError(
      'invalid_csv_header',
      `The CSV header (line 1) must name the columns email, consentAt and consentSource ` +
        `(name and termsVersion are optional); missing: ${missing.join(', ')}.`,
    );
  }
  return { index, count: names.length };
}

/** One CSV data line as a raw record, by the header's columns. Throws RowError. */
export function csvRecord(text: string, columns: CsvColumns): Record<string, unknown> {
  const fields = csvFields(text);
  if (fields.length !== columns.count)
    throw new RowError(`expected ${columns.count} fields as in the header, got ${fields.length}`);
  const record: Record<string, unknown> = {};
  for (const f of KNOWN) {
    const i = columns.index[f];
    if (i !== undefined) record[f] = fields[i];
  }
  return record;
}

const MAX_NAME = 100;
const MAX_SOURCE = 200;
const MAX_TERMS_VERSION = 64;
/** Address books often carry 0001-01-01 or 1900-01-01 for "unknown"; that is no evidence of consent. */
const EARLIEST_CONSENT = Date.UTC(1990, 0, 1);

export interface RowContext {
  now: Date;
  terms: { version: string; textHash: string };
}

/**
 * Validates one raw record and builds the consent evidence it brings: at = consentAt, source = consentSource,
 * ip = 'import', terms = the current ones unless the row names another version (whose text hash we do not know,
 * so it stays empty). Throws RowError with a reason fit to show the operator.
 */
export function importRow(raw: Record<string, unknown>, ctx: RowContext): ImportRow {
  let email: string;
  try {
    email = normaliseEmail(raw.email);
  } catch (e) {
    if (e instanceof InvalidEmailError) throw new RowError(e.message);
    throw e;
  }
  const consentAt = isoDate(raw.consentAt, ctx.now);
  const source = oneLine(raw.consentSource, 'consentSource', MAX_SOURCE);
  if (!source) throw new RowError('consentSource is required');
  const name = oneLine(raw.name, 'name', MAX_NAME);
  const version = oneLine(raw.termsVersion, 'termsVersion', MAX_TERMS_VERSION) || ctx.terms.version;
  return {
    email,
    name,
    consent: {
      at: consentAt,
      ip: 'import',
      userAgent: '',
      termsVersion: version,
      termsHash: version === ctx.terms.version ? ctx.terms.textHash : '',
      source,
    },
  };
}

/** Optional free text: trimmed, bounded, one line, no control characters. '' when absent. */
function oneLine(v: unknown, field: string, max: number): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new RowError(`${field} must be a string`);
  if (/[\r\n\0]/.test(v)) throw new RowError(`${field} must not contain line breaks or NUL`);
  // C1 controls and the Unicode line separators too: a name goes into the To header of every mail.
  if (LINE_BREAKING.test(v)) throw new RowError(`${field} must not contain control characters`);
  if (LONE_SURROGATE.test(v)) throw new RowError(`${field} is not valid Unicode`);
  const t = v.trim();
  if (t.length > max) throw new RowError(`${field} must be at most ${max} characters`);
  return t;
}

// Date, optionally with a time; a time needs its offset, since a consent time in an unknown zone is off by hours.
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2})))?$/;

/** An ISO-8601 date or date-time, a real calendar day, not in the future; returned as UTC ISO. Throws RowError. */
export function isoDate(v: unknown, now: Date): string {
  if (typeof v !== 'string' || !v.trim())
    throw new RowError('consentAt is required (an ISO-8601 date such as 2025-03-01T09:30:00Z)');
  const m = ISO_DATE.exec(v.trim());
  if (!m)
    throw new RowError(
      'consentAt must be an ISO-8601 date such as 2025-03-01 or 2025-03-01T09:30:00Z (a time needs Z or an offset)',
    );
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', , sign, oh = '0', om = '0'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    Number(oh) > 23 ||
    Number(om) > 59
  ) {
    throw new RowError('consentAt is not a real date and time');
  }
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  const t = Date.UTC(year, month - 1, day, hour, minute, second, Number(frac.slice(0, 3).padEnd(3, '0'))) - offset;
  if (t > now.getTime()) throw new RowError('consentAt is in the future');
  if (t < EARLIEST_CONSENT) throw new RowError('consentAt is before 1990: not plausible evidence of consent');
  return new Date(t).toISOString();
}
