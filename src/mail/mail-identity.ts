import { isIP } from 'node:net';
import { addressOf } from './address';

/** Who the mail comes from and the list it belongs to: the same on every message. */
export interface MailIdentity {
  from: string;
  replyTo?: string;
  /** `List-Id` value, e.g. `The Daily <newsletter.example.com>`. */
  listId: string;
  /** Right-hand side of Message-IDs. */
  messageIdDomain: string;
  /** The last field of every Feedback-ID header: the same across the whole mail stream. */
  feedbackSender: string;
}

export function mailIdentity(opts: {
  from: string;
  replyTo?: string;
  publicUrl: string;
  siteName: string;
  feedbackSender: string;
}): MailIdentity {
  const host = new URL(opts.publicUrl).hostname || 'localhost';
  const fromDomain = addressOf(opts.from).split('@')[1] || host;
  return {
    from: opts.from,
    replyTo: opts.replyTo,
    listId: listId(opts.siteName, host),
    messageIdDomain: fromDomain,
    feedbackSender: opts.feedbackSender,
  };
}

/**
 * RFC 2919: an optional phrase, then `<label.namespace>` where the namespace is a domain the list owner controls.
 * The label is "newsletter" and the namespace the service's host; a host that already starts with that label
 * (newsletter.example.com) is the whole id as it is. An IP address is no domain, so it gets RFC 2919's
 * "localhost" namespace for lists without one.
 */
export function listId(siteName: string, host: string): string {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  const namespace = isIP(bare) ? 'localhost' : bare.replace(/\.$/, '');
  const id = namespace.startsWith('newsletter.') ? namespace : `newsletter.${namespace}`;
  const name = phrase(siteName.replace(/[\r\n]/g, ' ').trim());
  return name ? `${name} <${id}>` : `<${id}>`;
}

/** Characters a phrase may hold unquoted; non-ASCII ones the MIME composer turns into encoded words. */
const ATOM_TEXT = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ \u0080-\u{10ffff}]/u;

/**
 * A name as an RFC 5322 phrase: words as they are; an ASCII name with specials (a comma, a dot) as a quoted string.
 * An encoded word may not stand inside quotes, so a non-ASCII name with specials loses the specials instead.
 */
function phrase(name: string): string {
  const chars = [...name];
  if (chars.every((c) => ATOM_TEXT.test(c))) return name;
  if (/^[\x20-\x7e]+$/.test(name)) return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  return chars
    .filter((c) => ATOM_TEXT.test(c))
    .join('')
    .trim();
}
