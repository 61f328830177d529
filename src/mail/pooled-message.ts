import type { Readable } from 'node:stream';

/** What the SMTP connection gets to read a message from: it pipes it into its data stream once DATA is accepted. */
interface MessageSource {
  /** False until the connection started reading: the pool puts a message back only when not a byte of it went. */
  readonly readableDidRead: boolean;
  pipe(destination: NodeJS.WritableStream): NodeJS.WritableStream;
}

/**
 * A message already built to MIME, in the shape Nodemailer's SMTP pool reads `mail.message`: SMTPPool takes its
 * `getHeader('message-id')` for its log; PoolResource its `getEnvelope()`, `messageId()` and `createReadStream()`,
 * whose `readableDidRead` decides whether a message a reused connection lost may go out over another; SMTPConnection
 * pipes that into its DataStream, or reads it as a stream when it has `on`. Nothing else of a MimeNode is touched.
 *
 * Not a MimeNode: for a raw message MimeNode streams the one Buffer through a PassThrough, a last-newline Transform
 * and a `pipeline` (an AbortController and its DOMException per message), and parses the envelope addresses again;
 * about a quarter of a delivery worker's CPU in a profile (bench delivery section). Our addresses are normalised
 * already (ASCII, dot-atom local parts: `normaliseEmail`), so the envelope is taken as it is.
 */
export class PooledMessage {
  private readonly data: Buffer;

  /**
   * @param raw the MIME message; it is sent ending in a line end, as MimeNode's last-newline step makes it
   * @param sign DKIM: the signed message as a stream, made from the bytes that would otherwise be sent
   */
  constructor(
    private readonly envelope: { from: string; to: string },
    private readonly id: string,
    raw: Buffer,
    private readonly sign?: (data: Buffer) => Readable,
  ) {
    this.data = withLastNewline(raw);
  }

  /** A fresh object each time: the connection keeps it and writes its own fields into it. */
  getEnvelope(): { from: string; to: string[] } {
    return { from: this.envelope.from, to: [this.envelope.to] };
  }

  messageId(): string {
    return `<${this.id}>`;
  }

  getHeader(key: string): string | undefined {
    return key.toLowerCase() === 'message-id' ? this.messageId() : undefined;
  }

  createReadStream(): Readable | MessageSource {
    if (this.sign) return this.sign(this.data);
    return new BufferSource(this.data);
  }
}

/**
 * The whole message handed to the connection's data stream in one write. A stream would add a buffer, a tick and
 * its events for bytes that are all here already.
 */
class BufferSource implements MessageSource {
  readableDidRead = false;

  constructor(private readonly data: Buffer) {}

  pipe(destination: NodeJS.WritableStream): NodeJS.WritableStream {
    this.readableDidRead = true;
    destination.end(this.data);
    return destination;
  }
}

/** Nodemailer's LastNewline: a message not ending in LF gets the rest of a CRLF. */
export function withLastNewline(raw: Buffer): Buffer {
  const last = raw.length ? raw[raw.length - 1] : -1;
  if (last === 0x0a) return raw;
  return Buffer.concat([raw, last === 0x0d ? LF : CRLF]);
}

const LF = Buffer.from('\n');
const CRLF = Buffer.from('\r\n');
