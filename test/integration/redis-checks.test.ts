import { Redis } from 'ioredis';
import { checkRedis, versionBelow } from '../../src/runtime/redis-checks';
import { freePort } from '../support/free-port';
import { TestRedisServer } from '../support/redis-servers';
import { startService, type ServiceProcess } from '../support/service-process';

// Real processes on a shared, loaded machine: each start of the service takes seconds.
jest.setTimeout(180_000);

const servers: TestRedisServer[] = [];
let service: ServiceProcess | undefined;
afterEach(async () => {
  if (service && service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
  service = undefined;
  for (const s of servers.splice(0)) await s.destroy();
});

async function ownRedis(args: string[]): Promise<TestRedisServer> {
  const r = await TestRedisServer.create(args);
  servers.push(r);
  await r.start();
  return r;
}

test('maxmemory-policy allkeys-lru: the service refuses to start, with one line giving the command that fixes it', async () => {
  const redis = await ownRedis(['--maxmemory-policy', 'allkeys-lru']);
  service = startService({ role: 'all', env: { REDIS_URL: redis.url, PORT: String(await freePort()) } });
  const { code } = await service.exited;
  expect(code).toBe(1);
  const out = service.output();
  expect(out).not.toMatch(/started/);
  const line = out.split('\n').find((l) => /maxmemory-policy allkeys-lru/.test(l));
  expect(line).toContain(`redis-cli -p ${redis.port} CONFIG SET maxmemory-policy noeviction`);
  expect(line).toContain('"maxmemory-policy noeviction" in redis.conf');
  expect(out).not.toMatch(/\n\s+at /);
});

test('CONFIG refused (as managed Redis does): the policy is read from INFO memory, and still refused', async () => {
  const redis = await ownRedis(['--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', '']);
  const client = new Redis(redis.port);
  try {
    await expect(client.config('GET', 'maxmemory-policy')).rejects.toThrow();
    await expect(checkRedis(client, { describe: redis.url, production: true })).rejects.toThrow(
      /maxmemory-policy volatile-lru.*CONFIG SET maxmemory-policy noeviction/,
    );
  } finally {
    client.disconnect();
  }
});

test('persistence off under NODE_ENV=production: the service starts with a loud warning; with the append-only file, none', async () => {
  const off = await ownRedis(['--appendonly', 'no']);
  const port = await freePort();
  service = startService({
    role: 'api',
    env: {
      NODE_ENV: 'production',
      REDIS_URL: off.url,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
    },
  });
  const out = await service.waitFor(/newsletter api started[\s\S]*\n\s*$/, 120000);
  expect(out).toMatch(/WARNING: PERSISTENCE IS OFF on redis:\/\/127\.0\.0\.1:\d+\/?: no append-only file/);
  expect(out).toMatch(/CONFIG SET appendonly yes/);
  service.child.kill('SIGTERM');
  await service.exited;

  const client = new Redis(off.port);
  try {
    // Not production: a development Redis needs no nagging.
    expect((await checkRedis(client, { describe: off.url, production: false })).warnings).toEqual([]);
    await client.config('SET', 'appendonly', 'yes');
    const checked = await checkRedis(client, { describe: off.url, production: true });
    expect(checked.warnings).toEqual([]);
    expect(versionBelow(checked.version, '5.0.0')).toBe(false);
  } finally {
    client.disconnect();
  }
});

test('versions compare by number: BullMQ 6 needs 5.0.0, recommends 6.2.0', () => {
  expect(versionBelow('4.0.14', '5.0.0')).toBe(true);
  expect(versionBelow('5.0.0', '5.0.0')).toBe(false);
  expect(versionBelow('6.0.16', '6.2.0')).toBe(true);
  expect(versionBelow('6.10.0', '6.2.0')).toBe(false);
  expect(versionBelow('7.0.15', '6.2.0')).toBe(false);
});
