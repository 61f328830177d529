import type { Logger } from 'pino';
import { PermanentDeliveryError } from './errors';
import type { Links } from './links';
import type { TransactionalKind, MailSender } from './ports/mail-sender';
import type { Metrics } from './ports/metrics';
import type { SubscriberRepository } from './ports/subscriber-repository';
import type { Subscriber } from './subscriber';
import type { SuppressionPolicy } from './suppression-policy';

/**
 * Who each mail is for: a confirmation only to someone with a signup to confirm (pending, or a reader who asked for
 * more newsletters), a welcome only to someone active.
 */
const IS_FOR: Record<TransactionalKind, (sub: Subscriber) => boolean> = {
  confirm: (sub) => sub.status === 'pending' || (sub.status === 'active' && sub.requestedNewsletters.length > 0),
  welcome: (sub) => sub.status === 'active',
};

/**
 * Sends the confirmation and welcome mails the signup flow queues. A failed send rejects, so the job retries; a
 * refusal for good goes to the suppression policy first.
 */
export class TransactionalMail {
  constructor(
    private readonly deps: {
      subscribers: SubscriberRepository;
      mailer: MailSender;
      links: Links;
      policy: SuppressionPolicy;
      metrics: Metrics;
      log: Logger;
    },
  ) {}

  /**
   * A person who left or was erased since the mail was queued gets nothing. `finalAttempt`: no retry follows if this
   * send fails, so a 4xx now is a soft bounce rather than a deferral.
   */
  async send(kind: TransactionalKind, subscriberId: number, finalAttempt: boolean): Promise<'sent' | 'skipped'> {
    const { subscribers, mailer, links, metrics, log } = this.deps;
    const sub = await subscribers.get(subscriberId);
    if (!sub || !IS_FOR[kind](sub)) {
      log.info(
        { event: 'mail.skipped', kind, subscriberId, status: sub?.status ?? 'erased' },
        'subscriber no longer in the expected state',
      );
      return 'skipped';
    }
    let messageId: string;
    try {
      ({ messageId } = await mailer.sendTransactional(kind, {
        email: sub.email,
        name: sub.name || 'there',
        unsubscribe: links.unsubscribe(sub.id),
        confirmUrl: kind === 'confirm' ? links.confirm(sub.id) : undefined,
        returnToken: links.returnToken(sub.id),
      }));
    } catch (err) {
      metrics.mailFailed(kind, err instanceof PermanentDeliveryError);
      await this.deps.policy.sendFailed(sub, err, { willRetry: !finalAttempt });
      throw err;
    }
    metrics.mailSent(kind);
    log.info({ event: 'mail.sent', kind, subscriberId, messageId }, 'transactional mail sent');
    return 'sent';
  }
}
