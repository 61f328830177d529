export type CampaignStatus = 'draft' | 'sending' | 'paused' | 'cancelled' | 'sent' | 'failed';

/** Why a campaign paused itself: a run of failed sends, or a complaint or hard-bounce rate past its limit. */
export type AutoPauseCause = 'consecutive_failures' | 'complaint_rate' | 'bounce_rate' | 'smtp_unreachable';

/**
 * The counters as they stood when an operator last resumed the campaign. The rate check (campaign-health.ts)
 * judges only what happened after them: the resume acknowledged everything before.
 */
export interface RateBaseline {
  sent: number;
  bounced: number;
  lateBounces: number;
  complained: number;
}

export interface Campaign {
  id: number;
  status: CampaignStatus;
  subject: string;
  /** The mail's visible first line, shown by mail apps beside the subject; without it, the headlines. */
  preheader?: string;
  /** Slug of the newsletter the campaign belongs to: its readers get it. */
  newsletter: string;
  articleIds: number[];
  /** Recipients: an estimate (active subscribers) while fan-out runs, exact once it is done. */
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  /** Refused during the SMTP session (5xx). */
  bounced: number;
  /** Accepted, then reported back as a hard bounce (a bounce notice, a provider's webhook). */
  lateBounces: number;
  /** Recipients who reported the campaign as spam. */
  complained: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Why the campaign paused itself or failed. */
  reason?: string;
  /** A draft's planned send time (ISO 8601, UTC); cleared when the send starts, by the schedule or by hand. */
  scheduledAt?: string;
  /**
   * Set when a scheduled send started later than planned (the workers were down at the time): by how many whole
   * seconds. `startedAt` minus this is the time it was scheduled for.
   */
  startedLateBySeconds?: number;
  /** Set by a resume: the rate check counts from here. */
  rateBaseline?: RateBaseline;
  /** Highest subscriber id a send includes: people who sign up during the send wait for the next one. */
  maxSubscriberId: number;
  /** Fan-out checkpoint: every active id up to this one is in a batch job. */
  cursor: number;
  /** Ids put into batch jobs so far. */
  queued: number;
  fanoutDone: boolean;
}

/** The rendered newsletter, stored once at send so every worker builds messages from the same bytes. */
export interface CampaignContent {
  subject: string;
  html: string;
  text: string;
}
