import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { CronExpressionParser } from 'cron-parser';
import { toASCII } from 'tr46';
import { z } from 'zod';
import { parsePublicKey } from './lib/public-key';

/**
 * Every setting the service reads, with its default and a line saying what it is for.
 * `loadConfig` validates the environment once at start; nothing else reads `process.env`.
 */
const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const opt = <T extends z.ZodTypeAny>(t: T) => z.preprocess(emptyAsUndefined, t.optional());
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(min).max(max).default(def));
/**
 * A number of processes from 1 to 64, or `auto` (the default): as many as the cores this process may use
 * (os.availableParallelism(), which heeds CPU affinity), at most 64.
 */
const processCount = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .default('auto')
    .transform((v, ctx) => {
      const text = v.trim();
      if (text.toLowerCase() === 'auto') return Math.min(64, availableParallelism());
      const n = Number(text);
      if (/^[0-9]+$/.test(text) && n >= 1 && n <= 64) return n;
      ctx.addIssue({ code: 'custom', message: 'must be auto (one per core) or a whole number from 1 to 64' });
      return z.NEVER;
    }),
);
/** A share between 0 and 1, written as a decimal (0.003 is 0.3 %). */
const rate = (def: number) => z.preprocess(emptyAsUndefined, z.coerce.number().min(0).max(1).default(def));

/**
 * A URL setting with one of `schemes`; a wrong one is refused naming the schemes it may have and an example (zod's
 * own message says only "Invalid URL", which leaves the operator guessing). `check` adds what a scheme needs more.
 */
const urlSetting = (schemes: string[], example: string, check?: (u: URL) => string | undefined) => {
  const allowed = schemes.map((s) => `${s}://`).join(' or ');
  return z.string().superRefine((v, ctx) => {
    const fail = (why: string) => ctx.addIssue({ code: 'custom', message: `${why}, like ${example}` });
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      return fail(`must be a URL starting with ${allowed}`);
    }
    if (!schemes.includes(url.protocol.slice(0, -1))) return fail(`must start with ${allowed} (got ${url.protocol})`);
    if (!url.hostname) return fail('must name a host');
    const problem = check?.(url);
    if (problem) fail(problem);
  });
};
const httpUrl = (example: string) => opt(urlSetting(['http', 'https'], example));

/** A cron pattern as BullMQ's job scheduler reads it (with cron-parser), checked at start rather than at first use. */
const cronSetting = (def: string) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .superRefine((v, ctx) => {
        try {
          CronExpressionParser.parse(v, { tz: 'UTC' });
        } catch (e) {
          ctx.addIssue({
            code: 'custom',
            message: `must be a cron pattern such as "*/15 * * * *" (every 15 minutes): ${(e as Error).message}`,
          });
        }
      })
      .default(def),
  );

/**
 * One mail address, bare or as `Name <address>`: a dot-atom local part and a host name (mapped per UTS #46; a
 * single label such as localhost is allowed here, for development), never an IP address. Kept as written.
 */
const addressSetting = z.string().refine((v) => {
  const m = /^\s*(?:[^<>]*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(v);
  const address = m?.[1] ?? m?.[2] ?? '';
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  if (at < 1 || !/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local)) return false;
  // The options of UTS46 in domain/email-address.ts, repeated: the configuration imports nothing but src/lib.
  const domain = toASCII(address.slice(at + 1), {
    checkBidi: true,
    checkHyphens: true,
    checkJoiners: true,
    useSTD3ASCIIRules: true,
    transitionalProcessing: false,
    verifyDNSLength: true,
  });
  return !!domain && !/(^|\.)[0-9]+$/.test(domain);
}, 'must be one mail address, like news@example.com or "Example News <news@example.com>"');

const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

const schema = z.object({
  /** development | production | test. Production refuses to start without real secrets. */
  NODE_ENV: z.preprocess(emptyAsUndefined, z.enum(['development', 'production', 'test']).default('development')),
  /** HTTP port of the API. */
  PORT: int(3000, 0, 65535),
  /**
   * HTTP port of the worker role (`npm run worker`): /healthz, /readyz and /metrics only. 0 = none. In `all` mode
   * PORT serves these already.
   */
  WORKER_PORT: int(3001, 0, 65535),
  /** Public base URL used in links (confirmation, unsubscribe). Default http://localhost:PORT. */
  PUBLIC_URL: httpUrl('https://news.example.com'),
  /**
   * redis:// or rediss:// URL.
   * Default: 127.0.0.1:6379 if it answers, else an embedded redis-server under ./var/redis.
   */
  REDIS_URL: opt(
    urlSetting(['redis', 'rediss'], 'redis://:password@redis.example.com:6379/0', (u) =>
      /^\/?(\d{1,2})?$/.test(u.pathname) ? undefined : 'may end in a database number (/0 to /99) and nothing else',
    ),
  ),
  /**
   * Redis Sentinels to ask for the current primary, as `host:port,host:port`. With them the service follows a
   * failover; REDIS_URL then only gives the data nodes' user, password, database and TLS (its host is not used).
   */
  REDIS_SENTINELS: opt(
    z
      .string()
      .transform((s) => s.split(',').map((a) => a.trim()))
      .pipe(
        z
          .array(
            z
              .string()
              .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'each Sentinel must be host:port')
              .transform(sentinelAddress),
          )
          .min(1),
      ),
  ),
  /** The master name the Sentinels monitor (`sentinel monitor <name> ...`); needed with REDIS_SENTINELS. */
  REDIS_SENTINEL_NAME: opt(z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/)),
  /** Password of the Sentinels themselves (`requirepass` in sentinel.conf), when they ask for one. */
  REDIS_SENTINEL_PASSWORD: opt(z.string()),
  /** Prefix of every Redis key and queue this service owns. */
  REDIS_PREFIX: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,40}$/)
      .default('nl'),
  ),
  /** smtp:// or smtps:// URL with credentials. Default: write .eml files under ./var/outbox. */
  SMTP_URL: opt(urlSetting(['smtp', 'smtps'], 'smtps://user:password@smtp.example.com:465')),
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
  SITE_URL: httpUrl('https://www.example.com'),
  /** From header of every mail. */
  MAIL_FROM: z.preprocess(emptyAsUndefined, addressSetting.default('Newsletter <newsletter@localhost>')),
  /** Reply-To header; none when empty. */
  MAIL_REPLY_TO: opt(addressSetting),
  /**
   * Domain whose mail comes back to this service: with it set, each message's envelope sender is
   * `bounces+<signed token>@BOUNCE_DOMAIN` (VERP), so a bounce names its recipient and campaign. Point its MX at
   * the feedback mailbox. Default: bounces go to the From address.
   */
  BOUNCE_DOMAIN: opt(z.string().regex(DOMAIN_NAME, 'must be a domain name like bounces.example.com')),
  /** Postal address printed in every newsletter footer. */
  POSTAL_ADDRESS: z.preprocess(
    emptyAsUndefined,
    z.string().default('Newsletter, 1 Example Street, 00000 Example City'),
  ),
  /** Bearer token of /api/admin. Generated into ./var in development. */
  ADMIN_TOKEN: opt(z.string().min(16, 'must be at least 16 characters')),
  /** Secret that signs confirmation and unsubscribe links. Generated into ./var in development. */
  APP_SECRET: opt(z.string().min(32, 'must be at least 32 characters')),
  /**
   * Secrets APP_SECRET had before a rotation, comma-separated, newest first: links they signed still work, nothing
   * new is signed with them. Drop one once the links it signed may go dead (see the README's key rotation).
   */
  APP_SECRET_PREVIOUS: opt(
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().min(32, 'each secret must be at least 32 characters'))),
  ),
  /** Version of the terms a visitor agrees to; a signup for another version is refused. */
  TERMS_VERSION: z.preprocess(emptyAsUndefined, z.string().max(64).default('1')),
  /** Where the terms are published (linked from the form): a path on this site, or an http(s) URL. */
  TERMS_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine(
        // A path here, or a page elsewhere; never javascript: or data:, as the form links to it.
        (v) => (/^\/(?![/\\])/.test(v) ? !/\s/.test(v) : urlSetting(['http', 'https'], '').safeParse(v).success),
        'must be a path on this site such as /terms, or an http:// or https:// URL',
      )
      .default('/terms'),
  ),
  /**
   * Optional file with the full terms text; its SHA-256 is recorded with each consent.
   * Default: the form's consent sentence.
   */
  TERMS_TEXT_FILE: opt(z.string()),
  /** DKIM signing domain; DKIM is on when domain, selector and key are set. */
  DKIM_DOMAIN: opt(z.string().regex(DOMAIN_NAME, 'must be a domain name like example.com')),
  DKIM_SELECTOR: opt(
    z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i,
        'must be a DNS label like news2026',
      ),
  ),
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
   * How long a worker's claim on a job lasts without renewal (renewed every half of it):
   * after a crash, a worker takes the job over within this plus 5 s.
   */
  JOB_LOCK_SECONDS: int(10, 2, 600),
  /**
   * Processes that run the workers in `npm start` and `npm run worker` (this one plus forks): `auto` (one per core
   * this process may use, os.availableParallelism()) or a number. Delivery is CPU-bound, so one per core sends fastest.
   */
  WORKER_PROCESSES: processCount,
  /** Consecutive failed sends after which a campaign pauses itself. */
  CAMPAIGN_MAX_CONSECUTIVE_FAILURES: int(50, 1),
  /**
   * Complaints per delivered message above which a sending campaign pauses itself (0.003 = 0.3 %, about the most
   * mailbox providers tolerate).
   */
  CAMPAIGN_MAX_COMPLAINT_RATE: rate(0.003),
  /** Hard bounces per message handed off (sent + refused) above which a sending campaign pauses itself. */
  CAMPAIGN_MAX_BOUNCE_RATE: rate(0.05),
  /** Messages handed off (since the last resume) before the complaint and bounce rates are judged. */
  CAMPAIGN_RATE_MIN_MESSAGES: int(1000, 1),
  /** Soft bounces within 30 days after which a person is marked bounced and the address suppressed. */
  BOUNCE_SOFT_LIMIT: int(3, 1),
  /**
   * Slug of the newsletter everyone is in until they choose, and campaigns naming none belong to; created at start
   * when missing. Lowercase letters, digits and hyphens, 1-40. Changing it later starts a new, empty default.
   */
  DEFAULT_NEWSLETTER: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/, 'must be 1-40 lowercase letters, digits or hyphens')
      .default('news'),
  ),
  /**
   * How late a digest's slot may still go out, in minutes, when no worker ran at its time; later, it is recorded as
   * missed. A slot whose next slot has come is missed anyway (only the latest goes out).
   */
  SCHEDULE_MAX_LATE_MINUTES: int(120, 1, 7 * 24 * 60),
  /** RSS or Atom feed of the site; polled when set. */
  FEED_URL: httpUrl('https://www.example.com/feed.xml'),
  /** Cron pattern of the feed poll (UTC). */
  FEED_POLL_CRON: cronSetting('*/15 * * * *'),
  /**
   * The generic webhook (POST /api/webhooks/generic): HMAC-SHA256 key of its `X-Webhook-Signature` header.
   * Unset: that webhook answers 404.
   */
  WEBHOOK_SECRET: opt(z.string().min(32, 'must be at least 32 characters')),
  /**
   * Oldest signature, in seconds, that the Mailgun and generic webhooks accept; older is refused as a replay. Mailgun
   * resends a delivery that failed here with its first signature (after 5, 10, 15 minutes, then up to 8 hours):
   * raise this to take such retries (a Mailgun signature still works for one event only).
   */
  WEBHOOK_MAX_AGE_SECONDS: int(300, 60, 86400),
  /**
   * Amazon SES through SNS (POST /api/webhooks/ses): the ARNs of the SNS topics SES publishes bounces and
   * complaints to, comma-separated. Messages from other topics are refused; subscriptions from these are confirmed.
   * Unset: that webhook answers 404.
   */
  SES_TOPIC_ARN: opt(
    z
      .string()
      .transform((s) => s.split(/[\s,]+/).filter(Boolean))
      .pipe(
        z
          .array(
            z
              .string()
              .regex(
                /^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
                'must be SNS topic ARNs like arn:aws:sns:eu-west-1:123456789012:ses-feedback',
              ),
          )
          .min(1, 'must name at least one topic'),
      ),
  ),
  /**
   * Postmark (POST /api/webhooks/postmark): the basic-auth user and password written into the webhook URL at
   * Postmark (Postmark does not sign webhooks). Set both, or neither: then that webhook answers 404.
   */
  POSTMARK_WEBHOOK_USER: opt(
    z
      .string()
      .max(100)
      .regex(/^[^:\s]+$/, 'must not contain a colon or spaces'),
  ),
  POSTMARK_WEBHOOK_PASSWORD: opt(z.string().min(16, 'must be at least 16 characters').max(200)),
  /** Mailgun (POST /api/webhooks/mailgun): the account's HTTP webhook signing key. Unset: that webhook answers 404. */
  MAILGUN_WEBHOOK_SIGNING_KEY: opt(z.string().min(16, 'must be at least 16 characters')),
  /**
   * SendGrid (POST /api/webhooks/sendgrid): the verification key of the Signed Event Webhook, as SendGrid shows it
   * (base64) or as PEM. Unset: that webhook answers 404.
   */
  SENDGRID_WEBHOOK_PUBLIC_KEY: opt(
    z
      .string()
      .refine(isEcPublicKey, 'must be the Signed Event Webhook verification key (an EC public key, base64 or PEM)'),
  ),
  /**
   * The feedback mailbox: imap:// or imaps:// URL with user and password and an optional mailbox path (default
   * INBOX), e.g. imaps://bounces%40example.com:secret@mail.example.com/INBOX. Bounce notices, abuse reports and mailed
   * unsubscribes in it are read every FEEDBACK_POLL_SECONDS. Default: not read.
   */
  FEEDBACK_IMAP_URL: opt(z.string().transform(imapMailbox)),
  /** Seconds between two reads of the feedback mailbox. */
  FEEDBACK_POLL_SECONDS: int(60, 5, 86400),
  /**
   * Folder that processed feedback mail is moved to (created when missing). Default: processed mail stays where it
   * is, flagged \Seen and $NewsletterProcessed.
   */
  FEEDBACK_PROCESSED_MAILBOX: opt(z.string().trim().min(1).max(200)),
  /** Signups accepted per client IP per 10 minutes. */
  SIGNUP_RATE_PER_IP: int(20, 1),
  /** Confirmation mails per address per hour. */
  CONFIRM_MAILS_PER_ADDRESS_PER_HOUR: int(3, 1),
  /** A console session ends after this many minutes without a request. */
  SESSION_IDLE_MINUTES: int(480, 1, 10080),
  /** … and this many hours after sign-in whatever happens. */
  SESSION_MAX_HOURS: int(168, 1, 8760),
  /** Sign-in attempts per client IP per 15 minutes. */
  SIGN_IN_RATE_PER_IP: int(20, 1),
  /** Sign-in attempts per login per 15 minutes (a success forgets that login's count). */
  SIGN_IN_RATE_PER_ACCOUNT: int(10, 1),
  /**
   * Refused bearer tokens at /api/admin per client IP per 15 minutes; past it that IP gets 429 on every bearer
   * request, the right token included, until the 15 minutes from its first refusal are over.
   */
  ADMIN_AUTH_FAILURES_PER_IP: int(20, 1),
  /**
   * scrypt's cost N (a power of two) for new operator password hashes; each hash records its own, so raising it
   * later is safe (older hashes are upgraded at the next sign-in).
   */
  PASSWORD_SCRYPT_N: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int()
      .min(1024)
      .max(2 ** 20)
      .refine((n) => Number.isInteger(Math.log2(n)), 'must be a power of two')
      .default(2 ** 15),
  ),
  /** Entries the audit log keeps, about; the oldest go first. */
  AUDIT_MAX_ENTRIES: int(100_000, 1000),
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

/** Where the feedback mailbox is and how to log in: FEEDBACK_IMAP_URL taken apart. */
export interface ImapMailboxSettings {
  host: string;
  port: number;
  /** TLS from the start (imaps://); imap:// upgrades with STARTTLS when the server offers it. */
  secure: boolean;
  user: string;
  password: string;
  /** The mailbox (folder) to read. */
  mailbox: string;
}

const IMAP_URL_EXAMPLE = 'imaps://bounces%40example.com:secret@mail.example.com/INBOX';

/** FEEDBACK_IMAP_URL → its parts; a bad URL becomes a validation issue that says what a good one looks like. */
function imapMailbox(value: string, ctx: z.RefinementCtx): ImapMailboxSettings {
  const fail = (why: string) => {
    ctx.addIssue({ code: 'custom', message: `${why}, like ${IMAP_URL_EXAMPLE}` });
    return z.NEVER;
  };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('must be an imap:// or imaps:// URL');
  }
  if (url.protocol !== 'imap:' && url.protocol !== 'imaps:') return fail('must start with imap:// or imaps://');
  if (!url.hostname) return fail('must name the IMAP server');
  // The URL parser takes the last @ as the end of the credentials, so an address as user name works as typed; a / ? or
  // # in the password ends the authority early and has to be %-escaped.
  if (!url.username || !url.password)
    return fail('must carry the user and password (%-escape / ? # in them, e.g. / as %2F)');
  let user: string;
  let password: string;
  let mailbox: string;
  try {
    user = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
    mailbox = decodeURIComponent(url.pathname.replace(/^\/+/, '')).replace(/\/+$/, '');
  } catch {
    return fail('has a bad %-escape');
  }
  if (url.search || url.hash) return fail('takes no ?query or #fragment');
  const secure = url.protocol === 'imaps:';
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 993 : 143,
    secure,
    user,
    password,
    mailbox: mailbox || 'INBOX',
  };
}

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
const REQUIRED_IN_PRODUCTION = ['PUBLIC_URL', 'SMTP_URL', 'ADMIN_TOKEN', 'APP_SECRET'] as const;

/** `host:port` or `[v6]:port` from REDIS_SENTINELS. */
function sentinelAddress(a: string): { host: string; port: number } {
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(a.slice(i + 1)) };
}

export class ConfigError extends Error {
  readonly code = 'invalid_config';
}

export function parseEnv(env: Record<string, string | undefined>): Env {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    // One bad setting, one line (what a process manager's log shows first); several, one line each.
    throw new ConfigError(
      lines.length === 1
        ? `Invalid configuration: ${lines[0]}`
        : `Invalid configuration:\n${lines.map((l) => `  ${l}`).join('\n')}`,
    );
  }
  const cfg = result.data;
  if (cfg.NODE_ENV === 'production') {
    const missing: string[] = REQUIRED_IN_PRODUCTION.filter((k) => !cfg[k]);
    // An embedded Redis is for a laptop: production names its Redis, directly or through Sentinels.
    if (!cfg.REDIS_URL && !cfg.REDIS_SENTINELS) missing.push('REDIS_URL (or REDIS_SENTINELS)');
    if (missing.length) throw new ConfigError(`NODE_ENV=production needs these settings: ${missing.join(', ')}`);
  }
  if (Boolean(cfg.REDIS_SENTINELS) !== Boolean(cfg.REDIS_SENTINEL_NAME)) {
    throw new ConfigError('Redis Sentinel needs both REDIS_SENTINELS and REDIS_SENTINEL_NAME');
  }
  if (cfg.REDIS_SENTINELS?.some((s) => s.port < 1 || s.port > 65535)) {
    throw new ConfigError('REDIS_SENTINELS: a port must be between 1 and 65535');
  }
  const dkim = [cfg.DKIM_DOMAIN, cfg.DKIM_SELECTOR, cfg.DKIM_PRIVATE_KEY ?? cfg.DKIM_PRIVATE_KEY_FILE];
  if (dkim.some(Boolean) && !dkim.every(Boolean)) {
    throw new ConfigError(
      'DKIM needs all of DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE)',
    );
  }
  if (Boolean(cfg.POSTMARK_WEBHOOK_USER) !== Boolean(cfg.POSTMARK_WEBHOOK_PASSWORD)) {
    throw new ConfigError('The Postmark webhook needs both POSTMARK_WEBHOOK_USER and POSTMARK_WEBHOOK_PASSWORD');
  }
  // Moving processed mail into the mailbox it came from would hand it over again on every read. (INBOX is the one
  // mailbox name IMAP compares without case.)
  const read = cfg.FEEDBACK_IMAP_URL?.mailbox;
  const moveTo = cfg.FEEDBACK_PROCESSED_MAILBOX;
  if (read && moveTo && (read === moveTo || (read.toUpperCase() === 'INBOX' && moveTo.toUpperCase() === 'INBOX'))) {
    throw new ConfigError(`FEEDBACK_PROCESSED_MAILBOX must differ from the mailbox FEEDBACK_IMAP_URL reads (${read})`);
  }
  return cfg;
}

function isEcPublicKey(text: string): boolean {
  try {
    return parsePublicKey(text).asymmetricKeyType === 'ec';
  } catch {
    return false;
  }
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
  /** Slug of the default newsletter (DEFAULT_NEWSLETTER). */
  defaultNewsletter: string;
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
    /** VERP envelope senders under this domain when set. */
    bounceDomain?: string;
  };
  adminToken: string;
  appSecret: string;
  /** Retired APP_SECRETs that still verify links (APP_SECRET_PREVIOUS), newest first. */
  appSecretPrevious: string[];
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
  /** When a sending campaign pauses itself for its complaint or hard-bounce rate. */
  campaignHealth: { maxComplaintRate: number; maxBounceRate: number; minMessages: number };
  /** Soft bounces in 30 days that suppress an address. */
  softBounceLimit: number;
  feed: { url?: string; cron: string };
  /** How late a digest slot may still be sent (SCHEDULE_MAX_LATE_MINUTES), in ms. */
  scheduleMaxLateMs: number;
  /** Inbound bounce, complaint and unsubscribe webhooks; a provider without its secret has no endpoint. */
  webhooks: {
    /** Oldest signature accepted from Mailgun and the generic webhook, in seconds. */
    maxAgeSeconds: number;
    generic?: { secret: string };
    ses?: { topicArns: string[] };
    postmark?: { user: string; password: string };
    mailgun?: { signingKey: string };
    /** The verification key, base64 DER or PEM. */
    sendgrid?: { publicKey: string };
  };
  /** The feedback mailbox, when FEEDBACK_IMAP_URL is set. */
  feedbackMailbox?: ImapMailboxSettings & {
    pollSeconds: number;
    /** Move processed mail here; without it, flag it where it is. */
    processedMailbox?: string;
  };
  /** Processes that run the workers in one `npm start` or `npm run worker`. */
  workerProcesses: number;
  /** The worker role's own port for /healthz, /readyz and /metrics; 0 = none. */
  workerPort: number;
  limits: { signupsPerIp: number; confirmMailsPerAddressPerHour: number };
  /** Operators: console sessions, sign-in limits, password hashing, the audit log. */
  operators: {
    sessionIdleMs: number;
    sessionMaxMs: number;
    signInsPerIp: number;
    signInsPerAccount: number;
    /** Refused admin API bearer tokens per client IP per 15 minutes (ADMIN_AUTH_FAILURES_PER_IP). */
    authFailuresPerIp: number;
    scryptN: number;
    auditMaxEntries: number;
  };
  trustProxy: number;
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
}

/** Reads `./.env` into the environment when present; variables already set win (process.loadEnvFile keeps them). */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
