import type { Logger } from 'pino';
import type { AutoPauseCause, Campaign, RateBaseline } from './campaign';
import type { CampaignRepository } from './ports/campaign-repository';
import type { Clock } from './ports/clock';
import type { Metrics } from './ports/metrics';

/** When a sending campaign's rates make it pause itself. */
export interface CampaignHealthLimits {
  /** Complaints per delivered message past which it pauses (CAMPAIGN_MAX_COMPLAINT_RATE). Default 0.003. */
  maxComplaintRate: number;
  /** Hard bounces per message handed off past which it pauses (CAMPAIGN_MAX_BOUNCE_RATE). Default 0.05. */
  maxBounceRate: number;
  /**
   * Messages handed off before either rate is judged (CAMPAIGN_RATE_MIN_MESSAGES), so two complaints among the first
   * fifty messages do not stop a send. Default 1000.
   */
  minMessages: number;
}

/**
 * A campaign's delivery figures, derived from its counters:
 *
 * - handed off = sent + bounced in session: every message the receiving server answered for good (accepted, or
 *   refused with a 5xx). Failed and skipped recipients never got such an answer, so they are in no rate.
 * - bounced = bounced in session + late bounces: every hard bounce, whenever it was reported.
 * - delivered = sent − late bounces: accepted and not reported back as a hard bounce since.
 * - bounceRate = bounced / handed off; complaintRate = complained / delivered; 0 when the divisor is 0.
 *
 * Soft bounces are in neither rate: a campaign counts only hard bounces, and a person's run of soft bounces ends in
 * a suppression by the policy, not in a campaign's figures. Once a campaign is done,
 * total = delivered + bounced + failed + skipped.
 */
export interface CampaignFigures {
  delivered: number;
  bounced: number;
  bouncedInSession: number;
  lateBounces: number;
  complained: number;
  handedOff: number;
  bounceRate: number;
  complaintRate: number;
}

type Counters = Pick<Campaign, 'sent' | 'bounced' | 'lateBounces' | 'complained'>;

export function campaignFigures(c: Counters): CampaignFigures {
  const handedOff = c.sent + c.bounced;
  const bounced = c.bounced + c.lateBounces;
  const delivered = c.sent - c.lateBounces;
  return {
    delivered,
    bounced,
    bouncedInSession: c.bounced,
    lateBounces: c.lateBounces,
    complained: c.complained,
    handedOff,
    bounceRate: ratio(bounced, handedOff),
    complaintRate: ratio(c.complained, delivered),
  };
}

/** What the rate check says about a campaign. */
export type RateVerdict =
  { pause: false } | { pause: true; cause: Extract<AutoPauseCause, 'complaint_rate' | 'bounce_rate'>; reason: string };

/**
 * The rate rule, from a campaign alone: pause when, over the messages since the operator's last resume (all of
 * them when never resumed), at least `minMessages` were handed off and the complaint rate or the hard-bounce rate is
 * above its limit. Complaints are judged first: they cost a sender's reputation most.
 *
 * Why "since the last resume": a resume is the operator acknowledging the rates as they stand; judging the whole
 * campaign again would pause it on the spot. Counting afresh keeps the guard: if the messages sent after the resume
 * are as bad, at least `minMessages` of them, it pauses again. Late reports about messages sent before the resume
 * count in the new window (a report does not say when its message left), which errs on the side of pausing.
 */
export function judgeRates(c: Campaign, limits: CampaignHealthLimits): RateVerdict {
  const base: RateBaseline = c.rateBaseline ?? { sent: 0, bounced: 0, lateBounces: 0, complained: 0 };
  const f = campaignFigures({
    sent: c.sent - base.sent,
    bounced: c.bounced - base.bounced,
    lateBounces: c.lateBounces - base.lateBounces,
    complained: c.complained - base.complained,
  });
  if (f.handedOff < limits.minMessages) return { pause: false };
  const since = c.rateBaseline ? ' since the last resume' : '';
  if (f.complaintRate > limits.maxComplaintRate)
    return {
      pause: true,
      cause: 'complaint_rate',
      reason:
        `paused: complaint rate ${percent(f.complaintRate)} (${f.complained} of ${f.delivered} delivered${since}) ` +
        `is above the limit of ${percent(limits.maxComplaintRate)}`,
    };
  if (f.bounceRate > limits.maxBounceRate)
    return {
      pause: true,
      cause: 'bounce_rate',
      reason:
        `paused: hard-bounce rate ${percent(f.bounceRate)} (${f.bounced} of ${f.handedOff} handed off${since}) ` +
        `is above the limit of ${percent(limits.maxBounceRate)}`,
    };
  return { pause: false };
}

/**
 * The one place a campaign pauses itself, whatever the cause: the delivery engine after refusals in the SMTP
 * session and after a run of failed sends, and the feedback loop after late bounces and complaints (those arrive
 * while the campaign is still sending). Only a sending campaign pauses; an operator resumes it.
 */
export class CampaignHealth {
  constructor(
    private readonly deps: {
      campaigns: CampaignRepository;
      metrics: Metrics;
      clock: Clock;
      log: Logger;
      limits: CampaignHealthLimits;
    },
  ) {}

  /** Judges a sending campaign's rates and pauses it when one is past its limit; true when this call paused it. */
  async check(campaignId: number): Promise<boolean> {
    const c = await this.deps.campaigns.get(campaignId);
    if (!c || c.status !== 'sending') return false;
    const verdict = judgeRates(c, this.deps.limits);
    if (!verdict.pause) return false;
    return this.pause(campaignId, verdict.cause, verdict.reason);
  }

  /** Pauses a sending campaign with the reason its status shows; true when this call paused it. */
  async pause(campaignId: number, cause: AutoPauseCause, reason: string, details: object = {}): Promise<boolean> {
    const { campaigns, metrics, clock, log } = this.deps;
    const moved = await campaigns.transition(campaignId, ['sending'], 'paused', {
      reason,
      pausedAt: clock.now().toISOString(),
    });
    if (!moved.ok) return false;
    metrics.campaignAutoPaused(cause);
    log.error({ event: 'campaign.auto_paused', campaignId, cause, ...details }, reason);
    return true;
  }
}

/** Rates are kept to six decimals: enough for 0.3 % of a million, and no 0.30000000000000004 in the JSON. */
function ratio(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1e6) / 1e6 : 0;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(2)}%`;
}
