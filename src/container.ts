import type { Server } from 'node:http';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from './config';
import { Alerts } from './domain/alerts';
import { Articles } from './domain/articles';
import { CampaignDelivery } from './domain/campaign-delivery';
import { CampaignHealth } from './domain/campaign-health';
import { Campaigns } from './domain/campaigns';
import { DigestSchedules } from './domain/digest-schedules';
import { FeedIngester } from './domain/feed-ingester';
import { FeedbackReceiver } from './domain/feedback';
import { Links } from './domain/links';
import { MailboxFeedback } from './domain/mailbox-feedback';
import { Newsletters } from './domain/newsletters';
import { Preferences } from './domain/preferences';
import { systemClock, type Clock } from './domain/ports/clock';
import { RunCampaign } from './domain/run-campaign';
import { SignedTokens } from './domain/signed-token';
import { SubscriberImport } from './domain/subscriber-import';
import { Audience } from './domain/audience';
import { Subscriptions } from './domain/subscriptions';
import { SuppressionPolicy } from './domain/suppression-policy';
import { TransactionalMail } from './domain/transactional-mail';
import { Audit } from './domain/audit';
import { Operators } from './domain/operators';
import { DEFAULT_SCRYPT_COST, PasswordHasher } from './domain/password-hasher';
import { Sessions } from './domain/sessions';
import { dashboardSection } from './http/console/dashboard';
import { campaignsSection } from './http/console/campaigns';
import { campaignEventRoutes } from './http/campaign-events';
import { operatorsSection } from './http/console/operators';
import { consoleRoutes } from './http/console/routes';
import { newslettersSection } from './http/console/newsletters';
import { composeSection } from './http/console/compose';
import { audienceSection } from './http/console/audience';
import { auditSection } from './http/console/audit';
import { adminAccess, sessionCookieName } from './http/admin-auth';
import { adminOperatorRoutes } from './http/admin-operator-routes';
import { sessionRoutes } from './http/session-routes';
import { httpServerFor, listen } from './http/server';
import { AuditStore } from './store/audit-store';
import { OperatorStore } from './store/operator-store';
import { RedisSessionStore } from './store/session-store';
import { AuthFailureRateLimits } from './store/auth-failure-limits';
import { SignInRateLimits } from './store/sign-in-limits';
import { adminArticleRoutes } from './http/admin-article-routes';
import { adminCampaignRoutes } from './http/admin-campaign-routes';
import { adminImportRoutes } from './http/admin-import-routes';
import { adminNewsletterRoutes } from './http/admin-newsletter-routes';
import { adminSubscriberRoutes } from './http/admin-routes';
import { createApp, createOpsApp } from './http/app';
import { opsRoutes } from './http/ops-routes';
import { publicRoutes } from './http/public-routes';
import { webhookRoutes } from './http/webhook-routes';
import { ImapFeedbackMailbox } from './feedback-mailbox/imap-mailbox';
import { ReportParser } from './feedback-mailbox/report-parser';
import { addressOf } from './mail/address';
import { mailIdentity } from './mail/mail-identity';
import { createMailTransport, type MailTransport } from './mail/mail-transport';
import { Mailer } from './mail/mailer';
import { MjmlNewsletterRenderer } from './mail/newsletter';
import { TemplateRenderer } from './mail/template-renderer';
import { PrometheusMetrics } from './metrics/prometheus-metrics';
import { ActivityMetrics } from './metrics/activity-metrics';
import { ActivityStore } from './store/activity-store';
import { CampaignQueues } from './queue/campaign-queues';
import { FeedQueue } from './queue/feed-queue';
import { FeedbackQueue } from './queue/feedback-queue';
import { NewsletterQueues } from './queue/newsletter-queues';
import { queueHealth, waitingByQueue } from './queue/queue-depth';
import { queueConnection, startQueueWorker, type RunningWorker } from './queue/queue-worker';
import { startStandbyWorker } from './queue/standby-worker';
import { TransactionalQueue } from './queue/transactional-queue';
import { ArticleStore } from './store/article-store';
import { CampaignStore } from './store/campaign-store';
import { FeedbackStore } from './store/feedback-store';
import { RedisFeedValidatorStore } from './store/feed-validator-store';
import { Keys } from './store/keys';
import { runMigrations } from './store/migrations';
import { NewsletterRunStore } from './store/newsletter-run-store';
import { NewsletterStore } from './store/newsletter-store';
import { RateLimits } from './store/rate-limits';
import { SendRateLimiter } from './store/send-rate-limiter';
import { SubscriberStore } from './store/subscriber-store';
import { GenericWebhook } from './webhooks/generic';
import { httpsGet } from './webhooks/https-get';
import { MailgunWebhook } from './webhooks/mailgun';
import { PostmarkWebhook } from './webhooks/postmark';
import { SendGridWebhook } from './webhooks/sendgrid';
import { SesWebhook } from './webhooks/ses';
import type { HttpGet, WebhookProvider } from './webhooks/webhook';
import { RedisOutage, redisRetryDelay } from './lib/redis-outage';
import { withTimeout } from './lib/timeout';
import { campaignScheduleWorker } from '../workers/campaign-schedule-worker';
import { campaignWorker } from '../workers/campaign-worker';
import { deliveryWorker } from '../workers/delivery-worker';
import { feedbackWorker } from '../workers/feedback-worker';
import { feedWorker } from '../workers/feed-worker';
import { newsletterRunWorker } from '../workers/newsletter-run-worker';
import { transactionalWorker } from '../workers/transactional-worker';

/**
 * How long the oldest confirmation or welcome mail may wait untaken before the process answering HTTP sends the mails
 * itself (standby): long enough for the forks to catch up after a burst of signups (in the bench they keep up as it
 * runs), short enough that a visitor on a machine busy with other work still gets their mail within the minute.
 */
const STANDBY_AFTER_MS = 10_000;

/** What the composition root needs from the outside; tests pass their own clock, and their key prefix in the config. */
export interface ContainerInput {
  config: AppConfig;
  redis: RedisOptions;
  log: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** Collect Node's process metrics (CPU, memory, event loop) too. Default false. */
  processMetrics?: boolean;
  /** How the SES webhook reaches Amazon SNS (certificates, subscription confirmation). Default: real HTTPS. */
  httpGet?: HttpGet;
  /** Where Redis is, for operators (password redacted), in the lines about an outage. Default "Redis". */
  redisDescribe?: string;
  /**
   * Where built messages go instead of the SMTP server or outbox the config names. Not a setting: the scale bench
   * passes one that accepts each message at once, to measure the engine without an SMTP wire.
   */
  transport?: MailTransport;
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
  // Every connection reports its connection errors to one outage log: a line when Redis goes, a line per backoff
  // step while it stays away, a line when it is back; never one per connection per retry.
  const outage = new RedisOutage({ log, describe: input.redisDescribe ?? 'Redis' });
  const onRedisError = (err: Error): boolean => outage.failed(err);
  const redisOptions: RedisOptions = { ...input.redis, retryStrategy: redisRetryDelay };
  // Auto-pipelining batches the ledger writes of concurrent sends into shared round trips. Without the offline
  // queue a command fails at once while Redis is away instead of waiting for it (an HTTP request would hang).
  const redis = new Redis({
    ...redisOptions,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
  });
  redis.on('error', (err) => {
    if (!onRedisError(err)) log.warn({ event: 'redis.error', err: err.message }, 'redis connection error');
  });
  redis.on('ready', () => outage.recovered());
  const keys = new Keys(config.redisPrefix);
  const subscribers = new SubscriberStore({ redis, keys });
  const articleStore = new ArticleStore({ redis, keys });
  const campaignStore = new CampaignStore({ redis, keys });
  const newsletterStore = new NewsletterStore({ redis, keys });
  const runStore = new NewsletterRunStore({ redis, keys });
  const prometheus = new PrometheusMetrics({ defaultMetrics: input.processMetrics });
  const activity = new ActivityStore({
    redis,
    keys,
    onError: (err) => log.warn({ event: 'activity.count_failed', err: err.message }, 'daily counter not written'),
  });
  // Everything that reports to Prometheus also feeds the console's daily counters (see activity-metrics.ts).
  const metrics = new ActivityMetrics(prometheus, activity, clock);

  const queues = queueConnection(redisOptions, config.redisPrefix, onRedisError);
  const transactionalQueue = new TransactionalQueue(queues);
  const campaignQueues = new CampaignQueues(queues);
  const newsletterQueues = new NewsletterQueues(queues);
  // A BullMQ queue with no error listener prints each connection error with its stack (the flood of an outage).
  const queueErrors = (err: Error) => {
    if (!onRedisError(err)) log.error({ event: 'queue.error', err: err.message }, 'queue error');
  };
  for (const q of [
    transactionalQueue.queue,
    campaignQueues.fanout,
    campaignQueues.deliveries,
    campaignQueues.schedules,
    newsletterQueues.runs,
  ])
    q.on('error', queueErrors);

  const templates = new TemplateRenderer({
    dir: join(__dirname, '..', 'templates'),
    globals: {
      site_name: config.siteName,
      site_url: config.siteUrl,
      postal_address: config.mail.postalAddress,
    },
  });
  // SMTP when the config names a server, else the outbox folder.
  const transport =
    input.transport ??
    createMailTransport({
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
    bounceDomain: config.mail.bounceDomain,
  });

  // Use cases.
  const tokens = new SignedTokens({ secret: config.appSecret, previousSecrets: config.appSecretPrevious, clock });
  const links = new Links({
    tokens,
    publicUrl: config.publicUrl,
    unsubscribeMailbox: addressOf(config.mail.replyTo ?? config.mail.from),
  });
  const feedbackLedger = new FeedbackStore({ redis, keys });
  const policy = new SuppressionPolicy({
    subscribers,
    ledger: feedbackLedger,
    metrics,
    clock,
    log,
    options: { softBounceLimit: config.softBounceLimit },
  });
  const health = new CampaignHealth({ campaigns: campaignStore, metrics, clock, log, limits: config.campaignHealth });
  const newsletters = new Newsletters({
    newsletters: newsletterStore,
    clock,
    log,
    defaultSlug: config.defaultNewsletter,
    defaultName: config.siteName,
    // Bound late: the schedules are built below, and nothing is saved before the container is done.
    listener: { saved: (n): Promise<void> => digests.planNext(n) },
  });
  const preferences = new Preferences({ subscribers, newsletters, tokens, policy, clock, log });
  const subscriptions = new Subscriptions({
    subscribers,
    newsletters,
    preferences,
    links,
    limits: new RateLimits({ redis, keys, subscribers }, config.limits),
    tokens,
    mailJobs: transactionalQueue,
    policy,
    clock,
    metrics,
    log,
    terms: config.terms,
  });
  const feedback = new FeedbackReceiver({
    subscribers,
    campaigns: campaignStore,
    ledger: feedbackLedger,
    policy,
    health,
    tokens,
    clock,
    log,
  });
  // The feedback mailbox, when configured: IMAP and MIME stay in their adapters, the reports go to `feedback`.
  const mailboxFeedback = config.feedbackMailbox
    ? new MailboxFeedback({
        mailbox: new ImapFeedbackMailbox({ ...config.feedbackMailbox, log }),
        reader: new ReportParser({ tokens }),
        feedback,
        subscriptions,
        log,
      })
    : undefined;
  const transactionalMail = new TransactionalMail({
    subscribers,
    mailer,
    links,
    newsletters,
    policy,
    metrics,
    log,
  });
  const subscriberImport = new SubscriberImport({ subscribers, newsletters, clock, log, terms: config.terms });
  const audience = new Audience({ subscribers, newsletters });
  const articles = new Articles({
    store: articleStore,
    clock,
    log,
    listener: { articleAdded: (a): Promise<void> => alerts.articleAdded(a) },
  });
  const feedIngester = new FeedIngester({
    articles,
    log,
    polls: activity,
    clock,
    validators: new RedisFeedValidatorStore({ redis, keys }),
  });
  const campaigns = new Campaigns({
    campaigns: campaignStore,
    subscribers,
    articles: articleStore,
    renderer: new MjmlNewsletterRenderer({ templates, siteName: config.siteName, signupUrl: `${config.publicUrl}/` }),
    mailer,
    links,
    newsletters,
    jobs: campaignQueues,
    clock,
    log,
    publicUrl: config.publicUrl,
  });
  const runCampaign = new RunCampaign({ campaigns, runs: runStore, log });
  const digests = new DigestSchedules({
    newsletters: newsletterStore,
    articles: articleStore,
    runs: runStore,
    sender: runCampaign,
    jobs: newsletterQueues,
    clock,
    log,
    maxLateMs: config.scheduleMaxLateMs,
  });
  const alerts = new Alerts({
    newsletters: newsletterStore,
    articles: articleStore,
    runs: runStore,
    sender: runCampaign,
    jobs: newsletterQueues,
    clock,
    log,
  });
  const delivery = new CampaignDelivery({
    campaigns: campaignStore,
    subscribers,
    articles: articleStore,
    jobs: campaignQueues,
    mailer,
    links,
    policy,
    health,
    rate: new SendRateLimiter({ redis, keys }, config.delivery.ratePerSecond),
    clock,
    metrics,
    timeline: activity,
    log,
    options: {
      batchSize: config.delivery.batchSize,
      queueHighWater: config.delivery.queueHighWater,
      maxConsecutiveFailures: config.delivery.maxConsecutiveFailures,
      parallel: Math.max(config.mail.maxConnections * 2, 10),
    },
  });

  // Operators, sessions and the audit log.
  const sessionStore = new RedisSessionStore({ redis, keys });
  const operators = new Operators({
    operators: new OperatorStore({ redis, keys }),
    sessions: sessionStore,
    hasher: new PasswordHasher({ ...DEFAULT_SCRYPT_COST, N: config.operators.scryptN }),
    clock,
    log,
  });
  const sessions = new Sessions({
    operators,
    store: sessionStore,
    limits: new SignInRateLimits(
      { redis, keys },
      { perIp: config.operators.signInsPerIp, perLogin: config.operators.signInsPerAccount },
    ),
    clock,
    options: {
      idleMs: config.operators.sessionIdleMs,
      maxMs: config.operators.sessionMaxMs,
      adminToken: config.adminToken,
    },
  });
  const audit = new Audit({
    log: new AuditStore({ redis, keys }, { maxEntries: config.operators.auditMaxEntries }),
    clock,
    logger: log,
  });

  // Webhooks: one adapter for each provider whose secret is configured; the others have no endpoint.
  const hooks = config.webhooks;
  const webhooks: WebhookProvider[] = [];
  if (hooks.ses)
    webhooks.push(new SesWebhook({ topicArns: hooks.ses.topicArns, get: input.httpGet ?? httpsGet(), clock, log }));
  if (hooks.postmark) webhooks.push(new PostmarkWebhook(hooks.postmark));
  if (hooks.mailgun)
    webhooks.push(
      new MailgunWebhook({
        signingKey: hooks.mailgun.signingKey,
        maxAgeSeconds: hooks.maxAgeSeconds,
        clock,
        seen: feedbackLedger,
      }),
    );
  if (hooks.sendgrid) webhooks.push(new SendGridWebhook(hooks.sendgrid));
  if (hooks.generic)
    webhooks.push(new GenericWebhook({ secret: hooks.generic.secret, maxAgeSeconds: hooks.maxAgeSeconds, clock }));

  // HTTP.
  const page = {
    siteName: config.siteName,
    termsUrl: config.terms.url,
    termsVersion: config.terms.version,
    termsText: config.terms.text,
  };
  const https = config.publicUrl.startsWith('https:');
  const cookieName = sessionCookieName(https);
  const publicOrigin = new URL(config.publicUrl).origin;
  const opsRouter = opsRoutes({
    ping: () => redis.ping(),
    ready: () => prepared && redis.status === 'ready',
    metrics: async () => {
      // With Redis away the gauges keep their last values and the counters are still worth serving; the queue
      // depths are skipped then (a queue's first command would wait for its connection).
      if (redis.status === 'ready') {
        const depths = await withTimeout(
          waitingByQueue([
            transactionalQueue.queue,
            campaignQueues.fanout,
            campaignQueues.deliveries,
            newsletterQueues.runs,
          ]),
          1000,
        ).catch(() => ({}));
        prometheus.setQueueDepths(depths);
      }
      prometheus.setRedisUp(redis.status === 'ready');
      return prometheus.exposition();
    },
  });
  const app = createApp({
    log,
    adminGuard: adminAccess({
      adminToken: config.adminToken,
      operators,
      sessions,
      audit,
      cookieName,
      publicOrigin,
      failures: new AuthFailureRateLimits({ redis, keys }, { perIp: config.operators.authFailuresPerIp }),
    }),
    sessionRouter: sessionRoutes({
      sessions,
      audit,
      siteName: config.siteName,
      cookieName,
      secure: https,
      publicOrigin,
      maxAgeMs: config.operators.sessionMaxMs,
    }),
    consoleRouter: consoleRoutes({
      sessions,
      cookieName,
      siteName: config.siteName,
      sections: [
        dashboardSection({
          audience,
          daily: activity,
          campaigns: campaignStore,
          newsletters: newsletterStore,
          nextRunAt: (n) => digests.nextRunAt(n),
          queueHealth: () =>
            queueHealth([
              transactionalQueue.queue,
              campaignQueues.fanout,
              campaignQueues.deliveries,
              newsletterQueues.runs,
            ]),
          feedPolls: activity,
          feedUrl: config.feed.url,
          clock,
          siteName: config.siteName,
        }),
        campaignsSection({ campaigns, timeline: activity, siteName: config.siteName }),
        newslettersSection({ newsletters, digests, audience, siteName: config.siteName }),
        composeSection({ newsletters, articles, audience, siteName: config.siteName }),
        audienceSection({ audience, subscriptions, newsletters, siteName: config.siteName }),
        auditSection({ audit, siteName: config.siteName }),
        operatorsSection({ operators, siteName: config.siteName }),
      ],
    }),
    trustProxy: config.trustProxy,
    https,
    publicRouter: publicRoutes({ subscriptions, preferences, newsletters, campaigns, page }),
    opsRouter,
    storeAvailable: () => redis.status === 'ready',
    adminRouters: [
      adminImportRoutes({ subscriberImport }),
      adminSubscriberRoutes({ subscriptions, audience }),
      adminArticleRoutes({ articles }),
      adminCampaignRoutes({ campaigns }),
      campaignEventRoutes({ campaigns, timeline: activity }),
      adminNewsletterRoutes({ newsletters, digests }),
      adminOperatorRoutes({ operators, audit }),
    ],
    webhookRouter: webhookRoutes({ providers: webhooks, feedback }),
  });

  const workers: RunningWorker[] = [];
  let feed: FeedQueue | undefined;
  let feedbackQueue: FeedbackQueue | undefined;
  let server: Server | undefined;
  let opsServer: Server | undefined;
  /** prepare() ran: until then /readyz answers 503. */
  let prepared = false;
  const redisReady = (): Promise<void> => {
    if (redis.status === 'ready') return Promise.resolve();
    return new Promise((ok, fail) => {
      const onEnd = () => fail(new Error('the Redis connection was closed before it was ready'));
      redis.once('ready', () => {
        redis.off('end', onEnd);
        ok();
      });
      redis.once('end', onEnd);
    });
  };

  return {
    config,
    log,
    redis,
    metrics: prometheus,
    /** The console's daily counters, campaigns' sends per minute and the feed's last poll. */
    activity,
    subscribers,
    subscriptions,
    subscriberImport,
    audience,
    /** Where webhooks and the feedback mailbox hand their reports. */
    feedback,
    /** What bounces, complaints and unsubscribes do to a person. */
    policy,
    /** Reads the feedback mailbox (FEEDBACK_IMAP_URL); undefined when none is configured. */
    mailboxFeedback,
    /** The feedback mailbox's read schedule, once startWorkers() ran with FEEDBACK_IMAP_URL set. */
    get feedbackQueue(): FeedbackQueue | undefined {
      return feedbackQueue;
    },
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
    newsletterStore,
    newsletters,
    campaignStore,
    campaignQueues,
    campaigns,
    /** Digests that send themselves on their schedule. */
    digests,
    /** Alerts newsletters: an article a campaign. */
    alerts,
    newsletterRunStore: runStore,
    newsletterQueues,
    delivery,
    /** Operator accounts and their API tokens. */
    operators,
    /** Console sign-in sessions. */
    sessions,
    /** Who changed what: written by the admin API's middleware, the sign-in routes and the CLI's runner. */
    audit,
    app,

    /**
     * Brings the stored data up to what this code expects before anything serves: the versioned migrations (under
     * a lock, each once), then the default newsletter, then the job of each schedule's next slot (one job per slot,
     * however many processes start). Safe to run in several processes at once.
     */
    async prepare(): Promise<void> {
      await redisReady();
      await runMigrations({ redis, keys, log, clock, defaultNewsletter: config.defaultNewsletter });
      await newsletters.ensureDefault();
      await digests.planAll();
      prepared = true;
    },

    /** Resolves once the stores' connection to Redis is ready (it keeps retrying in the background until then). */
    redisReady,

    /** Whether Redis answers now (the stores' connection is up). */
    get redisConnected(): boolean {
      return redis.status === 'ready';
    },

    /**
     * Serves only /healthz, /readyz and /metrics on `port`: the worker role's own port (WORKER_PORT), for its
     * healthcheck and Prometheus. Resolves with the port it listens on.
     */
    listenOps(port: number): Promise<number> {
      opsServer = httpServerFor(createOpsApp({ log, opsRouter }));
      return listen(opsServer, port);
    },

    /** Starts the HTTP API; resolves with the port it listens on (0 in tests picks a free one). */
    listen(port = config.port): Promise<number> {
      server = httpServerFor(app);
      return listen(server, port);
    },

    /**
     * `confirmationMails: 'standby'` leaves the confirmation and welcome mails to other processes: `npm start` with
     * worker forks (WORKER_PROCESSES > 1), so the process answering the signups does not also build and send their
     * mails. It takes them too only while they do not (see README "Running the service").
     */
    startWorkers(opts: { confirmationMails?: 'here' | 'standby' } = {}): void {
      const lockDurationMs = config.delivery.lockSeconds * 1000;
      const run = { ...queues, log };
      const mails = transactionalWorker({ mail: transactionalMail, log });
      workers.push(
        opts.confirmationMails === 'standby'
          ? startStandbyWorker(mails, run, transactionalQueue.queue, STANDBY_AFTER_MS)
          : startQueueWorker(mails, run),
      );
      workers.push(startQueueWorker(campaignWorker({ delivery, log, lockDurationMs }), run));
      workers.push(startQueueWorker(campaignScheduleWorker({ campaigns, log }), run));
      workers.push(startQueueWorker(newsletterRunWorker({ digests, alerts, log }), run));
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
      if (mailboxFeedback && config.feedbackMailbox) {
        feedbackQueue = new FeedbackQueue({ ...queues, everySeconds: config.feedbackMailbox.pollSeconds, log });
        workers.push(startQueueWorker(feedbackWorker({ mailbox: mailboxFeedback, log }), run));
      }
    },

    /**
     * Two-phase shutdown: stop taking requests and jobs, let the work in hand finish (workers close after their
     * current jobs), then close connections.
     */
    async close(): Promise<void> {
      const servers = [server, opsServer].filter((s): s is Server => !!s);
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((ok) => {
              s.close(() => ok());
              s.closeIdleConnections?.();
            }),
        ),
      );
      for (const s of servers) s.closeAllConnections?.();
      if (!prepared || redis.status !== 'ready') {
        // Redis never answered (or is away now): there is no work in hand to finish, and BullMQ's close would wait
        // for connections that are not coming. Drop everything at once so SIGTERM exits promptly.
        await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
        for (const q of [transactionalQueue, campaignQueues, newsletterQueues]) void q.close().catch(() => undefined);
        void feed?.close().catch(() => undefined);
        void feedbackQueue?.close().catch(() => undefined);
        await transport.close();
        redis.disconnect();
        return;
      }
      await Promise.all(workers.map((w) => w.close()));
      // A producer's connection caught reconnecting (Redis restarted a moment ago) can make its close reject ("Stream
      // isn't writeable", seen once in a test's teardown): nothing is left to lose by then, so it is logged, and the
      // rest still closes.
      const closed = (what: string) => (err: Error) =>
        log.warn({ event: 'shutdown.close_failed', what, err: err.message }, 'could not close cleanly');
      await feed?.close().catch(closed('feed queue'));
      await feedbackQueue?.close().catch(closed('feedback queue'));
      await transactionalQueue.close().catch(closed('transactional queue'));
      await campaignQueues.close().catch(closed('campaign queues'));
      await newsletterQueues.close().catch(closed('newsletter queues'));
      await transport.close();
      redis.disconnect();
    },
  };
}

export type Container = ReturnType<typeof buildContainer>;
