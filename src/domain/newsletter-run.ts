/**
 * What became of one scheduled digest slot or one alert. `running` is the moment between the claim and the outcome;
 * a run that stays `running` was cut short and its job is being retried (or failed for good: see the log).
 */
export type RunOutcome = 'running' | 'sent' | 'skipped' | 'missed' | 'failed';

/** One run of a newsletter's schedule (a digest slot) or of its alerts (one article). */
export interface NewsletterRun {
  /** Digests: the slot, the UTC instant the cron gave in its zone (ISO 8601). */
  slot?: string;
  /** Alerts: the article. */
  articleId?: number;
  /** When the run was claimed (ISO 8601, UTC). */
  at: string;
  outcome: RunOutcome;
  /** The campaign built for it, once there is one (a failed run may have a draft left for the operator). */
  campaignId?: number;
  /** Articles in the campaign; for a skip, the articles there were. */
  articles: number;
  /** Why it was skipped, missed or failed. */
  reason?: string;
  /** How long after its slot a digest started, in seconds, when it started late. */
  lateBySeconds?: number;
}

/** The key a run is claimed under: one per slot, one per article; so each fires once. */
export function runKey(run: { slot: string } | { articleId: number }): string {
  return 'slot' in run ? `s${Date.parse(run.slot)}` : `a${run.articleId}`;
}
