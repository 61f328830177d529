import type { Logger } from 'pino';
import { PermanentDeliveryError } from '../src/domain/errors';
import type { TransactionalMail } from '../src/domain/transactional-mail';
import { GiveUp, QUEUES, type TransactionalJob, type WorkerDefinition } from '../src/queue/jobs';

/**
 * Sends confirmation and welcome mails.
 * Transient failures retry with the job's backoff; a refusal for good ends the job.
 */
export function transactionalWorker(deps: {
  mail: TransactionalMail;
  log: Logger;
  concurrency?: number;
}): WorkerDefinition<TransactionalJob> {
  return {
    queue: QUEUES.transactional,
    concurrency: deps.concurrency ?? 5,
    async process(job, ctx) {
      try {
        return await deps.mail.send(job.kind, job.subscriberId, ctx.finalAttempt);
      } catch (err) {
        if (err instanceof PermanentDeliveryError) throw new GiveUp(err.message);
        throw err;
      }
    },
    onFailed(job, attemptsMade, err) {
      deps.log.warn(
        {
          event: 'mail.failed',
          kind: job?.kind,
          subscriberId: job?.subscriberId,
          attempt: attemptsMade,
          err: err.message,
        },
        'transactional mail failed',
      );
    },
  };
}
