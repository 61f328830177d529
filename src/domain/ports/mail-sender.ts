import type { CampaignContent } from '../campaign';

/** The mails a person gets outside campaigns. */
export type TransactionalKind = 'confirm' | 'welcome';

/** One addressee and the personal links their copy carries. */
export interface Addressee {
  email: string;
  /** As it is written in the greeting. */
  name: string;
  unsubscribe: { url: string; header: string };
  /** The reader's preference page, linked next to the unsubscribe link. */
  preferencesUrl?: string;
  /** The newsletters the mail is about, as the reader reads them ("The Briefing and Breaking News"). */
  newsletters?: string;
  /** The confirmation mail's link. */
  confirmUrl?: string;
  /** Names the recipient and campaign in whatever comes back: the envelope sender (VERP) and the Message-ID. */
  returnToken?: string;
}

export interface SentMail {
  messageId: string;
  /** The server's answer, for logs. */
  response: string;
}

/** A campaign's message prepared once; each send personalises it for one addressee. */
export interface PreparedNewsletter {
  send(to: Addressee): Promise<SentMail>;
}

/**
 * Builds and sends mail, and nothing else: it never changes a person's state. A send rejects with a
 * PermanentDeliveryError when the server refuses the recipient for good, a TransientDeliveryError otherwise.
 */
export interface MailSender {
  /** Prepares (once per process and campaign; id 0 is never kept) the campaign's message. */
  prepareNewsletter(campaignId: number, content: CampaignContent): PreparedNewsletter;
  sendTransactional(kind: TransactionalKind, to: Addressee): Promise<SentMail>;
}
