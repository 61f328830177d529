import type { SignedTokens } from './signed-token';

/** The signed links a subscriber receives. */
export class Links {
  private readonly base: string;

  constructor(private readonly deps: { tokens: SignedTokens; publicUrl: string; unsubscribeMailbox: string }) {
    this.base = deps.publicUrl.replace(/\/+$/, '');
  }

  /** The public web version of a campaign: the same for every reader, so it carries no token. */
  webVersion(campaignId: number): string {
    return `${this.base}/archive/${campaignId}`;
  }

  confirm(subscriberId: number): string {
    return `${this.base}/confirm?token=${this.deps.tokens.issue('confirm', subscriberId)}`;
  }

  /** The signed token a message carries back in its envelope sender and Message-ID (see SignedTokens.issueReturn). */
  returnToken(subscriberId: number, campaignId?: number): string {
    return this.deps.tokens.issueReturn(subscriberId, campaignId);
  }

  /** The reader's preference page: every newsletter they may choose, with theirs ticked. */
  preferences(subscriberId: number): string {
    return `${this.base}/preferences?token=${this.deps.tokens.issue('preferences', subscriberId)}`;
  }

  /**
   * The visible unsubscribe URL and the List-Unsubscribe header value (RFC 2369), https first as RFC 8058
   * one-click needs, then a mailto for clients that only do mail. With `newsletter` (a newsletter's own mail) both
   * leave that newsletter only; without (the welcome mail), they leave everything.
   */
  unsubscribe(subscriberId: number, newsletter?: string): { url: string; header: string } {
    const token = this.deps.tokens.issue('unsubscribe', subscriberId, newsletter);
    const url = `${this.base}/unsubscribe?token=${token}`;
    return { url, header: `<${url}>, <mailto:${this.deps.unsubscribeMailbox}?subject=unsubscribe%20${token}>` };
  }
}
