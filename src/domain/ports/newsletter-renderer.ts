import type { Article } from '../article';

/** A newsletter rendered once for a whole campaign, with per-reader places left open. */
export interface RenderedNewsletter {
  html: string;
  text: string;
}

/** What a reader's copy is personalised with. */
export interface ReaderValues {
  name: string;
  unsubscribeUrl: string;
  preferencesUrl?: string;
}

/** What a newsletter is made of. */
export interface NewsletterInput {
  subject: string;
  /** The visible first line; when absent, the template lists the headlines there. */
  preheader?: string;
  articles: Article[];
  /** The public web version every copy links to ("View in browser"). */
  webVersionUrl: string;
}

/** Turns articles into the newsletter's HTML and text. Rendering is the expensive step: once a campaign. */
export interface NewsletterRenderer {
  render(input: NewsletterInput): Promise<RenderedNewsletter>;
  /** The rendered HTML with one reader's values in its per-reader places: what that reader sees. */
  personalise(html: string, reader: ReaderValues): string;
  /**
   * The rendered HTML as anyone may read it on the web: no per-reader place is left (a neutral greeting, no
   * unsubscribe link) and the parts that only make sense in a mailbox ("View in browser", why you get it) are gone.
   */
  webVersion(html: string): Promise<string>;
}
