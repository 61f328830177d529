import type { Logger } from 'pino';
import { InvalidEmailError, normaliseEmail, redactEmail } from './email-address';
import { NotFoundError, RateLimitedError, ValidationError } from './errors';
import type { Clock } from './ports/clock';
import type { MailJobs } from './ports/job-queues';
import type { Links } from './links';
import type { Newsletters } from './newsletters';
import type { Preferences } from './preferences';
import type { Metrics, UnsubscribeMethod } from './ports/metrics';
import type { SignupLimits } from './ports/rate-limits';
import type { NewConsentEvent, SubscriberRepository } from './ports/subscriber-repository';
import { InvalidTokenError, type SignedTokens } from './signed-token';
import { LINE_BREAKING, LONE_SURROGATE } from './validation';
import {
  clipUserAgent,
  type ConsentEvent,
  type ConsentEvidence,
  type RequestContext,
  type Subscriber,
} from './subscriber';
import type { SuppressionPolicy } from './suppression-policy';
import type { Terms } from './terms';

export interface SignupInput {
  email?: unknown;
  name?: unknown;
  consent?: unknown;
  termsVersion?: unknown;
  source?: unknown;
  /** Slugs of the newsletters chosen: one (a string) or several; absent means the default newsletter. */
  newsletters?: unknown;
  /** The hidden field only bots fill in. */
  website?: unknown;
}

export interface SubscriptionsDeps {
  subscribers: SubscriberRepository;
  newsletters: Pick<Newsletters, 'resolveChoice' | 'defaultSlug' | 'list'>;
  /** Leaves one newsletter, for unsubscribe links that name one. */
  preferences: Pick<Preferences, 'leave'>;
  /** The preference page an unsubscribe page links to. */
  links: Pick<Links, 'preferences'>;
  limits: SignupLimits;
  tokens: SignedTokens;
  /** Queues the confirmation and welcome mails. */
  mailJobs: MailJobs;
  policy: SuppressionPolicy;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  terms: Pick<Terms, 'version' | 'textHash'>;
}

const MAX_NAME = 100;
const MAX_SOURCE = 200;

/** What the unsubscribe page shows for a token. */
export interface UnsubscribeView {
  /** Pending or active: there is something to leave. */
  subscribed: boolean;
  /** The newsletter the link is about (a newsletter's own mail), and whether the person still receives it. */
  newsletter?: { slug: string; name: string; receiving: boolean };
  /** The person's preference page, for an active reader. */
  preferencesUrl?: string;
}

/** What an unsubscribe did, for the page that follows. */
export type UnsubscribeResult =
  { left: 'everything' } | { left: 'newsletter'; newsletter: { slug: string; name: string }; preferencesUrl?: string };

/** Signup with consent, double opt-in, unsubscribe, export and erasure: the subscriber's side of the service. */
export class Subscriptions {
  constructor(private readonly deps: SubscriptionsDeps) {}

  /**
   * Records a signup to the chosen newsletters. Always answers "pending" for a valid request, whatever was known
   * about the address, so the answer tells nobody who is subscribed. Nothing is stored without consent to the
   * current terms. Whoever is not yet receiving what they chose gets a confirmation mail, a suppressed address
   * (after a bounce, a complaint or an erasure) included: only the confirmation, which proves the mailbox is theirs
   * and wants the mail, lifts the suppression.
   */
  async subscribe(input: SignupInput, ctx: RequestContext): Promise<'pending'> {
    const { subscribers, limits, log, metrics } = this.deps;
    // The per-IP point is taken for every request, valid or not, and a limited client hears 429 before anything
    // about its input; the reads a valid signup needs go out with it, so a signup waits on one round trip for all
    // of them rather than one after the other (the store's connection pipelines commands sent together).
    let checked: { email: string; name: string; source: string } | undefined;
    let invalid: unknown;
    try {
      checked = this.checkInput(input);
    } catch (err) {
      invalid = err;
    }
    const taking = limits.takeSignup(ctx.ip);
    const reads = checked && this.readsFor(checked.email, input.newsletters);
    // Awaited below only if the point was granted: a failure here must not go unhandled meanwhile.
    reads?.catch(() => undefined);
    const wait = await taking;
    if (wait) throw new RateLimitedError(wait);
    if (!checked || !reads) throw invalid;
    const { email, name, source } = checked;
    const { chosen, suppressed, existing } = await reads;
    if (hasText(input.website)) {
      metrics.signup('honeypot');
      log.info({ event: 'signup.honeypot', address: redactEmail(email) }, 'honeypot filled: ignored');
      return 'pending';
    }
    const now = this.now();
    const consent = this.evidence(ctx, source, now);
    const detail = `newsletters: ${chosen.join(', ')}`;
    const renewed = existing
      ? await subscribers.renewConsent(existing.id, { name: name || undefined, consent, now, newsletters: chosen })
      : 'missing';
    if (renewed === 'held') {
      // Already receives all of it: keep the new consent in the trail, send nothing, answer the same.
      await subscribers.appendConsent(email, {
        type: 'subscribed',
        at: now,
        evidence: consent,
        detail: 'already active',
      });
      metrics.signup('already_active');
      return 'pending';
    }
    // Whoever gets here is owed a confirmation mail within the address's limit, which the person's record counts,
    // and a trail entry, written once the record exists so that no trail is ever left without its person. Unknown, or
    // erased between the read above and the renewal: a new person, created with both in the same write.
    const signup: NewConsentEvent = { type: 'subscribed', at: now, evidence: consent, detail };
    const made =
      renewed === 'missing'
        ? await subscribers.create({ email, name, status: 'pending', consent, now, newsletters: chosen, signup })
        : undefined;
    const id = made?.id ?? existing!.id;
    // Not created: renewed, or created by a signup of the same address that came first.
    const [mayMail] = made?.created
      ? [true]
      : await Promise.all([limits.takeConfirmMail(id), subscribers.appendConsent(email, signup)]);
    if (mayMail) await this.deps.mailJobs.enqueue('confirm', id);
    metrics.signup(suppressed ? 'suppressed' : renewed === 'requested' ? 'added' : existing ? 'renewed' : 'new');
    if (suppressed)
      log.info({ event: 'signup.suppressed', address: redactEmail(email) }, 'suppressed address: confirmation needed');

    if (mayMail) {
      // At debug: at info a signup already has its request line, and its mail the worker's line when it goes out; a
      // third line would be one more serialisation and write per signup in the process answering the form.
      log.debug({ event: 'signup.pending', subscriberId: id }, 'confirmation mail queued');
    } else {
      log.warn(
        { event: 'signup.confirm_mail_limited', subscriberId: id },
        'confirmation mail limit reached for this address',
      );
    }
    return 'pending';
  }

  /** A signup's fields, checked in the order the answers name them; throws ValidationError. */
  private checkInput(input: SignupInput): { email: string; name: string; source: string } {
    const email = parseEmail(input.email);
    const name = cleanText(input.name, 'name', MAX_NAME);
    const source = cleanText(input.source, 'source', MAX_SOURCE) || 'form';
    this.requireConsent(input);
    return { email, name, source };
  }

  /** What a valid signup reads before writing: the newsletters chosen, the suppression, the person if known. */
  private async readsFor(
    email: string,
    newsletters: unknown,
  ): Promise<{ chosen: string[]; suppressed: boolean; existing: Subscriber | null }> {
    const { subscribers } = this.deps;
    const [chosen, { subscriber: existing, suppressed }] = await Promise.all([
      this.deps.newsletters.resolveChoice(newsletters),
      subscribers.findForSignup(email),
    ]);
    return { chosen, suppressed, existing };
  }

  /** Reads a confirmation token without acting on it: the GET page shows a button, only POST confirms. */
  async checkConfirmToken(token: unknown): Promise<Subscriber> {
    return this.subscriberFor('confirm', token);
  }

  /**
   * Activates a pending subscription, or adds the newsletters an active reader asked for, and lifts a suppression
   * of the address. Confirming twice is fine; confirming after leaving is not (signing up again sends a new link).
   */
  async confirm(token: unknown, ctx: RequestContext): Promise<'confirmed' | 'already_confirmed'> {
    const { subscribers, log } = this.deps;
    const sub = await this.subscriberFor('confirm', token);
    const now = this.now();
    const done = await subscribers.confirm(sub.id, now, this.deps.newsletters.defaultSlug);
    if (done.outcome === 'already_confirmed') return 'already_confirmed';
    if (done.outcome === 'refused')
      throw new InvalidTokenError('invalid_token', 'This confirmation link is no longer valid. Please sign up again.');
    const { termsVersion, termsHash, source } = sub.consent;
    const evidence = { ip: ctx.ip, userAgent: clipUserAgent(ctx.userAgent), termsVersion, termsHash, source };
    const detail = `newsletters: ${done.joined.join(', ')}`;
    await subscribers.appendConsent(sub.email, { type: 'confirmed', at: now, evidence, detail });
    if (done.liftedSuppression) {
      await subscribers.appendConsent(sub.email, {
        type: 'suppression_lifted',
        at: now,
        evidence,
        detail: 'the address confirmed a new signup',
      });
      log.info({ event: 'subscriber.unsuppressed', subscriberId: sub.id }, 'suppression lifted by a confirmation');
    }
    this.deps.metrics.confirmed();
    // The welcome is for a new reader; one who only added a newsletter has had it.
    if (done.was === 'pending') await this.deps.mailJobs.enqueue('welcome', sub.id);
    log.info({ event: 'subscription.confirmed', subscriberId: sub.id, joined: done.joined }, 'subscription confirmed');
    return 'confirmed';
  }

  /**
   * Reads an unsubscribe token for the page; an erased subscriber reads as "already gone". A token from a
   * newsletter's own mail names that newsletter; one without (the welcome mail, every token before newsletters)
   * means everything.
   */
  async checkUnsubscribeToken(token: unknown): Promise<UnsubscribeView> {
    const claims = this.deps.tokens.claims('unsubscribe', token);
    const sub = await this.deps.subscribers.get(claims.subscriberId);
    const subscribed = sub?.status === 'pending' || sub?.status === 'active';
    const view: UnsubscribeView = { subscribed };
    if (claims.newsletter) {
      const name = await this.newsletterName(claims.newsletter);
      const receiving = sub?.status === 'active' && sub.newsletters.includes(claims.newsletter);
      view.newsletter = { slug: claims.newsletter, name, receiving };
    }
    if (sub?.status === 'active') view.preferencesUrl = this.deps.links.preferences(sub.id);
    return view;
  }

  /**
   * Unsubscribes at once. A token naming a newsletter leaves that one only (leaving the last is leaving everything),
   * unless `everything` (the page's "unsubscribe from everything" button); a token naming none leaves everything.
   * Idempotent, and never fails for a valid token: a person must always be able to leave.
   */
  async unsubscribe(
    token: unknown,
    ctx: RequestContext,
    method: UnsubscribeMethod,
    everything = false,
  ): Promise<UnsubscribeResult> {
    const claims = this.deps.tokens.claims('unsubscribe', token);
    const sub = await this.deps.subscribers.get(claims.subscriberId);
    if (claims.newsletter && !everything) {
      const newsletter = { slug: claims.newsletter, name: await this.newsletterName(claims.newsletter) };
      const outcome = sub
        ? await this.deps.preferences.leave(sub, claims.newsletter, { method, from: ctx })
        : 'unchanged';
      if (outcome === 'unsubscribed' || !sub) return { left: 'everything' };
      // Left it and still reads others (or never read this one): the page offers their remaining choices.
      const reader = sub.status === 'active';
      return { left: 'newsletter', newsletter, ...(reader && { preferencesUrl: this.deps.links.preferences(sub.id) }) };
    }
    if (sub) await this.deps.policy.apply(sub, { type: 'unsubscribe', method, from: ctx });
    return { left: 'everything' };
  }

  /**
   * A mailed unsubscribe (the List-Unsubscribe mailto): the signed token names the person, so who sent the mail does
   * not matter, just as for the link; there is no request to keep as evidence. A token from one newsletter's mail
   * leaves that newsletter only, as its link does. Idempotent; throws InvalidTokenError for a token that is not ours.
   */
  async unsubscribeByMail(
    token: unknown,
  ): Promise<'unsubscribed' | 'left_newsletter' | 'unchanged' | 'unknown_recipient'> {
    const claims = this.deps.tokens.claims('unsubscribe', token);
    const sub = await this.deps.subscribers.get(claims.subscriberId);
    if (!sub) return 'unknown_recipient';
    if (claims.newsletter) {
      const outcome = await this.deps.preferences.leave(sub, claims.newsletter, {
        method: 'mailto',
        source: 'mailbox',
      });
      return outcome === 'left' ? 'left_newsletter' : outcome;
    }
    const effect = await this.deps.policy.apply(sub, { type: 'unsubscribe', method: 'mailto', source: 'mailbox' });
    return effect === 'unsubscribed' ? 'unsubscribed' : 'unchanged';
  }

  /** The name readers know a newsletter by; its slug if it is gone (newsletters are never deleted, but be safe). */
  private async newsletterName(slug: string): Promise<string> {
    return (await this.deps.newsletters.list()).find((n) => n.slug === slug)?.name ?? slug;
  }

  /** Everything held on a person (the right of access). */
  async export(
    rawEmail: unknown,
  ): Promise<{ subscriber: Subscriber; consent: ConsentEvidence; trail: ConsentEvent[] }> {
    const email = parseEmail(rawEmail);
    const subscriber = await this.deps.subscribers.getByEmail(email);
    if (!subscriber) throw new NotFoundError('No subscriber with this address');
    const trail = await this.deps.subscribers.consentTrail(email);
    return { subscriber, consent: subscriber.consent, trail };
  }

  /** Erases a person; a hash stays in the suppression set so they are never mailed again. */
  async erase(rawEmail: unknown): Promise<void> {
    const email = parseEmail(rawEmail);
    if (!(await this.deps.subscribers.erase(email, this.now())))
      throw new NotFoundError('No subscriber with this address');
    this.deps.log.info({ event: 'subscriber.erased', address: redactEmail(email) }, 'subscriber erased');
  }

  private requireConsent(input: SignupInput): void {
    const c = input.consent;
    if (!(c === true || c === 'true' || c === 'on' || c === '1' || c === 'yes')) {
      throw new ValidationError('consent_required', 'Please agree to the terms to subscribe.');
    }
    const version = termsVersionOf(input.termsVersion) ?? this.deps.terms.version;
    if (version !== this.deps.terms.version) {
      throw new ValidationError(
        'terms_outdated',
        'The terms have changed since this form was loaded. Please reload the page and agree to the current terms.',
        { currentVersion: this.deps.terms.version },
      );
    }
  }

  private async subscriberFor(purpose: 'confirm', token: unknown): Promise<Subscriber> {
    const id = this.deps.tokens.verify(purpose, token);
    const sub = await this.deps.subscribers.get(id);
    if (!sub) throw new InvalidTokenError('invalid_token', 'This link is no longer valid.');
    return sub;
  }

  private evidence(ctx: RequestContext, source: string, at: string): ConsentEvidence {
    return {
      at,
      ip: ctx.ip,
      userAgent: clipUserAgent(ctx.userAgent),
      termsVersion: this.deps.terms.version,
      termsHash: this.deps.terms.textHash,
      source,
    };
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function parseEmail(v: unknown): string {
  try {
    return normaliseEmail(v);
  } catch (e) {
    if (e instanceof InvalidEmailError) throw new ValidationError('invalid_email', e.message);
    throw e;
  }
}

/** The terms version a form or script names: absent or empty means the current one. */
function termsVersionOf(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  // A number is what a JSON client sends for TERMS_VERSION=3; anything else is not a version.
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new ValidationError('invalid_request', 'termsVersion must be a string');
  return v;
}

function hasText(v: unknown): boolean {
  return typeof v === 'string' ? v.trim() !== '' : v !== undefined && v !== null && v !== false;
}

/** Optional free text: trimmed, bounded, one line. */
function cleanText(v: unknown, field: string, max: number): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ValidationError('invalid_request', `${field} must be a string`);
  if (/[\r\n\0]/.test(v)) throw new ValidationError('invalid_request', `${field} must not contain line breaks or NUL`);
  // Other control characters (C0, C1, the Unicode line separators) have no place in a name: it goes into the To
  // header of every mail, and could confuse mail clients and logs.
  if (LINE_BREAKING.test(v))
    throw new ValidationError('invalid_request', `${field} must not contain control characters or line separators`);
  if (LONE_SURROGATE.test(v)) throw new ValidationError('invalid_request', `${field} is not valid Unicode`);
  const t = v.trim();
  if (t.length > max) throw new ValidationError('invalid_request', `${field} must be at most ${max} characters`);
  return t;
}
