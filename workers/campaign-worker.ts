import { Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { QUEUES } from '../src/queue/queue-names';
import type { FanoutJob } from '../src/queue/campaign-queues';
import type { CampaignDelivery } from '../src/domain/campaign-delivery';

/** Runs campaign fan-outs: one job per campaign start or resume, resuming from the campaign's checkpoint. */
export function startCampaignWorker(deps: { connection: ConnectionOptions; prefix: string; delivery: CampaignDelivery; log: Logger; lockDurationMs: number }): Worker<FanoutJob> {
  let closing = false;
  const worker = new Worker<FanoutJob>(QUEUES.campaigns, (job) => deps.delivery.fanOut(job.data.campaignId, () => closing), {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: 2,
    lockDuration: deps.lockDurationMs,
    stalledInterval: deps.lockDurationMs,
    maxStalledCount: 10,
  });
  const close = worker.close.bind(worker);
  // A fan-out can run for a long time; on shutdown it stops at its next page (its checkpoint is saved) and fails,
  // so BullMQ retries it from there on whichever worker comes next.
  worker.close = async (force?: boolean) => {
    closing = true;
    return close(force);
  };
  worker.on('failed', (job, err) => deps.log.error({ event: 'campaign.fanout_failed', campaignId: job?.data.campaignId, err: err.message }, 'fan-out failed'));
  worker.on('error', (err) => deps.log.error({ event: 'worker.error', queue: QUEUES.campaigns, err: err.message }, 'worker error'));
  return worker;
}
