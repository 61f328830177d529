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
  /** The latest consent; the full history is the consent trail. */
  consent: ConsentEvidence;
}

export type ConsentEventType = 'subscribed' | 'confirmed' | 'unsubscribed' | 'bounced' | 'imported' | 'erased';

export interface ConsentEvent extends Partial<ConsentEvidence> {
  id: string;
  type: ConsentEventType;
  at: string;
  detail?: string;
}
