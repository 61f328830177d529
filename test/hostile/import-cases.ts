import { gzipSync } from 'node:zlib';
import { type Expected, type HostileCase, group } from './case';

const CSV = { 'content-type': 'text/csv' };
const NDJSON = { 'content-type': 'application/x-ndjson' };
const HEADER = 'email,consentAt,consentSource,name';
const csv = (...rows: string[]) => [HEADER, ...rows].join('\r\n') + '\r\n';
const ndjson = (...rows: unknown[]) =>
  rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
const row = { email: 'newcomer@list.test', consentAt: '2024-01-01', consentSource: 'form' };

interface Summary {
  imported: number;
  joined: number;
  invalid: number;
  skipped: { suppressed: number; existing: number };
  errors: { line: number; reason: string }[];
}

/**
 * An import answers 200 with its summary, whatever its rows hold (bad rows are listed, good ones kept): each of
 * these files holds only rows that must be refused, so nothing may be imported and each is listed with its line.
 */
function refusedRows(reasons: [line: number, reason: RegExp][]): Expected {
  return {
    status: 200,
    check: ({ json }) => {
      const s = json as Summary;
      expect({ imported: s.imported, joined: s.joined, invalid: s.invalid }).toEqual({
        imported: 0,
        joined: 0,
        invalid: reasons.length,
      });
      reasons.forEach(([line, reason], i) => {
        expect(s.errors[i].line).toBe(line);
        expect(s.errors[i].reason).toMatch(reason);
      });
    },
  };
}

/** The rows of `csv(...)`/`ndjson(...)` start on line 2 / 1. */
export const IMPORT: HostileCase[] = group({ auth: 'admin', method: 'POST', path: '/api/admin/subscribers/import' }, [
  {
    name: 'import: JSON',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([row]),
    expect: { status: 415, code: 'unsupported_media_type' },
  },
  {
    name: 'import: no content type',
    body: csv('a@list.test,2024-01-01,form,A'),
    expect: { status: 415, code: 'unsupported_media_type' },
  },
  {
    name: 'import: Latin-1 CSV',
    headers: { 'content-type': 'text/csv; charset=iso-8859-1' },
    body: csv(),
    expect: { status: 415, code: 'unsupported_encoding' },
  },
  {
    name: 'import: brotli',
    headers: { ...CSV, 'content-encoding': 'br' },
    body: csv(),
    expect: { status: 415, code: 'unsupported_encoding' },
  },
  {
    name: 'import: gzip that is not gzip',
    headers: { ...CSV, 'content-encoding': 'gzip' },
    body: csv('a@list.test,2024-01-01,form,A'),
    expect: { status: 400, code: 'invalid_gzip' },
  },
  {
    name: 'import: gzip cut short',
    headers: { ...CSV, 'content-encoding': 'gzip' },
    body: gzipSync(csv('a@list.test,2024-01-01,form,A')).subarray(0, 30),
    expect: { status: 400, code: 'invalid_gzip' },
  },
  { name: 'import: an empty CSV', headers: CSV, body: '', expect: { status: 400, code: 'empty_body' } },
  {
    name: 'import: blank lines only',
    headers: NDJSON,
    body: '\n\r\n   \n',
    expect: { status: 400, code: 'empty_body' },
  },
  {
    name: 'import: a CSV header without consent columns',
    headers: CSV,
    body: 'email,name\r\na@list.test,A\r\n',
    expect: { status: 400, code: 'invalid_csv_header' },
  },
  {
    name: 'import: a CSV header naming email twice',
    headers: CSV,
    body: 'email,consentAt,consentSource,Email\r\n',
    expect: { status: 400, code: 'invalid_csv_header' },
  },
  {
    name: 'import: a CSV header that is not UTF-8',
    headers: CSV,
    body: Buffer.concat([
      Buffer.from('email,consentAt,consentSource,n'),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('\r\n'),
    ]),
    expect: { status: 400, code: 'invalid_csv_header' },
  },
  {
    name: 'import: a CSV header of 100 KB (one huge line)',
    headers: CSV,
    body: `email,consentAt,consentSource,${'x'.repeat(100_000)}\r\n`,
    // Over the record limit: csv-parse stops there, so the whole file is refused.
    expect: { status: 400, code: 'invalid_csv' },
  },
  {
    name: 'import: an unknown newsletter',
    path: '/api/admin/subscribers/import?newsletter=..%2F..%2Fetc',
    headers: CSV,
    body: csv(),
    expect: { status: 422, code: 'unknown_newsletter' },
  },
  {
    name: 'import: the newsletter twice',
    path: '/api/admin/subscribers/import?newsletter=news&newsletter=hostile-weekly',
    headers: CSV,
    body: csv(),
    expect: { status: 422, code: 'unknown_newsletter' },
  },
  { name: 'import: GET (read as the address "import")', method: 'GET', expect: { status: 400, code: 'invalid_email' } },
  ...group({ headers: CSV }, [
    {
      name: 'import CSV: a Bcc header in the email',
      body: csv('"newcomer@list.test\nBcc: x@else.test",2024-01-01,form,A'),
      expect: refusedRows([[2, /line break/]]),
    },
    {
      name: 'import CSV: a NUL in the name',
      body: csv('newcomer@list.test,2024-01-01,form,Ja\u0000ne'),
      expect: refusedRows([[2, /NUL/]]),
    },
    {
      name: 'import CSV: a bare CR in the name',
      body: csv('newcomer@list.test,2024-01-01,form,Ja\rne'),
      expect: refusedRows([[2, /line breaks/]]),
    },
    {
      name: 'import CSV: an escape character in the name',
      body: csv('newcomer@list.test,2024-01-01,form,\u001b[31mJane'),
      expect: refusedRows([[2, /control characters/]]),
    },
    {
      name: 'import CSV: a row that is not UTF-8',
      body: Buffer.concat([
        Buffer.from(`${HEADER}\r\nnewcomer@list.test,2024-01-01,form,`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('\r\n'),
      ]),
      expect: refusedRows([[2, /UTF-8/]]),
    },
    {
      name: 'import CSV: one 100 KB line',
      body: csv(`newcomer@list.test,2024-01-01,form,${'n'.repeat(100_000)}`),
      // Over the 64 KiB record limit: the parser cannot go on past it, so the import stops there (rows before it
      // kept; here there are none).
      expect: { status: 400, code: 'invalid_csv' },
    },
    {
      name: 'import CSV: 20,000 columns in a row',
      body: csv(`newcomer@list.test,2024-01-01,form,A${','.repeat(20_000)}`),
      expect: refusedRows([[2, /fields/]]),
    },
    {
      name: 'import CSV: consentAt "yesterday"',
      body: csv('newcomer@list.test,yesterday,form,A'),
      expect: refusedRows([[2, /consentAt/]]),
    },
    {
      name: 'import CSV: consentAt 30 February',
      body: csv('newcomer@list.test,2024-02-30,form,A'),
      expect: refusedRows([[2, /not a real date/]]),
    },
    {
      name: 'import CSV: consentAt in the future',
      body: csv('newcomer@list.test,2099-01-01,form,A'),
      expect: refusedRows([[2, /future/]]),
    },
    {
      name: 'import CSV: consentAt 0001-01-01',
      body: csv('newcomer@list.test,0001-01-01,form,A'),
      expect: refusedRows([[2, /before 1990/]]),
    },
    {
      name: 'import CSV: a stray quote',
      // RFC 4180 leaves a quote inside an unquoted field a character (as spreadsheets read it): the address is bad.
      body: csv('new"comer@list.test,2024-01-01,form,A'),
      expect: refusedRows([[2, /not allowed/]]),
    },
    {
      name: 'import CSV: jane@127.1 (the issue)',
      body: csv('jane@127.1,2024-01-01,form,Jane'),
      expect: refusedRows([[2, /domain/]]),
    },
    {
      name: 'import CSV: jane@0x7f.1 (the issue)',
      body: csv('jane@0x7f.1,2024-01-01,form,Jane'),
      expect: refusedRows([[2, /domain/]]),
    },
    {
      name: 'import CSV: jane@2130706433 (the issue)',
      body: csv('jane@2130706433,2024-01-01,form,Jane'),
      expect: refusedRows([[2, /domain/]]),
    },
    {
      name: 'import CSV: jane@ex%41mple.com (the issue)',
      body: csv('jane@ex%41mple.com,2024-01-01,form,Jane'),
      expect: refusedRows([[2, /domain/]]),
    },
    {
      // The row's own consent date is in the future, so it is refused; the "record" inside its quoted note must
      // never be read as a row of its own.
      name: 'import CSV: a quoted line break hiding a second record (the issue)',
      body: 'email,consentAt,consentSource,note\r\nnewcomer@list.test,2099-01-01,form,"Note:\nmallory@example.com,2024-01-01,form,Mallory\n"\r\n',
      expect: refusedRows([[2, /future/]]),
    },
    {
      name: 'import CSV: semicolon-separated (European Excel)',
      body: 'email;consentAt;consentSource;name\r\nnewcomer@list.test;2099-01-01;form;Doe, Jane\r\n',
      expect: refusedRows([[2, /future/]]),
    },
    {
      name: 'import CSV: tab-separated',
      body: 'email\tconsentAt\tconsentSource\r\nnewcomer@list.test\t2099-01-01\tform\r\n',
      expect: refusedRows([[2, /future/]]),
    },
  ]),
  ...group({ headers: NDJSON }, [
    { name: 'import NDJSON: malformed JSON', body: ndjson('{"email":'), expect: refusedRows([[1, /not valid JSON/]]) },
    { name: 'import NDJSON: an array line', body: ndjson([row]), expect: refusedRows([[1, /JSON object/]]) },
    { name: 'import NDJSON: a null line', body: ndjson('null'), expect: refusedRows([[1, /JSON object/]]) },
    {
      name: 'import NDJSON: email as an array',
      body: ndjson({ ...row, email: ['newcomer@list.test'] }),
      expect: refusedRows([[1, /email/]]),
    },
    {
      name: 'import NDJSON: email as an object',
      body: ndjson({ ...row, email: { $ne: '' } }),
      expect: refusedRows([[1, /email/]]),
    },
    {
      name: 'import NDJSON: consentAt as a number',
      body: ndjson({ ...row, consentAt: 1704067200 }),
      expect: refusedRows([[1, /consentAt/]]),
    },
    {
      name: 'import NDJSON: name as an object',
      body: ndjson({ ...row, name: { first: 'Jane' } }),
      expect: refusedRows([[1, /name must be a string/]]),
    },
    {
      name: 'import NDJSON: consentSource as true',
      body: ndjson({ ...row, consentSource: true }),
      expect: refusedRows([[1, /consentSource must be a string/]]),
    },
    {
      name: 'import NDJSON: a Bcc header in the email',
      body: ndjson({ ...row, email: 'newcomer@list.test\r\nBcc: x@else.test' }),
      expect: refusedRows([[1, /line breaks/]]),
    },
    {
      name: 'import NDJSON: a lone surrogate in the name',
      body: ndjson('{"email":"newcomer@list.test","consentAt":"2024-01-01","consentSource":"form","name":"\\ud800"}'),
      expect: refusedRows([[1, /not valid Unicode/]]),
    },
    {
      name: 'import NDJSON: a line separator in the name',
      body: ndjson({ ...row, name: 'Jane\u2028Bcc: x@else.test' }),
      expect: refusedRows([[1, /line breaks|control/]]),
    },
    {
      name: 'import NDJSON: the fields under __proto__',
      body: ndjson('{"__proto__":{"email":"newcomer@list.test","consentAt":"2024-01-01","consentSource":"form"}}'),
      expect: refusedRows([[1, /email/]]),
    },
    {
      name: 'import NDJSON: a line nested 20,000 deep',
      body: ndjson(`{"email":${'['.repeat(20_000)}${']'.repeat(20_000)}}`),
      expect: refusedRows([[1, /email/]]),
    },
    {
      name: 'import NDJSON: one 5 MB line',
      body: ndjson(`{"email":"${'e'.repeat(5 * 1024 * 1024)}"}`),
      expect: refusedRows([[1, /longer than/]]),
    },
    {
      name: 'import NDJSON: termsVersion as an array',
      body: ndjson({ ...row, termsVersion: ['2026-01'] }),
      expect: refusedRows([[1, /termsVersion must be a string/]]),
    },
  ]),
]);
