import type { Campaign, CampaignContent, CampaignStatus } from '../campaign';

/** What happened to one recipient of a campaign. */
export type DeliveryOutcome = 'sent' | 'failed' | 'skipped' | 'bounced';

/** Fields a status change may set besides the status. */
export interface CampaignChanges {
  startedAt?: string;
  pausedAt?: string;
  finishedAt?: string;
  /** Why it paused, failed or was cancelled; '' clears it. */
  reason?: string;
  maxSubscriberId?: number;
  /** Recipients expected (an estimate until fan-out ends). */
  total?: number;
  /** Start counting consecutive failures from zero again. */
  resetFailures?: boolean;
  /**
   * Keep the counters as they are at this transition (sent, bounced, lateBounces, complained) as the campaign's
   * `rateBaseline`, in the same atomic step, so no report lands between the read and the status change.
   */
  rateBaseline?: boolean;
}

export type CampaignTransition = { ok: true } | { ok: false; current: CampaignStatus | null };

/**
 * Campaigns, their rendered content and their delivery ledger: for each recipient one outcome, recorded once.
 * `test/contract/campaign-repository.contract.ts` is the executable form of this contract.
 */
export interface CampaignRepository {
  /** A new draft with zero counters. */
  create(input: { subject: string; newsletter: string; articleIds: number[]; now: string }): Promise<Campaign>;
  get(id: number): Promise<Campaign | null>;
  status(id: number): Promise<CampaignStatus | null>;
  /** Newest first, at most `limit` (default 50). */
  list(limit?: number): Promise<Campaign[]>;
  /** Atomic: moves the status from one of `from` to `to` and applies `changes`, or changes nothing. */
  transition(
    id: number,
    from: CampaignStatus[],
    to: CampaignStatus,
    changes?: CampaignChanges,
  ): Promise<CampaignTransition>;
  saveContent(id: number, content: CampaignContent): Promise<void>;
  content(id: number): Promise<CampaignContent | null>;
  /** The fan-out has queued every active id up to `cursor`, `count` more of them. */
  checkpoint(id: number, cursor: number, count: number): Promise<void>;
  /** For each subscriber id, whether an outcome is already recorded. */
  recorded(id: number, subscriberIds: number[]): Promise<boolean[]>;
  /**
   * Records a recipient's outcome once: the first outcome recorded for a subscriber wins, and its counter moves
   * once. A 'sent' resets the run of consecutive failures. Returns true when this call recorded it.
   */
  record(id: number, subscriberId: number, outcome: DeliveryOutcome): Promise<boolean>;
  /**
   * Counts a report that came back after the send, once per recipient and kind: 'bounced' adds to `lateBounces`
   * (when the ledger has the message as sent; a recipient refused in the session already counts in `bounced`),
   * 'complained' to `complained`. Returns true when this call counted it.
   */
  recordFeedback(id: number, subscriberId: number, kind: 'bounced' | 'complained'): Promise<boolean>;
  /** Counts one more failed send in a row; returns the length of the run. */
  countFailure(id: number): Promise<number>;
  /** Marks the fan-out done, then behaves as `finishIfDone`. */
  finishFanout(id: number, now: string): Promise<CampaignStatus | null>;
  /**
   * Ends a sending campaign whose fan-out is done and whose queued recipients all have an outcome: 'failed' when
   * nothing was sent and something failed, else 'sent'. Returns the new status, or null when it is not done.
   */
  finishIfDone(id: number, now: string): Promise<CampaignStatus | null>;
}
