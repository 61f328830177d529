import type { ImportRow } from '../../src/domain/import-parsers';
import type {
  ListPosition,
  NewSubscriber,
  SubscriberListQuery,
  SubscriberRepository,
} from '../../src/domain/ports/subscriber-repository';
import type { ConsentEvidence, Subscriber, SubscriberStatus } from '../../src/domain/subscriber';
import { freshRepositoryPerTest, time, type RepositoryFixture } from './fixture';

/** Consent evidence as a signup form records it; `changes` for the fields a test cares about. */
function evidence(changes: Partial<ConsentEvidence> = {}): ConsentEvidence {
  return {
    at: time(0),
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (contract test)',
    termsVersion: '2026-01',
    termsHash: 'ab'.repeat(32),
    source: 'footer-form',
    ...changes,
  };
}

/** A signup: pending, created at time(0), unless `changes` says otherwise. */
function newSubscriber(email: string, changes: Partial<NewSubscriber> = {}): NewSubscriber {
  return {
    email,
    name: 'Ada Lovelace',
    status: 'pending',
    consent: evidence(),
    now: time(0),
    newsletters: ['news'],
    ...changes,
  };
}

/** A row of an import file: consent given long ago, elsewhere. */
function importRow(email: string, changes: Partial<ImportRow> = {}): ImportRow {
  const consent = evidence({
    at: '2024-05-01T09:30:00.000Z',
    ip: 'import',
    userAgent: 'old-tool export',
    source: 'old-newsletter-tool',
  });
  return { email, name: 'Grace Hopper', consent, ...changes };
}

/** The evidence fields a trail event carries: everything but the consent's own time (the event has its time). */
function trailEvidence({ ip, userAgent, termsVersion, termsHash, source }: ConsentEvidence) {
  return { ip, userAgent, termsVersion, termsHash, source };
}

/**
 * The executable form of the `SubscriberRepository` port (src/domain/ports/subscriber-repository.ts): every
 * implementation passes this, each test on a fresh, empty repository from `make`.
 */
export function subscriberRepositoryContract(
  implementation: string,
  make: () => Promise<RepositoryFixture<SubscriberRepository>>,
): void {
  describe(`${implementation} satisfies SubscriberRepository`, () => {
    const repo = freshRepositoryPerTest(make);

    let serial = 0;
    /** Creates one person per status, in order, each on a new address; returns their ids. */
    async function createPeople(...statuses: SubscriberStatus[]): Promise<number[]> {
      const ids: number[] = [];
      for (const status of statuses)
        ids.push((await repo.create(newSubscriber(`person${++serial}@example.com`, { status }))).id);
      return ids;
    }

    /** Creates one person and returns what `transition` needs to name them. */
    async function createPerson(
      email: string,
      changes: Partial<NewSubscriber> = {},
    ): Promise<Pick<Subscriber, 'id' | 'email'>> {
      const { id } = await repo.create(newSubscriber(email, changes));
      return { id, email };
    }

    describe('create and read', () => {
      test('a created person reads back by id and by address with the fields given, the address in the case it was given', async () => {
        const input = newSubscriber('Ada.Lovelace@example.com', {
          status: 'active',
          confirmedAt: time(1),
          now: time(1),
        });
        const { id, created } = await repo.create(input);
        expect(created).toBe(true);
        const expected: Subscriber = {
          id,
          email: 'Ada.Lovelace@example.com',
          name: 'Ada Lovelace',
          status: 'active',
          createdAt: time(1),
          updatedAt: time(1),
          confirmedAt: time(1),
          newsletters: ['news'],
          requestedNewsletters: [],
          consent: input.consent,
        };
        expect(await repo.get(id)).toEqual(expected);
        expect(await repo.getByEmail('Ada.Lovelace@example.com')).toEqual(expected);
      });

      test('getByEmail matches the whole address case-insensitively, and only that address', async () => {
        const { id } = await createPerson('Ada.Lovelace@example.com');
        for (const variant of ['ada.lovelace@example.com', 'ADA.LOVELACE@EXAMPLE.COM']) {
          expect(await repo.getByEmail(variant)).toMatchObject({ id, email: 'Ada.Lovelace@example.com' });
        }
        for (const other of ['ada.lovelace@example.org', 'lovelace@example.com', 'ada.lovelace@example.co']) {
          expect(await repo.getByEmail(other)).toBeNull();
        }
      });

      test('an unknown id or address reads as null and is not suppressed', async () => {
        expect(await repo.get(1)).toBeNull();
        expect(await repo.getByEmail('nobody@example.com')).toBeNull();
        expect(await repo.isSuppressed('nobody@example.com')).toBe(false);
      });

      test('creating a known address, in any case, returns its id with created false and changes nothing', async () => {
        const { id } = await createPerson('Ada@example.com', { status: 'active' });
        const before = await repo.get(id);
        const again = newSubscriber('ADA@EXAMPLE.COM', {
          name: 'Someone Else',
          status: 'pending',
          consent: evidence({ source: 'api' }),
          now: time(5),
        });
        expect(await repo.create(again)).toEqual({ id, created: false });
        expect(await repo.get(id)).toEqual(before);
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([id]);
      });

      test('two concurrent creates of one address make one subscriber', async () => {
        const [first, second] = await Promise.all([
          repo.create(newSubscriber('Race@example.com', { status: 'active' })),
          repo.create(newSubscriber('race@example.com', { status: 'active' })),
        ]);
        expect(second.id).toBe(first.id);
        expect([first.created, second.created].sort()).toEqual([false, true]);
        expect(await repo.getByEmail('RACE@example.com')).toMatchObject({ id: first.id });
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([first.id]);
        expect(await repo.countMembers('news')).toBe(1);
      });

      test('ids increase with each create and are never reused, an erased one included; lastId is at least every id given, 0 before any', async () => {
        expect(await repo.lastId()).toBe(0);
        const [a, b, c] = await createPeople('pending', 'active', 'pending');
        expect(a).toBeGreaterThan(0);
        expect(b).toBeGreaterThan(a);
        expect(c).toBeGreaterThan(b);
        expect(await repo.lastId()).toBeGreaterThanOrEqual(c);

        const erased = (await createPerson('erased@example.com')).id;
        await repo.erase('erased@example.com', time(1));
        expect(await repo.lastId()).toBeGreaterThanOrEqual(erased);
        const [d] = await createPeople('active');
        expect(d).toBeGreaterThan(erased);
        expect(await repo.lastId()).toBeGreaterThanOrEqual(d);
      });

      test('getMany keeps the order given, with null for an unknown or erased id', async () => {
        const [a, c] = await createPeople('active', 'pending');
        const erased = await createPerson('erased@example.com');
        await repo.erase(erased.email, time(1));
        expect(await repo.getMany([c, 999, a, erased.id])).toEqual([await repo.get(c), null, await repo.get(a), null]);
        expect(await repo.getMany([])).toEqual([]);
      });
    });

    describe('the active set', () => {
      test('an active create joins the active set; a pending, unsubscribed or bounced one does not', async () => {
        const [active] = await createPeople('active', 'pending', 'unsubscribed', 'bounced');
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([active]);
        expect(await repo.countMembers('news')).toBe(1);
        expect(await repo.countMembers('news', await repo.lastId())).toBe(1);
      });

      test('pageActiveIds pages through active ids ascending, strictly after afterId, at most limit at a time', async () => {
        const [a1, a2, , a4, a5, a6] = await createPeople('active', 'active', 'pending', 'active', 'active', 'active');
        expect(await repo.pageMemberIds('news', 0, 2)).toEqual([a1, a2]);
        expect(await repo.pageMemberIds('news', a2, 2)).toEqual([a4, a5]);
        expect(await repo.pageMemberIds('news', a5, 2)).toEqual([a6]);
        expect(await repo.pageMemberIds('news', a6, 2)).toEqual([]);
        expect(await repo.pageMemberIds('news', a1, 10)).toEqual([a2, a4, a5, a6]);
      });

      test('countActiveUpTo counts the active ids at most maxId', async () => {
        const [a1, , p3, a4] = await createPeople('active', 'active', 'pending', 'active');
        expect(await repo.countMembers('news', 0)).toBe(0);
        expect(await repo.countMembers('news', a1)).toBe(1);
        expect(await repo.countMembers('news', p3)).toBe(2);
        expect(await repo.countMembers('news', a4)).toBe(3);
        expect(await repo.countMembers('news', a4 + 100)).toBe(3);
        expect(await repo.countMembers('news')).toBe(3);
      });
    });

    describe('transition', () => {
      test('moves a person from an allowed status, sets the given timestamps and keeps every other field', async () => {
        const sub = await createPerson('ada@example.com', { status: 'active', confirmedAt: time(3) });
        const created = (await repo.get(sub.id))!;
        const changes = { unsubscribedAt: time(4), updatedAt: time(4) };
        expect(await repo.transition(sub, ['pending', 'active'], 'unsubscribed', changes)).toEqual({ ok: true });
        expect(await repo.get(sub.id)).toEqual({ ...created, status: 'unsubscribed', newsletters: [], ...changes });
      });

      test('takes the person out of the active set and out of every newsletter, and drops a waiting request', async () => {
        const sub = await createPerson('ada@example.com', { status: 'active', newsletters: ['news', 'culture'] });
        await repo.renewConsent(sub.id, { consent: evidence(), now: time(1), newsletters: ['alerts'] });
        expect(await repo.get(sub.id)).toMatchObject({
          newsletters: ['news', 'culture'],
          requestedNewsletters: ['alerts'],
        });

        await repo.transition(sub, ['active'], 'unsubscribed', { unsubscribedAt: time(2), updatedAt: time(2) });
        expect(await repo.get(sub.id)).toMatchObject({ newsletters: [], requestedNewsletters: [] });
        for (const slug of ['news', 'culture', 'alerts']) {
          expect(await repo.pageMemberIds(slug, 0, 10)).toEqual([]);
          expect(await repo.countMembers(slug)).toBe(0);
        }
        expect((await repo.countByStatus()).active).toBe(0);
      });

      test('never leads to active: only a confirmation does', async () => {
        const sub = await createPerson('ada@example.com');
        await expect(repo.transition(sub, ['pending'], 'active', { updatedAt: time(1) })).rejects.toThrow();
        expect(await repo.get(sub.id)).toMatchObject({ status: 'pending' });
      });

      test('refuses a person whose status is not in from: returns the current status and changes nothing, not even suppression', async () => {
        const sub = await createPerson('ada@example.com', { status: 'active' });
        const before = await repo.get(sub.id);
        const refused = await repo.transition(
          sub,
          ['pending'],
          'bounced',
          { bouncedAt: time(2), updatedAt: time(2) },
          { suppress: true },
        );
        expect(refused).toEqual({ ok: false, current: 'active' });
        expect(await repo.get(sub.id)).toEqual(before);
        expect(await repo.isSuppressed(sub.email)).toBe(false);
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([sub.id]);
      });

      test('refuses an unknown id with current null and creates nothing', async () => {
        const ghost = { id: 42, email: 'ghost@example.com' };
        const refused = await repo.transition(
          ghost,
          ['pending'],
          'unsubscribed',
          { unsubscribedAt: time(1), updatedAt: time(1) },
          { suppress: true },
        );
        expect(refused).toEqual({ ok: false, current: null });
        expect(await repo.get(42)).toBeNull();
        expect(await repo.countMembers('news')).toBe(0);
        expect(await repo.isSuppressed(ghost.email)).toBe(false);
      });

      test('with suppress the address ends up suppressed, matched in any case; without it, not', async () => {
        const bounced = await createPerson('Bounce@example.com', { status: 'active' });
        const left = await createPerson('left@example.com', { status: 'active' });
        const bounce = { bouncedAt: time(1), updatedAt: time(1) };
        expect(await repo.transition(bounced, ['pending', 'active'], 'bounced', bounce, { suppress: true })).toEqual({
          ok: true,
        });
        const unsubscribe = { unsubscribedAt: time(1), updatedAt: time(1) };
        expect(await repo.transition(left, ['pending', 'active'], 'unsubscribed', unsubscribe)).toEqual({ ok: true });

        expect(await repo.isSuppressed('Bounce@example.com')).toBe(true);
        expect(await repo.isSuppressed('bounce@EXAMPLE.COM')).toBe(true);
        expect(await repo.isSuppressed('left@example.com')).toBe(false);
      });
    });

    describe('findForSignup', () => {
      test('answers what getByEmail and isSuppressed answer, for an address in any case', async () => {
        const active = await createPerson('Ada@example.com', { status: 'active' });
        const bounced = await createPerson('Bounce@example.com', { status: 'active' });
        const erased = await createPerson('Gone@example.com', { status: 'active' });
        for (const person of [bounced, erased]) {
          const bounce = { bouncedAt: time(1), updatedAt: time(1) };
          await repo.transition(person, ['active'], 'bounced', bounce, { suppress: true });
        }
        expect(await repo.erase('Gone@example.com', time(2))).toBe(true);

        const cases = ['ADA@example.com', 'bounce@EXAMPLE.com', 'gone@example.com', 'nobody@example.com'];
        const seen = await Promise.all(cases.map((email) => repo.findForSignup(email)));
        expect(seen.map((f) => [f.subscriber?.id ?? null, f.suppressed])).toEqual([
          [active.id, false],
          [bounced.id, true],
          [null, true],
          [null, false],
        ]);
        for (const [i, email] of cases.entries()) {
          expect(seen[i].subscriber).toEqual(await repo.getByEmail(email));
          expect(seen[i].suppressed).toBe(await repo.isSuppressed(email));
        }
      });
    });

    describe('renewConsent', () => {
      test('a person not active becomes pending with the latest consent, updatedAt, the name given and the newsletters asked for', async () => {
        const { id } = await createPerson('ada@example.com', { status: 'unsubscribed' });
        const before = (await repo.get(id))!;
        const consent = evidence({ at: time(7), ip: '198.51.100.9', source: 'landing-page' });
        const asked = { name: 'Ada King', consent, now: time(7), newsletters: ['news', 'culture'] };
        expect(await repo.renewConsent(id, asked)).toBe('renewed');
        expect(await repo.get(id)).toEqual({
          ...before,
          name: 'Ada King',
          status: 'pending',
          consent,
          updatedAt: time(7),
          requestedNewsletters: ['news', 'culture'],
        });
        expect((await repo.countByStatus()).pending).toBe(1);
      });

      test('a pending person keeps what they asked for before and adds the rest; one who had left starts afresh', async () => {
        const { id } = await createPerson('ada@example.com', { newsletters: ['culture'] });
        await repo.renewConsent(id, { consent: evidence(), now: time(1), newsletters: ['news', 'culture'] });
        expect(await repo.get(id)).toMatchObject({ requestedNewsletters: ['culture', 'news'] });

        const left = await createPerson('left@example.com', { status: 'active', newsletters: ['culture'] });
        await repo.transition(left, ['active'], 'unsubscribed', { updatedAt: time(2) });
        await repo.renewConsent(left.id, { consent: evidence(), now: time(3), newsletters: ['news'] });
        expect(await repo.get(left.id)).toMatchObject({
          status: 'pending',
          newsletters: [],
          requestedNewsletters: ['news'],
        });
      });

      test('keeps the name when none is given', async () => {
        const { id } = await createPerson('ada@example.com', { name: 'Ada Lovelace' });
        await repo.renewConsent(id, { consent: evidence({ at: time(7) }), now: time(7), newsletters: ['news'] });
        expect(await repo.get(id)).toMatchObject({ name: 'Ada Lovelace', consent: { at: time(7) } });
      });

      test('an active person asking for newsletters they lack keeps status, consent and name; only the request is put aside', async () => {
        const { id } = await createPerson('ada@example.com', { status: 'active', newsletters: ['news'] });
        const before = (await repo.get(id))!;
        const renewal = { name: 'Mallory', consent: evidence({ ip: '198.51.100.66' }), now: time(3) };
        expect(await repo.renewConsent(id, { ...renewal, newsletters: ['news', 'culture'] })).toBe('requested');
        expect(await repo.get(id)).toEqual({ ...before, requestedNewsletters: ['culture'] });
        expect(await repo.pageMemberIds('culture', 0, 10)).toEqual([]);
        expect(await repo.renewConsent(id, { ...renewal, newsletters: ['news'] })).toBe('held');
        expect(await repo.get(id)).toEqual({ ...before, requestedNewsletters: ['culture'] });
      });

      test('an id no longer held (erased meanwhile) is not brought back: missing, and nothing is written', async () => {
        const { id } = await createPerson('ada@example.com', { status: 'active' });
        await repo.erase('ada@example.com', time(1));
        const renewal = { consent: evidence(), now: time(2), newsletters: ['news'] };
        expect(await repo.renewConsent(id, renewal)).toBe('missing');
        expect(await repo.get(id)).toBeNull();
        expect(await repo.getMany([id])).toEqual([null]);
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([]);
        expect((await repo.countByStatus()).total).toBe(0);
      });
    });

    describe('confirm', () => {
      test('makes a pending person active in the newsletters asked for, with confirmedAt, and in each newsletter set', async () => {
        const { id } = await createPerson('ada@example.com', { newsletters: ['news', 'culture'] });
        const before = (await repo.get(id))!;
        expect(await repo.confirm(id, time(4), 'news')).toEqual({
          outcome: 'confirmed',
          was: 'pending',
          joined: ['news', 'culture'],
          liftedSuppression: false,
        });
        expect(await repo.get(id)).toEqual({
          ...before,
          status: 'active',
          confirmedAt: time(4),
          updatedAt: time(4),
          newsletters: ['news', 'culture'],
          requestedNewsletters: [],
        });
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([id]);
        expect(await repo.pageMemberIds('culture', 0, 10)).toEqual([id]);
        expect(await repo.countByStatus()).toMatchObject({ pending: 0, active: 1 });
      });

      test('confirming twice changes nothing the second time', async () => {
        const { id } = await createPerson('ada@example.com');
        await repo.confirm(id, time(1), 'news');
        const once = await repo.get(id);
        expect(await repo.confirm(id, time(2), 'news')).toEqual({ outcome: 'already_confirmed' });
        expect(await repo.get(id)).toEqual(once);
      });

      test('adds what an active person asked for to what they receive', async () => {
        const { id } = await createPerson('ada@example.com', { status: 'active', newsletters: ['news'] });
        await repo.renewConsent(id, { consent: evidence(), now: time(1), newsletters: ['culture', 'news'] });
        expect(await repo.confirm(id, time(2), 'news')).toMatchObject({
          outcome: 'confirmed',
          was: 'active',
          joined: ['culture'],
        });
        expect(await repo.get(id)).toMatchObject({ newsletters: ['news', 'culture'], requestedNewsletters: [] });
        expect(await repo.countMembers('culture')).toBe(1);
        expect(await repo.countMembers('news')).toBe(1);
      });

      test('a pending person who asked for nothing (from before newsletters) gets the fallback', async () => {
        const { id } = await createPerson('old@example.com', { newsletters: [] });
        expect(await repo.confirm(id, time(1), 'news')).toMatchObject({ outcome: 'confirmed', joined: ['news'] });
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([id]);
      });

      test('lifts a suppression of the address', async () => {
        const sub = await createPerson('Bounce@example.com', { status: 'active' });
        await repo.transition(
          sub,
          ['active'],
          'bounced',
          { bouncedAt: time(1), updatedAt: time(1) },
          { suppress: true },
        );
        await repo.renewConsent(sub.id, { consent: evidence(), now: time(2), newsletters: ['news'] });
        expect(await repo.isSuppressed('bounce@example.com')).toBe(true);
        expect(await repo.confirm(sub.id, time(3), 'news')).toMatchObject({
          outcome: 'confirmed',
          liftedSuppression: true,
        });
        expect(await repo.isSuppressed('bounce@example.com')).toBe(false);
        expect(await repo.get(sub.id)).toMatchObject({ status: 'active', newsletters: ['news'] });
      });

      test('refuses a person who left or bounced since the signup, and an unknown id, changing nothing', async () => {
        const sub = await createPerson('ada@example.com');
        await repo.transition(sub, ['pending'], 'unsubscribed', { updatedAt: time(1) });
        const before = await repo.get(sub.id);
        expect(await repo.confirm(sub.id, time(2), 'news')).toEqual({ outcome: 'refused', current: 'unsubscribed' });
        expect(await repo.get(sub.id)).toEqual(before);
        expect(await repo.countMembers('news')).toBe(0);
        expect(await repo.confirm(999, time(2), 'news')).toEqual({ outcome: 'refused', current: null });
        expect(await repo.get(999)).toBeNull();
      });
    });

    describe('changeNewsletters', () => {
      test('adds and drops at once, keeping each newsletter set in step', async () => {
        const { id } = await createPerson('ada@example.com', { status: 'active', newsletters: ['news', 'culture'] });
        expect(await repo.changeNewsletters(id, { join: ['alerts'], leave: ['culture'] }, time(5))).toEqual({
          outcome: 'changed',
          newsletters: ['news', 'alerts'],
          joined: ['alerts'],
          left: ['culture'],
        });
        expect(await repo.get(id)).toMatchObject({ newsletters: ['news', 'alerts'], updatedAt: time(5) });
        expect(await repo.pageMemberIds('alerts', 0, 10)).toEqual([id]);
        expect(await repo.pageMemberIds('culture', 0, 10)).toEqual([]);
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([id]);
      });

      test('what is already so is unchanged; a change to none is refused and writes nothing', async () => {
        const { id } = await createPerson('ada@example.com', { status: 'active', newsletters: ['news'] });
        const before = await repo.get(id);
        expect(await repo.changeNewsletters(id, { join: ['news'], leave: ['culture'] }, time(5))).toEqual({
          outcome: 'unchanged',
          newsletters: ['news'],
        });
        expect(await repo.changeNewsletters(id, { join: [], leave: ['news'] }, time(5))).toEqual({
          outcome: 'would_empty',
          newsletters: ['news'],
        });
        expect(await repo.get(id)).toEqual(before);
        expect(await repo.countMembers('news')).toBe(1);
      });

      test('a newsletter joined here no longer waits for confirmation', async () => {
        const { id } = await createPerson('ada@example.com', { status: 'active', newsletters: ['news'] });
        await repo.renewConsent(id, { consent: evidence(), now: time(1), newsletters: ['culture', 'alerts'] });
        await repo.changeNewsletters(id, { join: ['culture'], leave: [] }, time(2));
        expect(await repo.get(id)).toMatchObject({
          newsletters: ['news', 'culture'],
          requestedNewsletters: ['alerts'],
        });
      });

      test('only an active person changes', async () => {
        const { id } = await createPerson('ada@example.com');
        expect(await repo.changeNewsletters(id, { join: ['culture'], leave: [] }, time(1))).toEqual({
          outcome: 'not_active',
          current: 'pending',
        });
        expect(await repo.countMembers('culture')).toBe(0);
        expect(await repo.changeNewsletters(999, { join: ['news'], leave: [] }, time(1))).toEqual({
          outcome: 'not_active',
          current: null,
        });
      });
    });

    describe('consent trail', () => {
      test('an event keeps the evidence it was given when a later signup renews the consent', async () => {
        const email = 'ada@example.com';
        const { id } = await createPerson(email);
        await repo.appendConsent(email, { type: 'subscribed', at: time(0), evidence: evidence() });
        const { at: _at, ...first } = evidence();
        await repo.transition({ id, email }, ['pending'], 'unsubscribed', {
          unsubscribedAt: time(2),
          updatedAt: time(2),
        });
        const renewed = evidence({ at: time(3), ip: '198.51.100.77', userAgent: 'Other browser', source: 'popup' });
        await repo.renewConsent(id, { consent: renewed, now: time(3), newsletters: ['news'] });
        await repo.appendConsent(email, { type: 'subscribed', at: time(3), evidence: renewed });
        expect(await repo.consentTrail(email)).toEqual([
          { id: '1', type: 'subscribed', at: time(0), ...first },
          { id: '2', type: 'subscribed', at: time(3), ...trailEvidence(renewed) },
        ]);
        expect((await repo.get(id))?.consent).toEqual(renewed);
      });

      test('appended events come back oldest first, numbered "1", "2", ..., each with its own time, its evidence and its detail', async () => {
        const email = 'ada@example.com';
        await createPerson(email);
        // The evidence carries the consent's time (time(0)); the event keeps its own.
        await repo.appendConsent(email, { type: 'subscribed', at: time(1), evidence: evidence() });
        await repo.appendConsent(email, {
          type: 'confirmed',
          at: time(2),
          evidence: { ip: '198.51.100.9', userAgent: 'Phone' },
        });
        await repo.appendConsent(email, { type: 'unsubscribed', at: time(3), detail: 'one-click' });
        expect(await repo.consentTrail(email)).toEqual([
          { id: '1', type: 'subscribed', at: time(1), ...trailEvidence(evidence()) },
          { id: '2', type: 'confirmed', at: time(2), ip: '198.51.100.9', userAgent: 'Phone' },
          { id: '3', type: 'unsubscribed', at: time(3), detail: 'one-click' },
        ]);
      });

      test('empty evidence fields are not stored', async () => {
        const email = 'ada@example.com';
        await createPerson(email);
        const sparse = { ip: '', userAgent: '', termsVersion: '2026-01', termsHash: '', source: 'footer-form' };
        await repo.appendConsent(email, { type: 'confirmed', at: time(1), evidence: sparse });
        const [event] = await repo.consentTrail(email);
        expect(event).toEqual({
          id: '1',
          type: 'confirmed',
          at: time(1),
          termsVersion: '2026-01',
          source: 'footer-form',
        });
        for (const empty of ['ip', 'userAgent', 'termsHash']) expect(event).not.toHaveProperty(empty);
      });

      test('the trail belongs to the address, matched case-insensitively; an address with none has an empty trail', async () => {
        await createPerson('Ada@example.com');
        await repo.appendConsent('Ada@example.com', { type: 'subscribed', at: time(1) });
        await repo.appendConsent('ADA@EXAMPLE.COM', { type: 'confirmed', at: time(2) });
        expect(await repo.consentTrail('ada@example.com')).toEqual([
          { id: '1', type: 'subscribed', at: time(1) },
          { id: '2', type: 'confirmed', at: time(2) },
        ]);
        expect(await repo.consentTrail('bob@example.com')).toEqual([]);
      });
    });

    describe('erase', () => {
      test('erase removes record, index entry, trail and active membership, leaves the address suppressed, spares the rest', async () => {
        const ada = await createPerson('Ada@example.com', { status: 'active' });
        const bob = await createPerson('bob@example.com', { status: 'active' });
        for (const { email } of [ada, bob])
          await repo.appendConsent(email, { type: 'subscribed', at: time(1), evidence: evidence() });

        expect(await repo.erase('ADA@example.com', time(5))).toBe(true);

        expect(await repo.get(ada.id)).toBeNull();
        expect(await repo.getByEmail('Ada@example.com')).toBeNull();
        expect(await repo.getMany([ada.id, bob.id])).toEqual([null, await repo.get(bob.id)]);
        expect(await repo.consentTrail('Ada@example.com')).toEqual([]);
        expect(await repo.isSuppressed('Ada@example.com')).toBe(true);
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([bob.id]);
        expect(await repo.countMembers('news')).toBe(1);
        expect(await repo.countMembers('news', await repo.lastId())).toBe(1);

        expect(await repo.getByEmail('bob@example.com')).toMatchObject({ id: bob.id, status: 'active' });
        expect(await repo.consentTrail('bob@example.com')).toHaveLength(1);
        expect(await repo.isSuppressed('bob@example.com')).toBe(false);

        expect(await repo.erase('Ada@example.com', time(6))).toBe(false);
      });

      test('erase of an unknown address returns false and still suppresses it', async () => {
        expect(await repo.erase('nobody@example.com', time(1))).toBe(false);
        expect(await repo.isSuppressed('Nobody@Example.com')).toBe(true);
        expect(await repo.getByEmail('nobody@example.com')).toBeNull();
      });
    });

    describe('importActive', () => {
      test('imports unknown addresses as active people, each with an imported trail event carrying the consent evidence', async () => {
        expect(await repo.importActive([], time(9), 'news')).toEqual([]);
        const [earlier] = await createPeople('pending');
        const rows = [
          importRow('Grace@example.com'),
          importRow('alan@example.com', { name: '', consent: evidence({ source: 'paper form' }) }),
        ];

        expect(await repo.importActive(rows, time(9), 'news')).toEqual(['imported', 'imported']);

        const imported: number[] = [];
        for (const row of rows) {
          const sub = await repo.getByEmail(row.email);
          expect(sub).toMatchObject({
            email: row.email,
            name: row.name,
            status: 'active',
            createdAt: time(9),
            consent: row.consent,
          });
          expect(await repo.consentTrail(row.email)).toEqual([
            expect.objectContaining({ id: '1', type: 'imported', at: time(9), ...trailEvidence(row.consent) }),
          ]);
          imported.push(sub!.id);
        }
        expect(imported[0]).toBeGreaterThan(earlier);
        expect(imported[1]).toBeGreaterThan(imported[0]);
        expect(await repo.lastId()).toBe(imported[1]);
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual(imported);
      });

      test('a suppressed address is skipped, a known one is left as it is whatever its status, and a repeat within the batch is existing', async () => {
        await repo.erase('erased@example.com', time(1));
        const bounced = await createPerson('bounced@example.com', { status: 'active' });
        await repo.transition(
          bounced,
          ['active'],
          'bounced',
          { bouncedAt: time(1), updatedAt: time(1) },
          { suppress: true },
        );
        const left = await createPerson('left@example.com', { status: 'unsubscribed', name: 'Left Person' });
        const pending = await createPerson('pending@example.com', { status: 'pending' });
        const known = [bounced.id, left.id, pending.id];
        const before = await repo.getMany(known);

        const outcomes = await repo.importActive(
          [
            importRow('new@example.com', { name: 'First Row' }),
            importRow('erased@example.com'),
            importRow('bounced@example.com'),
            importRow('LEFT@example.com'),
            importRow('pending@example.com'),
            importRow('New@Example.com', { name: 'Repeat Row' }),
          ],
          time(9),
          'news',
        );

        expect(outcomes).toEqual(['imported', 'suppressed', 'suppressed', 'existing', 'existing', 'existing']);
        expect(await repo.getMany(known)).toEqual(before);
        for (const email of ['erased@example.com', 'bounced@example.com', 'left@example.com', 'pending@example.com']) {
          expect(await repo.consentTrail(email)).toEqual([]);
        }
        expect(await repo.getByEmail('erased@example.com')).toBeNull();
        const added = await repo.getByEmail('new@example.com');
        expect(added).toMatchObject({ email: 'new@example.com', name: 'First Row', status: 'active' });
        expect(await repo.consentTrail('new@example.com')).toHaveLength(1);
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([added!.id]);
      });

      test('imported people read the newsletter named; an active reader of another one joins it, with a trail event, and nobody else changes', async () => {
        const reader = await createPerson('reader@example.com', { status: 'active', newsletters: ['news'] });
        const pending = await createPerson('pending@example.com', { newsletters: ['news'] });
        const before = await repo.get(pending.id);
        const outcomes = await repo.importActive(
          [importRow('new@example.com'), importRow('reader@example.com'), importRow('pending@example.com')],
          time(9),
          'culture',
        );
        expect(outcomes).toEqual(['imported', 'joined', 'existing']);
        const added = (await repo.getByEmail('new@example.com'))!;
        expect(added).toMatchObject({ status: 'active', newsletters: ['culture'] });
        expect(await repo.get(reader.id)).toMatchObject({ newsletters: ['news', 'culture'] });
        expect(await repo.consentTrail('reader@example.com')).toEqual([
          expect.objectContaining({ type: 'newsletters_changed', at: time(9) }),
        ]);
        expect(await repo.get(pending.id)).toEqual(before);
        expect(await repo.pageMemberIds('culture', 0, 10)).toEqual([reader.id, added.id]);
        expect(await repo.pageMemberIds('news', 0, 10)).toEqual([reader.id]);
        // Importing the same file again changes nothing.
        expect(await repo.importActive([importRow('reader@example.com')], time(10), 'culture')).toEqual(['existing']);
      });
    });

    /** Every page of a listing, following `next` to the end; fails on a listing that does not end. */
    async function listAll(query: Omit<SubscriberListQuery, 'after'>): Promise<{ ids: number[]; pages: number }> {
      const ids: number[] = [];
      let after: ListPosition | undefined;
      for (let pages = 1; pages < 1000; pages++) {
        const page = await repo.listSubscribers({ ...query, after });
        expect(page.subscribers.length).toBeLessThanOrEqual(query.limit);
        ids.push(...page.subscribers.map((s) => s.id));
        if (!page.next) return { ids, pages };
        after = page.next;
      }
      throw new Error('the listing did not end');
    }

    describe('listSubscribers', () => {
      test('pages through everybody held in id order, each person once, the last page saying nothing follows', async () => {
        const ids = await createPeople('pending', 'active', 'unsubscribed', 'bounced', 'active', 'pending', 'active');

        const first = await repo.listSubscribers({ limit: 3 });
        expect(first.subscribers.map((s) => s.id)).toEqual(ids.slice(0, 3));
        expect(first.subscribers[0]).toEqual(await repo.get(ids[0]));
        expect(await listAll({ limit: 3 })).toEqual({ ids, pages: 3 });
        expect(await listAll({ limit: 7 })).toEqual({ ids, pages: 1 });
        expect(await repo.listSubscribers({ limit: 10 })).toMatchObject({ next: null });
      });

      test('a status filter lists only the people in it, following their transitions', async () => {
        const [pending, active, left, bounced, active2] = await createPeople(
          'pending',
          'active',
          'unsubscribed',
          'bounced',
          'active',
        );
        expect((await listAll({ status: 'active', limit: 1 })).ids).toEqual([active, active2]);
        expect((await listAll({ status: 'pending', limit: 10 })).ids).toEqual([pending]);
        expect((await listAll({ status: 'bounced', limit: 10 })).ids).toEqual([bounced]);

        await repo.confirm(pending, time(1), 'news');
        await repo.renewConsent(left, { consent: evidence({ at: time(2) }), now: time(2), newsletters: ['news'] });

        expect((await listAll({ status: 'active', limit: 10 })).ids).toEqual([pending, active, active2]);
        expect((await listAll({ status: 'pending', limit: 10 })).ids).toEqual([left]);
        expect((await listAll({ status: 'unsubscribed', limit: 10 })).ids).toEqual([]);
      });

      test('a newsletter filter lists its readers only, by id or by prefix; with a status other than active, nobody', async () => {
        const both = await createPerson('both@example.com', { status: 'active', newsletters: ['news', 'culture'] });
        const news = await createPerson('bob@example.com', { status: 'active', newsletters: ['news'] });
        await createPerson('bea@example.com', { newsletters: ['culture'] });
        const culture = await createPerson('bill@example.com', { status: 'active', newsletters: ['culture'] });
        expect((await listAll({ newsletter: 'culture', limit: 1 })).ids).toEqual([both.id, culture.id]);
        expect((await listAll({ newsletter: 'news', status: 'active', limit: 10 })).ids).toEqual([both.id, news.id]);
        expect((await listAll({ newsletter: 'culture', addressPrefix: 'b', limit: 10 })).ids).toEqual([
          culture.id,
          both.id,
        ]);
        expect((await listAll({ newsletter: 'culture', status: 'pending', limit: 10 })).ids).toEqual([]);
        expect((await listAll({ newsletter: 'weekly', limit: 10 })).ids).toEqual([]);
      });

      test('people created while a listing pages appear after the cursor, never shifting or repeating earlier ones', async () => {
        const before = await createPeople('active', 'active', 'active', 'active');
        const first = await repo.listSubscribers({ limit: 2 });
        const added = await createPeople('pending', 'active');
        const ids = first.subscribers.map((s) => s.id);
        let after = first.next ?? undefined;
        while (after) {
          const page = await repo.listSubscribers({ limit: 2, after });
          ids.push(...page.subscribers.map((s) => s.id));
          after = page.next ?? undefined;
        }
        expect(ids).toEqual([...before, ...added]);
      });

      test('an address prefix matches case-insensitively, in address order, and pages by address', async () => {
        const zed = await createPerson('Zed.Smith@example.com');
        const ann = await createPerson('ann@example.org', { status: 'active' });
        const al = await createPerson('AL@example.net');
        const anna = await createPerson('ANNA.k@example.com');
        await createPerson('bob@example.com');

        const an = await listAll({ addressPrefix: 'an', limit: 1 });
        // '@' sorts before letters: ann@ comes before anna.
        expect(an).toEqual({ ids: [ann.id, anna.id], pages: 2 });
        expect((await listAll({ addressPrefix: 'a', limit: 2 })).ids).toEqual([al.id, ann.id, anna.id]);
        expect((await listAll({ addressPrefix: 'zed.smith@', limit: 5 })).ids).toEqual([zed.id]);
        expect((await listAll({ addressPrefix: 'ann@example.org', limit: 5 })).ids).toEqual([ann.id]);
        expect((await listAll({ addressPrefix: 'c', limit: 5 })).ids).toEqual([]);
        expect((await listAll({ addressPrefix: 'an', status: 'active', limit: 5 })).ids).toEqual([ann.id]);
        const page = await repo.listSubscribers({ addressPrefix: 'an', limit: 1 });
        expect(page.subscribers[0].email).toBe('ann@example.org');
        const second = await repo.listSubscribers({ addressPrefix: 'AN'.toLowerCase(), limit: 1, after: page.next! });
        expect(second.subscribers[0].email).toBe('ANNA.k@example.com');
      });

      test('erased people are never listed, with or without a search, and their address can sign up again', async () => {
        const [kept] = await createPeople('active');
        await createPerson('gone@example.com', { status: 'active' });
        await repo.erase('GONE@example.com', time(1));

        expect((await listAll({ limit: 10 })).ids).toEqual([kept]);
        expect((await listAll({ status: 'active', limit: 10 })).ids).toEqual([kept]);
        expect((await listAll({ addressPrefix: 'gone', limit: 10 })).ids).toEqual([]);

        const again = await createPerson('gone@example.com');
        expect((await listAll({ addressPrefix: 'gone', limit: 10 })).ids).toEqual([again.id]);
      });

      test('a search for a rare status under a common prefix still finds everyone in it, however many pages it takes', async () => {
        const early = await createPerson('reader-early@example.com');
        for (let i = 0; i < 6; i++)
          await repo.importActive(
            Array.from({ length: 1000 }, (_, k) => importRow(`reader${i * 1000 + k}@example.com`)),
            time(1),
            'news',
          );
        const late = await createPerson('reader~late@example.com');

        const found = await listAll({ addressPrefix: 'reader', status: 'pending', limit: 10 });
        expect(found.ids).toEqual([early.id, late.id]);
        expect((await listAll({ addressPrefix: 'reader', status: 'active', limit: 500 })).ids).toHaveLength(6000);
      });

      test('imported people are listed and found by prefix like any other', async () => {
        await repo.importActive([importRow('Imported@Example.com')], time(1), 'news');
        const [page] = [await repo.listSubscribers({ addressPrefix: 'imported@', status: 'active', limit: 5 })];
        expect(page.subscribers.map((s) => s.email)).toEqual(['Imported@Example.com']);
        expect((await repo.listSubscribers({ limit: 5 })).subscribers).toHaveLength(1);
      });
    });

    describe('countByStatus and countSuppressed', () => {
      test('count every held person once, in their current status, after transitions, renewals, imports and erasures', async () => {
        const empty = { pending: 0, active: 0, unsubscribed: 0, bounced: 0, total: 0 };
        expect(await repo.countByStatus()).toEqual(empty);
        expect(await repo.countSuppressed()).toBe(0);

        const [a, b] = await createPeople('pending', 'pending', 'active');
        const pa = (await repo.get(a))!;
        await repo.confirm(a, time(1), 'news');
        // Refused: not in an allowed status, so nothing moves.
        await repo.transition(pa, ['pending'], 'unsubscribed', { updatedAt: time(2) });
        const pb = (await repo.get(b))!;
        await repo.transition(
          pb,
          ['pending'],
          'bounced',
          { bouncedAt: time(2), updatedAt: time(2) },
          { suppress: true },
        );
        await repo.importActive([importRow('imported@example.com'), importRow(pb.email)], time(3), 'news');
        const left = await createPerson('left@example.com', { status: 'unsubscribed' });
        await repo.renewConsent(left.id, { consent: evidence(), now: time(4), newsletters: ['news'] });
        await createPerson('erased@example.com', { status: 'active' });
        await repo.erase('erased@example.com', time(5));

        expect(await repo.countByStatus()).toEqual({ pending: 1, active: 3, unsubscribed: 0, bounced: 1, total: 5 });
        expect(await repo.countSuppressed()).toBe(2);
      });

      test('stay exact when many transitions of the same people race', async () => {
        const ids = await createPeople(...Array.from({ length: 40 }, () => 'pending' as const));
        const people = (await repo.getMany(ids)).map((p) => p!);
        await Promise.all(
          people.flatMap((p, i) => [
            repo.confirm(p.id, time(1), 'news'),
            repo.transition(p, ['pending', 'active'], 'unsubscribed', { unsubscribedAt: time(1), updatedAt: time(1) }),
            i % 4 === 0
              ? repo.erase(p.email, time(1))
              : repo.transition(p, ['active'], 'bounced', { updatedAt: time(1) }),
          ]),
        );
        const counts = await repo.countByStatus();
        const held = (await repo.getMany(ids)).filter((p) => p !== null);
        for (const status of ['pending', 'active', 'unsubscribed', 'bounced'] as const)
          expect(counts[status]).toBe(held.filter((p) => p.status === status).length);
        expect(counts.total).toBe(30);
        // The newsletter's readers are exactly the active people, whichever move came last.
        expect(await repo.pageMemberIds('news', 0, 100)).toEqual(
          held.filter((p) => p.status === 'active').map((p) => p.id),
        );
      });
    });
  });
}
