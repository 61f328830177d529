import { Redis } from 'ioredis';

/** The Redis every test uses: the machine's own, on the default port (`.ci/run` makes sure one answers). */
export const TEST_REDIS = { host: '127.0.0.1', port: 6379 };

/** Deletes every key matching `pattern`, through `client` or a connection of its own. */
export async function deleteKeys(pattern: string, client?: Redis): Promise<void> {
  const redis = client ?? new Redis(TEST_REDIS);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  if (!client) redis.disconnect();
}
