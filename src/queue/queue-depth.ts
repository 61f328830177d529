import type { Queue } from 'bullmq';
import type { QueueHealth } from '../domain/ports/job-queues';

/** Jobs a queue holds that no worker has taken yet. */
export async function waitingJobs(queue: Queue): Promise<number> {
  const c = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
  return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
}

/** `waitingJobs` of each queue, by queue name. */
export async function waitingByQueue(queues: Queue[]): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(queues.map(async (q) => [q.name, await waitingJobs(q)] as const)));
}

/** `QueueHealth` of each queue: one getJobCounts and one CLIENT LIST (getWorkersCount) each. */
export async function queueHealth(queues: Queue[]): Promise<QueueHealth[]> {
  return Promise.all(
    queues.map(async (q) => {
      const [c, workers] = await Promise.all([
        q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
        q.getWorkersCount(),
      ]);
      return {
        name: q.name,
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        failed: c.failed ?? 0,
        workers,
      };
    }),
  );
}
