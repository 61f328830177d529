import { csvCell, csvLine, exportRecord, ndjsonLine } from '../../src/domain/audience-export';
import type { Subscriber } from '../../src/domain/subscriber';

const person: Subscriber = {
  id: 7,
  email: 'ada@example.com',
  name: 'Ada',
  status: 'active',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-02T00:00:00.000Z',
  confirmedAt: '2026-01-02T00:00:00.000Z',
  newsletters: ['news', 'culture'],
  requestedNewsletters: [],
  consent: {
    at: '2026-01-01T00:00:00.000Z',
    ip: '203.0.113.1',
    userAgent: 'Mozilla/5.0',
    termsVersion: '2026-01',
    termsHash: 'ab',
    source: 'footer',
  },
};

describe('export cells and lines', () => {
  test('every cell a spreadsheet would run as a formula starts with an apostrophe and is quoted', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r'])
      expect(csvCell(`${start}SUM(A1:A9)`)).toBe(`"'${start}SUM(A1:A9)"`);
    expect(csvCell('=HYPERLINK("http://x.test","y")')).toBe(`"'=HYPERLINK(""http://x.test"",""y"")"`);
  });

  test('commas, quotes and line breaks are quoted with doubled quotes; plain text and apostrophes inside are not', () => {
    expect(csvCell('Doe, Jane')).toBe('"Doe, Jane"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell("O'Brien")).toBe("O'Brien");
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell(undefined)).toBe('');
  });

  test('a record has no IP or user agent; NDJSON leaves out what a person does not have', () => {
    const record = exportRecord(person);
    expect(Object.values(record)).not.toContain('203.0.113.1');
    expect(csvLine(record)).toBe(
      'ada@example.com,Ada,active,news culture,2026-01-01T00:00:00.000Z,2026-01-02T00:00:00.000Z,,,' +
        '2026-01-01T00:00:00.000Z,footer,2026-01\r\n',
    );
    expect(JSON.parse(ndjsonLine(record))).toEqual({
      email: 'ada@example.com',
      name: 'Ada',
      status: 'active',
      newsletters: 'news culture',
      createdAt: '2026-01-01T00:00:00.000Z',
      confirmedAt: '2026-01-02T00:00:00.000Z',
      consentAt: '2026-01-01T00:00:00.000Z',
      consentSource: 'footer',
      termsVersion: '2026-01',
    });
  });
});
