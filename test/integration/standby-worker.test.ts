import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import pino from 'pino';
import { QUEUES, type WorkerDefinition } from '../../src/queue/jobs';
import { queueConnection, startQueueWorker, type RunningWorker } from '../../src/queue/queue-worker';
import { startStandbyWorker } from '../../src/queue/standby-worker';
import { deleteKeys, TEST_REDIS } from '../support/redis';
import { eventually } from '../support/test-app';

/**
 * The standby worker of the process answering HTTP: it takes a queue only while the processes meant to take it leave
 * its oldest job waiting, and lets go once nothing waits.
 */
const AFTER_MS = 6000;
const prefix = `tstandby${randomBytes(4).toString('hex')}`;
const conn = queueConnection(TEST_REDIS, prefix);
const events: string[] = [];
const log = pino(
  { level: 'info' },
  new Writable({
    write(line: Buffer, _enc, done) {
      events.push((JSON.parse(line.toString()) as { event: string }).event);
      done();
    },
  }),
);
const taken: { n: number; at: number }[] = [];
const def: WorkerDefinition<{ n: number }> = {
  queue: QUEUES.transactional,
  concurrency: 1,
  process(job) {
    taken.push({ n: job.n, at: Date.now() });
    return Promise.resolve();
  },
};

let queue: Queue;
const running: RunningWorker[] = [];

beforeAll(() => {
  queue = new Queue(QUEUES.transactional, { connection: conn.connection, prefix: conn.prefix });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.close()));
  taken.length = 0;
  events.length = 0;
});
afterAll(async () => {
  await queue.close();
  await deleteKeys(`${prefix}:*`);
});

test('a job left waiting is taken once it has waited the standby time, and the worker stops when nothing waits', async () => {
  running.push(startStandbyWorker(def, { ...conn, log }, queue, AFTER_MS));
  const added = Date.now();
  await queue.add('one', { n: 1 });

  await eventually(() => taken.length === 1, 20000, 'the job, taken by the standby worker');
  expect(taken[0].at - added).toBeGreaterThanOrEqual(AFTER_MS);
  expect(events).toContain('worker.standby_started');
  await eventually(() => events.includes('worker.standby_stopped'), 10000, 'the standby worker stopped');

  // Stopped, it waits again before it takes the next job.
  const again = Date.now();
  await queue.add('two', { n: 2 });
  await eventually(() => taken.length === 2, 20000, 'the second job');
  expect(taken[1].at - again).toBeGreaterThanOrEqual(AFTER_MS);
}, 60000);

test('while another worker takes the jobs as they come, the standby never starts', async () => {
  running.push(startQueueWorker(def, { ...conn, log }));
  running.push(startStandbyWorker(def, { ...conn, log }, queue, AFTER_MS));
  for (let n = 0; n < 40; n++) {
    await queue.add('steady', { n });
    await new Promise((ok) => setTimeout(ok, 200));
  }
  await eventually(() => taken.length === 40, 5000, 'every job');
  expect(events).not.toContain('worker.standby_started');
}, 30000);
