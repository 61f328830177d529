import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Clock } from '../../src/domain/ports/clock';
import { boot } from '../../src/runtime/boot';
import type { HttpGet } from '../../src/webhooks/webhook';
import { deleteKeys, TEST_REDIS } from './redis';
import { freePort } from './free-port';

export { deleteKeys, TEST_REDIS };

/** The secrets every test process shares, so a CLI or worker child verifies the links the test app signs. */
export const TEST_SECRETS = {
  ADMIN_TOKEN: 'test-admin-token-0123456789',
  APP_SECRET: 'test-app-secret-0123456789abcdef0123456789',
};

/** A clock a test can move. */
export class TestClock implements Clock {
  constructor(private t = Date.parse('2026-11-27T12:00:00Z')) {}
  now() {
    return new Date(this.t);
  }
  advance(ms: number) {
    this.t += ms;
  }
}

export interface TestAppOptions {
  env?: Record<string, string>;
  smtpUrl?: string;
  clock?: Clock;
  /** Start the workers in this process. Default true. */
  workers?: boolean;
  /** Key prefix, for a test that shares it with another process (e.g. the CLI). Default: a fresh random one. */
  prefix?: string;
  /** What the SES webhook fetches from Amazon SNS through (this machine has no network to Amazon). */
  httpGet?: HttpGet;
  /** The service's logger, for a test that reads the log. Default: silent (TEST_LOG_LEVEL to see it). */
  logger?: () => Logger;
}

/**
 * The real service wired by the real composition root, on a fresh key prefix, listening on a free port.
 * `stop()` closes it and deletes every key under its prefix.
 */
export async function startTestApp(opts: TestAppOptions = {}) {
  const prefix = opts.prefix ?? `t${randomBytes(5).toString('hex')}`;
  // The port is chosen first so links in mails can point at this server.
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'nl-test-'));
  const env = {
    NODE_ENV: 'test',
    REDIS_URL: `redis://${TEST_REDIS.host}:${TEST_REDIS.port}`,
    REDIS_PREFIX: prefix,
    DATA_DIR: dataDir,
    ...TEST_SECRETS,
    SITE_NAME: 'The Test Gazette',
    POSTAL_ADDRESS: '1 Test Street, Testville',
    MAIL_FROM: 'The Test Gazette <news@gazette.test>',
    TERMS_VERSION: '2026-01',
    TERMS_URL: 'https://gazette.test/terms',
    LOG_LEVEL: 'silent',
    PORT: String(port),
    PUBLIC_URL: base,
    ...(opts.smtpUrl ? { SMTP_URL: opts.smtpUrl } : {}),
    ...(opts.env ?? {}),
  };
  const service = await boot({
    role: 'test',
    env,
    clock: opts.clock,
    httpGet: opts.httpGet,
    logger: opts.logger ?? (() => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })),
  });
  const { container, config } = service;
  if (opts.workers !== false) container.startWorkers();
  await container.listen(port);

  return {
    container,
    prefix,
    base,
    dataDir,
    adminHeaders: { authorization: `Bearer ${config.adminToken}` },
    async stop() {
      await service.close();
      await deleteKeys(`${prefix}:*`);
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;

/** Polls until `check` returns a truthy value. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 15000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/**
 * Waits until no delivery batch job is active. After a pause or cancel, sends already handed to the SMTP pool still
 * land (slowly on a loaded machine); a batch job ends, or is put back on seeing the pause, only once its sends are
 * answered, so with none active nothing is in flight any more. (Watching for a quiet spell instead mistook a pool
 * stalled for a moment for the end.)
 */
export async function deliveriesSettled(app: TestApp, timeoutMs = 20000): Promise<void> {
  const { deliveries } = app.container.campaignQueues;
  await eventually(async () => (await deliveries.getActiveCount()) === 0, timeoutMs, 'no delivery job to be active');
}
