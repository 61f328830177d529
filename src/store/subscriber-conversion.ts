import type { Redis } from 'ioredis';
import { emailHash } from '../domain/email-address';
import type { ConsentEventType, SubscriberStatus } from '../domain/subscriber';
import type { Keys } from './keys';
import { encodeEvent, encodeRecord, type Record as RecordTuple } from './subscriber-record';
import { SubscriberStore } from './subscriber-store';

/** People one round trip of the conversion reads. */
const PAGE = 500;

/** A trail event as the layout before compact records held it: one JSON object per list entry. */
interface OldEvent {
  type: ConsentEventType;
  at: string;
  ip?: string;
  userAgent?: string;
  termsVersion?: string;
  termsHash?: string;
  source?: string;
  detail?: string;
}

/** One person's hash and trail as the layout before compact records held them, as a compact record. */
export function convertPerson(row: { [field: string]: string }, trail: string[]): RecordTuple {
  return encodeRecord({
    email: row.email,
    name: row.name ?? '',
    status: row.status as SubscriberStatus,
    newsletters: row.newsletters ? row.newsletters.split(',') : [],
    requested: row.requested ? row.requested.split(',') : [],
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    confirmedAt: row.confirmedAt,
    unsubscribedAt: row.unsubscribedAt,
    bouncedAt: row.bouncedAt,
    consent: {
      at: row.consentAt,
      ip: row.consentIp,
      userAgent: row.consentUserAgent,
      termsVersion: row.consentTermsVersion,
      termsHash: row.consentTermsHash,
      source: row.consentSource,
    },
    trail: trail.map((json) => {
      const { type, at, detail, ...evidence } = JSON.parse(json) as OldEvent;
      return encodeEvent({ type, at, evidence, detail });
    }),
  });
}

/**
 * Migration 4: every person from a hash per person, a trail list per address hash, the index by address hash and
 * the sorted sets of ids into the compact layout (records in bucket hashes, bitmaps, the address index as the one
 * unique index), then the old keys go. Reads ids up to the last one given, a page at a time; a page is written
 * before its old keys are deleted, and writing a person twice changes nothing, so a run that dies half-way can run
 * again. People written before the audience indexes existed are indexed by the same step. Returns how many people
 * it converted.
 */
export async function convertSubscribers({ redis, keys }: { redis: Redis; keys: Keys }): Promise<number> {
  const store = new SubscriberStore({ redis, keys });
  const last = await store.lastId();
  const slugs = new Set(await redis.hkeys(keys.newsletters()));
  let converted = 0;
  for (let from = 1; from <= last; from += PAGE) {
    const ids = Array.from({ length: Math.min(PAGE, last - from + 1) }, (_, i) => from + i);
    const read = redis.pipeline();
    for (const id of ids) read.hgetall(keys.subscriber(id));
    const rows = ((await read.exec()) ?? []).map(([err, row]) => {
      if (err) throw err;
      return row as { [field: string]: string };
    });
    const held = ids.map((id, i) => ({ id, row: rows[i] })).filter((p) => p.row.status && p.row.email);
    if (!held.length) continue;
    const trails = redis.pipeline();
    for (const p of held) trails.lrange(trailKey(keys, p.row.email), 0, -1);
    const lists = ((await trails.exec()) ?? []).map(([err, list]) => {
      if (err) throw err;
      return list as string[];
    });
    const people = held.map((p, i) => {
      for (const slug of (p.row.newsletters ?? '').split(',')) if (slug) slugs.add(slug);
      return { id: p.id, email: p.row.email, record: convertPerson(p.row, lists[i]) };
    });
    await store.putConverted(people);
    await redis.unlink(...people.flatMap((p) => [keys.subscriber(p.id), trailKey(keys, p.email)]));
    converted += people.length;
  }
  // What the records, the bitmaps and the address index now hold.
  await redis.unlink(
    keys.subscriberIndex(),
    keys.audienceIndexVersion(),
    ...['active', 'pending', 'unsubscribed', 'bounced', 'all'].map((name) => keys.oldIdSet(name)),
    ...[...slugs].map((slug) => keys.oldNewsletterMembers(slug)),
  );
  return converted;
}

function trailKey(keys: Keys, email: string): string {
  return keys.consentTrail(emailHash(email));
}
