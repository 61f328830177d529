import type { InboundFeedback } from '../feedback';

/** One message of the feedback mailbox that has not been processed yet. */
export interface MailboxMessage {
  /** The mailbox's name for it, for logs (for IMAP `<UIDVALIDITY>:<UID>`). */
  id: string;
  /** Its header block, enough to tell whether it can be feedback at all without fetching the rest. */
  headers: Buffer;
  /** The whole message, fetched when asked for. */
  source(): Promise<Buffer>;
}

/**
 * What became of a message: `processed` ones are marked (flagged or moved) so no later read takes them again;
 * `left` ones stay exactly as they were, unread, for a person.
 */
export type MessageVerdict = 'processed' | 'left';

/** What one read of the mailbox saw. */
export interface MailboxScan {
  /** Unprocessed messages handed to the handler. */
  examined: number;
  /** Of those, marked processed. */
  processed: number;
  /** Too large to be a report about our mail, so not fetched (and left alone). */
  tooLarge: number;
}

/** The mailbox that bounce notices, abuse reports and mailed unsubscribes arrive in. */
export interface FeedbackMailbox {
  /**
   * Hands each unprocessed message to `handle`, oldest first, and marks each one it calls processed right away, so a
   * read cut short redoes at most the message in hand. A rejection from `handle` ends the read and rejects.
   */
  scan(handle: (message: MailboxMessage) => Promise<MessageVerdict>): Promise<MailboxScan>;
}

/** What a message in the feedback mailbox says, as the reader understood it. */
export type FeedbackMail =
  /**
   * A report about mail we sent (a delivery status notification, an abuse report, a plain-text bounce). `reports`
   * holds what is to be acted on: it may be empty when the report was only a delay warning or named nobody.
   */
  | { kind: 'report'; format: 'dsn' | 'arf' | 'bounce'; reports: InboundFeedback[]; ignored: number }
  /** A List-Unsubscribe mailto request carrying this (not yet verified) unsubscribe token. */
  | { kind: 'unsubscribe'; token: string }
  /** Anything else: a reader's reply, an auto-reply, a bounce we cannot read. */
  | { kind: 'other'; why: string };

/** Reads messages of the feedback mailbox (the MIME parsing lives in an adapter). */
export interface FeedbackMailReader {
  /** A cheap first look at the headers: false means it is certainly not feedback and need not be fetched. */
  mightBeFeedback(headers: Buffer): boolean;
  /** What the whole message says. Rejects only on a message that cannot be parsed as MIME at all. */
  read(raw: Buffer): Promise<FeedbackMail>;
}
