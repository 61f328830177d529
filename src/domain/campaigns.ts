import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Article } from './article';
import type { Campaign, CampaignContent, CampaignStatus } from './campaign';
import { campaignFigures, type CampaignFigures } from './campaign-health';
import { InvalidEmailError, normaliseEmail } from './email-address';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import { LINE_BREAKING, LONE_SURROGATE } from './validation';
import type { Links } from './links';
import type { Newsletters } from './newsletters';
import type { ArticleRepository } from './ports/article-repository';
import type { CampaignChanges, CampaignRepository } from './ports/campaign-repository';
import type { Clock } from './ports/clock';
import type { CampaignJobs } from './ports/job-queues';
import type { MailSender } from './ports/mail-sender';
import type { NewsletterRenderer, RenderedNewsletter } from './ports/newsletter-renderer';
import type { SubscriberRepository } from './ports/subscriber-repository';

export interface CampaignsDeps {
  campaigns: CampaignRepository;
  subscribers: SubscriberRepository;
  articles: ArticleRepository;
  renderer: NewsletterRenderer;
  mailer: MailSender;
  links: Links;
  /** Which newsletters exist, and the default one a campaign naming none belongs to. */
  newsletters: Newsletters;
  jobs: CampaignJobs;
  clock: Clock;
  log: Logger;
  publicUrl: string;
}

/**
 * Most bytes a newsletter's HTML part may have. Gmail shows only the first 102 KB of a message's HTML and hides the
 * rest behind "[Message clipped]" (with the unsubscribe link in the footer); the limit is measured on the rendered
 * HTML before each reader's values go in. Those values (the name, the unsubscribe link) add a few hundred bytes, so
 * 100 KB leaves room for them under Gmail's 102.
 */
export const NEWSLETTER_HTML_LIMIT = 100 * 1024;

/** A campaign as the operator sees it in its status: its report and the size of its HTML. */
export type CampaignOverview = CampaignReport & {
  /** Bytes of the newsletter's HTML part (UTF-8), as sent or, for a draft, as it would be. */
  htmlBytes: number;
};

/**
 * Campaigns whose web version is public: they have gone out (or are going out) to readers, whose copies link to it.
 * A draft is nobody's business yet, a cancelled campaign is one the operator withdrew, and a failed one reached
 * nobody (it ends so only when no message was accepted).
 */
const PUBLISHED: ReadonlySet<CampaignStatus> = new Set(['sending', 'paused', 'sent']);

const subjectSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((s) => !LINE_BREAKING.test(s) && !LONE_SURROGATE.test(s), 'must be one line, without control characters');
// Empty means "none": an edit clears it with "", and the first line goes back to the issue's headlines.
const preheaderSchema = z
  .string()
  .trim()
  .max(150)
  .refine((s) => !LINE_BREAKING.test(s) && !LONE_SURROGATE.test(s), 'must be one line, without control characters');
const articleIdsSchema = z
  .array(z.number().int().positive())
  .min(1)
  .max(50)
  // The list is the newsletter's order; an id twice would print the article twice, never what an operator wants.
  .refine((ids) => new Set(ids).size === ids.length, 'lists an article twice');

const createSchema = z.strictObject({
  subject: subjectSchema.optional(),
  preheader: preheaderSchema.optional(),
  articleIds: articleIdsSchema.optional(),
  /** Send articles that already went out in another campaign (refused with article_already_sent otherwise). */
  allowResend: z.boolean().optional(),
  // Checked against the stored newsletters by `Newsletters.resolve`, which answers unknown_newsletter.
  newsletter: z.unknown().optional(),
});

const editSchema = z
  .strictObject({
    subject: subjectSchema.optional(),
    preheader: preheaderSchema.optional(),
    articleIds: articleIdsSchema.optional(),
    allowResend: z.boolean().optional(),
  })
  .refine(
    (e) => e.subject !== undefined || e.preheader !== undefined || e.articleIds !== undefined,
    'give a subject, preheader, articleIds or a mix',
  );

/**
 * A schedule may name a time this many ms in the past: the operator's "now" reaches the server a moment late, and
 * such a job simply runs at once.
 */
export const SCHEDULE_SLACK_MS = 10_000;
/** How far ahead a draft can be scheduled: further than this is almost surely a typo in the year. */
export const SCHEDULE_HORIZON_MS = 366 * 24 * 3600 * 1000;
/**
 * A scheduled send that starts more than this after its time is "late" (logged, and recorded on the campaign). A
 * worker that was up takes a due job within a second or so; beyond this, no worker was there to take it.
 */
export const SCHEDULE_LATE_AFTER_MS = 3000;

const scheduleSchema = z.strictObject({
  // The zone is required: a bare local time would mean whatever zone the server runs in.
  at: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time with a zone, e.g. 2026-12-01T08:00:00Z' }),
});

/** Campaigns, newest first, that the reuse check looks at for drafts and sends in progress holding an article. */
const CAMPAIGNS_CHECKED_FOR_REUSE = 500;

/** Something the operator should know about a campaign that was still made or edited. */
export interface CampaignWarning {
  code: 'article_in_other_draft';
  message: string;
  /** The other draft. */
  campaignId: number;
  /** This campaign's articles that the other draft holds too. */
  articleIds: number[];
}

/** A created or edited draft, with what the operator should know about it. */
export type DraftReport = CampaignReport & { warnings: CampaignWarning[] };

/** How a campaign's articles were used before: sent (or going out) already, or held by other drafts. */
export interface ArticleReuse {
  /** Articles a sent campaign recorded on them, or that a campaign sending or paused holds. */
  sent: { articleId: number; title: string; campaignId: number }[];
  /** Other drafts that hold some of the articles, by draft. */
  inDrafts: { campaignId: number; articleIds: number[] }[];
}

/**
 * The one place that decides whether articles were "already sent", per newsletter: an article that went out in the
 * morning briefing is still new for the weekly letter. It was sent when the store records it as sent in this
 * newsletter (`sentHere`, one flag per article); a campaign of this newsletter still going out counts too, since its
 * articles are marked only when it ends. Drafts of the same newsletter holding an article earn a warning; other
 * newsletters' drafts reach other readers and do not. `others` are the campaigns to compare with, without the one
 * being edited.
 */
export function articleReuse(
  articles: Article[],
  others: Campaign[],
  newsletter: string,
  sentHere: boolean[],
): ArticleReuse {
  const sent: ArticleReuse['sent'] = [];
  const inDrafts = new Map<number, number[]>();
  const mine = others.filter((c) => c.newsletter === newsletter);
  articles.forEach((a, i) => {
    const holds = (c: Campaign) => c.articleIds.includes(a.id);
    const goingOut = mine.find((c) => (c.status === 'sending' || c.status === 'paused') && holds(c));
    // The campaign to name: a sent one of this newsletter that holds it, else the one the article store recorded.
    const sentBy = sentHere[i]
      ? (mine.find((c) => c.status === 'sent' && holds(c))?.id ?? a.sentInCampaign)
      : undefined;
    const campaignId = sentBy ?? goingOut?.id;
    if (campaignId !== undefined) sent.push({ articleId: a.id, title: a.title, campaignId });
    for (const c of mine)
      if (c.status === 'draft' && holds(c)) inDrafts.set(c.id, [...(inDrafts.get(c.id) ?? []), a.id]);
  });
  return { sent, inDrafts: [...inDrafts].map(([campaignId, articleIds]) => ({ campaignId, articleIds })) };
}

/**
 * A campaign as operators see it (GET /api/admin/campaigns/:id, `campaign status --json`): the stored campaign and
 * its figures, defined in campaign-health.ts. `bounced` is every hard bounce, the parts being `bouncedInSession`
 * (refused in the SMTP session) and `lateBounces` (reported back later); before late reports existed the two were
 * the same number, so a script reading `bounced` keeps its meaning.
 */
export type CampaignReport = Omit<Campaign, 'bounced'> & CampaignFigures;

export function campaignReport(c: Campaign): CampaignReport {
  return { ...c, ...campaignFigures(c) };
}

/** Web versions a process keeps: readers open the latest few newsletters, and each is 100 KB at most. */
const KEPT_WEB_VERSIONS = 8;

/** The operator's side of campaigns: create from new articles, preview, test, send, pause, resume, cancel. */
export class Campaigns {
  /**
   * Web versions by campaign id. A campaign's content never changes once it is sent, and making its web version
   * costs an HTML parse (about 10 ms for a large one), too much for every click on "View in browser".
   */
  private readonly webVersions = new Map<number, string>();

  constructor(private readonly deps: CampaignsDeps) {}

  /**
   * A draft from the given articles, or from every article new in its newsletter; the subject defaults to the lead
   * article's title. Articles sent already need `allowResend`; articles other drafts hold too are allowed, with a
   * warning.
   */
  async create(input: unknown): Promise<DraftReport> {
    const { subject, preheader, articleIds, allowResend, newsletter: slug } = parse(createSchema, input);
    const newsletter = await this.deps.newsletters.resolve(slug);
    let articles: Article[];
    if (articleIds) {
      articles = await this.knownArticles(articleIds);
    } else {
      const { categories } = await this.deps.newsletters.get(newsletter);
      articles = await this.deps.articles.listNewIn(newsletter, { categories, limit: 50 });
      if (!articles.length)
        throw new ValidationError(
          'no_new_articles',
          `There are no new articles to send in newsletter "${newsletter}"` +
            `${categories.length ? ` (categories ${categories.join(', ')})` : ''}. Add articles first.`,
        );
    }
    const warnings = await this.checkReuse(articles, newsletter, undefined, allowResend);
    const title = subject ?? articles[0].title.slice(0, 200);
    // The id is not known before the campaign exists; the web version's link differs by a few digits, at most.
    await this.renderWithinLimit({ subject: title, preheader }, articles, this.deps.links.webVersion(0));
    const campaign = await this.deps.campaigns.create({
      subject: title,
      preheader: preheader || undefined,
      newsletter,
      articleIds: articles.map((a) => a.id),
      now: this.now(),
    });
    this.deps.log.info(
      { event: 'campaign.created', campaignId: campaign.id, newsletter, articles: articles.length },
      'campaign created',
    );
    return { ...campaignReport(campaign), warnings };
  }

  /**
   * Changes a draft's subject, its articles (in the order given, which is the newsletter's order) or both. The
   * edited draft must fit the size budget, and the article rules of `create` apply to the articles given. The write
   * happens only while the campaign is still a draft, so a send that started meanwhile keeps what it read.
   */
  async edit(id: number, input: unknown): Promise<DraftReport> {
    const { subject, preheader, articleIds, allowResend } = parse(editSchema, input);
    const campaign = await this.load(id);
    if (campaign.status !== 'draft') throw notADraft(id, campaign.status, 'edited');
    let warnings: CampaignWarning[] = [];
    const articles = articleIds
      ? await this.knownArticles(articleIds)
      : await this.deps.articles.getMany(campaign.articleIds);
    // A subject-only edit leaves the articles as the operator accepted them when the draft was made.
    if (articleIds) warnings = await this.checkReuse(articles, campaign.newsletter, id, allowResend);
    await this.renderWithinLimit(
      { subject: subject ?? campaign.subject, preheader: preheader ?? campaign.preheader },
      articles,
      this.deps.links.webVersion(id),
    );
    const edited = await this.deps.campaigns.updateDraft(id, { subject, preheader, articleIds });
    if (!edited.ok) {
      if (edited.current === null) throw new NotFoundError(`No campaign ${id}`);
      throw notADraft(id, edited.current, 'edited');
    }
    this.deps.log.info(
      { event: 'campaign.edited', campaignId: id, subject: subject !== undefined, articles: articleIds?.length },
      'campaign edited',
    );
    return { ...(await this.get(id)), warnings };
  }

  /** Removes a draft for good; a campaign that started sending keeps its record. */
  async delete(id: number): Promise<void> {
    const before = await this.deps.campaigns.get(id);
    const deleted = await this.deps.campaigns.deleteDraft(id);
    if (!deleted.ok) {
      if (deleted.current === null) throw new NotFoundError(`No campaign ${id}`);
      throw notADraft(id, deleted.current, 'deleted');
    }
    // Its schedule job would find no campaign and do nothing; removing it only keeps the queue tidy.
    if (before?.scheduledAt) await this.deps.jobs.unscheduleSend(id, before.scheduledAt);
    this.deps.log.info({ event: 'campaign.deleted', campaignId: id }, 'campaign deleted');
  }

  async get(id: number): Promise<CampaignReport> {
    return campaignReport(await this.load(id));
  }

  /** The campaign with the size of its HTML (a draft is rendered to measure it). */
  async overview(id: number): Promise<CampaignOverview> {
    const campaign = await this.load(id);
    const content = await this.content(campaign);
    return { ...campaignReport(campaign), htmlBytes: byteLength(content.html) };
  }

  async list(): Promise<CampaignReport[]> {
    return (await this.deps.campaigns.list()).map(campaignReport);
  }

  /**
   * The newsletter as a subscriber would see it (sent content once sending started, a fresh render before), and the
   * size of the HTML that is sent.
   */
  async preview(id: number): Promise<{ html: string; htmlBytes: number }> {
    const content = await this.content(await this.load(id));
    const html = this.deps.renderer.personalise(content.html, {
      name: 'reader',
      unsubscribeUrl: `${this.deps.publicUrl}/unsubscribe?token=preview`,
      preferencesUrl: `${this.deps.publicUrl}/preferences?token=preview`,
    });
    return { html, htmlBytes: byteLength(content.html) };
  }

  /**
   * The public web version of a campaign that has gone out: its sent HTML with nothing personal in it.
   * NotFoundError for a draft, a cancelled campaign or an unknown id alike, so nothing tells them apart.
   */
  async webVersion(id: number): Promise<string> {
    // The status is read every time: a campaign cancelled since is withdrawn at once.
    const campaign = await this.deps.campaigns.get(id);
    if (!campaign || !PUBLISHED.has(campaign.status)) throw new NotFoundError(`No published newsletter ${id}`);
    let page = this.webVersions.get(id);
    if (page === undefined) {
      const content = await this.deps.campaigns.content(id);
      if (!content) throw new NotFoundError(`No published newsletter ${id}`);
      page = await this.deps.renderer.webVersion(content.html);
      if (this.webVersions.size >= KEPT_WEB_VERSIONS) this.webVersions.delete(this.webVersions.keys().next().value!);
      this.webVersions.set(id, page);
    }
    return page;
  }

  /** Sends one message of the campaign to `to`, right away, outside the list (no ledger, no counters). */
  async test(id: number, input: unknown): Promise<{ messageId: string; to: string }> {
    const campaign = await this.load(id);
    let to: string;
    try {
      to = normaliseEmail((input as { to?: unknown } | undefined)?.to);
    } catch (e) {
      if (e instanceof InvalidEmailError) throw new ValidationError('invalid_email', `to: ${e.message}`);
      throw e;
    }
    const content = await this.content(campaign);
    const message = this.deps.mailer.prepareNewsletter(0, { ...content, subject: `[Test] ${content.subject}` });
    // A test recipient is usually not a subscriber: id 0 makes an unsubscribe link that changes nothing.
    const result = await message.send({
      email: to,
      name: 'reader',
      unsubscribe: this.deps.links.unsubscribe(0),
      preferencesUrl: this.deps.links.preferences(0),
    });
    this.deps.log.info({ event: 'campaign.test_sent', campaignId: id }, 'test message sent');
    return { messageId: result.messageId, to };
  }

  /**
   * Plans the send of a draft at `input.at` (ISO 8601 with a zone, in the future, within a year). A draft already
   * scheduled gets the new time; the job of the old time finds the schedule changed and does nothing.
   */
  async schedule(id: number, input: unknown): Promise<CampaignReport> {
    const { at: given } = parse(scheduleSchema, input, 'invalid_schedule');
    const when = Date.parse(given);
    const now = this.deps.clock.now().getTime();
    if (when < now - SCHEDULE_SLACK_MS)
      throw new ValidationError('invalid_schedule', `at: ${given} is in the past; give a time to come`);
    if (when > now + SCHEDULE_HORIZON_MS)
      throw new ValidationError('invalid_schedule', `at: ${given} is more than a year ahead`);
    const campaign = await this.load(id);
    if (campaign.status !== 'draft') throw notADraft(id, campaign.status, 'scheduled');
    // Stored in UTC, as every other time of a campaign; the job id is derived from the instant, not the spelling.
    const at = new Date(when).toISOString();
    // The job goes in first: a crash between the two leaves a job that finds no matching schedule (a no-op), never
    // a schedule with no job to fire it.
    await this.deps.jobs.scheduleSend(id, at);
    const set = await this.deps.campaigns.setSchedule(id, at);
    if (!set.ok) {
      if (set.current === null) throw new NotFoundError(`No campaign ${id}`);
      throw notADraft(id, set.current, 'scheduled');
    }
    if (campaign.scheduledAt && campaign.scheduledAt !== at)
      await this.deps.jobs.unscheduleSend(id, campaign.scheduledAt);
    this.deps.log.info({ event: 'campaign.scheduled', campaignId: id, at }, 'campaign scheduled');
    return this.get(id);
  }

  /** Takes a draft's schedule away; its job finds no schedule and does nothing. Idempotent on a draft. */
  async unschedule(id: number): Promise<CampaignReport> {
    const campaign = await this.load(id);
    const set = await this.deps.campaigns.setSchedule(id, null);
    if (!set.ok) {
      if (set.current === null) throw new NotFoundError(`No campaign ${id}`);
      throw notADraft(id, set.current, 'unscheduled');
    }
    if (campaign.scheduledAt) await this.deps.jobs.unscheduleSend(id, campaign.scheduledAt);
    this.deps.log.info({ event: 'campaign.unscheduled', campaignId: id }, 'campaign unscheduled');
    return this.get(id);
  }

  /**
   * What a schedule job does when its time comes: sends the campaign if it is still a draft scheduled for exactly
   * `scheduledAt`, and otherwise nothing (it was sent, edited into another schedule, unscheduled, cancelled or
   * deleted since). The check is repeated inside the atomic start of the send, so a reschedule racing this run wins
   * whole. Returns what happened, for the log and the tests.
   */
  async runSchedule(id: number, scheduledAt: string): Promise<'sent' | 'stale'> {
    const campaign = await this.deps.campaigns.get(id);
    if (!campaign || campaign.status !== 'draft' || campaign.scheduledAt !== scheduledAt) {
      this.deps.log.info(
        { event: 'campaign.schedule_stale', campaignId: id, scheduledAt, status: campaign?.status ?? null },
        'schedule no longer current; nothing sent',
      );
      return 'stale';
    }
    const lateMs = this.deps.clock.now().getTime() - Date.parse(scheduledAt);
    const startedLateBySeconds = lateMs > SCHEDULE_LATE_AFTER_MS ? Math.round(lateMs / 1000) : undefined;
    if (startedLateBySeconds !== undefined)
      this.deps.log.warn(
        { event: 'campaign.schedule_late', campaignId: id, scheduledAt, lateBySeconds: startedLateBySeconds },
        `scheduled send starting ${startedLateBySeconds} s late`,
      );
    try {
      await this.startSend(id, { scheduledAt, startedLateBySeconds });
      return 'sent';
    } catch (e) {
      // Another worker or an operator got there first, or the draft changed between the read and the start: the
      // run that lost has nothing to do. Anything else (too large now, Redis down) is the job's failure.
      if (e instanceof ConflictError || e instanceof NotFoundError) {
        this.deps.log.info(
          { event: 'campaign.schedule_stale', campaignId: id, scheduledAt, code: e.code },
          'scheduled send lost to a change; nothing sent',
        );
        return 'stale';
      }
      throw e;
    }
  }

  /** Renders the newsletter once, stores it, and starts the fan-out. */
  async send(id: number): Promise<CampaignReport> {
    return this.startSend(id);
  }

  /**
   * The start of a send, by hand or on schedule. `scheduled` holds the schedule the draft must still have, and the
   * lateness to record.
   */
  private async startSend(
    id: number,
    scheduled?: { scheduledAt: string; startedLateBySeconds?: number },
  ): Promise<CampaignReport> {
    const campaign = await this.load(id);
    if (campaign.status !== 'draft')
      throw new ConflictError('invalid_state', `Campaign ${id} is ${campaign.status}; only a draft can be sent`);
    const articles = await this.deps.articles.getMany(campaign.articleIds);
    // Checked again at send: the templates or the articles may have changed since the draft was made.
    const rendered = await this.renderWithinLimit(campaign, articles, this.deps.links.webVersion(id));
    const maxSubscriberId = await this.deps.subscribers.lastId();
    const total = await this.deps.subscribers.countMembers(campaign.newsletter, maxSubscriberId);
    // The content and the status go in together, and only if the draft is still the one rendered: an edit or a
    // delete that landed in between wins whole, and nothing of this send is left behind.
    const moved = await this.deps.campaigns.startSending(
      id,
      {
        subject: campaign.subject,
        preheader: campaign.preheader,
        articleIds: campaign.articleIds,
        scheduledAt: scheduled?.scheduledAt,
      },
      { subject: campaign.subject, ...rendered },
      { startedAt: this.now(), maxSubscriberId, total, startedLateBySeconds: scheduled?.startedLateBySeconds },
    );
    if (!moved.ok) {
      if (moved.current === null) throw new NotFoundError(`No campaign ${id}`);
      if (moved.current === 'draft')
        throw new ConflictError(
          'draft_changed',
          `Campaign ${id} was edited while it was being sent; nothing went out. Preview it and send it again.`,
        );
      throw new ConflictError('invalid_state', `Campaign ${id} is ${moved.current}; only a draft can be sent`);
    }
    await this.deps.jobs.startFanout(id, 'start');
    this.deps.log.info(
      { event: 'campaign.sending', campaignId: id, total, scheduledAt: scheduled?.scheduledAt },
      'campaign sending',
    );
    return this.get(id);
  }

  /** Every batch checks the status before each group of sends, so a pause holds within one batch. */
  async pause(id: number): Promise<CampaignReport> {
    await this.move(id, ['sending'], 'paused', { reason: 'paused by operator', pausedAt: this.now() });
    return this.get(id);
  }

  /**
   * A resume acknowledges the campaign as it stands: its counters become the rate baseline, so the rate check judges
   * only what is sent from now on (see judgeRates) instead of pausing it again at once.
   */
  async resume(id: number): Promise<CampaignReport> {
    await this.move(id, ['paused'], 'sending', { reason: '', resetFailures: true, rateBaseline: true });
    const c = await this.load(id);
    // The fan-out stopped when the pause began; a new one continues from its checkpoint. Its run id must be new (a
    // finished fan-out job keeps its id for days) and need not be ordered: the transition above lets one resume in.
    if (!c.fanoutDone) await this.deps.jobs.startFanout(id, `resume-${randomUUID()}`);
    else await this.deps.campaigns.finishIfDone(id, this.now());
    return this.get(id);
  }

  async cancel(id: number): Promise<CampaignReport> {
    await this.move(id, ['draft', 'sending', 'paused'], 'cancelled', {
      finishedAt: this.now(),
      reason: 'cancelled by operator',
    });
    return this.get(id);
  }

  private async move(
    id: number,
    from: Campaign['status'][],
    to: Campaign['status'],
    changes: CampaignChanges,
  ): Promise<void> {
    await this.load(id);
    const moved = await this.deps.campaigns.transition(id, from, to, changes);
    if (!moved.ok)
      throw new ConflictError('invalid_state', `Campaign ${id} is ${moved.current}; it cannot become ${to}`);
    this.deps.log.info({ event: `campaign.${to}`, campaignId: id }, `campaign ${to}`);
  }

  /** The articles with these ids, in this order; unknown_articles names any that do not exist. */
  private async knownArticles(ids: number[]): Promise<Article[]> {
    const articles = await this.deps.articles.getMany(ids);
    const missing = ids.filter((id) => !articles.some((a) => a.id === id));
    if (missing.length) throw new ValidationError('unknown_articles', `No article with id ${missing.join(', ')}`);
    return articles;
  }

  /**
   * Refuses articles that went out already unless `allowResend`, and warns of other drafts that hold some of them.
   * `self` is the draft being edited, which does not count against itself.
   */
  private async checkReuse(articles: Article[], newsletter: string, self: number | undefined, allowResend = false) {
    const others = (await this.deps.campaigns.list(CAMPAIGNS_CHECKED_FOR_REUSE)).filter((c) => c.id !== self);
    const sentHere = await this.deps.articles.sentIn(
      newsletter,
      articles.map((a) => a.id),
    );
    const reuse = articleReuse(articles, others, newsletter, sentHere);
    if (reuse.sent.length && !allowResend) {
      const which = reuse.sent.map((s) => `article ${s.articleId} ("${s.title}") in campaign ${s.campaignId}`);
      throw new ConflictError(
        'article_already_sent',
        `Already sent: ${which.join('; ')}. Readers would get ${reuse.sent.length === 1 ? 'it' : 'them'} again; ` +
          `to do that on purpose, pass allowResend: true (CLI --allow-resend).`,
        { articles: reuse.sent },
      );
    }
    return reuse.inDrafts.map(({ campaignId, articleIds }): CampaignWarning => ({
      code: 'article_in_other_draft',
      message: `Draft campaign ${campaignId} also holds article${articleIds.length === 1 ? '' : 's'} ${articleIds.join(', ')}.`,
      campaignId,
      articleIds,
    }));
  }

  private async load(id: number): Promise<Campaign> {
    const c = await this.deps.campaigns.get(id);
    if (!c) throw new NotFoundError(`No campaign ${id}`);
    return c;
  }

  private async content(campaign: Campaign): Promise<CampaignContent> {
    return (await this.deps.campaigns.content(campaign.id)) ?? this.render(campaign);
  }

  private async render(campaign: Campaign): Promise<CampaignContent> {
    const articles = await this.deps.articles.getMany(campaign.articleIds);
    const webVersionUrl = this.deps.links.webVersion(campaign.id);
    const rendered = await this.deps.renderer.render({
      subject: campaign.subject,
      preheader: campaign.preheader,
      articles,
      webVersionUrl,
    });
    return { subject: campaign.subject, ...rendered };
  }

  /**
   * Renders the newsletter and refuses it when its HTML is over NEWSLETTER_HTML_LIMIT, saying by how much and how
   * many of its articles, in order, would fit (found by rendering shorter newsletters: only on this failure path).
   */
  private async renderWithinLimit(
    { subject, preheader }: { subject: string; preheader?: string },
    articles: Article[],
    webVersionUrl: string,
  ): Promise<RenderedNewsletter> {
    const size = async (n: number) => {
      const rendered = await this.deps.renderer.render({
        subject,
        preheader,
        articles: articles.slice(0, n),
        webVersionUrl,
      });
      return { rendered, bytes: byteLength(rendered.html) };
    };
    const whole = await size(articles.length);
    if (whole.bytes <= NEWSLETTER_HTML_LIMIT) return whole.rendered;
    let fit = 0;
    let over = articles.length;
    while (over - fit > 1) {
      const mid = Math.floor((fit + over) / 2);
      if ((await size(mid)).bytes <= NEWSLETTER_HTML_LIMIT) fit = mid;
      else over = mid;
    }
    throw new ValidationError(
      'newsletter_too_large',
      `The newsletter would be ${kilobytes(whole.bytes)} of HTML, over the ${kilobytes(NEWSLETTER_HTML_LIMIT)} ` +
        `limit (Gmail clips longer mails). ${fit} of its ${articles.length} articles fit: ` +
        `send fewer articles, or shorter summaries.`,
      { htmlBytes: whole.bytes, limitBytes: NEWSLETTER_HTML_LIMIT, articles: articles.length, articlesThatFit: fit },
    );
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

/** The input as the schema reads it, or `code` (invalid_campaign by default) naming the first bad field. */
function parse<T>(
  schema: z.ZodType<T>,
  input: unknown,
  code: 'invalid_campaign' | 'invalid_schedule' = 'invalid_campaign',
): T {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(code, `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

function notADraft(
  id: number,
  status: CampaignStatus,
  action: 'edited' | 'deleted' | 'scheduled' | 'unscheduled',
): ConflictError {
  return new ConflictError('invalid_state', `Campaign ${id} is ${status}; only a draft can be ${action}`, { status });
}

/** Bytes of a string in UTF-8, as it goes into the mail. */
function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** 104448 → "102.0 KB" (KB of 1024 bytes, as mail apps and Gmail's clipping count them), with the exact bytes. */
function kilobytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB (${bytes.toLocaleString('en-US')} bytes)`;
}
