/**
 * A reader for the header-like field blocks of delivery status notifications (RFC 3464, message/delivery-status)
 * and abuse reports (RFC 5965, message/feedback-report), and for plain header blocks. No maintained npm library
 * reads these parts (mailparser hands them over as undecoded text), and the syntax is small: `Name: value` lines
 * with folded continuations (RFC 5322 section 2.2), blocks separated by blank lines.
 *
 * Reports come from every kind of mail server, so the reader is lenient where servers are known to stray and never
 * throws: LF or CRLF line ends, whitespace-only lines taken as block separators, white space before the colon,
 * lines without a colon skipped.
 */

/** One block of fields: names lower-cased, each with its values in order (RFC 5965 repeats some fields). */
export type Fields = Map<string, string[]>;

/** Every block of fields in `text`, empty blocks dropped. */
export function readFieldBlocks(text: string): Fields[] {
  const blocks: Fields[] = [];
  let current: Fields = new Map();
  let last: { name: string; index: number } | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.trim() === '') {
      if (current.size) blocks.push(current);
      current = new Map();
      last = undefined;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      // A folded continuation of the field above; a stray one before any field is noise.
      if (last) {
        const values = current.get(last.name)!;
        values[last.index] = `${values[last.index]} ${line.trim()}`;
      }
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      last = undefined;
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const values = current.get(name) ?? [];
    values.push(value);
    current.set(name, values);
    last = { name, index: values.length - 1 };
  }
  if (current.size) blocks.push(current);
  return blocks;
}

/** The header block at the start of `text` (a message or text/rfc822-headers): the fields up to the first blank line. */
export function readHeaderBlock(text: string): Fields {
  // Some servers put an empty line between the part's own headers and the enclosed message: skip it.
  const body = text.replace(/^(?:[ \t]*\r?\n)+/, '');
  const end = /\r?\n[ \t]*\r?\n/.exec(body);
  return readFieldBlocks(end ? body.slice(0, end.index) : body)[0] ?? new Map();
}

/** The first value of a field, or undefined. */
export function first(fields: Fields, name: string): string | undefined {
  return fields.get(name)?.[0];
}

/**
 * An address-type field (`Final-Recipient: rfc822; reader@example.com`, RFC 3464 section 2.1.2): its type and the
 * address, angle brackets removed. A value without a type is taken as the address (seen from broken servers).
 */
export function typedAddress(value: string | undefined): { type: string; address: string } | undefined {
  if (!value) return undefined;
  const semi = value.indexOf(';');
  const type = semi < 0 ? 'rfc822' : value.slice(0, semi).trim().toLowerCase();
  const address = (semi < 0 ? value : value.slice(semi + 1))
    .trim()
    .replace(/^<(.*)>$/, '$1')
    .trim();
  return address ? { type, address } : undefined;
}

/** An enhanced status code (RFC 3463: `5.1.1`, maybe followed by a comment), or undefined. */
export function statusCode(value: string | undefined): { code: string; class: '2' | '4' | '5' } | undefined {
  const m = value ? /^\s*([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(value) : null;
  return m ? { code: `${m[1]}.${m[2]}.${m[3]}`, class: m[1] as '2' | '4' | '5' } : undefined;
}
