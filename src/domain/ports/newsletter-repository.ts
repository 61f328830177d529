import type { Newsletter } from '../newsletter';

/**
 * The newsletters, by slug. Values arrive validated (see `Newsletters`); the repository only keeps them.
 * `test/contract/newsletter-repository.contract.ts` is the executable form of this contract.
 */
export interface NewsletterRepository {
  /** Stores a new newsletter; false (and nothing written) when one with its slug exists, even under a race. */
  create(newsletter: Newsletter): Promise<boolean>;
  get(slug: string): Promise<Newsletter | null>;
  /** Every newsletter, in slug order. */
  list(): Promise<Newsletter[]>;
  /**
   * Replaces a stored newsletter whole (optional fields absent in `newsletter` are removed); false when no
   * newsletter has its slug, and then nothing is created.
   */
  update(newsletter: Newsletter): Promise<boolean>;
}
