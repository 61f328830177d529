import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DomainError } from '../../domain/errors';
import { command, positiveInt, required, str } from '../command-spec';
import { CliError, UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { formatTime, table } from '../format';
import { err, out, terminalWidth } from '../output';
import { PROG } from '../program';

const ARTICLE_FLAGS: Record<string, string> = {
  title: 'title',
  url: 'url',
  summary: 'summary',
  image: 'imageUrl',
  author: 'author',
  published: 'publishedAt',
};

const articlesAdd = command<{ json: string } | { json?: undefined; article: Record<string, string | string[]> }>({
  group: 'articles',
  name: 'add',
  synopsis:
    '--title T --url U [--summary S] [--image URL] [--author A] [--published ISO] [--categories a,b] | --json file.json',
  brief: '--title T --url U [...] | --json file.json',
  summary: 'Add an article (or several, from a JSON file)',
  details: [
    'An article whose url is already known is not added twice: the stored one is shown instead.',
    'With --json, the file holds one article or an array of them, with the fields of POST /api/admin/articles: ' +
      'title, url, summary, bodyHtml, imageUrl, author, publishedAt, categories. "-" reads standard input.',
  ],
  positionals: [],
  options: {
    title: { type: 'string', value: 'T', help: 'Headline (required unless --json)' },
    url: { type: 'string', value: 'U', help: 'Canonical http(s) link of the article (required unless --json)' },
    summary: { type: 'string', value: 'S', help: 'Plain-text summary' },
    image: { type: 'string', value: 'URL', help: 'Lead image, an http(s) URL' },
    author: { type: 'string', value: 'A', help: 'Byline' },
    published: { type: 'string', value: 'ISO', help: 'Publication time, ISO 8601 (default: now)' },
    categories: { type: 'string', value: 'a,b', help: 'Sections or tags, comma-separated' },
    json: { type: 'string', value: 'file.json', help: 'Read the article(s) from a JSON file instead of flags' },
  },
  examples: [
    `${PROG} articles add --title "Rates held" --url https://news.example/rates --author "Staff"`,
    `${PROG} articles add --json articles.json`,
  ],
  parse(values) {
    const json = str(values, 'json');
    if (json !== undefined) {
      const mixed = [...Object.keys(ARTICLE_FLAGS), 'categories'].filter((f) => values[f] !== undefined);
      if (mixed.length)
        throw new UsageError(`--json cannot be combined with ${mixed.map((f) => `--${f}`).join(', ')}`, 'articles add');
      return { json };
    }
    required(values, 'title', 'articles add');
    required(values, 'url', 'articles add');
    const article: Record<string, string | string[]> = {};
    for (const [flag, field] of Object.entries(ARTICLE_FLAGS)) {
      const v = str(values, flag);
      if (v !== undefined) article[field] = v;
    }
    const categories = str(values, 'categories');
    if (categories !== undefined) article.categories = categories.split(',').map((c) => c.trim());
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

function printArticleResult({
  article,
  created,
}: {
  article: { id: number; title: string; url: string };
  created: boolean;
}) {
  out(
    created
      ? `added article ${article.id}: ${article.title}`
      : `article ${article.id} already exists with this url, unchanged: ${article.title}`,
  );
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
  const items: unknown[] = Array.isArray(data) ? (data as unknown[]) : [data];
  if (!items.length) throw new CliError(`${file} holds an empty array: no article to add`);
  return items;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer | string>) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
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
        {
          maxWidth: terminalWidth(),
          empty:
            input.status === 'new'
              ? 'No new articles. Add some with: articles add'
              : 'No articles yet. Add some with: articles add',
        },
      ),
    );
    if (articles.length === input.limit) err(`(the newest ${input.limit}; use --limit to see more)`);
  },
});

/** The articles group, in help order. */
export const ARTICLE_COMMANDS = [articlesAdd, articlesList];
