import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import posthtml from 'posthtml';
import { command, positiveInt, str } from '../command-spec';
import { CliError, UsageError } from '../errors';
import { formatTime } from '../format';
import { err, out } from '../output';

/** One mail of the outbox as the command shows it. */
export interface OutboxEntry {
  file: string;
  date: string | undefined;
  kind: string;
  to: string;
  subject: string;
  /** Every distinct http(s) link of the HTML part, in order, with what the reader sees as its text. */
  links: { text: string; url: string }[];
}

/** What OutboxTransport writes: `<time>-<kind>-<recipient>-<id>.eml`. */
const OUTBOX_NAME = /^\d{8}T\d{6}Z-([a-z]+)-/;

type ProcessOptions = Parameters<ReturnType<typeof posthtml>['process']>[1];
// posthtml hands parser options on to its parser; its typings list only its own. Entities decoded, an href reads
// as a browser follows it (`&#38;` as `&`).
const PARSE = { decodeEntities: true } as ProcessOptions;

const outbox = command<{ limit: number; json: boolean }>({
  group: 'outbox',
  name: '',
  synopsis: '[--limit N] [--json]',
  summary: 'List the latest mails written to the outbox, with their links',
  details: [
    'Without SMTP_URL the service writes every mail as an .eml file under DATA_DIR/outbox instead of sending it. ' +
      'This lists the newest first: when, which kind (confirm, welcome, newsletter), to whom, the subject, and ' +
      'the links in it, decoded, so the confirmation link of a test signup can be opened at once.',
    'It reads only the folder: it needs no Redis.',
  ],
  positionals: [],
  options: {
    limit: { type: 'string', short: 'n', value: 'N', help: 'At most N mails, 1-500 (default 10)' },
    json: { type: 'boolean', help: 'Print JSON: an array of {file, date, kind, to, subject, links: [{text, url}]}' },
  },
  examples: ['npm run cli -- outbox --limit 1'],
  parse(values) {
    const raw = str(values, 'limit');
    const limit = raw === undefined ? 10 : positiveInt(raw, '--limit');
    if (limit > 500) throw new UsageError(`--limit must be at most 500, got ${limit}`, 'outbox');
    return { limit, json: Boolean(values.json) };
  },
  async offline({ settings }, input) {
    const dir = join(settings.DATA_DIR, 'outbox');
    const entries = await latest(dir, input.limit);
    if (input.json) return void out(JSON.stringify(entries, null, 2));
    if (!entries.length) {
      out(`No mail in ${dir} yet.`);
      if (settings.SMTP_URL) err('SMTP_URL is set, so mail goes to that server instead of the outbox.');
      return;
    }
    out(entries.map(block).join('\n\n'));
  },
});

/** The newest `limit` mails of `dir`, newest first; an absent folder is an empty outbox. */
async function latest(dir: string, limit: number): Promise<OutboxEntry[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.eml'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CliError(`cannot read ${dir}: ${(e as Error).message}`);
  }
  // The name starts with the time to the second; the file's time orders mails written within one second.
  const timed = await Promise.all(names.map(async (name) => ({ name, at: (await stat(join(dir, name))).mtimeMs })));
  timed.sort((a, b) => b.at - a.at || b.name.localeCompare(a.name));
  return Promise.all(timed.slice(0, limit).map(({ name }) => read(join(dir, name))));
}

async function read(file: string): Promise<OutboxEntry> {
  const mail = await simpleParser(await readFile(file));
  const to = ([] as AddressObject[]).concat(mail.to ?? []).map((a) => a.text);
  // As short as it can be said from here: the usual var/outbox/... under the project, else the full path.
  const near = relative(process.cwd(), file);
  return {
    file: near.startsWith('..') || isAbsolute(near) ? file : near,
    date: mail.date?.toISOString(),
    kind: OUTBOX_NAME.exec(file.split(/[\\/]/).pop() ?? '')?.[1] ?? '-',
    to: to.join(', '),
    subject: mail.subject ?? '',
    links: typeof mail.html === 'string' ? await linksOf(mail.html) : [],
  };
}

interface HtmlNode {
  tag?: unknown;
  attrs?: Record<string, unknown>;
  content?: (HtmlNode | string)[];
}

async function linksOf(html: string): Promise<OutboxEntry['links']> {
  const links = new Map<string, string>();
  await posthtml()
    .use((tree) => {
      tree.match({ tag: 'a' }, (node) => {
        const url = String(node.attrs?.href ?? '');
        const text = textOf(node as HtmlNode);
        if (/^https?:/i.test(url) && !links.get(url)) links.set(url, text);
        return node;
      });
      return tree;
    })
    .process(html, PARSE);
  return [...links].map(([url, text]) => ({ text, url }));
}

/** The text a reader sees for a link: its words, or an image's alt text. */
function textOf(node: HtmlNode | string): string {
  if (typeof node === 'string') return node.replace(/\s+/g, ' ');
  if (node.tag === 'img') return typeof node.attrs?.alt === 'string' ? node.attrs.alt : '';
  return (node.content ?? []).map(textOf).join('').replace(/\s+/g, ' ').trim();
}

function block(e: OutboxEntry): string {
  const width = Math.min(Math.max(0, ...e.links.map((l) => l.text.length)), 40);
  return [
    `${formatTime(e.date)}  ${e.kind}  ${e.to}`,
    `  ${e.subject}`,
    ...e.links.map((l) => `    ${(l.text || '(link)').slice(0, width).padEnd(width)}  ${l.url}`),
    `  ${e.file}`,
  ].join('\n');
}

/** The outbox, a group of one command. */
export const OUTBOX_COMMANDS = [outbox];
