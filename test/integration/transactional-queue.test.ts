/**
 * The confirmation and welcome mails asked for in one turn of the event loop go to Redis as one pipeline (TransactionalQueue's
 * connection pipelines); each caller still hears its own answer, once its job is there.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TransactionalQueue } from '../../src/queue/transactional-queue';
import { deleteKeys, TEST_REDIS } from '../support/redis';

const prefix = `tq${randomBytes(5).toString('hex')}`;
const redis = new Redis(TEST_REDIS);
const queue = new TransactionalQueue({ connection: TEST_REDIS, prefix });

afterAll(async () => {
  await queue.close();
  await deleteKeys(`${prefix}:*`, redis);
  await redis.quit();
});

test('ten mails asked for in one turn go out as one pipeline, each job there when its caller hears done', async () => {
  // One add first: the add script is loaded, so the ten below are not preceded by a reload.
  await queue.enqueue('confirm', 99);
  const client = (await queue.queue.getBackend().client) as unknown as { autoPipelineQueueSize: number };
  const adds = Array.from({ length: 10 }, (_, i) => queue.enqueue(i % 2 ? 'welcome' : 'confirm', 100 + i));
  // The adds wait in one pipeline until the turn ends (they reach the client after BullMQ's own awaits).
  let queued = 0;
  for (let turn = 0; turn < 20 && !queued; turn++) {
    await new Promise((ok) => process.nextTick(ok));
    queued = client.autoPipelineQueueSize;
  }
  expect(queued).toBe(10);
  await Promise.all(adds);
  // every caller has heard done: every job is there, waiting, with the queue's retry policy
  const jobs = await queue.queue.getJobs(['wait']);
  expect(jobs.map((j) => j.data.subscriberId).sort((a, b) => a - b)).toEqual([
    99,
    ...Array.from({ length: 10 }, (_, i) => 100 + i),
  ]);
  expect(jobs.every((j) => j.name === j.data.kind && j.opts.attempts === 16)).toBe(true);
  await queue.queue.drain();
});

test('mails asked for in different turns are each added at once, not held for later ones', async () => {
  await queue.queue.drain();
  await queue.enqueue('confirm', 1);
  expect(await queue.queue.getWaitingCount()).toBe(1);
  await queue.enqueue('confirm', 2);
  expect(await queue.queue.getWaitingCount()).toBe(2);
  await queue.queue.drain();
});

test('a failed add fails its caller', async () => {
  // the queue's meta hash made a string: the add script's reads of it fail
  await redis.del(`${prefix}:transactional:meta`);
  await redis.set(`${prefix}:transactional:meta`, 'not a hash');
  const answers = await Promise.allSettled([queue.enqueue('confirm', 1), queue.enqueue('welcome', 2)]);
  expect(answers.map((a) => a.status)).toEqual(['rejected', 'rejected']);
  await redis.del(`${prefix}:transactional:meta`);
});
