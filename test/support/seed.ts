import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Container } from '../../src/container';
import type { SubscriberStatus } from '../../src/domain/subscriber';

const consent = {
  at: '2026-01-01T00:00:00.000Z',
  ip: '203.0.113.9',
  userAgent: 'seed',
  termsVersion: '2026-01',
  termsHash: 'seed',
  source: 'test-seed',
};

/** Creates subscribers straight through the store (the signup flow has its own tests); returns their ids in order. */
export async function seedSubscribers(
  container: Container,
  count: number,
  opts: { status?: SubscriberStatus; domain?: string; from?: number; newsletters?: string[] } = {},
): Promise<number[]> {
  const ids: number[] = [];
  const now = new Date().toISOString();
  const start = opts.from ?? 0;
  for (let i = start; i < start + count; i += 200) {
    const chunk = Array.from({ length: Math.min(200, start + count - i) }, (_, k) => i + k);
    const created = await Promise.all(
      chunk.map((n) =>
        container.subscribers.create({
          email: `reader${n}@${opts.domain ?? 'list.test'}`,
          name: `Reader ${n}`,
          status: opts.status ?? 'active',
          consent,
          now,
          newsletters: opts.newsletters ?? [container.newsletters.defaultSlug],
        }),
      ),
    );
    ids.push(...created.map((c) => c.id));
  }
  return ids;
}

/**
 * The fault tests' campaign: `readers` active subscribers and `articles` new articles, then a campaign of those
 * articles sent to them (send returns once the fan-out is queued). Returns the campaign.
 */
export async function sendCampaignTo(container: Container, readers: number, articles = 1): Promise<{ id: number }> {
  await seedSubscribers(container, readers);
  await seedArticles(container, articles);
  const campaign = await container.campaigns.create({});
  await container.campaigns.send(campaign.id);
  return campaign;
}

/** Active subscribers with these exact addresses (for a sink that answers by address); returns their ids. */
export async function seedAddresses(container: Container, emails: string[]): Promise<number[]> {
  const now = new Date().toISOString();
  const created = await Promise.all(
    emails.map((email) =>
      container.subscribers.create({
        email,
        name: '',
        status: 'active',
        consent,
        now,
        newsletters: [container.newsletters.defaultSlug],
      }),
    ),
  );
  return created.map((c) => c.id);
}

/** Two articles from the site, the first carrying the sample article's text. */
export async function seedArticles(container: Container, n = 2) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const { article } = await container.articleStore.add({
      title: i === 0 ? 'UN rights chief’s China visit draws criticism' : `Second story ${i}`,
      url: `https://news.test/articles/${i}-${Date.now()}`,
      summary: i === 0 ? 'Human rights groups say a historic opportunity was missed.' : `Summary ${i}`,
      bodyHtml: '',
      imageUrl: i === 0 ? 'https://news.test/img/lead.jpg' : undefined,
      author: i === 0 ? 'Staff Reporter' : undefined,
      publishedAt: new Date(Date.now() - i * 60000).toISOString(),
      createdAt: new Date().toISOString(),
    });
    out.push(article);
  }
  return out;
}

/**
 * `n` long-form articles cut from test/fixtures/sample-article.txt: each summary is as long as the admin API takes
 * (2,000 characters) and every other article has an image, the large end of what a newsletter carries.
 */
export async function seedLongArticles(container: Container, n: number) {
  const text = readFileSync(join(__dirname, '..', 'fixtures', 'sample-article.txt'), 'utf8').replace(/\s+/g, ' ');
  const stamp = Date.now();
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = (i * 397) % (text.length - 2000);
    const { article } = await container.articles.add({
      title: `Story ${i + 1}: rights groups weigh the China visit`,
      url: `https://news.test/long/${stamp}-${i}`,
      summary: text.slice(start, start + 2000),
      imageUrl: i % 2 === 0 ? `https://news.test/img/${i}.jpg` : undefined,
      author: i % 3 === 0 ? 'Staff Reporter' : undefined,
    });
    ids.push(article.id);
  }
  return ids;
}
