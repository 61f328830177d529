import type { Server } from 'node:http';
import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions, Worker } from 'bullmq';
import pino, { type Logger } from 'pino';
import { join } from 'node:path';
import type { AppConfig } from './config';
import { systemClock, type Clock } from './domain/clock';
import { Links } from './domain/links';
import { SignedTokens } from './domain/signed-token';
import { Subscriptions } from './domain/subscriptions';
import { createApp } from './http/app';
import { adminSubscriberRoutes } from './http/admin-routes';
import { opsRoutes } from './http/ops-routes';
import { publicRoutes } from './http/public-routes';
import { addressOf } from './mail/address';
import { mailIdentity } from './mail/mail-identity';
import { createMailTransport, type MailTransport } from './mail/mail-transport';
import { TemplateRenderer } from './mail/template-renderer';
import { TransactionalMailer } from './mail/transactional-mailer';
import { Metrics } from './metrics';
import { TransactionalQueue } from './queue/transactional-queue';
import { Keys } from './store/keys';
import { RateLimits } from './store/rate-limits';
import { SubscriberStore } from './store/subscriber-store';
import { startTransactionalWorker } from '../workers/transactional-worker';
import { startCampaignWorker } from '../workers/campaign-worker';
import { startDeliveryWorker } from '../workers/delivery-worker';
import { ArticleStore } from './store/article-store';
import { Articles } from './domain/articles';
import { FeedIngester } from './domain/feed-ingester';
import { adminArticleRoutes } from './http/admin-article-routes';
import { startFeedWorker, type FeedWorker } from '../workers/feed-worker';
import { CampaignStore } from './store/campaign-store';
import { SendRateLimiter } from './store/send-rate-limiter';
import { CampaignQueues } from './queue/campaign-queues';
import { CampaignMailer } from './mail/campaign-mailer';
import { CampaignDelivery } from './domain/campaign-delivery';
import { Campaigns } from './domain/campaigns';
import { adminCampaignRoutes } from './http/admin-campaign-routes';
import { SubscriberImport } from './domain/subscriber-import';
import { adminImportRoutes } from './http/admin-import-routes';

/** What the composition root needs from the outside; tests pass their own transport, clock and prefix. */
export interface ContainerInput {
  config: AppConfig;
  redis: RedisOptions;
  /** Default: SMTP from config, else the outbox. */
  transport?: MailTransport;
  smtpUrl?: string;
  clock?: Clock;
  log?: Logger;
  /** Folder of the MJML templates. Default: ./templates of the project. */
  templatesDir?: string;
}

/**
 * The composition root: builds every part once and wires them. Nothing else constructs a store, a queue or a
 * transport, and no module holds a singleton.
 */
export function buildContainer(input: ContainerInput) {
  const { config } = input;
  const log = input.log ?? pino({ level: config.logLevel, base: { service: 'newsletter' } });
  const clock = input.clock ?? systemClock;
  // Auto-pipelining batches the ledger writes of concurrent sends into shared round trips.
  const redis = new Redis({ ...input.redis, maxRetriesPerRequest: 3, enableAutoPipelining: true });
  redis.on('error', (err) => log.warn({ event: 'redis.error', err: err.message }, 'redis connection error'));
  // BullMQ opens its own connections from these options; blocking commands need maxRetriesPerRequest null.
  const connection = { ...input.redis, maxRetriesPerRequest: null } as ConnectionOptions;
  const bullPrefix = `${config.redisPrefix}:bull`;
  const keys = new Keys(config.redisPrefix);
  const metrics = new Metrics({ defaultMetrics: !input.log });

  const subscribers = new SubscriberStore({ redis, keys });
  const tokens = new SignedTokens({ secret: config.appSecret, clock });
  const links = new Links({ tokens, publicUrl: config.publicUrl, unsubscribeMailbox: addressOf(config.mail.replyTo ?? config.mail.from) });
  const identity = mailIdentity({ from: config.mail.from, replyTo: config.mail.replyTo, publicUrl: config.publicUrl, siteName: config.siteName });
  const renderer = new TemplateRenderer({
    dir: input.templatesDir ?? join(__dirname, '..', 'templates'),
    globals: { site_name: config.siteName, postal_address: config.mail.postalAddress },
  });
  const transport = input.transport ?? createMailTransport({ smtpUrl: input.smtpUrl, outboxDir: join(config.dataDir, 'outbox'), maxConnections: config.mail.maxConnections, dkim: config.mail.dkim });

  const transactionalQueue = new TransactionalQueue({ connection, prefix: bullPrefix });
  const subscriptions = new Subscriptions({
    subscribers,
    limits: new RateLimits({ redis, keys }, config.limits),
    tokens,
    clock,
    metrics,
    log,
    enqueueMail: (job) => transactionalQueue.enqueue(job),
    terms: config.terms,
  });
  const transactionalMailer = new TransactionalMailer({ subscribers, renderer, transport, links, identity, metrics, log, clock, siteName: config.siteName });

  // Campaigns: the operator's use case and the delivery engine the workers run.
  const articleStore = new ArticleStore({ redis, keys });
  const articles = new Articles({ store: articleStore, clock, log });
  const feedIngester = new FeedIngester({ articles, log });
  const campaignStore = new CampaignStore({ redis, keys });
  const campaignQueues = new CampaignQueues({ connection, prefix: bullPrefix });
  const campaignMailer = new CampaignMailer({ transport, links, identity });
  const campaigns = new Campaigns({
    campaigns: campaignStore,
    subscribers,
    articles: articleStore,
    renderer,
    mailer: campaignMailer,
    startFanout: (id, run) => campaignQueues.startFanout(id, run),
    clock,
    log,
    siteName: config.siteName,
    publicUrl: config.publicUrl,
  });
  const delivery = new CampaignDelivery({
    campaigns: campaignStore,
    subscribers,
    articles: articleStore,
    queue: campaignQueues,
    mailer: campaignMailer,
    rate: new SendRateLimiter({ redis, keys }, config.delivery.ratePerSecond),
    clock,
    metrics,
    log,
    options: { batchSize: config.delivery.batchSize, queueHighWater: config.delivery.queueHighWater, maxConsecutiveFailures: config.delivery.maxConsecutiveFailures, parallel: Math.max(config.mail.maxConnections * 2, 10) },
  });

  const subscriberImport = new SubscriberImport({ subscribers, clock, log, terms: config.terms });

  const refreshGauges = async () => {
    for (const q of [transactionalQueue.queue, campaignQueues.fanout, campaignQueues.deliveries]) {
      const counts = await q.getJobCounts('waiting', 'delayed', 'prioritized');
      metrics.queueDepth.set({ queue: q.name }, (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0));
    }
  };

  const page = { siteName: config.siteName, termsUrl: config.terms.url, termsVersion: config.terms.version, termsText: config.terms.text };
  const app = createApp({
    log,
    adminToken: config.adminToken,
    trustProxy: config.trustProxy,
    https: config.publicUrl.startsWith('https:'),
    publicRouter: publicRoutes({ subscriptions, page }),
    opsRouter: opsRoutes({ redis, metrics, refreshGauges }),
    adminRouters: [adminImportRoutes({ subscriberImport }), adminSubscriberRoutes({ subscriptions }), adminArticleRoutes({ articles }), adminCampaignRoutes({ campaigns })],
  });

  const workers: Worker[] = [];
  let feedWorker: FeedWorker | undefined;
  let server: Server | undefined;

  return {
    config,
    log,
    redis,
    keys,
    metrics,
    subscribers,
    subscriptions,
    subscriberImport,
    tokens,
    links,
    renderer,
    transport,
    transactionalQueue,
    articleStore,
    articles,
    feedIngester,
    /** The feed poller, once startWorkers() ran with FEED_URL set. */
    get feedWorker(): FeedWorker | undefined {
      return feedWorker;
    },
    campaignStore,
    campaignQueues,
    campaigns,
    delivery,
    app,

    /** Starts the HTTP API; resolves with the port it listens on (0 in tests picks a free one). */
    listen(port = config.port): Promise<number> {
      return new Promise((ok, fail) => {
        server = app.listen(port, () => ok((server!.address() as { port: number }).port));
        server.once('error', fail);
      });
    },

    startWorkers(): void {
      const lockDurationMs = config.delivery.lockSeconds * 1000;
      workers.push(startTransactionalWorker({ connection, prefix: bullPrefix, mailer: transactionalMailer, log }));
      workers.push(startCampaignWorker({ connection, prefix: bullPrefix, delivery, log, lockDurationMs }));
      if (config.feed.url) feedWorker = startFeedWorker({ connection, prefix: bullPrefix, ingester: feedIngester, url: config.feed.url, cron: config.feed.cron, log });
      workers.push(startDeliveryWorker({ connection, prefix: bullPrefix, delivery, log, concurrency: config.delivery.concurrency, lockDurationMs }));
    },

    /**
     * Two-phase shutdown: stop taking requests and jobs, let the work in hand finish (workers close after their
     * current jobs), then close connections.
     */
    async close(): Promise<void> {
      await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
      server?.closeAllConnections?.();
      await Promise.all(workers.map((w) => w.close()));
      await feedWorker?.close();
      await transactionalQueue.close();
      await campaignQueues.close();
      await transport.close();
      redis.disconnect();
    },
  };
}

export type Container = ReturnType<typeof buildContainer>;
