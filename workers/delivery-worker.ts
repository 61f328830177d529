import type { Logger } from 'pino';
import { CampaignPausedSignal, type CampaignDelivery } from '../src/domain/campaign-delivery';
import { QUEUES, RetryLater, type BatchJob, type WorkerDefinition } from '../src/queue/jobs';

/** How long a batch of a paused campaign waits before it looks at the status again. */
const PAUSED_RECHECK_MS = 2000;

/**
 * Sends delivery batches. Transient failures retry with the job's backoff; a paused campaign's batch waits, delayed.
 * A crashed worker's batch is taken over once its lock lapses; the ledger makes the retake resend nothing already
 * accepted.
 */
export function deliveryWorker(deps: {
  delivery: CampaignDelivery;
  log: Logger;
  concurrency: number;
  lockDurationMs: number;
}): WorkerDefinition<BatchJob> {
  return {
    queue: QUEUES.deliveries,
    concurrency: deps.concurrency,
    lockDurationMs: deps.lockDurationMs,
    async process(job, ctx) {
      try {
        await deps.delivery.deliverBatch(job.campaignId, job.ids, ctx.finalAttempt);
      } catch (err) {
        if (err instanceof CampaignPausedSignal) throw new RetryLater(PAUSED_RECHECK_MS, err.message);
        throw err;
      }
    },
    onFailed(job, attemptsMade, err) {
      deps.log.warn(
        { event: 'campaign.batch_retry', campaignId: job?.campaignId, attempt: attemptsMade, err: err.message },
        'batch failed',
      );
    },
  };
}
