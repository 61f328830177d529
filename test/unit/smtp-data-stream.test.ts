/**
 * Nodemailer's SMTP DataStream, as patched by patches/nodemailer+*.patch (it finds line ends with Buffer#indexOf
 * instead of looking at every byte in JavaScript): its output must stay byte-identical to the SMTP rules, whatever
 * the bytes and however they are cut into chunks. The rules are written here a second time, as a simple per-byte
 * state machine of our own, and the patched stream is checked against it on random input. So are `escape` and
 * `terminator`, what the patched SMTP connection writes a message held in memory with (`_writeChunks`, tested on the
 * wire in test/integration/smtp-transport.test.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Transform } from 'node:stream';
import fc from 'fast-check';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

// Not in nodemailer's package exports: loaded by file, the same file its SMTP connection requires.
const cjsDir = join(dirname(require.resolve('nodemailer')), 'smtp-connection');
const cjsFile = join(cjsDir, 'data-stream.js');
const esmFile = join(cjsDir, '..', '..', 'esm', 'smtp-connection', 'data-stream.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const DataStream = require(cjsFile) as new (opts?: { decodeStrings?: boolean }) => Transform & {
  inByteCount: number;
  outByteCount: number;
  escape(chunk: Buffer | string): Buffer[];
  terminator(): Buffer;
};

/**
 * The reference: what an SMTP client must put on the wire for `input` inside DATA. Every line end becomes CRLF (a
 * bare CR or a bare LF too: a receiver that took a lone CR as a line end could otherwise be fed "\r.\r" as the end
 * of the data, SMTP smuggling), a dot at the start of a line is doubled, and the data ends with "<CRLF>.<CRLF>".
 */
function reference(input: Uint8Array): Buffer {
  const out: number[] = [];
  // 'empty': nothing seen yet; 'lineStart': after a line end; 'inLine'; 'cr': a CR seen, its line end not yet written
  let state: 'empty' | 'lineStart' | 'inLine' | 'cr' = 'empty';
  for (const byte of input) {
    if (state === 'cr') {
      out.push(CR, LF);
      state = 'lineStart';
      if (byte === LF) continue; // the CR's own LF
    }
    if (byte === CR) {
      state = 'cr';
    } else if (byte === LF) {
      out.push(CR, LF);
      state = 'lineStart';
    } else {
      if (byte === DOT && state !== 'inLine') out.push(DOT);
      out.push(byte);
      state = 'inLine';
    }
  }
  if (state === 'cr') out.push(CR, LF);
  else if (state !== 'lineStart') out.push(CR, LF);
  out.push(DOT, CR, LF);
  return Buffer.from(out);
}

interface Fed {
  output: Buffer;
  inByteCount: number;
  outByteCount: number;
}

/** Writes `chunks` into a fresh DataStream and collects what it emits. */
function feed(chunks: (Buffer | string)[], opts?: { decodeStrings?: boolean }): Promise<Fed> {
  const stream = new DataStream(opts);
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (b: Buffer) => parts.push(Buffer.from(b)));
    stream.on('error', reject);
    stream.on('end', () =>
      resolve({ output: Buffer.concat(parts), inByteCount: stream.inByteCount, outByteCount: stream.outByteCount }),
    );
    for (const c of chunks) stream.write(c);
    stream.end();
  });
}

/** Cuts `bytes` at the given sizes (not all 0), cycling through them; a size 0 makes an empty chunk. */
function cut(bytes: Uint8Array, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let pos = 0;
  for (let i = 0; pos < bytes.length; i++) {
    const size = sizes.length ? sizes[i % sizes.length] : bytes.length;
    chunks.push(Buffer.from(bytes.subarray(pos, pos + size)));
    pos += size;
  }
  return chunks;
}

/** Bytes with many CR, LF and dots, which are all the rules look at, and some others. */
const bytes = fc
  .array(fc.oneof(fc.constantFrom(CR, LF, DOT), fc.constantFrom(CR, LF, DOT, 0x61), fc.integer({ min: 0, max: 255 })), {
    maxLength: 300,
  })
  .map((a) => Uint8Array.from(a));
/** Chunk sizes: often one byte, sometimes none (an empty chunk), sometimes long; not all none. */
const sizes = fc
  .array(fc.oneof(fc.constantFrom(0, 1, 1, 2), fc.integer({ min: 0, max: 64 })), { minLength: 1, maxLength: 20 })
  .filter((s) => s.some((n) => n > 0));

describe("nodemailer's SMTP DataStream (patched)", () => {
  it('is the patched file: it searches with indexOf, in the cjs and esm builds alike', () => {
    // A fresh install that did not apply patches/ would quietly run the per-byte loop again: fail loudly instead.
    const escape = DataStream.prototype.escape.toString();
    expect(escape).toContain('indexOf(0x0a');
    expect(escape).toContain('indexOf(0x0d');
    expect(DataStream.prototype._transform.toString()).toContain('this.escape(chunk)');
    const classOf = (file: string) => {
      const src = readFileSync(file, 'utf8');
      return src.slice(src.indexOf('    constructor('), src.lastIndexOf('\n}\n'));
    };
    expect(classOf(esmFile)).toBe(classOf(cjsFile));
  });

  it('is the patched SMTP connection: it writes a message held in memory itself, in the cjs and esm builds alike', () => {
    const methodOf = (dir: string, name: string) => {
      const src = readFileSync(join(dir, 'index.js'), 'utf8');
      const start = src.indexOf(`    ${name}(`);
      return src.slice(start, src.indexOf('\n    }\n', start));
    };
    const esmDir = join(cjsDir, '..', '..', 'esm', 'smtp-connection');
    const write = methodOf(cjsDir, '_writeChunks');
    expect(write).toContain('dataStream.escape(chunk)');
    expect(write).toContain('socket.cork()');
    expect(methodOf(esmDir, '_writeChunks')).toBe(write);
  });

  it('escape and terminator, over random chunks, give the reference bytes, counted as the stream counts them', () => {
    fc.assert(
      fc.property(bytes, sizes, (input, chunkSizes) => {
        const expected = reference(input);
        const d = new DataStream();
        const chunks = cut(input, chunkSizes);
        const pieces = chunks.flatMap((c) => d.escape(c));
        const wire = Buffer.concat([...pieces, d.terminator()]);
        expect(wire.toString('latin1')).toBe(expected.toString('latin1'));
        expect(d.inByteCount).toBe(input.length);
        expect(d.outByteCount).toBe(expected.length);
        // a chunk that needs no change is handed back as it is, not copied
        for (const c of chunks) {
          const e = new DataStream();
          const out = e.escape(c);
          if (out.length === 1 && out[0].equals(c)) expect(out[0]).toBe(c);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('matches the reference for random bytes cut into random chunks, and the same bytes in one chunk', async () => {
    await fc.assert(
      fc.asyncProperty(bytes, sizes, async (input, chunkSizes) => {
        const expected = reference(input);
        const chunked = await feed(cut(input, chunkSizes));
        const whole = await feed([Buffer.from(input)]);
        expect(chunked.output.toString('latin1')).toBe(expected.toString('latin1'));
        expect(whole.output.equals(chunked.output)).toBe(true);
        expect(chunked.inByteCount).toBe(input.length);
        expect(chunked.outByteCount).toBe(expected.length);
        expect(whole.outByteCount).toBe(expected.length);
      }),
      { numRuns: 500 },
    );
  });

  it('matches the reference when written strings, decoded by the stream or by itself', async () => {
    const text = fc.string({ unit: fc.constantFrom('\r', '\n', '.', 'a', 'é'), maxLength: 120 });
    await fc.assert(
      fc.asyncProperty(fc.array(text, { maxLength: 12 }), async (chunks) => {
        const input = Buffer.from(chunks.join(''));
        const expected = reference(input);
        for (const decodeStrings of [true, false]) {
          const fed = await feed(chunks, { decodeStrings });
          expect(fed.output.toString('latin1')).toBe(expected.toString('latin1'));
          expect(fed.inByteCount).toBe(input.length);
          expect(fed.outByteCount).toBe(expected.length);
        }
      }),
      { numRuns: 200 },
    );
  });

  // The cases a chunked implementation gets wrong first, as plain examples: [chunks, wire bytes]
  const cases: [string, string[], string][] = [
    ['a bare CR before a dot, then a bare CR (the smuggling sequence)', ['a\r.\rb'], 'a\r\n..\r\nb\r\n.\r\n'],
    ['"\\r.\\r" alone', ['\r.\r'], '\r\n..\r\n.\r\n'],
    ['".\\r\\n" at the start of a later chunk', ['line\r\n', '.\r\n'], 'line\r\n..\r\n.\r\n'],
    ['".\\r\\n" at the start of the message', ['.\r\n', 'x'], '..\r\nx\r\n.\r\n'],
    ['a CR ending one chunk and its LF starting the next', ['a\r', '\nb'], 'a\r\nb\r\n.\r\n'],
    ['a CR ending one chunk and a dot starting the next', ['a\r', '.b'], 'a\r\n..b\r\n.\r\n'],
    ['a CR ending one chunk and a CR starting the next', ['a\r', '\r'], 'a\r\n\r\n.\r\n'],
    ['"\\n." across a boundary', ['a\n', '.b'], 'a\r\n..b\r\n.\r\n'],
    ['"\\r\\n." across a boundary after the CR', ['a\r', '\n.b'], 'a\r\n..b\r\n.\r\n'],
    ['a bare LF starting a chunk', ['a', '\nb'], 'a\r\nb\r\n.\r\n'],
    ['a lone dot as the whole message', ['.'], '..\r\n.\r\n'],
    ['a lone dot line', ['.\r\n'], '..\r\n.\r\n'],
    ['an empty message', [], '\r\n.\r\n'],
    ['only empty chunks', ['', ''], '\r\n.\r\n'],
    ['a message ending in a bare CR', ['a\r'], 'a\r\n.\r\n'],
    ['a message ending in a bare LF', ['a\n'], 'a\r\n.\r\n'],
    ['dots inside a line stay single', ['a.b..c\r\n'], 'a.b..c\r\n.\r\n'],
  ];
  it.each(cases)('%s', async (_name, chunks, wire) => {
    const fed = await feed(chunks.map((c) => Buffer.from(c, 'latin1')));
    expect(fed.output.toString('latin1')).toBe(wire);
    expect(reference(Buffer.from(chunks.join(''), 'latin1')).toString('latin1')).toBe(wire);
    expect(fed.outByteCount).toBe(wire.length);
  });
});
