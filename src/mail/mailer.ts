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
import type { MailKind, MailTransport } from './mail-transport';
import { MessageTemplate, type RecipientValues } from './message-template';
import type { TemplateRenderer } from './template-renderer';

const SUBJECTS: Record<TransactionalKind, string> = {
  confirm: 'Please confirm your subscription',
  welcome: 'Welcome: your subscription is confirmed',
};

/** The first visible line of each mail, which mail apps show beside the subject. */
const PREHEADERS: Record<TransactionalKind, (siteName: string) => string> = {
  confirm: (site) => `One click to confirm your subscription to ${site}.`,
  welcome: (site) => `Your subscription to ${site} is confirmed.`,
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
      /** The time each message is dated with, in milliseconds since the epoch. Default: `Date.now`. */
      now?: () => number;
    },
  ) {
    this.envelopeFrom = addressOf(deps.identity.from);
  }

  prepareNewsletter(campaignId: number, content: CampaignContent): PreparedNewsletter {
    const template = this.newsletterTemplate(campaignId, content);
    return { send: (to) => this.send(template, 'newsletter', recipientValues(to), to.returnToken) };
  }

  async sendTransactional(kind: TransactionalKind, to: Addressee): Promise<SentMail> {
    const template = await this.transactionalTemplate(kind);
    const values = {
      ...recipientValues(to),
      confirm_url: to.confirmUrl ?? '',
      newsletters: to.newsletters ?? this.deps.siteName,
    };
    return this.send(template, kind, values, to.returnToken);
  }

  /** The compiled newsletter of a campaign (kept per campaign; id 0, for tests and benchmarks, is never kept). */
  newsletterTemplate(campaignId: number, content: CampaignContent): MessageTemplate {
    let t = this.newsletters.get(campaignId);
    if (!t) {
      // Gmail's feedback loop counts complaints per field; a test send (id 0) belongs to no campaign.
      const feedback = campaignId > 0 ? `campaign-${campaignId}:newsletter` : 'newsletter';
      t = this.compile(content.subject, content, { listMail: true, feedback });
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
      const { siteName } = this.deps;
      const vars = {
        reason: `You get this because you subscribed to ${siteName}.`,
        preheader: PREHEADERS[kind](siteName),
        // The welcome is no one newsletter's mail: its link leaves them all.
        unsubscribe_label: 'Unsubscribe from everything',
      };
      // The confirmation goes to someone not yet subscribed: no list headers. The welcome mail is list mail.
      const options = { listMail: kind === 'welcome', feedback: `${kind}:transactional` };
      t = this.deps.templates
        .render(kind, vars, { preheader_links: '', signup_line: '' })
        .then((r) => this.compile(SUBJECTS[kind], r, options));
      t.catch(() => this.transactional.delete(kind));
      this.transactional.set(kind, t);
    }
    return t;
  }

  /**
   * `feedback` is the start of the Feedback-ID header (Gmail's `a:b:c:SenderId`): what groups of mail to count
   * complaints for, never anything about one reader; the sender id ends it.
   */
  private compile(
    subject: string,
    body: { html: string; text: string },
    opts: { listMail: boolean; feedback: string },
  ): MessageTemplate {
    const { identity } = this.deps;
    const headers: Record<string, string> = { 'Feedback-ID': `${opts.feedback}:${identity.feedbackSender}` };
    if (opts.listMail) {
      headers['List-Id'] = identity.listId;
      headers['List-Unsubscribe'] = '{{list_unsubscribe}}';
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    return new MessageTemplate({
      from: identity.from,
      replyTo: identity.replyTo,
      subject,
      html: body.html,
      text: body.text,
      messageIdDomain: identity.messageIdDomain,
      headers,
      now: this.deps.now,
    });
  }

  private send(
    template: MessageTemplate,
    kind: MailKind,
    values: RecipientValues,
    returnToken?: string,
  ): Promise<SentMail> {
    const { parts, messageId } = template.buildParts(values, returnToken);
    const from =
      returnToken && this.deps.bounceDomain ? `bounces+${returnToken}@${this.deps.bounceDomain}` : this.envelopeFrom;
    return this.deps.transport.send({ envelope: { from, to: values.to }, raw: parts, messageId, kind });
  }
}

/** The per-recipient values every template takes. */
export function recipientValues(to: Addressee): RecipientValues {
  return {
    to: to.email,
    name: to.name,
    unsubscribe_url: to.unsubscribe.url,
    list_unsubscribe: to.unsubscribe.header,
    preferences_url: to.preferencesUrl ?? '',
  };
}
