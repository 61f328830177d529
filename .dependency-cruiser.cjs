// Architecture layering check: `npm run lint:layers` (also part of `npm run lint`).
// The layout: src/domain (pure business rules and its ports), adapters in src/store, src/mail, src/queue,
// src/metrics and src/feedback-mailbox, the HTTP edge in src/http, the providers' webhook adapters in src/webhooks,
// the CLI in src/cli, process plumbing in src/runtime, generic helpers in src/lib, job processors in workers/,
// src/config.ts, and src/container.ts, the one place that wires them together.
// Tests and bench are not checked: they may reach into any layer.

/** The webhook adapters' contract: the one file of src/webhooks that the HTTP edge and the runtime may name. */
const WEBHOOK_CONTRACT = '^src/webhooks/webhook\\.ts$';

/** A module of this project (as opposed to an npm package or a Node built-in). */
const PROJECT = '^(src|workers|test|bench|templates)/|^[^/]+\\.(ts|js|cjs|json)$';

/** Any import of one of these npm packages, including its @types package (type-only imports resolve there). */
const npm = (...names) => `(^|/)node_modules/(@types/)?(${names.join('|')})/`;

/** Where each confined library may be imported from. */
const confine = (name, packages, allowed, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: '^(src|workers)/', pathNot: allowed },
  to: { path: npm(...packages) },
});

/** Modules under `from` may import, of the project, only what `allowed` matches. */
const onlyImports = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: PROJECT, pathNot: allowed },
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Modules that import each other in a cycle cannot be understood, tested or loaded one at a time.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      comment:
        'The domain holds the business rules and reaches Redis, SMTP, HTTP and queues only through its own ports, ' +
        'so it imports no project file outside src/domain and none of the infrastructure libraries.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: {
        path: [
          PROJECT,
          npm(
            'express',
            'ioredis',
            'bullmq',
            'nodemailer',
            'mjml',
            'prom-client',
            'helmet',
            'rate-limiter-flexible',
            'smtp-server',
            'playwright-core',
            'imapflow',
            'mailparser',
          ),
        ],
        pathNot: '^src/domain/',
      },
    },
    onlyImports(
      'lib-is-a-leaf',
      '^src/lib/',
      '^src/lib/',
      'src/lib holds generic helpers that every layer may use, so it must not depend on any of those layers.',
    ),
    onlyImports(
      'adapters-use-only-domain-and-lib',
      '^src/(store|mail|queue|metrics|feedback-mailbox)/',
      ['^src/(domain|lib)/', '^src/$1/'],
      'An adapter (store, mail, queue, metrics, feedback-mailbox) implements domain ports with one technology, ' +
        'so it imports only src/domain, src/lib and its own folder, never another adapter or an outer layer.',
    ),
    onlyImports(
      'http-calls-the-domain',
      '^src/http/',
      ['^src/(domain|lib|http)/', WEBHOOK_CONTRACT],
      'HTTP routes translate requests into domain calls and get their collaborators from the container, ' +
        'so they import only src/domain, src/lib, src/http and the webhook adapters’ contract.',
    ),
    onlyImports(
      'webhooks-verify-and-translate',
      '^src/webhooks/',
      '^src/(domain|lib|webhooks)/',
      'A webhook adapter verifies a provider’s delivery and translates it into the domain’s InboundFeedback, ' +
        'so it imports only src/domain, src/lib and its own folder; the routes and the store reach it through the container.',
    ),
    onlyImports(
      'workers-are-processors',
      '^workers/',
      '^(src/(domain|queue|lib)/|workers/)',
      'A worker only turns a queued job into a domain call, ' +
        'so it imports only src/domain, src/queue, src/lib and other workers.',
    ),
    {
      // The workers' side of this rule is workers-are-processors (which lets workers import src/queue).
      name: 'only-the-composition-root-wires',
      comment:
        'Only src/container.ts picks the concrete store, mail, queue, http, metrics, feedback-mailbox, webhook and ' +
        'worker modules, so everything else depends on domain ports (or the webhook contract) and stays swappable.',
      severity: 'error',
      from: { path: '^(src/[^/]+)(/|$)', pathNot: '^src/container\\.ts$' },
      to: {
        path: '^(src/(store|mail|queue|http|metrics|webhooks|feedback-mailbox)|workers)/',
        pathNot: ['^$1/', WEBHOOK_CONTRACT],
      },
    },
    onlyImports(
      'config-is-a-leaf',
      '^src/config\\.ts$',
      '^src/lib/',
      'The configuration is read from the environment before anything else exists, ' +
        'so src/config.ts imports nothing of the project except src/lib.',
    ),
    confine(
      'bullmq-only-in-queue',
      ['bullmq'],
      '^src/queue/',
      'BullMQ is an implementation detail of the job queues, so only src/queue may import it.',
    ),
    confine(
      'express-only-in-http',
      ['express', 'helmet'],
      '^src/http/',
      'Express and Helmet belong to the HTTP edge, so only src/http may import them.',
    ),
    confine(
      'ioredis-only-in-store-and-runtime',
      ['ioredis'],
      '^src/(store/|runtime/|container\\.ts$)',
      'Redis connections are made by the container and the runtime and used by the stores, ' +
        'so nothing else imports ioredis.',
    ),
    confine(
      'mail-libs-only-in-mail',
      ['nodemailer', 'mjml'],
      '^src/mail/',
      'Rendering and sending mail is the mail adapter’s job, so only src/mail may import Nodemailer and MJML.',
    ),
    confine(
      'imap-and-mime-only-in-feedback-mailbox',
      ['imapflow', 'mailparser'],
      // The CLI's `outbox` command is the other reader of MIME: it lists the .eml files of a development outbox,
      // offline, with no container to go through.
      '^(src/feedback-mailbox/|src/cli/commands/outbox\\.ts$)',
      'Reading the feedback mailbox (IMAP) and taking its reports apart (MIME) is that adapter’s job, ' +
        'so only src/feedback-mailbox (and the CLI’s outbox listing) may import imapflow and mailparser.',
    ),
    confine(
      'prom-client-only-in-metrics',
      ['prom-client'],
      '^src/metrics/',
      'Metrics are recorded through the domain’s metrics port, so only src/metrics may import prom-client.',
    ),
    confine(
      'rate-limiter-only-in-store',
      ['rate-limiter-flexible'],
      '^src/store/',
      'Rate limits are kept in Redis by the store, so only src/store may import rate-limiter-flexible.',
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules is not excluded, only not followed: the rules above need to see which packages are imported.
    exclude: { path: '^(dist|var|coverage)/' },
    // Type-only imports count: a domain type that names an adapter type is a dependency all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.d.ts', '.js', '.cjs', '.json'],
      exportsFields: ['exports'],
      // CommonJS output: resolve packages the way require() does.
      conditionNames: ['require', 'node', 'default', 'types'],
      mainFields: ['main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
