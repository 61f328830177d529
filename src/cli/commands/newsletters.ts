import type { NewsletterView } from '../../domain/digest-schedules';
import type { Newsletter } from '../../domain/newsletter';
import type { NewsletterRun } from '../../domain/newsletter-run';
import { command, positiveInt, str, type Values } from '../command-spec';
import { UsageError } from '../errors';
import { keyValues, table } from '../format';
import { out, terminalWidth } from '../output';
import { PROG } from '../program';

/** The flags that set a field, shared by create and update. */
const FIELD_OPTIONS = {
  name: { type: 'string', value: 'N', help: 'Name readers see' },
  description: { type: 'string', value: 'D', help: 'One or two sentences on what it brings' },
  'from-name': { type: 'string', value: 'F', help: "Display name in From (default: the site's)" },
  categories: { type: 'string', value: 'a,b', help: 'Take only articles in these categories (default: every one)' },
  mode: { type: 'string', value: 'digest|alerts', help: 'A digest now and then, or an alert per article' },
  cron: { type: 'string', value: 'C', help: 'Digest schedule, e.g. "0 7 * * *" (with --timezone)' },
  timezone: { type: 'string', value: 'Z', help: 'IANA time zone of --cron, e.g. Europe/London' },
  'min-articles': { type: 'string', value: 'N', help: 'New articles a scheduled digest needs to go out (default 1)' },
  'alerts-per-day': { type: 'string', value: 'N', help: 'Most alerts a day (alerts only)' },
  public: { type: 'boolean', help: 'Offer it on the signup and preference pages (the default)' },
  private: { type: 'boolean', help: 'Keep it off those pages: only imports and operators add readers' },
} as const;

/** The API body the flags describe: only the fields given, so an update changes only those. */
function fieldsOf(values: Values, commandName: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [flag, field] of [
    ['name', 'name'],
    ['description', 'description'],
    ['from-name', 'fromName'],
    ['mode', 'mode'],
  ] as const) {
    const v = str(values, flag);
    if (v !== undefined) body[field] = v;
  }
  const categories = str(values, 'categories');
  if (categories !== undefined)
    body.categories = categories
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
  const cron = str(values, 'cron');
  const timezone = str(values, 'timezone');
  const minArticles = str(values, 'min-articles');
  // A schedule is replaced whole: half of one (a zone without its cron) would be read in the wrong place.
  if ((cron === undefined) !== (timezone === undefined) || (minArticles !== undefined && cron === undefined))
    throw new UsageError('--cron and --timezone go together (and --min-articles with them)', commandName);
  if (cron !== undefined)
    body.schedule = {
      cron,
      timezone,
      ...(minArticles !== undefined ? { minArticles: positiveInt(minArticles, '--min-articles') } : {}),
    };
  const perDay = str(values, 'alerts-per-day');
  if (perDay !== undefined) body.alertsPerDay = positiveInt(perDay, '--alerts-per-day');
  if (values.public && values.private)
    throw new UsageError('--public and --private contradict each other', commandName);
  if (values.public) body.public = true;
  if (values.private) body.public = false;
  return body;
}

function slugOf(positionals: string[]): string {
  return positionals[0];
}

const newsletterCreate = command<{ body: Record<string, unknown> }>({
  group: 'newsletter',
  name: 'create',
  synopsis:
    '<slug> --name N [--description D] [--private] [--mode digest|alerts] [--categories a,b] [--cron C --timezone Z]',
  brief: '<slug> --name N [...]',
  summary: 'Create a newsletter readers can choose',
  details: [
    'The slug (lowercase letters, digits, hyphens) names it in the API and forms, and never changes. ' +
      'A digest may have a schedule (--cron in --timezone, at most every 5 minutes); alerts may have --alerts-per-day.',
  ],
  positionals: [{ name: 'slug' }],
  options: FIELD_OPTIONS,
  examples: [
    `${PROG} newsletter create morning-briefing --name "The Morning Briefing" --cron "0 7 * * *" --timezone Europe/London`,
    `${PROG} newsletter create breaking --name "Breaking news" --mode alerts --alerts-per-day 5`,
  ],
  parse(values, positionals) {
    return { body: { slug: slugOf(positionals), ...fieldsOf(values, 'newsletter create') } };
  },
  async run({ container }, input) {
    const n = await container.newsletters.create(input.body);
    out(`created newsletter ${n.slug} (${describeMode(n)}): ${n.name}`);
  },
});

const newsletterList = command<Record<string, never>>({
  group: 'newsletter',
  name: 'list',
  synopsis: '',
  summary: 'List the newsletters',
  positionals: [],
  options: {},
  parse: () => ({}),
  async run({ container }) {
    const defaultSlug = container.newsletters.defaultSlug;
    out(
      table(
        await container.newsletters.list(),
        [
          { header: 'SLUG', value: (n) => slugLabel(n, n.slug === defaultSlug) },
          { header: 'MODE', value: (n) => describeMode(n) },
          { header: 'NEXT RUN', value: (n) => container.digests.nextRunAt(n) ?? '' },
          { header: 'CATEGORIES', value: (n) => n.categories.join(', ') || 'all' },
          { header: 'NAME', value: (n) => n.name, flex: true },
        ],
        { maxWidth: terminalWidth(), empty: 'No newsletters.' },
      ),
    );
  },
});

const newsletterShow = command<{ slug: string; json: boolean }>({
  group: 'newsletter',
  name: 'show',
  synopsis: '<slug> [--json]',
  summary: 'Show one newsletter',
  details: ['--json prints it as GET /api/admin/newsletters/:slug answers it.'],
  positionals: [{ name: 'slug' }],
  options: { json: { type: 'boolean', help: 'Print JSON' } },
  parse: (values, positionals) => ({ slug: slugOf(positionals), json: Boolean(values.json) }),
  async run({ container }, input) {
    const n = container.digests.describe(await container.newsletters.get(input.slug));
    out(input.json ? JSON.stringify(n, null, 2) : newsletterBlock(n, n.slug === container.newsletters.defaultSlug));
  },
});

const newsletterUpdate = command<{ slug: string; body: Record<string, unknown> }>({
  group: 'newsletter',
  name: 'update',
  synopsis: '<slug> [--name N] [--mode M] [--cron C --timezone Z] [--no-schedule] [...]',
  brief: '<slug> [--name N] [...]',
  summary: 'Change a newsletter',
  details: [
    'Changes only the fields given. --no-schedule, --no-from-name and --no-alerts-per-day remove one; ' +
      'turning a scheduled digest into alerts needs --no-schedule too.',
  ],
  positionals: [{ name: 'slug' }],
  options: {
    ...FIELD_OPTIONS,
    'no-schedule': { type: 'boolean', help: 'Remove the schedule' },
    'no-from-name': { type: 'boolean', help: "Use the site's name in From again" },
    'no-alerts-per-day': { type: 'boolean', help: 'Remove the daily cap' },
  },
  parse(values, positionals) {
    const body = fieldsOf(values, 'newsletter update');
    for (const [flag, field] of [
      ['no-schedule', 'schedule'],
      ['no-from-name', 'fromName'],
      ['no-alerts-per-day', 'alertsPerDay'],
    ] as const) {
      if (!values[flag]) continue;
      if (field in body) throw new UsageError(`--${flag} contradicts the value given for it`, 'newsletter update');
      body[field] = null;
    }
    if (!Object.keys(body).length) throw new UsageError('nothing to change: give a field', 'newsletter update');
    return { slug: slugOf(positionals), body };
  },
  async run({ container }, input) {
    const n = await container.newsletters.update(input.slug, input.body);
    out(`updated newsletter ${n.slug} (${describeMode(n)}): ${n.name}`);
  },
});

function slugLabel(n: Newsletter, isDefault: boolean): string {
  const marks = [isDefault && 'default', n.public === false && 'private'].filter(Boolean);
  return marks.length ? `${n.slug} (${marks.join(', ')})` : n.slug;
}

function describeMode(n: Newsletter): string {
  if (n.mode === 'alerts') return n.alertsPerDay ? `alerts, at most ${n.alertsPerDay} a day` : 'alerts';
  return n.schedule ? `digest, ${n.schedule.cron} ${n.schedule.timezone}` : 'digest, sent by hand';
}

function newsletterBlock(n: NewsletterView, isDefault: boolean): string {
  return keyValues([
    ['slug', isDefault ? `${n.slug} (default)` : n.slug],
    ['name', n.name],
    ['public', n.public === false ? 'no (imports and operators only)' : 'yes'],
    ['description', n.description || undefined],
    ['from name', n.fromName],
    ['mode', describeMode(n)],
    ['min articles', n.schedule?.minArticles],
    ['next run', n.nextRunAt],
    ['categories', n.categories.join(', ') || 'all'],
    ['created', n.createdAt],
    ['updated', n.updatedAt],
  ]);
}

const newsletterRuns = command<{ slug: string; json: boolean; limit?: number }>({
  group: 'newsletter',
  name: 'runs',
  synopsis: '<slug> [--limit N] [--json]',
  summary: "What the newsletter's schedule or alerts did, newest first",
  details: [
    'One line per digest slot or alert: sent (with its campaign), skipped (too few new articles, over the daily ' +
      'cap, already sent), missed (no worker ran in time) or failed, and how late a slot started. --json prints ' +
      'them as GET /api/admin/newsletters/:slug/runs answers them.',
  ],
  positionals: [{ name: 'slug' }],
  options: {
    limit: { type: 'string', value: 'N', help: 'Most runs shown, 1-100 (default 50)' },
    json: { type: 'boolean', help: 'Print JSON' },
  },
  parse: (values, positionals) => {
    const limit = str(values, 'limit');
    return {
      slug: slugOf(positionals),
      json: Boolean(values.json),
      limit: limit === undefined ? undefined : positiveInt(limit, '--limit'),
    };
  },
  async run({ container }, input) {
    const runs = await container.digests.runs(input.slug, input.limit);
    if (input.json) return void out(JSON.stringify(runs, null, 2));
    out(
      table(
        runs,
        [
          { header: 'AT', value: (r) => r.at },
          { header: 'RUN', value: (r) => (r.slot ? `slot ${r.slot}` : `article ${r.articleId}`) },
          { header: 'OUTCOME', value: (r) => r.outcome },
          { header: 'CAMPAIGN', value: (r) => (r.campaignId === undefined ? '' : String(r.campaignId)) },
          { header: 'ARTICLES', value: (r) => String(r.articles) },
          { header: 'NOTE', value: (r) => runNote(r), flex: true },
        ],
        { maxWidth: terminalWidth(), empty: 'No runs yet.' },
      ),
    );
  },
});

function runNote(r: NewsletterRun): string {
  const late = r.lateBySeconds === undefined ? '' : `${r.lateBySeconds} s late`;
  return [late, r.reason ?? ''].filter(Boolean).join('; ');
}

export const NEWSLETTER_COMMANDS = [newsletterCreate, newsletterList, newsletterShow, newsletterUpdate, newsletterRuns];
