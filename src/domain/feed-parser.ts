import { decodeHTMLStrict } from 'entities';
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
 * like everywhere), and HTML's named ones too, rewritten as numeric references first (see htmlEntitiesAsNumeric);
 * entities a DOCTYPE declares are limited in number, size and total expansion, and the parser refuses to expand ones
 * that reference others, so "billion laughs" stays a few bytes (or fails the document).
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
 * Namespaces read by URI, not by prefix: each known namespace gets one canonical prefix, whatever the document calls
 * it, so `<a:feed xmlns:a="…Atom">` is read as `<feed>` and `<d:creator xmlns:d="…dc/elements/1.1/">` as
 * `<dc:creator>`. The feed vocabularies themselves (Atom, RSS 1.0/0.90) read as unprefixed names, the way a feed with
 * them as its default namespace is written. An undeclared prefix is kept as written (feeds use `dc:` without
 * declaring it), which is also how Python's feedparser treats it.
 */
const NAMESPACES: Record<string, string> = {
  'http://www.w3.org/2005/Atom': '',
  'http://purl.org/atom/ns#': '',
  'http://purl.org/rss/1.0/': '',
  'http://my.netscape.com/rdf/simple/0.9/': '',
  'http://backend.userland.com/rss2': '',
  'http://www.w3.org/1999/02/22-rdf-syntax-ns#': 'rdf',
  'http://purl.org/rss/1.0/modules/content/': 'content',
  'http://purl.org/dc/elements/1.1/': 'dc',
  'http://search.yahoo.com/mrss/': 'media',
  'http://search.yahoo.com/mrss': 'media',
  'http://www.w3.org/XML/1998/namespace': 'xml',
};

/**
 * The canonical prefix of each prefix the document declares for a known namespace. fast-xml-parser does not track
 * namespace scopes, so the declarations are read from the whole document: a prefix bound to two different URIs in one
 * feed (which no real feed does) takes its first binding.
 */
function prefixMap(xml: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of xml.matchAll(/\sxmlns:([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    const canonical = NAMESPACES[(m[2] ?? m[3]).trim()];
    if (canonical !== undefined && !map.has(m[1])) map.set(m[1], canonical);
  }
  return map;
}

/** `name` with its prefix replaced by the canonical one of its namespace (see NAMESPACES). */
function canonicalName(name: string, prefixes: Map<string, string>): string {
  const colon = name.indexOf(':');
  if (colon < 0) return name;
  const canonical = prefixes.get(name.slice(0, colon));
  if (canonical === undefined) return name;
  const local = name.slice(colon + 1);
  return canonical ? `${canonical}:${local}` : local;
}

/** The five entities XML itself defines: the parser decodes them. */
const XML_ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

/**
 * HTML named entities (`&eacute;`, `&mdash;`, `&hellip;`…) rewritten as the numeric references the XML parser decodes.
 * Feeds use them everywhere though XML does not define them; feedparser and browsers read them as HTML does. The
 * names and characters come from the `entities` package (the WHATWG list, which htmlparser2 uses too). Left alone:
 * CDATA sections and comments (their text is not markup), the XML five, names the document's DOCTYPE declares (those
 * stay with the parser and its expansion limits), and unknown names (left as written, as feedparser leaves them).
 */
function htmlEntitiesAsNumeric(xml: string): string {
  if (!xml.includes('&')) return xml;
  const declared = new Set([...xml.matchAll(/<!ENTITY\s+%?\s*([\w.:-]+)/g)].map((m) => m[1]));
  return xml.replace(
    /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|&([A-Za-z][A-Za-z0-9]{1,31});/g,
    (whole: string, name: string | undefined) => {
      if (!name || XML_ENTITIES.has(name) || declared.has(name)) return whole;
      const decoded = decodeHTMLStrict(whole);
      if (decoded === whole) return whole;
      return [...decoded].map((c) => `&#${c.codePointAt(0)};`).join('');
    },
  );
}

/**
 * Reads an RSS 2.0 (also 0.9x and 1.0) or Atom document into entries. Throws FeedError `feed_invalid` when the
 * document is not well-formed XML or not a feed; a single odd entry never fails the document.
 */
export function parseFeed(xml: string, opts: FeedParseOptions = {}): ParsedFeed {
  const maxEntries = opts.maxEntries ?? 500;
  // Blank lines (and a stray byte-order mark) before `<?xml` are a server's template slip, not a broken feed:
  // feedparser and browsers read past them, and XML forbids only the declaration not being first.
  const source = htmlEntitiesAsNumeric(xml.replace(/^[\uFEFF\s]+/, ''));
  const prefixes = prefixMap(source);
  let doc: Node;
  try {
    const parser = new XMLParser({
      ...COMMON,
      stopNodes: HTML_FIELDS,
      isArray: (name, _path, _leaf, isAttribute) => !isAttribute && REPEATED.has(name),
      ...(prefixes.size
        ? {
            transformTagName: (name: string) => canonicalName(name, prefixes),
            transformAttributeName: (name: string) => `@_${canonicalName(name.slice(2), prefixes)}`,
          }
        : {}),
    });
    // `true` runs the validator first: a malformed document is refused rather than half-read.
    doc = parser.parse(source, true) as Node;
  } catch (err) {
    throw new FeedError('feed_invalid', `The feed could not be read as XML: ${(err as Error).message}`);
  }

  const rss = obj(first(doc.rss));
  if (rss && obj(first(rss.channel))) {
    const channel = obj(first(rss.channel))!;
    const base = baseOf(channel, baseOf(rss, opts.baseUrl));
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
    const base = baseOf(rdf, opts.baseUrl);
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
    const base = baseOf(feed, opts.baseUrl);
    return {
      format: 'atom',
      title: oneLine(text(feed.title)),
      entries: list(feed.entry)
        .slice(0, maxEntries)
        .map((e) => atomEntry(e, base)),
    };
  }
  throw new FeedError(
    'feed_invalid',
    `The document is neither an RSS nor an Atom feed (its root element is <${rootName(source) ?? '?'}>).`,
  );
}

/** The name of the document's root element as written, for an error message. */
function rootName(xml: string): string | undefined {
  return /<([A-Za-z_][\w.:-]*)/.exec(xml.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<![^>]*>/g, ''))?.[1];
}

/**
 * The base URI in force inside `node`: its `xml:base` resolved against the base of its parent (RFC 3986, section 5.1:
 * the base of an element is its own xml:base, else its parent's, up to the document's URL).
 */
function baseOf(node: unknown, parentBase: string | undefined): string | undefined {
  const own = attr(node, 'xml:base');
  if (!own) return parentBase;
  return resolve(own, parentBase) ?? parentBase;
}

function rssEntry(item: Node, feedBase: string | undefined): FeedEntry {
  const base = baseOf(item, feedBase);
  const description = html(item.description);
  const encoded = html(item['content:encoded']);
  const guidNode = first(item.guid);
  const guid = oneLine(text(guidNode));
  const guidIsLink = guid && obj(guidNode)?.['@_isPermaLink'] !== 'false' && /^https?:\/\//i.test(guid);
  // Atom elements in RSS read as unprefixed names (see NAMESPACES): an <atom:link href> is among the links, without
  // text. A <link> with text comes first; an alternate atom:link stands in for a missing one, as in feedparser.
  const linkNode =
    list(item.link).find((l) => text(l)) ??
    list(item.link).find((l) => attr(l, 'href') && (attr(l, 'rel') ?? 'alternate') === 'alternate');
  const link = text(linkNode) ?? attr(linkNode, 'href') ?? (guidIsLink ? guid : undefined);
  return clean({
    title: oneLine(text(item.title)),
    url: resolve(link, linkNode ? baseOf(linkNode, base) : base),
    // RSS 1.0 names each item by its rdf:about (usually its URL): the identity when there is no guid, as feedparser.
    guid: guid ?? oneLine(attr(item, 'rdf:about')),
    bodyHtml: encoded ?? description,
    // With a full body in content:encoded, the description is the summary; alone, it is the body.
    summary: encoded && description ? summaryFrom(description, SUMMARY_MAX) : undefined,
    imageUrl: resolve(imageOf(item), base),
    // text() of a list is its first non-empty text: an <atom:author> (read as `author`, with no text) is passed over.
    author: rssAuthor(oneLine(text(item['dc:creator']) ?? text(item.author))),
    publishedAt: isoDate(text(item.pubDate) ?? text(item['dc:date'])),
    categories: names(list(item.category).map((c) => text(c))),
  });
}

function atomEntry(entry: Node, feedBase: string | undefined): FeedEntry {
  const base = baseOf(entry, feedBase);
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
    url: resolve(attr(alternate, 'href'), baseOf(alternate, base)),
    guid: oneLine(text(entry.id)),
    bodyHtml: body ?? summary,
    summary: body && summary ? summaryFrom(summary, SUMMARY_MAX) : undefined,
    imageUrl: enclosure ? resolve(attr(enclosure, 'href'), baseOf(enclosure, base)) : resolve(imageOf(entry), base),
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
