import type { CampaignContent } from '../src/domain/campaign';
import { Links } from '../src/domain/links';
import { systemClock } from '../src/domain/ports/clock';
import { SignedTokens } from '../src/domain/signed-token';
import { addressOf } from '../src/mail/address';
import { mailIdentity, type MailIdentity } from '../src/mail/mail-identity';
import type { MailTransport } from '../src/mail/mail-transport';
import { Mailer, recipientValues } from '../src/mail/mailer';
import type { MessageTemplate, RecipientValues } from '../src/mail/message-template';
import { TemplateRenderer } from '../src/mail/template-renderer';
import { FEEDBACK_SENDER, MAIL_FROM, PUBLIC_URL, SITE_NAME, TEMPLATE_GLOBALS, TEMPLATES_DIR } from './fixture';

/** Never sends: the micro-benchmarks only build messages. */
const noTransport: MailTransport = {
  describe: 'none',
  send: () => Promise.reject(new Error('the micro-benchmark does not send')),
  close: async () => {},
};

export const BENCH_SECRET = 'bench-app-secret-0123456789abcdef0123456789';

/**
 * Builds messages exactly as the engine does: the template comes from the Mailer (same headers, same identity),
 * and the per-recipient values are the ones its newsletter send passes to MessageTemplate.build.
 */
export class MessageFactory {
  readonly identity: MailIdentity;
  readonly links: Links;
  private readonly mailer: Mailer;

  constructor(opts: { links?: Links; identity?: MailIdentity } = {}) {
    this.identity =
      opts.identity ??
      mailIdentity({
        from: MAIL_FROM,
        publicUrl: PUBLIC_URL,
        siteName: SITE_NAME,
        feedbackSender: FEEDBACK_SENDER,
      });
    this.links =
      opts.links ??
      new Links({
        tokens: new SignedTokens({ secret: BENCH_SECRET, clock: systemClock }),
        publicUrl: PUBLIC_URL,
        unsubscribeMailbox: addressOf(MAIL_FROM),
      });
    const templates = new TemplateRenderer({ dir: TEMPLATES_DIR, globals: {} });
    this.mailer = new Mailer({ transport: noTransport, templates, identity: this.identity, siteName: SITE_NAME });
  }

  /** The size on the wire of subscriber `id`'s confirmation mail, built as the service's worker builds it. */
  async confirmationBytes(id: number): Promise<number> {
    let bytes = 0;
    const measuring: MailTransport = {
      describe: 'measures',
      send: (m) => {
        bytes = Buffer.isBuffer(m.raw) ? m.raw.length : m.raw.reduce((sum, part) => sum + part.length, 0);
        return Promise.resolve({ messageId: m.messageId, response: '250 measured' });
      },
      close: async () => {},
    };
    const templates = new TemplateRenderer({ dir: TEMPLATES_DIR, globals: TEMPLATE_GLOBALS });
    const mailer = new Mailer({ transport: measuring, templates, identity: this.identity, siteName: SITE_NAME });
    await mailer.sendTransactional('confirm', {
      email: `sat-bench-${id}@example.com`,
      name: 'there',
      unsubscribe: this.links.unsubscribe(id),
      newsletters: SITE_NAME,
      confirmUrl: this.links.confirm(id),
      returnToken: this.links.returnToken(id),
    });
    return bytes;
  }

  template(content: CampaignContent): MessageTemplate {
    return this.mailer.newsletterTemplate(0, content);
  }

  /** The values of subscriber `id`, as a campaign's send computes them. */
  values(id: number): RecipientValues {
    return recipientValues({
      email: `reader${id}@list.bench`,
      name: `Reader ${id}`,
      unsubscribe: this.links.unsubscribe(id),
    });
  }
}
