/** How a newsletter goes out: a digest of the new articles now and then, or each matching article as it arrives. */
export type NewsletterMode = 'digest' | 'alerts';

/** When a digest builds and sends itself. */
export interface NewsletterSchedule {
  /** A cron expression (5 fields, or 6 with seconds), read in `timezone`. */
  cron: string;
  /** An IANA time zone, e.g. `Europe/London`: 07:00 stays 07:00 local time across daylight-saving changes. */
  timezone: string;
  /** New articles needed for a scheduled digest to go out; with fewer it records a skip. */
  minArticles: number;
}

/** One newsletter readers can choose; campaigns belong to one. Identified by its slug, which never changes. */
export interface Newsletter {
  /** Lowercase letters, digits and hyphens, 1-40 characters; the name in URLs, forms and the API. */
  slug: string;
  name: string;
  description: string;
  /**
   * Offered on the signup page and the preference page, and open to any signup that names it. A private one (false)
   * is only for imports and admin tools; a signup naming it is answered as if it did not exist. Default true, and
   * newsletters stored before the field existed read as public.
   */
  public: boolean;
  /** Display name in the From header of this newsletter's mail. Default: the site's. */
  fromName?: string;
  /** Takes only articles in one of these (compared case-insensitively); empty takes every article. */
  categories: string[];
  mode: NewsletterMode;
  /** Only for digests. */
  schedule?: NewsletterSchedule;
  /** Only for alerts: at most this many a day. */
  alertsPerDay?: number;
  createdAt: string;
  updatedAt: string;
}

/** A slug as the API takes it; kept here so every layer (routes, stores, the migration) agrees on one rule. */
export const NEWSLETTER_SLUG = /^[a-z0-9-]{1,40}$/;
