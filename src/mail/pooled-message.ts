import type { Readable } from 'node:stream';

/**
 * What the SMTP connection reads a message from. Our patch of Nodemailer's connection (patches/nodemailer+*.patch)
 * takes the chunks from `readChunks` and writes them, escaped, with the end of the data in one socket write; an
 * unpatched connection pipes the source into its DataStream instead. Either way `readableDidRead` turns true.
 */
interface MessageSource {
  /** False until the connection started reading: the pool puts a message back only when not a byte of it went. */
  readonly readableDidRead: boolean;
  readChunks(): readonly Buffer[];
  pipe(destination: NodeJS.WritableStream): NodeJS.WritableStream;
}

/**
 * A message already built to MIME, in the shape Nodemailer's SMTP pool reads `mail.message`: SMTPPool takes its
 * `getHeader('message-id')` for its log; PoolResource its `getEnvelope()`, `messageId()` and `createReadStream()`,
 * whose `readableDidRead` decides whether a message a reused connection lost may go out over another; SMTPConnection
 * reads that (see MessageSource), or reads it as a stream when it has `on`. Nothing else of a MimeNode is touched.
 *
 * Not a MimeNode: for a raw message MimeNode streams the one Buffer through a PassThrough, a last-newline Transform
 * and a `pipeline` (an AbortController and its DOMException per message), and parses the envelope addresses again;
 * about a quarter of a delivery worker's CPU in a profile (bench delivery section). Our addresses are normalised
 * already (ASCII, dot-atom local parts: `normaliseEmail`), so the envelope is taken as it is.
 */
export class PooledMessage {
  private readonly parts: readonly Buffer[];

  /**
   * @param raw the MIME message, whole or in parts; it is sent ending in a line end, as MimeNode's last-newline step
   *   makes it
   * @param sign DKIM: the signed message as a stream, made from the parts that would otherwise be sent
   */
  constructor(
    private readonly envelope: { from: string; to: string },
    private readonly id: string,
    raw: Buffer | readonly Buffer[],
    private readonly sign?: (parts: readonly Buffer[]) => Readable,
  ) {
    this.parts = withLastNewline(Buffer.isBuffer(raw) ? [raw] : raw);
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
    if (this.sign) return this.sign(this.parts);
    return new PartsSource(this.parts);
  }
}

/** The message's parts as they are: a stream would add a buffer, a tick and its events for bytes all here already. */
class PartsSource implements MessageSource {
  readableDidRead = false;

  constructor(private readonly parts: readonly Buffer[]) {}

  readChunks(): readonly Buffer[] {
    this.readableDidRead = true;
    return this.parts;
  }

  /** An unpatched connection's way in: one write, as its DataStream would push each part as a socket write. */
  pipe(destination: NodeJS.WritableStream): NodeJS.WritableStream {
    destination.end(Buffer.concat(this.readChunks()));
    return destination;
  }
}

/** Nodemailer's LastNewline: a message not ending in LF gets the rest of a CRLF (as one more part, not a copy). */
export function withLastNewline(parts: readonly Buffer[]): readonly Buffer[] {
  let last = -1;
  for (let i = parts.length - 1; i >= 0 && last === -1; i--) if (parts[i].length) last = parts[i][parts[i].length - 1];
  if (last === 0x0a) return parts;
  return [...parts, last === 0x0d ? LF : CRLF];
}

const LF = Buffer.from('\n');
const CRLF = Buffer.from('\r\n');
