import { Queue, type ConnectionOptions } from 'bullmq';
import type { CampaignJobs } from '../domain/ports/job-queues';
import { QUEUES, type BatchJob, type FanoutJob } from './jobs';
import { waitingJobs } from './queue-depth';

/** Options of `CampaignQueues`. */
export interface CampaignQueuesOptions {
  connection: ConnectionOptions;
  prefix: string;
  /** Tries of a batch whose sends fail transiently. Default 8 (about 20 minutes of backoff from 5 s). */
  batchAttempts?: number;
}

/** Producers of the campaign fan-out job and the delivery batch jobs. */
export class CampaignQueues implements CampaignJobs {
  readonly fanout: Queue<FanoutJob>;
  readonly deliveries: Queue<BatchJob>;

  constructor(opts: CampaignQueuesOptions) {
    this.fanout = new Queue<FanoutJob>(QUEUES.campaigns, {
      connection: opts.connection,
      prefix: opts.prefix,
      defaultJobOptions: {
        attempts: 20,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
    this.deliveries = new Queue<BatchJob>(QUEUES.deliveries, {
      connection: opts.connection,
      prefix: opts.prefix,
      defaultJobOptions: {
        attempts: opts.batchAttempts ?? 8,
        backoff: { type: 'exponential', delay: 5000 },
        // Completed batches are kept a day so a fan-out resumed after a crash finds its deterministic job id taken.
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
  }

  async startFanout(campaignId: number, run: string): Promise<void> {
    await this.fanout.add('fanout', { campaignId }, { jobId: `fanout-${campaignId}-${run}` });
  }

  /**
   * Adds the batch of recipients after `afterId`. The job id is derived from the cursor, so a fan-out that
   * crashed before its checkpoint re-adds the same job, which BullMQ ignores; the ids of the job that exists are
   * returned so the checkpoint counts what was really queued.
   */
  async addBatch(campaignId: number, afterId: number, ids: number[]): Promise<number[]> {
    const job = await this.deliveries.add('batch', { campaignId, ids }, { jobId: `c${campaignId}-after-${afterId}` });
    return job.data.ids;
  }

  async pendingBatches(): Promise<number> {
    return waitingJobs(this.deliveries);
  }

  /** Processes taking delivery jobs now; rejects when Redis will not tell (CLIENT LIST not allowed). */
  async deliveryWorkers(): Promise<number> {
    return (await this.deliveries.getWorkers()).length;
  }

  async close(): Promise<void> {
    await Promise.all([this.fanout.close(), this.deliveries.close()]);
  }
}
