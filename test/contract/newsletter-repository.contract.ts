import type { Newsletter } from '../../src/domain/newsletter';
import type { NewsletterRepository } from '../../src/domain/ports/newsletter-repository';
import { freshRepositoryPerTest, time, type RepositoryFixture } from './fixture';

/** A valid digest newsletter named by `slug`, created at time(0), with `changes` applied. */
function newsletter(slug: string, changes: Partial<Newsletter> = {}): Newsletter {
  return {
    slug,
    name: `The ${slug}`,
    description: `What ${slug} brings.`,
    public: true,
    categories: [],
    mode: 'digest',
    createdAt: time(0),
    updatedAt: time(0),
    ...changes,
  };
}

/**
 * The executable form of the `NewsletterRepository` port (src/domain/ports/newsletter-repository.ts): every
 * implementation passes this, each test on a fresh, empty repository from `make`.
 */
export function newsletterRepositoryContract(
  implementation: string,
  make: () => Promise<RepositoryFixture<NewsletterRepository>>,
): void {
  describe(`${implementation} satisfies NewsletterRepository`, () => {
    const repo = freshRepositoryPerTest(make);

    test('a created newsletter reads back with every field, optional ones included', async () => {
      const full = newsletter('morning-briefing', {
        fromName: 'The Morning Desk',
        categories: ['Politics', 'business'],
        schedule: { cron: '0 7 * * *', timezone: 'Europe/London', minArticles: 3 },
      });
      const alerts = newsletter('breaking', { mode: 'alerts', alertsPerDay: 4 });
      expect(await repo.create(full)).toBe(true);
      expect(await repo.create(alerts)).toBe(true);
      expect(await repo.get('morning-briefing')).toEqual(full);
      expect(await repo.get('breaking')).toEqual(alerts);
    });

    test('get of an unknown slug is null', async () => {
      expect(await repo.get('nothing')).toBeNull();
    });

    test('creating a known slug returns false and keeps the first newsletter as it was', async () => {
      const first = newsletter('news');
      expect(await repo.create(first)).toBe(true);
      expect(await repo.create(newsletter('news', { name: 'Impostor', mode: 'alerts' }))).toBe(false);
      expect(await repo.list()).toEqual([first]);
    });

    test('concurrent creates of one slug make exactly one newsletter', async () => {
      const results = await Promise.all(
        ['a', 'b', 'c', 'd', 'e'].map((n) => repo.create(newsletter('weekly', { name: n }))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = ['a', 'b', 'c', 'd', 'e'][results.indexOf(true)];
      expect((await repo.get('weekly'))?.name).toBe(winner);
    });

    test('list is every newsletter in slug order, and empty at first', async () => {
      expect(await repo.list()).toEqual([]);
      for (const slug of ['weekly', 'breaking', 'news']) await repo.create(newsletter(slug));
      expect((await repo.list()).map((n) => n.slug)).toEqual(['breaking', 'news', 'weekly']);
    });

    test('update replaces the newsletter whole: an optional field left out is gone', async () => {
      await repo.create(newsletter('news', { fromName: 'Desk', categories: ['a'] }));
      const changed = newsletter('news', {
        name: 'News, daily',
        categories: [],
        schedule: { cron: '30 6 * * 1-5', timezone: 'America/New_York', minArticles: 1 },
        updatedAt: time(10),
      });
      expect(await repo.update(changed)).toBe(true);
      expect(await repo.get('news')).toEqual(changed);
      expect((await repo.get('news'))?.fromName).toBeUndefined();
    });

    test('update of an unknown slug returns false and creates nothing', async () => {
      expect(await repo.update(newsletter('ghost'))).toBe(false);
      expect(await repo.get('ghost')).toBeNull();
      expect(await repo.list()).toEqual([]);
    });
  });
}
