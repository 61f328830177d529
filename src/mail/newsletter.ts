import type { Article } from '../domain/article';
import type { NewsletterRenderer, ReaderValues, RenderedNewsletter } from '../domain/ports/newsletter-renderer';
import { escapeHtml } from '../lib/html';
import type { TemplateRenderer } from './template-renderer';

/**
 * The newsletter in MJML (templates/newsletter.mjml and its article partial), rendered once a campaign. The result
 * keeps the per-reader tokens ({{name}}, {{unsubscribe_url}}) that MessageTemplate fills for each subscriber.
 */
export class MjmlNewsletterRenderer implements NewsletterRenderer {
  constructor(private readonly deps: { templates: TemplateRenderer; siteName: string }) {}

  async render(input: { subject: string; articles: Article[] }): Promise<RenderedNewsletter> {
    const { templates, siteName } = this.deps;
    const blocks: string[] = [];
    for (const a of input.articles) {
      const image = a.imageUrl
        ? `<mj-image src="${escapeHtml(a.imageUrl)}" alt="${escapeHtml(a.title)}" ` +
          `padding="0 24px 8px" border-radius="4px" />`
        : '';
      const byline = a.author
        ? `<mj-text font-family="Helvetica, Arial, sans-serif" font-size="13px" color="#57606a" css-class="muted" ` +
          `padding="0 24px 8px">By ${escapeHtml(a.author)}</mj-text>`
        : '';
      blocks.push(
        await templates.partial(
          'article',
          { title: a.title, url: a.url },
          { image, byline, summary: escapeHtml(a.summary).replace(/\n+/g, '<br />') },
        ),
      );
    }
    const lead = input.articles[0];
    return templates.render(
      'newsletter',
      {
        subject: input.subject,
        preview: lead ? lead.summary.slice(0, 140) : input.subject,
        reason: `You get this because you subscribed to ${siteName}.`,
      },
      { articles: blocks.join('\n') },
    );
  }

  personalise(html: string, reader: ReaderValues): string {
    return html
      .replaceAll('{{name}}', escapeHtml(reader.name))
      .replaceAll('{{unsubscribe_url}}', escapeHtml(reader.unsubscribeUrl));
  }
}
