import type { Logger } from 'pino';
import type { Campaigns } from '../src/domain/campaigns';
import { DomainError } from '../src/domain/errors';
import { GiveUp, QUEUES, type ScheduledSendJob, type WorkerDefinition } from '../src/queue/jobs';

/**
 * Fires scheduled sends. BullMQ hands each due job to one worker; should two runs still meet (a stalled job taken
 * over), the draft→sending step lets one through and the other finds nothing to do. The job only starts the send
 * (the fan-out queue does the rest), so it is short and one at a time is enough.
 */
export function campaignScheduleWorker(deps: {
  campaigns: Campaigns;
  log: Logger;
}): WorkerDefinition<ScheduledSendJob> {
  return {
    queue: QUEUES.campaignSchedules,
    concurrency: 1,
    process: async (job) => {
      try {
        return await deps.campaigns.runSchedule(job.campaignId, job.scheduledAt);
      } catch (e) {
        // A refusal of the send itself (the draft grew past the size budget) would be refused again on every retry;
        // only a failure of the machinery (Redis, a render crash) is worth another try.
        if (e instanceof DomainError) throw new GiveUp(`${e.code}: ${e.message}`);
        throw e;
      }
    },
    onFailed(job, attempts, err) {
      deps.log.error(
        {
          event: 'campaign.schedule_failed',
          campaignId: job?.campaignId,
          scheduledAt: job?.scheduledAt,
          attempts,
          err: err.message,
        },
        'scheduled send failed',
      );
    },
  };
}
