import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { emailHash } from '../../src/domain/email-address';
import type { SubscriberStatus } from '../../src/domain/subscriber';
import { ArticleStore } from '../../src/store/article-store';
import { CampaignStore } from '../../src/store/campaign-store';
import { FeedbackStore } from '../../src/store/feedback-store';
import { Keys } from '../../src/store/keys';
import { NewsletterRunStore } from '../../src/store/newsletter-run-store';
import { NewsletterStore } from '../../src/store/newsletter-store';
import { SubscriberStore } from '../../src/store/subscriber-store';
import { AuditStore } from '../../src/store/audit-store';
import { OperatorStore } from '../../src/store/operator-store';
import { RedisSessionStore } from '../../src/store/session-store';
import { auditLogContract } from './audit-log.contract';
import { operatorRepositoryContract } from './operator-repository.contract';
import { sessionStoreContract } from './session-store.contract';
import { articleRepositoryContract } from './article-repository.contract';
import { campaignRepositoryContract } from './campaign-repository.contract';
import { feedbackLedgerContract } from './feedback-ledger.contract';
import { newsletterRepositoryContract } from './newsletter-repository.contract';
import { newsletterRunRepositoryContract } from './newsletter-run-repository.contract';
import { deleteKeys, TEST_REDIS } from '../support/redis';
import type { RepositoryFixture } from './fixture';
import { subscriberRepositoryContract } from './subscriber-repository.contract';

const redis = new Redis(TEST_REDIS);

afterAll(async () => {
  await redis.quit();
});

/** A factory of stores, each on its own random key prefix, whose dispose deletes every key under it. */
function onFreshPrefix<T>(build: (deps: { redis: Redis; keys: Keys }) => T): () => Promise<RepositoryFixture<T>> {
  return () => {
    const prefix = `c${randomBytes(5).toString('hex')}`;
    return Promise.resolve({
      repo: build({ redis, keys: new Keys(prefix) }),
      dispose: () => deleteKeys(`${prefix}:*`, redis),
    });
  };
}

subscriberRepositoryContract(
  'SubscriberStore (Redis)',
  onFreshPrefix((deps) => new SubscriberStore(deps)),
);
campaignRepositoryContract(
  'CampaignStore (Redis)',
  onFreshPrefix((deps) => new CampaignStore(deps)),
);
articleRepositoryContract(
  'ArticleStore (Redis)',
  onFreshPrefix((deps) => new ArticleStore(deps)),
);
feedbackLedgerContract(
  'FeedbackStore (Redis)',
  onFreshPrefix((deps) => new FeedbackStore(deps)),
);
newsletterRepositoryContract(
  'NewsletterStore (Redis)',
  onFreshPrefix((deps) => new NewsletterStore(deps)),
);
newsletterRunRepositoryContract(
  'NewsletterRunStore (Redis)',
  onFreshPrefix((deps) => new NewsletterRunStore({ ...deps, keep: 5 })),
);
operatorRepositoryContract(
  'OperatorStore (Redis)',
  onFreshPrefix((deps) => new OperatorStore(deps)),
);
sessionStoreContract(
  'RedisSessionStore',
  onFreshPrefix((deps) => new RedisSessionStore(deps)),
);
auditLogContract(
  'AuditStore (Redis)',
  onFreshPrefix((deps) => new AuditStore(deps)),
);

describe('SubscriberStore audience indexes on data written before they existed', () => {
  const prefix = `c${randomBytes(5).toString('hex')}`;
  const keys = new Keys(prefix);
  const store = new SubscriberStore({ redis, keys });

  afterAll(() => deleteKeys(`${prefix}:*`, redis));

  /** People as the code before the audience indexes wrote them: hash, address index, active set, nothing else. */
  async function writeOldLayout(people: { email: string; status: SubscriberStatus }[]) {
    for (const [i, p] of people.entries()) {
      const id = i + 1;
      await redis.hset(keys.subscriber(id), {
        id: String(id),
        email: p.email,
        name: `Person ${id}`,
        status: p.status,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
        consentAt: '2026-01-01T00:00:00.000Z',
        consentSource: 'footer-form',
      });
      await redis.hset(keys.subscriberIndex(), emailHash(p.email), String(id));
      if (p.status === 'active') await redis.zadd(keys.activeSubscribers(), id, String(id));
    }
    await redis.set(keys.subscriberSeq(), String(people.length + 1)); // an id taken and never written: skipped
  }

  test('a start indexes everyone once, by status and address; later starts do nothing and change nothing', async () => {
    await writeOldLayout([
      { email: 'Old.Active@example.com', status: 'active' },
      { email: 'old.pending@example.com', status: 'pending' },
      { email: 'old.left@example.com', status: 'unsubscribed' },
      { email: 'other.bounced@example.com', status: 'bounced' },
      { email: 'old.active2@example.com', status: 'active' },
    ]);
    expect(await store.countByStatus()).toMatchObject({ pending: 0, total: 2 });

    expect(await store.backfillAudienceIndexes(2)).toBe(5);
    const counts = { pending: 1, active: 2, unsubscribed: 1, bounced: 1, total: 5 };
    expect(await store.countByStatus()).toEqual(counts);
    const old = await store.listSubscribers({ addressPrefix: 'old.', limit: 10 });
    expect(old.subscribers.map((s) => s.email)).toEqual([
      'old.active2@example.com',
      'Old.Active@example.com',
      'old.left@example.com',
      'old.pending@example.com',
    ]);
    expect((await store.listSubscribers({ status: 'bounced', limit: 10 })).subscribers.map((s) => s.id)).toEqual([4]);

    expect(await store.backfillAudienceIndexes()).toBeNull();
    await redis.del(keys.audienceIndexVersion());
    expect(await store.backfillAudienceIndexes()).toBe(5);
    expect(await store.countByStatus()).toEqual(counts);
    expect(await redis.zcard(keys.subscriberAddresses())).toBe(5);

    // The indexes now follow the store's own writes.
    await store.erase('old.left@example.com', '2026-02-01T00:00:00.000Z');
    expect(await store.countByStatus()).toEqual({ ...counts, unsubscribed: 0, total: 4 });
    expect((await store.listSubscribers({ addressPrefix: 'old.l', limit: 10 })).subscribers).toEqual([]);
  });
});
