import type { Logger } from 'pino';
import type { CampaignStatus } from './campaign';
import type { CampaignHealth } from './campaign-health';
import { PermanentDeliveryError, TransientDeliveryError } from './errors';
import type { Links } from './links';
import type { ArticleRepository } from './ports/article-repository';
import type { CampaignRepository } from './ports/campaign-repository';
import type { Clock } from './ports/clock';
import type { CampaignJobs } from './ports/job-queues';
import type { MailSender } from './ports/mail-sender';
import type { Metrics } from './ports/metrics';
import type { SendTimeline } from './ports/activity';
import type { SendRate } from './ports/rate-limits';
import type { SubscriberRepository } from './ports/subscriber-repository';
import type { Subscriber } from './subscriber';
import type { SuppressionPolicy } from './suppression-policy';

/** Options of `CampaignDelivery`. */
export interface CampaignDeliveryOptions {
  /** Recipients per batch job. */
  batchSize: number;
  /** Batch jobs waiting in the delivery queue before the fan-out waits. */
  queueHighWater: number;
  /** Consecutive failed sends after which the campaign pauses itself. */
  maxConsecutiveFailures: number;
  /** Messages sent at once within a batch (the SMTP pool queues the rest). Default 20. */
  parallel?: number;
}

/** Thrown by a batch when its campaign is paused: the worker puts the job back, delayed, to look again later. */
export class CampaignPausedSignal extends Error {
  readonly code = 'campaign_paused';
}

/** Thrown when sends failed transiently: the batch job retries with backoff; the ledger skips what went out. */
export class BatchRetryError extends Error {
  readonly code = 'batch_retry';
}

/**
 * The delivery engine: fan-out pages through the newsletter's readers into batch jobs, and each batch sends to its
 * recipients at most once. The campaign's ledger (a bitmap by subscriber id) is the source of truth for "sent";
 * it is written right after the server accepts a message, so a crash resends at most the messages in flight.
 */
export class CampaignDelivery {
  private readonly parallel: number;

  constructor(
    private readonly deps: {
      campaigns: CampaignRepository;
      subscribers: SubscriberRepository;
      articles: Pick<ArticleRepository, 'markSent'>;
      jobs: CampaignJobs;
      mailer: MailSender;
      links: Links;
      policy: SuppressionPolicy;
      health: CampaignHealth;
      rate: SendRate;
      clock: Clock;
      metrics: Metrics;
      /** Sends per minute, for the campaign view's chart. */
      timeline: SendTimeline;
      log: Logger;
      options: CampaignDeliveryOptions;
    },
  ) {
    this.parallel = deps.options.parallel ?? 20;
  }

  /**
   * Pages through the readers of the campaign's newsletter after the checkpoint, in id order, adding one batch job per page. Waits
   * while the delivery queue is deep so the queue holds a bounded number of batches whatever the list size. Stops
   * when the campaign is no longer sending (resume starts a new fan-out from the checkpoint).
   */
  async fanOut(campaignId: number, isClosing: () => boolean = () => false): Promise<void> {
    const { campaigns, subscribers, jobs, options, log } = this.deps;
    for (;;) {
      // Failing (not returning) makes the queue retry the job on the next worker, which resumes from the checkpoint.
      if (isClosing())
        throw new Error(`worker shutting down; fan-out of campaign ${campaignId} resumes from its checkpoint`);
      const c = await campaigns.get(campaignId);
      if (!c || c.status !== 'sending') return;
      if ((await jobs.pendingBatches()) >= options.queueHighWater) {
        await sleep(200);
        continue;
      }
      const ids = (await subscribers.pageMemberIds(c.newsletter, c.cursor, options.batchSize)).filter(
        (id) => id <= c.maxSubscriberId,
      );
      if (!ids.length) {
        const finished = await campaigns.finishFanout(campaignId, this.now());
        log.info({ event: 'campaign.fanout_done', campaignId, queued: c.queued }, 'fan-out done');
        if (finished) await this.onFinished(campaignId, finished);
        return;
      }
      const queued = await jobs.addBatch(campaignId, c.cursor, ids);
      // From the cursor read above only: after a failover to a replica that lacked the last checkpoints, the cursor
      // stored is behind the one read, and moving on from the read one would skip the recipients in between. The
      // next turn re-reads it and queues them; batches already queued are found by their job id, not added twice.
      await campaigns.checkpoint(campaignId, ids[ids.length - 1], queued.length, c.cursor);
    }
  }

  /**
   * Sends one batch. Re-reads every recipient (anyone who left the newsletter, bounced or was erased since fan-out
   * is skipped), skips anyone already recorded, and checks the campaign's status before each group of sends so
   * pause and cancel take effect within the batch.
   */
  async deliverBatch(campaignId: number, ids: number[], finalAttempt: boolean): Promise<void> {
    const { campaigns, subscribers, mailer, links, rate, metrics, log, options } = this.deps;
    const [campaign, content] = await Promise.all([campaigns.get(campaignId), campaigns.content(campaignId)]);
    if (!campaign || !content) throw new Error(`campaign ${campaignId} has no rendered content`);
    const reads = (s: Subscriber | null): s is Subscriber =>
      s?.status === 'active' && s.newsletters.includes(campaign.newsletter);
    const message = mailer.prepareNewsletter(campaignId, content);

    const recorded = await campaigns.recorded(campaignId, ids);
    const todo = ids.filter((_, i) => !recorded[i]);
    let transient: Error | undefined;
    // Answered with a 4xx: given up on after the last try. Not reached at all: kept, see below.
    const unsent: number[] = [];
    const unreached: number[] = [];
    // A 4xx on the last try is a soft bounce for the suppression policy; on an earlier one it is only a deferral.
    const attempt = { campaignId, willRetry: !finalAttempt };

    for (let i = 0; i < todo.length; i += this.parallel) {
      // Read before the wait for send permits, so a paused campaign's batches, which look again every few seconds,
      // do not use up the rate all workers share; and again after it, since at a low rate the wait lasts up to a
      // second and a pause or cancel (an automatic one included) that came meanwhile must hold for this group too.
      if (await this.stopped(campaignId)) return;
      const group = todo.slice(i, i + this.parallel);
      const subs = await subscribers.getMany(group);
      const sendable = subs.filter(reads);
      for (let k = 0; k < group.length; k++)
        if (!reads(subs[k])) await campaigns.record(campaignId, group[k], 'skipped');
      await rate.take(sendable.length);
      if (await this.stopped(campaignId)) return;
      let bounced = false;
      let sentHere = 0;
      const outcomes = await Promise.allSettled(
        sendable.map(async (sub) => {
          try {
            await message.send({
              email: sub.email,
              name: sub.name || 'reader',
              // This newsletter's mail: its links (List-Unsubscribe included) leave this newsletter only.
              unsubscribe: links.unsubscribe(sub.id, campaign.newsletter),
              preferencesUrl: links.preferences(sub.id),
              returnToken: links.returnToken(sub.id, campaignId),
            });
          } catch (err) {
            metrics.mailFailed('newsletter', err instanceof PermanentDeliveryError);
            // What the failure does to the person is the suppression policy's call; the ledger is ours.
            await this.deps.policy.sendFailed(sub, err, attempt);
            if (err instanceof PermanentDeliveryError) {
              if (await campaigns.record(campaignId, sub.id, 'bounced')) bounced = true;
              return;
            }
            transient = err as Error;
            // No server answered (refused, reset, timed out): an outage of ours, which says nothing about this
            // campaign or its readers, so it does not count towards the pause for consecutive failures; the batch
            // retries with backoff and goes out once the server is back.
            if (notReached(err)) {
              unreached.push(sub.id);
              return;
            }
            unsent.push(sub.id);
            const run = await campaigns.countFailure(campaignId);
            if (run >= options.maxConsecutiveFailures) await this.pauseForFailures(campaignId, run, err as Error);
            return;
          }
          // Outside the send's try: a ledger write that fails (Redis restarting, a failover) is not a failed send.
          // The batch fails and is retried; the message already accepted goes out again, one of those in flight.
          await campaigns.record(campaignId, sub.id, 'sent');
          metrics.mailSent('newsletter');
          sentHere++;
        }),
      );
      // Every send of the group is answered before the batch fails: no message is still in flight when it retries.
      const broken = outcomes.find((o) => o.status === 'rejected');
      if (broken) throw broken.reason;
      // One HINCRBY per group of sends (up to `parallel` messages), not one per message: the chart needs minutes.
      if (sentHere > 0) await this.deps.timeline.add(campaignId, this.deps.clock.now(), sentHere);
      // Refusals raise the hard-bounce rate: judge it before the next group goes out.
      if (bounced) await this.deps.health.check(campaignId);
    }

    if (transient) {
      const failed = unsent.length + unreached.length;
      if (!finalAttempt) throw new BatchRetryError(`${failed} of ${ids.length} sends failed: ${transient.message}`);
      for (const id of unsent) await campaigns.record(campaignId, id, 'failed');
      if (unsent.length)
        log.warn(
          { event: 'campaign.batch_failed', campaignId, failed: unsent.length },
          'batch gave up on some recipients',
        );
      // Out of tries and the server still not reached: recording these readers as failed would miss them for an
      // outage. The campaign pauses instead, and this batch waits with it; resume sends to them once the server is
      // back.
      if (unreached.length) {
        const reason =
          `paused: the SMTP server could not be reached for any of this batch's tries; ` +
          `last error: ${transient.message.slice(0, 300)}`;
        await this.deps.health.pause(campaignId, 'smtp_unreachable', reason, { unreached: unreached.length });
        throw new CampaignPausedSignal(`campaign ${campaignId} is paused`);
      }
    }
    // Every recipient of the batch has an outcome in the ledger now, unless Redis lost writes it had acknowledged:
    // a failover to a replica that had not yet received them, or a restart from a file missing its last second. Those
    // recipients were sent (a bit is written only after the server accepted the message), but completing the batch
    // now would leave them uncounted and the campaign would never finish: retry instead, which sends to them again,
    // a bounded number of duplicates rather than a campaign stuck in sending.
    const settled = await campaigns.recorded(campaignId, ids);
    const lost = settled.filter((r) => !r).length;
    if (lost > 0) {
      log.warn({ event: 'campaign.ledger_lost', campaignId, lost }, 'ledger writes lost; the batch is retried');
      throw new BatchRetryError(`${lost} of ${ids.length} outcomes missing from the ledger; retrying the batch`);
    }
    const finished = await campaigns.finishIfDone(campaignId, this.now());
    if (finished) await this.onFinished(campaignId, finished);
    // Also judged once a batch when nothing bounced in it: the sends of this batch may be what brings the campaign
    // to the minimum of messages the rates need. A finished campaign has nothing left to hold back.
    else await this.deps.health.check(campaignId);
  }

  private async pauseForFailures(campaignId: number, run: number, err: Error): Promise<void> {
    const reason = `paused after ${run} consecutive failed sends; last error: ${err.message.slice(0, 300)}`;
    await this.deps.health.pause(campaignId, 'consecutive_failures', reason, { run });
  }

  /** True when the campaign was cancelled or deleted; throws CampaignPausedSignal when it is paused. */
  private async stopped(campaignId: number): Promise<boolean> {
    const status = await this.deps.campaigns.status(campaignId);
    if (status === 'paused') throw new CampaignPausedSignal(`campaign ${campaignId} is paused`);
    return status === 'cancelled' || status === null;
  }

  private async onFinished(campaignId: number, status: CampaignStatus): Promise<void> {
    const c = await this.deps.campaigns.get(campaignId);
    if (c && status === 'sent') await this.deps.articles.markSent(c.articleIds, campaignId, c.newsletter);
    this.deps.log.info(
      {
        event: 'campaign.finished',
        campaignId,
        status,
        sent: c?.sent,
        failed: c?.failed,
        skipped: c?.skipped,
        bounced: c?.bounced,
        lateBounces: c?.lateBounces,
        complained: c?.complained,
      },
      'campaign finished',
    );
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

/** A transient failure with no SMTP reply: the connection was refused, reset or timed out. */
function notReached(err: unknown): boolean {
  return err instanceof TransientDeliveryError && !err.responseCode;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
