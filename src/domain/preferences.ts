import type { Logger } from 'pino';
import { ValidationError } from './errors';
import type { Newsletter } from './newsletter';
import { isPublic, type Newsletters } from './newsletters';
import type { FeedbackSource } from './feedback-source';
import type { Clock } from './ports/clock';
import type { UnsubscribeMethod } from './ports/metrics';
import type { SubscriberRepository } from './ports/subscriber-repository';
import type { SignedTokens } from './signed-token';
import { clipUserAgent, type RequestContext, type Subscriber, type SubscriberStatus } from './subscriber';
import type { SuppressionPolicy } from './suppression-policy';

/** One newsletter as the preference page offers it. */
export interface NewsletterChoice {
  slug: string;
  name: string;
  description: string;
  /** The reader receives it now. */
  receiving: boolean;
}

/** What the preference page shows. */
export type PreferencesView =
  | { state: 'reader'; subscriber: Subscriber; choices: NewsletterChoice[] }
  /** Pending, unsubscribed, bounced or erased: nothing to choose; the page invites them to sign up again. */
  | { state: 'not_subscribed'; status: SubscriberStatus | 'erased' };

/** What a Save did. */
export type PreferencesSaved =
  | { outcome: 'changed'; joined: string[]; left: string[] }
  | { outcome: 'unchanged' }
  /** Nothing was ticked: the reader left altogether. */
  | { outcome: 'unsubscribed' }
  | { outcome: 'not_subscribed' };

/** What leaving one newsletter did. */
export type LeaveOutcome = 'left' | 'unsubscribed' | 'unchanged';

/** How a reader asked to leave one newsletter, for the trail and the counters. */
export interface LeaveRequest {
  method: UnsubscribeMethod;
  /** The request, when there was one (a mailed unsubscribe has none). */
  from?: RequestContext;
  /** Who passed the request on (the feedback mailbox for a mailed one). */
  source?: FeedbackSource;
}

/**
 * The reader's own choice of newsletters, on the signed preference page and through a newsletter's unsubscribe
 * link. Every change goes into the consent trail as `newsletters_changed` with the request it came from; leaving the
 * last newsletter is leaving altogether, which is the suppression policy's unsubscribe (and its trail event).
 */
export class Preferences {
  constructor(
    private readonly deps: {
      subscribers: SubscriberRepository;
      newsletters: Pick<Newsletters, 'list'>;
      tokens: SignedTokens;
      policy: SuppressionPolicy;
      clock: Clock;
      log: Logger;
    },
  ) {}

  /**
   * The page for a preference token: every public newsletter, and any private one the reader receives (an operator
   * added them; they may drop it but could not pick it again), theirs ticked. Throws InvalidTokenError.
   */
  async view(token: unknown): Promise<PreferencesView> {
    const sub = await this.subscriberOf(token);
    if (!sub || sub.status !== 'active') return { state: 'not_subscribed', status: sub?.status ?? 'erased' };
    const choices = (await this.deps.newsletters.list())
      .filter((n) => isPublic(n) || sub.newsletters.includes(n.slug))
      .map((n) => ({
        slug: n.slug,
        name: n.name,
        description: n.description,
        receiving: sub.newsletters.includes(n.slug),
      }));
    return { state: 'reader', subscriber: sub, choices };
  }

  /**
   * Makes the reader's newsletters exactly those ticked (`input` is the form's `newsletters`: a slug or a list, empty
   * entries ignored, as the form always sends an empty one so that "nothing ticked" still arrives). Adding needs no
   * new confirmation: the link came to the reader's mailbox, which is what a confirmation proves. Nothing ticked is
   * leaving everything. Throws InvalidTokenError, or ValidationError for a newsletter that may not be chosen.
   */
  async save(token: unknown, input: unknown, ctx: RequestContext): Promise<PreferencesSaved> {
    const sub = await this.subscriberOf(token);
    if (!sub || sub.status !== 'active') return { outcome: 'not_subscribed' };
    if (input === undefined || input === null)
      throw new ValidationError('invalid_request', 'newsletters is required (send it empty to leave everything)');
    const given = (Array.isArray(input) ? input : [input]).filter((s) => s !== '');
    const all = await this.deps.newsletters.list();
    const allowed = new Set(all.filter((n) => isPublic(n) || sub.newsletters.includes(n.slug)).map((n) => n.slug));
    for (const slug of given)
      if (typeof slug !== 'string' || !allowed.has(slug))
        throw new ValidationError('unknown_newsletter', `newsletter ${JSON.stringify(slug)} does not exist`, {
          issues: [{ field: 'newsletters', message: `${JSON.stringify(slug)} is not a newsletter you can choose` }],
        });
    const chosen = [...new Set(given as string[])];
    if (!chosen.length) {
      const effect = await this.deps.policy.apply(sub, { type: 'unsubscribe', method: 'preferences', from: ctx });
      return effect === 'unsubscribed' ? { outcome: 'unsubscribed' } : { outcome: 'not_subscribed' };
    }
    const change = {
      join: chosen.filter((s) => !sub.newsletters.includes(s)),
      leave: sub.newsletters.filter((s) => !chosen.includes(s)),
    };
    const done = await this.change(sub, change, { method: 'preferences', from: ctx });
    if (done === 'unsubscribed') return { outcome: 'unsubscribed' };
    if (done === 'not_active') return { outcome: 'not_subscribed' };
    return done === 'unchanged' ? { outcome: 'unchanged' } : { outcome: 'changed', ...done };
  }

  /** "Unsubscribe from everything" on the preference page: the whole person leaves. Idempotent. */
  async unsubscribeAll(token: unknown, ctx: RequestContext): Promise<void> {
    const sub = await this.subscriberOf(token);
    if (sub) await this.deps.policy.apply(sub, { type: 'unsubscribe', method: 'preferences', from: ctx });
  }

  /**
   * Leaves one newsletter (a newsletter's own unsubscribe link, one-click or mailed). Leaving the last one is leaving
   * altogether. Idempotent: a person who does not receive it, or receives nothing, is left as they are.
   */
  async leave(sub: Subscriber, slug: string, how: LeaveRequest): Promise<LeaveOutcome> {
    const done = await this.change(sub, { join: [], leave: [slug] }, how);
    if (done === 'unsubscribed') return 'unsubscribed';
    return typeof done === 'object' ? 'left' : 'unchanged';
  }

  private async change(
    sub: Subscriber,
    change: { join: string[]; leave: string[] },
    how: LeaveRequest,
  ): Promise<{ joined: string[]; left: string[] } | 'unchanged' | 'unsubscribed' | 'not_active'> {
    const { subscribers, policy, clock, log } = this.deps;
    const now = clock.now().toISOString();
    const result = await subscribers.changeNewsletters(sub.id, change, now);
    switch (result.outcome) {
      case 'would_empty': {
        const effect = await policy.apply(sub, {
          type: 'unsubscribe',
          method: how.method,
          from: how.from,
          source: how.source,
        });
        return effect === 'unsubscribed' ? 'unsubscribed' : 'unchanged';
      }
      case 'not_active':
        return 'not_active';
      case 'unchanged':
        return 'unchanged';
      case 'changed': {
        const { joined, left } = result;
        const detail = [joined.length && `joined: ${joined.join(', ')}`, left.length && `left: ${left.join(', ')}`]
          .filter(Boolean)
          .join('; ');
        const evidence = {
          ...(how.from && { ip: how.from.ip, userAgent: clipUserAgent(how.from.userAgent) }),
          source: how.source ?? how.method,
        };
        await subscribers.appendConsent(sub.email, {
          type: 'newsletters_changed',
          at: now,
          evidence,
          detail: `${detail} (${how.method})`,
        });
        log.info(
          { event: 'subscription.newsletters_changed', subscriberId: sub.id, joined, left, method: how.method },
          'newsletters changed',
        );
        return { joined, left };
      }
    }
  }

  private async subscriberOf(token: unknown): Promise<Subscriber | null> {
    return this.deps.subscribers.get(this.deps.tokens.verify('preferences', token));
  }
}

/** The names of these newsletters, in the order given; a slug no longer known stands for itself. */
export function newsletterNames(slugs: string[], all: Pick<Newsletter, 'slug' | 'name'>[]): string[] {
  return slugs.map((s) => all.find((n) => n.slug === s)?.name ?? s);
}
