/** The audience events the dashboard charts per day. */
export type DailyEvent = 'signups' | 'confirmations' | 'unsubscribes';

/** One UTC day's counts (`day` is YYYY-MM-DD). */
export type DayCounts = { day: string } & Record<DailyEvent, number>;

/**
 * Per-day counters of audience events, kept a little over a month: the console's 30-day chart. Writing is fire and
 * forget (a lost increment costs a chart a dot; it must never fail a signup).
 */
export interface DailyActivity {
  count(event: DailyEvent, at: Date): void;
  /** The `days` UTC days ending with the day of `until`, oldest first, zero-filled. */
  days(until: Date, days: number): Promise<DayCounts[]>;
}

/** Messages a campaign handed to the mail server, per minute: the campaign view's chart. */
export interface SendTimeline {
  /** Adds `n` sends at `at` (one call per group of sends, not per message). */
  add(campaignId: number, at: Date, n: number): Promise<void>;
  /** Minutes (ISO 8601, UTC, on the minute) with their counts, oldest first. */
  perMinute(campaignId: number): Promise<{ minute: string; count: number }[]>;
}

/** The last poll of the site's feed, for the dashboard. */
export interface FeedPoll {
  at: string;
  url: string;
  ok: boolean;
  added: number;
  seen: number;
  invalid: number;
  /** The server answered 304 Not Modified: the feed has not changed since the poll before. */
  notModified?: boolean;
  error?: string;
}

export interface FeedPollLog {
  polled(poll: FeedPoll): Promise<void>;
  last(): Promise<FeedPoll | null>;
}
