import { join } from 'node:path';
import type { Router } from 'express';
import type { Audience } from '../../domain/audience';
import { campaignReport, type CampaignReport } from '../../domain/campaigns';
import type { Campaign } from '../../domain/campaign';
import type { DailyActivity, FeedPollLog } from '../../domain/ports/activity';
import type { Clock } from '../../domain/ports/clock';
import type { QueueHealth } from '../../domain/ports/job-queues';
import type { Newsletter } from '../../domain/newsletter';
import { escapeHtml as e } from '../../lib/html';
import { addConsoleAsset, sendConsolePage } from './routes';

/** What the dashboard reads; every part is a read the API or a store already offers. */
export interface DashboardDeps {
  audience: Audience;
  daily: DailyActivity;
  /** The newest campaigns first (the repository's list). */
  campaigns: { list(limit?: number): Promise<Campaign[]> };
  newsletters: { list(): Promise<Newsletter[]> };
  /** The next slot of a digest's schedule, if it has one. */
  nextRunAt(newsletter: Newsletter): string | undefined;
  queueHealth(): Promise<QueueHealth[]>;
  feedPolls: FeedPollLog;
  /** The feed the workers poll (FEED_URL), if any. */
  feedUrl?: string;
  clock: Clock;
  siteName: string;
}

/** The chart library, served from node_modules: its ES module build (the page scripts are modules). */
const UPLOT_DIR = join(require.resolve('uplot'), '..');
const CHART_DAYS = 30;
const LAST_CAMPAIGNS = 8;

const n = (x: number) => x.toLocaleString('en-US');
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)} %`);
const when = (iso: string | undefined) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '–');

/** The console's front page: the audience, its last 30 days, the last campaigns, the queues and what comes next. */
export function dashboardSection(deps: DashboardDeps) {
  addConsoleAsset('uplot.esm.js', join(UPLOT_DIR, 'uPlot.esm.js'));
  addConsoleAsset('uplot.min.css', join(UPLOT_DIR, 'uPlot.min.css'));
  addConsoleAsset('charts.js', join(__dirname, 'assets', 'charts.js'));
  addConsoleAsset('dashboard.js', join(__dirname, 'assets', 'dashboard.js'));

  return (r: Router): void => {
    r.get('/admin', async (_req, res) => {
      const now = deps.clock.now();
      const [stats, days, recent, queues, lastPoll, newsletters] = await Promise.all([
        deps.audience.stats(),
        deps.daily.days(now, CHART_DAYS),
        deps.campaigns.list(50),
        deps.queueHealth().catch(() => null),
        deps.feedPolls.last(),
        deps.newsletters.list(),
      ]);
      const s = stats.subscribers;
      const card = (label: string, x: number) =>
        `<div class="card"><div class="muted">${e(label)}</div><div class="figure">${n(x)}</div></div>`;
      const readers = stats.newsletters
        .map(
          (nl) =>
            `<tr><th scope="row">${e(nl.name)} <span class="muted">(${e(nl.slug)})</span></th><td class="num">${n(nl.readers)}</td></tr>`,
        )
        .join('');
      const totals = days.reduce(
        (t, d) => ({
          signups: t.signups + d.signups,
          confirmations: t.confirmations + d.confirmations,
          unsubscribes: t.unsubscribes + d.unsubscribes,
        }),
        { signups: 0, confirmations: 0, unsubscribes: 0 },
      );
      const dayRows = days
        .map(
          (d) =>
            `<tr><th scope="row">${e(d.day)}</th><td class="num">${n(d.signups)}</td><td class="num">${n(d.confirmations)}</td><td class="num">${n(d.unsubscribes)}</td></tr>`,
        )
        .join('');
      const campaigns = recent.slice(0, LAST_CAMPAIGNS).map(campaignReport);
      const campaignRows = campaigns.map(campaignRow).join('');
      const queueRows = queues
        ? queues
            .map(
              (q) =>
                `<tr><th scope="row">${e(q.name)}</th><td class="num">${n(q.waiting)}</td><td class="num">${n(q.active)}</td><td class="num">${n(q.delayed)}</td><td class="num${q.failed ? ' bad' : ''}">${n(q.failed)}</td><td class="num${q.workers ? '' : ' bad'}">${n(q.workers)}</td></tr>`,
            )
            .join('')
        : `<tr><td colspan="6">The queues did not answer.</td></tr>`;
      const next = [
        ...newsletters
          .map((nl) => ({ nl, at: nl.mode === 'digest' ? deps.nextRunAt(nl) : undefined }))
          .filter((x): x is { nl: Newsletter; at: string } => Boolean(x.at))
          .map((x) => ({ at: x.at, what: `Digest of ${e(x.nl.name)}`, link: '' })),
        ...recent
          .filter((c) => c.status === 'draft' && c.scheduledAt)
          .map((c) => ({
            at: c.scheduledAt!,
            what: `Campaign “${e(c.subject)}”`,
            link: `/admin/campaigns/${c.id}`,
          })),
      ].sort((a, b) => a.at.localeCompare(b.at));
      const nextRows = next.length
        ? next
            .map(
              (x) =>
                `<li><time datetime="${e(x.at)}">${e(when(x.at))}</time>: ${x.link ? `<a href="${e(x.link)}">${x.what}</a>` : x.what}</li>`,
            )
            .join('')
        : '<li>Nothing scheduled.</li>';
      const feed = lastPoll
        ? `<p>Last poll <time datetime="${e(lastPoll.at)}">${e(when(lastPoll.at))}</time> of <code>${e(lastPoll.url)}</code>: ${
            lastPoll.ok
              ? lastPoll.notModified
                ? 'unchanged since the poll before (HTTP 304).'
                : `${n(lastPoll.added)} new, ${n(lastPoll.seen)} known, ${n(lastPoll.invalid)} refused.`
              : `<strong class="bad">failed</strong>: ${e(lastPoll.error ?? '')}`
          }</p>`
        : `<p>${deps.feedUrl ? `No poll of <code>${e(deps.feedUrl)}</code> yet.` : 'No feed is configured (FEED_URL).'}</p>`;

      sendConsolePage(res, deps.siteName, {
        title: 'Dashboard',
        section: 'dashboard',
        scripts: ['dashboard.js'],
        styles: ['uplot.min.css'],
        body: `<section aria-labelledby="people"><h2 id="people">Subscribers</h2>
<div class="cards">
${card('Active', s.active)}${card('Pending', s.pending)}${card('Unsubscribed', s.unsubscribed)}${card('Bounced', s.bounced)}
${card('Suppressed addresses', stats.suppressed)}
</div>
<h3 id="by-newsletter">Readers by newsletter</h3>
<div class="table-wrap"><table aria-labelledby="by-newsletter"><thead><tr><th scope="col">Newsletter</th><th scope="col" class="num">Readers</th></tr></thead>
<tbody>${readers}</tbody></table></div></section>
<section aria-labelledby="activity"><h2 id="activity">Last ${CHART_DAYS} days</h2>
<p>${n(totals.signups)} signups, ${n(totals.confirmations)} confirmations, ${n(totals.unsubscribes)} unsubscribes.</p>
<figure class="chart-box">
<div id="activity-chart" class="chart" role="img" aria-label="Signups, confirmations and unsubscribes per day over the last ${CHART_DAYS} days" data-days="${e(JSON.stringify(days))}"></div>
<figcaption><details><summary>The numbers by day</summary>
<div class="table-wrap"><table><thead><tr><th scope="col">Day (UTC)</th><th scope="col" class="num">Signups</th><th scope="col" class="num">Confirmations</th><th scope="col" class="num">Unsubscribes</th></tr></thead>
<tbody>${dayRows}</tbody></table></div></details></figcaption>
</figure></section>
<section aria-labelledby="last-campaigns"><h2 id="last-campaigns">Last campaigns</h2>
${
  campaigns.length
    ? `<div class="table-wrap"><table><thead><tr><th scope="col">Campaign</th><th scope="col">Status</th><th scope="col" class="num">Delivered</th><th scope="col" class="num">Bounce rate</th><th scope="col" class="num">Complaint rate</th></tr></thead>
<tbody>${campaignRows}</tbody></table></div><p><a href="/admin/campaigns">All campaigns</a></p>`
    : '<p>No campaigns yet.</p>'
}</section>
<section aria-labelledby="queues"><h2 id="queues">Queues</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">Queue</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">Active</th><th scope="col" class="num">Delayed</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Workers</th></tr></thead>
<tbody>${queueRows}</tbody></table></div></section>
<section aria-labelledby="feed"><h2 id="feed">Feed</h2>${feed}</section>
<section aria-labelledby="next"><h2 id="next">Next scheduled sends</h2><ul class="plain">${nextRows}</ul></section>`,
      });
    });
  };
}

function campaignRow(c: CampaignReport): string {
  return `<tr><th scope="row"><a href="/admin/campaigns/${c.id}">#${c.id} ${e(c.subject)}</a></th><td><span class="badge ${e(c.status)}">${e(c.status)}</span></td><td class="num">${n(c.delivered)}</td><td class="num">${pct(c.bounceRate)}</td><td class="num">${pct(c.complaintRate)}</td></tr>`;
}
