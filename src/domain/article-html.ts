import sanitizeHtml from 'sanitize-html';
import { convert } from 'html-to-text';

/**
 * The email-safe subset of HTML an article body may keep. Everything else is dropped: scripts, styles and frames
 * with their content, other tags keeping their text. Attributes are limited to the ones below (no event handlers,
 * no style, class or id), and links and images must point at absolute http(s) URLs (links may also be mailto:).
 */
const ALLOWED_TAGS = [
  'p',
  'br',
  'h2',
  'h3',
  'h4',
  'strong',
  'b',
  'em',
  'i',
  'u',
  'blockquote',
  'q',
  'ul',
  'ol',
  'li',
  'a',
  'img',
  'figure',
  'figcaption',
  'hr',
];
const LINK_SCHEMES = new Set(['http:', 'https:', 'mailto:']);
const IMAGE_SCHEMES = new Set(['http:', 'https:']);
/** Dropped with everything inside them: their text is code or chrome, never article prose. */
const DROPPED_WITH_CONTENT = [
  'script',
  'style',
  'textarea',
  'option',
  'noscript',
  'iframe',
  'object',
  'embed',
  'template',
  'title',
  'head',
  'svg',
  'math',
];
const SIZE = /^\d{1,4}%?$/;
/**
 * Block containers outside the subset. They pass the first step as bare `div`s, then `flattenWrappers` turns one that
 * holds only text into a paragraph (so texts do not run together) and unwraps one that holds blocks (so paragraphs
 * never nest).
 */
const WRAPPERS = [
  'div',
  'section',
  'article',
  'header',
  'footer',
  'main',
  'aside',
  'address',
  'pre',
  'td',
  'th',
  'dt',
  'dd',
  'caption',
  'center',
];
const BLOCK_TAGS = new Set([
  'p',
  'div',
  'h2',
  'h3',
  'h4',
  'blockquote',
  'ul',
  'ol',
  'li',
  'figure',
  'figcaption',
  'hr',
]);

/** Options of `sanitiseArticleHtml`. */
export interface SanitiseOptions {
  /**
   * Absolute URL relative links and images are resolved against (the article's own url). Default: none, and then
   * relative links lose their href and relative images are dropped, since a mail has no base to resolve them.
   */
  baseUrl?: string;
}

/** Reduces article HTML to the email-safe subset above. Safe on any input; never throws. */
export function sanitiseArticleHtml(html: string, opts: SanitiseOptions = {}): string {
  const base = opts.baseUrl;
  const clean = sanitizeHtml(html.replace(/\0/g, ''), {
    allowedTags: [...ALLOWED_TAGS, 'div'],
    allowedAttributes: { a: ['href'], img: ['src', 'alt', 'width', 'height'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https'] },
    allowedSchemesAppliedToAttributes: ['href', 'src'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    nonTextTags: DROPPED_WITH_CONTENT,
    nestingLimit: 40,
    transformTags: {
      // The newsletter owns the h1; deeper headings fold into the allowed range rather than into plain text.
      h1: 'h2',
      h5: 'h4',
      h6: 'h4',
      ...Object.fromEntries(WRAPPERS.map((t) => [t, 'div'])),
      a: (tagName, attribs) => {
        const href = absoluteUrl(attribs.href, base, LINK_SCHEMES);
        const out: Record<string, string> = {};
        if (href) out.href = href;
        return { tagName, attribs: out };
      },
      img: (tagName, attribs) => {
        const out: Record<string, string> = {};
        const src = absoluteUrl(attribs.src, base, IMAGE_SCHEMES);
        if (src) out.src = src;
        if (attribs.alt !== undefined) out.alt = attribs.alt;
        for (const k of ['width', 'height']) if (attribs[k] && SIZE.test(attribs[k].trim())) out[k] = attribs[k].trim();
        return { tagName, attribs: out };
      },
    },
    // An image whose source was refused is dropped whole rather than left as a broken box.
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
  });
  return flattenWrappers(clean);
}

/**
 * Resolves the bare `div`s the first step left (see WRAPPERS). Works on sanitize-html's output, which is well-formed,
 * has attribute values escaped and no attributes on div or p, so a tag scan is exact here.
 */
function flattenWrappers(html: string): string {
  if (!html.includes('<div>')) return html;
  const parts = html.split(/(<\/?[a-z0-9]+(?:\s[^>]*)?\/?>)/);
  const open: { at: number; hasBlock: boolean }[] = [];
  parts.forEach((part, i) => {
    const m = /^<(\/?)([a-z0-9]+)/.exec(part);
    if (!m) return;
    const [, closing, tag] = m;
    if (!closing && BLOCK_TAGS.has(tag) && open.length) open[open.length - 1].hasBlock = true;
    if (tag !== 'div') return;
    if (!closing) return void open.push({ at: i, hasBlock: false });
    const wrapper = open.pop();
    if (!wrapper) return;
    parts[wrapper.at] = wrapper.hasBlock ? '' : '<p>';
    parts[i] = wrapper.hasBlock ? '' : '</p>';
  });
  return parts.join('');
}

/**
 * A plain-text summary of article HTML: text only (no markup, no link targets, no images), whitespace collapsed to
 * single spaces, cut at a word boundary to at most `max` characters with an ellipsis when cut.
 */
export function summaryFrom(html: string, max = 300): string {
  const text = htmlToPlainText(html);
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:.\-–—]+$/, '')}…`;
}

/** Text of an HTML fragment on one line: entities decoded, control characters and runs of whitespace made one space. */
export function htmlToPlainText(html: string): string {
  const text = convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      ...DROPPED_WITH_CONTENT.map((selector) => ({ selector, format: 'skip' })),
      ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
      { selector: 'table', format: 'block' },
    ],
  });
  return text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** The URL made absolute against `base` if relative, or undefined when it is unusable or of a refused scheme. */
function absoluteUrl(raw: string | undefined, base: string | undefined, schemes: Set<string>): string | undefined {
  if (!raw) return undefined;
  const value = raw.trim();
  // The URL parser silently drops tabs and newlines ("java\tscript:"): refuse them rather than let it repair them.
  if (!value || /[\u0000-\u001f\u007f]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value, isAbsolute(value) ? undefined : base);
  } catch {
    return undefined;
  }
  return schemes.has(url.protocol) ? url.href : undefined;
}

function isAbsolute(v: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(v);
}
