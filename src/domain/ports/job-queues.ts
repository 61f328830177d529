import type { TransactionalKind } from './mail-sender';

/** The delivery engine's jobs: one fan-out job per campaign start or resume, and batch jobs of recipient ids. */
export interface CampaignJobs {
  /** Starts a fan-out; `run` makes its job unique per start or resume. */
  startFanout(campaignId: number, run: string): Promise<void>;
  /**
   * Queues the batch of the ids after `afterId`. Idempotent per (campaign, afterId): a batch already queued is
   * kept, and the ids of the batch that exists are returned.
   */
  addBatch(campaignId: number, afterId: number, ids: number[]): Promise<number[]>;
  /** Batches queued and not yet taken by a worker. */
  pendingBatches(): Promise<number>;
  /**
   * Plans the send of a draft at `at` (ISO 8601). Idempotent per (campaign, at): adding it twice is one job. The
   * job survives restarts; whichever worker is up at (or after) `at` runs it once.
   */
  scheduleSend(campaignId: number, at: string): Promise<void>;
  /**
   * Drops the job planned by scheduleSend(campaignId, at), if it has not started. Tidiness only: a job whose time
   * no longer matches the draft's `scheduledAt` does nothing when it runs.
   */
  unscheduleSend(campaignId: number, at: string): Promise<void>;
}

/** Queues a confirmation or welcome mail; a worker sends it with retries. */
export interface MailJobs {
  enqueue(kind: TransactionalKind, subscriberId: number): Promise<void>;
}

/** The jobs that make newsletters send themselves: one per digest slot, one per (alerts newsletter, article). */
export interface NewsletterJobs {
  /**
   * Plans the run of a digest's slot (ISO 8601) `delayMs` from now. Idempotent per (newsletter, slot): adding it twice
   * is one job. Survives restarts; the first worker up at or after the time runs it.
   */
  scheduleDigest(newsletter: string, slot: string, delayMs: number): Promise<void>;
  /** Queues the alert of an article in a newsletter. Idempotent per (newsletter, article). */
  queueAlert(newsletter: string, articleId: number): Promise<void>;
}

/** A queue's jobs by state and the workers connected to it, as operators watch them. */
export interface QueueHealth {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  workers: number;
}
