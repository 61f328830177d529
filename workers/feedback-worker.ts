import type { Logger } from 'pino';
import type { MailboxFeedback } from '../src/domain/mailbox-feedback';
import { QUEUES, type FeedbackPollJob, type WorkerDefinition } from '../src/queue/jobs';

/**
 * Reads the feedback mailbox. A failed read (the IMAP server unreachable or refusing the login, Redis down) fails
 * its job and is logged; the next scheduled read tries again. Its result is the poll's summary, kept with the job.
 */
export function feedbackWorker(deps: { mailbox: MailboxFeedback; log: Logger }): WorkerDefinition<FeedbackPollJob> {
  return {
    queue: QUEUES.feedback,
    concurrency: 1,
    async process(job) {
      try {
        return await deps.mailbox.poll();
      } catch (err) {
        const e = err as { code?: string; message?: string };
        deps.log.warn(
          { event: 'feedback_mailbox.poll_failed', trigger: job.trigger, code: e.code, err: e.message },
          'feedback mailbox read failed',
        );
        throw err;
      }
    },
  };
}
