import type { Logger } from 'pino';
import type { Alerts } from '../src/domain/alerts';
import type { DigestSchedules } from '../src/domain/digest-schedules';
import { QUEUES, type NewsletterRunJob, type WorkerDefinition } from '../src/queue/jobs';

/**
 * Runs digest slots and alerts. Each run claims its slot or article before it does anything, so two workers (or a
 * job retried, or taken over from a stalled worker) send once. A run only builds and starts a campaign (the fan-out
 * does the rest), so it is short. A failure of the machinery (Redis) is retried; a refusal of the send is recorded
 * in the run as failed, not retried.
 */
export function newsletterRunWorker(deps: {
  digests: DigestSchedules;
  alerts: Alerts;
  log: Logger;
}): WorkerDefinition<NewsletterRunJob> {
  return {
    queue: QUEUES.newsletterRuns,
    concurrency: 2,
    process: async (job) =>
      job.kind === 'digest'
        ? deps.digests.run(job.newsletter, job.slot)
        : deps.alerts.run(job.newsletter, job.articleId),
    onFailed(job, attempts, err) {
      deps.log.error(
        { event: 'newsletter.run_failed', ...job, attempts, err: err.message },
        'newsletter run try failed',
      );
    },
  };
}
