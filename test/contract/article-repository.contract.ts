import type { Article, NewArticle } from '../../src/domain/article';
import type { ArticleRepository } from '../../src/domain/ports/article-repository';
import { freshRepositoryPerTest, time, type RepositoryFixture } from './fixture';

/**
 * A validated article named by `slug`, its url https://news.example/<slug>, published at time(0) unless `changes`
 * says otherwise.
 */
function newArticle(slug: string, changes: Partial<NewArticle> = {}): NewArticle {
  return {
    title: `Article ${slug}`,
    url: `https://news.example/${slug}`,
    summary: `What ${slug} is about.`,
    bodyHtml: `<p>What <strong>${slug}</strong> is about.</p>`,
    publishedAt: time(0),
    createdAt: time(0),
    ...changes,
  };
}

/**
 * The executable form of the `ArticleRepository` port (src/domain/ports/article-repository.ts): every
 * implementation passes this, each test on a fresh, empty repository from `make`.
 */
export function articleRepositoryContract(
  implementation: string,
  make: () => Promise<RepositoryFixture<ArticleRepository>>,
): void {
  describe(`${implementation} satisfies ArticleRepository`, () => {
    const repo = freshRepositoryPerTest(make);

    /** Adds each article in turn, each must be new; returns them as stored. */
    async function addAll(...inputs: NewArticle[]): Promise<Article[]> {
      const stored: Article[] = [];
      for (const input of inputs) {
        const { article, created } = await repo.add(input);
        expect(created).toBe(true);
        stored.push(article);
      }
      return stored;
    }

    describe('add', () => {
      test('a new article is stored with every field given and returned with created true; get reads it back', async () => {
        const full = newArticle('full', {
          imageUrl: 'https://news.example/full.jpg',
          author: 'Ada Lovelace',
          guid: 'urn:uuid:full',
          categories: ['Politics', 'Europe'],
          publishedAt: time(-90),
        });
        const bare = newArticle('bare');
        for (const input of [full, bare]) {
          const { article, created } = await repo.add(input);
          expect(created).toBe(true);
          expect(article).toEqual({ id: expect.any(Number), ...input });
          expect(await repo.get(article.id)).toEqual(article);
        }
        const [first, second] = await repo.list();
        expect(first.id).not.toBe(second.id);
      });

      test('adding a known url returns the stored article with created false and stores nothing', async () => {
        const [stored] = await addAll(newArticle('a'));
        const again = newArticle('a', { title: 'Retitled', summary: 'Other.', publishedAt: time(5) });
        expect(await repo.add(again)).toEqual({ article: stored, created: false });
        expect(await repo.list()).toEqual([stored]);
        expect(await repo.listNew()).toHaveLength(1);
      });

      test('a different url with a known guid returns the first article with created false', async () => {
        const [stored] = await addAll(newArticle('a', { guid: 'urn:uuid:1' }));
        expect(await repo.add(newArticle('a-moved', { guid: 'urn:uuid:1' }))).toEqual({
          article: stored,
          created: false,
        });
        expect(await repo.list()).toEqual([stored]);
      });

      test('found by url, a guid not yet known is attached: a later add with that guid and another url returns the article', async () => {
        const [stored] = await addAll(newArticle('a'));
        const byUrl = await repo.add(newArticle('a', { guid: 'urn:uuid:late' }));
        expect(byUrl).toMatchObject({ article: { id: stored.id, url: stored.url }, created: false });
        const byGuid = await repo.add(newArticle('a-moved', { guid: 'urn:uuid:late' }));
        expect(byGuid).toMatchObject({ article: { id: stored.id, url: stored.url }, created: false });
        expect(await repo.list()).toHaveLength(1);
      });

      test('a guid already known for another article stays with that article', async () => {
        const [a, b] = await addAll(newArticle('a', { guid: 'urn:uuid:a' }), newArticle('b', { guid: 'urn:uuid:b' }));
        expect((await repo.add(newArticle('a', { guid: 'urn:uuid:b' }))).article.id).toBe(a.id);
        expect((await repo.add(newArticle('c', { guid: 'urn:uuid:b' }))).article.id).toBe(b.id);
        expect(await repo.list()).toHaveLength(2);
      });

      test('two concurrent adds of one url make one article', async () => {
        const [one, two] = await Promise.all([
          repo.add(newArticle('race', { title: 'One' })),
          repo.add(newArticle('race', { title: 'Two' })),
        ]);
        expect(two.article).toEqual(one.article);
        expect([one.created, two.created].sort()).toEqual([false, true]);
        expect(await repo.list()).toEqual([one.article]);
        expect(await repo.listNew()).toHaveLength(1);
      });

      test('two concurrent adds of one guid under different urls make one article', async () => {
        const [one, two] = await Promise.all([
          repo.add(newArticle('x', { guid: 'urn:uuid:race' })),
          repo.add(newArticle('y', { guid: 'urn:uuid:race' })),
        ]);
        expect(two.article).toEqual(one.article);
        expect([one.created, two.created].sort()).toEqual([false, true]);
        expect(await repo.list()).toEqual([one.article]);
      });
    });

    describe('reading', () => {
      test('get of an unknown id is null; getMany keeps the order given and drops unknown ids', async () => {
        const [a, b, c] = await addAll(newArticle('a'), newArticle('b'), newArticle('c'));
        expect(await repo.get(999)).toBeNull();
        expect(await repo.getMany([c.id, 999, a.id, b.id])).toEqual([c, a, b]);
        expect(await repo.getMany([])).toEqual([]);
      });

      test('list and listNew are newest first by publication time, not by insertion, and honour the limit', async () => {
        const [mid, oldest, newest, older] = await addAll(
          newArticle('mid', { publishedAt: time(20) }),
          newArticle('oldest', { publishedAt: time(-600) }),
          newArticle('newest', { publishedAt: time(30) }),
          newArticle('older', { publishedAt: time(10) }),
        );
        const newestFirst = [newest, mid, older, oldest];
        expect(await repo.list()).toEqual(newestFirst);
        expect(await repo.list(2)).toEqual(newestFirst.slice(0, 2));
        expect(await repo.listNew()).toEqual(newestFirst);
        expect(await repo.listNew(3)).toEqual(newestFirst.slice(0, 3));
        expect(await repo.listNew()).toHaveLength(4);
      });
    });

    describe('markSent', () => {
      test('takes the articles out of the new ones, keeps them in the list and records the campaign on them', async () => {
        const [a, b, c] = await addAll(
          newArticle('a', { publishedAt: time(3) }),
          newArticle('b', { publishedAt: time(2) }),
          newArticle('c', { publishedAt: time(1) }),
        );
        await repo.markSent([a.id, c.id], 7);
        expect(await repo.listNew()).toEqual([b]);
        expect(await repo.listNew()).toHaveLength(1);
        expect(await repo.list()).toEqual([{ ...a, sentInCampaign: 7 }, b, { ...c, sentInCampaign: 7 }]);
        expect(await repo.get(a.id)).toEqual({ ...a, sentInCampaign: 7 });
        expect((await repo.get(b.id))?.sentInCampaign).toBeUndefined();
      });

      test('the first campaign to send an article stays recorded when another marks it again', async () => {
        const [a] = await addAll(newArticle('a'));
        await repo.markSent([a.id], 7);
        await repo.markSent([a.id], 7);
        await repo.markSent([a.id], 9);
        expect(await repo.get(a.id)).toEqual({ ...a, sentInCampaign: 7 });
        expect(await repo.listNew()).toHaveLength(0);
      });

      test('markSent of no ids or of unknown ids does not fail and creates nothing; known ids beside unknown ones are marked', async () => {
        const [a, b] = await addAll(
          newArticle('a', { publishedAt: time(2) }),
          newArticle('b', { publishedAt: time(1) }),
        );
        await expect(repo.markSent([], 7)).resolves.toBeUndefined();
        await expect(repo.markSent([999], 7)).resolves.toBeUndefined();
        expect(await repo.get(999)).toBeNull();
        expect(await repo.listNew()).toEqual([a, b]);

        await repo.markSent([999, b.id], 8);
        expect(await repo.get(999)).toBeNull();
        expect(await repo.listNew()).toEqual([a]);
        expect(await repo.list()).toEqual([a, { ...b, sentInCampaign: 8 }]);
      });
    });

    describe('new in a newsletter', () => {
      test('an article sent in one newsletter is no longer new there and still new in another', async () => {
        const [a, b, c] = await addAll(
          newArticle('a', { publishedAt: time(3) }),
          newArticle('b', { publishedAt: time(2) }),
          newArticle('c', { publishedAt: time(1) }),
        );
        expect(await repo.listNewIn('briefing')).toEqual([a, b, c]);
        await repo.markSent([a.id, c.id], 7, 'briefing');
        expect(await repo.listNewIn('briefing')).toEqual([b]);
        expect(await repo.listNewIn('weekly')).toEqual([{ ...a, sentInCampaign: 7 }, b, { ...c, sentInCampaign: 7 }]);
        // Marking without a newsletter touches no newsletter's new articles.
        await repo.markSent([b.id], 8);
        expect(await repo.listNewIn('briefing')).toEqual([{ ...b, sentInCampaign: 8 }]);
      });

      test('sentIn answers per id, in order, for that newsletter only', async () => {
        const [a, b] = await addAll(
          newArticle('a', { publishedAt: time(2) }),
          newArticle('b', { publishedAt: time(1) }),
        );
        await repo.markSent([a.id], 7, 'briefing');
        expect(await repo.sentIn('briefing', [b.id, a.id, 999])).toEqual([false, true, false]);
        expect(await repo.sentIn('weekly', [a.id, b.id])).toEqual([false, false]);
        expect(await repo.sentIn('briefing', [])).toEqual([]);
      });

      test('with categories, only articles sharing one, whatever the case; the limit counts what is returned', async () => {
        const [, politics, both, , europe] = await addAll(
          newArticle('untagged', { publishedAt: time(5) }),
          newArticle('politics', { publishedAt: time(4), categories: ['POLITICS'] }),
          newArticle('both', { publishedAt: time(3), categories: ['Sport', 'politics'] }),
          newArticle('sport', { publishedAt: time(2), categories: ['Sport'] }),
          newArticle('europe', { publishedAt: time(1), categories: ['Europe'] }),
        );
        const wanted = { categories: ['Politics', 'europe'] };
        expect(await repo.listNewIn('briefing', wanted)).toEqual([politics, both, europe]);
        expect(await repo.listNewIn('briefing', { ...wanted, limit: 2 })).toEqual([politics, both]);
        expect(await repo.listNewIn('briefing', { categories: [] })).toHaveLength(5);
        await repo.markSent([politics.id], 3, 'briefing');
        expect(await repo.listNewIn('briefing', { ...wanted, limit: 2 })).toEqual([both, europe]);
        expect(await repo.listNewIn('briefing', { categories: ['Weather'] })).toEqual([]);
      });

      test('finds new articles beyond the first few hundred sent ones', async () => {
        const many: NewArticle[] = Array.from({ length: 450 }, (_, i) => newArticle(`n${i}`, { publishedAt: time(i) }));
        const stored = await addAll(...many);
        // The newest 449 are sent; the oldest is the only new one, on the third page.
        await repo.markSent(
          stored.slice(1).map((s) => s.id),
          1,
          'briefing',
        );
        expect((await repo.listNewIn('briefing')).map((x) => x.url)).toEqual([stored[0].url]);
      });
    });
  });
}
