import { createHash } from 'node:crypto';

/** What a visitor agrees to by submitting the signup form. */
export const CONSENT_SENTENCE = 'By submitting this form, I agree to the terms.';

/** The terms a signup consents to; `textHash` is kept with every consent as proof of which text it was. */
export interface Terms {
  version: string;
  text: string;
  textHash: string;
}

export function termsOf(version: string, text: string): Terms {
  return { version, text, textHash: createHash('sha256').update(text).digest('hex') };
}

/** Plain terms for a site that has not written its own (TERMS_TEXT_FILE). */
export function defaultTermsText(siteName: string): string {
  return [
    `${siteName} newsletter. ${CONSENT_SENTENCE}`,
    'By subscribing you agree that we send you our newsletter by email. ' +
      'We keep your address, your name if you give it, and the proof of your consent ' +
      '(when, from which IP address and browser, to which version of these terms) ' +
      'for as long as you are subscribed.',
    'You can leave at any time with the unsubscribe link in every newsletter, ' +
      'and ask us for a copy of what we hold on you or to erase it.',
  ].join('\n\n');
}
