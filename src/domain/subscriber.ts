export type SubscriberStatus = 'pending' | 'active' | 'unsubscribed' | 'bounced';

/** Evidence of a consent: who agreed to which terms, when, from where. */
export interface ConsentEvidence {
  at: string;
  ip: string;
  userAgent: string;
  termsVersion: string;
  termsHash: string;
  source: string;
}

export interface Subscriber {
  id: number;
  email: string;
  name: string;
  status: SubscriberStatus;
  createdAt: string;
  updatedAt: string;
  confirmedAt?: string;
  unsubscribedAt?: string;
  bouncedAt?: string;
  /**
   * Slugs of the newsletters the person receives. Only an active person has any, and an active person has at least
   * one: leaving the last one is leaving altogether.
   */
  newsletters: string[];
  /** Slugs asked for in a signup and not confirmed yet: confirming adds them to `newsletters`. */
  requestedNewsletters: string[];
  /** The latest consent; the full history is the consent trail. */
  consent: ConsentEvidence;
}

export type ConsentEventType =
  | 'subscribed'
  | 'confirmed'
  | 'suppression_lifted'
  | 'newsletters_changed'
  | 'unsubscribed'
  | 'bounced'
  | 'soft_bounced'
  | 'complained'
  | 'imported'
  | 'erased';

export interface ConsentEvent extends Partial<ConsentEvidence> {
  id: string;
  type: ConsentEventType;
  at: string;
  detail?: string;
}

/** Where a request came from: the evidence recorded with each consent event. */
export interface RequestContext {
  ip: string;
  userAgent: string;
}

const MAX_USER_AGENT = 512;

/** A user agent as consent evidence: one line, bounded. */
export function clipUserAgent(ua: string): string {
  return ua.replace(/[\r\n\0]/g, ' ').slice(0, MAX_USER_AGENT);
}
