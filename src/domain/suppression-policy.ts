import type { Logger } from 'pino';
import { PermanentDeliveryError, TransientDeliveryError } from './errors';
import type { FeedbackSource } from './feedback-source';
import type { Clock } from './ports/clock';
import type { FeedbackLedger } from './ports/feedback-ledger';
import type { Metrics, UnsubscribeMethod } from './ports/metrics';
import type { SubscriberChanges, SubscriberRepository } from './ports/subscriber-repository';
import {
  clipUserAgent,
  type ConsentEventType,
  type RequestContext,
  type Subscriber,
  type SubscriberStatus,
} from './subscriber';

export type { FeedbackSource } from './feedback-source';

/** What came back about a person's mail, whoever reports it: the SMTP session, the person, a provider. */
export type Feedback =
  /** The address does not take mail (an SMTP 5xx for the recipient, a provider's permanent bounce). */
  | { type: 'hard_bounce'; reason: string; campaignId?: number; source?: FeedbackSource }
  /**
   * A message was given up on for a reason that may pass: a provider's or a bounce notice's soft bounce, or our
   * SMTP session's 4xx on the last try (a 4xx that is still retried is no bounce: see `sendFailed`).
   */
  | { type: 'soft_bounce'; reason: string; campaignId?: number; source?: FeedbackSource }
  /** The person marked a mail as spam. */
  | { type: 'complaint'; reason?: string; campaignId?: number; source?: FeedbackSource }
  /** The person asked to leave: on our page (with its request), by mail, or through a provider. */
  | { type: 'unsubscribe'; method: UnsubscribeMethod; from?: RequestContext; source?: FeedbackSource };

/** What the feedback did to the person. */
export type FeedbackEffect = 'bounced' | 'unsubscribed' | 'unchanged';

/** Options of `SuppressionPolicy`. */
export interface SuppressionPolicyOptions {
  /** Soft bounces within `SOFT_BOUNCE_WINDOW_DAYS` that make a person bounced and suppressed (BOUNCE_SOFT_LIMIT). */
  softBounceLimit: number;
}

/** How far back soft bounces count towards the limit. */
export const SOFT_BOUNCE_WINDOW_DAYS = 30;
const SOFT_BOUNCE_WINDOW_MS = SOFT_BOUNCE_WINDOW_DAYS * 24 * 3600 * 1000;

const MAX_REASON = 200;

/**
 * The one place that decides what bounces, complaints and unsubscribes do to a person:
 *
 * | feedback    | status (from pending or active) | suppressed | consent trail                | counter        |
 * | hard bounce | bounced                         | yes        | 'bounced', always            | bounces{hard}  |
 * | soft bounce | unchanged; bounced at the limit | at limit   | 'soft_bounced', always; at   | bounces{soft}  |
 * |             | (BOUNCE_SOFT_LIMIT in 30 days)  |            | the limit also 'bounced'     |                |
 * |             |                                 |            | "3 soft bounces in 30 days"  |                |
 * | complaint   | unsubscribed                    | yes        | 'complained', always         | complaints     |
 * | unsubscribe | unsubscribed                    | no         | 'unsubscribed', on change    | unsubscribes   |
 *
 * A bounce or complaint is evidence each time it is reported, so each goes into the trail, with who reported it as
 * the event's `source`, even when the status had already moved; a repeated unsubscribe click changes nothing and
 * records nothing. An unsubscribe is not a suppression: the person may sign up again with a new consent. Bounces and
 * complaints count by `source` too. Campaign counters are the delivery's and the feedback loop's business.
 */
export class SuppressionPolicy {
  constructor(
    private readonly deps: {
      subscribers: SubscriberRepository;
      ledger: FeedbackLedger;
      metrics: Metrics;
      clock: Clock;
      log: Logger;
      options: SuppressionPolicyOptions;
    },
  ) {}

  async apply(sub: Subscriber, feedback: Feedback): Promise<FeedbackEffect> {
    const { subscribers, metrics, log } = this.deps;
    const now = this.deps.clock.now().toISOString();
    switch (feedback.type) {
      case 'hard_bounce': {
        const source = feedback.source ?? 'smtp';
        const detail = describe(feedback.reason, feedback.campaignId, source);
        const changes = { bouncedAt: now, updatedAt: now };
        const moved = await this.suppress(sub, 'bounced', changes, 'bounced', detail, source);
        metrics.bounced('hard', source);
        log.info(
          { event: 'subscriber.bounced', subscriberId: sub.id, campaignId: feedback.campaignId, source },
          'hard bounce: address suppressed',
        );
        return moved ? 'bounced' : 'unchanged';
      }
      case 'soft_bounce':
        return this.softBounce(sub, feedback.reason, feedback.campaignId, feedback.source ?? 'smtp');
      case 'complaint': {
        const source = feedback.source ?? 'smtp';
        const detail = describe(feedback.reason ?? 'marked as spam', feedback.campaignId, source);
        const changes = { unsubscribedAt: now, updatedAt: now };
        const moved = await this.suppress(sub, 'unsubscribed', changes, 'complained', detail, source);
        metrics.complained(source);
        log.warn(
          { event: 'subscriber.complained', subscriberId: sub.id, campaignId: feedback.campaignId, source },
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
        const evidence = {
          ...(feedback.from && { ip: feedback.from.ip, userAgent: clipUserAgent(feedback.from.userAgent) }),
          source: feedback.source,
        };
        const detail = feedback.source ? `${feedback.method} (${feedback.source})` : feedback.method;
        await subscribers.appendConsent(sub.email, { type: 'unsubscribed', at: now, evidence, detail });
        metrics.unsubscribed(feedback.method);
        log.info({ event: 'subscription.unsubscribed', subscriberId: sub.id, method: feedback.method }, 'unsubscribed');
        return 'unsubscribed';
      }
    }
  }

  /**
   * What a failed send says about the address, for every sender: a refusal for good is a hard bounce; a 4xx answer
   * is a soft bounce only when no retry follows (`willRetry` false), since a 4xx retried and then delivered is no
   * bounce at all, and counting every try would suppress a person after one greylisting server's three deferrals; a
   * connection problem (no answer code) says nothing about the address.
   */
  async sendFailed(
    sub: Subscriber,
    err: unknown,
    attempt: { campaignId?: number; willRetry: boolean },
  ): Promise<FeedbackEffect> {
    const { campaignId } = attempt;
    if (err instanceof PermanentDeliveryError) {
      return this.apply(sub, { type: 'hard_bounce', reason: err.message, campaignId, source: 'smtp' });
    }
    if (err instanceof TransientDeliveryError && err.responseCode && !attempt.willRetry) {
      return this.apply(sub, { type: 'soft_bounce', reason: err.message, campaignId, source: 'smtp' });
    }
    return 'unchanged';
  }

  /**
   * Records the soft bounce, counts it in the person's window, and at the limit moves them to bounced and
   * suppresses the address, once: a later soft bounce finds them bounced already and only adds to the trail.
   */
  private async softBounce(
    sub: Subscriber,
    reason: string,
    campaignId: number | undefined,
    source: FeedbackSource,
  ): Promise<FeedbackEffect> {
    const { subscribers, ledger, metrics, clock, log, options } = this.deps;
    const now = clock.now();
    const at = now.toISOString();
    const detail = describe(reason, campaignId, source);
    await subscribers.appendConsent(sub.email, { type: 'soft_bounced', at, evidence: { source }, detail });
    metrics.bounced('soft', source);
    const recent = await ledger.addSoftBounce(sub.id, now.getTime(), SOFT_BOUNCE_WINDOW_MS);
    if (recent < options.softBounceLimit) {
      log.info(
        { event: 'subscriber.soft_bounced', subscriberId: sub.id, campaignId, source, recent },
        'soft bounce: counted',
      );
      return 'unchanged';
    }
    const moved = await subscribers.transition(
      sub,
      ['pending', 'active'],
      'bounced',
      { bouncedAt: at, updatedAt: at },
      { suppress: true },
    );
    if (!moved.ok) return 'unchanged';
    await subscribers.appendConsent(sub.email, {
      type: 'bounced',
      at,
      evidence: { source },
      detail: `${recent} soft bounces in ${SOFT_BOUNCE_WINDOW_DAYS} days`,
    });
    log.info(
      { event: 'subscriber.bounced', subscriberId: sub.id, campaignId, source, softBounces: recent },
      'soft bounce limit reached: address suppressed',
    );
    return 'bounced';
  }

  /** Moves a pending or active person to `to`, suppresses the address, and records the event whatever the status. */
  private async suppress(
    sub: Subscriber,
    to: SubscriberStatus,
    changes: SubscriberChanges,
    type: ConsentEventType,
    detail: string,
    source: FeedbackSource,
  ): Promise<boolean> {
    const { subscribers, clock } = this.deps;
    const moved = await subscribers.transition(sub, ['pending', 'active'], to, changes, { suppress: true });
    await subscribers.appendConsent(sub.email, {
      type,
      at: clock.now().toISOString(),
      evidence: { source },
      detail,
    });
    return moved.ok;
  }
}

/** The trail's detail: who reported it, about which campaign, in their words (bounded). */
function describe(reason: string, campaignId: number | undefined, source: FeedbackSource): string {
  const about = campaignId ? `campaign ${campaignId}: ` : '';
  return `${source}: ${about}${reason.slice(0, MAX_REASON)}`;
}
