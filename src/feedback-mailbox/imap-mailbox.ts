import { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import type { FeedbackMailbox, MailboxMessage, MailboxScan, MessageVerdict } from '../domain/ports/feedback-mailbox';

/**
 * The keyword a processed message carries (an IMAP keyword is an atom; the `$` prefix is the convention for an
 * application's own). Searching for messages without it is what makes processing survive restarts: the mark lives
 * with the message, not in this process.
 */
export const PROCESSED_KEYWORD = '$NewsletterProcessed';

/** Options of `ImapFeedbackMailbox`. */
export interface ImapFeedbackMailboxOptions {
  host: string;
  port: number;
  /** TLS from the first byte (imaps). Otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user: string;
  password: string;
  /** The mailbox to read, e.g. INBOX. */
  mailbox: string;
  /** Move processed mail to this mailbox (created when missing). Default: flag it \Seen and PROCESSED_KEYWORD. */
  processedMailbox?: string;
  log: Logger;
  /**
   * Larger messages are left alone without being fetched: a report about one of our newsletters is the newsletter
   * (tens of kilobytes) plus a page of text. Default 2 MiB.
   */
  maxMessageBytes?: number;
}

/** Header blocks fetched per FETCH command. */
const HEADER_BATCH = 200;

/**
 * FeedbackMailbox over IMAP (imapflow). Each scan is one session: connect, select the mailbox, search for what is
 * not yet processed, fetch the header blocks, hand the messages over one by one (fetching a whole message only
 * when asked), and mark each processed one before the next: flagged \Seen and PROCESSED_KEYWORD, or moved.
 */
export class ImapFeedbackMailbox implements FeedbackMailbox {
  private readonly maxMessageBytes: number;

  constructor(private readonly opts: ImapFeedbackMailboxOptions) {
    this.maxMessageBytes = opts.maxMessageBytes ?? 2 * 1024 * 1024;
  }

  async scan(handle: (message: MailboxMessage) => Promise<MessageVerdict>): Promise<MailboxScan> {
    const { host, port, secure, user, password, log } = this.opts;
    const client = new ImapFlow({
      host,
      port,
      secure,
      auth: { user, pass: password },
      // imapflow logs every command at debug and info; only its warnings and errors are worth a line here (and none
      // when the service's own level is above warn).
      logger: log.child({ component: 'imap' }, { level: log.levelVal > log.levels.values.warn ? log.level : 'warn' }),
      disableAutoIdle: true,
      connectionTimeout: 30_000,
      socketTimeout: 120_000,
    });
    // A connection that drops is reported as an 'error' event as well as by the command in flight; without a
    // listener the event would end the process.
    client.on('error', (err: Error) =>
      log.warn({ event: 'feedback_mailbox.connection_error', err: err.message }, 'feedback mailbox connection error'),
    );
    try {
      await client.connect();
      const scan = await this.scanMailbox(client, handle);
      await client.logout();
      return scan;
    } catch (err) {
      // Also after a failed connect or login: imapflow may still hold the socket and its timers.
      client.close();
      throw describeFailure(err, `${host}:${port}`, user);
    }
  }

  private async scanMailbox(
    client: ImapFlow,
    handle: (message: MailboxMessage) => Promise<MessageVerdict>,
  ): Promise<MailboxScan> {
    const { mailbox, processedMailbox, log } = this.opts;
    const lock = await client.getMailboxLock(mailbox);
    try {
      const selected = client.mailbox;
      if (!selected) throw new Error(`could not open the mailbox ${mailbox}`);
      if (processedMailbox) await client.mailboxCreate(processedMailbox);
      else if (!(selected.permanentFlags?.has('\\*') || selected.permanentFlags?.has(PROCESSED_KEYWORD)))
        throw new Error(
          `the mailbox ${mailbox} cannot keep the ${PROCESSED_KEYWORD} keyword; ` +
            'set FEEDBACK_PROCESSED_MAILBOX to move processed mail instead',
        );

      // With a processed folder everything still here is unprocessed; otherwise the keyword tells.
      const query = processedMailbox ? { deleted: false } : { deleted: false, unKeyword: PROCESSED_KEYWORD };
      const uids = ((await client.search(query, { uid: true })) || []).sort((a, b) => a - b);
      const scan: MailboxScan = { examined: 0, processed: 0, tooLarge: 0 };
      for (let i = 0; i < uids.length; i += HEADER_BATCH) {
        // imapflow cannot run a command while a FETCH streams, so each batch is read whole before any is handled.
        const batch = await client.fetchAll(
          uids.slice(i, i + HEADER_BATCH).join(','),
          { uid: true, size: true, headers: true },
          { uid: true },
        );
        for (const meta of batch) {
          const id = `${selected.uidValidity}:${meta.uid}`;
          if ((meta.size ?? 0) > this.maxMessageBytes) {
            // Counted in the poll's summary; one line per message would repeat on every poll.
            scan.tooLarge++;
            log.debug({ event: 'feedback_mailbox.too_large', message: id, bytes: meta.size }, 'mail too large to read');
            continue;
          }
          scan.examined++;
          const verdict = await handle({
            id,
            headers: meta.headers ?? Buffer.alloc(0),
            source: () => this.source(client, meta.uid),
          });
          if (verdict === 'processed') {
            await this.markProcessed(client, meta.uid);
            scan.processed++;
          }
        }
      }
      return scan;
    } finally {
      lock.release();
    }
  }

  private async source(client: ImapFlow, uid: number): Promise<Buffer> {
    const message = await client.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
    if (!message || !message.source) throw new Error(`message ${uid} of ${this.opts.mailbox} could not be fetched`);
    return message.source;
  }

  private async markProcessed(client: ImapFlow, uid: number): Promise<void> {
    const { processedMailbox } = this.opts;
    const range = String(uid);
    if (!processedMailbox) {
      if (!(await client.messageFlagsAdd(range, ['\\Seen', PROCESSED_KEYWORD], { uid: true })))
        throw new Error(`message ${uid} could not be flagged ${PROCESSED_KEYWORD}`);
      return;
    }
    // Read before it goes, so the processed folder holds no unread mail that nobody needs to read.
    await client.messageFlagsAdd(range, ['\\Seen'], { uid: true });
    if (!(await client.messageMove(range, processedMailbox, { uid: true })))
      throw new Error(`message ${uid} could not be moved to ${processedMailbox}`);
  }
}

/**
 * imapflow reports a refused command as "Command failed" and keeps the server's words in `responseText`: the log
 * line an operator reads should say which server refused what, and why.
 */
function describeFailure(err: unknown, server: string, user: string): Error {
  const e = err as Error & { responseText?: string; authenticationFailed?: boolean; code?: string };
  if (!(e instanceof Error) || !e.responseText) return e;
  const what = e.authenticationFailed ? `refused the login of ${user}` : 'refused a command';
  const described = new Error(`the IMAP server ${server} ${what}: ${e.responseText}`, { cause: e });
  return Object.assign(described, { code: e.authenticationFailed ? 'imap_auth_failed' : 'imap_command_failed' });
}
