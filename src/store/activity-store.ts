import type { Redis } from 'ioredis';
import type {
  DailyActivity,
  DailyEvent,
  DayCounts,
  FeedPoll,
  FeedPollLog,
  SendTimeline,
} from '../domain/ports/activity';
import type { Keys } from './keys';

/** Daily hashes outlive the chart's 30 days by ten, so the oldest day drawn is always complete. */
const DAY_TTL_SECONDS = 40 * 24 * 3600;
/** A campaign's minutes stay a month after its last send: the view of an old campaign still has its chart. */
const MINUTES_TTL_SECONDS = 31 * 24 * 3600;
const EVENTS: DailyEvent[] = ['signups', 'confirmations', 'unsubscribes'];

const dayOf = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The console's counters in Redis: a hash per UTC day of audience events (HINCRBY + EXPIRE, one write per turn of
 * the event loop), a hash per campaign of minute -> sends, and the feed's last poll. Small by construction: 40 daily hashes of
 * three fields, one hash field per minute a campaign sends.
 */
export class ActivityStore implements DailyActivity, SendTimeline, FeedPollLog {
  constructor(private readonly deps: { redis: Redis; keys: Keys; onError?: (err: Error) => void }) {}

  /** Counts not written yet, by day key and event. */
  private pending = new Map<string, Map<DailyEvent, number>>();

  /**
   * Adds one at the end of this turn of the event loop: the counts of every request answered in one turn go in one
   * write (HINCRBY by their number), where a write per signup was four commands on the signup's path.
   */
  count(event: DailyEvent, at: Date): void {
    const key = this.deps.keys.dailyActivity(dayOf(at));
    if (!this.pending.size) setImmediate(() => this.flush());
    let day = this.pending.get(key);
    if (!day) this.pending.set(key, (day = new Map<DailyEvent, number>()));
    day.set(event, (day.get(event) ?? 0) + 1);
  }

  private flush(): void {
    const multi = this.deps.redis.multi();
    for (const [key, events] of this.pending) {
      for (const [event, n] of events) multi.hincrby(key, event, n);
      multi.expire(key, DAY_TTL_SECONDS);
    }
    this.pending = new Map();
    multi.exec().catch((err: Error) => this.deps.onError?.(err));
  }

  async days(until: Date, days: number): Promise<DayCounts[]> {
    const dates: string[] = [];
    for (let i = days - 1; i >= 0; i--) dates.push(dayOf(new Date(until.getTime() - i * 86_400_000)));
    const pipe = this.deps.redis.pipeline();
    for (const d of dates) pipe.hmget(this.deps.keys.dailyActivity(d), ...EVENTS);
    const rows = (await pipe.exec()) ?? [];
    return dates.map((day, i) => {
      const values = (rows[i]?.[1] as (string | null)[] | undefined) ?? [];
      return {
        day,
        signups: Number(values[0] ?? 0),
        confirmations: Number(values[1] ?? 0),
        unsubscribes: Number(values[2] ?? 0),
      };
    });
  }

  async add(campaignId: number, at: Date, n: number): Promise<void> {
    const key = this.deps.keys.campaignMinutes(campaignId);
    await this.deps.redis
      .multi()
      .hincrby(key, String(Math.floor(at.getTime() / 60_000)), n)
      .expire(key, MINUTES_TTL_SECONDS)
      .exec();
  }

  async perMinute(campaignId: number): Promise<{ minute: string; count: number }[]> {
    const all = await this.deps.redis.hgetall(this.deps.keys.campaignMinutes(campaignId));
    return Object.entries(all)
      .map(([m, c]) => [Number(m), Number(c)] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([m, count]) => ({ minute: new Date(m * 60_000).toISOString(), count }));
  }

  async polled(poll: FeedPoll): Promise<void> {
    await this.deps.redis.set(this.deps.keys.feedLastPoll(), JSON.stringify(poll));
  }

  async last(): Promise<FeedPoll | null> {
    const raw = await this.deps.redis.get(this.deps.keys.feedLastPoll());
    return raw ? (JSON.parse(raw) as FeedPoll) : null;
  }
}
