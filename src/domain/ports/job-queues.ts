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
}

/** Queues a confirmation or welcome mail; a worker sends it with retries. */
export interface MailJobs {
  enqueue(kind: TransactionalKind, subscriberId: number): Promise<void>;
}
