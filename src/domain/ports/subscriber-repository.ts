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
}

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
export type ImportOutcome = 'imported' | 'suppressed' | 'existing';

/**
 * Subscribers, the index by address, the ordered set of active ids, the suppression list and each person's consent
 * trail. Addresses are matched case-insensitively as a whole (`emailHash`), while the stored address keeps the case
 * it was given in. `test/contract/subscriber-repository.contract.ts` is the executable form of this contract.
 */
export interface SubscriberRepository {
  get(id: number): Promise<Subscriber | null>;
  getByEmail(email: string): Promise<Subscriber | null>;
  /** Many at once, in the order given; an unknown or erased id is null. */
  getMany(ids: number[]): Promise<(Subscriber | null)[]>;
  isSuppressed(email: string): Promise<boolean>;
  /**
   * Creates the person unless the address is known (then returns the known id with `created: false`). Concurrent
   * creates of one address make one person. An active person joins the active set.
   */
  create(input: NewSubscriber): Promise<{ id: number; created: boolean }>;
  /**
   * A later signup of a known person: sets the latest consent, the status (whatever it was) and the name if given,
   * keeping the active set in step. Returns false, writing nothing, when no person has this id (erased meanwhile).
   */
  renewConsent(
    id: number,
    input: { name?: string; status: SubscriberStatus; consent: ConsentEvidence; now: string },
  ): Promise<boolean>;
  /**
   * Atomically moves a person from one of `from` to `to` and sets `changes`, keeping the active set in step;
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
  /** Active ids greater than `afterId`, ascending, at most `limit`: the fan-out's cursor. */
  pageActiveIds(afterId: number, limit: number): Promise<number[]>;
  countActive(): Promise<number>;
  /** Active people with an id at most `maxId`. */
  countActiveUpTo(maxId: number): Promise<number>;
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
   * Creates active people from imported rows, each with an 'imported' trail event. Row by row, in order: a
   * suppressed address is skipped ('suppressed'), a known one is left as it is whatever its status ('existing',
   * a repeat within the batch included), else the person is created ('imported'). One outcome a row.
   */
  importActive(rows: ImportRow[], now: string): Promise<ImportOutcome[]>;
}
