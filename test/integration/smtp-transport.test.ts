/**
 * The SMTP transport hands Nodemailer's pool a `PooledMessage` instead of a MimeNode, and our patch of Nodemailer's
 * SMTP connection writes a message held in memory, in parts, to the socket itself (`_writeChunks`): what reaches the
 * server must be what Nodemailer's own `sendMail({ raw })` delivers through its piped DataStream, byte for byte and
 * envelope for envelope, with DKIM and without, whatever the message's line ends, dots, last byte and cut into parts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import nodemailer, { type Transporter } from 'nodemailer';
import { createMailTransport, type MailTransport } from '../../src/mail/mail-transport';
import { PooledMessage } from '../../src/mail/pooled-message';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dkim = {
  domainName: 'gazette.test',
  keySelector: 'news2026',
  privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};
// The headers our transport signs (mail-transport.ts); Nodemailer's sendMail must be told them too.
const DKIM_HEADERS =
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:' +
  'List-Id:List-Unsubscribe:List-Unsubscribe-Post:Feedback-ID';

let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(() => sink.close());

/** Sends `raw` through `send`, returns what the sink received for it. */
async function received(send: () => Promise<unknown>) {
  const before = sink.messages.length;
  await send();
  await sink.waitForCount(before + 1);
  const m = sink.messages[before];
  return { from: m.from, to: m.to, raw: m.raw.toString('latin1') };
}

/** Cuts `bytes` into parts at the given sizes, cycling through them (a 0 makes an empty part). */
function cut(bytes: Buffer, sizes: number[]): Buffer[] {
  const parts: Buffer[] = [];
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    parts.push(bytes.subarray(pos, pos + size));
    pos += size;
  }
  return parts;
}
const sizes = fc
  .array(fc.oneof(fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 200 })), { minLength: 1, maxLength: 12 })
  .filter((a) => a.some((n) => n > 0));

/** A message: headers, then body lines whose ends and first bytes are the ones the SMTP data rules look at. */
const message = fc
  .tuple(
    fc.array(fc.oneof(fc.constantFrom('.', '..', '.\r', 'a.b', '', ' '), fc.string({ maxLength: 40 })), {
      maxLength: 20,
    }),
    fc.array(fc.constantFrom('\r\n', '\n', '\r'), { minLength: 20, maxLength: 20 }),
    fc.constantFrom('', '\r\n', '\n', '\r', 'x'),
  )
  .map(([lines, ends, last]) => {
    const body = lines.map((l, i) => l + ends[i]).join('');
    const head = 'From: news@gazette.test\r\nTo: reader@example.test\r\nSubject: Today\r\nMessage-ID: <m@gazette.test>';
    return Buffer.from(`${head}\r\n\r\n${body}${last}`, 'latin1');
  });

describe.each([
  ['without DKIM', undefined],
  ['with DKIM', dkim],
])('the SMTP transport %s', (_name, key) => {
  let ours: MailTransport;
  let theirs: Transporter;
  beforeAll(() => {
    ours = createMailTransport({
      smtpUrl: sink.url,
      outboxDir: 'unused: the SMTP URL is set',
      maxConnections: 2,
      dkim: key,
    });
    theirs = nodemailer.createTransport({
      host: '127.0.0.1',
      port: sink.port,
      secure: false,
      ignoreTLS: true,
      dkim: key ? { ...key, headerFieldNames: DKIM_HEADERS } : undefined,
    });
  });
  afterAll(async () => {
    await ours.close();
    theirs.close();
  });

  it("delivers what Nodemailer's sendMail delivers for the same raw message", async () => {
    await fc.assert(
      fc.asyncProperty(message, fc.option(sizes), async (raw, partSizes) => {
        const envelope = { from: 'bounces+t1@gazette.test', to: 'reader@example.test' };
        const parts = partSizes ? cut(raw, partSizes) : raw;
        const a = await received(() =>
          ours.send({ envelope, raw: parts, messageId: 'm@gazette.test', kind: 'newsletter' }),
        );
        const b = await received(() => theirs.sendMail({ envelope, raw }));
        expect(a).toEqual(b);
      }),
      { numRuns: key ? 15 : 40 },
    );
  });
});

describe('PooledMessage', () => {
  const raw = Buffer.from('Subject: x\r\n\r\nbody');

  it('gives each read a fresh envelope: the connection writes its own fields into the one it gets', () => {
    const m = new PooledMessage({ from: 'a@gazette.test', to: 'b@example.test' }, 'id@gazette.test', raw);
    const first = m.getEnvelope() as { from: string; to: string[]; rcptQueue?: string[] };
    first.rcptQueue = first.to.splice(0);
    expect(m.getEnvelope()).toEqual({ from: 'a@gazette.test', to: ['b@example.test'] });
    expect(m.messageId()).toBe('<id@gazette.test>');
    expect(m.getHeader('Message-ID')).toBe('<id@gazette.test>');
    expect(m.getHeader('Subject')).toBeUndefined();
  });

  it('hands the connection its parts as they are, ending in a line end, and says it was read once they are taken', () => {
    const parts = [Buffer.from('Subject: x\r\n'), Buffer.from('\r\nbody\r'), Buffer.alloc(0)];
    const m = new PooledMessage({ from: 'a@gazette.test', to: 'b@example.test' }, 'id@gazette.test', parts);
    const source = m.createReadStream() as { readChunks(): readonly Buffer[]; readableDidRead: boolean };
    expect(source.readableDidRead).toBe(false);
    const chunks = source.readChunks();
    expect(source.readableDidRead).toBe(true);
    expect(chunks.slice(0, 3)).toEqual(parts);
    expect(chunks[0]).toBe(parts[0]); // not copied
    expect(Buffer.concat(chunks).toString()).toBe('Subject: x\r\n\r\nbody\r\n');
  });

  it('piped (an unpatched connection), says it was read only once the connection took its bytes, so a lost message may be requeued until then', async () => {
    const m = new PooledMessage({ from: 'a@gazette.test', to: 'b@example.test' }, 'id@gazette.test', raw);
    const source = m.createReadStream() as PassThrough;
    expect(source.readableDidRead).toBe(false);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    source.pipe(out);
    expect(source.readableDidRead).toBe(true);
    await new Promise((ok) => out.on('end', ok));
    expect(Buffer.concat(chunks).toString()).toBe('Subject: x\r\n\r\nbody\r\n');
    // a requeued message is read again from a fresh source
    expect(m.createReadStream().readableDidRead).toBe(false);
  });
});
