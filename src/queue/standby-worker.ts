import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { WorkerDefinition } from './jobs';
import { startQueueWorker, type QueueConnection, type RunningWorker } from './queue-worker';

/** How often the standby looks at the queue: one LRANGE of one element. */
const CHECK_MS = 2000;

/**
 * A worker held in reserve for a queue that other processes are meant to take: `npm start`'s forks take the
 * confirmation mails at the lowest CPU priority, so that signups come first in a burst. On a machine kept busy by
 * something else they would get no CPU at all (seen: a fork in the idle class beside three busy loops on two cores sent
 * nothing in 30 s), and a visitor would wait for their confirmation indefinitely. So when the oldest waiting job has
 * not moved for `afterMs`, this process starts a worker of its own, and stops it once no job is waiting.
 */
export function startStandbyWorker<T>(
  def: WorkerDefinition<T>,
  conn: QueueConnection & { log: Logger },
  queue: Queue,
  afterMs: number,
): RunningWorker {
  let oldest: { id: string; since: number } | undefined;
  let worker: RunningWorker | undefined;
  let checking = false;
  let closed = false;

  const check = async () => {
    const [id] = await queue.getRanges(['wait'], 0, 0, true);
    const now = Date.now();
    if (id === undefined) {
      oldest = undefined;
      if (!worker) return;
      const stopping = worker;
      worker = undefined;
      await stopping.close();
      conn.log.info({ event: 'worker.standby_stopped', queue: def.queue }, 'standby worker stopped: nothing waits');
      return;
    }
    if (oldest?.id !== id) oldest = { id, since: now };
    else if (!worker && !closed && now - oldest.since >= afterMs) {
      worker = startQueueWorker(def, conn);
      conn.log.warn(
        { event: 'worker.standby_started', queue: def.queue, stuckMs: now - oldest.since },
        'the processes meant to take this queue are not taking it; this one takes it too until it is empty',
      );
    }
  };
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    check()
      .catch((err: Error) => {
        // Redis away: the outage is reported elsewhere; the next check tries again.
        if (!conn.onError?.(err))
          conn.log.error({ event: 'worker.standby_error', queue: def.queue, err: err.message }, 'standby check failed');
      })
      .finally(() => (checking = false));
  }, CHECK_MS);
  timer.unref();

  return {
    async close(force?: boolean) {
      closed = true;
      clearInterval(timer);
      await worker?.close(force);
    },
  };
}
