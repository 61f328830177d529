import { UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { QUEUES, type TransactionalJob } from '../src/queue/queue-names';
import type { TransactionalMailer } from '../src/mail/transactional-mailer';
import { PermanentDeliveryError } from '../src/mail/mail-transport';

/** Sends confirmation and welcome mails. Transient failures retry with backoff (set on the job); a 5xx ends the job. */
export function startTransactionalWorker(deps: { connection: ConnectionOptions; prefix: string; mailer: TransactionalMailer; log: Logger; concurrency?: number }): Worker<TransactionalJob> {
  const worker = new Worker<TransactionalJob>(
    QUEUES.transactional,
    async (job) => {
      try {
        return await deps.mailer.send(job.data);
      } catch (err) {
        if (err instanceof PermanentDeliveryError) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency ?? 5 },
  );
  worker.on('failed', (job, err) => deps.log.warn({ event: 'mail.failed', kind: job?.data.kind, subscriberId: job?.data.subscriberId, attempt: job?.attemptsMade, err: err.message }, 'transactional mail failed'));
  worker.on('error', (err) => deps.log.error({ event: 'worker.error', queue: QUEUES.transactional, err: err.message }, 'worker error'));
  return worker;
}
