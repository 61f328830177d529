import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { QUEUES } from '../src/queue/queue-names';
import type { FeedIngester, PollResult } from '../src/domain/feed-ingester';

export type FeedPollJob = { url: string };

/** Options of `startFeedWorker`. */
export interface FeedWorkerOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix (`<REDIS_PREFIX>:bull`). */
  prefix: string;
  ingester: FeedIngester;
  /** The feed to poll. */
  url: string;
  /** Cron pattern of the poll, in UTC. */
  cron: string;
  log: Logger;
}

export interface FeedWorker {
  queue: Queue<FeedPollJob>;
  worker: Worker<FeedPollJob, PollResult>;
  /** Settles once the schedule is registered (or its registration failed and was logged). */
  ready: Promise<void>;
  /** Queues one poll now, outside the schedule (the operator's "fetch the feed"). */
  pollNow(): Promise<void>;
  close(): Promise<void>;
}

/** Id of the one schedule; upserting it on every start keeps one schedule however often, and by however many processes, the service starts. */
const SCHEDULER_ID = 'feed-poll';

/**
 * Polls the site's feed on a BullMQ job scheduler. A failed poll (feed unreachable or invalid, Redis down) fails its
 * job, which retries with backoff, and is logged; it never throws out of the worker, so it cannot end the process.
 * One poll at a time per process; the dedup in the article store makes overlapping polls across processes harmless.
 */
export function startFeedWorker(opts: FeedWorkerOptions): FeedWorker {
  const { connection, prefix, ingester, url, cron, log } = opts;
  const jobOpts = {
    attempts: 3,
    backoff: { type: 'exponential' as const, delay: 30_000 },
    removeOnComplete: { count: 100 },
    removeOnFail: { count: 100 },
  };
  const queue = new Queue<FeedPollJob>(QUEUES.feed, { connection, prefix });
  queue.on('error', (err) => log.error({ event: 'queue.error', queue: QUEUES.feed, err: err.message }, 'feed queue error'));

  const ready = queue
    .upsertJobScheduler(SCHEDULER_ID, { pattern: cron, tz: 'UTC' }, { name: 'poll', data: { url }, opts: jobOpts })
    .then(() => log.info({ event: 'feed.scheduled', feed: url, cron }, 'feed poll scheduled'))
    .catch((err: Error) => log.error({ event: 'feed.schedule_failed', feed: url, cron, err: err.message }, 'could not schedule the feed poll'));

  const worker = new Worker<FeedPollJob, PollResult>(
    QUEUES.feed,
    async (job) => {
      try {
        return await ingester.poll(job.data.url);
      } catch (err) {
        const e = err as { code?: string; message?: string };
        log.warn({ event: 'feed.poll_failed', feed: job.data.url, code: e.code, attempt: job.attemptsMade + 1, err: e.message }, 'feed poll failed');
        throw err;
      }
    },
    { connection, prefix, concurrency: 1 },
  );
  worker.on('error', (err) => log.error({ event: 'worker.error', queue: QUEUES.feed, err: err.message }, 'worker error'));

  return {
    queue,
    worker,
    ready,
    async pollNow() {
      await queue.add('poll', { url }, jobOpts);
    },
    async close() {
      // Let a registration in flight finish, but never wait on it for long: with Redis gone it would wait forever.
      await Promise.race([ready, new Promise((ok) => setTimeout(ok, 2000).unref())]);
      await worker.close();
      await queue.close();
    },
  };
}
