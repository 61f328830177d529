import iconv from 'iconv-lite';
import { decodeFeedBytes } from '../../src/domain/feed-encoding';
import { parseFeed } from '../../src/domain/feed-parser';

const TITLE = 'Café “crème” – Ελληνικά 😀';
const doc = (encoding?: string) =>
  `<?xml version="1.0"${encoding ? ` encoding="${encoding}"` : ''}?>\n` +
  `<rss version="2.0"><channel><title>T</title><item><title>${TITLE}</title></item></channel></rss>`;

/** The title of the first entry once the bytes are decoded and parsed, as the poller does. */
const titleOf = (bytes: Uint8Array, contentType?: string) =>
  parseFeed(decodeFeedBytes(bytes, contentType).text).entries[0].title;

describe('decodeFeedBytes: byte-order marks and sniffing', () => {
  test.each([
    [
      'UTF-16LE',
      'utf16le-bom',
      () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(doc('UTF-16'), 'utf16le')]),
    ],
    [
      'UTF-16BE',
      'utf16be-bom',
      () => Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(doc('UTF-16'), 'utf16be')]),
    ],
    ['UTF-32LE', 'utf32le-bom', () => iconv.encode(doc('UTF-32'), 'utf32le', { addBOM: true })],
    ['UTF-32BE', 'utf32be-bom', () => iconv.encode(doc('UTF-32'), 'utf32be', { addBOM: true })],
    ['UTF-8', 'utf8-bom', () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(doc(), 'utf8')])],
  ])('a %s feed with a byte-order mark (%s) is decoded, surrogate pairs too', (_name, _tag, bytes) => {
    const b = bytes();
    // The BOM wins over a Content-Type that says otherwise (as in browsers' and feedparser's reading).
    expect(titleOf(b, 'application/rss+xml; charset=iso-8859-1')).toBe(TITLE);
    expect(titleOf(b)).toBe(TITLE);
  });

  test.each([
    ['UTF-16LE', 'utf16le'],
    ['UTF-16BE', 'utf16be'],
    ['UTF-32LE', 'utf32le'],
    ['UTF-32BE', 'utf32be'],
  ])('a %s feed without a BOM is recognised by the width of "<?xml"', (_name, enc) => {
    expect(titleOf(iconv.encode(doc(), enc, { addBOM: false }))).toBe(TITLE);
  });
});

describe('decodeFeedBytes: declared charsets', () => {
  const latin = 'Café crème à l’œuvre';
  const win1252 = () =>
    iconv.encode(
      `<?xml version="1.0"?><rss version="2.0"><channel><item><title>${latin}</title></item></channel></rss>`,
      'windows-1252',
    );

  test('the HTTP Content-Type charset is honoured (windows-1252, ISO-8859-1, ISO-8859-7, quoted or not)', () => {
    expect(titleOf(win1252(), 'application/rss+xml; charset=windows-1252')).toBe(latin);
    expect(titleOf(win1252(), 'text/xml;charset="windows-1252"')).toBe(latin);
    const greek = iconv.encode(
      '<?xml version="1.0"?><rss version="2.0"><channel><item><title>Καλημέρα</title></item></channel></rss>',
      'iso-8859-7',
    );
    expect(titleOf(greek, 'application/xml; charset=ISO-8859-7')).toBe('Καλημέρα');
    expect(decodeFeedBytes(greek, 'application/xml; charset=ISO-8859-7').encoding).toBe('iso-8859-7');
  });

  test("the XML declaration's encoding is honoured when HTTP names none", () => {
    const bytes = iconv.encode(
      `<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><item><title>Café</title></item></channel></rss>`,
      'latin1',
    );
    expect(titleOf(bytes, 'application/rss+xml')).toBe('Café');
    const koi = iconv.encode(
      `<?xml version='1.0' encoding='KOI8-R'?><rss version="2.0"><channel><item><title>Привет</title></item></channel></rss>`,
      'koi8-r',
    );
    expect(titleOf(koi)).toBe('Привет');
  });

  test('the HTTP charset wins over the declaration (RFC 7303)', () => {
    const bytes = iconv.encode(
      `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item><title>Café</title></item></channel></rss>`,
      'latin1',
    );
    expect(titleOf(bytes, 'application/rss+xml; charset=iso-8859-1')).toBe('Café');
  });

  test('an unknown charset label is passed over, not fatal', () => {
    expect(titleOf(Buffer.from(doc('x-no-such-charset')), 'text/xml; charset=bogus')).toBe(TITLE);
  });
});

describe('decodeFeedBytes: undeclared bytes that are not UTF-8 fall back to Windows-1252', () => {
  test('smart quotes, an e-acute and a euro sign in Windows-1252 with no charset anywhere', () => {
    const bytes = iconv.encode(
      '<rss version="2.0"><channel><item><title>“Café” costs €3</title></item></channel></rss>',
      'windows-1252',
    );
    const decoded = decodeFeedBytes(bytes, 'application/rss+xml');
    expect(decoded.encoding).toBe('windows-1252');
    expect(decoded.text).not.toContain('\uFFFD');
    expect(parseFeed(decoded.text).entries[0].title).toBe('“Café” costs €3');
  });

  test('a feed that says UTF-8 but is not falls back too (feedparser tries windows-1252 next)', () => {
    const bytes = iconv.encode(
      '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><item><title>Café</title></item></channel></rss>',
      'windows-1252',
    );
    expect(titleOf(bytes)).toBe('Café');
  });

  test('valid UTF-8 stays UTF-8', () => {
    expect(decodeFeedBytes(Buffer.from(doc()), null)).toEqual({ text: doc(), encoding: 'utf-8' });
  });
});
