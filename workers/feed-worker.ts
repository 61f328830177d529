import type { Logger } from 'pino';
import type { FeedIngester } from '../src/domain/feed-ingester';
import { QUEUES, type FeedPollJob, type WorkerDefinition } from '../src/queue/jobs';

/**
 * Polls the site's feed. A failed poll (feed unreachable or invalid, Redis down) fails its job, which retries with
 * backoff, and is logged; it never throws out of the worker, so it cannot end the process. One poll at a time per
 * process; the article dedup makes overlapping polls across processes harmless.
 */
export function feedWorker(deps: { ingester: FeedIngester; log: Logger }): WorkerDefinition<FeedPollJob> {
  return {
    queue: QUEUES.feed,
    concurrency: 1,
    async process(job, ctx) {
      try {
        return await deps.ingester.poll(job.url);
      } catch (err) {
        const e = err as { code?: string; message?: string };
        deps.log.warn(
          { event: 'feed.poll_failed', feed: job.url, code: e.code, attempt: ctx.attempt, err: e.message },
          'feed poll failed',
        );
        throw err;
      }
    },
  };
}
