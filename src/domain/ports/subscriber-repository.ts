import type { ImportRow } from '../import-parsers';
import type { ConsentEvent, ConsentEventType, ConsentEvidence, Subscriber, SubscriberStatus } from '../subscriber';

/** A person to create: what a signup (pending) or a seed (any status) knows. */
export interface NewSubscriber {
  email: string;
  name: string;
  status: SubscriberStatus;
  consent: ConsentEvidence;
  now: string;
  confirmedAt?: string;
  /** An active person receives these at once; a pending one asks for them, and confirming adds them. */
  newsletters: string[];
  /**
   * The signup that creates a pending person: written as the first entry of its trail, and its confirmation mail
   * counted as the first of the address's allowance (which always has room for one), with the record, in one write.
   */
  signup?: NewConsentEvent;
}

/** What `renewConsent` did with a later signup of a known person. */
export type RenewOutcome =
  /** The person was not active: now pending, asking for the given newsletters (added to any asked for before). */
  | 'renewed'
  /** An active person asked for newsletters they do not receive: those wait for a confirmation. */
  | 'requested'
  /** An active person who already receives every newsletter asked for: nothing written. */
  | 'held'
  /** No person has this id (erased meanwhile): nothing written. */
  | 'missing';

/** What `confirm` did. */
export type ConfirmOutcome =
  | {
      outcome: 'confirmed';
      /** The status before: pending for a new subscription, active for newsletters added to one. */
      was: SubscriberStatus;
      /** The newsletters the confirmation added. */
      joined: string[];
      /** The address was on the suppression list (a bounce, a complaint, an erasure) and no longer is. */
      liftedSuppression: boolean;
    }
  /** Active with nothing waiting: confirming twice. */
  | { outcome: 'already_confirmed' }
  /** Unsubscribed or bounced since the signup, or no longer held: the link no longer counts. */
  | { outcome: 'refused'; current: SubscriberStatus | null };

/** Newsletters to add and to drop, as a reader's preference page asks. */
export interface NewsletterChange {
  join: string[];
  leave: string[];
}

export type NewsletterChangeResult =
  | { outcome: 'changed'; newsletters: string[]; joined: string[]; left: string[] }
  | { outcome: 'unchanged'; newsletters: string[] }
  /** The change would leave the person in no newsletter: nothing written; leaving all is an unsubscribe. */
  | { outcome: 'would_empty'; newsletters: string[] }
  /** Only an active person's newsletters can change. */
  | { outcome: 'not_active'; current: SubscriberStatus | null };

/** The timestamps a status change sets; `updatedAt` always. */
export type SubscriberChanges = Partial<Pick<Subscriber, 'confirmedAt' | 'unsubscribedAt' | 'bouncedAt'>> & {
  updatedAt: string;
};

export type SubscriberTransition = { ok: true } | { ok: false; current: SubscriberStatus | null };

/** One event to add to a person's consent trail. */
export interface NewConsentEvent {
  type: ConsentEventType;
  at: string;
  /** What is known of where it came from; empty fields are not stored. */
  evidence?: Partial<ConsentEvidence>;
  /** A short free text: the method of an unsubscribe, a bounce's server answer. */
  detail?: string;
}

/**
 * Where a listing stopped. In id order only `id` counts; in address order (a listing by address prefix) the
 * position is the lower-cased address, then the id.
 */
export interface ListPosition {
  id: number;
  address?: string;
}

/** One page of the audience to read. */
export interface SubscriberListQuery {
  /** Only people with this status. Default: every status. */
  status?: SubscriberStatus;
  /** Only people who receive this newsletter (so only active people). Default: whatever they receive. */
  newsletter?: string;
  /** Only addresses that start with this, lower-cased; the listing then runs in address order instead of id order. */
  addressPrefix?: string;
  /** Start after this position (from an earlier page's `next`). Default: the start. */
  after?: ListPosition;
  /** Most people on the page. */
  limit: number;
}

export interface SubscriberListPage {
  subscribers: Subscriber[];
  /** Where the next page starts; null when nothing follows. */
  next: ListPosition | null;
}

/** People held, by status, read at one instant (so `total` is their sum). */
export type StatusCounts = Record<SubscriberStatus, number> & { total: number };

/** What an import did with one row. */
export type ImportOutcome = 'imported' | 'joined' | 'suppressed' | 'existing';

/**
 * Subscribers, the index by address, the sets of ids by status and by newsletter, the suppression list and each
 * person's consent trail. A person is in a newsletter's set exactly while active and receiving it. Addresses are matched case-insensitively as a whole (`emailHash`), while the stored address keeps the case
 * it was given in. `test/contract/subscriber-repository.contract.ts` is the executable form of this contract.
 */
export interface SubscriberRepository {
  get(id: number): Promise<Subscriber | null>;
  getByEmail(email: string): Promise<Subscriber | null>;
  /** Many at once, in the order given; an unknown or erased id is null. */
  getMany(ids: number[]): Promise<(Subscriber | null)[]>;
  isSuppressed(email: string): Promise<boolean>;
  /** `getByEmail` and `isSuppressed` in one read: what a signup asks of an address. */
  findForSignup(email: string): Promise<{ subscriber: Subscriber | null; suppressed: boolean }>;
  /**
   * Creates the person unless the address is known (then returns the known id with `created: false`). Concurrent
   * creates of one address make one person. An active person joins the active set and the sets of its newsletters.
   */
  create(input: NewSubscriber): Promise<{ id: number; created: boolean }>;
  /**
   * A later signup of a known person, asking for `newsletters`. A person who is not active becomes pending with the
   * new consent and name (if given); an active person keeps everything and only has the newsletters they lack put
   * aside for a confirmation. See RenewOutcome.
   */
  renewConsent(
    id: number,
    input: { name?: string; consent: ConsentEvidence; now: string; newsletters: string[] },
  ): Promise<RenewOutcome>;
  /**
   * A confirmed signup, atomically: a pending person becomes active with the newsletters asked for (`fallback` when a
   * person from before newsletters asked for none), an active person gains those waiting; either way the address
   * leaves the suppression list, since a confirmation is the person asking for mail again.
   */
  confirm(id: number, now: string, fallback: string): Promise<ConfirmOutcome>;
  /** Adds and drops newsletters of an active person at once; see NewsletterChangeResult. */
  changeNewsletters(id: number, change: NewsletterChange, now: string): Promise<NewsletterChangeResult>;
  /**
   * Atomically moves a person from one of `from` to `to` (never to active: only `confirm` does that) and sets
   * `changes`, keeping the status sets in step; the person leaves every newsletter and any waiting request.
   * `suppress` also adds the address to the suppression list. Nothing changes when the status is not in `from`.
   */
  transition(
    sub: Pick<Subscriber, 'id' | 'email'>,
    from: SubscriberStatus[],
    to: SubscriberStatus,
    changes: SubscriberChanges,
    options?: { suppress?: boolean },
  ): Promise<SubscriberTransition>;
  /**
   * Deletes everything held on the address (record, index entry, trail) and leaves it suppressed, with a line in an
   * erasure log that holds no address. Returns false when no person was held (the address is suppressed anyway).
   */
  erase(email: string, now: string): Promise<boolean>;
  /** Appends to the address's consent trail; the trail is only ever appended to. */
  appendConsent(email: string, event: NewConsentEvent): Promise<void>;
  /** The whole trail, oldest first, each event with its position as `id` ("1", "2", ...). */
  consentTrail(email: string): Promise<ConsentEvent[]>;
  /** Ids of the newsletter's readers greater than `afterId`, ascending, at most `limit`: the fan-out's cursor. */
  pageMemberIds(newsletter: string, afterId: number, limit: number): Promise<number[]>;
  /** The newsletter's readers with an id at most `maxId` (every one when omitted). */
  countMembers(newsletter: string, maxId?: number): Promise<number>;
  /**
   * A page of the people held (never the erased), in id order, or in address order with `addressPrefix` (matched
   * case-insensitively). A page never repeats a person of an earlier page of the same listing, and people created
   * meanwhile neither shift nor duplicate the rest. With both a prefix and a status, a page may hold fewer than
   * `limit` people (even none) while `next` is set: the implementation may bound the work one page does.
   */
  listSubscribers(query: SubscriberListQuery): Promise<SubscriberListPage>;
  /** Exact counts by status, as of one instant, whatever transitions run meanwhile. */
  countByStatus(): Promise<StatusCounts>;
  /** Addresses on the suppression list (bounced, complained, erased). */
  countSuppressed(): Promise<number>;
  /** At least the highest id given so far (0 when none): ids only grow, and one may be skipped, never reused. */
  lastId(): Promise<number>;
  /**
   * Creates active readers of `newsletter` from imported rows, each with an 'imported' trail event. Row by row, in
   * order: a suppressed address is skipped ('suppressed'); an active person who does not receive the newsletter
   * gets it ('joined', with a trail event); any other known person is left as they are, whatever their status
   * ('existing', a repeat within the batch included: an import never brings back someone who left); else the person
   * is created ('imported'). One outcome a row.
   */
  importActive(rows: ImportRow[], now: string, newsletter: string): Promise<ImportOutcome[]>;
}
