import type { TransactionalKind } from '../domain/ports/mail-sender';
import { errorMessage } from '../lib/errors';

/** BullMQ queues, all under the `<REDIS_PREFIX>:bull` prefix. */
export const QUEUES = {
  transactional: 'transactional',
  campaigns: 'campaigns',
  deliveries: 'deliveries',
  campaignSchedules: 'campaign-schedules',
  newsletterRuns: 'newsletter-runs',
  feed: 'feed',
  feedback: 'feedback',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * Confirmation or welcome mails to send, one to each person: the signups of one event-loop turn share a job. A job
 * queued before batching (an upgrade with mails waiting) holds one `subscriberId`.
 */
export type TransactionalJob =
  { kind: TransactionalKind; subscriberIds: number[] } | { kind: TransactionalKind; subscriberId: number };
/** The fan-out of one campaign start or resume. */
export type FanoutJob = { campaignId: number };
/** One batch of a campaign's recipients, by id. */
export type BatchJob = { campaignId: number; ids: number[] };
/** The planned send of a draft: it goes out only if the draft is still scheduled for `scheduledAt`. */
export type ScheduledSendJob = { campaignId: number; scheduledAt: string };
/** A digest's slot to run, or an article to send as an alert. */
export type NewsletterRunJob =
  { kind: 'digest'; newsletter: string; slot: string } | { kind: 'alert'; newsletter: string; articleId: number };
/** One poll of the site's feed. */
export type FeedPollJob = { url: string };
/** One read of the feedback mailbox: on its schedule, or asked for now (an operator, a test). */
export type FeedbackPollJob = { trigger: 'schedule' | 'now' };

/** What a processor knows about the try it runs. */
export interface JobContext {
  /** 1 for the first try. */
  attempt: number;
  /** No retry follows if this one fails. */
  finalAttempt: boolean;
  /** True once the worker is shutting down: a long job should stop at a safe point and fail, to be retried. */
  closing: () => boolean;
}

/**
 * What a worker does with one job's data. Throwing fails the try (retried with the queue's backoff); `RetryLater`
 * and `GiveUp` say otherwise.
 */
export type JobProcessor<T> = (data: T, job: JobContext) => Promise<unknown>;

/** A processor and what it needs from the worker running it; the files in workers/ define one each. */
export interface WorkerDefinition<T> {
  queue: QueueName;
  process: JobProcessor<T>;
  /** Jobs run at once per process. */
  concurrency: number;
  /**
   * How long a claim on a job lasts without renewal; a crashed worker's job is taken over after this. Default
   * BullMQ's (30 s).
   */
  lockDurationMs?: number;
  /** Called when a try fails, whether or not it will be retried. */
  onFailed?(data: T | undefined, attemptsMade: number, err: Error): void;
}

/** Puts the job back, delayed, without using up a try: the work is not failing, only not due yet. */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
  }
}

/** Fails this try as `failure` says (anything thrown); the retries work on `data` instead (what is left of a batch). */
export class RetryWith<T> extends Error {
  readonly failure: Error;

  constructor(
    readonly data: T,
    failure: unknown,
  ) {
    super(errorMessage(failure));
    this.failure = failure instanceof Error ? failure : new Error(this.message);
  }
}

/** Fails the job for good: retrying would get the same answer. */
export class GiveUp extends Error {}
