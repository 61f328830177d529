import type { Router } from 'express';
import type { Audience } from '../../domain/audience';
import { NotFoundError, ValidationError } from '../../domain/errors';
import type { Newsletters } from '../../domain/newsletters';
import type { Subscriptions } from '../../domain/subscriptions';
import { escapeHtml as e } from '../../lib/html';
import { sendConsolePage } from './routes';

const STATUSES = ['active', 'pending', 'unsubscribed', 'bounced'];
const PAGE = '50';

/**
 * The audience: a search by address prefix with status and newsletter filters, paged by the listing's cursor (a
 * plain GET form and links), and one person's record and consent trail, with export and, for admins, erasure.
 */
export function audienceSection(deps: {
  audience: Audience;
  subscriptions: Subscriptions;
  newsletters: Newsletters;
  siteName: string;
}) {
  const { audience, subscriptions, newsletters, siteName } = deps;
  return (r: Router): void => {
    r.get('/admin/audience', async (req, res) => {
      const q = (k: string) => (typeof req.query[k] === 'string' ? req.query[k].trim() : '');
      const filters = { q: q('q'), status: q('status'), newsletter: q('newsletter') };
      const all = await newsletters.list();
      let list: string;
      let code = 200;
      try {
        const page = await audience.list({ ...filters, cursor: q('cursor') || undefined, limit: PAGE });
        const rows = page.subscribers
          .map(
            (
              s,
            ) => `<tr><td><a href="/admin/audience/${encodeURIComponent(s.email)}">${e(s.email)}</a></td><td>${e(s.name)}</td>
<td><span class="badge">${e(s.status)}</span></td><td>${e(s.newsletters.join(', '))}</td><td>${e(s.createdAt.slice(0, 10))}</td></tr>`,
          )
          .join('\n');
        const next = page.nextCursor
          ? `<p><a rel="next" href="/admin/audience?${new URLSearchParams({ ...filters, cursor: page.nextCursor }).toString()}">Next page</a></p>`
          : '';
        list = page.subscribers.length
          ? `<div class="table-wrap"><table><thead><tr><th scope="col">Address</th><th scope="col">Name</th><th scope="col">Status</th>
<th scope="col">Newsletters</th><th scope="col">Since</th></tr></thead><tbody>${rows}</tbody></table></div>${next}`
          : '<p>Nobody matches.</p>';
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        code = 422;
        list = `<p class="status error" role="alert">${e(err.message)}</p>`;
      }
      const option = (value: string, label: string, current: string) =>
        `<option value="${e(value)}"${value === current ? ' selected' : ''}>${e(label)}</option>`;
      sendConsolePage(
        res,
        siteName,
        {
          title: 'Audience',
          section: 'audience',
          body: `<form method="get" action="/admin/audience" class="filters" role="search">
<div class="field"><label for="f-q">Address starts with</label><input type="search" id="f-q" name="q" value="${e(filters.q)}"></div>
<div class="field"><label for="f-status">Status</label><select id="f-status" name="status">${option('', 'Any', filters.status)}${STATUSES.map((s) => option(s, s, filters.status)).join('')}</select></div>
<div class="field"><label for="f-newsletter">Newsletter</label><select id="f-newsletter" name="newsletter">${option('', 'Any', filters.newsletter)}${all.map((n) => option(n.slug, n.name, filters.newsletter)).join('')}</select></div>
<div class="actions"><button type="submit">Search</button><a href="/admin/audience">Clear</a></div></form>
<p class="actions">Export everyone: <a href="/api/admin/subscribers/export?format=csv" download>CSV</a>
<a href="/api/admin/subscribers/export?format=ndjson" download>NDJSON</a></p>
${list}`,
        },
        code,
      );
    });

    r.get('/admin/audience/:email', async (req, res) => {
      let record: Awaited<ReturnType<Subscriptions['export']>>;
      try {
        record = await subscriptions.export(req.params.email);
      } catch (err) {
        if (!(err instanceof NotFoundError || err instanceof ValidationError)) throw err;
        return sendConsolePage(
          res,
          siteName,
          {
            title: 'Nobody with this address',
            section: 'audience',
            body: '<p><a href="/admin/audience">Back to the audience</a></p>',
          },
          404,
        );
      }
      const s = record.subscriber;
      const isAdmin = res.locals.console?.viewer.role === 'admin';
      const trail = record.trail
        .map(
          (
            t,
          ) => `<tr><td><time datetime="${e(t.at)}">${e(t.at.replace('T', ' ').slice(0, 19))}</time></td><td>${e(t.type)}</td>
<td>${e(t.source ?? '')}</td><td>${e(t.ip ?? '')}</td><td>${e(t.termsVersion ?? '')}</td><td>${e(t.detail ?? '')}</td></tr>`,
        )
        .join('\n');
      const path = `/api/admin/subscribers/${encodeURIComponent(s.email)}`;
      // Only admins may erase (the API refuses editors too); the others do not get the form at all.
      const erase = isAdmin
        ? `<section aria-labelledby="erase-h"><h2 id="erase-h">Erase this person</h2>
<form id="erase-form" data-email="${e(s.email)}">
<p id="erase-warning">Erasing removes everything held on this person for good; only a hash of the address stays, so they are never mailed again.</p>
<label for="erase-confirm">Type the address to confirm</label>
<input type="email" id="erase-confirm" autocomplete="off" aria-describedby="erase-warning">
<div class="actions"><button type="submit" class="danger" id="erase-button" disabled>Erase ${e(s.email)}</button></div>
</form></section>`
        : '';
      sendConsolePage(res, siteName, {
        title: s.email,
        section: 'audience',
        body: `<dl class="facts">
<dt>Name</dt><dd>${e(s.name || '—')}</dd>
<dt>Status</dt><dd><span class="badge">${e(s.status)}</span></dd>
<dt>Newsletters</dt><dd>${e(s.newsletters.join(', ') || 'none')}</dd>
<dt>Requested, not confirmed</dt><dd>${e(s.requestedNewsletters.join(', ') || 'none')}</dd>
<dt>Signed up</dt><dd>${e(s.createdAt)}</dd>
${s.confirmedAt ? `<dt>Confirmed</dt><dd>${e(s.confirmedAt)}</dd>` : ''}
<dt>Latest consent</dt><dd>${e(record.consent.at)} via ${e(record.consent.source)}, terms ${e(record.consent.termsVersion)}</dd>
</dl>
<p class="actions"><a class="button" href="${e(path)}" download="${e(s.email)}.json">Export this person (JSON)</a></p>
<section aria-labelledby="trail-h"><h2 id="trail-h">Consent trail</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">When (UTC)</th><th scope="col">Event</th><th scope="col">Source</th>
<th scope="col">IP</th><th scope="col">Terms</th><th scope="col">Detail</th></tr></thead><tbody>${trail}</tbody></table></div></section>
${erase}`,
        scripts: isAdmin ? ['person.js'] : [],
      });
    });
  };
}
