import type { Article } from '../domain/article';
import { escapeHtml } from './message-template';
import type { RenderedMail, TemplateRenderer } from './template-renderer';

/**
 * Renders a newsletter of these articles with MJML, once. The result still holds the per-recipient tokens
 * ({{name}}, {{unsubscribe_url}}) that MessageTemplate fills for each subscriber.
 */
export async function renderNewsletter(renderer: TemplateRenderer, input: { subject: string; articles: Article[]; siteName: string }): Promise<RenderedMail> {
  const blocks: string[] = [];
  for (const a of input.articles) {
    const image = a.imageUrl ? `<mj-image src="${escapeHtml(a.imageUrl)}" alt="${escapeHtml(a.title)}" padding="0 24px 8px" border-radius="4px" />` : '';
    const byline = a.author ? `<mj-text font-family="Helvetica, Arial, sans-serif" font-size="13px" color="#57606a" css-class="muted" padding="0 24px 8px">By ${escapeHtml(a.author)}</mj-text>` : '';
    blocks.push(await renderer.partial('article', { title: a.title, url: a.url }, { image, byline, summary: escapeHtml(a.summary).replace(/\n+/g, '<br />') }));
  }
  const lead = input.articles[0];
  return renderer.render(
    'newsletter',
    { subject: input.subject, preview: lead ? lead.summary.slice(0, 140) : input.subject, reason: `You get this because you subscribed to ${input.siteName}.` },
    { articles: blocks.join('\n') },
  );
}
