import { z } from 'zod';
import { ValidationError } from './errors';
import type { Newsletters } from './newsletters';
import type { ListPosition, StatusCounts, SubscriberRepository } from './ports/subscriber-repository';
import type { Subscriber, SubscriberStatus } from './subscriber';
import { parseFields } from './validation';

export const AUDIENCE_LIMITS = {
  /** People one listing page holds when no limit is asked for. */
  defaultPage: 50,
  /** Most people one listing page holds. */
  maxPage: 500,
  /** People the export reads per round trip: bounds its memory whatever the list's size. */
  exportPage: 500,
  /** Longest search prefix: a whole address is at most 254 characters. */
  maxPrefix: 254,
} as const;

const STATUSES = ['pending', 'active', 'unsubscribed', 'bounced'] as const satisfies readonly SubscriberStatus[];

/** One person as the audience listing shows them: the record without the consent evidence's IP and user agent. */
export type AudienceMember = Omit<Subscriber, 'consent'> & { consentAt: string; consentSource: string };

export interface AudiencePage {
  subscribers: AudienceMember[];
  /** Pass as `cursor` for the next page; null when this is the last one. */
  nextCursor: string | null;
}

export interface AudienceStats {
  subscribers: StatusCounts;
  /** Readers of each newsletter (active people who receive it), in the newsletters' order; a reader of several counts in each. */
  newsletters: { slug: string; name: string; readers: number }[];
  /** Addresses never to be mailed again: bounced, complained or erased people. */
  suppressed: number;
}

// A query value arrives as a string, an array (a repeated parameter) or not at all; '' counts as not given.
const absent = (v: unknown) => (v === '' ? undefined : v);
const optional = <T extends z.ZodTypeAny>(t: T) => z.preprocess(absent, t.optional());

const listSchema = z.object({
  status: optional(z.enum(STATUSES, { error: `must be one of ${STATUSES.join(', ')}` })),
  newsletter: optional(z.string({ error: 'must be one newsletter slug' })),
  q: optional(
    z
      .string({ error: 'must be one string' })
      .max(AUDIENCE_LIMITS.maxPrefix, `must be at most ${AUDIENCE_LIMITS.maxPrefix} characters`),
  ),
  cursor: optional(z.string({ error: 'must be one string' })),
  limit: optional(
    z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(AUDIENCE_LIMITS.maxPage, `must be at most ${AUDIENCE_LIMITS.maxPage}`),
  ),
});

/**
 * What a cursor holds: the listing it belongs to (status, prefix) and where it stopped. Plain base64url JSON: a
 * cursor grants nothing (the caller is an operator who can list everything), so it needs no signature, only a check
 * that it belongs to the query it comes back with.
 */
const cursorSchema = z.object({
  v: z.literal(1),
  s: z.enum(STATUSES).optional(),
  n: z.string().optional(),
  q: z.string().optional(),
  id: z.number().int().nonnegative(),
  a: z.string().optional(),
});
type Cursor = z.infer<typeof cursorSchema>;

/**
 * The audience as operators see it: a paginated, filtered listing, counts, and the whole list for export. Reads
 * only; who is in which status is decided by Subscriptions and the suppression policy.
 */
export class Audience {
  constructor(
    private readonly deps: {
      subscribers: SubscriberRepository;
      newsletters: Pick<Newsletters, 'resolve' | 'list'>;
    },
  ) {}

  /**
   * A page of the people held, from untrusted query values. Without `q` the listing runs in id order (signup
   * order), so people signing up while an operator pages only ever add to the end; with `q` (an address prefix,
   * any case) it runs in address order. `newsletter` keeps its readers only (422 unknown_newsletter for a slug that
   * is not one). `limit` 1-500, default 50. Throws ValidationError naming the bad field.
   */
  async list(query: Record<string, unknown>): Promise<AudiencePage> {
    const input = parseQuery(listSchema, {
      status: query.status,
      newsletter: query.newsletter,
      q: query.q,
      cursor: query.cursor,
      limit: query.limit,
    });
    const newsletter =
      input.newsletter === undefined ? undefined : await this.deps.newsletters.resolve(input.newsletter);
    const listing: Listing = { status: input.status, newsletter, prefix: input.q?.trim().toLowerCase() || undefined };
    const after = input.cursor === undefined ? undefined : readCursor(input.cursor, listing);
    const page = await this.deps.subscribers.listSubscribers({
      status: listing.status,
      newsletter,
      addressPrefix: listing.prefix,
      after,
      limit: input.limit ?? AUDIENCE_LIMITS.defaultPage,
    });
    return {
      subscribers: page.subscribers.map(toMember),
      nextCursor: page.next && writeCursor(page.next, listing),
    };
  }

  /** Counts by status as of one instant, the readers of each newsletter, and the size of the suppression list. */
  async stats(): Promise<AudienceStats> {
    const { subscribers } = this.deps;
    const all = await this.deps.newsletters.list();
    const [counts, suppressed, readers] = await Promise.all([
      subscribers.countByStatus(),
      subscribers.countSuppressed(),
      Promise.all(all.map((n) => subscribers.countMembers(n.slug))),
    ]);
    return {
      subscribers: counts,
      newsletters: all.map((n, i) => ({ slug: n.slug, name: n.name, readers: readers[i] })),
      suppressed,
    };
  }

  /**
   * Everybody held, in id order, a page at a time: memory holds one page whatever the list's size, and the next
   * page is read only when the caller asks (the consumer's pace is the backpressure). Not a snapshot: people who
   * sign up during the export are in it, people erased before their page is read are not.
   */
  async *exportPages(pageSize: number = AUDIENCE_LIMITS.exportPage): AsyncGenerator<Subscriber[]> {
    let after: ListPosition | undefined;
    for (;;) {
      const page = await this.deps.subscribers.listSubscribers({ after, limit: pageSize });
      if (page.subscribers.length) yield page.subscribers;
      if (!page.next) return;
      after = page.next;
    }
  }
}

/** What a listing is filtered by: a cursor belongs to one. */
interface Listing {
  status?: SubscriberStatus;
  newsletter?: string;
  prefix?: string;
}

function writeCursor(position: ListPosition, { status, newsletter, prefix }: Listing) {
  const cursor: Cursor = { v: 1, s: status, n: newsletter, q: prefix, id: position.id, a: position.address };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** The position a cursor names, if it is one of ours and belongs to this listing; else a 400 naming `cursor`. */
function readCursor(raw: string, { status, newsletter, prefix }: Listing): ListPosition {
  const bad = (why: string) =>
    new ValidationError('invalid_request', `cursor ${why}`, { issues: [{ field: 'cursor', message: why }] });
  let cursor: Cursor;
  try {
    cursor = cursorSchema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
  } catch {
    throw bad('is not a cursor this listing gave out');
  }
  if (cursor.s !== status || cursor.n !== newsletter || cursor.q !== prefix)
    throw bad('belongs to a listing with another status, newsletter or search; start again without it');
  // Address order needs the address; id order must not have one: a cursor of the other order is not ours.
  if ((prefix === undefined) !== (cursor.a === undefined) || (cursor.a !== undefined && !cursor.a.startsWith(prefix!)))
    throw bad('is not a cursor this listing gave out');
  return { id: cursor.id, address: cursor.a };
}

function toMember({ consent, ...record }: Subscriber): AudienceMember {
  return { ...record, consentAt: consent.at, consentSource: consent.source };
}

/** Parses query values or throws invalid_request naming the first bad parameter. */
function parseQuery<T extends z.ZodTypeAny>(schema: T, input: unknown): z.output<T> {
  return parseFields(schema, input, 'invalid_request', { whole: 'query' });
}
