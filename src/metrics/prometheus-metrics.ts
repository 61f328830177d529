import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AutoPauseCause } from '../domain/campaign';
import type { FeedbackSource } from '../domain/feedback-source';
import type { MailKind, Metrics, SignupOutcome, UnsubscribeMethod } from '../domain/ports/metrics';

/** The service's Prometheus metrics, in a registry of its own (one per container, so tests do not share counters). */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly signups = this.counter('newsletter_signups_total', 'Signup requests accepted (including repeats)', [
    'outcome',
  ]);
  private readonly confirmations = this.counter('newsletter_confirmations_total', 'Subscriptions confirmed');
  private readonly unsubscribes = this.counter('newsletter_unsubscribes_total', 'Unsubscribes', ['method']);
  private readonly mailsSent = this.counter('newsletter_mails_sent_total', 'Messages the mail server accepted', [
    'kind',
  ]);
  private readonly mailsFailed = this.counter('newsletter_mails_failed_total', 'Messages that failed', [
    'kind',
    'permanent',
  ]);
  // The source label has a handful of values (smtp, each provider, mailbox), so it costs a few series at most.
  private readonly bounces = this.counter(
    'newsletter_bounces_total',
    'Bounces, by type and by who reported them: hard (address suppressed) or soft (a message given up on for a ' +
      'temporary reason; the address is suppressed at BOUNCE_SOFT_LIMIT in 30 days)',
    ['type', 'source'],
  );
  private readonly complaints = this.counter(
    'newsletter_complaints_total',
    'Spam complaints (address suppressed), by who reported them',
    ['source'],
  );
  private readonly autoPauses = this.counter(
    'newsletter_campaign_auto_pauses_total',
    'Campaigns that paused themselves, by reason: consecutive_failures, complaint_rate, bounce_rate or smtp_unreachable',
    ['reason'],
  );
  private readonly queueDepth = new Gauge({
    name: 'newsletter_queue_depth',
    help: 'Jobs waiting or delayed per queue',
    labelNames: ['queue'],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  signup(outcome: SignupOutcome): void {
    this.signups.inc({ outcome });
  }
  confirmed(): void {
    this.confirmations.inc();
  }
  unsubscribed(method: UnsubscribeMethod): void {
    this.unsubscribes.inc({ method });
  }
  mailSent(kind: MailKind): void {
    this.mailsSent.inc({ kind });
  }
  mailFailed(kind: MailKind, permanent: boolean): void {
    this.mailsFailed.inc({ kind, permanent: String(permanent) });
  }
  bounced(type: 'hard' | 'soft', source: FeedbackSource): void {
    this.bounces.inc({ type, source });
  }
  complained(source: FeedbackSource): void {
    this.complaints.inc({ source });
  }
  campaignAutoPaused(cause: AutoPauseCause): void {
    this.autoPauses.inc({ reason: cause });
  }

  /** Sets the depth gauge of each queue, by name. */
  private readonly redisUp = new Gauge({
    name: 'newsletter_redis_up',
    help: '1 when this process reaches Redis, 0 while Redis is away',
    registers: [this.registry],
  });

  setRedisUp(up: boolean): void {
    this.redisUp.set(up ? 1 : 0);
  }

  setQueueDepths(depths: Record<string, number>): void {
    for (const [queue, n] of Object.entries(depths)) this.queueDepth.set({ queue }, n);
  }

  /** The exposition text for GET /metrics. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private counter(name: string, help: string, labelNames: string[] = []): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
