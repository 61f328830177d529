import type { FeedbackLedger } from '../../src/domain/ports/feedback-ledger';
import { freshRepositoryPerTest, type RepositoryFixture } from './fixture';

const DAY = 24 * 3600 * 1000;
const WINDOW = 30 * DAY;
const T0 = Date.parse('2026-11-27T12:00:00.000Z');

/**
 * The executable form of the `FeedbackLedger` port (src/domain/ports/feedback-ledger.ts): every implementation
 * passes this, each test on a fresh, empty ledger from `make`.
 */
export function feedbackLedgerContract(implementation: string, make: () => Promise<RepositoryFixture<FeedbackLedger>>) {
  describe(`${implementation} satisfies FeedbackLedger`, () => {
    const ledger = freshRepositoryPerTest(make);

    describe('firstSeen', () => {
      test('is true the first time an event is seen and false after, per source', async () => {
        expect(await ledger.firstSeen('ses', 'evt-1', 60)).toBe(true);
        expect(await ledger.firstSeen('ses', 'evt-1', 60)).toBe(false);
        // Ids are the channel's own: another channel's event with the same id is another event.
        expect(await ledger.firstSeen('postmark', 'evt-1', 60)).toBe(true);
        expect(await ledger.firstSeen('ses', 'evt-2', 60)).toBe(true);
        expect(await ledger.firstSeen('postmark', 'evt-1', 60)).toBe(false);
      });

      test('concurrent calls for one event: exactly one gets true', async () => {
        const seen = await Promise.all(Array.from({ length: 20 }, () => ledger.firstSeen('mailbox', '<abc@mx>', 60)));
        expect(seen.filter(Boolean)).toHaveLength(1);
      });

      test('an event is forgotten once its time to live has passed', async () => {
        expect(await ledger.firstSeen('generic', 'short-lived', 1)).toBe(true);
        expect(await ledger.firstSeen('generic', 'short-lived', 1)).toBe(false);
        await new Promise((ok) => setTimeout(ok, 1300));
        expect(await ledger.firstSeen('generic', 'short-lived', 1)).toBe(true);
      });

      test('a very long event id is still remembered', async () => {
        const id = 'x'.repeat(5000);
        expect(await ledger.firstSeen('generic', id, 60)).toBe(true);
        expect(await ledger.firstSeen('generic', id, 60)).toBe(false);
      });
    });

    describe('addSoftBounce', () => {
      test('counts the soft bounces within the window before the new one, this one included', async () => {
        expect(await ledger.addSoftBounce(7, T0, WINDOW)).toBe(1);
        expect(await ledger.addSoftBounce(7, T0 + 10 * DAY, WINDOW)).toBe(2);
        expect(await ledger.addSoftBounce(7, T0 + 20 * DAY, WINDOW)).toBe(3);
        // 35 days after the first: the first is out of the window, the other two are in.
        expect(await ledger.addSoftBounce(7, T0 + 35 * DAY, WINDOW)).toBe(3);
        // 70 days after the first: only this one.
        expect(await ledger.addSoftBounce(7, T0 + 70 * DAY, WINDOW)).toBe(1);
      });

      test('a bounce exactly one window old is out of it; one a millisecond younger is in', async () => {
        expect(await ledger.addSoftBounce(3, T0, WINDOW)).toBe(1);
        expect(await ledger.addSoftBounce(3, T0 + 1, WINDOW)).toBe(2);
        expect(await ledger.addSoftBounce(3, T0 + WINDOW, WINDOW)).toBe(2);
      });

      test('two bounces at the same millisecond both count, also when added at once', async () => {
        expect(await ledger.addSoftBounce(5, T0, WINDOW)).toBe(1);
        expect(await ledger.addSoftBounce(5, T0, WINDOW)).toBe(2);
        const counts = await Promise.all([1, 2, 3].map(() => ledger.addSoftBounce(5, T0 + DAY, WINDOW)));
        expect([...counts].sort((a, b) => a - b)).toEqual([3, 4, 5]);
      });

      test("each person's bounces are their own", async () => {
        expect(await ledger.addSoftBounce(1, T0, WINDOW)).toBe(1);
        expect(await ledger.addSoftBounce(1, T0 + DAY, WINDOW)).toBe(2);
        expect(await ledger.addSoftBounce(2, T0 + DAY, WINDOW)).toBe(1);
        expect(await ledger.addSoftBounce(1, T0 + 2 * DAY, WINDOW)).toBe(3);
      });
    });
  });
}
