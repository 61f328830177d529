import type { Redis } from 'ioredis';
import { emailHash } from '../../src/domain/email-address';
import type { Keys } from '../../src/store/keys';

/**
 * People written with raw Redis commands exactly as the store before compact records (schema version 3) wrote
 * them: a hash per person, the index by address hash, a trail list per address hash, sorted sets of ids by status,
 * of all ids, of each newsletter's readers, the address index. One of each kind migration 4 must convert.
 */
export const OLD_AT = (minute: number) => new Date(Date.UTC(2026, 5, 1, 9, minute)).toISOString();
export const OLD_TERMS_HASH = 'a'.repeat(64);
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

type Fields = { [field: string]: string };

export async function seedOldSubscribers(redis: Redis, keys: Keys): Promise<void> {
  const p = (name: string) => `${keys.prefix}:${name}`;
  let id = 0;
  const person = async (
    email: string,
    status: string,
    fields: Fields,
    trail: object[],
    sets: { members?: string[]; suppressed?: boolean } = {},
  ) => {
    id++;
    await redis.hset(p(`subscriber:${id}`), { id: String(id), email, status, ...fields });
    await redis.hset(p('subscriber:by-email'), emailHash(email), String(id));
    await redis.zadd(p(`subscribers:${status}`), id, String(id));
    await redis.zadd(p('subscribers:all'), id, String(id));
    await redis.zadd(p('subscribers:by-address'), 0, `${email.toLowerCase()}\0${id}`);
    for (const slug of sets.members ?? []) await redis.zadd(p(`newsletter:${slug}:members`), id, String(id));
    if (trail.length) await redis.rpush(p(`consent:${emailHash(email)}`), ...trail.map((e) => JSON.stringify(e)));
    if (sets.suppressed) await redis.sadd(p('suppressed'), emailHash(email));
  };
  const form = (minute: number, ip: string): Fields => ({
    consentAt: OLD_AT(minute),
    consentIp: ip,
    consentUserAgent: UA,
    consentTermsVersion: '2026-01',
    consentTermsHash: OLD_TERMS_HASH,
    consentSource: 'footer-form',
  });
  const formEvidence = (ip: string) => ({
    ip,
    userAgent: UA,
    termsVersion: '2026-01',
    termsHash: OLD_TERMS_HASH,
    source: 'footer-form',
  });
  const times = (minute: number, more: Fields = {}): Fields => ({
    createdAt: OLD_AT(minute),
    updatedAt: OLD_AT(minute),
    ...more,
  });

  // 1. Imported: consent time without milliseconds in the CSV, normalised by the import.
  await person(
    'Imported.Reader@example.com',
    'active',
    {
      name: 'Imported Reader',
      newsletters: 'news',
      ...times(1),
      consentAt: '2025-03-01T09:30:00.000Z',
      consentIp: 'import',
      consentUserAgent: '',
      consentTermsVersion: '2026-01',
      consentTermsHash: OLD_TERMS_HASH,
      consentSource: 'paper form, 2025',
    },
    [
      {
        type: 'imported',
        at: OLD_AT(1),
        ip: 'import',
        termsVersion: '2026-01',
        termsHash: OLD_TERMS_HASH,
        source: 'paper form, 2025',
        detail: 'newsletter news; consent given at 2025-03-01T09:30:00.000Z',
      },
    ],
    { members: ['news'] },
  );
  // 2. A form signup, confirmed.
  await person(
    'confirmed@example.com',
    'active',
    {
      name: 'Conf "Quoted", Name',
      newsletters: 'news',
      ...times(2, { updatedAt: OLD_AT(3), confirmedAt: OLD_AT(3) }),
      ...form(2, '203.0.113.2'),
    },
    [
      { type: 'subscribed', at: OLD_AT(2), ...formEvidence('203.0.113.2'), detail: 'newsletters: news' },
      { type: 'confirmed', at: OLD_AT(3), ...formEvidence('198.51.100.3'), detail: 'newsletters: news' },
    ],
    { members: ['news'] },
  );
  // 3. Confirmed, then changed newsletters (joined culture, left news), with one still waiting for a confirmation.
  await person(
    'changer@example.com',
    'active',
    {
      name: '',
      newsletters: 'culture',
      requested: 'alerts',
      ...times(4, { updatedAt: OLD_AT(6), confirmedAt: OLD_AT(5) }),
      ...form(4, '2001:db8::4'),
    },
    [
      { type: 'subscribed', at: OLD_AT(4), ...formEvidence('2001:db8::4'), detail: 'newsletters: news, culture' },
      { type: 'confirmed', at: OLD_AT(5), ...formEvidence('2001:db8::4'), detail: 'newsletters: news, culture' },
      { type: 'newsletters_changed', at: OLD_AT(6), ip: '2001:db8::4', userAgent: UA, detail: 'left news' },
      { type: 'subscribed', at: OLD_AT(7), ...formEvidence('2001:db8::4'), detail: 'newsletters: alerts' },
    ],
    { members: ['culture'] },
  );
  // 4. Unsubscribed by the one-click link.
  await person(
    'left@example.com',
    'unsubscribed',
    {
      name: 'Left',
      ...times(8, { updatedAt: OLD_AT(10), confirmedAt: OLD_AT(9), unsubscribedAt: OLD_AT(10) }),
      ...form(8, '203.0.113.8'),
    },
    [
      { type: 'subscribed', at: OLD_AT(8), ...formEvidence('203.0.113.8'), detail: 'newsletters: news' },
      { type: 'confirmed', at: OLD_AT(9), ...formEvidence('203.0.113.8'), detail: 'newsletters: news' },
      { type: 'unsubscribed', at: OLD_AT(10), source: 'one-click', detail: 'one-click' },
    ],
  );
  // 5. Bounced: suppressed, with the server's answer (not a template) in the trail.
  await person(
    'bounced@example.com',
    'bounced',
    {
      name: 'Bounce',
      ...times(11, { updatedAt: OLD_AT(12), confirmedAt: OLD_AT(11), bouncedAt: OLD_AT(12) }),
      ...form(11, '203.0.113.11'),
    },
    [
      { type: 'subscribed', at: OLD_AT(11), ...formEvidence('203.0.113.11'), detail: 'newsletters: news' },
      { type: 'bounced', at: OLD_AT(12), source: 'smtp', detail: '550 5.1.1 <bounced@example.com>: user unknown' },
    ],
    { suppressed: true },
  );
  // 6. Pending, asking for two newsletters; a consent time with more precision than ISO keeps as text.
  await person(
    'pending@example.com',
    'pending',
    {
      name: 'Pending',
      requested: 'news,culture',
      ...times(13),
      ...form(13, '203.0.113.13'),
      consentAt: '2026-06-01T09:13:00Z',
    },
    [{ type: 'subscribed', at: OLD_AT(13), ...formEvidence('203.0.113.13'), detail: 'newsletters: news, culture' }],
  );
  // 7. Erased: only the suppressed hash and the erasure log are left, and the id was taken.
  id++;
  await redis.sadd(p('suppressed'), emailHash('erased@example.com'));
  await redis.xadd(p('consent:erasures'), '*', 'hash', emailHash('erased@example.com'), 'at', OLD_AT(14));
  // 8. From before the audience indexes: a hash, the index by hash and the active set only.
  id++;
  await redis.hset(p(`subscriber:${id}`), {
    id: String(id),
    email: 'Old.Timer@example.com',
    name: 'Old',
    status: 'active',
    newsletters: 'news',
    ...times(15),
    consentAt: OLD_AT(15),
    consentSource: 'footer-form',
  });
  await redis.hset(p('subscriber:by-email'), emailHash('Old.Timer@example.com'), String(id));
  await redis.zadd(p('subscribers:active'), id, String(id));
  await redis.zadd(p('newsletter:news:members'), id, String(id));
  await redis.set(p('subscriber:seq'), String(id));
}

/** Every address seeded above that is still held. */
export const OLD_ADDRESSES = [
  'Imported.Reader@example.com',
  'confirmed@example.com',
  'changer@example.com',
  'left@example.com',
  'bounced@example.com',
  'pending@example.com',
  'Old.Timer@example.com',
];
