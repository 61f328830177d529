import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Container } from '../../container';
import { AUDIENCE_LIMITS } from '../../domain/audience';
import { EXPORT_FORMATS, exportChunks, type ExportFormat } from '../../domain/audience-export';
import type { Subscriber } from '../../domain/subscriber';
import { command, positiveInt, str } from '../command-spec';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { formatCount, formatDuration, formatRate, formatTime, keyValues, table } from '../format';
import { err, out, terminalWidth } from '../output';
import { PROG } from '../program';
import { exportProgressLine, LiveLine, RateMeter } from '../progress';

const subscribersList = command<{
  status?: string;
  newsletter?: string;
  q?: string;
  limit?: number;
  cursor?: string;
  json: boolean;
}>({
  group: 'subscribers',
  name: 'list',
  synopsis: '[--status S] [--newsletter SLUG] [--search PREFIX] [--limit N] [--cursor C] [--json]',
  brief: '[--status S] [--newsletter SLUG] [--search PREFIX] [--json]',
  summary: 'One page of subscribers, filtered by status or newsletter or searched by address prefix',
  details: [
    'The same listing as GET /api/admin/subscribers: in signup order, or in address order with --search (any ' +
      'case). Status is pending, active, unsubscribed or bounced; erased people are never listed. When more ' +
      'follow, the last line gives the --cursor of the next page; --json prints the API answer.',
  ],
  positionals: [],
  options: {
    status: { type: 'string', value: 'S', help: 'pending, active, unsubscribed or bounced' },
    newsletter: { type: 'string', value: 'SLUG', help: "Only the newsletter's readers" },
    search: { type: 'string', value: 'PREFIX', help: 'Only addresses that start with PREFIX' },
    limit: { type: 'string', value: 'N', help: `People on the page, 1-${AUDIENCE_LIMITS.maxPage} (default 50)` },
    cursor: { type: 'string', value: 'C', help: 'Where to start: the cursor a previous page printed' },
    json: { type: 'boolean', help: 'Print the page as JSON' },
  },
  examples: [`${PROG} subscribers list --status active`, `${PROG} subscribers list --search ada@ --json`],
  parse: (values) => {
    const limit = str(values, 'limit');
    return {
      status: str(values, 'status'),
      newsletter: str(values, 'newsletter'),
      q: str(values, 'search'),
      limit: limit === undefined ? undefined : positiveInt(limit, '--limit'),
      cursor: str(values, 'cursor'),
      json: Boolean(values.json),
    };
  },
  async run({ container }, input) {
    const page = await container.audience.list(input);
    if (input.json) return void out(JSON.stringify(page, null, 2));
    out(
      table(
        page.subscribers,
        [
          { header: 'ID', value: (s) => s.id, right: true },
          { header: 'EMAIL', value: (s) => s.email },
          { header: 'STATUS', value: (s) => s.status },
          { header: 'NEWSLETTERS', value: (s) => s.newsletters.join(',') || '-' },
          { header: 'CREATED', value: (s) => formatTime(s.createdAt) },
          { header: 'NAME', value: (s) => s.name || '-', flex: true },
        ],
        { maxWidth: terminalWidth(), empty: '(nobody)' },
      ),
    );
    if (page.nextCursor) out(`more: --cursor ${page.nextCursor}`);
  },
});

const subscribersStats = command<{ json: boolean }>({
  group: 'subscribers',
  name: 'stats',
  synopsis: '[--json]',
  summary: 'How many people are in each status and read each newsletter, and how many addresses are suppressed',
  details: [
    'The same counts as GET /api/admin/stats; the status counts are read at one instant. --json prints that JSON.',
  ],
  positionals: [],
  options: { json: { type: 'boolean', help: 'Print the counts as JSON' } },
  parse: (values) => ({ json: Boolean(values.json) }),
  async run({ container }, input) {
    const stats = await container.audience.stats();
    if (input.json) return void out(JSON.stringify(stats, null, 2));
    const s = stats.subscribers;
    out(
      keyValues([
        ['active', formatCount(s.active)],
        ['pending', formatCount(s.pending)],
        ['unsubscribed', formatCount(s.unsubscribed)],
        ['bounced', formatCount(s.bounced)],
        ['total', formatCount(s.total)],
        ['suppressed', `${formatCount(stats.suppressed)} (addresses never mailed again)`],
      ]),
    );
    out('readers by newsletter:');
    out(keyValues(stats.newsletters.map((n) => [`  ${n.slug}`, formatCount(n.readers)])));
  },
});

const subscribersExport = command<{ format: ExportFormat; out?: string }>({
  group: 'subscribers',
  name: 'export',
  synopsis: '[--format csv|ndjson] [--out FILE]',
  summary: 'Export everybody held as CSV or NDJSON, with a progress bar',
  details: [
    'Everybody held (erased people are not), in signup order, a page at a time, so a list of millions needs no ' +
      'more memory than a few hundred. Columns: email, name, status, createdAt, confirmedAt, unsubscribedAt, ' +
      'bouncedAt, consentAt, consentSource, termsVersion. CSV is for spreadsheets: a cell starting with ' +
      '= + - @ is given a leading apostrophe so it is not run as a formula. NDJSON keeps every value exactly.',
    'Writes to standard output unless --out names a file; the file appears only once the export is complete. ' +
      'Progress goes to stderr.',
  ],
  positionals: [],
  options: {
    format: { type: 'string', value: 'csv|ndjson', help: 'Format (default: csv)' },
    out: { type: 'string', value: 'FILE', help: 'Write to FILE instead of standard output' },
  },
  examples: [
    `${PROG} subscribers export --out readers.csv`,
    `${PROG} subscribers export --format ndjson | gzip > x.gz`,
  ],
  parse: (values) => {
    const format = (str(values, 'format') ?? 'csv').toLowerCase();
    if (!(EXPORT_FORMATS as readonly string[]).includes(format))
      throw new UsageError(`--format must be csv or ndjson, got "${format}"`, 'subscribers export');
    const file = str(values, 'out');
    if (file !== undefined && !file.trim()) throw new UsageError('--out must not be empty', 'subscribers export');
    return { format: format as ExportFormat, out: file };
  },
  async run({ container, signal }, input) {
    return exportAudience(container, signal, input);
  },
});

/** Streams the export into a file (through a temporary name) or stdout with a live progress line on stderr. */
async function exportAudience(
  container: Container,
  signal: AbortSignal,
  input: { format: ExportFormat; out?: string },
): Promise<number> {
  // The total is an estimate: people may sign up or be erased while the export runs.
  const total = (await container.audience.stats()).subscribers.total;
  const live = new LiveLine(process.stderr, { intervalMs: 5000 });
  const rate = new RateMeter(5000);
  const started = Date.now();
  let done = 0;
  async function* counted(): AsyncGenerator<Subscriber[]> {
    for await (const page of container.audience.exportPages()) {
      yield page;
      done += page.length;
    }
  }
  const draw = () => {
    rate.add(Date.now(), done);
    live.update(
      exportProgressLine({ done, total, elapsedMs: Date.now() - started, perSecond: rate.perSecond() }, live),
    );
  };
  const timer = setInterval(draw, live.tty ? 200 : 1000);
  if (live.tty) draw();
  else rate.add(started, 0);

  const partial = input.out && `${input.out}.partial`;
  const dest: Writable = partial ? createWriteStream(partial) : process.stdout;
  const body = Readable.from(exportChunks(counted(), input.format), { objectMode: false });
  try {
    // A file is closed by pipeline; stdout must stay open for the summary and whatever reads it.
    await pipeline(body, dest, { signal, end: Boolean(partial) });
  } catch (e) {
    live.clear();
    if (partial) rmSync(partial, { force: true });
    if (signal.aborted) {
      err(`export interrupted after ${formatCount(done)} people${partial ? `; ${input.out} was not written` : ''}`);
      return EXIT.interrupted;
    }
    throw e;
  } finally {
    clearInterval(timer);
  }
  if (partial) renameSync(partial, input.out!);
  live.clear();
  const elapsed = Date.now() - started;
  const speed = `${formatRate((done * 1000) / Math.max(elapsed, 1))}/s`;
  const where = input.out ? ` to ${input.out}` : '';
  err(`exported ${formatCount(done)} people as ${input.format}${where} in ${formatDuration(elapsed)} (${speed})`);
  return EXIT.ok;
}

/** The audience commands of the subscribers group, in help order. */
export const AUDIENCE_COMMANDS = [subscribersList, subscribersStats, subscribersExport];
