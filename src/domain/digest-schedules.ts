import { NotFoundError, ValidationError } from './errors';
import { NEWSLETTER_SLUG, type Newsletter, type NewsletterSchedule } from './newsletter';
import { runKey, type NewsletterRun } from './newsletter-run';
import type { NewsletterRunnerDeps } from './run-campaign';
import { isSlot, latestSlot, localDate, nextSlot } from './schedule-slots';

export interface DigestSchedulesDeps extends NewsletterRunnerDeps {
  /**
   * How late a slot may still go out (SCHEDULE_MAX_LATE_MINUTES), in ms; later, it is recorded as missed. A slot
   * whose next slot has come is missed whatever this says: only the latest one goes out.
   */
  maxLateMs: number;
}

/** A slot that starts more than this after its time is late (logged and recorded); a worker that was up is well within. */
export const DIGEST_LATE_AFTER_MS = 3000;
/** Articles a digest takes at most, newest first (the campaign limit). */
const DIGEST_MAX_ARTICLES = 50;

/** Most runs one listing returns (the store keeps a few more, see NewsletterRunStore). */
export const RUNS_LISTED_MAX = 100;

/** A newsletter as operators see it: with the next time its schedule fires, when it has one. */
export type NewsletterView = Newsletter & { nextRunAt?: string };

/** What a slot's run did, for the log and the tests. */
export type DigestRunResult = 'sent' | 'skipped' | 'missed' | 'failed' | 'duplicate' | 'stale';

/**
 * Digests that send themselves: a delayed job per (newsletter, slot), each run claiming its slot before doing
 * anything, so a slot fires once whatever the number of workers, retries and restarts; each run plans the next.
 */
export class DigestSchedules {
  constructor(private readonly deps: DigestSchedulesDeps) {}

  /** The next slot of a digest's schedule from now, or undefined (no schedule, or alerts). */
  nextRunAt(newsletter: Newsletter): string | undefined {
    if (newsletter.mode !== 'digest' || !newsletter.schedule) return undefined;
    return nextSlot(newsletter.schedule, this.deps.clock.now())?.toISOString();
  }

  /**
   * Makes sure the job of the newsletter's next slot exists (adding it again is harmless). Called on every start and
   * after every create or update: a changed schedule gets its job, and the old schedule's job finds it is no longer
   * a slot and does nothing.
   */
  async planNext(newsletter: Newsletter): Promise<void> {
    const at = this.nextRunAt(newsletter);
    if (at) await this.plan(newsletter.slug, at);
  }

  /** planNext for every newsletter: what each process does on start. */
  async planAll(): Promise<void> {
    for (const n of await this.deps.newsletters.list()) await this.planNext(n);
  }

  /** The newsletter with `nextRunAt` (ISO 8601, UTC), for the API and the CLI. */
  describe(newsletter: Newsletter): NewsletterView {
    const nextRunAt = this.nextRunAt(newsletter);
    return nextRunAt ? { ...newsletter, nextRunAt } : newsletter;
  }

  /**
   * The runs of a newsletter's schedule or alerts, newest first: `limit` 1-100 (default 50) from an untrusted query.
   * 404 for an unknown newsletter.
   */
  async runs(rawSlug: unknown, rawLimit?: unknown): Promise<NewsletterRun[]> {
    const slug = typeof rawSlug === 'string' && NEWSLETTER_SLUG.test(rawSlug) ? rawSlug : undefined;
    if (!slug || !(await this.deps.newsletters.get(slug))) throw new NotFoundError('No newsletter with this slug');
    const limit = rawLimit === undefined || rawLimit === '' ? 50 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > RUNS_LISTED_MAX)
      throw new ValidationError('invalid_request', `limit: must be a whole number from 1 to ${RUNS_LISTED_MAX}`, {
        issues: [{ field: 'limit', message: `must be a whole number from 1 to ${RUNS_LISTED_MAX}` }],
      });
    return this.deps.runs.list(slug, limit);
  }

  /**
   * What a slot's job does when its time comes. Nothing unless the newsletter is still a digest whose schedule has
   * this slot. Otherwise it plans the next slot first (so the chain survives whatever follows), claims the slot, and
   * sends a campaign of the new articles, or records why not.
   */
  async run(slug: string, slotIso: string): Promise<DigestRunResult> {
    const { log } = this.deps;
    const slot = new Date(slotIso);
    const newsletter = await this.deps.newsletters.get(slug);
    const schedule = newsletter?.mode === 'digest' ? newsletter.schedule : undefined;
    if (!newsletter || !schedule || !isSlot(schedule, slot)) {
      log.info({ event: 'digest.stale', newsletter: slug, slot: slotIso }, 'slot no longer in the schedule');
      return 'stale';
    }
    const now = this.deps.clock.now();
    const key = runKey({ slot: slotIso });
    const latest = latestSlot(schedule, slot, now);
    const next = nextSlot(schedule, latest);
    if (next) await this.plan(slug, next.toISOString());
    const lateMs = now.getTime() - slot.getTime();
    const lateBySeconds = lateMs > DIGEST_LATE_AFTER_MS ? Math.round(lateMs / 1000) : undefined;

    const missed = this.missedBecause(slot, latest, lateMs);
    if (missed) {
      // The latest slot that came gets its own job at once (a no-op when it is this one's next and already planned).
      if (latest.getTime() !== slot.getTime()) await this.plan(slug, latest.toISOString());
      const claim = await this.deps.runs.claim(slug, key, {
        slot: slotIso,
        at: now.toISOString(),
        outcome: 'missed',
        articles: 0,
        reason: missed,
        lateBySeconds,
      });
      if (!claim.claimed) {
        if (claim.run.outcome !== 'running') return 'duplicate';
        // An earlier try that stopped halfway, retried only now: too late to send, so it ends as missed (a draft it
        // made stays, unsent, for the operator to see).
        await this.deps.runs.finish(slug, key, { ...claim.run, outcome: 'missed', reason: missed, lateBySeconds });
      }
      log.warn(
        { event: 'digest.missed', newsletter: slug, slot: slotIso, lateBySeconds, reason: missed },
        'digest slot missed',
      );
      return 'missed';
    }

    const running: NewsletterRun = {
      slot: slotIso,
      at: now.toISOString(),
      outcome: 'running',
      articles: 0,
      lateBySeconds,
    };
    const claim = await this.deps.runs.claim(slug, key, running);
    // A finished run of this slot: another worker did it. A run still `running` is an earlier try of this job (or
    // of a copy taken over from a stalled worker) that stopped halfway: go on from where it was.
    if (!claim.claimed && claim.run.outcome !== 'running') return 'duplicate';
    const run = claim.run;
    if (lateBySeconds !== undefined)
      log.warn(
        { event: 'digest.late', newsletter: slug, slot: slotIso, lateBySeconds },
        `digest ${lateBySeconds} s late`,
      );

    const result = await this.send(newsletter, schedule, key, run, slot);
    await this.deps.runs.finish(slug, key, { ...run, ...result });
    const event = `digest.${result.outcome}`;
    const fields = { event, newsletter: slug, slot: slotIso, ...result, lateBySeconds };
    if (result.outcome === 'failed') log.error(fields, 'scheduled digest failed');
    else log.info(fields, `scheduled digest ${result.outcome}`);
    return result.outcome as 'sent' | 'skipped' | 'failed';
  }

  /** Why a slot that runs now is not sent, or undefined when it is. */
  private missedBecause(slot: Date, latest: Date, lateMs: number): string | undefined {
    if (latest.getTime() !== slot.getTime())
      return `the slot of ${latest.toISOString()} had come too when it ran; only the latest is sent`;
    if (lateMs > this.deps.maxLateMs)
      return `${Math.round(lateMs / 1000)} s late, more than the ${Math.round(this.deps.maxLateMs / 60_000)} minutes a slot may be late`;
    return undefined;
  }

  private async send(
    newsletter: Newsletter,
    schedule: NewsletterSchedule,
    key: string,
    run: NewsletterRun,
    slot: Date,
  ) {
    const articles = await this.deps.articles.listNewIn(newsletter.slug, {
      categories: newsletter.categories,
      limit: DIGEST_MAX_ARTICLES,
    });
    if (run.campaignId === undefined && articles.length < schedule.minArticles)
      return {
        outcome: 'skipped' as const,
        articles: articles.length,
        reason: `fewer than ${schedule.minArticles} new articles (${articles.length})`,
      };
    return this.deps.sender.buildAndSend(newsletter.slug, key, run, {
      // Newest first, as `campaign create` orders the new articles.
      articleIds: articles.map((a) => a.id),
      subject: `${newsletter.name}: ${localDate(slot, schedule.timezone)}`.slice(0, 200),
      minArticles: schedule.minArticles,
    });
  }

  private async plan(slug: string, slot: string): Promise<void> {
    const delayMs = Math.max(0, Date.parse(slot) - this.deps.clock.now().getTime());
    await this.deps.jobs.scheduleDigest(slug, slot, delayMs);
  }
}
