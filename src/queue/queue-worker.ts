import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { GiveUp, RetryLater, RetryWith, type WorkerDefinition } from './jobs';

/** Where producers and workers find the queues. */
export interface QueueConnection {
  /** The producers' (Queue) connection options: they fail fast while Redis is away. */
  connection: ConnectionOptions;
  /** The workers' (and QueueEvents') connection options: they wait for Redis, as blocking commands must. */
  workerConnection: ConnectionOptions;
  /** BullMQ key prefix (`<REDIS_PREFIX>:bull`). */
  prefix: string;
  /** Takes every error a queue or worker connection reports; answers true when it handled (logged) it. */
  onError?: (err: Error) => boolean;
}

/** The queues of a service whose Redis keys live under `redisPrefix`, reached with these ioredis options. */
export function queueConnection(
  redisOptions: object,
  redisPrefix: string,
  onError?: (err: Error) => boolean,
): QueueConnection {
  return {
    // A producer's add() would otherwise wait for Redis to come back, holding the HTTP request that made it (BullMQ's
    // "failing fast when Redis is down" pattern): without the offline queue it throws at once and the API answers 503.
    connection: { ...redisOptions, enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    // Workers block on Redis and must ride out a restart: BullMQ requires maxRetriesPerRequest null for them.
    workerConnection: { ...redisOptions, maxRetriesPerRequest: null },
    prefix: `${redisPrefix}:bull`,
    onError,
  };
}

/**
 * How often a worker looks for jobs whose lock ran out (a crashed worker's jobs). BullMQ's default (30 s) would add up
 * to 30 s to the lock period before a restarted worker takes a dead one's jobs over; 5 s keeps the whole takeover
 * within the lock period plus 5 s. The check is one small script per queue, cheap at this rate.
 */
const STALLED_CHECK_MS = 5000;

/** A started worker, as its owner sees it: closing waits for the jobs in hand. */
export interface RunningWorker {
  /** `force`: do not wait for the jobs in hand (their locks run out and another worker takes them). */
  close(force?: boolean): Promise<void>;
}

/**
 * Runs a worker definition on BullMQ: the one place that turns a processor's outcome into BullMQ's job moves.
 * Closing waits for the jobs in hand; `closing()` tells a long job to stop at its next safe point.
 */
export function startQueueWorker<T>(def: WorkerDefinition<T>, conn: QueueConnection & { log: Logger }): Worker<T> {
  let closing = false;
  const lock = def.lockDurationMs
    ? {
        lockDuration: def.lockDurationMs,
        stalledInterval: Math.min(def.lockDurationMs, STALLED_CHECK_MS),
        maxStalledCount: 10,
      }
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
        if (err instanceof RetryWith) {
          await job.updateData(err.data as T);
          throw err.failure;
        }
        throw err;
      }
    },
    { connection: conn.workerConnection, prefix: conn.prefix, concurrency: def.concurrency, ...lock },
  );
  const close = worker.close.bind(worker);
  worker.close = async (force?: boolean) => {
    closing = true;
    return close(force);
  };
  if (def.onFailed) worker.on('failed', (job, err) => def.onFailed!(job?.data, job?.attemptsMade ?? 0, err));
  worker.on('error', (err) => {
    // Connection errors are the outage's to report (once, with backoff); the rest are this worker's.
    if (conn.onError?.(err)) return;
    conn.log.error({ event: 'worker.error', queue: def.queue, err: err.message }, 'worker error');
  });
  return worker;
}
