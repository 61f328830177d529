import { Queue, type ConnectionOptions } from 'bullmq';
import type { CampaignJobs } from '../domain/ports/job-queues';
import { QUEUES, type BatchJob, type FanoutJob, type ScheduledSendJob } from './jobs';
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
  /** Delayed jobs, one per scheduled draft and time: a queue of its own so its workers never wait behind batches. */
  readonly schedules: Queue<ScheduledSendJob>;

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
    this.schedules = new Queue<ScheduledSendJob>(QUEUES.campaignSchedules, {
      connection: opts.connection,
      prefix: opts.prefix,
      defaultJobOptions: {
        attempts: 10,
        backoff: { type: 'exponential', delay: 2000 },
        // Removed once done, so the same draft scheduled again for the same instant later gets a job again; a
        // second job for a time already handled is harmless (the campaign is no longer scheduled for it).
        removeOnComplete: true,
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
  }

  async scheduleSend(campaignId: number, at: string): Promise<void> {
    // A time already past gives delay 0: the job runs at once. BullMQ keeps delayed jobs in Redis, so one that falls
    // due while no worker runs is taken by the first worker that starts.
    const delay = Math.max(0, Date.parse(at) - Date.now());
    await this.schedules.add('send', { campaignId, scheduledAt: at }, { jobId: scheduleJobId(campaignId, at), delay });
  }

  async unscheduleSend(campaignId: number, at: string): Promise<void> {
    // remove() refuses a job a worker holds (it is running); that run finds the schedule changed and does nothing.
    await this.schedules.remove(scheduleJobId(campaignId, at)).catch(() => 0);
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
    await Promise.all([this.fanout.close(), this.deliveries.close(), this.schedules.close()]);
  }
}

/** One job per campaign and scheduled instant (ms), so repeated adds of one schedule are one job. */
function scheduleJobId(campaignId: number, at: string): string {
  return `c${campaignId}-s${Date.parse(at)}`;
}
