import { Queue, type ConnectionOptions } from 'bullmq';
import type { NewsletterJobs } from '../domain/ports/job-queues';
import { QUEUES, type NewsletterRunJob } from './jobs';

/** Producer of the jobs that make newsletters send themselves: digest slots and alerts. */
export class NewsletterQueues implements NewsletterJobs {
  readonly runs: Queue<NewsletterRunJob>;

  constructor(opts: { connection: ConnectionOptions; prefix: string }) {
    this.runs = new Queue<NewsletterRunJob>(QUEUES.newsletterRuns, {
      connection: opts.connection,
      prefix: opts.prefix,
      defaultJobOptions: {
        attempts: 10,
        backoff: { type: 'exponential', delay: 2000 },
        // Kept two days after they ran, so adding the same slot or alert again in that time (a start, an edit, an
        // article announced twice) finds the job and adds nothing; past that, the run's claim still stops a repeat.
        removeOnComplete: { age: 2 * 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
  }

  async scheduleDigest(newsletter: string, slot: string, delayMs: number): Promise<void> {
    // BullMQ keeps delayed jobs in Redis: one due while no worker runs is taken by the first worker to start.
    const jobId = digestJobId(newsletter, slot);
    await this.runs.add('digest', { kind: 'digest', newsletter, slot }, { jobId, delay: delayMs });
    if (delayMs > 0) return;
    // A slot due now may have a job already, planned with a delay from a clock that has jumped since (a test's, or
    // another host's): the add above kept that job, so bring it forward.
    const job = await this.runs.getJob(jobId);
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  async queueAlert(newsletter: string, articleId: number): Promise<void> {
    await this.runs.add('alert', { kind: 'alert', newsletter, articleId }, { jobId: `a-${newsletter}-${articleId}` });
  }

  async close(): Promise<void> {
    await this.runs.close();
  }
}

/** One job per newsletter and slot (its instant in ms); slugs hold no ':', which BullMQ refuses in ids. */
export function digestJobId(newsletter: string, slot: string): string {
  return `d-${newsletter}-${Date.parse(slot)}`;
}
