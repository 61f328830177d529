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
}

/** Turns articles into the newsletter's HTML and text. Rendering is the expensive step: once a campaign. */
export interface NewsletterRenderer {
  render(input: { subject: string; articles: Article[] }): Promise<RenderedNewsletter>;
  /** The rendered HTML with one reader's values in its per-reader places: what that reader sees. */
  personalise(html: string, reader: ReaderValues): string;
}
