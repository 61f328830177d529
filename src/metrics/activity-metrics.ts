import type { AutoPauseCause } from '../domain/campaign';
import type { FeedbackSource } from '../domain/feedback-source';
import type { DailyActivity } from '../domain/ports/activity';
import type { Clock } from '../domain/ports/clock';
import type { MailKind, Metrics, SignupOutcome, UnsubscribeMethod } from '../domain/ports/metrics';

/** Signups that are a person asking for mail; a bot, a repeat or a suppressed address are not news for the chart. */
const COUNTED: ReadonlySet<SignupOutcome> = new Set(['new', 'renewed', 'added']);

/**
 * Metrics that also keep the dashboard's daily counters. Why here and not in the use cases: the use cases already
 * report every signup, confirmation and unsubscribe to Metrics, from the one place each happens (the suppression
 * policy for every kind of unsubscribe); fanning out at this seam gives the chart the same numbers as Prometheus,
 * with one counting policy and no new calls to forget in a future flow.
 */
export class ActivityMetrics implements Metrics {
  constructor(
    private readonly inner: Metrics,
    private readonly daily: DailyActivity,
    private readonly clock: Clock,
  ) {}

  signup(outcome: SignupOutcome): void {
    this.inner.signup(outcome);
    if (COUNTED.has(outcome)) this.daily.count('signups', this.clock.now());
  }
  confirmed(): void {
    this.inner.confirmed();
    this.daily.count('confirmations', this.clock.now());
  }
  unsubscribed(method: UnsubscribeMethod): void {
    this.inner.unsubscribed(method);
    this.daily.count('unsubscribes', this.clock.now());
  }
  mailSent(kind: MailKind): void {
    this.inner.mailSent(kind);
  }
  mailFailed(kind: MailKind, permanent: boolean): void {
    this.inner.mailFailed(kind, permanent);
  }
  bounced(type: 'hard' | 'soft', source: FeedbackSource): void {
    this.inner.bounced(type, source);
  }
  complained(source: FeedbackSource): void {
    this.inner.complained(source);
  }
  campaignAutoPaused(cause: AutoPauseCause): void {
    this.inner.campaignAutoPaused(cause);
  }
}
