import { isRedisConnectionError } from '../lib/redis-outage';
import { Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { MailboxPollSummary } from '../domain/mailbox-feedback';
import { QUEUES, type FeedbackPollJob } from './jobs';

/** Id of the one schedule: upserted on every start, so however many processes start there is one schedule. */
const SCHEDULER_ID = 'feedback-poll';

/**
 * One try each: a failed read (the mailbox unreachable, Redis down) is logged and the next scheduled read is the
 * retry, so failures never pile up reads behind each other.
 */
const JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { count: 50 },
  removeOnFail: { count: 50 },
};

/**
 * Producer of feedback mailbox reads: a BullMQ job scheduler every `everySeconds`, and reads on demand. The queue's
 * global concurrency is 1, so however many worker processes run, one read of the mailbox happens at a time: two
 * readers would fetch the same unprocessed messages and both hand them on (harmless, since the receiver drops
 * repeats by report id, but wasted work and doubled log lines).
 */
export class FeedbackQueue {
  readonly queue: Queue<FeedbackPollJob>;
  /** Settles once the schedule and the concurrency limit are registered (or their registration failed and was logged). */
  readonly ready: Promise<void>;

  constructor(
    private readonly deps: {
      connection: ConnectionOptions;
      /** For the QueueEvents of pollNow: a blocking reader, which BullMQ wants without a retry limit. */
      workerConnection?: ConnectionOptions;
      prefix: string;
      everySeconds: number;
      log: Logger;
    },
  ) {
    const { connection, prefix, everySeconds, log } = deps;
    this.queue = new Queue<FeedbackPollJob>(QUEUES.feedback, { connection, prefix });
    this.queue.on('error', (err) => {
      // Connection errors are reported once by the container's outage log.
      if (isRedisConnectionError(err)) return;
      log.error({ event: 'queue.error', queue: QUEUES.feedback, err: err.message }, 'feedback queue error');
    });
    this.ready = Promise.all([
      this.queue.setGlobalConcurrency(1),
      this.queue.upsertJobScheduler(
        SCHEDULER_ID,
        { every: everySeconds * 1000 },
        { name: 'poll', data: { trigger: 'schedule' }, opts: JOB_OPTIONS },
      ),
    ])
      .then(() => log.info({ event: 'feedback_mailbox.scheduled', everySeconds }, 'feedback mailbox read scheduled'))
      .catch((err: Error) =>
        log.error(
          { event: 'feedback_mailbox.schedule_failed', everySeconds, err: err.message },
          'could not schedule the feedback mailbox read',
        ),
      );
  }

  /**
   * Queues one read now, outside the schedule, and resolves with what it did once a worker has run it (after any
   * read already running: the queue runs one at a time). Rejects when the read fails or takes over `timeoutMs`.
   */
  async pollNow(timeoutMs = 60_000): Promise<MailboxPollSummary> {
    const { connection, workerConnection, prefix } = this.deps;
    const events = new QueueEvents(QUEUES.feedback, { connection: workerConnection ?? connection, prefix });
    try {
      await events.waitUntilReady();
      const job = await this.queue.add('poll', { trigger: 'now' }, JOB_OPTIONS);
      return (await job.waitUntilFinished(events, timeoutMs)) as MailboxPollSummary;
    } finally {
      await events.close();
    }
  }

  async close(): Promise<void> {
    // Let a registration in flight finish, but never wait on it for long: with Redis gone it would wait forever.
    await Promise.race([this.ready, new Promise((ok) => setTimeout(ok, 2000).unref())]);
    await this.queue.close();
  }
}
