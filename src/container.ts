import type { Server } from 'node:http';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from './config';
import { Articles } from './domain/articles';
import { CampaignDelivery } from './domain/campaign-delivery';
import { Campaigns } from './domain/campaigns';
import { FeedIngester } from './domain/feed-ingester';
import { Links } from './domain/links';
import { systemClock, type Clock } from './domain/ports/clock';
import { SignedTokens } from './domain/signed-token';
import { SubscriberImport } from './domain/subscriber-import';
import { Subscriptions } from './domain/subscriptions';
import { SuppressionPolicy } from './domain/suppression-policy';
import { TransactionalMail } from './domain/transactional-mail';
import { adminArticleRoutes } from './http/admin-article-routes';
import { adminCampaignRoutes } from './http/admin-campaign-routes';
import { adminImportRoutes } from './http/admin-import-routes';
import { adminSubscriberRoutes } from './http/admin-routes';
import { createApp } from './http/app';
import { opsRoutes } from './http/ops-routes';
import { publicRoutes } from './http/public-routes';
import { addressOf } from './mail/address';
import { mailIdentity } from './mail/mail-identity';
import { createMailTransport } from './mail/mail-transport';
import { Mailer } from './mail/mailer';
import { MjmlNewsletterRenderer } from './mail/newsletter';
import { TemplateRenderer } from './mail/template-renderer';
import { PrometheusMetrics } from './metrics/prometheus-metrics';
import { CampaignQueues } from './queue/campaign-queues';
import { FeedQueue } from './queue/feed-queue';
import { waitingByQueue } from './queue/queue-depth';
import { queueConnection, startQueueWorker, type RunningWorker } from './queue/queue-worker';
import { TransactionalQueue } from './queue/transactional-queue';
import { ArticleStore } from './store/article-store';
import { CampaignStore } from './store/campaign-store';
import { Keys } from './store/keys';
import { RateLimits } from './store/rate-limits';
import { SendRateLimiter } from './store/send-rate-limiter';
import { SubscriberStore } from './store/subscriber-store';
import { campaignWorker } from '../workers/campaign-worker';
import { deliveryWorker } from '../workers/delivery-worker';
import { feedWorker } from '../workers/feed-worker';
import { transactionalWorker } from '../workers/transactional-worker';

/** What the composition root needs from the outside; tests pass their own clock, and their key prefix in the config. */
export interface ContainerInput {
  config: AppConfig;
  redis: RedisOptions;
  log: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** Collect Node's process metrics (CPU, memory, event loop) too. Default false. */
  processMetrics?: boolean;
}

/**
 * The composition root: builds every part once and wires them. Adapters (store, mail, queue, metrics) are built
 * here and handed to the use cases as the ports they implement; nothing else constructs a store, a queue, a
 * transport or a worker, and no module holds a singleton.
 */
export function buildContainer(input: ContainerInput) {
  const { config, log } = input;
  const clock = input.clock ?? systemClock;

  // Adapters.
  // Auto-pipelining batches the ledger writes of concurrent sends into shared round trips.
  const redis = new Redis({ ...input.redis, maxRetriesPerRequest: 3, enableAutoPipelining: true });
  redis.on('error', (err) => log.warn({ event: 'redis.error', err: err.message }, 'redis connection error'));
  const keys = new Keys(config.redisPrefix);
  const subscribers = new SubscriberStore({ redis, keys });
  const articleStore = new ArticleStore({ redis, keys });
  const campaignStore = new CampaignStore({ redis, keys });
  const metrics = new PrometheusMetrics({ defaultMetrics: input.processMetrics });

  const queues = queueConnection(input.redis, config.redisPrefix);
  const transactionalQueue = new TransactionalQueue(queues);
  const campaignQueues = new CampaignQueues(queues);

  const templates = new TemplateRenderer({
    dir: join(__dirname, '..', 'templates'),
    globals: {
      site_name: config.siteName,
      site_url: config.siteUrl,
      postal_address: config.mail.postalAddress,
    },
  });
  // SMTP when the config names a server, else the outbox folder.
  const transport = createMailTransport({
    smtpUrl: config.mail.smtpUrl,
    outboxDir: join(config.dataDir, 'outbox'),
    maxConnections: config.mail.maxConnections,
    dkim: config.mail.dkim,
    name: config.mail.smtpName,
  });
  const identity = mailIdentity({
    from: config.mail.from,
    replyTo: config.mail.replyTo,
    publicUrl: config.publicUrl,
    siteName: config.siteName,
    feedbackSender: config.mail.feedbackIdSender,
  });
  const mailer = new Mailer({
    transport,
    templates,
    identity,
    siteName: config.siteName,
    now: () => clock.now().getTime(),
  });

  // Use cases.
  const tokens = new SignedTokens({ secret: config.appSecret, clock });
  const links = new Links({
    tokens,
    publicUrl: config.publicUrl,
    unsubscribeMailbox: addressOf(config.mail.replyTo ?? config.mail.from),
  });
  const policy = new SuppressionPolicy({ subscribers, metrics, clock, log });
  const subscriptions = new Subscriptions({
    subscribers,
    limits: new RateLimits({ redis, keys }, config.limits),
    tokens,
    mailJobs: transactionalQueue,
    policy,
    clock,
    metrics,
    log,
    terms: config.terms,
  });
  const transactionalMail = new TransactionalMail({ subscribers, mailer, links, policy, metrics, log });
  const subscriberImport = new SubscriberImport({ subscribers, clock, log, terms: config.terms });
  const articles = new Articles({ store: articleStore, clock, log });
  const feedIngester = new FeedIngester({ articles, log });
  const campaigns = new Campaigns({
    campaigns: campaignStore,
    subscribers,
    articles: articleStore,
    renderer: new MjmlNewsletterRenderer({ templates, siteName: config.siteName, signupUrl: `${config.publicUrl}/` }),
    mailer,
    links,
    jobs: campaignQueues,
    clock,
    log,
    publicUrl: config.publicUrl,
  });
  const delivery = new CampaignDelivery({
    campaigns: campaignStore,
    subscribers,
    articles: articleStore,
    jobs: campaignQueues,
    mailer,
    links,
    policy,
    rate: new SendRateLimiter({ redis, keys }, config.delivery.ratePerSecond),
    clock,
    metrics,
    log,
    options: {
      batchSize: config.delivery.batchSize,
      queueHighWater: config.delivery.queueHighWater,
      maxConsecutiveFailures: config.delivery.maxConsecutiveFailures,
      parallel: Math.max(config.mail.maxConnections * 2, 10),
    },
  });

  // HTTP.
  const page = {
    siteName: config.siteName,
    termsUrl: config.terms.url,
    termsVersion: config.terms.version,
    termsText: config.terms.text,
  };
  const app = createApp({
    log,
    adminToken: config.adminToken,
    trustProxy: config.trustProxy,
    https: config.publicUrl.startsWith('https:'),
    publicRouter: publicRoutes({ subscriptions, campaigns, page }),
    opsRouter: opsRoutes({
      ping: () => redis.ping(),
      metrics: async () => {
        // With Redis down the gauges keep their last values; the counters are still worth serving.
        const depths = await waitingByQueue([
          transactionalQueue.queue,
          campaignQueues.fanout,
          campaignQueues.deliveries,
        ]).catch(() => ({}));
        metrics.setQueueDepths(depths);
        return metrics.exposition();
      },
    }),
    adminRouters: [
      adminImportRoutes({ subscriberImport }),
      adminSubscriberRoutes({ subscriptions }),
      adminArticleRoutes({ articles }),
      adminCampaignRoutes({ campaigns }),
    ],
  });

  const workers: RunningWorker[] = [];
  let feed: FeedQueue | undefined;
  let server: Server | undefined;

  return {
    config,
    log,
    redis,
    metrics,
    subscribers,
    subscriptions,
    subscriberImport,
    tokens,
    links,
    templates,
    transport,
    transactionalQueue,
    articleStore,
    articles,
    feedIngester,
    /** The feed poll's queue, once startWorkers() ran with FEED_URL set. */
    get feedQueue(): FeedQueue | undefined {
      return feed;
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
      const run = { ...queues, log };
      workers.push(startQueueWorker(transactionalWorker({ mail: transactionalMail, log }), run));
      workers.push(startQueueWorker(campaignWorker({ delivery, log, lockDurationMs }), run));
      workers.push(
        startQueueWorker(
          deliveryWorker({ delivery, log, concurrency: config.delivery.concurrency, lockDurationMs }),
          run,
        ),
      );
      if (config.feed.url) {
        feed = new FeedQueue({ ...queues, url: config.feed.url, cron: config.feed.cron, log });
        workers.push(startQueueWorker(feedWorker({ ingester: feedIngester, log }), run));
      }
    },

    /**
     * Two-phase shutdown: stop taking requests and jobs, let the work in hand finish (workers close after their
     * current jobs), then close connections.
     */
    async close(): Promise<void> {
      await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
      server?.closeAllConnections?.();
      await Promise.all(workers.map((w) => w.close()));
      await feed?.close();
      await transactionalQueue.close();
      await campaignQueues.close();
      await transport.close();
      redis.disconnect();
    },
  };
}

export type Container = ReturnType<typeof buildContainer>;
