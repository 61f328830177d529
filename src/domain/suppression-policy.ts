import type { Logger } from 'pino';
import type { Clock } from './ports/clock';
import type { Metrics, UnsubscribeMethod } from './ports/metrics';
import { PermanentDeliveryError, TransientDeliveryError } from './errors';
import type { SubscriberChanges, SubscriberRepository } from './ports/subscriber-repository';
import {
  clipUserAgent,
  type ConsentEventType,
  type RequestContext,
  type Subscriber,
  type SubscriberStatus,
} from './subscriber';

/**
 * Who reported what happened to a mail: our own SMTP session, a provider's webhook, the generic webhook, or the
 * feedback mailbox (bounce notices, abuse reports, mailed unsubscribes).
 */
export type FeedbackSource = 'smtp' | 'ses' | 'postmark' | 'mailgun' | 'sendgrid' | 'generic' | 'mailbox';

/** What came back about a person's mail, whoever reports it: the SMTP session, the person, a provider. */
export type Feedback =
  /** The address does not take mail (an SMTP 5xx for the recipient, a provider's permanent bounce). */
  | { type: 'hard_bounce'; reason: string; campaignId?: number; source?: FeedbackSource }
  /** It did not take mail this time (an SMTP 4xx); the sender retries. */
  | { type: 'soft_bounce'; reason: string; campaignId?: number; source?: FeedbackSource }
  /** The person marked a mail as spam. */
  | { type: 'complaint'; reason?: string; campaignId?: number; source?: FeedbackSource }
  /** The person asked to leave: on our page (with its request), by mail, or through a provider. */
  | { type: 'unsubscribe'; method: UnsubscribeMethod; from?: RequestContext; source?: FeedbackSource };

/** What the feedback did to the person. */
export type FeedbackEffect = 'bounced' | 'unsubscribed' | 'unchanged';

const MAX_REASON = 200;

/**
 * The one place that decides what bounces, complaints and unsubscribes do to a person:
 *
 * | feedback    | status (from pending or active) | suppressed | consent trail             | counter          |
 * | hard bounce | bounced                         | yes        | 'bounced', always         | bounces{hard}    |
 * | soft bounce | unchanged                       | no         | nothing                   | bounces{soft}    |
 * | complaint   | unsubscribed                    | yes        | 'complained', always      | complaints       |
 * | unsubscribe | unsubscribed                    | no         | 'unsubscribed', on change | unsubscribes{..} |
 *
 * A bounce or complaint is evidence each time it is reported, so each goes into the trail even when the status had
 * already moved; a repeated unsubscribe click changes nothing and records nothing. An unsubscribe is not a
 * suppression: the person may sign up again with a new consent. Campaign counters are the delivery's business.
 */
export class SuppressionPolicy {
  constructor(
    private readonly deps: { subscribers: SubscriberRepository; metrics: Metrics; clock: Clock; log: Logger },
  ) {}

  async apply(sub: Subscriber, feedback: Feedback): Promise<FeedbackEffect> {
    const { subscribers, metrics, log } = this.deps;
    const now = this.deps.clock.now().toISOString();
    switch (feedback.type) {
      case 'hard_bounce': {
        const detail = describe(feedback.reason, feedback.campaignId, feedback.source);
        const moved = await this.suppress(sub, 'bounced', { bouncedAt: now, updatedAt: now }, 'bounced', detail);
        metrics.bounced('hard');
        log.info(
          { event: 'subscriber.bounced', subscriberId: sub.id, campaignId: feedback.campaignId },
          'hard bounce: address suppressed',
        );
        return moved ? 'bounced' : 'unchanged';
      }
      case 'soft_bounce':
        metrics.bounced('soft');
        log.info(
          { event: 'subscriber.soft_bounced', subscriberId: sub.id, campaignId: feedback.campaignId },
          'soft bounce: will retry',
        );
        return 'unchanged';
      case 'complaint': {
        const detail = describe(feedback.reason ?? 'marked as spam', feedback.campaignId, feedback.source);
        const changes = { unsubscribedAt: now, updatedAt: now };
        const moved = await this.suppress(sub, 'unsubscribed', changes, 'complained', detail);
        metrics.complained();
        log.warn(
          { event: 'subscriber.complained', subscriberId: sub.id, campaignId: feedback.campaignId },
          'complaint: address suppressed',
        );
        return moved ? 'unsubscribed' : 'unchanged';
      }
      case 'unsubscribe': {
        const moved = await subscribers.transition(sub, ['pending', 'active'], 'unsubscribed', {
          unsubscribedAt: now,
          updatedAt: now,
        });
        if (!moved.ok) return 'unchanged';
        const evidence = feedback.from
          ? { ip: feedback.from.ip, userAgent: clipUserAgent(feedback.from.userAgent) }
          : undefined;
        const detail = feedback.source ? `${feedback.method} (${feedback.source})` : feedback.method;
        await subscribers.appendConsent(sub.email, { type: 'unsubscribed', at: now, evidence, detail });
        metrics.unsubscribed(feedback.method);
        log.info({ event: 'subscription.unsubscribed', subscriberId: sub.id, method: feedback.method }, 'unsubscribed');
        return 'unsubscribed';
      }
    }
  }

  /**
   * What a failed send says about the address, for every sender: a refusal for good is a hard bounce, a 4xx answer
   * a soft one, and a connection problem (no answer code) says nothing about the address.
   */
  async sendFailed(sub: Subscriber, err: unknown, campaignId?: number): Promise<FeedbackEffect> {
    if (err instanceof PermanentDeliveryError) {
      return this.apply(sub, { type: 'hard_bounce', reason: err.message, campaignId });
    }
    if (err instanceof TransientDeliveryError && err.responseCode) {
      return this.apply(sub, { type: 'soft_bounce', reason: err.message, campaignId });
    }
    return 'unchanged';
  }

  /** Moves a pending or active person to `to`, suppresses the address, and records the event whatever the status. */
  private async suppress(
    sub: Subscriber,
    to: SubscriberStatus,
    changes: SubscriberChanges,
    type: ConsentEventType,
    detail: string,
  ): Promise<boolean> {
    const { subscribers, clock } = this.deps;
    const moved = await subscribers.transition(sub, ['pending', 'active'], to, changes, { suppress: true });
    await subscribers.appendConsent(sub.email, { type, at: clock.now().toISOString(), detail });
    return moved.ok;
  }
}

/** The trail's detail: who reported it, about which campaign, in their words (bounded). */
function describe(reason: string, campaignId: number | undefined, source: FeedbackSource = 'smtp'): string {
  const about = campaignId ? `campaign ${campaignId}: ` : '';
  return `${source}: ${about}${reason.slice(0, MAX_REASON)}`;
}
