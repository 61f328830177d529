import type { Logger } from 'pino';
import { PermanentDeliveryError } from './errors';
import type { Links } from './links';
import type { Newsletter } from './newsletter';
import type { Newsletters } from './newsletters';
import { newsletterNames } from './preferences';
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
 * Sends the confirmation and welcome mails the signup flow queues, many at a time. Every failed send goes to the
 * suppression policy; those that may still go out are answered for a retry.
 */
export class TransactionalMail {
  constructor(
    private readonly deps: {
      subscribers: SubscriberRepository;
      mailer: MailSender;
      links: Links;
      /** Names the newsletters a mail is about. */
      newsletters: Pick<Newsletters, 'list' | 'defaultSlug'>;
      policy: SuppressionPolicy;
      metrics: Metrics;
      log: Logger;
    },
  ) {}

  /**
   * Sends one mail of `kind` to each person, all at once: one failing does not hold the others back. Answers the
   * people whose send failed and may be retried, with the first such error (nothing when none is left): a retry sends
   * only theirs, so nobody whose mail went out gets it twice. `finalAttempt`: no retry follows, so a 4xx now is a soft
   * bounce rather than a deferral.
   */
  async sendEach(
    kind: TransactionalKind,
    subscriberIds: number[],
    finalAttempt: boolean,
  ): Promise<{ retry: number[]; error: unknown } | undefined> {
    const [subs, newsletters] = await Promise.all([
      this.deps.subscribers.getMany(subscriberIds),
      this.deps.newsletters.list(),
    ]);
    const outcomes = await Promise.allSettled(
      subscriberIds.map((id, i) => this.send(kind, id, subs[i], newsletters, finalAttempt)),
    );
    const retry: number[] = [];
    let error: unknown;
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled' || outcome.reason instanceof PermanentDeliveryError) return;
      retry.push(subscriberIds[i]);
      error ??= outcome.reason;
    });
    return retry.length ? { retry, error } : undefined;
  }

  /** A person who left or was erased since the mail was queued gets nothing. A refusal for good is settled here. */
  private async send(
    kind: TransactionalKind,
    subscriberId: number,
    sub: Subscriber | null,
    newsletters: Newsletter[],
    finalAttempt: boolean,
  ): Promise<'sent' | 'skipped'> {
    const { mailer, links, metrics, log } = this.deps;
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
        // Neither mail is one newsletter's: the welcome's unsubscribe link leaves everything.
        unsubscribe: links.unsubscribe(sub.id),
        // The confirmation goes to someone who may not receive anything yet: a preference page would have nothing
        // to show them, so it links none.
        preferencesUrl: kind === 'welcome' ? links.preferences(sub.id) : undefined,
        newsletters: this.namesFor(kind, sub, newsletters),
        confirmUrl: kind === 'confirm' ? links.confirm(sub.id) : undefined,
        returnToken: links.returnToken(sub.id),
      }));
    } catch (err) {
      const permanent = err instanceof PermanentDeliveryError;
      metrics.mailFailed(kind, permanent);
      log.warn(
        { event: 'mail.failed', kind, subscriberId, permanent, finalAttempt, err: (err as Error).message },
        'transactional mail failed',
      );
      await this.deps.policy.sendFailed(sub, err, { willRetry: !finalAttempt });
      throw err;
    }
    metrics.mailSent(kind);
    log.info({ event: 'mail.sent', kind, subscriberId, messageId }, 'transactional mail sent');
    return 'sent';
  }

  /**
   * What the mail names: a confirmation, the newsletters waiting for it (the default one for a signup from before
   * newsletters, as confirming would give); a welcome, the newsletters the reader now receives.
   */
  private namesFor(kind: TransactionalKind, sub: Subscriber, newsletters: Newsletter[]): string {
    let slugs = kind === 'confirm' ? sub.requestedNewsletters : sub.newsletters;
    if (!slugs.length) slugs = [this.deps.newsletters.defaultSlug];
    return andList(newsletterNames(slugs, newsletters));
  }
}

/** "A", "A and B", "A, B and C". */
export function andList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
