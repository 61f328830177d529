import { addressOf } from './address';

/** Who the mail comes from and the list it belongs to: the same on every message. */
export interface MailIdentity {
  from: string;
  replyTo?: string;
  /** `List-Id` value, e.g. `The Daily <newsletter.example.com>`. */
  listId: string;
  /** Right-hand side of Message-IDs. */
  messageIdDomain: string;
}

export function mailIdentity(opts: {
  from: string;
  replyTo?: string;
  publicUrl: string;
  siteName: string;
}): MailIdentity {
  const host = new URL(opts.publicUrl).hostname || 'localhost';
  const fromDomain = addressOf(opts.from).split('@')[1] || host;
  return {
    from: opts.from,
    replyTo: opts.replyTo,
    listId: `${opts.siteName.replace(/[<>\r\n"]/g, '')} <newsletter.${host}>`,
    messageIdDomain: fromDomain,
  };
}
