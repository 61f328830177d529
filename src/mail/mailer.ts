import type { CampaignContent } from '../domain/campaign';
import type {
  Addressee,
  MailSender,
  PreparedNewsletter,
  SentMail,
  TransactionalKind,
} from '../domain/ports/mail-sender';
import { addressOf } from './address';
import type { MailIdentity } from './mail-identity';
import type { MailTransport } from './mail-transport';
import { MessageTemplate, type RecipientValues } from './message-template';
import type { TemplateRenderer } from './template-renderer';

const SUBJECTS: Record<TransactionalKind, string> = {
  confirm: 'Please confirm your subscription',
  welcome: 'Welcome: your subscription is confirmed',
};

/** Campaigns a process keeps compiled: a worker serves few at a time. */
const KEPT_CAMPAIGNS = 8;

/**
 * MailSender over MIME templates: each message kind is compiled once per process into a MessageTemplate (the whole
 * MIME message as Buffers with holes), so a message is a concatenation plus a few encoded values. It builds and
 * sends; what a failure means for the person is the domain's business.
 */
export class Mailer implements MailSender {
  private readonly newsletters = new Map<number, MessageTemplate>();
  private readonly transactional = new Map<TransactionalKind, Promise<MessageTemplate>>();
  private readonly envelopeFrom: string;

  constructor(
    private readonly deps: {
      transport: MailTransport;
      /** Renders the confirmation and welcome templates. */
      templates: TemplateRenderer;
      identity: MailIdentity;
      siteName: string;
      /**
       * With it, each message's envelope sender is `bounces+<return token>@bounceDomain` (VERP), so bounce notices
       * come back addressed to the recipient they are about. Without it, the From address.
       */
      bounceDomain?: string;
    },
  ) {
    this.envelopeFrom = addressOf(deps.identity.from);
  }

  prepareNewsletter(campaignId: number, content: CampaignContent): PreparedNewsletter {
    const template = this.newsletterTemplate(campaignId, content);
    return { send: (to) => this.send(template, recipientValues(to), to.returnToken) };
  }

  async sendTransactional(kind: TransactionalKind, to: Addressee): Promise<SentMail> {
    const template = await this.transactionalTemplate(kind);
    return this.send(template, { ...recipientValues(to), confirm_url: to.confirmUrl ?? '' }, to.returnToken);
  }

  /** The compiled newsletter of a campaign (kept per campaign; id 0, for tests and benchmarks, is never kept). */
  newsletterTemplate(campaignId: number, content: CampaignContent): MessageTemplate {
    let t = this.newsletters.get(campaignId);
    if (!t) {
      t = this.compile(content.subject, content, true);
      if (campaignId > 0) {
        if (this.newsletters.size >= KEPT_CAMPAIGNS) this.newsletters.delete(this.newsletters.keys().next().value!);
        this.newsletters.set(campaignId, t);
      }
    }
    return t;
  }

  private transactionalTemplate(kind: TransactionalKind): Promise<MessageTemplate> {
    let t = this.transactional.get(kind);
    if (!t) {
      const reason = `You get this because you subscribed to ${this.deps.siteName}.`;
      // The confirmation goes to someone not yet subscribed: no list headers. The welcome mail is list mail.
      t = this.deps.templates.render(kind, { reason }).then((r) => this.compile(SUBJECTS[kind], r, kind === 'welcome'));
      t.catch(() => this.transactional.delete(kind));
      this.transactional.set(kind, t);
    }
    return t;
  }

  private compile(subject: string, body: { html: string; text: string }, listMail: boolean): MessageTemplate {
    const { identity } = this.deps;
    return new MessageTemplate({
      from: identity.from,
      replyTo: identity.replyTo,
      subject,
      html: body.html,
      text: body.text,
      messageIdDomain: identity.messageIdDomain,
      headers: listMail
        ? {
            'List-Id': identity.listId,
            'List-Unsubscribe': '{{list_unsubscribe}}',
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          }
        : undefined,
    });
  }

  private send(template: MessageTemplate, values: RecipientValues, returnToken?: string): Promise<SentMail> {
    const { raw, messageId } = template.build(values, returnToken);
    const from =
      returnToken && this.deps.bounceDomain ? `bounces+${returnToken}@${this.deps.bounceDomain}` : this.envelopeFrom;
    return this.deps.transport.send({ envelope: { from, to: values.to }, raw, messageId });
  }
}

/** The per-recipient values every template takes. */
export function recipientValues(to: Addressee): RecipientValues {
  return { to: to.email, name: to.name, unsubscribe_url: to.unsubscribe.url, list_unsubscribe: to.unsubscribe.header };
}
