import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from './errors';
import { NEWSLETTER_SLUG } from './newsletter';
import type { Clock } from './ports/clock';

/**
 * What a link may do. `preferences` is its own purpose rather than a reuse of `unsubscribe`: a preference link can
 * add newsletters, while an unsubscribe link (which mail providers see in List-Unsubscribe, and may POST to on their
 * own) must only ever take mail away. Like unsubscribe links, preference links never expire: the footer of an old
 * newsletter must still lead to the reader's choices.
 */
export type TokenPurpose = 'confirm' | 'unsubscribe' | 'preferences';

/** What a verified token says: whose it is and, for an unsubscribe link in one newsletter's mail, which newsletter. */
export interface TokenClaims {
  subscriberId: number;
  /** The newsletter the link is about; absent means the person as a whole (every token issued before slugs). */
  newsletter?: string;
}

const RETURN_TOKEN = /f-([0-9a-z]{1,11})-([0-9a-z]{1,11})-([0-9a-f]{16})/;

/** Every return token written somewhere in a text (a bounce's recipients, its quoted headers), first match first. */
export function findReturnTokens(text: string): string[] {
  return [...text.toLowerCase().matchAll(new RegExp(`\\b${RETURN_TOKEN.source}\\b`, 'g'))].map((m) => m[0]);
}

export class InvalidTokenError extends DomainError {
  declare readonly code: 'invalid_token' | 'expired_token';
  constructor(code: 'invalid_token' | 'expired_token', message: string) {
    super(code, message);
  }
}

/** Options of `SignedTokens`. */
export interface SignedTokensOptions {
  /** HMAC key (APP_SECRET): signs every new token. */
  secret: string;
  /**
   * Keys retired by a rotation (APP_SECRET_PREVIOUS), newest first: tokens they signed still verify, none is signed
   * with them any more. Default none.
   */
  previousSecrets?: readonly string[];
  clock: Clock;
  /** Lifetime of confirmation tokens. Default 7 days. */
  confirmTtlSeconds?: number;
}

/**
 * Compact HMAC-SHA256 tokens: `<payload>.<mac>`, both base64url. The payload carries the purpose, the subscriber
 * id, an expiry (0 = none) and optionally a newsletter's slug, so a confirmation token can never unsubscribe and
 * vice versa.
 * Unsubscribe tokens do not expire: a link in a two-year-old newsletter must still let a person leave.
 */
export class SignedTokens {
  private readonly confirmTtl: number;
  /** The current key first: nearly every token is checked against one key only. */
  private readonly verifyingKeys: readonly string[];

  constructor(private readonly opts: SignedTokensOptions) {
    this.confirmTtl = opts.confirmTtlSeconds ?? 7 * 24 * 3600;
    this.verifyingKeys = [opts.secret, ...(opts.previousSecrets ?? [])];
  }

  /**
   * `newsletter` narrows the token to one newsletter (an unsubscribe link that leaves only that one). It is a fourth
   * payload field, so tokens issued before it (three fields) still verify and mean the whole person.
   */
  issue(purpose: TokenPurpose, subscriberId: number, newsletter?: string): string {
    const exp = purpose === 'confirm' ? Math.floor(this.opts.clock.now().getTime() / 1000) + this.confirmTtl : 0;
    if (newsletter !== undefined && !NEWSLETTER_SLUG.test(newsletter)) throw new Error(`not a slug: ${newsletter}`);
    const fields = [purpose[0], subscriberId.toString(36), exp.toString(36)];
    if (newsletter !== undefined) fields.push(newsletter);
    const payload = Buffer.from(fields.join('.')).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** Returns the subscriber id, or throws InvalidTokenError. A token naming a newsletter is still the person's. */
  verify(purpose: TokenPurpose, token: unknown): number {
    return this.claims(purpose, token).subscriberId;
  }

  /** Whose token it is and which newsletter it names, if any; throws InvalidTokenError. */
  claims(purpose: TokenPurpose, token: unknown): TokenClaims {
    if (typeof token !== 'string' || token.length > 200)
      throw new InvalidTokenError('invalid_token', 'The link is not valid.');
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined) throw new InvalidTokenError('invalid_token', 'The link is not valid.');
    if (!this.verifyingKeys.some((key) => sameMac(mac, this.mac(payload, key))))
      throw new InvalidTokenError('invalid_token', 'The link is not valid.');
    const [p, id36, exp36, newsletter, more] = Buffer.from(payload, 'base64url').toString().split('.');
    const id = parseInt(id36, 36);
    const exp = parseInt(exp36, 36);
    if (p !== purpose[0] || !Number.isSafeInteger(id) || id <= 0 || !Number.isSafeInteger(exp))
      throw new InvalidTokenError('invalid_token', 'The link is not valid.');
    // Signed by us, so this only guards against our own mistakes; still, nothing unexpected is let through.
    if (more !== undefined || (newsletter !== undefined && !NEWSLETTER_SLUG.test(newsletter)))
      throw new InvalidTokenError('invalid_token', 'The link is not valid.');
    if (exp !== 0 && exp * 1000 < this.opts.clock.now().getTime())
      throw new InvalidTokenError('expired_token', 'The link has expired.');
    return newsletter === undefined ? { subscriberId: id } : { subscriberId: id, newsletter };
  }

  /**
   * The return token a message carries in its envelope sender (VERP) and its Message-ID, so whatever comes back (a
   * bounce, a complaint report) names its recipient and campaign without guessing from the text. It is lowercase
   * letters, digits and hyphens only, since some relays change the case of local parts and Message-IDs are matched
   * by eye in mail logs: `f-<subscriber>-<campaign>-<mac>`, campaign 0 for mail outside campaigns.
   */
  issueReturn(subscriberId: number, campaignId = 0): string {
    const body = `f-${subscriberId.toString(36)}-${campaignId.toString(36)}`;
    return `${body}-${this.returnMac(body)}`;
  }

  /** The recipient and campaign of a return token, or null when it is not one of ours. */
  verifyReturn(token: string): { subscriberId: number; campaignId?: number } | null {
    const m = RETURN_TOKEN.exec(token.toLowerCase());
    if (!m || m[0].length !== token.length) return null;
    const body = `f-${m[1]}-${m[2]}`;
    if (!this.verifyingKeys.some((key) => sameMac(m[3], this.returnMac(body, key)))) return null;
    const subscriberId = parseInt(m[1], 36);
    const campaignId = parseInt(m[2], 36);
    if (!Number.isSafeInteger(subscriberId) || subscriberId <= 0 || !Number.isSafeInteger(campaignId)) return null;
    return campaignId > 0 ? { subscriberId, campaignId } : { subscriberId };
  }

  private returnMac(body: string, key = this.opts.secret): string {
    return createHmac('sha256', key).update(`return:${body}`).digest('hex').slice(0, 16);
  }

  private mac(payload: string, key = this.opts.secret): string {
    return createHmac('sha256', key).update(payload).digest('base64url').slice(0, 32);
  }
}

/** Compares MACs in constant time (for equal lengths; a length is no secret). */
function sameMac(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
