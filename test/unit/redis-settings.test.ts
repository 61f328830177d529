import { ConfigError, parseEnv } from '../../src/config';
import { sentinelTarget } from '../../src/runtime/embedded-redis';

/** The message parseEnv refuses `env` with, or undefined when it takes it. */
function refusal(env: Record<string, string>): string | undefined {
  try {
    parseEnv(env);
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
}

const PRODUCTION = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://news.example',
  SMTP_URL: 'smtp://mail.example',
  ADMIN_TOKEN: 'a'.repeat(32),
  APP_SECRET: 'b'.repeat(40),
};

test('REDIS_SENTINELS takes host:port pairs, comma-separated, and names itself when one is not', () => {
  const env = parseEnv({
    REDIS_SENTINELS: '10.0.0.1:26379, sentinel-2.lan:26380,[::1]:26381',
    REDIS_SENTINEL_NAME: 'main',
  });
  expect(env.REDIS_SENTINELS).toEqual([
    { host: '10.0.0.1', port: 26379 },
    { host: 'sentinel-2.lan', port: 26380 },
    { host: '::1', port: 26381 },
  ]);
  expect(refusal({ REDIS_SENTINELS: '10.0.0.1', REDIS_SENTINEL_NAME: 'main' })).toMatch(
    /REDIS_SENTINELS.*each Sentinel must be host:port/,
  );
  expect(refusal({ REDIS_SENTINELS: '10.0.0.1:99999', REDIS_SENTINEL_NAME: 'main' })).toMatch(
    /REDIS_SENTINELS: a port must be between 1 and 65535/,
  );
  expect(parseEnv({ REDIS_SENTINELS: '' }).REDIS_SENTINELS).toBeUndefined();
});

test('REDIS_SENTINELS and REDIS_SENTINEL_NAME go together; in production they stand in for REDIS_URL', () => {
  expect(refusal({ REDIS_SENTINELS: '127.0.0.1:26379' })).toMatch(/REDIS_SENTINELS and REDIS_SENTINEL_NAME/);
  expect(refusal({ REDIS_SENTINEL_NAME: 'main' })).toMatch(/REDIS_SENTINELS and REDIS_SENTINEL_NAME/);
  expect(refusal(PRODUCTION)).toMatch(/needs these settings: REDIS_URL \(or REDIS_SENTINELS\)/);
  expect(refusal({ ...PRODUCTION, REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'main' })).toBeUndefined();
  expect(refusal({ ...PRODUCTION, REDIS_URL: 'redis://redis.lan:6379' })).toBeUndefined();
});

test("through Sentinels, REDIS_URL gives only the data nodes' credentials, database and TLS", () => {
  const { options } = sentinelTarget(
    { sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'main', password: 'sentinel-secret' },
    'rediss://app:s%40cret@ignored.example:6390/2',
  );
  expect(options).toMatchObject({
    sentinels: [{ host: '10.0.0.1', port: 26379 }],
    name: 'main',
    sentinelPassword: 'sentinel-secret',
    username: 'app',
    password: 's@cret',
    db: 2,
    tls: {},
    enableTLSForSentinelMode: true,
  });
  expect(options.host).toBeUndefined();
  expect(options.port).toBeUndefined();
});
