import type { CampaignContent } from '../src/domain/campaign';
import { systemClock } from '../src/domain/clock';
import { Links } from '../src/domain/links';
import { SignedTokens } from '../src/domain/signed-token';
import { addressOf } from '../src/mail/address';
import { CampaignMailer } from '../src/mail/campaign-mailer';
import { mailIdentity, type MailIdentity } from '../src/mail/mail-identity';
import type { MailTransport } from '../src/mail/mail-transport';
import type { MessageTemplate, RecipientValues } from '../src/mail/message-template';
import { MAIL_FROM, PUBLIC_URL, SITE_NAME } from './fixture';

/** Never sends: the micro-benchmarks only build messages. */
const noTransport: MailTransport = {
  describe: 'none',
  send: () => Promise.reject(new Error('the micro-benchmark does not send')),
  close: async () => {},
};

export const BENCH_SECRET = 'bench-app-secret-0123456789abcdef0123456789';

/**
 * Builds messages exactly as the engine does: the template comes from CampaignMailer (same headers, same
 * identity), and the per-recipient values are the ones CampaignMailer.send passes to MessageTemplate.build.
 */
export class MessageFactory {
  readonly identity: MailIdentity;
  readonly links: Links;
  private readonly mailer: CampaignMailer;

  constructor(opts: { links?: Links; identity?: MailIdentity } = {}) {
    this.identity = opts.identity ?? mailIdentity({ from: MAIL_FROM, publicUrl: PUBLIC_URL, siteName: SITE_NAME });
    this.links = opts.links ?? new Links({ tokens: new SignedTokens({ secret: BENCH_SECRET, clock: systemClock }), publicUrl: PUBLIC_URL, unsubscribeMailbox: addressOf(MAIL_FROM) });
    this.mailer = new CampaignMailer({ transport: noTransport, links: this.links, identity: this.identity });
  }

  template(content: CampaignContent): MessageTemplate {
    return this.mailer.template(0, content);
  }

  /** The values of subscriber `id`, as CampaignMailer.send computes them. */
  values(id: number): RecipientValues {
    const unsubscribe = this.links.unsubscribe(id);
    return { to: `reader${id}@list.bench`, name: `Reader ${id}`, unsubscribe_url: unsubscribe.url, list_unsubscribe: unsubscribe.header };
  }
}
