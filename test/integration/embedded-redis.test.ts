import { mkdtempSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisAnswers, startEmbeddedRedis } from '../../src/runtime/embedded-redis';
import { freePort } from '../support/free-port';

/** The fresh-machine default: no Redis answers, so the service starts redis-server itself under ./var/redis. */
test('the embedded redis-server keeps its data in an append-only file across restarts, and a second process reuses it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nl-embedded-'));
  const first = await startEmbeddedRedis(dataDir);
  expect(first.child).toBeDefined();
  const client = new Redis(first.options);
  await client.set('kept', 'yes');
  // A second process (the CLI, another role) finds the same server instead of starting another.
  const second = await startEmbeddedRedis(dataDir);
  expect(second.child).toBeUndefined();
  expect(second.options).toEqual(first.options);
  client.disconnect();

  first.child!.kill('SIGTERM');
  await new Promise((ok) => first.child!.once('exit', ok));
  expect(readdirSync(join(dataDir, 'redis')).some((f) => f.startsWith('appendonly'))).toBe(true);

  const again = await startEmbeddedRedis(dataDir);
  try {
    expect(again.child).toBeDefined();
    const c = new Redis(again.options);
    expect(await c.get('kept')).toBe('yes');
    c.disconnect();
  } finally {
    again.child!.kill('SIGTERM');
    await new Promise((ok) => again.child!.once('exit', ok));
  }
  expect(existsSync(join(dataDir, 'redis'))).toBe(true);
});

test('a probe where no Redis answers says so and leaves nothing running that would hold a process', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  expect(await redisAnswers({ host: '127.0.0.1', port: await freePort() })).toBe(false);
  expect(timers()).toBe(before);
});
