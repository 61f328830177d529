import type { Subscriber } from './subscriber';

export type ExportFormat = 'csv' | 'ndjson';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'ndjson'];

/**
 * The columns of an export, in order, named as the import names the same values. The consent's IP and user agent
 * stay out:
 * a list export travels to spreadsheets and other tools, and the per-person export (GET /api/admin/subscribers/:email)
 * holds the full evidence.
 */
export const EXPORT_COLUMNS = [
  'email',
  'name',
  'status',
  'newsletters',
  'createdAt',
  'confirmedAt',
  'unsubscribedAt',
  'bouncedAt',
  'consentAt',
  'consentSource',
  'termsVersion',
] as const;

export type ExportRecord = Record<(typeof EXPORT_COLUMNS)[number], string | undefined>;

export function exportRecord(s: Subscriber): ExportRecord {
  return {
    email: s.email,
    name: s.name,
    status: s.status,
    // Space-separated: a slug holds no space, and a comma would need quoting in every CSV cell.
    newsletters: s.newsletters.join(' '),
    createdAt: s.createdAt,
    confirmedAt: s.confirmedAt,
    unsubscribedAt: s.unsubscribedAt,
    bouncedAt: s.bouncedAt,
    consentAt: s.consent.at,
    consentSource: s.consent.source,
    termsVersion: s.consent.termsVersion,
  };
}

// OWASP "CSV Injection": a cell a spreadsheet would read as a formula starts with one of these. A value with
// apostrophes before one of them gets one more too, so the import (which takes one off) gives every value back whole.
const FORMULA_START = /^'*[=+\-@\t\r]/;

/**
 * One CSV cell (RFC 4180). Names and consent sources come from visitors, so a cell that a spreadsheet would run as
 * a formula (starting with = + - @, tab or carriage return) gets a leading apostrophe, as OWASP advises: the
 * spreadsheet shows it as text. The CSV is for spreadsheets; NDJSON carries every value exactly. Every cell that
 * holds a comma, quote or line break, or was given the apostrophe, is quoted, its quotes doubled.
 */
export function csvCell(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  const formula = FORMULA_START.test(value);
  const text = formula ? `'${value}` : value;
  return formula || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeaderLine(): string {
  return `${EXPORT_COLUMNS.join(',')}\r\n`;
}

export function csvLine(r: ExportRecord): string {
  return `${EXPORT_COLUMNS.map((c) => csvCell(r[c])).join(',')}\r\n`;
}

/** One JSON object a line; fields a person does not have (confirmedAt of a pending one) are left out. */
export function ndjsonLine(r: ExportRecord): string {
  return `${JSON.stringify(r)}\n`;
}

/**
 * The export as text, one chunk a page: the header (CSV), then each page's lines. Lazy, like the pages it reads, so
 * whoever consumes it (an HTTP response, a file) sets the pace and memory holds one page.
 */
export async function* exportChunks(pages: AsyncIterable<Subscriber[]>, format: ExportFormat): AsyncGenerator<string> {
  if (format === 'csv') yield csvHeaderLine();
  const line = format === 'csv' ? csvLine : ndjsonLine;
  for await (const page of pages) yield page.map((s) => line(exportRecord(s))).join('');
}
