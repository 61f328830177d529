import type { Article } from './article';
import type { Newsletter } from './newsletter';
import { runKey, type NewsletterRun } from './newsletter-run';
import type { ArticleListener } from './ports/article-listener';
import type { NewsletterRunnerDeps } from './run-campaign';

export type AlertsDeps = NewsletterRunnerDeps;

/**
 * The window `alertsPerDay` counts in: any 24 hours, not the calendar day. An alerts newsletter has no time zone to
 * say whose day it would be, and a calendar day would let a busy evening send the whole cap before midnight and the
 * whole cap again after it.
 */
export const ALERT_WINDOW_MS = 24 * 3600_000;

/** What an alert's run did, for the log and the tests. */
export type AlertRunResult = 'sent' | 'skipped' | 'failed' | 'duplicate' | 'ignored';

/** Whether an article belongs in a newsletter: it shares a category (any case), or the newsletter takes every one. */
export function articleMatches(
  newsletter: Pick<Newsletter, 'categories'>,
  article: Pick<Article, 'categories'>,
): boolean {
  if (!newsletter.categories.length) return true;
  const wanted = new Set(newsletter.categories.map((c) => c.toLowerCase()));
  return (article.categories ?? []).some((c) => wanted.has(c.toLowerCase()));
}

/**
 * Alerts newsletters: each new article that matches goes out as a campaign of its own, as it arrives, once per
 * (newsletter, article), at most `alertsPerDay` in any 24 hours. Articles over the cap are recorded as skipped and
 * never sent later: a late burst of stale alerts is worse than none.
 */
export class Alerts implements ArticleListener {
  constructor(private readonly deps: AlertsDeps) {}

  /** Queues an alert per matching alerts newsletter; the job does the work, so the caller (API, feed) is not held. */
  async articleAdded(article: Article): Promise<void> {
    for (const n of await this.deps.newsletters.list())
      if (n.mode === 'alerts' && articleMatches(n, article)) await this.deps.jobs.queueAlert(n.slug, article.id);
  }

  /**
   * What an alert's job does: nothing unless the newsletter still takes alerts and the article matches; otherwise
   * it claims (newsletter, article) and a place under the cap in one atomic step, then sends.
   */
  async run(slug: string, articleId: number): Promise<AlertRunResult> {
    const { log } = this.deps;
    const newsletter = await this.deps.newsletters.get(slug);
    const article = await this.deps.articles.get(articleId);
    if (!newsletter || newsletter.mode !== 'alerts' || !article || !articleMatches(newsletter, article)) {
      log.info({ event: 'alert.ignored', newsletter: slug, articleId }, 'article not for this alerts newsletter');
      return 'ignored';
    }
    const now = this.deps.clock.now().toISOString();
    const key = runKey({ articleId });
    const base = { articleId, at: now, articles: 1 };
    const [sent] = await this.deps.articles.sentIn(slug, [articleId]);
    if (sent) {
      const claim = await this.deps.runs.claim(slug, key, {
        ...base,
        outcome: 'skipped',
        reason: 'already sent in this newsletter',
      });
      if (claim.claimed)
        log.info({ event: 'alert.skipped', newsletter: slug, articleId, reason: 'already_sent' }, 'alert skipped');
      return claim.claimed ? 'skipped' : 'duplicate';
    }
    const cap = newsletter.alertsPerDay;
    const claim = await this.deps.runs.claim(
      slug,
      key,
      { ...base, outcome: 'running' },
      cap
        ? {
            limit: cap,
            windowMs: ALERT_WINDOW_MS,
            over: { ...base, outcome: 'skipped', reason: `over the cap of ${cap} alerts in 24 hours` },
          }
        : undefined,
    );
    if (!claim.claimed) {
      if (claim.capped) {
        log.warn({ event: 'alert.capped', newsletter: slug, articleId, alertsPerDay: cap }, 'alert over the daily cap');
        return 'skipped';
      }
      // A run still `running` is an earlier try of this job that stopped halfway: go on from where it was.
      if (claim.run.outcome !== 'running') return 'duplicate';
    }
    const run: NewsletterRun = claim.run;
    const result = await this.deps.sender.buildAndSend(slug, key, run, {
      articleIds: [articleId],
      subject: article.title.slice(0, 200),
      minArticles: 1,
    });
    await this.deps.runs.finish(slug, key, { ...run, ...result }, { releaseCap: result.outcome !== 'sent' });
    const fields = { event: `alert.${result.outcome}`, newsletter: slug, articleId, ...result };
    if (result.outcome === 'failed') log.error(fields, 'alert failed');
    else log.info(fields, `alert ${result.outcome}`);
    return result.outcome as 'sent' | 'skipped' | 'failed';
  }
}
