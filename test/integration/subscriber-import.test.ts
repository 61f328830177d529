import { request } from 'node:http';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readLines } from '../../src/domain/import-parsers';
import { eventually, startTestApp, TestClock, type TestApp } from '../support/test-app';

let app: TestApp;
const clock = new TestClock(); // 2026-11-27T12:00:00Z

beforeAll(async () => {
  app = await startTestApp({ clock, workers: false });
});
afterAll(async () => {
  await app.stop();
});

const NDJSON = 'application/x-ndjson';
const CSV = 'text/csv';

/** duplex 'half' lets the body be a stream (Node's fetch requires it then; it is harmless otherwise). */
function importBody(body: BodyInit, contentType: string, headers: Record<string, string> = {}) {
  const init = {
    method: 'POST',
    headers: { ...app.adminHeaders, 'content-type': contentType, ...headers },
    body,
    duplex: 'half',
  };
  return fetch(`${app.base}/api/admin/subscribers/import`, init);
}
const exportOf = (email: string) =>
  fetch(`${app.base}/api/admin/subscribers/${encodeURIComponent(email)}`, { headers: app.adminHeaders });
const ndjson = (rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
const row = (email: string, extra: Record<string, unknown> = {}) => ({
  email,
  consentAt: '2024-05-01T09:30:00Z',
  consentSource: 'old-newsletter-tool',
  ...extra,
});
const countActive = () => app.container.subscribers.countMembers('news');

describe('POST /api/admin/subscribers/import', () => {
  test('an NDJSON import makes each row an active subscriber with its consent evidence and an imported trail event, and mails nothing', async () => {
    const res = await importBody(
      ndjson([
        row('Ada@Example.COM', { name: '  Ada Lovelace ' }),
        row('bob@example.com', { consentAt: '2023-01-02', consentSource: 'paper form at the fair' }),
        row('cy@example.com', { consentAt: '2025-06-30T23:15:00+02:00', termsVersion: '2020-01' }),
      ]),
      NDJSON,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      imported: 3,
      newsletter: 'news',
      joined: 0,
      skipped: { suppressed: 0, existing: 0 },
      invalid: 0,
      errors: [],
      truncatedErrors: false,
      lines: 3,
    });

    const ada = await (await exportOf('ada@example.com')).json();
    expect(ada.subscriber).toMatchObject({
      email: 'Ada@example.com',
      name: 'Ada Lovelace',
      status: 'active',
      createdAt: '2026-11-27T12:00:00.000Z',
    });
    expect(ada.subscriber.confirmedAt).toBeUndefined();
    expect(ada.consent).toEqual({
      at: '2024-05-01T09:30:00.000Z',
      ip: 'import',
      userAgent: '',
      source: 'old-newsletter-tool',
      termsVersion: '2026-01',
      termsHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(ada.trail).toEqual([
      expect.objectContaining({
        type: 'imported',
        at: '2026-11-27T12:00:00.000Z',
        ip: 'import',
        source: 'old-newsletter-tool',
        termsVersion: '2026-01',
        detail: 'newsletter news; consent given at 2024-05-01T09:30:00.000Z',
      }),
    ]);

    const bob = await (await exportOf('bob@example.com')).json();
    expect(bob.consent).toMatchObject({ at: '2023-01-02T00:00:00.000Z', source: 'paper form at the fair' });
    // Another terms version is kept as given; the text hash of old terms is not known here.
    const cy = await (await exportOf('cy@example.com')).json();
    expect(cy.consent).toMatchObject({ at: '2025-06-30T21:15:00.000Z', termsVersion: '2020-01', termsHash: '' });

    expect(await app.container.transactionalQueue.queue.getJobCounts('waiting', 'delayed')).toEqual({
      waiting: 0,
      delayed: 0,
    });
  });

  test('a CSV import reads the header in any column order, quoted fields, CRLF and a BOM', async () => {
    const csv =
      '\ufeffconsentSource,Email,consent_at,name\r\n' +
      '"web form, footer",dee@example.com,2024-02-29T10:00:00Z,"Dee ""The Reader"" Smith"\r\n' +
      'import-2019,eve@example.com,2019-12-31T23:59:59.999-05:00,\r\n';
    const res = await importBody(csv, `${CSV}; charset=utf-8`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ imported: 2, invalid: 0, lines: 3 });
    const dee = await (await exportOf('dee@example.com')).json();
    expect(dee.subscriber).toMatchObject({ name: 'Dee "The Reader" Smith', status: 'active' });
    expect(dee.consent).toMatchObject({ at: '2024-02-29T10:00:00.000Z', source: 'web form, footer', ip: 'import' });
    const eve = await (await exportOf('eve@example.com')).json();
    expect(eve.subscriber.name).toBe('');
    expect(eve.consent.at).toBe('2020-01-01T04:59:59.999Z');
  });

  test('bad NDJSON rows are listed with their physical line numbers and the good rows around them are kept', async () => {
    const longLine = JSON.stringify(row('long@example.com', { name: 'x'.repeat(70 * 1024) }));
    const body = [
      JSON.stringify(row('good1@example.com')), // 1
      '', // 2: blank, ignored
      '{"email": "broken@example.com", ', // 3
      JSON.stringify(row('not-an-address')), // 4
      JSON.stringify(row('future@example.com', { consentAt: '2026-12-01T00:00:00Z' })), // 5
      JSON.stringify(row('nodate@example.com', { consentAt: '2024-02-30' })), // 6
      JSON.stringify(row('nozone@example.com', { consentAt: '2024-05-01T09:30:00' })), // 7
      JSON.stringify(row('nosource@example.com', { consentSource: '  ' })), // 8
      JSON.stringify(row('crlf@example.com', { name: 'Evil\r\nBcc: x@example.com' })), // 9
      JSON.stringify(row('longname@example.com', { name: 'n'.repeat(101) })), // 10
      longLine, // 11
      '[1, 2]', // 12
      '{"email":"surrogate@example.com","consentAt":"2024-01-01","consentSource":"x","name":"\\ud800"}', // 13
      JSON.stringify(row('good2@example.com')), // 14
    ].join('\n');
    const res = await importBody(body, NDJSON);
    expect(res.status).toBe(200);
    const summary = await res.json();
    expect(summary).toMatchObject({ imported: 2, invalid: 11, lines: 14, truncatedErrors: false });
    expect(summary.errors.map((e: { line: number }) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const reason = (line: number) => summary.errors.find((e: { line: number }) => e.line === line).reason as string;
    expect(reason(3)).toMatch(/not valid JSON/);
    expect(reason(4)).toMatch(/email/);
    expect(reason(5)).toMatch(/future/);
    expect(reason(6)).toMatch(/not a real date/);
    expect(reason(7)).toMatch(/ISO-8601/);
    expect(reason(8)).toMatch(/consentSource is required/);
    expect(reason(9)).toMatch(/line breaks/);
    expect(reason(10)).toMatch(/at most 100/);
    expect(reason(11)).toMatch(/longer than 65536 bytes/);
    expect(reason(12)).toMatch(/JSON object/);
    expect(reason(13)).toMatch(/name is not valid Unicode/);
    for (const email of ['good1@example.com', 'good2@example.com'])
      expect((await (await exportOf(email)).json()).subscriber.status).toBe('active');
    for (const email of ['broken@example.com', 'future@example.com', 'long@example.com', 'crlf@example.com'])
      expect((await exportOf(email)).status).toBe(404);
  });

  test('bad CSV rows are listed with the line they start on (the header is line 1); a quote opened in a field runs to its closing quote, as RFC 4180 reads it', async () => {
    const csv = [
      'email,name,consentAt,consentSource', // 1
      'csv1@example.com,One,2024-01-01,fair', // 2
      'csv2@example.com,"Two,2024-01-01,fair', // 3: the quote opened here ...
      'csv3@example.com,"Th"ree,2024-01-01,fair', // 4: ... closes here, so lines 3-4 are one record with a line break
      'csv4@example.com,Four,2024-01-01', // 5: a field short
      'csv5@example.com,Fi"ve,2024-01-01,fair', // 6: a quote inside an unquoted field is a character
      'csv6@example.com,Six,2024-01-01,', // 7: empty source
      ',,,', // 8: an empty spreadsheet row, skipped
      'csv7@example.com,"Seven",2024-01-01,"fair"', // 9
    ].join('\n');
    const summary = await (await importBody(csv, CSV)).json();
    expect(summary).toMatchObject({ imported: 3, invalid: 3, lines: 9 });
    expect(summary.errors).toEqual([
      { line: 3, reason: 'name must not contain line breaks or NUL' },
      { line: 5, reason: 'expected 4 fields as in the header, got 3' },
      { line: 7, reason: 'consentSource is required' },
    ]);
    expect((await exportOf('csv3@example.com')).status).toBe(404);
    expect((await (await exportOf('csv5@example.com')).json()).subscriber.name).toBe('Fi"ve');
    expect((await (await exportOf('csv7@example.com')).json()).subscriber.name).toBe('Seven');
  });

  test('only the first 1000 errors are listed; the rest are counted', async () => {
    const lines = Array.from({ length: 1203 }, (_, i) =>
      i === 600 ? JSON.stringify(row('amid-errors@example.com')) : 'nope',
    );
    const summary = await (await importBody(lines.join('\n'), NDJSON)).json();
    expect(summary).toMatchObject({ imported: 1, invalid: 1202, truncatedErrors: true, lines: 1203 });
    expect(summary.errors).toHaveLength(1000);
    expect(summary.errors[999].line).toBe(1001);
  });

  test('an erased (suppressed) address is skipped and never imported back', async () => {
    await importBody(ndjson([row('gone@example.com')]), NDJSON);
    expect(
      (
        await fetch(`${app.base}/api/admin/subscribers/gone%40example.com`, {
          method: 'DELETE',
          headers: app.adminHeaders,
        })
      ).status,
    ).toBe(204);

    const summary = await (
      await importBody(ndjson([row('Gone@EXAMPLE.com'), row('fresh@example.com')]), NDJSON)
    ).json();
    expect(summary).toMatchObject({ imported: 1, skipped: { suppressed: 1, existing: 0 }, invalid: 0 });
    expect((await exportOf('gone@example.com')).status).toBe(404);
  });

  test('a known address is skipped whatever its status: an unsubscribed person is not resubscribed, a repeat in the file counts once', async () => {
    await importBody(ndjson([row('left@example.com')]), NDJSON);
    const left = (await app.container.subscribers.getByEmail('left@example.com'))!;
    expect(
      await app.container.subscribers.transition(left, ['active'], 'unsubscribed', {
        unsubscribedAt: '2026-11-01T00:00:00.000Z',
        updatedAt: '2026-11-01T00:00:00.000Z',
      }),
    ).toEqual({ ok: true });
    const before = await countActive();

    const summary = await (
      await importBody(ndjson([row('LEFT@example.com'), row('twice@example.com'), row('Twice@Example.com')]), NDJSON)
    ).json();
    expect(summary).toMatchObject({ imported: 1, skipped: { suppressed: 0, existing: 2 } });
    const exported = await (await exportOf('left@example.com')).json();
    expect(exported.subscriber.status).toBe('unsubscribed');
    expect(exported.trail.map((e: { type: string }) => e.type)).toEqual(['imported']);
    expect(await countActive()).toBe(before + 1);
  });

  test.each([
    ['text/plain', 'a@example.com'],
    ['application/json', '{"email":"a@example.com"}'],
    ['multipart/form-data; boundary=x', '--x--'],
  ])('a %s body answers 415 unsupported_media_type', async (type, body) => {
    const res = await importBody(body, type);
    expect(res.status).toBe(415);
    expect((await res.json()).error).toEqual({ code: 'unsupported_media_type', message: expect.any(String) });
  });

  test('a charset other than UTF-8 answers 415', async () => {
    const res = await importBody('email,consentAt,consentSource\n', `${CSV}; charset=iso-8859-1`);
    expect(res.status).toBe(415);
    expect((await res.json()).error.code).toBe('unsupported_encoding');
  });

  test('without the admin token the import answers 401 and imports nothing', async () => {
    const res = await fetch(`${app.base}/api/admin/subscribers/import`, {
      method: 'POST',
      headers: { 'content-type': NDJSON },
      body: ndjson([row('sneaky@example.com')]),
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
    const wrong = await fetch(`${app.base}/api/admin/subscribers/import`, {
      method: 'POST',
      headers: { 'content-type': NDJSON, authorization: 'Bearer nope' },
      body: ndjson([row('sneaky@example.com')]),
    });
    expect(wrong.status).toBe(401);
    expect((await exportOf('sneaky@example.com')).status).toBe(404);
  });

  test.each([
    ['an empty NDJSON body', '', NDJSON],
    ['a blank NDJSON body', '\n \n\n', NDJSON],
    ['an empty CSV body', '', CSV],
  ])('%s answers 400 empty_body', async (_label, body, type) => {
    const res = await importBody(body, type);
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('empty_body');
  });

  test('a CSV header without the required columns answers 400 and imports nothing', async () => {
    const res = await importBody('mail,name\nheaderless@example.com,Nobody\n', CSV);
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe('invalid_csv_header');
    expect(error.message).toMatch(/missing: email, consentAt, consentSource/);
    expect(error.message).toMatch(/Columns found: "mail", "name"\.$/);
    expect((await exportOf('headerless@example.com')).status).toBe(404);
  });

  test('a gzip-compressed body is accepted', async () => {
    const res = await importBody(gzipSync(ndjson([row('zipped@example.com')])), NDJSON, { 'content-encoding': 'gzip' });
    expect(await res.json()).toMatchObject({ imported: 1 });
    const corrupt = await importBody(Buffer.from('definitely not gzip'), NDJSON, { 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect((await corrupt.json()).error.code).toBe('invalid_gzip');
  });

  test('with Accept: application/x-ndjson it streams a progress line every 10,000 lines and the summary last', async () => {
    const rows = Array.from({ length: 25_000 }, (_, i) =>
      i === 12_345 ? 'oops' : JSON.stringify(row(`progress-${i}@example.com`)),
    );
    const res = await importBody(rows.join('\n'), NDJSON, { accept: NDJSON });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const messages = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(messages).toHaveLength(3);
    expect(messages[0].progress).toMatchObject({ lines: 10_000, invalid: 0 });
    expect(messages[1].progress).toMatchObject({ lines: 20_000, invalid: 1 });
    // Batches are written while the next is read, so the count trails the lines read, and grows.
    expect(messages[1].progress.imported).toBeGreaterThan(messages[0].progress.imported);
    expect(messages[1].progress.imported).toBeLessThanOrEqual(20_000);
    expect(messages[2].done).toEqual({
      imported: 24_999,
      newsletter: 'news',
      joined: 0,
      skipped: { suppressed: 0, existing: 0 },
      invalid: 1,
      errors: [{ line: 12_346, reason: 'line is not valid JSON' }],
      truncatedErrors: false,
      lines: 25_000,
    });
  });

  test('rows are written to Redis while the body is still arriving', async () => {
    const before = await countActive();
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    let sent = 0;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 600) await held; // the body stays open here until the test has seen rows land
        if (sent === 1000) return controller.close();
        controller.enqueue(
          encoder.encode(ndjson(Array.from({ length: 100 }, (_, i) => row(`slow-${sent + i}@example.com`)))),
        );
        sent += 100;
        await new Promise((ok) => setTimeout(ok, 10));
      },
    });
    const response = importBody(body, NDJSON);

    await eventually(async () => (await countActive()) - before >= 500, 10_000, 'the first batch in Redis');
    expect(sent).toBe(600);
    release();
    const summary = await (await response).json();
    expect(summary).toMatchObject({ imported: 1000, lines: 1000 });
    expect(await countActive()).toBe(before + 1000);
  });

  test('a client that disconnects mid-upload keeps the batches written so far, never imports its cut-off last line, and the server carries on', async () => {
    const before = await countActive();
    const { port } = new URL(app.base);
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/admin/subscribers/import',
      headers: { ...app.adminHeaders, 'content-type': NDJSON },
    });
    req.on('error', () => undefined);
    req.write(
      ndjson(Array.from({ length: 700 }, (_, i) => row(`cut-${i}@example.com`))) +
        '{"email":"cut-off@example.com","consentAt":"2024-01-01","consentSource":"x"',
    );
    await eventually(async () => (await countActive()) - before >= 500, 10_000, 'the first batch in Redis');
    req.destroy();
    await new Promise((ok) => setTimeout(ok, 200));
    expect(await countActive()).toBe(before + 500);
    expect((await exportOf('cut-off@example.com')).status).toBe(404);

    const again = await importBody(ndjson(Array.from({ length: 700 }, (_, i) => row(`cut-${i}@example.com`))), NDJSON);
    expect(await again.json()).toMatchObject({ imported: 200, skipped: { existing: 500 } });
  });

  // Three minutes: csv-parse takes 10-25 µs a row on a busy two-core machine, and every row goes to the shared Redis.
  test('a 50,000-row CSV imports completely and counts right', async () => {
    const before = await countActive();
    const header = 'email,name,consentAt,consentSource\n';
    const chunks = function* () {
      yield header;
      for (let i = 0; i < 50_000; i += 1000) {
        let s = '';
        for (let j = i; j < i + 1000; j++)
          s += `bulk-${j}@example.com,"Reader ${j}",2025-0${(j % 9) + 1}-01T08:00:00Z,migration\n`;
        yield s;
      }
    };
    const res = await importBody(Readable.toWeb(Readable.from(chunks())) as ReadableStream, CSV);
    const summary = await res.json();
    expect(summary).toEqual({
      imported: 50_000,
      newsletter: 'news',
      joined: 0,
      skipped: { suppressed: 0, existing: 0 },
      invalid: 0,
      errors: [],
      truncatedErrors: false,
      lines: 50_001,
    });
    expect(await countActive()).toBe(before + 50_000);
    expect((await (await exportOf('bulk-49999@example.com')).json()).subscriber).toMatchObject({
      name: 'Reader 49999',
      status: 'active',
    });
  }, 180_000);
});

describe('CSV import read as RFC 4180 and as the common exports write it', () => {
  const mallory =
    'email,consentAt,consentSource,name,notes\r\n' +
    'ada-rfc@example.com,2024-01-01,form,Ada,"Note:\nmallory@example.com,2024-01-01,form,Mallory\n"\r\n' +
    'bob-rfc@example.com,2024-01-01,form,Bob,\r\n';

  test('a line inside a quoted field is part of that field, never a row of its own', async () => {
    const summary = await (await importBody(mallory, CSV)).json();
    expect(summary).toMatchObject({ imported: 2, invalid: 0, lines: 5 });
    expect((await exportOf('mallory@example.com')).status).toBe(404);
    expect((await (await exportOf('ada-rfc@example.com')).json()).subscriber.name).toBe('Ada');
  });

  test('errors name the line a record starts on, after records that span lines', async () => {
    const csv =
      'email,consentAt,consentSource,notes\n' + // 1
      'span1@example.com,2024-01-01,form,"one\ntwo\nthree"\n' + // 2-4
      '\n' + // 5
      'not-an-address,2024-01-01,form,"x\ny"\n' + // 6-7
      'span2@example.com,2099-01-01,form,\n'; // 8
    const summary = await (await importBody(csv, CSV)).json();
    expect(summary).toMatchObject({ imported: 1, invalid: 2, lines: 8 });
    expect(summary.errors.map((e: { line: number }) => e.line)).toEqual([6, 8]);
  });

  test.each([
    ['semicolons (Excel where the decimal mark is a comma)', ';'],
    ['tabs (TSV)', '\t'],
  ])('the separator is read from the header line: %s', async (_label, sep) => {
    const tag = sep === ';' ? 'semi' : 'tab';
    const csv =
      ['E-Mail', 'Name', 'consentAt', 'consentSource'].join(sep) +
      '\r\n' +
      [`${tag}1@example.com`, '"Doe, Jane"', '2024-01-01', 'form'].join(sep) +
      '\r\n' +
      // A tab is a control character, never allowed in a name; a comma in a TSV field needs no quotes.
      [`${tag}2@example.com`, sep === ';' ? '"has ; inside"' : 'has, inside', '2024-01-01', 'fair, 2023'].join(sep) +
      '\r\n';
    const summary = await (await importBody(csv, CSV)).json();
    expect(summary).toMatchObject({ imported: 2, invalid: 0 });
    expect((await (await exportOf(`${tag}1@example.com`)).json()).subscriber.name).toBe('Doe, Jane');
    const second = await (await exportOf(`${tag}2@example.com`)).json();
    expect(second.subscriber.name).toBe(sep === ';' ? 'has ; inside' : 'has, inside');
    expect(second.consent.source).toBe('fair, 2023');
  });

  test("Mailchimp's header names are recognised, first and last name joined, unknown columns ignored", async () => {
    const csv =
      '\ufeff"Email Address","First Name","Last Name",Address,"Phone Number",MEMBER_RATING,consent_at,CONSENT SOURCE,TAGS\n' +
      'chimp@example.com,Grace,Hopper,"1 Main St, Arlington",555,2,2024-03-01,mailchimp,"a,b"\n' +
      'chimp2@example.com,,Lovelace,,,,2024-03-01,mailchimp,\n';
    const summary = await (await importBody(csv, CSV)).json();
    expect(summary).toMatchObject({ imported: 2, invalid: 0 });
    expect((await (await exportOf('chimp@example.com')).json()).subscriber.name).toBe('Grace Hopper');
    expect((await (await exportOf('chimp2@example.com')).json()).subscriber.name).toBe('Lovelace');
  });

  test.each([
    ['e-mail address', 'a'],
    ['EMAIL', 'b'],
    ['Email_Address', 'c'],
    ['email address', 'd'],
  ])('the email column may be named %s', async (header, slug) => {
    const csv = `"${header}",Full Name,consentAt,consentSource\n${slug}@alias.example.com,Al Ias,2024-01-01,form\n`;
    const summary = await (await importBody(csv, CSV)).json();
    expect(summary).toMatchObject({ imported: 1, invalid: 0 });
    expect((await (await exportOf(`${slug}@alias.example.com`)).json()).subscriber.name).toBe('Al Ias');
  });

  test('a header with no email column is refused, naming the columns it has', async () => {
    const res = await importBody('Address;Phone;consentAt;consentSource\n1 Main St;555;2024-01-01;x\n', CSV);
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe('invalid_csv_header');
    expect(error.message).toMatch(/missing: email\./);
    expect(error.message).toContain('"Email Address"');
    expect(error.message).toMatch(/Columns found: "Address", "Phone", "consentAt", "consentSource"\.$/);
  });

  test('two columns that both mean the email are refused', async () => {
    const res = await importBody('email,E-mail,consentAt,consentSource\n', CSV);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toEqual({
      code: 'invalid_csv_header',
      message: 'The CSV header names the email column twice: "email", "E-mail".',
    });
  });

  test('our own CSV export imports back: names and consent as they were, people who left or never confirmed stay out', async () => {
    // Two instances of their own, so the export holds only these people.
    const [from, to] = await Promise.all([
      startTestApp({ clock, workers: false }),
      startTestApp({ clock, workers: false }),
    ]);
    try {
      const people = [
        row('round-a@example.com', { name: '=HYPERLINK("x")', consentSource: '+form, "footer"' }),
        row('round-b@example.com', { name: "'=quoted", termsVersion: '2020-01' }),
        row('round-left@example.com'),
      ];
      await fetch(`${from.base}/api/admin/subscribers/import`, {
        method: 'POST',
        headers: { ...from.adminHeaders, 'content-type': NDJSON },
        body: ndjson(people),
      });
      const left = (await from.container.subscribers.getByEmail('round-left@example.com'))!;
      await from.container.subscribers.transition(left, ['active'], 'unsubscribed', {
        unsubscribedAt: '2026-11-01T00:00:00.000Z',
        updatedAt: '2026-11-01T00:00:00.000Z',
      });
      const exported = await (
        await fetch(`${from.base}/api/admin/subscribers/export?format=csv`, { headers: from.adminHeaders })
      ).text();
      const res = await fetch(`${to.base}/api/admin/subscribers/import`, {
        method: 'POST',
        headers: { ...to.adminHeaders, 'content-type': CSV },
        body: exported,
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        imported: 2,
        invalid: 1,
        errors: [{ line: 4, reason: expect.stringMatching(/^status is "unsubscribed": only subscribed/) }],
      });
      const a = await to.container.subscribers.getByEmail('round-a@example.com');
      // The apostrophe the export puts before a formula-like cell is taken off again.
      expect(a).toMatchObject({
        status: 'active',
        name: '=HYPERLINK("x")',
        consent: { source: '+form, "footer"', at: '2024-05-01T09:30:00.000Z' },
      });
      const b = await to.container.subscribers.getByEmail('round-b@example.com');
      expect(b).toMatchObject({ name: "'=quoted", consent: { termsVersion: '2020-01' } });
      expect(await to.container.subscribers.getByEmail('round-left@example.com')).toBeNull();
    } finally {
      await Promise.all([from.stop(), to.stop()]);
    }
  });

  test('a record longer than the limit stops the import with invalid_csv and its line; the rows before it are kept', async () => {
    const csv =
      'email,consentAt,consentSource,notes\n' +
      'before-long@example.com,2024-01-01,form,\n' +
      `long-record@example.com,2024-01-01,form,"${'x'.repeat(70 * 1024)}"\n` +
      'after-long@example.com,2024-01-01,form,\n';
    const res = await importBody(csv, CSV);
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe('invalid_csv');
    expect(error.message).toMatch(/^The CSV record starting at line 3 is longer than 65536 bytes/);
    expect((await exportOf('before-long@example.com')).status).toBe(200);
    expect((await exportOf('long-record@example.com')).status).toBe(404);
    expect((await exportOf('after-long@example.com')).status).toBe(404);
  });

  test('a quote never closed stops the import at the record that opened it; nothing after it is imported', async () => {
    const csv =
      'email,consentAt,consentSource,notes\n' +
      'before-open@example.com,2024-01-01,form,\n' +
      'open@example.com,2024-01-01,form,"an open quote\n' +
      'hidden@example.com,2024-01-01,form,\n';
    const res = await importBody(csv, CSV);
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error).toEqual({
      code: 'invalid_csv',
      message: expect.stringMatching(/^The CSV record starting at line 3 opens a quoted field that is never closed\./),
    });
    expect((await exportOf('before-open@example.com')).status).toBe(200);
    expect((await exportOf('hidden@example.com')).status).toBe(404);
  });

  test('bytes that are not UTF-8 spoil only their own row', async () => {
    const csv = Buffer.concat([
      Buffer.from('email,name,consentAt,consentSource\nlatin1@example.com,Ren'),
      Buffer.from([0xe9]),
      Buffer.from(',2024-01-01,form\nutf8@example.com,Ren\u00e9,2024-01-01,form\n'),
    ]);
    const summary = await (await importBody(csv, CSV)).json();
    expect(summary).toMatchObject({
      imported: 1,
      invalid: 1,
      errors: [{ line: 2, reason: 'line is not valid UTF-8' }],
    });
    expect((await (await exportOf('utf8@example.com')).json()).subscriber.name).toBe('René');
  });
});

describe('readLines', () => {
  const collect = async (chunks: (string | Buffer)[], max = 16) => {
    const out = [];
    for await (const lines of readLines(Readable.from(chunks), max)) out.push(...lines);
    return out;
  };

  test('joins lines split across chunks, even inside a multi-byte character, and strips CR and a leading BOM', async () => {
    const zoe = Buffer.from('Zoë\r\nb\n');
    expect(
      await collect([Buffer.from([0xef, 0xbb]), Buffer.from([0xbf]), zoe.subarray(0, 3), zoe.subarray(3), 'c']),
    ).toEqual([
      { line: 1, text: 'Zoë' },
      { line: 2, text: 'b' },
      { line: 3, text: 'c' },
    ]);
  });

  test('a line over the limit is reported, not buffered, and the next line is read normally', async () => {
    expect(
      await collect([
        'short\n',
        'x'.repeat(10),
        'x'.repeat(10),
        'x'.repeat(10),
        '\nok\n',
        'y'.repeat(16),
        '\r\n',
        'z'.repeat(17),
      ]),
    ).toEqual([
      { line: 1, text: 'short' },
      { line: 2, problem: 'line is longer than 16 bytes' },
      { line: 3, text: 'ok' },
      { line: 4, text: 'y'.repeat(16) },
      { line: 5, problem: 'line is longer than 16 bytes' },
    ]);
  });

  test('invalid UTF-8 is reported for its line only', async () => {
    expect(await collect([Buffer.from([0x61, 0xff, 0x0a, 0x62])])).toEqual([
      { line: 1, problem: 'line is not valid UTF-8' },
      { line: 2, text: 'b' },
    ]);
  });
});
