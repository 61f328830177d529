import { join } from 'node:path';
import type { Router } from 'express';
import type { CampaignReport, Campaigns } from '../../domain/campaigns';
import { NotFoundError } from '../../domain/errors';
import { roleAtLeast } from '../../domain/operator';
import type { SendTimeline } from '../../domain/ports/activity';
import { recordId } from '../../domain/validation';
import { escapeHtml as e } from '../../lib/html';
import { addConsoleAsset, sendConsolePage } from './routes';

const n = (x: number) => x.toLocaleString('en-US');
const when = (iso: string | undefined) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '–');

/**
 * The campaigns list and the campaign view. The view is rendered with the campaign as it stands, then its script
 * follows the server-sent events of /api/admin/campaigns/:id/events; its buttons call the JSON API (editors and up:
 * the API checks the role again, the page only leaves out what the viewer cannot use).
 */
export function campaignsSection(deps: { campaigns: Campaigns; timeline: SendTimeline; siteName: string }) {
  addConsoleAsset('campaign.js', join(__dirname, 'assets', 'campaign.js'));

  return (r: Router): void => {
    r.get('/admin/campaigns', async (_req, res) => {
      const list = await deps.campaigns.list();
      const rows = list
        .map(
          (c) =>
            `<tr><th scope="row"><a href="/admin/campaigns/${c.id}">#${c.id} ${e(c.subject)}</a></th><td><span class="badge ${e(c.status)}">${e(c.status)}</span></td><td>${e(c.newsletter)}</td><td class="num">${n(c.total)}</td><td class="num">${n(c.sent)}</td><td class="num">${n(c.failed)}</td><td class="num">${n(c.skipped)}</td><td class="num">${n(c.bounced)}</td><td class="num">${n(c.complained)}</td><td>${e(when(c.finishedAt ?? c.startedAt ?? c.scheduledAt ?? c.createdAt))}</td></tr>`,
        )
        .join('');
      sendConsolePage(res, deps.siteName, {
        title: 'Campaigns',
        section: 'campaigns',
        body: list.length
          ? `<div class="table-wrap"><table><caption class="muted">Newest first; the last 50.</caption><thead><tr><th scope="col">Campaign</th><th scope="col">Status</th><th scope="col">Newsletter</th><th scope="col" class="num">Recipients</th><th scope="col" class="num">Sent</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Skipped</th><th scope="col" class="num">Bounced</th><th scope="col" class="num">Complaints</th><th scope="col">When</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
          : '<p>No campaigns yet.</p>',
      });
    });

    r.get('/admin/campaigns/:id', async (req, res) => {
      const id = recordId(req.params.id);
      let c: CampaignReport;
      try {
        if (id === undefined) throw new NotFoundError('No such campaign');
        c = await deps.campaigns.get(id);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        return sendConsolePage(
          res,
          deps.siteName,
          {
            title: 'No such campaign',
            section: 'campaigns',
            body: '<p><a href="/admin/campaigns">All campaigns</a></p>',
          },
          404,
        );
      }
      const perMinute = await deps.timeline.perMinute(id);
      const canAct = roleAtLeast(res.locals.console!.viewer.role, 'editor');
      const done = c.sent + c.failed + c.skipped + c.bouncedInSession;
      const figure = (key: string, label: string, value: number) =>
        `<div class="card"><dt class="muted">${label}</dt><dd class="figure" id="c-${key}">${n(value)}</dd></div>`;
      // Nothing to act on (a draft not yet sending, a finished campaign): the section is hidden, not empty; the script
      // shows it when the status changes.
      const running = c.status === 'sending' || c.status === 'paused';
      const actions = canAct
        ? `<section id="actions" aria-labelledby="actions-h"${running ? '' : ' hidden'}><h2 id="actions-h">Actions</h2><div class="actions">
<button type="button" id="pause"${c.status === 'sending' ? '' : ' hidden'}>Pause</button>
<button type="button" id="resume"${c.status === 'paused' ? '' : ' hidden'}>Resume</button>
<button type="button" id="cancel" class="danger"${c.status === 'sending' || c.status === 'paused' ? '' : ' hidden'}>Cancel the campaign</button>
</div></section>`
        : '';
      sendConsolePage(res, deps.siteName, {
        title: `Campaign #${c.id}: ${c.subject}`,
        section: 'campaigns',
        scripts: ['campaign.js'],
        styles: ['uplot.min.css'],
        body: `<p><a href="/admin/campaigns">All campaigns</a> · newsletter <strong>${e(c.newsletter)}</strong> · started <span id="c-started">${e(when(c.startedAt))}</span></p>
<section aria-labelledby="progress-h" id="campaign" data-id="${c.id}" data-minutes="${e(JSON.stringify(perMinute))}">
<h2 id="progress-h">Progress</h2>
<p>Status: <span id="c-status" class="badge ${e(c.status)}">${e(c.status)}</span></p>
<p id="c-reason" class="reason"${c.reason ? '' : ' hidden'}>${c.status === 'paused' ? 'Paused itself: ' : 'Reason: '}<span id="c-reason-text">${e(c.reason ?? '')}</span></p>
<label for="c-progress">Recipients with an outcome</label>
<progress id="c-progress" max="${Math.max(c.total, 1)}" value="${Math.min(done, Math.max(c.total, 1))}" aria-describedby="c-progress-text">${n(done)} of ${n(c.total)}</progress>
<p id="c-progress-text" aria-live="polite">${n(done)} of ${n(c.total)}</p>
<p id="c-rate">Rate: – · time left: –</p>
<dl class="cards">${figure('sent', 'Sent', c.sent)}${figure('failed', 'Failed', c.failed)}${figure('skipped', 'Skipped', c.skipped)}${figure('bounced', 'Bounced', c.bounced)}${figure('complained', 'Complaints', c.complained)}</dl>
</section>
${actions}
<section aria-labelledby="minutes-h"><h2 id="minutes-h">Messages per minute</h2>
<figure class="chart-box"><div id="minute-chart" class="chart" role="img" aria-label="Messages sent per minute"></div></figure>
</section>`,
      });
    });
  };
}
