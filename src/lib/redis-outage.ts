import type { Logger } from 'pino';

/** Socket-level failures: the server is away, not the command wrong. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  // A unix socket path with no server behind it.
  'ENOENT',
]);

/** What ioredis and BullMQ say when a command cannot reach the server (their messages, matched loosely). */
const CONNECTION_MESSAGES = [
  /connection is closed/i,
  /stream isn't writeable/i,
  /enableOfflineQueue/i,
  /command timed out/i,
  /reached the max retries per request/i,
  /connect ETIMEDOUT/i,
  // ioredis with REDIS_SENTINELS, when no Sentinel answers or none names a primary (mid-failover).
  /All sentinels are unreachable/i,
];

/**
 * True when `err` says Redis could not be reached (refused, reset, timed out, closed, not connected), as opposed
 * to a command Redis answered with an error. Those are expected while Redis is away and are reported once, by
 * `RedisOutage`, instead of once per connection per retry.
 */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  return CONNECTION_MESSAGES.some((re) => re.test(err.message));
}

/** Options of `RedisOutage`. */
export interface RedisOutageOptions {
  log: Logger;
  /** Where Redis is, as operators wrote it (password redacted). */
  describe: string;
  /** First gap between two "still unreachable" lines; doubles up to `maxStepMs`. Default 1 s. */
  firstStepMs?: number;
  /** Default 30 s. */
  maxStepMs?: number;
  now?: () => number;
}

/**
 * Reports a Redis outage to operators without flooding the log: one line when it starts, then at most one line per
 * backoff step (1 s, 2 s, 4 s … capped at 30 s), and one when Redis answers again. Every connection of the process
 * (the stores' client, each BullMQ queue and worker) hands its connection errors here, so ten connections retrying
 * every second still make one line per step, at any log level, and never a stack trace.
 */
export class RedisOutage {
  private since: number | undefined;
  private nextAt = 0;
  private step: number;
  private lastReason = '';
  private readonly now: () => number;

  constructor(private readonly opts: RedisOutageOptions) {
    this.step = opts.firstStepMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** Redis is away since this many milliseconds, or undefined when it answers. */
  get downForMs(): number | undefined {
    return this.since === undefined ? undefined : this.now() - this.since;
  }

  /**
   * Takes an error from any Redis connection. Connection errors are counted into the outage (and answer true);
   * anything else is the caller's to log (false).
   */
  failed(err: unknown): boolean {
    if (!isRedisConnectionError(err)) return false;
    const reason = reasonOf(err as Error);
    const now = this.now();
    if (this.since === undefined) {
      this.since = now;
      this.step = this.opts.firstStepMs ?? 1000;
      this.nextAt = now + this.step;
      this.lastReason = reason;
      this.opts.log.warn(
        { event: 'redis.unreachable', redis: this.opts.describe, reason },
        `Redis unreachable at ${this.opts.describe} (${reason}); retrying with backoff (these lines back off to one every ` +
          `${Math.round((this.opts.maxStepMs ?? 30_000) / 1000)} s) until it answers`,
      );
      return true;
    }
    if (now >= this.nextAt || reason !== this.lastReason) {
      this.lastReason = reason;
      this.step = Math.min(this.step * 2, this.opts.maxStepMs ?? 30_000);
      this.nextAt = now + this.step;
      this.opts.log.warn(
        {
          event: 'redis.still_unreachable',
          redis: this.opts.describe,
          reason,
          downSeconds: secondsSince(this.since, now),
        },
        `Redis still unreachable at ${this.opts.describe} after ${secondsSince(this.since, now)} s (${reason}); retrying`,
      );
    }
    return true;
  }

  /** A connection is ready again: ends the outage (one line) if there was one. */
  recovered(): void {
    if (this.since === undefined) return;
    const down = secondsSince(this.since, this.now());
    this.since = undefined;
    this.opts.log.warn(
      { event: 'redis.back', redis: this.opts.describe, downSeconds: down },
      `Redis answers again at ${this.opts.describe} (was away ${down} s)`,
    );
  }
}

function reasonOf(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err.message.split('\n')[0].slice(0, 120);
}

function secondsSince(since: number, now: number): number {
  return Math.round((now - since) / 1000);
}

/**
 * ioredis' reconnect delay: 100 ms doubling to 2 s, so a Redis that comes back is used again within about 2 s,
 * while a long outage costs one connection attempt every 2 s per connection (the log lines back off further,
 * see RedisOutage).
 */
export function redisRetryDelay(times: number): number {
  return Math.min(100 * 2 ** Math.max(times - 1, 0), 2000);
}
