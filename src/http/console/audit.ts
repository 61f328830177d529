import type { Router } from 'express';
import type { Audit, AuditEntry } from '../../domain/audit';
import { ValidationError } from '../../domain/errors';
import { escapeHtml as e } from '../../lib/html';
import { sendConsolePage } from './routes';

/** Entries a page of the audit log shows. */
const PAGE = 50;

/**
 * The audit log, newest first, filtered by actor (an operator's email or id, or 'cli', 'admin-token') and action
 * (a name or a prefix like 'campaign.'), paged with the log's cursor. A plain GET form: no script needed.
 */
export function auditSection(deps: { audit: Audit; siteName: string }) {
  return (r: Router): void => {
    r.get('/admin/audit', async (req, res) => {
      const q = (k: string) => (typeof req.query[k] === 'string' ? req.query[k].trim() : '');
      const actor = q('actor');
      const action = q('action');
      const cursor = q('cursor');
      let list: string;
      let status = 200;
      try {
        const page = await deps.audit.list({
          limit: String(PAGE),
          ...(actor ? { actor } : {}),
          ...(action ? { action } : {}),
          ...(cursor ? { cursor } : {}),
        });
        const next = page.next
          ? `<p><a rel="next" href="/admin/audit?${new URLSearchParams({ actor, action, cursor: page.next }).toString()}">Older entries</a></p>`
          : '';
        list = page.entries.length
          ? `<div class="table-wrap"><table><thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th>
<th scope="col">Action</th><th scope="col">On</th><th scope="col">Detail</th></tr></thead>
<tbody>${page.entries.map(row).join('\n')}</tbody></table></div>${next}`
          : '<p>No entries match.</p>';
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        status = 422;
        list = `<p class="status error" role="alert">${e(err.message)}</p>`;
      }
      sendConsolePage(
        res,
        deps.siteName,
        {
          title: 'Audit log',
          section: 'audit',
          body: `<form method="get" action="/admin/audit" class="filters">
<div class="field"><label for="f-actor">Operator</label><input type="text" id="f-actor" name="actor" value="${e(actor)}" aria-describedby="hint-actor">
<p class="hint" id="hint-actor">An email or id, or cli, admin-token.</p></div>
<div class="field"><label for="f-action">Action</label><input type="text" id="f-action" name="action" value="${e(action)}" aria-describedby="hint-action">
<p class="hint" id="hint-action">E.g. campaign.send, or campaign. for every campaign action.</p></div>
<div class="actions"><button type="submit">Filter</button><a href="/admin/audit">Clear</a></div></form>
${list}`,
        },
        status,
      );
    });
  };
}

function who(a: AuditEntry['actor']): string {
  if (a.kind === 'operator')
    return `${e(a.email ?? a.id ?? 'operator')}${a.via ? ` <span class="muted">(${e(a.via)})</span>` : ''}`;
  if (a.kind === 'anonymous') return 'unidentified caller';
  return a.kind === 'cli' ? `CLI${a.id ? ` <span class="muted">(${e(a.id)})</span>` : ''}` : 'ADMIN_TOKEN';
}

function row(entry: AuditEntry): string {
  const detail = Object.entries(entry.detail ?? {})
    .map(([k, v]) => `${e(k)}: ${e(String(v))}`)
    .join(', ');
  return `<tr><td><time datetime="${e(entry.at)}">${e(entry.at.replace('T', ' ').slice(0, 19))}</time></td><td>${who(entry.actor)}</td>
<td><code>${e(entry.action)}</code></td><td>${e(entry.object.type)}${entry.object.id ? ` ${e(entry.object.id)}` : ''}</td><td>${detail}</td></tr>`;
}
