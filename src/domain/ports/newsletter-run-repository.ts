import type { NewsletterRun } from '../newsletter-run';

/** A cap on claims: at most `limit` in any `windowMs` ending now. */
export interface RunCap {
  limit: number;
  windowMs: number;
  /** The run stored instead (a skip saying why) when the cap is reached. */
  over: NewsletterRun;
}

/** What a claim found or did. */
export type ClaimResult =
  /** This call recorded the run: the caller does it. */
  | { claimed: true; run: NewsletterRun }
  /** The cap was reached: `over` was recorded instead, and nothing is to be done. */
  | { claimed: false; capped: true; run: NewsletterRun }
  /** A run of this key was there already (another worker's, or an earlier try of the same job). */
  | { claimed: false; capped: false; run: NewsletterRun };

/**
 * The runs of each newsletter's schedule and alerts, keyed by slot or article (`runKey`): the record operators read
 * and the claim that makes each fire once. Keeps the newest `keep` runs of a newsletter.
 * `test/contract/newsletter-run-repository.contract.ts` is the executable form of this contract.
 */
export interface NewsletterRunRepository {
  /**
   * Records `run` under `key` unless a run of that key exists, atomically, even across processes. With `cap`, the
   * claim also counts against the newsletter's window in the same step (only capped claims count there).
   */
  claim(newsletter: string, key: string, run: NewsletterRun, cap?: RunCap): Promise<ClaimResult>;
  /**
   * Sets the run's campaign unless it has one; returns the campaign the run holds afterwards (the first one set
   * wins), or null when no run of that key is kept.
   */
  attachCampaign(newsletter: string, key: string, campaignId: number): Promise<number | null>;
  /**
   * Replaces a kept run with its outcome (nothing when it is no longer kept); `releaseCap` gives its place in the
   * cap's window back (a run that sent nothing should not use up the day's alerts).
   */
  finish(newsletter: string, key: string, run: NewsletterRun, opts?: { releaseCap?: boolean }): Promise<void>;
  /** The newest runs first, by claim time, at most `limit`. */
  list(newsletter: string, limit: number): Promise<NewsletterRun[]>;
}
