import type { AutoPauseCause } from '../campaign';
import type { FeedbackSource } from '../feedback-source';
import type { TransactionalKind } from './mail-sender';

/**
 * new: an unknown address; renewed: a known person not receiving mail; added: a reader asking for more newsletters;
 * already_active: nothing new asked for; suppressed: a suppressed address, which its confirmation would lift;
 * honeypot: a bot.
 */
export type SignupOutcome = 'new' | 'renewed' | 'added' | 'already_active' | 'suppressed' | 'honeypot';
/** How a person left: `preferences` is the preference page (nothing ticked, or "unsubscribe from everything"). */
export type UnsubscribeMethod = 'page' | 'one-click' | 'mailto' | 'provider' | 'preferences';
export type MailKind = TransactionalKind | 'newsletter';

/** The counters operators watch. */
export interface Metrics {
  signup(outcome: SignupOutcome): void;
  confirmed(): void;
  unsubscribed(method: UnsubscribeMethod): void;
  mailSent(kind: MailKind): void;
  mailFailed(kind: MailKind, permanent: boolean): void;
  /** A bounce the suppression policy applied, by who reported it. */
  bounced(type: 'hard' | 'soft', source: FeedbackSource): void;
  complained(source: FeedbackSource): void;
  /** A campaign paused itself. */
  campaignAutoPaused(cause: AutoPauseCause): void;
}
