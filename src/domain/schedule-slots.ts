import { CronExpressionParser } from 'cron-parser';
import type { NewsletterSchedule } from './newsletter';

type Cron = Pick<NewsletterSchedule, 'cron' | 'timezone'>;

/**
 * Slots most `latestSlot` walks through: a worker down for a week under the tightest schedule allowed (every 5
 * minutes) is 2,016 slots, so this is never reached by a schedule that validation let in.
 */
const MAX_SLOTS_WALKED = 5000;

/**
 * The first slot of the schedule strictly after `after`, as the UTC instant cron-parser computes in the schedule's
 * zone; null when the expression never fires again. A slot is identified by this instant everywhere (job ids, run
 * records), so every process agrees on it.
 *
 * Daylight saving, as cron-parser v5 does it and `test/unit/schedule-slots.test.ts` pins (Europe/London, 2026):
 * going forward it yields each local wall-clock time of a day once. On 29 March (01:00 → 02:00) `0 7 * * *` is 06:00
 * UTC (07:00 BST) and `30 1 * * *`, a time that does not exist that day, fires an hour on, at 01:30 UTC (02:30 BST):
 * once, not skipped. On 25 October (02:00 → 01:00) `30 1 * * *` fires at the first 01:30 (00:30 UTC, BST) only, not
 * again at 01:30 GMT. Its `prev()` does return that repeated 01:30 twice, which is why this module only ever steps
 * forward. No correction is needed on top; should an upgrade change this, the unit test fails.
 */
export function nextSlot(schedule: Cron, after: Date): Date | null {
  const it = CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: after });
  return it.hasNext() ? new Date(it.next().getTime()) : null;
}

/** Whether `at` is one of the schedule's slots (a job of a schedule changed since finds it is not). */
export function isSlot(schedule: Cron, at: Date): boolean {
  return nextSlot(schedule, new Date(at.getTime() - 1))?.getTime() === at.getTime();
}

/** The last slot at or before `now`, walking forward from the slot `from` (which is returned when none followed). */
export function latestSlot(schedule: Cron, from: Date, now: Date): Date {
  let latest = from;
  for (let i = 0; i < MAX_SLOTS_WALKED; i++) {
    const next = nextSlot(schedule, latest);
    if (!next || next > now) break;
    latest = next;
  }
  return latest;
}

/** The slot's date as readers of that zone say it: "Tuesday 1 December 2026". */
export function localDate(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }).format(at);
}
