import type { Logger } from 'pino';
import type { Campaigns } from './campaigns';
import { ConflictError, DomainError, NotFoundError } from './errors';
import type { NewsletterRun } from './newsletter-run';
import type { ArticleRepository } from './ports/article-repository';
import type { Clock } from './ports/clock';
import type { NewsletterJobs } from './ports/job-queues';
import type { NewsletterRepository } from './ports/newsletter-repository';
import type { NewsletterRunRepository } from './ports/newsletter-run-repository';

/** What the two kinds of newsletter runs (digest slots and alerts) stand on. */
export interface NewsletterRunnerDeps {
  newsletters: NewsletterRepository;
  articles: ArticleRepository;
  runs: NewsletterRunRepository;
  sender: RunCampaign;
  jobs: NewsletterJobs;
  clock: Clock;
  log: Logger;
}

export interface RunCampaignDeps {
  campaigns: Campaigns;
  runs: NewsletterRunRepository;
  log: Logger;
}

/** What came of building and sending a run's campaign. */
export type RunResult = Pick<NewsletterRun, 'outcome' | 'campaignId' | 'articles' | 'reason'>;

/**
 * Builds the one campaign of a claimed run and sends it, exactly once even when two tries of the run meet (a stalled
 * job taken over while its first worker still runs): the run keeps the first campaign attached to it, a try that
 * made another deletes its own, and the campaign's draft→sending step lets one send through.
 */
export class RunCampaign {
  constructor(private readonly deps: RunCampaignDeps) {}

  async buildAndSend(
    newsletter: string,
    key: string,
    run: NewsletterRun,
    build: { articleIds: number[]; subject: string; minArticles: number },
  ): Promise<RunResult> {
    let campaignId = run.campaignId;
    let articles = run.articles;
    if (campaignId === undefined) {
      const made = await this.draft(newsletter, build);
      if ('reason' in made) return { outcome: 'skipped', articles: made.articles, reason: made.reason };
      articles = made.articles;
      const kept = await this.deps.runs.attachCampaign(newsletter, key, made.id);
      if (kept !== null && kept !== made.id) {
        // Another try of this run got its campaign in first: ours is a spare draft nobody should find.
        await this.deps.campaigns.delete(made.id).catch(() => undefined);
        campaignId = kept;
      } else campaignId = made.id;
    }
    try {
      await this.deps.campaigns.send(campaignId);
      return { outcome: 'sent', campaignId, articles };
    } catch (e) {
      if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
      const now = await this.deps.campaigns.get(campaignId).catch(() => null);
      // Sending or sent already: the other try of this run started it.
      if (now && now.status !== 'draft' && now.status !== 'cancelled') return { outcome: 'sent', campaignId, articles };
      // Refused for good (the newsletter cannot be sent yet, say): the draft stays for the operator to see.
      return { outcome: 'failed', campaignId: now ? campaignId : undefined, articles, reason: e.message };
    }
  }

  /**
   * A draft of these articles, leaving out the ones the campaign rules refuse (sent meanwhile, or going out in
   * another campaign of the newsletter) and the ones past the size budget; a skip reason when fewer than
   * `minArticles` are left.
   */
  private async draft(
    newsletter: string,
    build: { articleIds: number[]; subject: string; minArticles: number },
  ): Promise<{ id: number; articles: number } | { reason: string; articles: number }> {
    let ids = build.articleIds;
    for (let tries = 0; tries < 3; tries++) {
      if (ids.length < build.minArticles)
        return { reason: `fewer than ${build.minArticles} new articles (${ids.length})`, articles: ids.length };
      try {
        const c = await this.deps.campaigns.create({ newsletter, articleIds: ids, subject: build.subject });
        return { id: c.id, articles: ids.length };
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        if (e.code === 'article_already_sent') {
          const sent = new Set(
            ((e.details as { articles?: { articleId: number }[] })?.articles ?? []).map((a) => a.articleId),
          );
          ids = ids.filter((id) => !sent.has(id));
          if (build.minArticles === 1 && !ids.length) return { reason: 'already sent in this newsletter', articles: 0 };
        } else if (e.code === 'newsletter_too_large') {
          ids = ids.slice(0, (e.details as { articlesThatFit: number }).articlesThatFit);
        } else throw e;
      }
    }
    return { reason: 'its articles kept changing while the campaign was built', articles: ids.length };
  }
}
