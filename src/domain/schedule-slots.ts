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
 * Daylight saving, as cron-parser v5 does it (`test/unit/schedule-slots.test.ts` pins it, Europe/London, 2026). On
 * 29 March (01:00 → 02:00) `0 7 * * *` is 06:00 UTC (07:00 BST), and `30 1 * * *`, a local time that does not exist
 * that day, comes an hour on, at 01:30 UTC (02:30 BST): once, not skipped; nothing to correct. On 25 October
 * (02:00 → 01:00) iterating from before the change yields the first 01:30 (00:30 UTC, BST) only; but asked from
 * inside the repeated hour (after 01:00 GMT), cron-parser answers the second 01:30 (01:30 UTC) of the same day, so
 * a process that plans from "now" at 01:10 GMT (a restart, an edit) would send that day's digest twice. Corrected
 * here: an instant whose local wall-clock time the zone already showed earlier (the hour the clocks went back) is
 * not a slot. Every schedule is read that way, so an every-30-minutes cron fires at 01:00 and 01:30 BST and not at 01:00
 * and 01:30 GMT: a local time fires once.
 */
export function nextSlot(schedule: Cron, after: Date): Date | null {
  const it = CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: after });
  // A repeated hour holds at most 12 slots of a schedule allowed (every 5 minutes); past that, something is wrong.
  for (let i = 0; i < 100 && it.hasNext(); i++) {
    const at = new Date(it.next().getTime());
    if (!repeatsWallTime(at, schedule.timezone)) return at;
  }
  return null;
}

/**
 * Whether the zone's clocks showed `at`'s local time already, shortly before: when they went back by 30, 60 or 120
 * minutes (every shift in the time zone database is one of these).
 */
function repeatsWallTime(at: Date, timezone: string): boolean {
  const clock = wallClock(timezone);
  const shown = clock.format(at);
  return [30, 60, 120].some((minutes) => clock.format(new Date(at.getTime() - minutes * 60_000)) === shown);
}

const wallClocks = new Map<string, Intl.DateTimeFormat>();

/** A formatter of local date and time to the second in `timezone` (cached: building one costs more than using it). */
function wallClock(timezone: string): Intl.DateTimeFormat {
  let f = wallClocks.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallClocks.set(timezone, f);
  }
  return f;
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
