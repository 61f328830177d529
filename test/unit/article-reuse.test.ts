import type { Article } from '../../src/domain/article';
import type { Campaign, CampaignStatus } from '../../src/domain/campaign';
import { articleReuse } from '../../src/domain/campaigns';

function article(id: number, sentInCampaign?: number): Article {
  return {
    id,
    title: `Story ${id}`,
    url: `https://news.test/${id}`,
    summary: '',
    bodyHtml: '',
    publishedAt: '2026-11-27T12:00:00.000Z',
    createdAt: '2026-11-27T12:00:00.000Z',
    ...(sentInCampaign === undefined ? {} : { sentInCampaign }),
  };
}

function campaign(id: number, status: CampaignStatus, articleIds: number[]): Campaign {
  return {
    id,
    status,
    subject: `Campaign ${id}`,
    newsletter: 'news',
    articleIds,
    total: 0,
    sent: 0,
    failed: 0,
    skipped: 0,
    bounced: 0,
    lateBounces: 0,
    complained: 0,
    createdAt: '2026-11-27T12:00:00.000Z',
    maxSubscriberId: 0,
    cursor: 0,
    queued: 0,
    fanoutDone: false,
  };
}

describe('articleReuse', () => {
  test('an article is sent when a sent campaign is recorded on it, or a campaign sending or paused holds it', () => {
    const reuse = articleReuse(
      [article(1, 7), article(2), article(3), article(4)],
      [campaign(8, 'sending', [2]), campaign(9, 'paused', [3]), campaign(10, 'cancelled', [4])],
    );
    expect(reuse.sent).toEqual([
      { articleId: 1, title: 'Story 1', campaignId: 7 },
      { articleId: 2, title: 'Story 2', campaignId: 8 },
      { articleId: 3, title: 'Story 3', campaignId: 9 },
    ]);
    expect(reuse.inDrafts).toEqual([]);
  });

  test('the campaign recorded on the article wins over one still going out', () => {
    expect(articleReuse([article(1, 7)], [campaign(8, 'sending', [1])]).sent).toEqual([
      { articleId: 1, title: 'Story 1', campaignId: 7 },
    ]);
  });

  test('other drafts are listed once each, with the shared articles in the order of the campaign being made', () => {
    const reuse = articleReuse(
      [article(3), article(1), article(2)],
      [campaign(5, 'draft', [1, 2, 3]), campaign(6, 'draft', [2]), campaign(7, 'draft', [9])],
    );
    expect(reuse.inDrafts).toEqual([
      { campaignId: 5, articleIds: [3, 1, 2] },
      { campaignId: 6, articleIds: [2] },
    ]);
    expect(reuse.sent).toEqual([]);
  });
});
