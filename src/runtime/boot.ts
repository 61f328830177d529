import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AppConfig, Env } from '../config';
import { CONSENT_SENTENCE } from '../http/pages';
import { loadOrCreateDevSecrets } from './dev-secrets';

/**
 * Turns validated settings into the configuration the container takes: fills development secrets, reads key and
 * terms files, derives the terms hash. Returns whether secrets were generated so the banner can say so.
 */
export function resolveConfig(env: Env): { config: AppConfig; generatedSecrets: boolean; devSecrets: boolean } {
  let adminToken = env.ADMIN_TOKEN;
  let appSecret = env.APP_SECRET;
  let generatedSecrets = false;
  const devSecrets = !adminToken || !appSecret;
  if (devSecrets) {
    const { secrets, created } = loadOrCreateDevSecrets(env.DATA_DIR);
    adminToken ??= secrets.adminToken;
    appSecret ??= secrets.appSecret;
    generatedSecrets = created;
  }
  const termsText = env.TERMS_TEXT_FILE ? readFileSync(env.TERMS_TEXT_FILE, 'utf8') : defaultTerms(env.SITE_NAME);
  const privateKey = env.DKIM_PRIVATE_KEY ?? (env.DKIM_PRIVATE_KEY_FILE ? readFileSync(env.DKIM_PRIVATE_KEY_FILE, 'utf8') : undefined);
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  const config: AppConfig = {
    env: env.NODE_ENV,
    port: env.PORT,
    publicUrl,
    siteName: env.SITE_NAME,
    redisPrefix: env.REDIS_PREFIX,
    mail: {
      from: env.MAIL_FROM,
      replyTo: env.MAIL_REPLY_TO,
      postalAddress: env.POSTAL_ADDRESS,
      dkim: env.DKIM_DOMAIN && env.DKIM_SELECTOR && privateKey ? { domainName: env.DKIM_DOMAIN, keySelector: env.DKIM_SELECTOR, privateKey: privateKey.replace(/\\n/g, '\n') } : undefined,
      maxConnections: env.SMTP_MAX_CONNECTIONS,
    },
    adminToken: adminToken!,
    appSecret: appSecret!,
    terms: { version: env.TERMS_VERSION, url: env.TERMS_URL, text: termsText, textHash: createHash('sha256').update(termsText).digest('hex') },
    delivery: {
      ratePerSecond: env.SEND_RATE_PER_SECOND,
      batchSize: env.DELIVERY_BATCH_SIZE,
      queueHighWater: env.DELIVERY_QUEUE_HIGH_WATER,
      concurrency: env.DELIVERY_CONCURRENCY,
      maxConsecutiveFailures: env.CAMPAIGN_MAX_CONSECUTIVE_FAILURES,
      lockSeconds: env.JOB_LOCK_SECONDS,
    },
    feed: { url: env.FEED_URL, cron: env.FEED_POLL_CRON },
    limits: { signupsPerIp: env.SIGNUP_RATE_PER_IP, confirmMailsPerAddressPerHour: env.CONFIRM_MAILS_PER_ADDRESS_PER_HOUR },
    trustProxy: env.TRUST_PROXY,
    dataDir: env.DATA_DIR,
    logLevel: env.LOG_LEVEL,
  };
  return { config, generatedSecrets, devSecrets };
}

/** Plain terms for a site that has not written its own (TERMS_TEXT_FILE). */
function defaultTerms(siteName: string): string {
  return [
    `${siteName} newsletter. ${CONSENT_SENTENCE}`,
    'By subscribing you agree that we send you our newsletter by email. We keep your address, your name if you give it, and the proof of your consent (when, from which IP address and browser, to which version of these terms) for as long as you are subscribed.',
    'You can leave at any time with the unsubscribe link in every newsletter, and ask us for a copy of what we hold on you or to erase it.',
  ].join('\n\n');
}
