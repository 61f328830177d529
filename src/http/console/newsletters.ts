import type { Router } from 'express';
import type { Audience } from '../../domain/audience';
import type { DigestSchedules, NewsletterView } from '../../domain/digest-schedules';
import { NotFoundError } from '../../domain/errors';
import type { Newsletter } from '../../domain/newsletter';
import type { Newsletters } from '../../domain/newsletters';
import { escapeHtml as e } from '../../lib/html';
import { allowPage, sendConsolePage } from './routes';

export interface NewslettersSectionDeps {
  newsletters: Newsletters;
  digests: DigestSchedules;
  audience: Audience;
  siteName: string;
}

/** Runs listed on a newsletter's page: the last two weeks of a daily digest, or a busy day of alerts. */
const RUNS_SHOWN = 20;

/**
 * Newsletters and their schedules: the list, one newsletter with its recent runs and what goes out next, and the
 * forms to create and edit one. The forms post JSON to /api/admin/newsletters (newsletter-form.js), which validates
 * and answers field by field; the page shows each message beside its field.
 */
export function newslettersSection(deps: NewslettersSectionDeps) {
  const { newsletters, digests, audience, siteName } = deps;
  const readersBySlug = async () =>
    new Map((await audience.stats()).newsletters.map((n) => [n.slug, n.readers] as const));

  return (r: Router): void => {
    r.get('/admin/newsletters', async (_req, res) => {
      const [all, readers] = await Promise.all([newsletters.list(), readersBySlug()]);
      const rows = all
        .map((n) => digests.describe(n))
        .map(
          (
            n,
          ) => `<tr><td><a href="/admin/newsletters/${e(n.slug)}">${e(n.name)}</a> <span class="muted">(${e(n.slug)})</span>${
            n.public ? '' : ' <span class="badge">private</span>'
          }</td><td>${e(n.mode)}</td><td>${e(n.categories.join(', ') || 'all')}</td>
<td class="num">${(readers.get(n.slug) ?? 0).toLocaleString('en-US')}</td><td>${nextRun(n)}</td></tr>`,
        )
        .join('\n');
      const canEdit = res.locals.console?.viewer.role !== 'viewer';
      sendConsolePage(res, siteName, {
        title: 'Newsletters',
        section: 'newsletters',
        body: `${canEdit ? '<p class="actions"><a class="button" href="/admin/newsletters/new">New newsletter</a></p>' : ''}
<div class="table-wrap"><table><thead><tr><th scope="col">Newsletter</th><th scope="col">Mode</th><th scope="col">Categories</th>
<th scope="col" class="num">Readers</th><th scope="col">Next run</th></tr></thead><tbody>${rows}</tbody></table></div>`,
      });
    });

    // Declared before /:slug, which would otherwise take "new" for a slug.
    r.get('/admin/newsletters/new', (_req, res) => {
      if (!allowPage(res, siteName, 'editor')) return;
      sendConsolePage(res, siteName, {
        title: 'New newsletter',
        section: 'newsletters',
        body: newsletterForm(),
        scripts: ['newsletter-form.js'],
      });
    });

    r.get('/admin/newsletters/:slug', async (req, res) => {
      const n = await findNewsletter(newsletters, req.params.slug);
      if (!n) return notFound(res, siteName);
      const [runs, readers] = await Promise.all([digests.runs(n.slug, RUNS_SHOWN), readersBySlug()]);
      const view = digests.describe(n);
      const runRows = runs
        .map(
          (run) =>
            `<tr><td>${e(run.slot ?? run.at)}</td><td><span class="badge outcome-${e(run.outcome)}">${e(run.outcome)}</span>${
              run.lateBySeconds ? ` <span class="muted">late by ${run.lateBySeconds} s</span>` : ''
            }</td><td class="num">${run.articles}</td><td>${
              run.campaignId ? `<a href="/admin/campaigns/${run.campaignId}">#${run.campaignId}</a>` : ''
            }</td><td>${e(run.reason ?? '')}</td></tr>`,
        )
        .join('\n');
      const editor = res.locals.console?.viewer.role !== 'viewer';
      sendConsolePage(res, siteName, {
        title: n.name,
        section: 'newsletters',
        body: `${
          editor
            ? `<p class="actions"><a class="button" href="/admin/newsletters/${e(n.slug)}/edit">Edit</a>
<a class="button" href="/admin/compose?newsletter=${e(n.slug)}">Compose</a></p>`
            : ''
        }
<dl class="facts">
<dt>Slug</dt><dd>${e(n.slug)}</dd>
<dt>Description</dt><dd>${e(n.description || '—')}</dd>
<dt>From name</dt><dd>${e(n.fromName ?? 'the site’s')}</dd>
<dt>Offered to visitors</dt><dd>${n.public ? 'yes' : 'no (private)'}</dd>
<dt>Categories</dt><dd>${e(n.categories.join(', ') || 'every article')}</dd>
<dt>Mode</dt><dd>${e(n.mode)}</dd>
${
  n.schedule
    ? `<dt>Schedule</dt><dd><code>${e(n.schedule.cron)}</code> in ${e(n.schedule.timezone)}, at least ${n.schedule.minArticles} new article(s)</dd>`
    : ''
}
${n.alertsPerDay !== undefined ? `<dt>Alerts a day</dt><dd>at most ${n.alertsPerDay}</dd>` : ''}
<dt>Readers</dt><dd>${(readers.get(n.slug) ?? 0).toLocaleString('en-US')}</dd>
</dl>
<section aria-labelledby="next"><h2 id="next">What goes out next</h2><p id="next-run">${whatNext(view)}</p></section>
<section aria-labelledby="runs"><h2 id="runs">Recent runs</h2>
${
  runs.length
    ? `<div class="table-wrap"><table><thead><tr><th scope="col">Slot or time</th><th scope="col">Outcome</th>
<th scope="col" class="num">Articles</th><th scope="col">Campaign</th><th scope="col">Reason</th></tr></thead><tbody>${runRows}</tbody></table></div>`
    : '<p class="muted">No runs yet.</p>'
}</section>`,
      });
    });

    r.get('/admin/newsletters/:slug/edit', async (req, res) => {
      if (!allowPage(res, siteName, 'editor')) return;
      const n = await findNewsletter(newsletters, req.params.slug);
      if (!n) return notFound(res, siteName);
      sendConsolePage(res, siteName, {
        title: `Edit ${n.name}`,
        section: 'newsletters',
        body: newsletterForm(n),
        scripts: ['newsletter-form.js'],
      });
    });
  };
}

async function findNewsletter(newsletters: Newsletters, slug: string): Promise<Newsletter | null> {
  try {
    return await newsletters.get(slug);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

function notFound(res: Parameters<typeof sendConsolePage>[0], siteName: string): void {
  sendConsolePage(
    res,
    siteName,
    {
      title: 'No such newsletter',
      section: 'newsletters',
      body: '<p><a href="/admin/newsletters">Back to the newsletters</a></p>',
    },
    404,
  );
}

function nextRun(n: NewsletterView): string {
  if (n.nextRunAt) return `<time datetime="${e(n.nextRunAt)}">${e(n.nextRunAt)}</time>`;
  return n.mode === 'alerts' ? 'each new article' : '<span class="muted">not scheduled</span>';
}

function whatNext(n: NewsletterView): string {
  if (n.mode === 'alerts')
    return `Each new article${n.categories.length ? ` in ${e(n.categories.join(', '))}` : ''} goes out as it arrives${
      n.alertsPerDay !== undefined ? `, at most ${n.alertsPerDay} a day` : ''
    }.`;
  if (!n.nextRunAt || !n.schedule) return 'No schedule: digests go out when an editor sends one from the composer.';
  return `The next digest builds at <time datetime="${e(n.nextRunAt)}">${e(n.nextRunAt)}</time> (UTC), from the new articles${
    n.categories.length ? ` in ${e(n.categories.join(', '))}` : ''
  }, if there are at least ${n.schedule.minArticles}.`;
}

/**
 * One field with its label, hint and error place, tied together by ids: the script fills `err-<name>` and marks the
 * input invalid when the API names the field (`schedule.cron` becomes `err-schedule-cron`).
 */
function field(name: string, label: string, input: string, hint = ''): string {
  const id = name.replace('.', '-');
  const hintHtml = hint ? `<p class="hint" id="hint-${id}">${hint}</p>` : '';
  return `<div class="field"><label for="f-${id}">${e(label)}</label>${hintHtml}${input}
<p class="field-error" id="err-${id}" hidden></p></div>`;
}

function described(name: string, hint: boolean): string {
  const id = name.replace('.', '-');
  return `id="f-${id}" aria-describedby="${hint ? `hint-${id} ` : ''}err-${id}"`;
}

/** The create form (no newsletter) or the edit form; both work the same way through newsletter-form.js. */
function newsletterForm(n?: Newsletter): string {
  const v = (s: string | number | undefined) => (s === undefined ? '' : e(String(s)));
  const mode = n?.mode ?? 'digest';
  return `<form id="newsletter-form" novalidate data-slug="${v(n?.slug)}" data-mode="${n ? 'edit' : 'create'}">
${
  n
    ? `<input type="hidden" name="slug" value="${v(n.slug)}">`
    : field(
        'slug',
        'Slug',
        `<input type="text" name="slug" required pattern="[a-z0-9-]{1,40}" ${described('slug', true)}>`,
        'Lowercase letters, digits and hyphens; it never changes.',
      )
}
${field('name', 'Name', `<input type="text" name="name" required value="${v(n?.name)}" ${described('name', false)}>`)}
${field('description', 'Description', `<textarea name="description" rows="3" ${described('description', false)}>${v(n?.description)}</textarea>`)}
${field('fromName', 'From name', `<input type="text" name="fromName" value="${v(n?.fromName)}" ${described('fromName', true)}>`, 'Shown as the sender; empty: the site’s name.')}
<div class="field"><label class="check"><input type="checkbox" name="public" id="f-public" ${n?.public === false ? '' : 'checked'} aria-describedby="err-public"> Offered on the signup and preference pages</label>
<p class="field-error" id="err-public" hidden></p></div>
${field('categories', 'Categories', `<input type="text" name="categories" value="${v(n?.categories.join(', '))}" ${described('categories', true)}>`, 'Comma-separated; empty takes every article.')}
<fieldset aria-describedby="err-mode"><legend>Mode</legend>
<label class="check"><input type="radio" name="mode" value="digest" ${mode === 'digest' ? 'checked' : ''}> Digest: the new articles on a schedule</label>
<label class="check"><input type="radio" name="mode" value="alerts" ${mode === 'alerts' ? 'checked' : ''}> Alerts: each article as it arrives</label>
<p class="field-error" id="err-mode" hidden></p>
</fieldset>
<fieldset id="schedule-fields" aria-describedby="err-schedule"><legend>Schedule (digests)</legend>
<p class="field-error" id="err-schedule" hidden></p>
${field('schedule.cron', 'Cron expression', `<input type="text" name="schedule.cron" value="${v(n?.schedule?.cron)}" ${described('schedule.cron', true)}>`, 'E.g. <code>0 7 * * *</code> for 07:00 daily; empty: no schedule.')}
${field('schedule.timezone', 'Time zone', `<input type="text" name="schedule.timezone" value="${v(n?.schedule?.timezone ?? 'UTC')}" ${described('schedule.timezone', true)}>`, 'An IANA zone, e.g. Europe/London.')}
${field('schedule.minArticles', 'Fewest new articles to send', `<input type="number" name="schedule.minArticles" min="1" max="100" value="${v(n?.schedule?.minArticles ?? 1)}" ${described('schedule.minArticles', false)}>`)}
</fieldset>
<fieldset id="alert-fields"><legend>Alerts</legend>
${field('alertsPerDay', 'Most alerts a day', `<input type="number" name="alertsPerDay" min="1" max="1000" value="${v(n?.alertsPerDay)}" ${described('alertsPerDay', true)}>`, 'Empty: no cap.')}
</fieldset>
<p class="field-error" id="err-body" hidden></p>
<div class="actions"><button type="submit">${n ? 'Save changes' : 'Create newsletter'}</button>
<a href="${n ? `/admin/newsletters/${v(n.slug)}` : '/admin/newsletters'}">Cancel</a></div>
</form>`;
}
