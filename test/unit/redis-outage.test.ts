import pino from 'pino';
import { isRedisConnectionError, RedisOutage, redisRetryDelay } from '../../src/lib/redis-outage';

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
}

function outage() {
  const lines: string[] = [];
  let t = 0;
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l).msg as string) });
  const o = new RedisOutage({ log, describe: 'redis://db:6379', now: () => t });
  return { o, lines, advance: (ms: number) => (t += ms) };
}

test('an outage is one line, then one line per backoff step (1, 2, 4 … 30 s), then one when Redis is back', () => {
  const { o, lines, advance } = outage();
  // Ten connections failing every 100 ms for two minutes.
  for (let i = 0; i < 1200; i++) {
    for (let c = 0; c < 10; c++) expect(o.failed(refused())).toBe(true);
    advance(100);
  }
  expect(lines[0]).toBe(
    'Redis unreachable at redis://db:6379 (ECONNREFUSED); retrying with backoff (these lines back off to one every 30 s) until it answers',
  );
  // 1+2+4+8+16+30+30+30 s ≈ 2 min: the first line and 7 or 8 more, instead of 12,000.
  expect(lines.length).toBeGreaterThanOrEqual(7);
  expect(lines.length).toBeLessThanOrEqual(10);
  expect(lines.slice(1).every((l) => /^Redis still unreachable at redis:\/\/db:6379 after \d+ s/.test(l))).toBe(true);
  o.recovered();
  expect(lines.at(-1)).toBe('Redis answers again at redis://db:6379 (was away 120 s)');
  o.recovered();
  expect(lines.at(-1)).toMatch(/answers again/);
});

test('errors Redis answered are not an outage: the caller logs them', () => {
  const { o, lines } = outage();
  expect(o.failed(new Error('ERR unknown command'))).toBe(false);
  expect(o.failed(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
  expect(isRedisConnectionError(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }))).toBe(true);
  expect(isRedisConnectionError(new Error('All sentinels are unreachable. Retrying from scratch after 10ms.'))).toBe(
    true,
  );
  expect(isRedisConnectionError('ECONNREFUSED')).toBe(false);
  expect(lines).toHaveLength(1);
});

test('connections retry from 100 ms, doubling to every 2 s', () => {
  expect([1, 2, 3, 4, 5, 6, 50].map(redisRetryDelay)).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
});
