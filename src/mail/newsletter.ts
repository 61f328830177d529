import posthtml from 'posthtml';
import type { Article } from '../domain/article';
import type {
  NewsletterInput,
  NewsletterRenderer,
  ReaderValues,
  RenderedNewsletter,
} from '../domain/ports/newsletter-renderer';
import { escapeHtml } from '../lib/html';
import type { TemplateRenderer } from './template-renderer';

/** Marks the parts of a mail that the web version leaves out (see templates/partials). */
const MAIL_ONLY = /(^|\s)mail-only(\s|$)/;
/** Any per-reader place MessageTemplate would fill. */
const TOKEN = /\{\{[a-z_]+\}\}/g;
/** The visible first line shows this much of the headlines; mail apps show about as much beside the subject. */
const PREHEADER_CHARS = 140;

/**
 * The newsletter in MJML (templates/newsletter.mjml and its article partial), rendered once a campaign. The result
 * keeps the per-reader tokens ({{name}}, {{unsubscribe_url}}) that MessageTemplate fills for each subscriber.
 */
export class MjmlNewsletterRenderer implements NewsletterRenderer {
  constructor(
    private readonly deps: {
      templates: TemplateRenderer;
      siteName: string;
      /** The signup page, for the invitation in the footer that forwarded and web copies need. */
      signupUrl: string;
    },
  ) {}

  async render(input: NewsletterInput): Promise<RenderedNewsletter> {
    const { templates, siteName, signupUrl } = this.deps;
    const blocks: string[] = [];
    for (const a of input.articles)
      blocks.push(await templates.partial('article', { title: a.title, url: a.url }, parts(a)));
    return templates.render(
      'newsletter',
      {
        subject: input.subject,
        preheader: input.preheader || preheaderOf(input.articles, input.subject),
        reason: `You get this because you subscribed to ${siteName}.`,
        // Each reader's link is signed for this newsletter only (Links.unsubscribe with its slug).
        unsubscribe_label: 'Unsubscribe from this newsletter',
      },
      {
        articles: blocks.join('\n'),
        preheader_links: `<span class="mail-only"> · <a href="${escapeHtml(input.webVersionUrl)}">View in browser</a></span>`,
        signup_line:
          `Forwarded to you, or reading it on the web? <a href="${escapeHtml(signupUrl)}">Sign up</a> ` +
          'to get it by email.<br /><br />',
      },
    );
  }

  personalise(html: string, reader: ReaderValues): string {
    return html
      .replaceAll('{{name}}', escapeHtml(reader.name))
      .replaceAll('{{unsubscribe_url}}', escapeHtml(reader.unsubscribeUrl))
      .replaceAll('{{preferences_url}}', escapeHtml(reader.preferencesUrl ?? ''));
  }

  async webVersion(html: string): Promise<string> {
    const { html: stripped } = await posthtml()
      .use((tree) => {
        // A node without a tag renders only its content; with none, nothing.
        tree.match({ attrs: { class: MAIL_ONLY } }, () => ({
          tag: false as unknown as string,
          attrs: {},
          content: [],
        }));
        return tree;
      })
      .process(html);
    // The greeting keeps its shape; any other per-reader place left would be empty on the web, so it goes.
    return stripped.replaceAll('{{name}}', 'reader').replace(TOKEN, '');
  }
}

/** The MJML of an article's image, byline and summary, for the article partial's raw slots. */
function parts(a: Article): Record<string, string> {
  // The image links to the article like the headline does. A linked image needs a text that says where the link
  // goes (an empty alt would leave screen readers reading out the URL); repeating the headline would make them read
  // it twice, so the text names the link's purpose.
  const image = a.imageUrl
    ? `<mj-image src="${escapeHtml(a.imageUrl)}" href="${escapeHtml(a.url)}" alt="Open the article" ` +
      `css-class="article-image" padding="0 24px 8px" border-radius="4px" />`
    : '';
  const byline = a.author
    ? `<mj-text font-family="Helvetica, Arial, sans-serif" font-size="13px" color="#57606a" css-class="muted" ` +
      `padding="0 24px 8px">By ${escapeHtml(a.author)}</mj-text>`
    : '';
  return { image, byline, summary: escapeHtml(a.summary).replace(/\n+/g, '<br />') };
}

/** The first visible line, which mail apps show beside the subject: the headlines, as far as they fit. */
function preheaderOf(articles: Article[], subject: string): string {
  if (!articles.length) return subject;
  let line = `In this issue: ${articles[0].title}`;
  for (const a of articles.slice(1)) {
    if (line.length + a.title.length + 3 > PREHEADER_CHARS) return `${line} and more`;
    line += ` · ${a.title}`;
  }
  return line;
}
