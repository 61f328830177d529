import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NEWSLETTER_HTML_LIMIT, type CampaignOverview, type CampaignWarning } from '../../domain/campaigns';
import { command, positiveInt, required, str, type Values } from '../command-spec';
import { CliError, UsageError } from '../errors';
import { formatBytes, formatCount, formatTime, keyValues, table } from '../format';
import { err, out, terminalWidth } from '../output';
import { percent, processedOf } from '../progress';
import { PROG } from '../program';
import { follow, warnIfNoWorker } from './campaign-follow';

const campaignId = (positionals: string[]) => positiveInt(positionals[0], 'campaign id');

/** `--articles 3,1,2` as ids in that order; an id given twice is a mistake, not a wish to show it twice. */
function articleList(values: Values, command: string): number[] | undefined {
  const list = str(values, 'articles');
  const articleIds =
    list === undefined ? undefined : list.split(',').map((s) => positiveInt(s.trim(), 'each --articles id'));
  if (articleIds && new Set(articleIds).size !== articleIds.length)
    throw new UsageError('--articles lists an id twice', command);
  return articleIds;
}

const ALLOW_RESEND_HELP = 'Accept articles that already went out in another campaign (refused otherwise)';

/** Warnings go to stderr, so a script reading stdout still gets one line. */
function printWarnings(warnings: CampaignWarning[]): void {
  for (const w of warnings) err(`warning: ${w.message}`);
}

const PREHEADER_HELP =
  'The line mail apps show beside the subject (one line, at most 150 characters; default: the headlines)';

const campaignCreate = command<{
  subject?: string;
  preheader?: string;
  articleIds?: number[];
  newsletter?: string;
  allowResend?: boolean;
}>({
  group: 'campaign',
  name: 'create',
  synopsis: '[--newsletter slug] [--subject S] [--preheader P] [--articles 1,2,3] [--allow-resend]',
  summary: 'Create a draft campaign from new articles',
  details: [
    'With no --articles, the campaign carries every article new in its newsletter (in its categories, when it has ' +
      "some); the subject defaults to the lead article's title.",
    'An article that already went out (or is going out) in another campaign is refused unless --allow-resend; ' +
      'one that another draft also holds is accepted with a warning.',
  ],
  positionals: [],
  options: {
    newsletter: { type: 'string', value: 'slug', help: 'The newsletter it belongs to (default: the default one)' },
    subject: { type: 'string', value: 'S', help: 'Subject line' },
    preheader: { type: 'string', value: 'P', help: PREHEADER_HELP },
    articles: { type: 'string', value: '1,2,3', help: 'Article ids, in the order to show them' },
    'allow-resend': { type: 'boolean', help: ALLOW_RESEND_HELP },
  },
  parse(values) {
    return {
      subject: str(values, 'subject'),
      preheader: str(values, 'preheader'),
      articleIds: articleList(values, 'campaign create'),
      newsletter: str(values, 'newsletter'),
      ...(values['allow-resend'] ? { allowResend: true } : {}),
    };
  },
  async run({ container }, input) {
    const c = await container.campaigns.create(input);
    const articles = `${c.articleIds.length} article${c.articleIds.length === 1 ? '' : 's'}`;
    out(`created campaign ${c.id} (draft) in ${c.newsletter} with ${articles}: ${c.subject}`);
    printWarnings(c.warnings);
    err(
      `next: ${PROG} campaign preview ${c.id}, then campaign test ${c.id} --to you@example.com, ` +
        `then campaign send ${c.id} --follow`,
    );
  },
});

const campaignEdit = command<{
  id: number;
  subject?: string;
  preheader?: string;
  articleIds?: number[];
  allowResend?: boolean;
}>({
  group: 'campaign',
  name: 'edit',
  synopsis: '<id> [--subject S] [--preheader P] [--articles 3,1,2] [--allow-resend]',
  summary: "Change a draft's subject, preheader, articles or their order",
  details: [
    '--articles replaces the list: the newsletter shows them in the order given. Only a draft can be edited; ' +
      'the rules of campaign create about articles already sent apply to the articles given.',
  ],
  positionals: [{ name: 'id' }],
  options: {
    subject: { type: 'string', value: 'S', help: 'New subject line' },
    preheader: { type: 'string', value: 'P', help: `${PREHEADER_HELP}; "" clears it` },
    articles: { type: 'string', value: '3,1,2', help: 'Article ids, in the order to show them' },
    'allow-resend': { type: 'boolean', help: ALLOW_RESEND_HELP },
  },
  examples: [`${PROG} campaign edit 4 --articles 3,1,2`],
  parse(values, positionals) {
    const edit = {
      id: campaignId(positionals),
      subject: str(values, 'subject'),
      preheader: str(values, 'preheader'),
      articleIds: articleList(values, 'campaign edit'),
      ...(values['allow-resend'] ? { allowResend: true } : {}),
    };
    if (edit.subject === undefined && edit.preheader === undefined && edit.articleIds === undefined)
      throw new UsageError('give --subject, --preheader, --articles or a mix', 'campaign edit');
    return edit;
  },
  async run({ container }, { id, ...changes }) {
    const c = await container.campaigns.edit(id, changes);
    out(`edited campaign ${c.id} (draft): articles ${c.articleIds.join(', ')}: ${c.subject}`);
    printWarnings(c.warnings);
  },
});

const campaignDelete = command<{ id: number }>({
  group: 'campaign',
  name: 'delete',
  synopsis: '<id>',
  summary: 'Delete a draft campaign',
  details: ['Only a draft can be deleted; a campaign that started sending keeps its record (cancel stops it).'],
  positionals: [{ name: 'id' }],
  options: {},
  parse: (_values, positionals) => ({ id: campaignId(positionals) }),
  async run({ container }, input) {
    await container.campaigns.delete(input.id);
    out(`deleted campaign ${input.id}`);
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
          { header: 'NEWSLETTER', value: (c) => c.newsletter },
          {
            header: 'SENT',
            value: (c) => (c.status === 'draft' ? '-' : `${formatCount(c.sent)}/${formatCount(c.total)}`),
            right: true,
          },
          { header: 'FAILED', value: (c) => formatCount(c.failed), right: true },
          { header: 'BOUNCED', value: (c) => formatCount(c.bounced), right: true },
          { header: 'COMPLAINED', value: (c) => formatCount(c.complained), right: true },
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
  details: [
    'Writes the newsletter as a subscriber would see it (the sent content once sending started) ' +
      "and prints the file's path.",
  ],
  positionals: [{ name: 'id' }],
  options: {
    out: { type: 'string', short: 'o', value: 'file.html', help: 'Where to write it (default: a new temporary file)' },
  },
  parse: (values, positionals) => ({ id: campaignId(positionals), out: str(values, 'out') }),
  async run({ container }, input) {
    const { html, htmlBytes } = await container.campaigns.preview(input.id);
    // Never into the working directory unasked: that may be a checkout, and a preview there would be committed.
    const path = input.out
      ? resolve(input.out)
      : join(await mkdtemp(join(tmpdir(), 'newsletter-preview-')), `campaign-${input.id}.html`);
    try {
      await writeFile(path, html);
    } catch (e) {
      throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
    }
    out(path);
    err(`HTML: ${htmlSize(htmlBytes)}`);
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
    out(
      `test message of campaign ${input.id} sent to ${r.to} ` +
        `(${container.transport.describe}; message id ${r.messageId})`,
    );
  },
});

const FOLLOW_HELP =
  'Show live progress on stderr until the campaign ends; ' +
  'exit 0 when it is sent, 1 when it fails or is cancelled, 3 when it pauses';

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

const campaignSchedule = command<{ id: number; at: string }>({
  group: 'campaign',
  name: 'schedule',
  synopsis: '<id> --at time',
  summary: 'Send a draft campaign at a set time',
  details: [
    '--at is an ISO 8601 time with a zone (2026-12-01T08:00:00Z, or 2026-12-01T09:00:00+01:00), in the future and ' +
      'within a year. Scheduling a draft again replaces its time. Edits keep the schedule; campaign send sends now.',
    'A worker must be running at that time; if none is, the first worker to start sends it, once, and the campaign ' +
      'records how late it started.',
  ],
  positionals: [{ name: 'id' }],
  options: { at: { type: 'string', value: 'time', help: 'When to send (required)' } },
  examples: [`${PROG} campaign schedule 4 --at 2026-12-01T08:00:00Z`],
  parse: (values, positionals) => ({ id: campaignId(positionals), at: required(values, 'at', 'campaign schedule') }),
  async run({ container }, input) {
    const c = await container.campaigns.schedule(input.id, { at: input.at });
    out(`campaign ${c.id} is scheduled for ${c.scheduledAt}`);
    await warnIfNoWorker(container);
  },
});

const campaignUnschedule = command<{ id: number }>({
  group: 'campaign',
  name: 'unschedule',
  synopsis: '<id>',
  summary: "Take a draft campaign's scheduled send away",
  details: ['The campaign stays a draft; nothing goes out until it is scheduled again or sent.'],
  positionals: [{ name: 'id' }],
  options: {},
  parse: (_values, positionals) => ({ id: campaignId(positionals) }),
  async run({ container }, input) {
    await container.campaigns.unschedule(input.id);
    out(`campaign ${input.id} is no longer scheduled`);
  },
});

const campaignStatus = command<{ id: number; json: boolean; follow: boolean }>({
  group: 'campaign',
  name: 'status',
  synopsis: '<id> [--json] [--follow]',
  summary: "Show a campaign's status and counts",
  details: [
    '--json prints the campaign as GET /api/admin/campaigns/:id answers it (with --follow, once it ends).',
    'delivered = sent minus late bounces; bounced = refused in the SMTP session plus reported later (hard bounces); ' +
      'bounce rate = bounced / handed off (sent + refused in the session); complaint rate = complained / delivered.',
  ],
  positionals: [{ name: 'id' }],
  options: {
    json: { type: 'boolean', help: 'Print JSON' },
    follow: { type: 'boolean', short: 'f', help: FOLLOW_HELP },
  },
  parse: (values, positionals) => ({
    id: campaignId(positionals),
    json: Boolean(values.json),
    follow: Boolean(values.follow),
  }),
  async run(ctx, input) {
    if (input.follow) {
      const c = await ctx.container.campaigns.get(input.id);
      if (c.status === 'sending') await warnIfNoWorker(ctx.container);
      return follow(ctx, input.id, { json: input.json });
    }
    const c = await ctx.container.campaigns.overview(input.id);
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

const campaignPause = lifecycle(
  'pause',
  'Pause a sending campaign',
  'Every batch checks the status before it sends, so sending stops within one batch; ' +
    'resume continues where it stopped.',
);
const campaignResume = lifecycle(
  'resume',
  'Resume a paused campaign',
  'Continues from where the campaign stopped; nobody is mailed twice.',
);
const campaignCancel = lifecycle(
  'cancel',
  'Cancel a campaign for good',
  'A cancelled campaign cannot be resumed; the messages already sent stay sent.',
);

/** "62.3 KB of 100.0 KB" : the size against the limit past which a campaign is refused. */
function htmlSize(bytes: number): string {
  return `${formatBytes(bytes)} of ${formatBytes(NEWSLETTER_HTML_LIMIT)} allowed (Gmail clips longer mails)`;
}

function campaignBlock(c: CampaignOverview): string {
  const processed = processedOf(c);
  const approx = c.fanoutDone || c.status !== 'sending' ? '' : '~';
  const rate = (r: number) => `${(r * 100).toFixed(2)}%`;
  return keyValues([
    ['campaign', c.id],
    ['status', c.status],
    ['subject', c.subject],
    ['articles', c.articleIds.join(', ')],
    ['html', htmlSize(c.htmlBytes)],
    [
      'progress',
      c.status === 'draft'
        ? '-'
        : `${formatCount(processed)} of ${approx}${formatCount(c.total)} (${percent(processed, c.total)})`,
    ],
    ['sent', formatCount(c.sent)],
    ['delivered', formatCount(c.delivered)],
    ['failed', formatCount(c.failed)],
    [
      'bounced',
      `${formatCount(c.bounced)} (${formatCount(c.bouncedInSession)} in the SMTP session, ` +
        `${formatCount(c.lateBounces)} reported later)`,
    ],
    ['bounce rate', `${rate(c.bounceRate)} of ${formatCount(c.handedOff)} handed off`],
    ['complained', formatCount(c.complained)],
    ['complaint rate', `${rate(c.complaintRate)} of delivered`],
    ['skipped', formatCount(c.skipped)],
    ['created', formatTime(c.createdAt)],
    ['scheduled', c.scheduledAt ? formatTime(c.scheduledAt) : undefined],
    ['started', formatTime(c.startedAt)],
    ['started late by', c.startedLateBySeconds === undefined ? undefined : `${c.startedLateBySeconds} s`],
    ['finished', formatTime(c.finishedAt)],
    ['reason', c.reason || undefined],
  ]);
}

/** The campaign group, in help order. */
export const CAMPAIGN_COMMANDS = [
  campaignCreate,
  campaignEdit,
  campaignDelete,
  campaignList,
  campaignPreview,
  campaignTest,
  campaignSend,
  campaignSchedule,
  campaignUnschedule,
  campaignStatus,
  campaignPause,
  campaignResume,
  campaignCancel,
];
