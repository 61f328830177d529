import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics, in a registry of its own (one per container, so tests do not share counters). */
export class Metrics {
  readonly registry = new Registry();
  readonly signups = new Counter({ name: 'newsletter_signups_total', help: 'Signup requests accepted (including repeats)', labelNames: ['outcome'], registers: [this.registry] });
  readonly confirmations = new Counter({ name: 'newsletter_confirmations_total', help: 'Subscriptions confirmed', registers: [this.registry] });
  readonly unsubscribes = new Counter({ name: 'newsletter_unsubscribes_total', help: 'Unsubscribes', labelNames: ['method'], registers: [this.registry] });
  readonly mailsSent = new Counter({ name: 'newsletter_mails_sent_total', help: 'Messages the mail server accepted', labelNames: ['kind'], registers: [this.registry] });
  readonly mailsFailed = new Counter({ name: 'newsletter_mails_failed_total', help: 'Messages that failed', labelNames: ['kind', 'permanent'], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'newsletter_queue_depth', help: 'Jobs waiting or delayed per queue', labelNames: ['queue'], registers: [this.registry] });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
