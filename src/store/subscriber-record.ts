import type { NewConsentEvent } from '../domain/ports/subscriber-repository';
import type {
  ConsentEvent,
  ConsentEventType,
  ConsentEvidence,
  Subscriber,
  SubscriberStatus,
} from '../domain/subscriber';

/**
 * The compact form of one person in Redis: a JSON array (one field of a bucket hash, see Keys.subscriberBucket),
 * with the consent trail inside it. A hash of named fields plus a list of JSON events per person cost ~1,000 bytes
 * of Redis per imported person (472 + 536, measured on 20,000); this form, with times as epoch ms, codes for the
 * status and the event types, and the repeated strings (user agent, terms version and hash, source) stored once in
 * the strings table and referenced by number, costs ~200 (bench/memory.ts, 100,000 imported).
 *
 * Positions (0-based here, 1-based in the Lua scripts, which read and write the same array):
 *   0 email as given, 1 name, 2 status code, 3 newsletters (comma-separated), 4 requested (comma-separated),
 *   5 createdAt, 6 updatedAt ('' = createdAt), 7 confirmedAt, 8 unsubscribedAt, 9 bouncedAt (0 = none),
 *   10 consent [at, ip, userAgent, terms, source], 11 trail (events), 12 confirmation mails [window start ms, count]
 *   or 0.
 * A time is a number (epoch ms) when that gives back the very same ISO text, else the text itself. In the consent,
 * 0 is a field that was never set; userAgent, terms ("<version>\n<hash>") and source are strings table codes once
 * the script that writes them has interned them (a number), or '' when empty.
 * A trail event is [type code, at ('' = the record's createdAt), evidence (0 none, 1 the same as the record's
 * consent, or [ip, userAgent, terms, source]), detail ('' or text or [template, ...values], see DETAILS)]: an
 * imported person's event costs a few bytes beyond its type and the newsletter's slug.
 */
export type Time = number | string;
export type Interned = number | string;
export type Evidence = [string, Interned, Interned, Interned];
export type Detail = string | [number, ...(string | Time)[]];
/** Evidence 1: the same as the record's consent (RENEW writes the old consent into such events before it changes). */
export const SAME_AS_CONSENT = 1;
export type TrailEvent = [number, Time, Evidence | 0 | 1, Detail];
export type ConsentTuple = [Time, string | 0, Interned, Interned, Interned];
export type Record = [
  string,
  string,
  string,
  string,
  string,
  Time,
  Time,
  Time,
  Time,
  Time,
  ConsentTuple,
  TrailEvent[],
  [number, number] | 0,
];

/** Record positions, 1-based, for the Lua scripts. */
export const LUA_POSITIONS = `
local R_EMAIL, R_NAME, R_STATUS, R_NEWS, R_REQ, R_CREATED, R_UPDATED = 1, 2, 3, 4, 5, 6, 7
local R_CONFIRMED, R_UNSUB, R_BOUNCED, R_CONSENT, R_TRAIL, R_MAILS = 8, 9, 10, 11, 12, 13
`;

/** Positions of the timestamps a status change may set (SubscriberChanges), 0-based. */
export const TIME_POSITION = { updatedAt: 6, confirmedAt: 7, unsubscribedAt: 8, bouncedAt: 9 } as const;

export const STATUS_CODE: { [S in SubscriberStatus]: string } = {
  pending: 'p',
  active: 'a',
  unsubscribed: 'u',
  bounced: 'b',
};
const STATUS_OF = Object.fromEntries(Object.entries(STATUS_CODE).map(([s, c]) => [c, s])) as {
  [c: string]: SubscriberStatus;
};

/** Append only: a code's meaning never changes, since stored trails hold it. */
const EVENT_TYPES: ConsentEventType[] = [
  'subscribed',
  'confirmed',
  'suppression_lifted',
  'newsletters_changed',
  'unsubscribed',
  'bounced',
  'soft_bounced',
  'complained',
  'imported',
  'erased',
];

/**
 * Details the service writes for every imported or signed-up person, stored as their variable parts only. Append
 * only. A detail is stored this way only when rendering it back gives the very same text, so nothing is lost.
 */
const DETAILS: { pattern: RegExp; render: (v: string[]) => string }[] = [
  {
    pattern: /^newsletter (.+); consent given at (.+)$/s,
    render: ([a, b]) => `newsletter ${a}; consent given at ${b}`,
  },
  { pattern: /^newsletters: (.*)$/s, render: ([a]) => `newsletters: ${a}` },
  { pattern: /^imported: joined (.+)$/s, render: ([a]) => `imported: joined ${a}` },
];

export function encodeTime(iso: string): Time {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && new Date(ms).toISOString() === iso ? ms : iso;
}

export function decodeTime(t: Time): string {
  return typeof t === 'number' ? new Date(t).toISOString() : t;
}

function optionalTime(iso: string | undefined): Time {
  return iso === undefined ? 0 : encodeTime(iso);
}

function encodeDetail(detail: string | undefined): Detail {
  if (!detail) return '';
  for (const [i, d] of DETAILS.entries()) {
    const m = d.pattern.exec(detail);
    if (!m) continue;
    const parts = m.slice(1);
    if (d.render(parts) !== detail) continue;
    // A time inside a detail (the consent time of an import) is kept as ms when that is exact.
    return [i, ...parts.map((p) => encodeTime(p))];
  }
  return detail;
}

function terms(version: string | undefined, hash: string | undefined): string {
  return version || hash ? `${version ?? ''}\n${hash ?? ''}` : '';
}

/** The consent as the record holds it, its strings still as text: the script that writes it interns them. */
export function encodeConsent(c: Partial<ConsentEvidence>): ConsentTuple {
  const t = terms(c.termsVersion, c.termsHash);
  return [
    optionalTime(c.at),
    c.ip ?? 0,
    c.userAgent ?? 0,
    c.termsVersion === undefined && c.termsHash === undefined ? 0 : t,
    c.source ?? 0,
  ];
}

/** A trail event, its evidence strings still as text (interned by the script that appends it). */
export function encodeEvent(e: NewConsentEvent): TrailEvent {
  const type = EVENT_TYPES.indexOf(e.type);
  if (type < 0) throw new Error(`unknown consent event type ${e.type}`);
  const ev = e.evidence ?? {};
  const evidence: Evidence = [ev.ip ?? '', ev.userAgent ?? '', terms(ev.termsVersion, ev.termsHash), ev.source ?? ''];
  return [type, encodeTime(e.at), evidence.some((v) => v !== '') ? evidence : 0, encodeDetail(e.detail)];
}

export interface NewRecord {
  email: string;
  name: string;
  status: SubscriberStatus;
  newsletters: string[];
  requested: string[];
  createdAt: string;
  updatedAt: string;
  confirmedAt?: string;
  unsubscribedAt?: string;
  bouncedAt?: string;
  consent: Partial<ConsentEvidence>;
  trail: TrailEvent[];
  /** The start (epoch ms) of a confirmation-mail window in which one mail is already counted. */
  mailSentAt?: number;
}

export function encodeRecord(r: NewRecord): Record {
  const created = encodeTime(r.createdAt);
  const consent = encodeConsent(r.consent);
  const trail = r.trail.map((e): TrailEvent => {
    const ev = e[2];
    const same = Array.isArray(ev) && ev.every((v, i) => v === consent[i + 1]);
    return [e[0], e[1] === created ? '' : e[1], same ? SAME_AS_CONSENT : ev, e[3]];
  });
  return [
    r.email,
    r.name,
    STATUS_CODE[r.status],
    r.newsletters.join(','),
    r.requested.join(','),
    created,
    r.updatedAt === r.createdAt ? '' : encodeTime(r.updatedAt),
    optionalTime(r.confirmedAt),
    optionalTime(r.unsubscribedAt),
    optionalTime(r.bouncedAt),
    consent,
    trail,
    r.mailSentAt === undefined ? 0 : [r.mailSentAt, 1],
  ];
}

/** Strings table codes to their text: the decoder's only outside input. */
export type Lookup = (code: number) => string;

/** Codes of the strings table that a record refers to, to resolve before decoding it. */
export function codesOf(r: Record, into: Set<number>): void {
  // Codes start at 1; 0 in the consent is a field never set.
  for (const v of r[10].slice(2)) if (typeof v === 'number' && v > 0) into.add(v);
  for (const e of trailOf(r))
    if (Array.isArray(e[2])) for (const v of e[2].slice(1)) if (typeof v === 'number' && v > 0) into.add(v);
}

/** cjson writes an empty Lua table as {}: an empty trail. */
function trailOf(r: Record): TrailEvent[] {
  return Array.isArray(r[11]) ? r[11] : [];
}

function text(v: Interned, lookup: Lookup): string | undefined {
  if (v === 0 && typeof v === 'number') return undefined;
  return typeof v === 'number' ? lookup(v) : v;
}

function splitTerms(t: string | undefined): [string | undefined, string | undefined] {
  if (t === undefined) return [undefined, undefined];
  const nl = t.indexOf('\n');
  return nl < 0 ? [t, ''] : [t.slice(0, nl), t.slice(nl + 1)];
}

function list(s: string): string[] {
  return s ? s.split(',') : [];
}

export function decodeRecord(id: number, r: Record, lookup: Lookup): Subscriber {
  const [at, ip, ua, t, source] = r[10];
  const [termsVersion, termsHash] = splitTerms(text(t, lookup));
  const createdAt = decodeTime(r[5]);
  const sub: Subscriber = {
    id,
    email: r[0],
    name: r[1],
    status: STATUS_OF[r[2]],
    createdAt,
    updatedAt: r[6] === '' ? createdAt : decodeTime(r[6]),
    newsletters: list(r[3]),
    requestedNewsletters: list(r[4]),
    consent: {
      at: at === 0 ? (undefined as unknown as string) : decodeTime(at),
      ip: text(ip, lookup) as string,
      userAgent: text(ua, lookup) as string,
      termsVersion: termsVersion as string,
      termsHash: termsHash as string,
      source: text(source, lookup) as string,
    },
  };
  if (r[7]) sub.confirmedAt = decodeTime(r[7]);
  if (r[8]) sub.unsubscribedAt = decodeTime(r[8]);
  if (r[9]) sub.bouncedAt = decodeTime(r[9]);
  // Fields the record never had stay absent, as they were when a hash simply lacked them.
  if (sub.confirmedAt === undefined) delete sub.confirmedAt;
  return sub;
}

export function decodeTrail(r: Record, lookup: Lookup): ConsentEvent[] {
  const created = r[5];
  return trailOf(r).map(([type, at, given, detail], i) => {
    const event: ConsentEvent = {
      id: String(i + 1),
      type: EVENT_TYPES[type],
      at: decodeTime(at === '' ? created : at),
    };
    const evidence = given === SAME_AS_CONSENT ? (r[10].slice(1) as Evidence) : given;
    if (evidence) {
      const [ip, ua, t, source] = evidence;
      const [termsVersion, termsHash] = splitTerms(text(t, lookup) || undefined);
      const fields = { ip, userAgent: text(ua, lookup), termsVersion, termsHash, source: text(source, lookup) };
      for (const [k, v] of Object.entries(fields)) if (v) (event as unknown as { [k: string]: string })[k] = v;
    }
    if (Array.isArray(detail)) {
      const [template, ...values] = detail;
      event.detail = DETAILS[template].render(values.map((v) => decodeTime(v)));
    } else if (detail) event.detail = detail;
    return event;
  });
}
