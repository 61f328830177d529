import { Queue, type ConnectionOptions } from 'bullmq';
import { QUEUES, type TransactionalJob } from './queue-names';

/** Producer of confirmation and welcome mails. */
export class TransactionalQueue {
  readonly queue: Queue<TransactionalJob>;

  constructor(deps: { connection: ConnectionOptions; prefix: string }) {
    this.queue = new Queue<TransactionalJob>(QUEUES.transactional, {
      connection: deps.connection,
      prefix: deps.prefix,
      defaultJobOptions: {
        // About a day of retries (2 s doubling, 16 attempts) rides out an SMTP outage without losing the mail.
        attempts: 16,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: { age: 24 * 3600, count: 1000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
  }

  async enqueue(job: TransactionalJob): Promise<void> {
    await this.queue.add(job.kind, job);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
