/**
 * Who reported what happened to a mail: our own SMTP session, a provider's webhook, the generic webhook, or the
 * feedback mailbox (bounce notices, abuse reports, mailed unsubscribes).
 */
export type FeedbackSource = 'smtp' | 'ses' | 'postmark' | 'mailgun' | 'sendgrid' | 'generic' | 'mailbox';
