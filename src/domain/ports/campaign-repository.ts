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
  /** A scheduled send that started late: by how many seconds (see Campaign.startedLateBySeconds). */
  startedLateBySeconds?: number;
  /** Start counting consecutive failures from zero again. */
  resetFailures?: boolean;
  /**
   * Keep the counters as they are at this transition (sent, bounced, lateBounces, complained) as the campaign's
   * `rateBaseline`, in the same atomic step, so no report lands between the read and the status change.
   */
  rateBaseline?: boolean;
}

export type CampaignTransition = { ok: true } | { ok: false; current: CampaignStatus | null };

/** What an edit of a draft may change; the article ids are in the newsletter's order. */
export interface DraftChanges {
  subject?: string;
  /** The empty string clears it: the template's first line goes back to the headlines. */
  preheader?: string;
  articleIds?: number[];
}

/** The draft as the sender read and rendered it: the start of a send goes ahead only while it still is so. */
export interface DraftSnapshot {
  subject: string;
  preheader?: string;
  articleIds: number[];
  /**
   * For a scheduled send: the time the draft must still be scheduled for. A reschedule or unschedule that landed
   * after the read makes the start fail (`current: 'draft'`), so an outdated schedule job never sends.
   */
  scheduledAt?: string;
}

/**
 * Campaigns, their rendered content and their delivery ledger: for each recipient one outcome, recorded once.
 * `test/contract/campaign-repository.contract.ts` is the executable form of this contract.
 */
export interface CampaignRepository {
  /** A new draft with zero counters. */
  create(input: {
    subject: string;
    preheader?: string;
    newsletter: string;
    articleIds: number[];
    now: string;
  }): Promise<Campaign>;
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
  /**
   * Atomic, like `transition`: applies the changes only while the campaign is a draft, and drops any content stored
   * for it (content is only ever the draft as it is). Returns the status it found otherwise (null: no campaign).
   */
  updateDraft(id: number, changes: DraftChanges): Promise<CampaignTransition>;
  /**
   * Atomic: removes a draft (the campaign, its content and ledgers, its place in the list) only while it is a
   * draft. Returns the status it found otherwise (null: no campaign).
   */
  deleteDraft(id: number): Promise<CampaignTransition>;
  /**
   * Atomic: sets a draft's `scheduledAt` (null clears it) only while it is a draft. Returns the status it found
   * otherwise (null: no campaign). Edits leave the schedule as it is.
   */
  setSchedule(id: number, scheduledAt: string | null): Promise<CampaignTransition>;
  /**
   * Atomic: stores the rendered content and moves the campaign from draft to sending with `changes`, only while it
   * is a draft whose subject and article ids are still those of `draft`; otherwise writes nothing. This is the step
   * that makes an edit or a delete racing a send lose or win whole: the content sent is the draft that was read.
   * `{ok: false, current: 'draft'}` means it is still a draft but no longer that one (it was edited in between,
   * or, when `draft.scheduledAt` is given, rescheduled). A start clears `scheduledAt`: the draft is gone out.
   */
  startSending(
    id: number,
    draft: DraftSnapshot,
    content: CampaignContent,
    changes: CampaignChanges,
  ): Promise<CampaignTransition>;
  saveContent(id: number, content: CampaignContent): Promise<void>;
  content(id: number): Promise<CampaignContent | null>;
  /**
   * The fan-out has queued every active id up to `cursor`, `count` more of them. With `from`, only while the cursor
   * is still there: a fan-out that read a cursor Redis has since lost (a failover) must not move past the gap.
   * Returns false when it did not move.
   */
  checkpoint(id: number, cursor: number, count: number, from?: number): Promise<boolean>;
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
