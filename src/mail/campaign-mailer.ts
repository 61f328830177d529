import type { CampaignContent } from '../domain/campaign';
import type { Links } from '../domain/links';
import type { Subscriber } from '../domain/subscriber';
import { addressOf } from './address';
import type { MailIdentity } from './mail-identity';
import type { MailTransport, SendResult } from './mail-transport';
import { MessageTemplate } from './message-template';

/**
 * Builds and sends newsletter messages. A campaign's rendered content is compiled to a MessageTemplate once per
 * process; each message is then a concatenation of prebuilt Buffers and a few encoded values.
 */
export class CampaignMailer {
  private readonly compiled = new Map<number, MessageTemplate>();
  private readonly envelopeFrom: string;

  constructor(private readonly deps: { transport: MailTransport; links: Links; identity: MailIdentity }) {
    this.envelopeFrom = addressOf(deps.identity.from);
  }

  /** Compiles (once) the template of a campaign. `campaignId` 0 is never cached: it is for tests and previews. */
  template(campaignId: number, content: CampaignContent): MessageTemplate {
    let t = this.compiled.get(campaignId);
    if (!t) {
      const { identity } = this.deps;
      t = new MessageTemplate({
        from: identity.from,
        replyTo: identity.replyTo,
        subject: content.subject,
        html: content.html,
        text: content.text,
        messageIdDomain: identity.messageIdDomain,
        headers: { 'List-Id': identity.listId, 'List-Unsubscribe': '{{list_unsubscribe}}', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      });
      if (campaignId > 0) {
        // A worker serves few campaigns at a time; keep the last few.
        if (this.compiled.size >= 8) this.compiled.delete(this.compiled.keys().next().value!);
        this.compiled.set(campaignId, t);
      }
    }
    return t;
  }

  async send(template: MessageTemplate, sub: Pick<Subscriber, 'id' | 'email' | 'name'>): Promise<SendResult> {
    const unsubscribe = this.deps.links.unsubscribe(sub.id);
    const { raw, messageId } = template.build({ to: sub.email, name: sub.name || 'reader', unsubscribe_url: unsubscribe.url, list_unsubscribe: unsubscribe.header });
    return this.deps.transport.send({ envelope: { from: this.envelopeFrom, to: sub.email }, raw, messageId });
  }
}
