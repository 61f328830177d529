/**
 * The Redis campaign store records the outcomes asked for in one turn of the event loop with one script call per
 * campaign (CampaignStore, TurnBatch), and still answers each caller only once its own write is done, or fails it.
 */
import { Redis } from 'ioredis';
import { CampaignStore } from '../../src/store/campaign-store';
import { Keys } from '../../src/store/keys';
import { TestRedisServer } from '../support/redis-servers';

const keys = new Keys('lb');
let server: TestRedisServer;
let redis: Redis;
let store: CampaignStore;

// A Redis of its own: on the shared one MONITOR streams every suite's commands, and ioredis then races itself. A
// report that arrives in the same read as MONITOR's "OK" is handled before the connection counts as monitoring, so
// it is taken for the reply to no command ("Command queue state error", which failed a loaded full run).
beforeAll(async () => {
  server = await TestRedisServer.start();
  redis = new Redis({ port: server.port, host: '127.0.0.1', enableAutoPipelining: true });
  store = new CampaignStore({ redis, keys });
  // A new server has no script cached: the first call's EVALSHA falls back to EVAL. One call first, so the counts
  // below see only the calls they make.
  await store.record(await sendingCampaign(), 1, 'sent');
});
afterAll(async () => {
  await redis?.quit();
  await server?.destroy();
});

async function sendingCampaign(): Promise<number> {
  const { id } = await store.create({
    subject: 's',
    newsletter: 'news',
    articleIds: [1],
    now: new Date(0).toISOString(),
  });
  await store.transition(id, ['draft'], 'sending', { maxSubscriberId: 100, total: 100 });
  return id;
}

/** The commands clients send that name `key`, seen through MONITOR while `during` runs. */
async function commandsOn(key: string, during: () => Promise<unknown>): Promise<string[]> {
  const monitor = await redis.monitor();
  const seen: string[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // the commands a script runs are reported too, from "lua": only the calls clients made count here
    if (source !== 'lua' && args.includes(key)) seen.push(args[0].toLowerCase());
  });
  try {
    await during();
    // MONITOR reports a command after it ran; a round trip on the monitored server lets the last reports arrive
    await redis.ping();
    await new Promise((ok) => setTimeout(ok, 50));
  } finally {
    monitor.disconnect();
  }
  return seen;
}

test('twenty outcomes asked for in one turn are one script call, each answered for itself', async () => {
  const id = await sendingCampaign();
  let answers: boolean[] = [];
  const seen = await commandsOn(keys.campaignLedger(id), async () => {
    answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.record(id, (i % 10) + 1, i % 3 ? 'sent' : 'skipped')),
    );
  });
  expect(seen).toEqual(['evalsha']);
  // ids 1-10 first (i = 0..9), then each again (i = 10..19): only the first of each counts
  expect(answers).toEqual([...Array(10).fill(true), ...Array(10).fill(false)]);
  const c = await store.get(id);
  expect([c?.sent, c?.skipped]).toEqual([6, 4]);
});

test('outcomes asked for in different turns are each written at once, not held for later ones', async () => {
  const id = await sendingCampaign();
  const seen = await commandsOn(keys.campaignLedger(id), async () => {
    expect(await store.record(id, 1, 'sent')).toBe(true);
    expect(await store.record(id, 2, 'sent')).toBe(true);
  });
  expect(seen).toEqual(['evalsha', 'evalsha']);
});

test('when the batched write fails, every caller in it fails', async () => {
  const id = await sendingCampaign();
  // the counters' hash made a string: the script's HINCRBY fails after its bit writes
  await redis.del(keys.campaign(id));
  await redis.set(keys.campaign(id), 'not a hash');
  const answers = await Promise.allSettled([store.record(id, 1, 'sent'), store.record(id, 2, 'failed')]);
  expect(answers.map((a) => a.status)).toEqual(['rejected', 'rejected']);
});
