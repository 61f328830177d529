import { Queue, type ConnectionOptions } from 'bullmq';
import type { MailJobs } from '../domain/ports/job-queues';
import type { TransactionalKind } from '../domain/ports/mail-sender';
import { QUEUES, type TransactionalJob } from './jobs';

/** Producer of confirmation and welcome mails. */
export class TransactionalQueue implements MailJobs {
  readonly queue: Queue<TransactionalJob>;

  constructor(deps: { connection: ConnectionOptions; prefix: string }) {
    this.queue = new Queue<TransactionalJob>(QUEUES.transactional, {
      // The adds asked for in one turn of the event loop go to Redis in one write (ioredis's auto-pipelining), each
      // still answered for itself: under a burst of signups each turn asks for many, and a job's add alone was about
      // 6 % of a signup's CPU in the process answering HTTP. Only this producer's connection pipelines: besides the adds
      // it serves only the depth and health counts, which are reads.
      connection: { ...deps.connection, enableAutoPipelining: true },
      prefix: deps.prefix,
      defaultJobOptions: {
        // About a day of retries (2 s doubling, 16 attempts) rides out an SMTP outage without losing the mail.
        attempts: 16,
        backoff: { type: 'exponential', delay: 2000 },
        // A sent mail's record is its `mail.sent` log line with the Message-ID; nothing reads completed jobs, and keeping
        // the last thousand cost Redis about 10 % more CPU per mail (the trimming at each completion), measured with
        // BullMQ alone: 91-92 µs per job added and finished against 103-110.
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
  }

  async enqueue(kind: TransactionalKind, subscriberId: number): Promise<void> {
    await this.queue.add(kind, { kind, subscriberId });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
