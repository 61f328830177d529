import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from './errors';
import type { Clock } from './ports/clock';

export type TokenPurpose = 'confirm' | 'unsubscribe';

export class InvalidTokenError extends DomainError {
  declare readonly code: 'invalid_token' | 'expired_token';
  constructor(code: 'invalid_token' | 'expired_token', message: string) {
    super(code, message);
  }
}

/** Options of `SignedTokens`. */
export interface SignedTokensOptions {
  /** HMAC key (APP_SECRET). */
  secret: string;
  clock: Clock;
  /** Lifetime of confirmation tokens. Default 7 days. */
  confirmTtlSeconds?: number;
}

/**
 * Compact HMAC-SHA256 tokens: `<payload>.<mac>`, both base64url. The payload carries the purpose, the subscriber
 * id and an expiry (0 = none), so a confirmation token can never unsubscribe and vice versa.
 * Unsubscribe tokens do not expire: a link in a two-year-old newsletter must still let a person leave.
 */
export class SignedTokens {
  private readonly confirmTtl: number;

  constructor(private readonly opts: SignedTokensOptions) {
    this.confirmTtl = opts.confirmTtlSeconds ?? 7 * 24 * 3600;
  }

  issue(purpose: TokenPurpose, subscriberId: number): string {
    const exp = purpose === 'confirm' ? Math.floor(this.opts.clock.now().getTime() / 1000) + this.confirmTtl : 0;
    const payload = Buffer.from(`${purpose[0]}.${subscriberId.toString(36)}.${exp.toString(36)}`).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** Returns the subscriber id, or throws InvalidTokenError. */
  verify(purpose: TokenPurpose, token: unknown): number {
    if (typeof token !== 'string' || token.length > 200)
      throw new InvalidTokenError('invalid_token', 'The link is not valid.');
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined) throw new InvalidTokenError('invalid_token', 'The link is not valid.');
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new InvalidTokenError('invalid_token', 'The link is not valid.');
    const [p, id36, exp36] = Buffer.from(payload, 'base64url').toString().split('.');
    const id = parseInt(id36, 36);
    const exp = parseInt(exp36, 36);
    if (p !== purpose[0] || !Number.isSafeInteger(id) || id <= 0 || !Number.isSafeInteger(exp))
      throw new InvalidTokenError('invalid_token', 'The link is not valid.');
    if (exp !== 0 && exp * 1000 < this.opts.clock.now().getTime())
      throw new InvalidTokenError('expired_token', 'The link has expired.');
    return id;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.opts.secret).update(payload).digest('base64url').slice(0, 32);
  }
}
