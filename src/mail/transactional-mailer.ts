import type { Logger } from 'pino';
import type { SubscriberStore } from '../store/subscriber-store';
import type { Links } from '../domain/links';
import type { Metrics } from '../metrics';
import type { Clock } from '../domain/clock';
import type { TransactionalJob } from '../queue/queue-names';
import { addressOf } from './address';
import type { MailIdentity } from './mail-identity';
import { PermanentDeliveryError, type MailTransport } from './mail-transport';
import { MessageTemplate } from './message-template';
import type { TemplateRenderer } from './template-renderer';

const SUBJECTS = { confirm: 'Please confirm your subscription', welcome: 'Welcome: your subscription is confirmed' } as const;

/** Sends the confirmation and welcome mails. Each template is rendered once per process and personalised per mail. */
export class TransactionalMailer {
  private readonly compiled = new Map<TransactionalJob['kind'], Promise<MessageTemplate>>();

  constructor(private readonly deps: { subscribers: SubscriberStore; renderer: TemplateRenderer; transport: MailTransport; links: Links; identity: MailIdentity; metrics: Metrics; log: Logger; clock: Clock; siteName: string }) {}

  /** Sends one mail; a subscriber who left or was erased since the job was queued gets nothing. */
  async send(job: TransactionalJob): Promise<'sent' | 'skipped'> {
    const { subscribers, transport, links, identity, metrics, log } = this.deps;
    const sub = await subscribers.get(job.subscriberId);
    const wanted = job.kind === 'confirm' ? 'pending' : 'active';
    if (!sub || sub.status !== wanted) {
      log.info({ event: 'mail.skipped', kind: job.kind, subscriberId: job.subscriberId, status: sub?.status ?? 'erased' }, 'subscriber no longer in the expected state');
      return 'skipped';
    }
    const template = await this.template(job.kind);
    const unsubscribe = links.unsubscribe(sub.id);
    const { raw, messageId } = template.build({
      to: sub.email,
      name: sub.name || 'there',
      confirm_url: job.kind === 'confirm' ? links.confirm(sub.id) : '',
      unsubscribe_url: unsubscribe.url,
      list_unsubscribe: unsubscribe.header,
    });
    try {
      await transport.send({ envelope: { from: addressOf(identity.from), to: sub.email }, raw, messageId });
    } catch (err) {
      metrics.mailsFailed.inc({ kind: job.kind, permanent: String(err instanceof PermanentDeliveryError) });
      if (err instanceof PermanentDeliveryError) {
        // The address does not exist: never try it again.
        const now = this.deps.clock.now().toISOString();
        await subscribers.transition(sub, ['pending', 'active'], 'bounced', { bouncedAt: now, updatedAt: now }, true);
        await subscribers.appendConsent(sub.email, 'bounced', now, {}, err.message.slice(0, 200));
      }
      throw err;
    }
    metrics.mailsSent.inc({ kind: job.kind });
    log.info({ event: 'mail.sent', kind: job.kind, subscriberId: sub.id, messageId }, 'transactional mail sent');
    return 'sent';
  }

  private template(kind: TransactionalJob['kind']): Promise<MessageTemplate> {
    let t = this.compiled.get(kind);
    if (!t) {
      t = this.deps.renderer.render(kind, { reason: `You get this because you subscribed to ${this.deps.siteName}.` }).then(
        (r) =>
          new MessageTemplate({
            from: this.deps.identity.from,
            replyTo: this.deps.identity.replyTo,
            subject: SUBJECTS[kind],
            html: r.html,
            text: r.text,
            messageIdDomain: this.deps.identity.messageIdDomain,
            // The confirmation goes to someone not yet subscribed: no list headers. The welcome mail is list mail.
            headers: kind === 'welcome' ? { 'List-Id': this.deps.identity.listId, 'List-Unsubscribe': '{{list_unsubscribe}}', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : undefined,
          }),
      );
      t.catch(() => this.compiled.delete(kind));
      this.compiled.set(kind, t);
    }
    return t;
  }
}
