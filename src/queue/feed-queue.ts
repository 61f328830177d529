import { isRedisConnectionError } from '../lib/redis-outage';
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { QUEUES, type FeedPollJob } from './jobs';

/**
 * Id of the one schedule; upserting it on every start keeps one schedule however often, and by however many
 * processes, the service starts.
 */
const SCHEDULER_ID = 'feed-poll';

const JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential' as const, delay: 30_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
};

/** Producer of feed polls: a BullMQ job scheduler on a cron pattern (UTC), and polls on demand. */
export class FeedQueue {
  readonly queue: Queue<FeedPollJob>;
  /** Settles once the schedule is registered (or its registration failed and was logged). */
  readonly ready: Promise<void>;

  constructor(
    private readonly deps: { connection: ConnectionOptions; prefix: string; url: string; cron: string; log: Logger },
  ) {
    const { connection, prefix, url, cron, log } = deps;
    this.queue = new Queue<FeedPollJob>(QUEUES.feed, { connection, prefix });
    this.queue.on('error', (err) => {
      // Connection errors are reported once by the container's outage log.
      if (isRedisConnectionError(err)) return;
      log.error({ event: 'queue.error', queue: QUEUES.feed, err: err.message }, 'feed queue error');
    });
    this.ready = this.queue
      .upsertJobScheduler(
        SCHEDULER_ID,
        { pattern: cron, tz: 'UTC' },
        { name: 'poll', data: { url }, opts: JOB_OPTIONS },
      )
      .then(() => log.info({ event: 'feed.scheduled', feed: url, cron }, 'feed poll scheduled'))
      .catch((err: Error) =>
        log.error(
          { event: 'feed.schedule_failed', feed: url, cron, err: err.message },
          'could not schedule the feed poll',
        ),
      );
  }

  /** Queues one poll now, outside the schedule (the operator's "fetch the feed"). */
  async pollNow(): Promise<void> {
    await this.queue.add('poll', { url: this.deps.url }, JOB_OPTIONS);
  }

  async close(): Promise<void> {
    // Let a registration in flight finish, but never wait on it for long: with Redis gone it would wait forever.
    await Promise.race([this.ready, new Promise((ok) => setTimeout(ok, 2000).unref())]);
    await this.queue.close();
  }
}
