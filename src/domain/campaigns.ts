import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Article } from './article';
import type { Campaign, CampaignContent } from './campaign';
import { campaignFigures, type CampaignFigures } from './campaign-health';
import { InvalidEmailError, normaliseEmail } from './email-address';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import type { Links } from './links';
import type { ArticleRepository } from './ports/article-repository';
import type { CampaignChanges, CampaignRepository } from './ports/campaign-repository';
import type { Clock } from './ports/clock';
import type { CampaignJobs } from './ports/job-queues';
import type { MailSender } from './ports/mail-sender';
import type { NewsletterRenderer } from './ports/newsletter-renderer';
import type { SubscriberRepository } from './ports/subscriber-repository';

export interface CampaignsDeps {
  campaigns: CampaignRepository;
  subscribers: SubscriberRepository;
  articles: ArticleRepository;
  renderer: NewsletterRenderer;
  mailer: MailSender;
  links: Links;
  jobs: CampaignJobs;
  clock: Clock;
  log: Logger;
  publicUrl: string;
}

const createSchema = z.strictObject({
  subject: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((s) => !/[\r\n\0]/.test(s), 'must be one line')
    .optional(),
  articleIds: z.array(z.number().int().positive()).min(1).max(50).optional(),
});

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

/** The operator's side of campaigns: create from new articles, preview, test, send, pause, resume, cancel. */
export class Campaigns {
  constructor(private readonly deps: CampaignsDeps) {}

  /** A draft from the given articles, or from every new article; the subject defaults to the lead article's title. */
  async create(input: unknown): Promise<CampaignReport> {
    const parsed = createSchema.safeParse(input ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ValidationError('invalid_campaign', `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const { subject, articleIds } = parsed.data;
    let articles: Article[];
    if (articleIds) {
      articles = await this.deps.articles.getMany(articleIds);
      const missing = articleIds.filter((id) => !articles.some((a) => a.id === id));
      if (missing.length) throw new ValidationError('unknown_articles', `No article with id ${missing.join(', ')}`);
    } else {
      articles = await this.deps.articles.listNew(50);
      if (!articles.length)
        throw new ValidationError('no_new_articles', 'There are no new articles to send. Add articles first.');
    }
    const campaign = await this.deps.campaigns.create({
      subject: subject ?? articles[0].title.slice(0, 200),
      articleIds: articles.map((a) => a.id),
      now: this.now(),
    });
    this.deps.log.info(
      { event: 'campaign.created', campaignId: campaign.id, articles: articles.length },
      'campaign created',
    );
    return campaignReport(campaign);
  }

  async get(id: number): Promise<CampaignReport> {
    return campaignReport(await this.load(id));
  }

  async list(): Promise<CampaignReport[]> {
    return (await this.deps.campaigns.list()).map(campaignReport);
  }

  /** The newsletter as a subscriber would see it (sent content once sending started, a fresh render before). */
  async preview(id: number): Promise<string> {
    const content = await this.content(await this.load(id));
    return this.deps.renderer.personalise(content.html, {
      name: 'reader',
      unsubscribeUrl: `${this.deps.publicUrl}/unsubscribe?token=preview`,
    });
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
    const result = await message.send({ email: to, name: 'reader', unsubscribe: this.deps.links.unsubscribe(0) });
    this.deps.log.info({ event: 'campaign.test_sent', campaignId: id }, 'test message sent');
    return { messageId: result.messageId, to };
  }

  /** Renders the newsletter once, stores it, and starts the fan-out. */
  async send(id: number): Promise<CampaignReport> {
    const campaign = await this.load(id);
    if (campaign.status !== 'draft')
      throw new ConflictError('invalid_state', `Campaign ${id} is ${campaign.status}; only a draft can be sent`);
    await this.deps.campaigns.saveContent(id, await this.render(campaign));
    const maxSubscriberId = await this.deps.subscribers.lastId();
    const total = await this.deps.subscribers.countActiveUpTo(maxSubscriberId);
    const moved = await this.deps.campaigns.transition(id, ['draft'], 'sending', {
      startedAt: this.now(),
      maxSubscriberId,
      total,
    });
    if (!moved.ok)
      throw new ConflictError('invalid_state', `Campaign ${id} is ${moved.current}; only a draft can be sent`);
    await this.deps.jobs.startFanout(id, 'start');
    this.deps.log.info({ event: 'campaign.sending', campaignId: id, total }, 'campaign sending');
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
    const rendered = await this.deps.renderer.render({ subject: campaign.subject, articles });
    return { subject: campaign.subject, ...rendered };
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}
