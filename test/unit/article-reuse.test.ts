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

function campaign(id: number, status: CampaignStatus, articleIds: number[], newsletter = 'news'): Campaign {
  return {
    id,
    status,
    subject: `Campaign ${id}`,
    newsletter,
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
  test('an article is sent when the store has it sent in this newsletter, or a campaign of it sending or paused holds it', () => {
    const reuse = articleReuse(
      [article(1, 7), article(2), article(3), article(4)],
      [campaign(8, 'sending', [2]), campaign(9, 'paused', [3]), campaign(10, 'cancelled', [4])],
      'news',
      [true, false, false, false],
    );
    expect(reuse.sent).toEqual([
      { articleId: 1, title: 'Story 1', campaignId: 7 },
      { articleId: 2, title: 'Story 2', campaignId: 8 },
      { articleId: 3, title: 'Story 3', campaignId: 9 },
    ]);
    expect(reuse.inDrafts).toEqual([]);
  });

  test('the campaign that sent it wins over one still going out', () => {
    expect(articleReuse([article(1, 7)], [campaign(8, 'sending', [1])], 'news', [true]).sent).toEqual([
      { articleId: 1, title: 'Story 1', campaignId: 7 },
    ]);
  });

  test('what went out or is held in another newsletter does not count: its readers are others', () => {
    const reuse = articleReuse(
      [article(1, 7), article(2)],
      [campaign(7, 'sent', [1], 'alerts'), campaign(8, 'sending', [2], 'alerts'), campaign(9, 'draft', [1], 'alerts')],
      'news',
      [false, false],
    );
    expect(reuse).toEqual({ sent: [], inDrafts: [] });
  });

  test('other drafts are listed once each, with the shared articles in the order of the campaign being made', () => {
    const reuse = articleReuse(
      [article(3), article(1), article(2)],
      [campaign(5, 'draft', [1, 2, 3]), campaign(6, 'draft', [2]), campaign(7, 'draft', [9])],
      'news',
      [false, false, false],
    );
    expect(reuse.inDrafts).toEqual([
      { campaignId: 5, articleIds: [3, 1, 2] },
      { campaignId: 6, articleIds: [2] },
    ]);
    expect(reuse.sent).toEqual([]);
  });
});
