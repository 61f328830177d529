import type { SentMail } from '../src/domain/ports/mail-sender';
import type { MailTransport, RawMessage } from '../src/mail/mail-transport';

/**
 * A mail transport that accepts each message at once, as an SMTP server would, without a connection: what the
 * scale section delivers through, so it measures fan-out, BullMQ, the ledger and MIME building rather than a wire
 * (the delivery section measures the wire).
 */
export class AcceptingTransport implements MailTransport {
  readonly describe = 'accepts each message at once (scale bench)';
  /** Messages accepted by this process. */
  accepted = 0;

  send(message: RawMessage): Promise<SentMail> {
    this.accepted++;
    return Promise.resolve({ messageId: message.messageId, response: '250 accepted (scale bench)' });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
