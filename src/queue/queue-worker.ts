import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { GiveUp, RetryLater, type WorkerDefinition } from './jobs';

/** Where producers and workers find the queues. */
export interface QueueConnection {
  connection: ConnectionOptions;
  /** BullMQ key prefix (`<REDIS_PREFIX>:bull`). */
  prefix: string;
}

/** The queues of a service whose Redis keys live under `redisPrefix`, reached with these ioredis options. */
export function queueConnection(redisOptions: object, redisPrefix: string): QueueConnection {
  // BullMQ opens its own connections from these options; its blocking commands need maxRetriesPerRequest null.
  return { connection: { ...redisOptions, maxRetriesPerRequest: null }, prefix: `${redisPrefix}:bull` };
}

/** A started worker, as its owner sees it: closing waits for the jobs in hand. */
export interface RunningWorker {
  close(): Promise<void>;
}

/**
 * Runs a worker definition on BullMQ: the one place that turns a processor's outcome into BullMQ's job moves.
 * Closing waits for the jobs in hand; `closing()` tells a long job to stop at its next safe point.
 */
export function startQueueWorker<T>(def: WorkerDefinition<T>, conn: QueueConnection & { log: Logger }): Worker<T> {
  let closing = false;
  const lock = def.lockDurationMs
    ? { lockDuration: def.lockDurationMs, stalledInterval: def.lockDurationMs, maxStalledCount: 10 }
    : {};
  const worker = new Worker<T>(
    def.queue,
    async (job, token) => {
      const attempt = job.attemptsMade + 1;
      try {
        return await def.process(job.data, {
          attempt,
          finalAttempt: attempt >= (job.opts.attempts ?? 1),
          closing: () => closing,
        });
      } catch (err) {
        if (err instanceof RetryLater) {
          await job.moveToDelayed(Date.now() + err.delayMs, token);
          throw new DelayedError();
        }
        if (err instanceof GiveUp) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
    { connection: conn.connection, prefix: conn.prefix, concurrency: def.concurrency, ...lock },
  );
  const close = worker.close.bind(worker);
  worker.close = async (force?: boolean) => {
    closing = true;
    return close(force);
  };
  if (def.onFailed) worker.on('failed', (job, err) => def.onFailed!(job?.data, job?.attemptsMade ?? 0, err));
  worker.on('error', (err) =>
    conn.log.error({ event: 'worker.error', queue: def.queue, err: err.message }, 'worker error'),
  );
  return worker;
}
