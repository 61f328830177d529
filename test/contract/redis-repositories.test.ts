import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ArticleStore } from '../../src/store/article-store';
import { CampaignStore } from '../../src/store/campaign-store';
import { Keys } from '../../src/store/keys';
import { SubscriberStore } from '../../src/store/subscriber-store';
import { articleRepositoryContract } from './article-repository.contract';
import { campaignRepositoryContract } from './campaign-repository.contract';
import type { RepositoryFixture } from './fixture';
import { subscriberRepositoryContract } from './subscriber-repository.contract';

// The server of TEST_REDIS in test/support/test-app.ts. Not imported from there: that module loads the whole
// composition root, and these tests need nothing but the stores.
const redis = new Redis({ host: '127.0.0.1', port: 6379 });

afterAll(async () => {
  await redis.quit();
});

/** Deletes every key matching `pattern` through the shared connection. */
async function deleteKeys(pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

/** A factory of stores, each on its own random key prefix, whose dispose deletes every key under it. */
function onFreshPrefix<T>(build: (deps: { redis: Redis; keys: Keys }) => T): () => Promise<RepositoryFixture<T>> {
  return () => {
    const prefix = `c${randomBytes(5).toString('hex')}`;
    return Promise.resolve({
      repo: build({ redis, keys: new Keys(prefix) }),
      dispose: () => deleteKeys(`${prefix}:*`),
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
