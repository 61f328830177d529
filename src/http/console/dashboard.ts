import type { Router } from 'express';
import type { Audience } from '../../domain/audience';
import { escapeHtml as e } from '../../lib/html';
import { sendConsolePage } from './routes';

/** The console's front page: the audience at a glance. */
export function dashboardSection(deps: { audience: Audience; siteName: string }) {
  return (r: Router): void => {
    r.get('/admin', async (_req, res) => {
      const stats = await deps.audience.stats();
      const s = stats.subscribers;
      const card = (label: string, n: number, note = '') =>
        `<div class="card"><div class="muted">${e(label)}</div><div class="figure">${n.toLocaleString('en-US')}</div>${note}</div>`;
      const readers = stats.newsletters
        .map(
          (n) =>
            `<tr><td>${e(n.name)} <span class="muted">(${e(n.slug)})</span></td><td class="num">${n.readers.toLocaleString('en-US')}</td></tr>`,
        )
        .join('');
      sendConsolePage(res, deps.siteName, {
        title: 'Dashboard',
        section: 'dashboard',
        body: `<section aria-labelledby="people"><h2 id="people">Subscribers</h2>
<div class="cards">
${card('Active', s.active)}${card('Pending', s.pending)}${card('Unsubscribed', s.unsubscribed)}${card('Bounced', s.bounced)}
${card('Suppressed addresses', stats.suppressed)}
</div></section>
<section aria-labelledby="by-newsletter"><h2 id="by-newsletter">Readers by newsletter</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">Newsletter</th><th scope="col" class="num">Readers</th></tr></thead>
<tbody>${readers}</tbody></table></div></section>`,
      });
    });
  };
}
