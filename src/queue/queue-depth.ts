import type { Queue } from 'bullmq';

/** Jobs a queue holds that no worker has taken yet. */
export async function waitingJobs(queue: Queue): Promise<number> {
  const c = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
  return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
}

/** `waitingJobs` of each queue, by queue name. */
export async function waitingByQueue(queues: Queue[]): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(queues.map(async (q) => [q.name, await waitingJobs(q)] as const)));
}
