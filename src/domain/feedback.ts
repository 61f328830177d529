import type { Logger } from 'pino';
import type { CampaignHealth } from './campaign-health';
import type { CampaignRepository } from './ports/campaign-repository';
import type { Clock } from './ports/clock';
import type { FeedbackLedger } from './ports/feedback-ledger';
import type { SubscriberRepository } from './ports/subscriber-repository';
import type { SignedTokens } from './signed-token';
import type { Subscriber } from './subscriber';
import type { FeedbackEffect, FeedbackSource, SuppressionPolicy } from './suppression-policy';

/** Where an inbound report came from: a provider's webhook, the generic webhook, or the feedback mailbox. */
export type InboundSource = Exclude<FeedbackSource, 'smtp'>;

/** A report about mail we sent, as an inbound channel read it, before anyone decided what it means. */
export interface InboundFeedback {
  source: InboundSource;
  /** The channel's own id of the report: a redelivered report with the same id is handled once. */
  eventId: string;
  type: 'bounce' | 'complaint' | 'unsubscribe';
  /** For bounces: hard (the address does not take mail) or soft (not this time). Default hard. */
  bounceType?: 'hard' | 'soft';
  /** The return token the message carried (VERP address or Message-ID); it wins over `email`. */
  returnToken?: string;
  /** The recipient's address as the report states it. */
  email?: string;
  /** The campaign the report is about, when the channel says (a token's campaign wins). */
  campaignId?: number;
  /** The server's or the provider's words, for the consent trail. */
  reason?: string;
}

/**
 * What receiving did. Channels answer every outcome the same way to the sender of the report, so nobody learns
 * from the answer whether an address is on the list.
 */
export type FeedbackOutcome = 'applied' | 'unchanged' | 'duplicate' | 'unknown_recipient';

/** How long a report's id is remembered: providers retry for up to three days; a week covers it. */
const SEEN_TTL_SECONDS = 7 * 24 * 3600;

/**
 * The feedback loop's one entrance: every webhook and the mailbox reader hand their reports here. It finds the
 * person (by the signed return token first, the address second), drops repeats, lets the suppression policy
 * decide what the report does to the person, and counts it on the campaign it is about.
 */
export class FeedbackReceiver {
  constructor(
    private readonly deps: {
      subscribers: SubscriberRepository;
      campaigns: CampaignRepository;
      ledger: FeedbackLedger;
      policy: SuppressionPolicy;
      health: CampaignHealth;
      tokens: SignedTokens;
      clock: Clock;
      log: Logger;
    },
  ) {}

  async receive(report: InboundFeedback): Promise<FeedbackOutcome> {
    const { ledger, campaigns, health, log } = this.deps;
    const found = await this.recipient(report);
    if (!found) {
      log.info({ event: 'feedback.unknown_recipient', source: report.source, type: report.type }, 'no such recipient');
      return 'unknown_recipient';
    }
    if (!(await ledger.firstSeen(report.source, report.eventId, SEEN_TTL_SECONDS))) return 'duplicate';
    const { sub, campaignId } = found;
    const effect = await this.apply(sub, report, campaignId);
    const counter = campaignCounter(report);
    // Late reports come while the campaign may still be sending: each one counted can tip its rates past a limit.
    if (campaignId && counter && (await campaigns.recordFeedback(campaignId, sub.id, counter)))
      await health.check(campaignId);
    log.info(
      {
        event: 'feedback.received',
        source: report.source,
        type: report.type,
        subscriberId: sub.id,
        campaignId,
        effect,
      },
      'feedback received',
    );
    return effect === 'unchanged' ? 'unchanged' : 'applied';
  }

  private apply(sub: Subscriber, report: InboundFeedback, campaignId: number | undefined): Promise<FeedbackEffect> {
    const { policy } = this.deps;
    const source = report.source;
    switch (report.type) {
      case 'bounce':
        return policy.apply(sub, {
          type: report.bounceType === 'soft' ? 'soft_bounce' : 'hard_bounce',
          reason: report.reason || 'bounced',
          campaignId,
          source,
        });
      case 'complaint':
        return policy.apply(sub, { type: 'complaint', reason: report.reason, campaignId, source });
      case 'unsubscribe':
        return policy.apply(sub, { type: 'unsubscribe', method: source === 'mailbox' ? 'mailto' : 'provider', source });
    }
  }

  private async recipient(report: InboundFeedback): Promise<{ sub: Subscriber; campaignId?: number } | null> {
    const { subscribers, tokens } = this.deps;
    const signed = report.returnToken ? tokens.verifyReturn(report.returnToken) : null;
    if (signed) {
      const sub = await subscribers.get(signed.subscriberId);
      if (sub) return { sub, campaignId: signed.campaignId ?? report.campaignId };
    }
    if (!report.email) return null;
    const sub = await subscribers.getByEmail(report.email);
    return sub ? { sub, campaignId: report.campaignId } : null;
  }
}

/**
 * What a report counts as on its campaign: complaints and hard bounces. A soft bounce says nothing for good about
 * the message, and an unsubscribe is the person's right, not a delivery problem.
 */
function campaignCounter(report: InboundFeedback): 'complained' | 'bounced' | null {
  if (report.type === 'complaint') return 'complained';
  if (report.type === 'bounce' && report.bounceType !== 'soft') return 'bounced';
  return null;
}
