import { readFileSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { defaultFeedbackSender, defaultSmtpName, loadDotEnv, parseEnv, type AppConfig, type Env } from '../config';
import { buildContainer, type Container, type ContainerInput } from '../container';
import type { Clock } from '../domain/ports/clock';
import type { HttpGet } from '../webhooks/webhook';
import { defaultTermsText, termsOf } from '../domain/terms';
import { loadOrCreateDevSecrets } from './dev-secrets';
import { checkRedis } from './redis-checks';
import { redisAnswers, resolveRedis, RedisUnavailableError, type RedisTarget } from './embedded-redis';

/** Options of `boot`. */
export interface BootOptions {
  /** Shown in logs (`role`). */
  role: string;
  /** The settings. Default: `process.env`, after reading `./.env` into it when present. */
  env?: Record<string, string | undefined>;
  /** Builds the logger. Default: pino at LOG_LEVEL on stdout. */
  logger?: (config: AppConfig) => Logger;
  /**
   * Refuse to go on when the configured Redis does not answer, instead of retrying in the background.
   * Default false.
   */
  requireRedis?: boolean;
  /** Default: the system clock. */
  clock?: Clock;
  /** Collect Node's process metrics for /metrics. Default false (tests run many services in one process). */
  processMetrics?: boolean;
  /** How the SES webhook reaches Amazon SNS. Default: real HTTPS (tests pass their own; this machine has no AWS). */
  httpGet?: HttpGet;
  /** Replaces the mail transport the config names (see ContainerInput.transport); only the scale bench sets it. */
  transport?: ContainerInput['transport'];
}

/** A booted service: the container and what is needed to stop it. */
export interface Booted {
  config: AppConfig;
  container: Container;
  log: Logger;
  redis: RedisTarget;
  /** Development secrets are in use (no ADMIN_TOKEN/APP_SECRET set); `generated` when created by this start. */
  devSecrets?: { generated: boolean; file: string };
  /** What the start-up checks of Redis found worth a warning (see redis-checks.ts); empty until started. */
  warnings: string[];
  /** Closes the container, then stops a redis-server this process started. */
  close(): Promise<void>;
}

/** A service built but not started: `start()` waits for Redis, checks it and prepares the data. */
export interface Assembled extends Booted {
  /**
   * Waits for Redis (the connections retry in the background, logging the outage with backoff), runs the start-up
   * checks (RedisRefusedError when Redis cannot hold the data safely), then prepares the stored data.
   */
  start(): Promise<void>;
}

/**
 * The one boot sequence of the service, the CLI and the tests: settings → configuration → Redis → container.
 * Starts nothing that serves or works: the caller listens or starts workers as its role needs.
 */
export async function boot(opts: BootOptions): Promise<Booted> {
  const service = await assemble(opts);
  try {
    await service.start();
  } catch (err) {
    await service.close();
    throw err;
  }
  return service;
}

/**
 * The first half of `boot`: settings, configuration, where Redis is, the container; no Redis command yet. The
 * service uses it to serve /healthz (and 503s) while it waits for Redis.
 */
export async function assemble(opts: BootOptions): Promise<Assembled> {
  let env = opts.env;
  if (!env) {
    loadDotEnv();
    env = process.env;
  }
  const settings = parseEnv(env);
  const { config, devSecrets } = resolveConfig(settings);
  const log =
    opts.logger?.(config) ?? pino({ level: config.logLevel, base: { service: 'newsletter', role: opts.role } });
  const sentinel = settings.REDIS_SENTINELS
    ? {
        sentinels: settings.REDIS_SENTINELS,
        name: settings.REDIS_SENTINEL_NAME!,
        password: settings.REDIS_SENTINEL_PASSWORD,
      }
    : undefined;
  const redis = await resolveRedis(settings.REDIS_URL, config.dataDir, sentinel);
  // A configured Redis that is down would leave the queue connections retrying forever: say so instead.
  if (opts.requireRedis && !redis.child && !(await redisAnswers(redis.options))) {
    const setting = sentinel ? 'REDIS_SENTINELS, REDIS_SENTINEL_NAME' : 'REDIS_URL';
    throw new RedisUnavailableError(`Redis does not answer at ${redis.describe}; is it running? (${setting})`);
  }
  const container = buildContainer({
    config,
    redis: redis.options,
    redisDescribe: redis.describe,
    log,
    clock: opts.clock,
    processMetrics: opts.processMetrics,
    httpGet: opts.httpGet,
    transport: opts.transport,
  });
  const warnings: string[] = [];
  return {
    config,
    container,
    log,
    redis,
    devSecrets,
    warnings,
    async start() {
      await container.redisReady();
      const checked = await checkRedis(container.redis, {
        describe: redis.describe,
        production: config.env === 'production',
      });
      for (const w of checked.warnings) {
        warnings.push(w);
        log.warn({ event: 'redis.check_warning', redis: redis.describe }, w);
      }
      await container.prepare();
    },
    async close() {
      await container.close();
      redis.child?.kill('SIGTERM');
    },
  };
}

/**
 * Turns validated settings into the configuration the container takes: fills development secrets, reads key and
 * terms files, derives the terms hash.
 */
function resolveConfig(env: Env): { config: AppConfig; devSecrets?: { generated: boolean; file: string } } {
  let adminToken = env.ADMIN_TOKEN;
  let appSecret = env.APP_SECRET;
  let devSecrets: { generated: boolean; file: string } | undefined;
  if (!adminToken || !appSecret) {
    const { secrets, created, file } = loadOrCreateDevSecrets(env.DATA_DIR);
    adminToken ??= secrets.adminToken;
    appSecret ??= secrets.appSecret;
    devSecrets = { generated: created, file };
  }
  const termsText = env.TERMS_TEXT_FILE ? readFileSync(env.TERMS_TEXT_FILE, 'utf8') : defaultTermsText(env.SITE_NAME);
  const privateKey =
    env.DKIM_PRIVATE_KEY ?? (env.DKIM_PRIVATE_KEY_FILE ? readFileSync(env.DKIM_PRIVATE_KEY_FILE, 'utf8') : undefined);
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  const config: AppConfig = {
    env: env.NODE_ENV,
    port: env.PORT,
    publicUrl,
    siteName: env.SITE_NAME,
    siteUrl: (env.SITE_URL ?? publicUrl).replace(/\/+$/, ''),
    redisPrefix: env.REDIS_PREFIX,
    defaultNewsletter: env.DEFAULT_NEWSLETTER,
    mail: {
      smtpUrl: env.SMTP_URL,
      smtpName: env.SMTP_NAME ?? defaultSmtpName(publicUrl),
      feedbackIdSender: env.FEEDBACK_ID_SENDER ?? defaultFeedbackSender(env.SITE_NAME),
      from: env.MAIL_FROM,
      replyTo: env.MAIL_REPLY_TO,
      postalAddress: env.POSTAL_ADDRESS,
      dkim:
        env.DKIM_DOMAIN && env.DKIM_SELECTOR && privateKey
          ? {
              domainName: env.DKIM_DOMAIN,
              keySelector: env.DKIM_SELECTOR,
              privateKey: privateKey.replace(/\\n/g, '\n'),
            }
          : undefined,
      maxConnections: env.SMTP_MAX_CONNECTIONS,
      bounceDomain: env.BOUNCE_DOMAIN?.toLowerCase(),
    },
    adminToken,
    appSecret,
    appSecretPrevious: env.APP_SECRET_PREVIOUS ?? [],
    terms: { ...termsOf(env.TERMS_VERSION, termsText), url: env.TERMS_URL },
    delivery: {
      ratePerSecond: env.SEND_RATE_PER_SECOND,
      batchSize: env.DELIVERY_BATCH_SIZE,
      queueHighWater: env.DELIVERY_QUEUE_HIGH_WATER,
      concurrency: env.DELIVERY_CONCURRENCY,
      maxConsecutiveFailures: env.CAMPAIGN_MAX_CONSECUTIVE_FAILURES,
      lockSeconds: env.JOB_LOCK_SECONDS,
    },
    campaignHealth: {
      maxComplaintRate: env.CAMPAIGN_MAX_COMPLAINT_RATE,
      maxBounceRate: env.CAMPAIGN_MAX_BOUNCE_RATE,
      minMessages: env.CAMPAIGN_RATE_MIN_MESSAGES,
    },
    softBounceLimit: env.BOUNCE_SOFT_LIMIT,
    feed: { url: env.FEED_URL, cron: env.FEED_POLL_CRON },
    scheduleMaxLateMs: env.SCHEDULE_MAX_LATE_MINUTES * 60_000,
    webhooks: {
      maxAgeSeconds: env.WEBHOOK_MAX_AGE_SECONDS,
      generic: env.WEBHOOK_SECRET ? { secret: env.WEBHOOK_SECRET } : undefined,
      ses: env.SES_TOPIC_ARN ? { topicArns: env.SES_TOPIC_ARN } : undefined,
      postmark:
        env.POSTMARK_WEBHOOK_USER && env.POSTMARK_WEBHOOK_PASSWORD
          ? { user: env.POSTMARK_WEBHOOK_USER, password: env.POSTMARK_WEBHOOK_PASSWORD }
          : undefined,
      mailgun: env.MAILGUN_WEBHOOK_SIGNING_KEY ? { signingKey: env.MAILGUN_WEBHOOK_SIGNING_KEY } : undefined,
      sendgrid: env.SENDGRID_WEBHOOK_PUBLIC_KEY ? { publicKey: env.SENDGRID_WEBHOOK_PUBLIC_KEY } : undefined,
    },
    feedbackMailbox: env.FEEDBACK_IMAP_URL
      ? {
          ...env.FEEDBACK_IMAP_URL,
          pollSeconds: env.FEEDBACK_POLL_SECONDS,
          processedMailbox: env.FEEDBACK_PROCESSED_MAILBOX,
        }
      : undefined,
    workerProcesses: env.WORKER_PROCESSES,
    workerPort: env.WORKER_PORT,
    limits: {
      signupsPerIp: env.SIGNUP_RATE_PER_IP,
      confirmMailsPerAddressPerHour: env.CONFIRM_MAILS_PER_ADDRESS_PER_HOUR,
    },
    operators: {
      sessionIdleMs: env.SESSION_IDLE_MINUTES * 60_000,
      sessionMaxMs: env.SESSION_MAX_HOURS * 3_600_000,
      signInsPerIp: env.SIGN_IN_RATE_PER_IP,
      signInsPerAccount: env.SIGN_IN_RATE_PER_ACCOUNT,
      authFailuresPerIp: env.ADMIN_AUTH_FAILURES_PER_IP,
      scryptN: env.PASSWORD_SCRYPT_N,
      auditMaxEntries: env.AUDIT_MAX_ENTRIES,
    },
    trustProxy: env.TRUST_PROXY,
    dataDir: env.DATA_DIR,
    logLevel: env.LOG_LEVEL,
  };
  return { config, devSecrets };
}
