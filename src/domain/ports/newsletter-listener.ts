import type { Newsletter } from '../newsletter';

/** Told of each newsletter created or changed, after it is stored (the schedules plan its next slot). */
export interface NewsletterListener {
  saved(newsletter: Newsletter): Promise<void>;
}
