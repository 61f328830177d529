import { isUtf8 } from 'node:buffer';
import { parse } from 'csv-parse';
import type { ConsentEvidence } from './subscriber';
import { InvalidEmailError, normaliseEmail } from './email-address';
import { DomainError } from './errors';
import { LINE_BREAKING, LONE_SURROGATE } from './validation';

/**
 * A file that cannot be read as an import (any more): empty, a CSV header without the needed columns, or a CSV whose
 * structure breaks (invalid_csv: a record too long, a quote never closed).
 */
export class ImportFormatError extends DomainError {
  constructor(code: 'empty_body' | 'invalid_csv_header' | 'invalid_csv', message: string) {
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

/** One CSV record: its fields and the physical line it starts on (1-based; a quoted line break makes it span more). */
export interface CsvRecord {
  line: number;
  /** The physical line it ends on: the progress count. */
  endLine: number;
  fields: string[];
}

/** The separators a CSV export uses: comma (RFC 4180), semicolon (Excel where the decimal mark is a comma), tab (TSV). */
const SEPARATORS = [',', ';', '\t'] as const;

/**
 * The separator of a file, judged from its header line: the candidate that occurs most outside quotes; comma when
 * none does (a one-column file). A header names columns, so it holds no commas inside names, unlike data rows.
 */
export function detectSeparator(headerLine: string): ',' | ';' | '\t' {
  const counts = new Map<string, number>(SEPARATORS.map((s) => [s, 0]));
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best: ',' | ';' | '\t' = ',';
  for (const s of SEPARATORS) if (counts.get(s)! > counts.get(best)!) best = s;
  return best;
}

const STOP_ADVICE =
  'The import stopped there: the rows before it were imported; fix the file and import it again ' +
  '(rows already imported are skipped as existing).';

/**
 * Reads CSV records with csv-parse (RFC 4180: a quoted field may hold separators, doubled quotes and line breaks, so
 * a line inside quotes is never a record of its own), one array per chunk read. Lenient where the well-known
 * readers are (Python's csv, spreadsheets): a quote inside an unquoted field is kept as a character (relax_quotes);
 * rows may have fewer or more fields (the caller reports it). LF or CRLF ends a record; a UTF-8 BOM is dropped; the
 * separator is the one the header line uses (detectSeparator).
 *
 * Memory is bounded: the source is pulled one chunk at a time (the caller's pace is the backpressure) and a record
 * longer than `maxRecordBytes` is refused by csv-parse (max_record_size) instead of being buffered. That refusal,
 * and a quote still open at the end of the file, stop the import with ImportFormatError('invalid_csv'): csv-parse
 * does not resume after them (with skip_records_with_error it emits nothing more), and after a quote left open no
 * reader can tell where the next record starts.
 *
 * Each record carries the line it starts on: the line after the previous record's last line (csv-parse reports
 * `lines` when a record ends; blank lines come through as records of one empty field, so none is missed).
 *
 * The price: csv-parse takes about 10-25 µs a record on a busy two-core machine, some ten times the line splitter it
 * replaced, which read a quoted line break as the end of a row. The store's writes still take longer than that.
 */
export async function* csvRecords(
  source: AsyncIterable<Buffer | string>,
  maxRecordBytes: number,
): AsyncGenerator<CsvRecord[]> {
  const chunks = source[Symbol.asyncIterator]();
  // The header line decides the separator, so hold the first chunks until a line break (or the size limit).
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (!head.some((b) => b.includes(0x0a)) && headBytes <= maxRecordBytes) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    const b = typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : Buffer.from(next.value);
    head.push(b);
    headBytes += b.length;
  }
  const first = Buffer.concat(head);
  const nl = first.indexOf(0x0a);
  const delimiter = detectSeparator(first.subarray(0, nl === -1 ? first.length : nl).toString('utf8'));

  let lastLine = 0;
  let found: CsvRecord[] = [];
  const parser = parse({
    bom: true,
    delimiter,
    record_delimiter: ['\r\n', '\n'],
    relax_quotes: true,
    relax_column_count: true,
    max_record_size: maxRecordBytes,
    // Records are taken here, as the parser finds them, and none is passed on to its readable side: the order and
    // line of every record is known before the next chunk is written, and nothing queues up unread.
    on_record: (fields: string[], info) => {
      found.push({ line: lastLine + 1, endLine: info.lines, fields });
      lastLine = info.lines;
      return null;
    },
  });
  parser.resume();
  // A parse error reaches the write callback and the 'error' event; whichever comes first fails the pending feed.
  let failPending: (e: Error) => void = () => undefined;
  parser.on('error', (e) => failPending(e));
  const feed = (chunk: Buffer | null) =>
    new Promise<void>((ok, fail) => {
      failPending = fail;
      const done = (err?: Error | null) => (err ? fail(err) : ok());
      if (chunk) parser.write(chunk, done);
      else parser.end(done);
    });
  const take = () => {
    const out = found;
    found = [];
    return out;
  };
  try {
    if (first.length) await feed(first);
    if (found.length) yield take();
    while (!ended) {
      const next = await chunks.next();
      if (next.done) break;
      await feed(typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value);
      if (found.length) yield take();
    }
    await feed(null);
    if (found.length) yield take();
  } catch (e) {
    // Records read before the failure are still good rows.
    if (found.length) yield take();
    const code = (e as { code?: string }).code;
    const line = lastLine + 1;
    if (code === 'CSV_MAX_RECORD_SIZE')
      throw new ImportFormatError(
        'invalid_csv',
        `The CSV record starting at line ${line} is longer than ${maxRecordBytes} bytes ` +
          `(a quote left open makes the rest of the file one field). ${STOP_ADVICE}`,
      );
    if (code === 'CSV_QUOTE_NOT_CLOSED')
      throw new ImportFormatError(
        'invalid_csv',
        `The CSV record starting at line ${line} opens a quoted field that is never closed. ${STOP_ADVICE}`,
      );
    if (code?.startsWith('CSV_'))
      throw new ImportFormatError(
        'invalid_csv',
        `The CSV record starting at line ${line} cannot be read: ${(e as Error).message}. ${STOP_ADVICE}`,
      );
    throw e;
  } finally {
    parser.destroy();
  }
}

/** A record of nothing but blanks (a blank line, or `,,,` as spreadsheets leave them): skipped, not a row. */
export function isBlankRecord(fields: string[]): boolean {
  return fields.every(isBlank);
}

/** What a CSV header maps to: the column index of each known field, and the header's own names. */
export type CsvColumns = { index: Partial<Record<CsvField, number>>; names: string[] };

type ImportField = 'email' | 'name' | 'consentAt' | 'consentSource' | 'termsVersion';
/** Columns a CSV may have beyond the row's own fields: name parts, and the status column of our own export. */
type CsvField = ImportField | 'firstName' | 'lastName' | 'status';
const REQUIRED: ImportField[] = ['email', 'consentAt', 'consentSource'];
const squash = (s: string) => s.toLowerCase().replace(/[\s_.-]/g, '');

/**
 * The header names each field is recognised by, compared ignoring case, spaces, '_', '-' and '.', so "E-mail",
 * "email_address" and "Email Address" are all the email. Ours (as our export writes them), then those of the
 * common exports: Mailchimp ("Email Address", "First Name", "Last Name"), Brevo (EMAIL, FIRSTNAME, LASTNAME),
 * ConvertKit (email_address, first_name), listmonk (email, name), and the plain ones people type. "Address" alone is
 * not the email: Mailchimp uses it for the postal address.
 */
const ALIASES: Record<CsvField, string[]> = {
  email: ['email', 'emailaddress', 'e-mail', 'e-mail address', 'mail address'],
  name: ['name', 'full name', 'display name'],
  firstName: ['first name', 'given name', 'fname', 'forename'],
  lastName: ['last name', 'surname', 'family name', 'lname'],
  consentAt: ['consentAt'],
  consentSource: ['consentSource'],
  termsVersion: ['termsVersion'],
  status: ['status'],
};
const FIELD_OF = new Map<string, CsvField>(
  Object.entries(ALIASES).flatMap(([field, names]) => names.map((n) => [squash(n), field as CsvField])),
);

const quoteList = (names: string[]) => names.map((n) => JSON.stringify(n)).join(', ');

/**
 * Reads the header record: columns in any order, recognised by ALIASES; unknown columns are ignored. Throws
 * ImportFormatError when a required column is missing (naming the columns found) or one is named twice.
 */
export function csvHeader(fields: string[]): CsvColumns {
  if (fields.some((f) => f.includes('\ufffd')))
    throw new ImportFormatError('invalid_csv_header', 'The CSV header (line 1) cannot be read: it is not valid UTF-8.');
  const names = fields.map((f) => f.trim());
  const index: CsvColumns['index'] = {};
  names.forEach((raw, i) => {
    const field = FIELD_OF.get(squash(raw));
    if (!field) return;
    if (index[field] !== undefined)
      throw new ImportFormatError(
        'invalid_csv_header',
        `The CSV header names the ${field} column twice: ${quoteList([names[index[field]], raw])}.`,
      );
    index[field] = i;
  });
  const missing = REQUIRED.filter((f) => index[f] === undefined);
  if (missing.length) {
    const email = missing.includes('email')
      ? ` An email column is recognised as ${quoteList(['email', 'Email Address', 'E-mail'])} in any case.`
      : '';
    throw new ImportFormatError(
      'invalid_csv_header',
      `The CSV header (line 1) must name the columns email, consentAt and consentSource ` +
        `(name and termsVersion are optional); missing: ${missing.join(', ')}.${email} ` +
        `Columns found: ${quoteList(names)}.`,
    );
  }
  return { index, names };
}

/**
 * A cell as it was before our export guarded it: the export (audience-export.ts, as OWASP advises against CSV
 * injection) puts one apostrophe before a value that starts with = + - @ (after any apostrophes), so taking exactly
 * that one off makes export and import each other's inverse.
 */
function unescapeFormula(value: string): string {
  return /^'+[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}

/** Statuses of a status column that mean "subscribed": ours, and Mailchimp's. */
const IMPORTABLE_STATUS = new Set(['', 'active', 'subscribed']);

/**
 * One CSV data record as a raw record, by the header's columns. Throws RowError. A name given as first and last
 * name is joined; a status column (our export has one) must say the person is subscribed: re-importing an export
 * must not bring back people who left, bounced or never confirmed.
 */
export function csvRecord(fields: string[], columns: CsvColumns): Record<string, unknown> {
  if (fields.some((f) => f.includes('\ufffd'))) throw new RowError('line is not valid UTF-8');
  if (fields.length !== columns.names.length)
    throw new RowError(`expected ${columns.names.length} fields as in the header, got ${fields.length}`);
  const at = (f: CsvField) => (columns.index[f] === undefined ? undefined : unescapeFormula(fields[columns.index[f]]));
  const status = at('status');
  if (status !== undefined && !IMPORTABLE_STATUS.has(status.trim().toLowerCase()))
    throw new RowError(
      `status is ${JSON.stringify(status.trim())}: only subscribed (active) people are imported, ` +
        'never people who left, bounced or did not confirm',
    );
  const record: Record<string, unknown> = {};
  for (const f of ['email', 'consentAt', 'consentSource', 'termsVersion'] as const) {
    const v = at(f);
    if (v !== undefined) record[f] = v;
  }
  const name = at('name');
  const parts = [at('firstName'), at('lastName')].filter((p): p is string => p !== undefined && p.trim() !== '');
  if (name !== undefined && name.trim() !== '') record.name = name;
  else if (parts.length) record.name = parts.map((p) => p.trim()).join(' ');
  else if (name !== undefined) record.name = name;
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
