import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mjml2html from 'mjml';
import { convert } from 'html-to-text';
import { escapeHtml } from '../lib/html';

export type TemplateName = 'confirm' | 'welcome' | 'newsletter';

export interface RenderedMail {
  html: string;
  text: string;
}

/** Options of `TemplateRenderer`. */
export interface TemplateRendererOptions {
  /** Folder of the *.mjml files (partials/ inside). */
  dir: string;
  /** Values every template may use: site_name, postal_address... */
  globals: Record<string, string>;
}

export class TemplateError extends Error {
  readonly code = 'template_error';
}

const INCLUDE = /<mj-include\s+path="\.\/(partials\/[a-z-]+\.mjml)"\s*\/>/g;
/** `[[[name]]]` (trusted MJML) or `[[name]]` (escaped text). */
const PLACEHOLDER = /\[\[\[([a-z_]+)\]\]\]|\[\[([a-z_]+)\]\]/g;

/**
 * Renders the MJML templates. Two kinds of placeholders:
 * - `[[name]]` (escaped) and `[[[name]]]` (trusted MJML) are filled at render time, before MJML runs;
 * - `{{name}}` survives rendering and is filled per recipient by MessageTemplate,
 *   so one render serves a whole campaign.
 * Partials are inlined here rather than by mj-include so render-time values reach them too.
 */
export class TemplateRenderer {
  /** How many MJML renders this instance has run: campaigns must render once, not per recipient. */
  renders = 0;
  private readonly sources = new Map<string, string>();

  constructor(private readonly opts: TemplateRendererOptions) {}

  async render(
    name: TemplateName,
    vars: Record<string, string> = {},
    raw: Record<string, string> = {},
  ): Promise<RenderedMail> {
    const source = fill(await this.source(`${name}.mjml`), { ...this.opts.globals, ...vars }, raw);
    this.renders++;
    const result = await mjml2html(source, {
      validationLevel: 'soft',
      keepComments: false,
      minify: true,
      minifyOptions: MINIFY,
    });
    const errors = result.errors.filter((e) => !/has invalid value|Attribute/.test(e.message ?? ''));
    if (errors.length)
      throw new TemplateError(`MJML errors in ${name}: ${errors.map((e) => e.formattedMessage).join('; ')}`);
    return { html: result.html, text: htmlToText(result.html) };
  }

  /** A partial filled with values, as MJML source to pass into a template's `[[[...]]]` slot. */
  async partial(name: string, vars: Record<string, string>, raw: Record<string, string> = {}): Promise<string> {
    return fill(await this.source(`partials/${name}.mjml`), vars, raw);
  }

  private async source(file: string): Promise<string> {
    let s = this.sources.get(file);
    if (s === undefined) {
      s = await readFile(join(this.opts.dir, file), 'utf8');
      for (const m of [...s.matchAll(INCLUDE)]) s = s.replace(m[0], await this.source(m[1]));
      this.sources.set(file, s);
    }
    return s;
  }
}

/**
 * Minified output (MJML 5 runs htmlnano): Gmail clips a message whose HTML passes 102 KB, and whitespace is about a
 * fifth of MJML's output. CSS is left as it is: cssnano is not installed where htmlnano looks for it, and the styles
 * are a small part of the size. MJML's typings list only some htmlnano options, but it hands all of them on.
 */
type MinifyOptions = NonNullable<NonNullable<Parameters<typeof mjml2html>[1]>['minifyOptions']>;
const MINIFY = {
  collapseWhitespace: true,
  minifyCss: false,
  removeComments: 'safe',
  custom: dropAutoHeight,
} as MinifyOptions;

interface HtmlNode {
  tag?: string;
  attrs?: Record<string, unknown>;
}

/**
 * mj-image writes `height="auto"` on every image that has no fixed height; `height` takes only a number in HTML,
 * and its inline style already says `height:auto`, so the attribute goes.
 */
function dropAutoHeight<T extends { walk(cb: (node: HtmlNode) => HtmlNode): unknown }>(tree: T): T {
  tree.walk((node) => {
    if (node.tag === 'img' && node.attrs?.height === 'auto') delete node.attrs.height;
    return node;
  });
  return tree;
}

function fill(source: string, vars: Record<string, string>, raw: Record<string, string>): string {
  // One pass, so a filled value is never read again: an article titled "[[x]]" stays a title.
  return source.replace(PLACEHOLDER, (_, rawKey: string | undefined, key: string | undefined) => {
    if (rawKey !== undefined) {
      if (!(rawKey in raw)) throw new TemplateError(`template needs [[[${rawKey}]]]`);
      return raw[rawKey];
    }
    if (!(key! in vars)) throw new TemplateError(`template needs [[${key}]]`);
    return escapeHtml(vars[key!]);
  });
}

/** The text part: readable, links written out, images left out (and an article's image link with them). */
export function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: 76,
    baseElements: { selectors: ['body'] },
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
      { selector: 'td.article-image', format: 'skip' },
    ],
  }).trim();
}
