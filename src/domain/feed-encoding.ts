import iconv from 'iconv-lite';

/** The text of a feed and the encoding it was read in. */
export interface DecodedFeed {
  text: string;
  /** The label of the encoding used, lower-cased, as the BOM, the server or the document gave it. */
  encoding: string;
}

/**
 * Byte-order marks, longest first: FF FE 00 00 is UTF-32LE, not UTF-16LE followed by a NUL character.
 * UTF-32 is not in the WHATWG Encoding Standard, so TextDecoder cannot read it; iconv-lite does.
 */
const BOMS: { bytes: number[]; encoding: string }[] = [
  { bytes: [0x00, 0x00, 0xfe, 0xff], encoding: 'utf-32be' },
  { bytes: [0xff, 0xfe, 0x00, 0x00], encoding: 'utf-32le' },
  { bytes: [0xef, 0xbb, 0xbf], encoding: 'utf-8' },
  { bytes: [0xfe, 0xff], encoding: 'utf-16be' },
  { bytes: [0xff, 0xfe], encoding: 'utf-16le' },
];

/**
 * With no byte-order mark, the first characters of an XML document (`<?` in UTF-16, `<` in UTF-32) tell how wide its
 * characters are (XML 1.0, appendix F): a UTF-16 or UTF-32 feed without a BOM is still read.
 */
const SNIFFED: { bytes: number[]; encoding: string }[] = [
  { bytes: [0x00, 0x00, 0x00, 0x3c], encoding: 'utf-32be' },
  { bytes: [0x3c, 0x00, 0x00, 0x00], encoding: 'utf-32le' },
  { bytes: [0x00, 0x3c, 0x00, 0x3f], encoding: 'utf-16be' },
  { bytes: [0x3c, 0x00, 0x3f, 0x00], encoding: 'utf-16le' },
];

const startsWith = (bytes: Uint8Array, prefix: number[]) => prefix.every((b, i) => bytes[i] === b);

/**
 * The text of a feed's bytes, read the way Python's feedparser reads them. In order of trust:
 * 1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE), or the width of `<?xml` when there is none;
 * 2. the charset of the HTTP Content-Type;
 * 3. the encoding of the XML declaration;
 * 4. UTF-8;
 * 5. Windows-1252, which reads any byte: a feed whose bytes are not what it declares (or that declares nothing and
 *    is not UTF-8) is most often Windows-1252 or Latin-1, and mojibake-free text beats U+FFFD everywhere.
 * The UTFs are tried strictly (a byte sequence invalid in one moves on to the next candidate); a legacy encoding
 * reads every byte as something, so a declared one is final; an unknown label is skipped.
 */
export function decodeFeedBytes(bytes: Uint8Array, contentType?: string | null): DecodedFeed {
  const bom = BOMS.find((b) => startsWith(bytes, b.bytes));
  const body = bom ? bytes.subarray(bom.bytes.length) : bytes;
  const sniffed = bom ? undefined : SNIFFED.find((s) => startsWith(bytes, s.bytes))?.encoding;
  const candidates = [
    bom?.encoding,
    sniffed,
    charsetOf(contentType),
    // The declaration is ASCII in every encoding an ASCII-compatible document can be in: read it as Latin-1.
    // A UTF-16/32 document's declaration only repeats what the BOM or the sniffing already said.
    /^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(
      Buffer.from(body.subarray(0, 512)).toString('latin1'),
    )?.[1],
    'utf-8',
  ];
  for (const label of candidates) {
    if (!label) continue;
    const text = tryDecode(body, label);
    if (text !== undefined) return { text: text.replace(/^\uFEFF/, ''), encoding: label.toLowerCase() };
  }
  return { text: tryDecode(body, 'windows-1252')!, encoding: 'windows-1252' };
}

/** The `charset` parameter of a Content-Type, unquoted; undefined when there is none. */
function charsetOf(contentType: string | null | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];
}

/**
 * Labels that mean Windows-1252 in the WHATWG Encoding Standard (what browsers do): servers that say Latin-1 or ASCII
 * very often send Windows-1252's curly quotes, dashes and euro sign, and Windows-1252 reads Latin-1 text the same.
 */
const WINDOWS_1252 = new Set([
  'iso-8859-1',
  'iso8859-1',
  'latin1',
  'l1',
  'us-ascii',
  'ascii',
  'cp1252',
  'windows-1252',
]);

/** The bytes in that encoding, or undefined when the label is unknown or the bytes are not valid in it. */
function tryDecode(bytes: Uint8Array, label: string): string | undefined {
  const name = label.toLowerCase().replace(/_/g, '-');
  if (/^(ucs-4|utf-?32)(-?(le|be))?$/.test(name)) {
    // UTF-32 is not in the Encoding Standard, so TextDecoder cannot read it. Unmarked, it is big-endian.
    if (bytes.length % 4 !== 0) return undefined;
    const text = iconv.decode(Buffer.from(bytes), name.endsWith('le') ? 'utf32le' : 'utf32be', { stripBOM: false });
    return text.includes('\uFFFD') ? undefined : text;
  }
  if (/^(utf-?8|unicode-1-1-utf-8|utf-?16(-?(le|be))?)$/.test(name)) {
    // Strict: bytes that are not valid in a declared UTF move on to the next candidate instead of becoming U+FFFD.
    try {
      return new TextDecoder(name, { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      return undefined;
    }
  }
  // The other (legacy) encodings through iconv-lite: Node 20's TextDecoder reads windows-1252 as Latin-1, turning
  // 0x80-0x9F (curly quotes, dashes, the euro sign) into invisible C1 controls.
  const legacy = WINDOWS_1252.has(name) ? 'windows-1252' : name;
  return iconv.encodingExists(legacy) ? iconv.decode(Buffer.from(bytes), legacy, { stripBOM: false }) : undefined;
}
