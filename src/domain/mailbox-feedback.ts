import type { Logger } from 'pino';
import type { FeedbackReceiver } from './feedback';
import type {
  FeedbackMail,
  FeedbackMailbox,
  FeedbackMailReader,
  MailboxMessage,
  MailboxScan,
  MessageVerdict,
} from './ports/feedback-mailbox';
import { InvalidTokenError } from './signed-token';
import type { Subscriptions } from './subscriptions';

/** What one poll of the feedback mailbox did. */
export interface MailboxPollSummary extends MailboxScan {
  /** Examined and left as they were, for a person: not feedback, or a mailed unsubscribe whose token is not ours. */
  left: number;
  /**
   * What the reports and unsubscribes came to, by outcome: the feedback receiver's (applied, unchanged, duplicate,
   * unknown_recipient), a mailed unsubscribe's (unsubscribed, left_newsletter for a token from one newsletter's mail,
   * unchanged, unknown_recipient), and `ignored` for report
   * parts that ask nothing of us (delays, successful deliveries, feedback other than abuse).
   */
  outcomes: Record<string, number>;
}

/**
 * Reads the feedback mailbox: bounce notices and abuse reports go to the feedback receiver, mailed unsubscribes
 * unsubscribe, and each is then marked processed so no later poll takes it again. Anything else (a reader's reply,
 * an auto-reply, a bounce that names nobody) is left exactly as it was, unread, for a person to see.
 *
 * A message is marked only after everything it reported was handled, so a poll that fails half-way (the store
 * unreachable) leaves the message for the next poll; the receiver's de-duplication by report id makes that repeat
 * harmless.
 */
export class MailboxFeedback {
  constructor(
    private readonly deps: {
      mailbox: FeedbackMailbox;
      reader: FeedbackMailReader;
      feedback: FeedbackReceiver;
      subscriptions: Subscriptions;
      log: Logger;
    },
  ) {}

  async poll(): Promise<MailboxPollSummary> {
    const outcomes: Record<string, number> = {};
    const count = (outcome: string, n = 1) => void (outcomes[outcome] = (outcomes[outcome] ?? 0) + n);
    const scan = await this.deps.mailbox.scan((message) => this.handle(message, count));
    const summary = { ...scan, left: scan.examined - scan.processed, outcomes };
    this.deps.log.info({ event: 'feedback_mailbox.polled', ...summary }, 'feedback mailbox read');
    return summary;
  }

  private async handle(message: MailboxMessage, count: (outcome: string, n?: number) => void): Promise<MessageVerdict> {
    const { reader, feedback, subscriptions, log } = this.deps;
    if (!reader.mightBeFeedback(message.headers)) return 'left';
    const mail = await this.read(message);
    switch (mail.kind) {
      case 'report':
        for (const report of mail.reports) count(await feedback.receive(report));
        if (mail.ignored) count('ignored', mail.ignored);
        log.info(
          {
            event: 'feedback_mailbox.report',
            message: message.id,
            format: mail.format,
            reports: mail.reports.length,
            ignored: mail.ignored,
          },
          'feedback report read',
        );
        return 'processed';
      case 'unsubscribe':
        try {
          count(await subscriptions.unsubscribeByMail(mail.token));
          return 'processed';
        } catch (err) {
          if (!(err instanceof InvalidTokenError)) throw err;
          // Someone wrote "unsubscribe" by hand, or mangled the token: a person can still act on it.
          log.info(
            { event: 'feedback_mailbox.left', message: message.id, why: 'unsubscribe token not ours' },
            'mail left for a person',
          );
          return 'left';
        }
      case 'other':
        log.debug({ event: 'feedback_mailbox.left', message: message.id, why: mail.why }, 'mail left for a person');
        return 'left';
    }
  }

  private async read(message: MailboxMessage): Promise<FeedbackMail> {
    // Fetching is outside the try: a mailbox that fails to answer ends the poll, to be retried, instead of leaving
    // a report unread as if it were nobody's.
    const raw = await message.source();
    try {
      return await this.deps.reader.read(raw);
    } catch (err) {
      this.deps.log.warn(
        { event: 'feedback_mailbox.unreadable', message: message.id, err: (err as Error).message },
        'mail could not be parsed; left for a person',
      );
      return { kind: 'other', why: 'not readable as MIME' };
    }
  }
}
