import type { NewsletterRun } from '../../src/domain/newsletter-run';
import type { NewsletterRunRepository, RunCap } from '../../src/domain/ports/newsletter-run-repository';
import { freshRepositoryPerTest, time, type RepositoryFixture } from './fixture';

/** A run claimed at time(minutes). */
function run(minutes: number, changes: Partial<NewsletterRun> = {}): NewsletterRun {
  return { slot: time(minutes), at: time(minutes), outcome: 'running', articles: 0, ...changes };
}

const DAY = 24 * 60;

/** A cap of `limit` a day, whose skip record is claimed at time(minutes). */
function cap(limit: number, minutes: number): RunCap {
  return {
    limit,
    windowMs: DAY * 60_000,
    over: { articleId: 1, at: time(minutes), outcome: 'skipped', articles: 1, reason: 'over the cap' },
  };
}

/**
 * The executable form of the `NewsletterRunRepository` port (src/domain/ports/newsletter-run-repository.ts). `make`
 * gives a fresh, empty repository that keeps the newest 5 runs of a newsletter.
 */
export function newsletterRunRepositoryContract(
  implementation: string,
  make: () => Promise<RepositoryFixture<NewsletterRunRepository>>,
): void {
  describe(`${implementation} satisfies NewsletterRunRepository`, () => {
    const repo = freshRepositoryPerTest(make);

    test('a key is claimed once; a second claim finds the first run', async () => {
      const first = run(0);
      expect(await repo.claim('news', 's1', first)).toEqual({ claimed: true, run: first });
      expect(await repo.claim('news', 's1', run(1, { outcome: 'missed' }))).toEqual({
        claimed: false,
        capped: false,
        run: first,
      });
      // Keys are per newsletter.
      expect((await repo.claim('weekly', 's1', run(2))).claimed).toBe(true);
    });

    test('concurrent claims of one key: exactly one wins', async () => {
      const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => repo.claim('news', 'a9', run(i))));
      expect(results.filter((r) => r.claimed)).toHaveLength(1);
    });

    test('a capped claim counts only the claims within the window, and records the skip instead', async () => {
      expect((await repo.claim('alerts', 'a1', run(0), cap(2, 0))).claimed).toBe(true);
      expect((await repo.claim('alerts', 'a2', run(10), cap(2, 10))).claimed).toBe(true);
      const over = await repo.claim('alerts', 'a3', run(20), cap(2, 20));
      expect(over).toEqual({ claimed: false, capped: true, run: cap(2, 20).over });
      // The skip is the record of a3: a retry of it finds that, not a free place.
      expect(await repo.claim('alerts', 'a3', run(30), cap(2, 30))).toMatchObject({ claimed: false, capped: false });
      // A day after the first claim, its place is free again (a rolling window).
      expect((await repo.claim('alerts', 'a4', run(DAY + 1), cap(2, DAY + 1))).claimed).toBe(true);
      expect((await repo.claim('alerts', 'a5', run(DAY + 2), cap(2, DAY + 2))).claimed).toBe(false);
    });

    test('concurrent capped claims never pass the cap', async () => {
      const results = await Promise.all(
        [1, 2, 3, 4, 5, 6, 7, 8].map((i) => repo.claim('alerts', `a${i}`, run(i), cap(3, i))),
      );
      expect(results.filter((r) => r.claimed)).toHaveLength(3);
    });

    test('finish with releaseCap gives the place back', async () => {
      await repo.claim('alerts', 'a1', run(0), cap(1, 0));
      await repo.finish('alerts', 'a1', run(0, { outcome: 'failed', reason: 'refused' }), { releaseCap: true });
      expect((await repo.claim('alerts', 'a2', run(1), cap(1, 1))).claimed).toBe(true);
      expect((await repo.claim('alerts', 'a3', run(2), cap(1, 2))).claimed).toBe(false);
    });

    test('the first campaign attached stays; a run not kept has none', async () => {
      await repo.claim('news', 's1', run(0));
      expect(await repo.attachCampaign('news', 's1', 7)).toBe(7);
      expect(await repo.attachCampaign('news', 's1', 8)).toBe(7);
      expect((await repo.list('news', 10))[0]).toEqual(run(0, { campaignId: 7 }));
      expect(await repo.attachCampaign('news', 'nothing', 9)).toBeNull();
    });

    test('finish replaces a kept run, and writes nothing for one not kept', async () => {
      await repo.claim('news', 's1', run(0));
      const done = run(0, { outcome: 'sent', campaignId: 3, articles: 4, lateBySeconds: 1200 });
      await repo.finish('news', 's1', done);
      expect(await repo.list('news', 10)).toEqual([done]);
      await repo.finish('news', 'ghost', done);
      expect(await repo.list('news', 10)).toEqual([done]);
    });

    test('list is newest first, at most limit, and only the newest 5 are kept', async () => {
      for (let i = 0; i < 7; i++) await repo.claim('news', `s${i}`, run(i));
      expect((await repo.list('news', 3)).map((r) => r.at)).toEqual([time(6), time(5), time(4)]);
      expect((await repo.list('news', 100)).map((r) => r.at)).toEqual([time(6), time(5), time(4), time(3), time(2)]);
      // A trimmed key can be claimed again: trimming is why the kept number must outlast any retry.
      expect((await repo.claim('news', 's0', run(8))).claimed).toBe(true);
      expect(await repo.list('weekly', 10)).toEqual([]);
    });
  });
}
