import { XMLParser, type X2jOptions } from 'fast-xml-parser';
import { htmlToPlainText, summaryFrom } from './article-html';
import { DomainError } from './errors';

/**
 * A feed could not be read; the poll job retries. `feed_unreachable`: no document came back (network, timeout,
 * HTTP error). `feed_invalid`: a document came back but it is not a well-formed RSS or Atom feed, or is too large.
 */
export class FeedError extends DomainError {
  constructor(code: 'feed_unreachable' | 'feed_invalid', message: string, details?: unknown) {
    super(code, message, details);
  }
}

/**
 * One entry of a feed as untrusted article input: strings straight from the document, with only what a reader of the
 * feed would do anyway applied (entities decoded, whitespace of one-line fields collapsed, relative links resolved).
 * `Articles.add` validates and sanitises it like any other input.
 */
export interface FeedEntry {
  title?: string;
  url?: string;
  /** RSS guid or Atom id. */
  guid?: string;
  /** Plain text. */
  summary?: string;
  /** Unsanitised HTML. */
  bodyHtml?: string;
  imageUrl?: string;
  author?: string;
  /** ISO 8601, when the feed gave a readable date. */
  publishedAt?: string;
  /** RSS `<category>` texts or Atom `<category term>`s, as given; absent when there are none. */
  categories?: string[];
}

export interface ParsedFeed {
  format: 'rss' | 'atom';
  title?: string;
  entries: FeedEntry[];
}

/** Options of `parseFeed`. */
export interface FeedParseOptions {
  /** Absolute URL of the feed: relative links and images are resolved against it. Default: none (left as given). */
  baseUrl?: string;
  /** Entries read from one document, first ones first. Default 500. */
  maxEntries?: number;
}

/** Longest plain-text summary taken from a feed; the article limit. */
const SUMMARY_MAX = 2000;

/**
 * Entity handling, bounded: the five XML entities and numeric references are decoded (feeds use `&#8217;` and the
 * like everywhere); entities a DOCTYPE declares are limited in number, size and total expansion, and the parser
 * refuses to expand ones that reference others, so "billion laughs" stays a few bytes (or fails the document).
 */
const ENTITY_LIMITS = {
  enabled: true,
  maxEntityCount: 20,
  maxEntitySize: 2000,
  maxExpansionDepth: 2,
  maxTotalExpansions: 1000,
  maxExpandedLength: 100_000,
  // Counted against declared entities only: an escaped HTML body legitimately holds thousands of `&lt;`.
  appliesTo: 'external',
} as X2jOptions['processEntities'];

/** Elements that may repeat; always read as arrays so one item and many items look alike. */
const REPEATED = new Set([
  'item',
  'entry',
  'link',
  'category',
  'enclosure',
  'media:content',
  'media:thumbnail',
  'media:group',
  'author',
  'dc:creator',
]);

/**
 * Elements that carry HTML, kept raw and decoded on their own: an Atom `type="xhtml"` body is markup, and a feed that
 * (wrongly) puts unescaped HTML in a description is still read as HTML rather than torn into an object tree.
 */
const HTML_FIELDS = [
  'rss.channel.item.description',
  'rss.channel.item.content:encoded',
  'rdf:RDF.item.description',
  'rdf:RDF.item.content:encoded',
  'feed.entry.title',
  'feed.entry.summary',
  'feed.entry.content',
];

const COMMON: X2jOptions = {
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  htmlEntities: true,
  processEntities: ENTITY_LIMITS,
  maxNestedTags: 100,
};

type Node = Record<string, unknown>;

/**
 * Reads an RSS 2.0 (also 0.9x and 1.0) or Atom document into entries. Throws FeedError `feed_invalid` when the
 * document is not well-formed XML or not a feed; a single odd entry never fails the document.
 */
export function parseFeed(xml: string, opts: FeedParseOptions = {}): ParsedFeed {
  const maxEntries = opts.maxEntries ?? 500;
  let doc: Node;
  try {
    const parser = new XMLParser({
      ...COMMON,
      stopNodes: HTML_FIELDS,
      isArray: (name, _path, _leaf, isAttribute) => !isAttribute && REPEATED.has(name),
    });
    // `true` runs the validator first: a malformed document is refused rather than half-read.
    doc = parser.parse(xml, true) as Node;
  } catch (err) {
    throw new FeedError('feed_invalid', `The feed could not be read as XML: ${(err as Error).message}`);
  }
  const base = opts.baseUrl;

  const rss = obj(first(doc.rss));
  if (rss && obj(first(rss.channel))) {
    const channel = obj(first(rss.channel))!;
    return {
      format: 'rss',
      title: oneLine(text(channel.title)),
      entries: list(channel.item)
        .slice(0, maxEntries)
        .map((i) => rssEntry(i, base)),
    };
  }
  const rdf = obj(first(doc['rdf:RDF']));
  if (rdf) {
    return {
      format: 'rss',
      title: oneLine(text(obj(first(rdf.channel))?.title)),
      entries: list(rdf.item)
        .slice(0, maxEntries)
        .map((i) => rssEntry(i, base)),
    };
  }
  const feed = obj(first(doc.feed));
  if (feed) {
    return {
      format: 'atom',
      title: oneLine(text(feed.title)),
      entries: list(feed.entry)
        .slice(0, maxEntries)
        .map((e) => atomEntry(e, base)),
    };
  }
  throw new FeedError('feed_invalid', 'The document is neither an RSS nor an Atom feed.');
}

function rssEntry(item: Node, base: string | undefined): FeedEntry {
  const description = html(item.description);
  const encoded = html(item['content:encoded']);
  const guidNode = first(item.guid);
  const guid = oneLine(text(guidNode));
  const guidIsLink = guid && obj(guidNode)?.['@_isPermaLink'] !== 'false' && /^https?:\/\//i.test(guid);
  const link = text(list(item.link).find((l) => text(l))) ?? (guidIsLink ? guid : undefined);
  return clean({
    title: oneLine(text(item.title)),
    url: resolve(link, base),
    guid,
    bodyHtml: encoded ?? description,
    // With a full body in content:encoded, the description is the summary; alone, it is the body.
    summary: encoded && description ? summaryFrom(description, SUMMARY_MAX) : undefined,
    imageUrl: resolve(imageOf(item), base),
    author: rssAuthor(oneLine(text(first(item['dc:creator'])) ?? text(first(item.author)))),
    publishedAt: isoDate(text(item.pubDate) ?? text(item['dc:date'])),
    categories: names(list(item.category).map((c) => text(c))),
  });
}

function atomEntry(entry: Node, base: string | undefined): FeedEntry {
  const links = list(entry.link);
  const alternate =
    links.find(
      (l) =>
        attr(l, 'href') && (attr(l, 'rel') ?? 'alternate') === 'alternate' && /html|^$/.test(attr(l, 'type') ?? ''),
    ) ?? links.find((l) => attr(l, 'href') && !attr(l, 'rel'));
  const enclosure = links.find((l) => attr(l, 'rel') === 'enclosure' && /^image\//.test(attr(l, 'type') ?? ''));
  const content = obj(first(entry.content));
  const body = content?.['@_src'] ? undefined : atomText(entry.content, 'html');
  const summary = atomText(entry.summary, 'html');
  const title = atomText(entry.title, 'text');
  return clean({
    title: oneLine(title),
    url: resolve(attr(alternate, 'href'), base),
    guid: oneLine(text(entry.id)),
    bodyHtml: body ?? summary,
    summary: body && summary ? summaryFrom(summary, SUMMARY_MAX) : undefined,
    imageUrl: resolve(attr(enclosure, 'href') ?? imageOf(entry), base),
    author: oneLine(text(obj(first(entry.author))?.name) ?? text(first(entry.author))),
    publishedAt: isoDate(text(entry.published) ?? text(entry.updated) ?? text(entry['dc:date'])),
    // Atom names a category in its term; the label is only how to show it.
    categories: names(list(entry.category).map((c) => attr(c, 'term'))),
  });
}

/**
 * An Atom text construct (title, summary, content) as HTML (`as: 'html'`) or plain text (`as: 'text'`), by its type:
 * text is plain, html is escaped HTML, xhtml is inline markup.
 */
function atomText(v: unknown, as: 'html' | 'text'): string | undefined {
  const node = first(v);
  const type = (attr(node, 'type') ?? 'text').toLowerCase();
  const raw = text(node);
  if (raw === undefined) return undefined;
  const isMarkup = type === 'xhtml' || type === 'html' || type.endsWith('/html') || type.endsWith('+xml');
  const value = type === 'xhtml' ? raw : decodeFragment(raw);
  if (value === undefined) return undefined;
  if (as === 'text') return isMarkup ? htmlToPlainText(value) : value;
  return isMarkup ? value : escapeHtml(value).replace(/\n{2,}/g, '</p><p>');
}

/**
 * An element kept raw (see HTML_FIELDS) read as the HTML it carries:
 * escaped or CDATA HTML decoded, inline markup as is.
 */
function html(v: unknown): string | undefined {
  const raw = text(first(v));
  return raw === undefined ? undefined : decodeFragment(raw);
}

/** Decodes the XML text of a raw element (entities, CDATA); when it holds elements instead, it is inline markup. */
function decodeFragment(raw: string): string | undefined {
  if (!raw.includes('&') && !raw.includes('<')) return raw;
  try {
    const parsed = new XMLParser({ ...COMMON, trimValues: false }).parse(`<x>${raw}</x>`, true) as Node;
    const x = parsed.x;
    if (typeof x === 'string') return x.trim();
    if (x === undefined || x === '') return '';
    return raw;
  } catch {
    // Not well-formed on its own (an entity declared in the DOCTYPE, say): the raw text is still the best reading.
    return raw;
  }
}

/** The entry's picture: media:content or media:thumbnail that is an image, else an image enclosure. */
function imageOf(item: Node): string | undefined {
  const groups = list(item['media:group']);
  const media = [...list(item['media:content']), ...groups.flatMap((g) => list(g['media:content']))];
  const image = media.find(
    (m) =>
      attr(m, 'medium') === 'image' ||
      /^image\//.test(attr(m, 'type') ?? '') ||
      (!attr(m, 'medium') && !attr(m, 'type') && /\.(jpe?g|png|gif|webp|avif)(\?|$)/i.test(attr(m, 'url') ?? '')),
  );
  const thumb = [...list(item['media:thumbnail']), ...groups.flatMap((g) => list(g['media:thumbnail']))][0];
  const enclosure = list(item.enclosure).find((e) => /^image\//.test(attr(e, 'type') ?? ''));
  return attr(image, 'url') ?? attr(thumb, 'url') ?? attr(enclosure, 'url');
}

/** RSS `author` is an address, "jo@example.com (Jo Bloggs)": the name in brackets is what a reader wants. */
function rssAuthor(v: string | undefined): string | undefined {
  const m = v ? /^\S+@\S+\s*\((.+)\)\s*$/.exec(v) : null;
  return m ? m[1] : v;
}

/**
 * Resolves a relative link against the feed's URL.
 * A value with control characters is passed on as is, to be refused.
 */
function resolve(v: string | undefined, base: string | undefined): string | undefined {
  if (!v) return undefined;
  const value = v.trim();
  // The URL parser would quietly drop CR, LF and tabs; leave such a value for validation to refuse.
  if (/[\u0000-\u001f\u007f]/.test(value) || /^[a-z][a-z0-9+.-]*:/i.test(value) || !base) return value;
  try {
    return new URL(value, base).href;
  } catch {
    return value;
  }
}

/** RFC 822 (RSS) or RFC 3339 (Atom) dates; undefined when unreadable, so the article takes the time it was found. */
function isoDate(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const t = Date.parse(v.trim());
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** One line of text: every run of whitespace, line breaks included, becomes one space; nothing left is undefined. */
function oneLine(v: string | undefined): string | undefined {
  const t = v?.replace(/[\s\u2028\u2029\u0085]+/g, ' ').trim();
  return t ? t : undefined;
}

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) {
    for (const x of v) {
      const t = text(x);
      if (t) return t;
    }
    return undefined;
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object') return text((v as Node)['#text']);
  return undefined;
}

function attr(v: unknown, name: string): string | undefined {
  const o = obj(v);
  const a = o?.[`@_${name}`];
  return typeof a === 'string' && a.trim() ? a.trim() : undefined;
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

function obj(v: unknown): Node | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined;
}

/** Child elements as objects; a text-only element (`<item>x</item>`) is read as `{ '#text': x }`. */
function list(v: unknown): Node[] {
  const arr: unknown[] = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return arr.map((x) => obj(x) ?? { '#text': x });
}

/** The non-empty names, each on one line. */
function names(values: (string | undefined)[]): string[] {
  return values.map((v) => oneLine(v)).filter((v): v is string => !!v);
}

/** The entry without its empty fields: no empty string, no empty list. */
function clean(e: FeedEntry): FeedEntry {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e) as [string, unknown][])
    if (v !== undefined && v !== '' && !(Array.isArray(v) && !v.length)) out[k] = v;
  return out;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
