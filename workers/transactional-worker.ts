import type { Logger } from 'pino';
import type { TransactionalMail } from '../src/domain/transactional-mail';
import { QUEUES, RetryWith, type TransactionalJob, type WorkerDefinition } from '../src/queue/jobs';

/**
 * Sends confirmation and welcome mails, a job's at once. A refusal for good is settled per mail; the mails that
 * failed for now retry with the job's backoff, and only they.
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
      const left = await deps.mail.sendEach(job.kind, subscriberIds(job), ctx.finalAttempt);
      if (left) throw new RetryWith<TransactionalJob>({ kind: job.kind, subscriberIds: left.retry }, left.error);
    },
    onFailed(job, attemptsMade, err) {
      // Each failed mail has its own `mail.failed` line; this one is the job's try.
      deps.log.warn(
        {
          event: 'mail.job_failed',
          kind: job?.kind,
          subscriberIds: job && subscriberIds(job),
          attempt: attemptsMade,
          err: err.message,
        },
        'transactional mail job failed',
      );
    },
  };
}

function subscriberIds(job: TransactionalJob): number[] {
  return 'subscriberIds' in job ? job.subscriberIds : [job.subscriberId];
}
