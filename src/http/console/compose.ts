import type { Router } from 'express';
import type { Articles } from '../../domain/articles';
import type { Audience } from '../../domain/audience';
import { NEWSLETTER_HTML_LIMIT } from '../../domain/campaigns';
import { NotFoundError } from '../../domain/errors';
import type { Newsletters } from '../../domain/newsletters';
import { escapeHtml as e } from '../../lib/html';
import { allowPage, sendConsolePage } from './routes';

/**
 * The composer (editors and admins): a newsletter's new articles, all chosen and in order, to reorder or leave out;
 * subject and preheader; a draft saved through the admin API, previewed at phone and desktop widths with its size
 * against the clipping budget; a test send, a schedule, or a send now behind a confirmation naming the readers.
 * compose.js does the talking; the page itself lists what would go out, script or not.
 */
export function composeSection(deps: {
  newsletters: Newsletters;
  articles: Articles;
  audience: Audience;
  siteName: string;
}) {
  const { newsletters, articles, audience, siteName } = deps;
  return (r: Router): void => {
    r.get('/admin/compose', async (req, res) => {
      if (!allowPage(res, siteName, 'editor')) return;
      const slug = typeof req.query.newsletter === 'string' ? req.query.newsletter : '';
      const all = await newsletters.list();
      const newsletter = slug ? all.find((n) => n.slug === slug) : undefined;
      if (!newsletter) {
        const options = all.map((n) => `<option value="${e(n.slug)}">${e(n.name)}</option>`).join('');
        return sendConsolePage(
          res,
          siteName,
          {
            title: 'Compose',
            section: 'compose',
            body: `${slug ? `<p class="status error" role="alert">${e(new NotFoundError(`No newsletter "${slug}"`).message)}</p>` : ''}
<form method="get" action="/admin/compose"><label for="f-newsletter">Newsletter</label>
<select id="f-newsletter" name="newsletter">${options}</select>
<div class="actions"><button type="submit">Compose</button></div></form>`,
          },
          slug ? 404 : 200,
        );
      }
      const [fresh, stats] = await Promise.all([articles.listNewIn(newsletter), audience.stats()]);
      const readers = stats.newsletters.find((n) => n.slug === newsletter.slug)?.readers ?? 0;
      const items = fresh
        .map(
          (
            a,
          ) => `<li class="article" data-id="${a.id}"><label class="check"><input type="checkbox" name="article" value="${a.id}" checked>
<span class="title">${e(a.title)}</span></label><span class="muted">${e(a.publishedAt.slice(0, 10))}</span>
<span class="move"><button type="button" class="secondary up" aria-label="Move up: ${e(a.title)}">↑</button>
<button type="button" class="secondary down" aria-label="Move down: ${e(a.title)}">↓</button></span></li>`,
        )
        .join('\n');
      sendConsolePage(res, siteName, {
        title: `Compose: ${newsletter.name}`,
        section: 'compose',
        scripts: ['compose.js'],
        body: `<form id="compose" novalidate data-newsletter="${e(newsletter.slug)}" data-readers="${readers}"
 data-limit="${NEWSLETTER_HTML_LIMIT}">
<fieldset><legend>Articles (${fresh.length} new)</legend>
${
  fresh.length
    ? `<p class="hint" id="order-hint">They go out in this order; untick one to leave it out.</p><ol id="articles" aria-describedby="order-hint">${items}</ol>`
    : '<p>No new articles in this newsletter yet.</p>'
}
<p class="field-error" id="err-articleIds" hidden></p>
</fieldset>
<div class="field"><label for="f-subject">Subject</label>
<p class="hint" id="hint-subject">Empty: the first article’s title.</p>
<input type="text" id="f-subject" name="subject" maxlength="200" aria-describedby="hint-subject err-subject">
<p class="field-error" id="err-subject" hidden></p></div>
<div class="field"><label for="f-preheader">Preheader</label>
<p class="hint" id="hint-preheader">The first line mail apps show beside the subject, up to 150 characters. Empty: the headlines.</p>
<input type="text" id="f-preheader" name="preheader" maxlength="150" aria-describedby="hint-preheader err-preheader">
<p class="field-error" id="err-preheader" hidden></p></div>
<div class="actions"><button type="submit" id="save"${fresh.length ? '' : ' disabled'}>Save draft and preview</button>
<span id="draft-state" class="muted" aria-live="polite"></span></div>
</form>

<section aria-labelledby="preview-h" id="preview-section" hidden><h2 id="preview-h">Preview</h2>
<fieldset class="inline"><legend>Width</legend>
<label class="check"><input type="radio" name="width" value="375" checked> Phone (375 px)</label>
<label class="check"><input type="radio" name="width" value="700"> Desktop</label></fieldset>
<p id="size" aria-live="polite"></p>
<progress id="size-bar" max="${NEWSLETTER_HTML_LIMIT}" value="0" aria-labelledby="size"></progress>
<div class="preview-frame"><iframe id="preview" title="Preview of the newsletter" sandbox="" width="375" height="640"></iframe></div>
</section>

<section aria-labelledby="test-h" id="test-section" hidden><h2 id="test-h">Send a test</h2>
<form id="test-form" novalidate><label for="f-test-to">Address</label>
<input type="email" id="f-test-to" name="to" required autocomplete="email" aria-describedby="err-to">
<p class="field-error" id="err-to" hidden></p>
<div class="actions"><button type="submit" class="secondary">Send test</button></div></form></section>

<section aria-labelledby="schedule-h" id="schedule-section" hidden><h2 id="schedule-h">Schedule</h2>
<form id="schedule-form" novalidate><label for="f-at">Send at (your time, <span id="zone"></span>)</label>
<input type="datetime-local" id="f-at" name="at" required aria-describedby="err-at">
<p class="field-error" id="err-at" hidden></p>
<div class="actions"><button type="submit" class="secondary">Schedule</button></div></form>
<p id="scheduled"></p></section>

<section aria-labelledby="send-h" id="send-section" hidden><h2 id="send-h">Send now</h2>
<p>Goes to the ${readers.toLocaleString('en-US')} readers of ${e(newsletter.name)}.</p>
<div class="actions"><button type="button" id="send-now">Send now…</button></div>
<dialog id="confirm-send" aria-labelledby="confirm-h" aria-describedby="confirm-text">
<h2 id="confirm-h">Send this campaign?</h2>
<p id="confirm-text">It goes to <strong>${readers.toLocaleString('en-US')}</strong> recipient${readers === 1 ? '' : 's'}, the readers of ${e(newsletter.name)}. This cannot be undone.</p>
<div class="actions"><button type="button" id="confirm-yes">Send to ${readers.toLocaleString('en-US')} recipient${readers === 1 ? '' : 's'}</button>
<button type="button" class="secondary" id="confirm-no">Cancel</button></div></dialog></section>`,
      });
    });
  };
}
