import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Every setting the service reads, with its default and a line saying what it is for.
 * `loadConfig` validates the environment once at start; nothing else reads `process.env`.
 */
const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const opt = <T extends z.ZodTypeAny>(t: T) => z.preprocess(emptyAsUndefined, t.optional());
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(min).max(max).default(def));

const schema = z.object({
  /** development | production | test. Production refuses to start without real secrets. */
  NODE_ENV: z.preprocess(emptyAsUndefined, z.enum(['development', 'production', 'test']).default('development')),
  /** HTTP port of the API. */
  PORT: int(3000, 0, 65535),
  /** Public base URL used in links (confirmation, unsubscribe). Default http://localhost:PORT. */
  PUBLIC_URL: opt(z.url({ protocol: /^https?$/ })),
  /**
   * redis:// or rediss:// URL.
   * Default: 127.0.0.1:6379 if it answers, else an embedded redis-server under ./var/redis.
   */
  REDIS_URL: opt(z.url({ protocol: /^rediss?$/ })),
  /** Prefix of every Redis key and queue this service owns. */
  REDIS_PREFIX: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,40}$/)
      .default('nl'),
  ),
  /** smtp:// or smtps:// URL with credentials. Default: write .eml files under ./var/outbox. */
  SMTP_URL: opt(z.url({ protocol: /^smtps?$/ })),
  /**
   * Host name given in the SMTP greeting (EHLO/HELO); best the name the sending IP's reverse DNS gives.
   * Default: the host of PUBLIC_URL.
   */
  SMTP_NAME: opt(
    z
      .string()
      .max(253)
      .regex(/^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i, 'must be a host name'),
  ),
  /**
   * The sender id that ends every Feedback-ID header (Gmail's feedback loop): 5 to 15 letters, digits, dots,
   * dashes or underscores, the same for all this service sends. Default: derived from SITE_NAME.
   */
  FEEDBACK_ID_SENDER: opt(
    z.string().regex(/^[A-Za-z0-9._-]{5,15}$/, 'must be 5 to 15 letters, digits, dots, dashes or underscores'),
  ),
  /** Name of the publication, shown on pages and in mails. */
  SITE_NAME: z.preprocess(emptyAsUndefined, z.string().max(100).default('Our Newsletter')),
  /** The news site itself, linked from the header of every mail. Default: PUBLIC_URL. */
  SITE_URL: opt(z.url({ protocol: /^https?$/ })),
  /** From header of every mail. */
  MAIL_FROM: z.preprocess(emptyAsUndefined, z.string().default('Newsletter <newsletter@localhost>')),
  /** Reply-To header; none when empty. */
  MAIL_REPLY_TO: opt(z.string()),
  /** Postal address printed in every newsletter footer. */
  POSTAL_ADDRESS: z.preprocess(
    emptyAsUndefined,
    z.string().default('Newsletter, 1 Example Street, 00000 Example City'),
  ),
  /** Bearer token of /api/admin. Generated into ./var in development. */
  ADMIN_TOKEN: opt(z.string().min(16, 'must be at least 16 characters')),
  /** Secret that signs confirmation and unsubscribe links. Generated into ./var in development. */
  APP_SECRET: opt(z.string().min(32, 'must be at least 32 characters')),
  /** Version of the terms a visitor agrees to; a signup for another version is refused. */
  TERMS_VERSION: z.preprocess(emptyAsUndefined, z.string().max(64).default('1')),
  /** Where the terms are published (linked from the form). */
  TERMS_URL: z.preprocess(emptyAsUndefined, z.string().default('/terms')),
  /**
   * Optional file with the full terms text; its SHA-256 is recorded with each consent.
   * Default: the form's consent sentence.
   */
  TERMS_TEXT_FILE: opt(z.string()),
  /** DKIM signing domain; DKIM is on when domain, selector and key are set. */
  DKIM_DOMAIN: opt(z.string()),
  DKIM_SELECTOR: opt(z.string()),
  /** PEM private key, or a path to it in DKIM_PRIVATE_KEY_FILE. */
  DKIM_PRIVATE_KEY: opt(z.string()),
  DKIM_PRIVATE_KEY_FILE: opt(z.string()),
  /** Messages per second across all workers together; 0 means no limit. */
  SEND_RATE_PER_SECOND: int(0),
  /** Pooled SMTP connections per worker process. */
  SMTP_MAX_CONNECTIONS: int(5, 1, 200),
  /** Recipients per delivery batch job. */
  DELIVERY_BATCH_SIZE: int(200, 1, 5000),
  /** Batch jobs the fan-out keeps queued before it waits; bounds Redis memory for any list size. */
  DELIVERY_QUEUE_HIGH_WATER: int(50, 1, 100000),
  /** Batch jobs processed at once per worker process. */
  DELIVERY_CONCURRENCY: int(4, 1, 64),
  /**
   * How long a worker's claim on a job lasts without renewal:
   * after a crash, another worker takes the job over after this.
   */
  JOB_LOCK_SECONDS: int(30, 2, 600),
  /**
   * Processes that run the workers in `npm start` and `npm run worker` (this one plus forks);
   * one per core is best for delivery.
   */
  WORKER_PROCESSES: int(1, 1, 64),
  /** Consecutive failed sends after which a campaign pauses itself. */
  CAMPAIGN_MAX_CONSECUTIVE_FAILURES: int(50, 1),
  /** RSS or Atom feed of the site; polled when set. */
  FEED_URL: opt(z.url({ protocol: /^https?$/ })),
  /** Cron pattern of the feed poll (UTC). */
  FEED_POLL_CRON: z.preprocess(emptyAsUndefined, z.string().default('*/15 * * * *')),
  /** Signups accepted per client IP per 10 minutes. */
  SIGNUP_RATE_PER_IP: int(20, 1),
  /** Confirmation mails per address per hour. */
  CONFIRM_MAILS_PER_ADDRESS_PER_HOUR: int(3, 1),
  /** Express "trust proxy" setting: the number of proxies in front (0 = none). */
  TRUST_PROXY: int(0, 0, 10),
  /** Where embedded data lives: Redis files, the outbox, generated secrets. */
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('var')),
  /** pino log level. */
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

export type Env = z.infer<typeof schema>;

/** The EHLO name from PUBLIC_URL's host; an IP address becomes the address literal RFC 5321 asks for. */
export function defaultSmtpName(publicUrl: string): string {
  const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 4) return `[${host}]`;
  if (isIP(host) === 6) return `[IPv6:${host}]`;
  return host;
}

/**
 * A Feedback-ID sender id from the site's name: its letters and digits, 5 to 15 of them as Gmail asks
 * ("The Daily Planet" → "thedailyplanet"; a short name is padded: "BBC" → "bbcnewsletter").
 */
export function defaultFeedbackSender(siteName: string): string {
  const slug = siteName
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '')
    .slice(0, 15);
  return slug.length >= 5 ? slug : `${slug}newsletter`.slice(0, 15);
}

/** Settings a production deployment must set: the embedded defaults are for a laptop. */
const REQUIRED_IN_PRODUCTION = ['PUBLIC_URL', 'REDIS_URL', 'SMTP_URL', 'ADMIN_TOKEN', 'APP_SECRET'] as const;

export class ConfigError extends Error {
  readonly code = 'invalid_config';
}

export function parseEnv(env: Record<string, string | undefined>): Env {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = result.data;
  if (cfg.NODE_ENV === 'production') {
    const missing = REQUIRED_IN_PRODUCTION.filter((k) => !cfg[k]);
    if (missing.length) throw new ConfigError(`NODE_ENV=production needs these settings: ${missing.join(', ')}`);
  }
  const dkim = [cfg.DKIM_DOMAIN, cfg.DKIM_SELECTOR, cfg.DKIM_PRIVATE_KEY ?? cfg.DKIM_PRIVATE_KEY_FILE];
  if (dkim.some(Boolean) && !dkim.every(Boolean)) {
    throw new ConfigError(
      'DKIM needs all of DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE)',
    );
  }
  return cfg;
}

/** The resolved configuration the composition root hands to each part. */
export interface AppConfig {
  env: Env['NODE_ENV'];
  port: number;
  publicUrl: string;
  siteName: string;
  /** The news site; PUBLIC_URL unless SITE_URL says otherwise. */
  siteUrl: string;
  redisPrefix: string;
  mail: {
    /** smtp:// or smtps://; none means the outbox folder. */
    smtpUrl?: string;
    /** EHLO/HELO host name. */
    smtpName: string;
    /** Last field of the Feedback-ID header. */
    feedbackIdSender: string;
    from: string;
    replyTo?: string;
    postalAddress: string;
    dkim?: { domainName: string; keySelector: string; privateKey: string };
    maxConnections: number;
  };
  adminToken: string;
  appSecret: string;
  /** `text` is what a visitor agrees to, served at /terms; `textHash` is kept with every consent. */
  terms: { version: string; url: string; text: string; textHash: string };
  delivery: {
    ratePerSecond: number;
    batchSize: number;
    queueHighWater: number;
    concurrency: number;
    maxConsecutiveFailures: number;
    lockSeconds: number;
  };
  feed: { url?: string; cron: string };
  /** Processes that run the workers in one `npm start` or `npm run worker`. */
  workerProcesses: number;
  limits: { signupsPerIp: number; confirmMailsPerAddressPerHour: number };
  trustProxy: number;
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
}

/** Reads `./.env` into the environment when present; variables already set win (process.loadEnvFile keeps them). */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
