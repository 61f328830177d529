import type { Logger } from 'pino';
import type { CampaignDelivery } from '../src/domain/campaign-delivery';
import { QUEUES, type FanoutJob, type WorkerDefinition } from '../src/queue/jobs';

/**
 * Runs campaign fan-outs: one job per campaign start or resume, resuming from the campaign's checkpoint. A fan-out
 * can run for a long time; on shutdown it stops at its next page (its checkpoint is saved) and fails, so the queue
 * retries it from there on whichever worker comes next.
 */
export function campaignWorker(deps: {
  delivery: CampaignDelivery;
  log: Logger;
  lockDurationMs: number;
}): WorkerDefinition<FanoutJob> {
  return {
    queue: QUEUES.campaigns,
    concurrency: 2,
    lockDurationMs: deps.lockDurationMs,
    process: (job, ctx) => deps.delivery.fanOut(job.campaignId, ctx.closing),
    onFailed(job, _attempts, err) {
      deps.log.error(
        { event: 'campaign.fanout_failed', campaignId: job?.campaignId, err: err.message },
        'fan-out failed',
      );
    },
  };
}
