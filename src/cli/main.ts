import { createReadStream, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve, basename } from 'node:path';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import type { Container } from '../container';
import type { Campaign } from '../domain/campaign';
import { DomainError } from '../domain/errors';
import type { ImportFormat, ImportSummary } from '../domain/subscriber-import';
import { closest, formatCount, formatDuration, formatRate, formatTime, keyValues, table } from './format';
import { campaignProgressLine, importProgressLine, LiveLine, percent, processedOf, RateMeter } from './progress';

/**
 * The operator CLI: `npm run cli -- <command>`. Boots like `npm start` (same settings, same Redis discovery) but
 * never listens or runs workers; each command parses its arguments, calls one use case and prints the result.
 * Usage errors are found before anything connects, so a typo answers at once and needs no Redis.
 */

const PROG = 'npm run cli --';

const EXIT = {
  ok: 0,
  /** The command ran and failed, or a followed campaign ended failed or cancelled. */
  failed: 1,
  usage: 2,
  /** A followed campaign paused (by itself or an operator): it needs a person. */
  paused: 3,
  interrupted: 130,
} as const;

/** The command line was wrong; printed with a pointer to the help, exit 2. */
class UsageError extends Error {
  constructor(message: string, readonly helpFor?: string) {
    super(message);
  }
}

/** A failure whose message says it all; exit 1. */
class CliError extends Error {}

type Values = Record<string, string | boolean | undefined>;

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder of the value in the help. */
  value?: string;
  help: string;
}

interface Ctx {
  container: Container;
  /** Aborted on Ctrl-C: long commands stop cleanly and say what happened. */
  signal: AbortSignal;
}

interface CommandSpec<I> {
  group: Group;
  name: string;
  /** Synopsis after the command's name, as in the help. */
  synopsis: string;
  /** A shorter synopsis for the list of all commands. Default: `synopsis`. */
  brief?: string;
  summary: string;
  /** Paragraphs after the synopsis in the command's help. */
  details?: string[];
  positionals: { name: string; optional?: boolean }[];
  options: Record<string, OptionSpec>;
  examples?: string[];
  /** Turns the arguments into the command's input; throws UsageError. Runs before anything connects. */
  parse(values: Values, positionals: string[]): I;
  run(ctx: Ctx, input: I): Promise<number | void>;
}

type Group = 'articles' | 'subscribers' | 'campaign';

const GROUPS: Record<Group, string> = {
  articles: 'Articles',
  subscribers: 'Subscribers',
  campaign: 'Campaigns',
};

const out = (text = '') => void process.stdout.write(`${text}\n`);
const err = (text = '') => void process.stderr.write(`${text}\n`);
const terminalWidth = () => (process.stdout.isTTY ? process.stdout.columns : undefined);

// ---------------------------------------------------------------------------------------------------------------
// Argument helpers

function positiveInt(raw: string, what: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${what} must be a positive whole number, got "${raw}"`);
  return n;
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function required(values: Values, name: string, spec: string): string {
  const v = str(values, name);
  if (v === undefined) throw new UsageError(`missing --${name}`, spec);
  if (!v.trim()) throw new UsageError(`--${name} must not be empty`, spec);
  return v;
}

const campaignId = (positionals: string[]) => positiveInt(positionals[0], 'campaign id');

function command<I>(spec: CommandSpec<I>): CommandSpec<unknown> {
  return spec as unknown as CommandSpec<unknown>;
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

const ARTICLE_FLAGS: Record<string, string> = { title: 'title', url: 'url', summary: 'summary', image: 'imageUrl', author: 'author', published: 'publishedAt' };

const articlesAdd = command<{ json: string } | { json?: undefined; article: Record<string, string> }>({
  group: 'articles',
  name: 'add',
  synopsis: '--title T --url U [--summary S] [--image URL] [--author A] [--published ISO] | --json file.json',
  brief: '--title T --url U [...] | --json file.json',
  summary: 'Add an article (or several, from a JSON file)',
  details: [
    'An article whose url is already known is not added twice: the stored one is shown instead.',
    'With --json, the file holds one article or an array of them, with the fields of POST /api/admin/articles: ' +
      'title, url, summary, bodyHtml, imageUrl, author, publishedAt. "-" reads standard input.',
  ],
  positionals: [],
  options: {
    title: { type: 'string', value: 'T', help: 'Headline (required unless --json)' },
    url: { type: 'string', value: 'U', help: 'Canonical http(s) link of the article (required unless --json)' },
    summary: { type: 'string', value: 'S', help: 'Plain-text summary' },
    image: { type: 'string', value: 'URL', help: 'Lead image, an http(s) URL' },
    author: { type: 'string', value: 'A', help: 'Byline' },
    published: { type: 'string', value: 'ISO', help: 'Publication time, ISO 8601 (default: now)' },
    json: { type: 'string', value: 'file.json', help: 'Read the article(s) from a JSON file instead of flags' },
  },
  examples: [`${PROG} articles add --title "Rates held" --url https://news.example/rates --author "Staff"`, `${PROG} articles add --json articles.json`],
  parse(values) {
    const json = str(values, 'json');
    if (json !== undefined) {
      const mixed = Object.keys(ARTICLE_FLAGS).filter((f) => values[f] !== undefined);
      if (mixed.length) throw new UsageError(`--json cannot be combined with ${mixed.map((f) => `--${f}`).join(', ')}`, 'articles add');
      return { json };
    }
    required(values, 'title', 'articles add');
    required(values, 'url', 'articles add');
    const article: Record<string, string> = {};
    for (const [flag, field] of Object.entries(ARTICLE_FLAGS)) {
      const v = str(values, flag);
      if (v !== undefined) article[field] = v;
    }
    return { article };
  },
  async run({ container }, input) {
    if (input.json === undefined) {
      printArticleResult(await container.articles.add(input.article));
      return;
    }
    const items = await readJsonFile(input.json);
    let failures = 0;
    for (const [i, item] of items.entries()) {
      try {
        printArticleResult(await container.articles.add(item));
      } catch (e) {
        if (!(e instanceof DomainError) || items.length === 1) throw e;
        failures++;
        err(`error: article ${i + 1} of ${items.length}: ${e.message}`);
      }
    }
    if (failures) {
      err(`${failures} of ${items.length} articles were not added`);
      return EXIT.failed;
    }
  },
});

function printArticleResult({ article, created }: { article: { id: number; title: string; url: string }; created: boolean }) {
  out(created ? `added article ${article.id}: ${article.title}` : `article ${article.id} already exists with this url, unchanged: ${article.title}`);
}

async function readJsonFile(file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = file === '-' ? await readAll(process.stdin) : await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const items = Array.isArray(data) ? data : [data];
  if (!items.length) throw new CliError(`${file} holds an empty array: no article to add`);
  return items;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

const articlesList = command<{ status: 'new' | 'all'; limit: number }>({
  group: 'articles',
  name: 'list',
  synopsis: '[--all] [--limit N]',
  summary: 'List new articles (not yet sent); --all for every one',
  positionals: [],
  options: {
    all: { type: 'boolean', help: 'Every article, sent ones included (newest first)' },
    limit: { type: 'string', value: 'N', help: 'At most N articles, 1-500 (default 100)' },
  },
  parse(values) {
    const limit = str(values, 'limit') === undefined ? 100 : positiveInt(str(values, 'limit')!, '--limit');
    if (limit > 500) throw new UsageError(`--limit must be at most 500, got ${limit}`, 'articles list');
    return { status: values.all ? 'all' : 'new', limit };
  },
  async run({ container }, input) {
    const articles = await container.articles.list(input);
    out(
      table(
        articles,
        [
          { header: 'ID', value: (a) => a.id, right: true },
          { header: 'PUBLISHED', value: (a) => formatTime(a.publishedAt) },
          { header: 'CAMPAIGN', value: (a) => (a.sentInCampaign ? `#${a.sentInCampaign}` : 'new') },
          { header: 'TITLE', value: (a) => a.title, flex: true },
        ],
        { maxWidth: terminalWidth(), empty: input.status === 'new' ? 'No new articles. Add some with: articles add' : 'No articles yet. Add some with: articles add' },
      ),
    );
    if (articles.length === input.limit) err(`(the newest ${input.limit}; use --limit to see more)`);
  },
});

const IMPORT_FORMATS: Record<string, ImportFormat> = { csv: 'csv', ndjson: 'ndjson', jsonl: 'ndjson' };

const subscribersImport = command<{ file: string; format: ImportFormat; gzip: boolean; size?: number }>({
  group: 'subscribers',
  name: 'import',
  synopsis: '<file.csv|file.ndjson|-> [--format csv|ndjson]',
  brief: '<file|-> [--format csv|ndjson]',
  summary: 'Import consented subscribers from CSV or NDJSON',
  details: [
    'Each row is {email, name?, consentAt, consentSource}: people who consented elsewhere, active at once with no ' +
      'confirmation mail. Suppressed (erased, bounced) and existing addresses are skipped; bad rows are listed ' +
      'with their line numbers and the good ones kept. A CSV file needs a header row.',
    'The format comes from the file name (.csv, .ndjson, .jsonl, optionally .gz) or --format; "-" reads standard ' +
      'input and needs --format. Progress goes to stderr, the summary to stdout. Exits 0 once the whole file is ' +
      'read, invalid rows or not. Stopped with Ctrl-C, the rows written so far stay and a rerun skips them.',
  ],
  positionals: [{ name: 'file' }],
  options: {
    format: { type: 'string', value: 'csv|ndjson', help: 'Format of the file (default: from its extension)' },
  },
  examples: [`${PROG} subscribers import readers.csv`, `zcat readers.ndjson.gz | ${PROG} subscribers import - --format ndjson`],
  parse(values, [file]) {
    const gzip = /\.gz$/i.test(file);
    const given = str(values, 'format');
    let format: ImportFormat | undefined;
    if (given !== undefined) {
      format = IMPORT_FORMATS[given.toLowerCase()];
      if (!format) throw new UsageError(`--format must be csv or ndjson, got "${given}"`, 'subscribers import');
    } else if (file === '-') {
      throw new UsageError('reading standard input needs --format csv or --format ndjson', 'subscribers import');
    } else {
      const ext = /\.([a-z0-9]+)$/i.exec(file.replace(/\.gz$/i, ''))?.[1]?.toLowerCase();
      format = ext ? IMPORT_FORMATS[ext] : undefined;
      if (!format) throw new UsageError(`cannot tell the format of "${basename(file)}" from its name: pass --format csv or --format ndjson`, 'subscribers import');
    }
    if (file === '-') return { file, format, gzip: false };
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new CliError(`${file} is not a file`);
      size = st.size;
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    return { file, format, gzip, size };
  },
  async run({ container, signal }, input) {
    return importFile(container, signal, input);
  },
});

/** Counts the bytes and line breaks that pass through, for the progress line. */
class Meter extends Transform {
  bytes = 0;
  lines = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.lines++;
    done(null, chunk);
  }
}

async function importFile(container: Container, signal: AbortSignal, input: { file: string; format: ImportFormat; gzip: boolean; size?: number }): Promise<number> {
  const source: Readable = input.file === '-' ? process.stdin : createReadStream(input.file);
  if (input.file === '-' && process.stdin.isTTY) err('reading subscribers from the terminal; end with Ctrl-D');
  const raw = new Meter();
  const decoded = input.gzip ? new Meter() : raw;
  const ignore = () => undefined; // the import sees the same error through its stream
  const body: Readable = input.gzip ? pipeline(source, raw, createGunzip(), decoded, ignore) : pipeline(source, raw, ignore);
  const stop = () => source.destroy(new Error('interrupted'));
  signal.addEventListener('abort', stop, { once: true });

  const live = new LiveLine(process.stderr, { intervalMs: 5000 });
  const lineRate = new RateMeter(5000);
  const started = Date.now();
  let imported: number | undefined;
  const draw = () => {
    lineRate.add(Date.now(), decoded.lines);
    live.update(importProgressLine({ bytes: raw.bytes, size: input.size, lines: decoded.lines, elapsedMs: Date.now() - started, linesPerSecond: lineRate.perSecond(), imported }, { tty: live.tty }));
  };
  const timer = setInterval(draw, live.tty ? 200 : 1000);
  // In a log, a first line of zeros says nothing; the next ones come every few seconds.
  if (live.tty) draw();
  else lineRate.add(started, 0);
  let summary: ImportSummary;
  try {
    summary = await container.subscriberImport.run(body, input.format, (p) => void (imported = p.imported));
  } catch (e) {
    live.clear();
    if (signal.aborted) {
      err(`import interrupted after ${formatCount(decoded.lines)} lines: the rows written so far are kept, and running the same import again skips them as existing.`);
      return EXIT.interrupted;
    }
    throw e;
  } finally {
    clearInterval(timer);
    signal.removeEventListener('abort', stop);
    source.destroy();
  }
  live.clear();
  const elapsed = Date.now() - started;
  printImportSummary(input.file === '-' ? 'standard input' : input.file, summary, elapsed);
  return EXIT.ok;
}

function printImportSummary(name: string, s: ImportSummary, elapsedMs: number) {
  const rows = s.imported + s.skipped.suppressed + s.skipped.existing + s.invalid;
  out(`imported ${formatCount(s.imported)} of ${formatCount(rows)} rows from ${name} in ${formatDuration(elapsedMs)} (${formatRate((rows * 1000) / Math.max(elapsedMs, 1))} rows/s)`);
  out(
    keyValues([
      ['  imported', formatCount(s.imported)],
      ['  skipped', `${formatCount(s.skipped.suppressed + s.skipped.existing)} (${formatCount(s.skipped.suppressed)} suppressed, ${formatCount(s.skipped.existing)} already subscribed)`],
      ['  invalid', formatCount(s.invalid)],
    ]),
  );
  if (!s.errors.length) return;
  const shown = s.errors.slice(0, 10);
  out(`first invalid rows:`);
  for (const e of shown) out(`  line ${e.line}: ${e.reason}`);
  if (s.invalid > shown.length) out(`  ... and ${formatCount(s.invalid - shown.length)} more`);
}

const subscribersShow = command<{ email: string; json: boolean }>({
  group: 'subscribers',
  name: 'show',
  synopsis: '<email> [--json]',
  summary: 'Everything held on a subscriber, consent trail included',
  details: ['The same data as GET /api/admin/subscribers/:email (the right of access); --json prints it as that JSON.'],
  positionals: [{ name: 'email' }],
  options: { json: { type: 'boolean', help: 'Print the export as JSON' } },
  parse: (values, [email]) => ({ email, json: Boolean(values.json) }),
  async run({ container }, input) {
    const data = await container.subscriptions.export(input.email);
    if (input.json) return void out(JSON.stringify(data, null, 2));
    const { subscriber: s, consent: c, trail } = data;
    out(
      keyValues([
        ['email', s.email],
        ['name', s.name || '-'],
        ['status', s.status],
        ['id', s.id],
        ['created', formatTime(s.createdAt)],
        ['updated', formatTime(s.updatedAt)],
        ['confirmed', s.confirmedAt && formatTime(s.confirmedAt)],
        ['unsubscribed', s.unsubscribedAt && formatTime(s.unsubscribedAt)],
        ['bounced', s.bouncedAt && formatTime(s.bouncedAt)],
        ['consent', `${formatTime(c.at)}, terms ${c.termsVersion || '-'}, source ${c.source || '-'}, ip ${c.ip || '-'}`],
      ]),
    );
    out();
    out(`consent trail (${trail.length} event${trail.length === 1 ? '' : 's'}):`);
    out(
      table(
        trail,
        [
          { header: 'AT', value: (e) => formatTime(e.at) },
          { header: 'EVENT', value: (e) => e.type },
          { header: 'TERMS', value: (e) => e.termsVersion || '-' },
          { header: 'IP', value: (e) => e.ip || '-' },
          { header: 'SOURCE / DETAIL', value: (e) => [e.source, e.detail].filter(Boolean).join(' · ') || '-', flex: true },
        ],
        { maxWidth: terminalWidth() },
      ),
    );
  },
});

const subscribersErase = command<{ email: string }>({
  group: 'subscribers',
  name: 'erase',
  synopsis: '<email>',
  summary: 'Erase a subscriber; a hash of the address stays suppressed',
  details: ['Deletes the record and consent trail (the right to erasure). A hash of the address stays on the suppression list, so it is never mailed again, even if it comes back in an import.'],
  positionals: [{ name: 'email' }],
  options: {},
  parse: (_values, [email]) => ({ email }),
  async run({ container }, input) {
    await container.subscriptions.erase(input.email);
    out(`erased ${input.email.trim()}; its hash stays on the suppression list, so it will not be mailed again`);
  },
});

const campaignCreate = command<{ subject?: string; articleIds?: number[] }>({
  group: 'campaign',
  name: 'create',
  synopsis: '[--subject S] [--articles 1,2,3]',
  summary: 'Create a draft campaign from new articles',
  details: ['With no --articles, the campaign carries every new article; the subject defaults to the lead article\'s title.'],
  positionals: [],
  options: {
    subject: { type: 'string', value: 'S', help: 'Subject line' },
    articles: { type: 'string', value: '1,2,3', help: 'Article ids, in the order to show them' },
  },
  parse(values) {
    const list = str(values, 'articles');
    const articleIds = list === undefined ? undefined : list.split(',').map((s) => positiveInt(s.trim(), 'each --articles id'));
    if (articleIds && new Set(articleIds).size !== articleIds.length) throw new UsageError('--articles lists an id twice', 'campaign create');
    return { subject: str(values, 'subject'), articleIds };
  },
  async run({ container }, input) {
    const c = await container.campaigns.create(input);
    out(`created campaign ${c.id} (draft) with ${c.articleIds.length} article${c.articleIds.length === 1 ? '' : 's'}: ${c.subject}`);
    err(`next: ${PROG} campaign preview ${c.id}, then campaign test ${c.id} --to you@example.com, then campaign send ${c.id} --follow`);
  },
});

const campaignList = command<Record<string, never>>({
  group: 'campaign',
  name: 'list',
  synopsis: '',
  summary: 'List campaigns, newest first',
  positionals: [],
  options: {},
  parse: () => ({}),
  async run({ container }) {
    const campaigns = await container.campaigns.list();
    out(
      table(
        campaigns,
        [
          { header: 'ID', value: (c) => c.id, right: true },
          { header: 'STATUS', value: (c) => c.status },
          { header: 'SENT', value: (c) => (c.status === 'draft' ? '-' : `${formatCount(c.sent)}/${formatCount(c.total)}`), right: true },
          { header: 'FAILED', value: (c) => formatCount(c.failed), right: true },
          { header: 'BOUNCED', value: (c) => formatCount(c.bounced), right: true },
          { header: 'CREATED', value: (c) => formatTime(c.createdAt) },
          { header: 'SUBJECT', value: (c) => c.subject, flex: true },
        ],
        { maxWidth: terminalWidth(), empty: 'No campaigns yet. Create one with: campaign create' },
      ),
    );
  },
});

const campaignPreview = command<{ id: number; out?: string }>({
  group: 'campaign',
  name: 'preview',
  synopsis: '<id> [--out file.html]',
  summary: 'Write the rendered newsletter to an HTML file',
  details: ['Writes the newsletter as a subscriber would see it (the sent content once sending started) and prints the file\'s path.'],
  positionals: [{ name: 'id' }],
  options: { out: { type: 'string', short: 'o', value: 'file.html', help: 'Where to write it (default: campaign-<id>.html here)' } },
  parse: (values, positionals) => ({ id: campaignId(positionals), out: str(values, 'out') }),
  async run({ container }, input) {
    const html = await container.campaigns.preview(input.id);
    const path = resolve(input.out ?? `campaign-${input.id}.html`);
    try {
      await writeFile(path, html);
    } catch (e) {
      throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
    }
    out(path);
  },
});

const campaignTest = command<{ id: number; to: string }>({
  group: 'campaign',
  name: 'test',
  synopsis: '<id> --to email',
  summary: 'Send one test message of the campaign',
  details: ['Sends right away, outside the list: no counters change and the unsubscribe link in it does nothing.'],
  positionals: [{ name: 'id' }],
  options: { to: { type: 'string', value: 'email', help: 'Recipient of the test (required)' } },
  parse: (values, positionals) => ({ id: campaignId(positionals), to: required(values, 'to', 'campaign test') }),
  async run({ container }, input) {
    const r = await container.campaigns.test(input.id, { to: input.to });
    out(`test message of campaign ${input.id} sent to ${r.to} (${container.transport.describe}; message id ${r.messageId})`);
  },
});

const FOLLOW_HELP = 'Show live progress on stderr until the campaign ends; exit 0 when it is sent, 1 when it fails or is cancelled, 3 when it pauses';

const campaignSend = command<{ id: number; follow: boolean }>({
  group: 'campaign',
  name: 'send',
  synopsis: '<id> [--follow]',
  summary: 'Send a draft campaign to every active subscriber',
  details: ['Renders the newsletter once and queues it; the workers (npm run worker, or npm start) do the sending.'],
  positionals: [{ name: 'id' }],
  options: { follow: { type: 'boolean', short: 'f', help: FOLLOW_HELP } },
  examples: [`${PROG} campaign send 4 --follow`],
  parse: (values, positionals) => ({ id: campaignId(positionals), follow: Boolean(values.follow) }),
  async run(ctx, input) {
    const c = await ctx.container.campaigns.send(input.id);
    out(`campaign ${c.id} is sending to ${formatCount(c.total)} active subscriber${c.total === 1 ? '' : 's'}`);
    await warnIfNoWorker(ctx.container);
    if (input.follow) return follow(ctx, c.id, { json: false });
  },
});

const campaignStatus = command<{ id: number; json: boolean; follow: boolean }>({
  group: 'campaign',
  name: 'status',
  synopsis: '<id> [--json] [--follow]',
  summary: 'Show a campaign\'s status and counts',
  details: ['--json prints the campaign as GET /api/admin/campaigns/:id answers it (with --follow, once it ends).'],
  positionals: [{ name: 'id' }],
  options: {
    json: { type: 'boolean', help: 'Print JSON' },
    follow: { type: 'boolean', short: 'f', help: FOLLOW_HELP },
  },
  parse: (values, positionals) => ({ id: campaignId(positionals), json: Boolean(values.json), follow: Boolean(values.follow) }),
  async run(ctx, input) {
    if (input.follow) {
      const c = await ctx.container.campaigns.get(input.id);
      if (c.status === 'sending') await warnIfNoWorker(ctx.container);
      return follow(ctx, input.id, { json: input.json });
    }
    const c = await ctx.container.campaigns.get(input.id);
    out(input.json ? JSON.stringify(c, null, 2) : campaignBlock(c));
  },
});

function lifecycle(name: 'pause' | 'resume' | 'cancel', summary: string, details: string) {
  return command<{ id: number }>({
    group: 'campaign',
    name,
    synopsis: '<id>',
    summary,
    details: [details],
    positionals: [{ name: 'id' }],
    options: {},
    parse: (_values, positionals) => ({ id: campaignId(positionals) }),
    async run({ container }, input) {
      const c = await container.campaigns[name](input.id);
      out(`campaign ${c.id} is ${c.status} (${formatCount(c.sent)} of ${formatCount(c.total)} sent)`);
      if (name === 'resume') await warnIfNoWorker(container);
    },
  });
}

const campaignPause = lifecycle('pause', 'Pause a sending campaign', 'Every batch checks the status before it sends, so sending stops within one batch; resume continues where it stopped.');
const campaignResume = lifecycle('resume', 'Resume a paused campaign', 'Continues from where the campaign stopped; nobody is mailed twice.');
const campaignCancel = lifecycle('cancel', 'Cancel a campaign for good', 'A cancelled campaign cannot be resumed; the messages already sent stay sent.');

const COMMANDS: CommandSpec<unknown>[] = [
  articlesAdd,
  articlesList,
  subscribersImport,
  subscribersShow,
  subscribersErase,
  campaignCreate,
  campaignList,
  campaignPreview,
  campaignTest,
  campaignSend,
  campaignStatus,
  campaignPause,
  campaignResume,
  campaignCancel,
];

// ---------------------------------------------------------------------------------------------------------------
// Following a campaign

const NO_WORKER =
  'warning: no worker is running, so nothing will be sent until `npm run worker` or `npm start` runs against the same Redis and REDIS_PREFIX.';

/** True when some worker takes delivery jobs; undefined when Redis will not tell (CLIENT LIST not allowed). */
async function workersRunning(container: Container): Promise<boolean | undefined> {
  try {
    return (await container.campaignQueues.deliveries.getWorkers()).length > 0;
  } catch (e) {
    container.log.debug({ event: 'cli.workers_unknown', err: (e as Error).message }, 'cannot list workers');
    return undefined;
  }
}

async function warnIfNoWorker(container: Container): Promise<void> {
  if ((await workersRunning(container)) === false) err(NO_WORKER);
}

/**
 * Polls the campaign and redraws its progress line until it leaves `sending`. Ends with the final counts on stdout
 * and an exit code scripts can act on: sent 0, failed or cancelled 1, paused 3 (with the reason).
 */
async function follow({ container, signal }: Ctx, id: number, opts: { json: boolean }): Promise<number> {
  let c = await container.campaigns.get(id);
  if (c.status === 'draft') throw new CliError(`campaign ${id} is a draft, so there is nothing to follow yet: start it with campaign send ${id} --follow`);
  const live = new LiveLine(process.stderr, { intervalMs: 5000 });
  const meter = new RateMeter(10_000);
  const pollMs = live.tty ? 500 : 1000;
  let lastWorkerCheck = Date.now();
  let warnedNoWorker = false;
  while (c.status === 'sending') {
    meter.add(Date.now(), processedOf(c));
    live.update(campaignProgressLine(c, meter.perSecond(), { tty: live.tty }));
    if (Date.now() - lastWorkerCheck > 10_000) {
      lastWorkerCheck = Date.now();
      const running = await workersRunning(container);
      if (running === false && !warnedNoWorker) live.note(NO_WORKER);
      warnedNoWorker = running === false;
    }
    try {
      await sleep(pollMs, undefined, { signal });
    } catch {
      live.done();
      err(`stopped following; campaign ${id} is still ${c.status}. Follow it again with: ${PROG} campaign status ${id} --follow`);
      return EXIT.interrupted;
    }
    c = await container.campaigns.get(id);
  }
  live.update(campaignProgressLine(c, meter.perSecond(), { tty: live.tty }), true);
  live.done();

  out(opts.json ? JSON.stringify(c, null, 2) : finalLine(c));
  if (c.status === 'sent') return EXIT.ok;
  if (c.status === 'paused') {
    err(`campaign ${id} paused: ${c.reason || 'no reason recorded'}`);
    err(`resume it with: ${PROG} campaign resume ${id}   (then follow it with: campaign status ${id} --follow)`);
    return EXIT.paused;
  }
  err(`campaign ${id} ${c.status}${c.reason ? `: ${c.reason}` : ''}`);
  return EXIT.failed;
}

function finalLine(c: Campaign): string {
  const took = c.startedAt && c.finishedAt ? Date.parse(c.finishedAt) - Date.parse(c.startedAt) : NaN;
  const speed = Number.isFinite(took) && took > 0 ? ` in ${formatDuration(took)} (${formatRate((processedOf(c) * 1000) / took)} msg/s)` : '';
  return `campaign ${c.id} ${c.status}: ${formatCount(c.sent)} sent, ${formatCount(c.failed)} failed, ${formatCount(c.bounced)} bounced, ${formatCount(c.skipped)} skipped of ${formatCount(c.total)}${speed}`;
}

function campaignBlock(c: Campaign): string {
  const processed = processedOf(c);
  return keyValues([
    ['campaign', c.id],
    ['status', c.status],
    ['subject', c.subject],
    ['articles', c.articleIds.join(', ')],
    ['progress', c.status === 'draft' ? '-' : `${formatCount(processed)} of ${c.fanoutDone || c.status !== 'sending' ? '' : '~'}${formatCount(c.total)} (${percent(processed, c.total)})`],
    ['sent', formatCount(c.sent)],
    ['failed', formatCount(c.failed)],
    ['bounced', formatCount(c.bounced)],
    ['skipped', formatCount(c.skipped)],
    ['created', formatTime(c.createdAt)],
    ['started', formatTime(c.startedAt)],
    ['finished', formatTime(c.finishedAt)],
    ['reason', c.reason || undefined],
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Help

function optionLines(spec: CommandSpec<unknown>): [string, string][] {
  const lines: [string, string][] = Object.entries(spec.options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`, o.help]);
  lines.push(['-h, --help', 'Show this help']);
  return lines;
}

/** Rows of "left  right", the right column aligned at `width` (default: the widest left, up to 56); longer lefts wrap. */
function twoColumns(rows: [string, string][], width = Math.min(Math.max(...rows.map(([a]) => a.length)), 56), indent = 2): string {
  return rows.map(([a, b]) => (a.length > width ? `${' '.repeat(indent)}${a}\n${' '.repeat(indent + width + 2)}${b}` : `${' '.repeat(indent)}${a.padEnd(width)}  ${b}`)).join('\n');
}

const usageOf = (spec: CommandSpec<unknown>, brief = false) => {
  const synopsis = brief ? (spec.brief ?? spec.synopsis) : spec.synopsis;
  return `${spec.group} ${spec.name}${synopsis ? ` ${synopsis}` : ''}`;
};

function commandHelp(spec: CommandSpec<unknown>): string {
  const parts = [`Usage: ${PROG} ${usageOf(spec)}`, '', spec.summary + '.'];
  for (const d of spec.details ?? []) parts.push('', d);
  parts.push('', 'Options:', twoColumns(optionLines(spec)));
  if (spec.examples?.length) parts.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return parts.join('\n');
}

function groupHelp(group: Group): string {
  const specs = COMMANDS.filter((c) => c.group === group);
  return [`Usage: ${PROG} ${group} <command> [options]`, '', `${GROUPS[group]}:`, twoColumns(specs.map((s) => [usageOf(s, true), s.summary])), '', `Run '${PROG} ${group} <command> --help' for a command's options.`].join('\n');
}

function mainHelp(): string {
  // One width for every section, so the summaries line up down the page.
  const width = Math.min(Math.max(...COMMANDS.map((c) => usageOf(c, true).length)), 56);
  const sections = (Object.keys(GROUPS) as Group[]).map((g) => `${GROUPS[g]}:\n${twoColumns(COMMANDS.filter((c) => c.group === g).map((s) => [usageOf(s, true), s.summary]), width)}`);
  return [
    'Operator CLI of the newsletter service.',
    '',
    `Usage: ${PROG} <command> [options]`,
    `       ${PROG} <command> --help`,
    '',
    ...sections.flatMap((s) => [s, '']),
    'Settings come from the environment, as for npm start (REDIS_URL, REDIS_PREFIX, SMTP_URL, DATA_DIR, ...). With no',
    'REDIS_URL the CLI finds the same Redis npm start uses: 127.0.0.1:6379, else the embedded one under DATA_DIR/redis.',
    'Results go to stdout; progress, hints and errors to stderr. Logs: LOG_LEVEL (default warn here), on stderr.',
    '',
    'Exit codes: 0 done; 1 failed, or a followed campaign ended failed or cancelled; 2 usage error;',
    '            3 a followed campaign paused; 130 interrupted (Ctrl-C).',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Dispatch

type Invocation = { kind: 'help'; text: string; code: number } | { kind: 'run'; spec: CommandSpec<unknown>; input: unknown };

const isHelp = (a: string) => a === '--help' || a === '-h';

function resolveInvocation(argv: string[]): Invocation {
  let args = argv;
  if (args[0] === 'help') args = [...args.slice(1), '--help'];
  const [groupArg, name, ...rest] = args;
  if (groupArg === undefined) return { kind: 'help', text: mainHelp(), code: EXIT.usage };
  if (isHelp(groupArg)) return { kind: 'help', text: mainHelp(), code: EXIT.ok };
  if (!(groupArg in GROUPS)) {
    // "send" alone names a command of a group; anything else may be a typo of a group.
    const sub = COMMANDS.find((c) => c.name === groupArg);
    const guess = sub ? `${sub.group} ${sub.name}` : closest(groupArg, Object.keys(GROUPS));
    const hint = guess ? ` Did you mean "${guess}"?` : '';
    throw new UsageError(`unknown command "${groupArg}".${hint}`);
  }
  const group = groupArg as Group;
  if (name === undefined) return { kind: 'help', text: groupHelp(group), code: EXIT.usage };
  if (isHelp(name)) return { kind: 'help', text: groupHelp(group), code: EXIT.ok };
  const spec = COMMANDS.find((c) => c.group === group && c.name === name);
  if (!spec) {
    const guess = closest(name, COMMANDS.filter((c) => c.group === group).map((c) => c.name));
    throw new UsageError(`unknown command "${group} ${name}".${guess ? ` Did you mean "${group} ${guess}"?` : ''}`, group);
  }
  const key = `${group} ${name}`;
  // Help wins over every other mistake on the line: asking for it is how one fixes them.
  if (rest.some(isHelp)) return { kind: 'help', text: commandHelp(spec), code: EXIT.ok };

  let parsed: { values: Values; positionals: string[] };
  try {
    const options = Object.fromEntries(Object.entries(spec.options).map(([n, o]) => [n, { type: o.type, ...(o.short ? { short: o.short } : {}) }]));
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (e) {
    throw new UsageError(argsErrorMessage(e as Error & { code?: string }, spec), key);
  }
  const { positionals } = parsed;
  const needed = spec.positionals.filter((p) => !p.optional).length;
  if (positionals.length < needed) throw new UsageError(`missing <${spec.positionals[positionals.length].name}>`, key);
  if (positionals.length > spec.positionals.length) throw new UsageError(`unexpected argument "${positionals[spec.positionals.length]}"`, key);
  try {
    return { kind: 'run', spec, input: spec.parse(parsed.values, positionals) };
  } catch (e) {
    if (e instanceof UsageError && !e.helpFor) throw new UsageError(e.message, key);
    throw e;
  }
}

/** Node's parseArgs messages, made short and specific to this command. */
function argsErrorMessage(e: Error & { code?: string }, spec: CommandSpec<unknown>): string {
  const option = /'(-{1,2}[^' ]+)/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
    const known = Object.keys(spec.options);
    const guess = closest(option.replace(/^-+/, ''), known);
    return `unknown option ${option} for "${spec.group} ${spec.name}"${guess ? `. Did you mean --${guess}?` : known.length ? '' : ' (it takes none)'}`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return /does not take an argument/.test(e.message) ? `${option} does not take a value` : `${option} needs a value`;
  }
  return e.message;
}

/**
 * Boots like src/main.ts, minus the HTTP server and the workers. Loaded on demand: help and usage errors answer
 * without loading Express, MJML and BullMQ.
 */
async function boot() {
  const [{ default: pino }, { parseEnv, loadDotEnv }, { buildContainer }, { resolveConfig }, { redisAnswers, resolveRedis }] = await Promise.all([
    import('pino'),
    import('../config'),
    import('../container'),
    import('../runtime/boot'),
    import('../runtime/embedded-redis'),
  ]);
  loadDotEnv();
  const env = parseEnv(process.env);
  const { config } = resolveConfig(env);
  // Logs go to stderr so stdout holds only results; info-level events would drown the CLI's own output.
  const level = process.env.LOG_LEVEL ? config.logLevel : 'warn';
  const log = pino({ level, base: { service: 'newsletter', role: 'cli' } }, pino.destination({ dest: 2, sync: true }));
  const redis = await resolveRedis(env.REDIS_URL, config.dataDir);
  // A configured Redis that is down would leave the queue connections retrying forever: say so instead.
  if (!redis.child && !(await redisAnswers(redis.options))) throw new CliError(`Redis does not answer at ${redis.describe}; is it running? (REDIS_URL)`);
  const container = buildContainer({ config, redis: redis.options, smtpUrl: env.SMTP_URL, log });
  return {
    container,
    async close() {
      await container.close();
      redis.child?.kill('SIGTERM');
    },
  };
}

/** Codes of ConfigError and RedisUnavailableError (classes loaded with the container): their messages say it all. */
const BOOT_ERRORS = new Set(['invalid_config', 'redis_unavailable']);

function reportFailure(e: unknown): number {
  if (e instanceof DomainError) {
    err(`error: ${e.message}`);
    const issues = (e.details as { issues?: { field: string; message: string }[] } | undefined)?.issues;
    if (issues && issues.length > 1) for (const i of issues.slice(1)) err(`       ${i.field} ${i.message}`);
  } else if (e instanceof CliError || (e instanceof Error && BOOT_ERRORS.has((e as { code?: string }).code ?? ''))) {
    err(`error: ${e.message}`);
  } else {
    err(`error: unexpected failure: ${(e as Error)?.stack ?? e}`);
  }
  return EXIT.failed;
}

async function main(argv: string[]): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = resolveInvocation(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${e.message}`);
      err(`Run '${PROG} ${e.helpFor ? `${e.helpFor} ` : ''}--help' for usage.`);
      return EXIT.usage;
    }
    if (e instanceof CliError) return reportFailure(e);
    throw e;
  }
  if (invocation.kind === 'help') {
    (invocation.code === EXIT.ok ? out : err)(invocation.text);
    return invocation.code;
  }

  const abort = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    // The first Ctrl-C lets the command stop cleanly; a second one does not wait.
    if (++interrupts > 1) process.exit(EXIT.interrupted);
    abort.abort();
  });

  let app: Awaited<ReturnType<typeof boot>> | undefined;
  try {
    app = await boot();
    const code = await invocation.spec.run({ container: app.container, signal: abort.signal }, invocation.input);
    return code ?? EXIT.ok;
  } catch (e) {
    return reportFailure(e);
  } finally {
    await app?.close().catch((e) => err(`warning: closing connections failed: ${(e as Error).message}`));
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed, so the process ends by itself; this only guards against a handle a library leaks.
    setTimeout(() => process.exit(code), 5000).unref();
  },
  (e) => {
    process.exitCode = reportFailure(e);
  },
);
