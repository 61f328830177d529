import { DelayedError, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { QUEUES } from '../src/queue/queue-names';
import type { BatchJob } from '../src/queue/campaign-queues';
import { CampaignPausedSignal, type CampaignDelivery } from '../src/domain/campaign-delivery';

/** How long a batch of a paused campaign waits before it looks at the status again. */
const PAUSED_RECHECK_MS = 2000;

/** Sends delivery batches. Transient failures retry with the job's backoff; a paused campaign's batch waits, delayed. */
export function startDeliveryWorker(deps: { connection: ConnectionOptions; prefix: string; delivery: CampaignDelivery; log: Logger; concurrency: number; lockDurationMs: number }): Worker<BatchJob> {
  const worker = new Worker<BatchJob>(
    QUEUES.deliveries,
    async (job, token) => {
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      try {
        await deps.delivery.deliverBatch(job.data.campaignId, job.data.ids, finalAttempt);
      } catch (err) {
        if (!(err instanceof CampaignPausedSignal)) throw err;
        await job.moveToDelayed(Date.now() + PAUSED_RECHECK_MS, token);
        throw new DelayedError();
      }
    },
    // A crashed worker's batch is taken over once its lock lapses; the ledger makes the retake resend nothing already accepted.
    { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency, lockDuration: deps.lockDurationMs, stalledInterval: deps.lockDurationMs, maxStalledCount: 10 },
  );
  worker.on('failed', (job, err) => deps.log.warn({ event: 'campaign.batch_retry', campaignId: job?.data.campaignId, attempt: job?.attemptsMade, err: err.message }, 'batch failed'));
  worker.on('error', (err) => deps.log.error({ event: 'worker.error', queue: QUEUES.deliveries, err: err.message }, 'worker error'));
  return worker;
}
