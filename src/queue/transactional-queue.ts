import { Queue, type ConnectionOptions } from 'bullmq';
import type { MailJobs } from '../domain/ports/job-queues';
import type { TransactionalKind } from '../domain/ports/mail-sender';
import { QUEUES, type TransactionalJob } from './jobs';

/**
 * The most mails one job carries. A worker that dies mid-job has its job taken over whole, so up to this many people
 * could get a mail twice; under load a turn gathers far fewer (at most one per open connection).
 */
const MAX_BATCH = 50;

/**
 * Producer of confirmation and welcome mails. The mails asked for in one event-loop turn go out as one job: with a job
 * per mail, its add and its completion in the worker took about 200 µs of the 267 µs of Redis time a signup cost, and
 * under load a turn holds several signups (BENCHMARKS.md, signups).
 */
export class TransactionalQueue implements MailJobs {
  readonly queue: Queue<TransactionalJob>;
  /** Per kind, the batch this turn is gathering and the add that will queue it. */
  private readonly gathering = new Map<TransactionalKind, { ids: number[]; added: Promise<unknown> }>();

  constructor(deps: { connection: ConnectionOptions; prefix: string }) {
    this.queue = new Queue<TransactionalJob>(QUEUES.transactional, {
      // Not auto-pipelined: ioredis builds a Pipeline per turn that copies every script BullMQ defines on the connection.
      // Measured alone with five adds per turn, an add cost this process 67-75 µs of CPU pipelined against 40 µs not.
      connection: deps.connection,
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

  /** Resolves once the job holding this mail is queued; rejects, as for every mail of the batch, if it cannot be. */
  async enqueue(kind: TransactionalKind, subscriberId: number): Promise<void> {
    let batch = this.gathering.get(kind);
    if (!batch) {
      const ids: number[] = [];
      const added = new Promise((turnEnded) => setImmediate(turnEnded)).then(() => {
        if (this.gathering.get(kind)?.ids === ids) this.gathering.delete(kind);
        return this.queue.add(kind, { kind, subscriberIds: ids });
      });
      batch = { ids, added };
      this.gathering.set(kind, batch);
    }
    batch.ids.push(subscriberId);
    if (batch.ids.length >= MAX_BATCH) this.gathering.delete(kind);
    await batch.added;
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
