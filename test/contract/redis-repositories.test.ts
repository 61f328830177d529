import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
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
