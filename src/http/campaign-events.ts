import { Router, type Request } from 'express';
import type { CampaignReport, Campaigns } from '../domain/campaigns';
import { ValidationError } from '../domain/errors';
import { recordId } from '../domain/validation';
import type { SendTimeline } from '../domain/ports/activity';

/** Options of `campaignEventRoutes`. */
export interface CampaignEventOptions {
  /** How often the stream reads the campaign. Default 500 ms. */
  intervalMs?: number;
  /** A comment line this often keeps proxies from closing a quiet stream. Default 15 000 ms. */
  keepAliveMs?: number;
  /** Default Date.now. */
  now?: () => number;
}

/** What the campaign view's progress bar and chart show; sent as one `progress` event each time it changes. */
export interface CampaignProgress {
  id: number;
  status: CampaignReport['status'];
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  bounced: number;
  complained: number;
  /** Recipients with an outcome (sent, failed, skipped or refused). */
  done: number;
  /** Messages per second over the last seconds the stream watched (since the start before that); null when idle. */
  ratePerSecond: number | null;
  /** At that rate; null when it cannot be told. */
  secondsLeft: number | null;
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  perMinute: { minute: string; count: number }[];
}

const FINISHED = new Set(['sent', 'failed', 'cancelled']);
/** Rate window: long enough to smooth batch bursts, short enough to show a pause within seconds. */
const WINDOW_MS = 10_000;

/**
 * GET /api/admin/campaigns/:id/events: server-sent events of a campaign's progress, behind the admin guard like every
 * admin route (a viewer may watch). One read of the campaign every interval per open stream (a GET of one hash);
 * the per-minute chart is read only when the counts moved. Ends after the event that shows the campaign finished.
 */
export function campaignEventRoutes(
  deps: { campaigns: Pick<Campaigns, 'get'>; timeline: SendTimeline },
  opts: CampaignEventOptions = {},
): Router {
  const intervalMs = opts.intervalMs ?? 500;
  const keepAliveMs = opts.keepAliveMs ?? 15_000;
  const now = opts.now ?? Date.now;
  const r = Router();

  r.get('/campaigns/:id/events', async (req: Request, res) => {
    const id = recordId(req.params.id);
    if (id === undefined) throw new ValidationError('invalid_request', 'campaign id must be a positive integer');
    // A missing campaign fails here, as a JSON 404, before the stream starts.
    let campaign = await deps.campaigns.get(id);

    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store, no-transform');
    res.setHeader('Connection', 'keep-alive');
    // nginx buffers proxied responses unless told not to; a buffered stream is a progress bar that jumps at the end.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    // The browser's EventSource reconnects after this long if the stream drops while the campaign still runs.
    res.write('retry: 2000\n\n');

    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let lastSent = '';
    let lastCounts = '';
    let perMinute: CampaignProgress['perMinute'] = [];
    const samples: { t: number; done: number }[] = [];
    let lastWrite = now();
    const stop = () => {
      closed = true;
      clearTimeout(timer);
    };
    req.on('close', stop);

    const tick = async () => {
      if (closed) return;
      try {
        if (lastSent) campaign = await deps.campaigns.get(id);
        const done = campaign.sent + campaign.failed + campaign.skipped + campaign.bouncedInSession;
        const counts = `${campaign.status}/${done}/${campaign.total}`;
        if (counts !== lastCounts) {
          perMinute = await deps.timeline.perMinute(id);
          lastCounts = counts;
        }
        const t = now();
        samples.push({ t, done });
        while (samples.length > 2 && t - samples[0].t > WINDOW_MS) samples.shift();
        const progress = progressOf(campaign, done, perMinute, samples, t);
        const body = JSON.stringify(progress);
        if (body !== lastSent) {
          res.write(`event: progress\ndata: ${body}\n\n`);
          lastSent = body;
          lastWrite = t;
        } else if (t - lastWrite >= keepAliveMs) {
          res.write(': keep-alive\n\n');
          lastWrite = t;
        }
        if (FINISHED.has(campaign.status)) {
          res.write('event: end\ndata: {}\n\n');
          stop();
          res.end();
          return;
        }
      } catch (err) {
        // The campaign was deleted, or Redis is away: say so and end; the page shows the last state it had.
        res.write(`event: failure\ndata: ${JSON.stringify({ message: (err as Error).message })}\n\n`);
        stop();
        res.end();
        return;
      }
      if (!closed) timer = setTimeout(() => void tick(), intervalMs);
    };
    await tick();
  });
  return r;
}

function progressOf(
  c: CampaignReport,
  done: number,
  perMinute: CampaignProgress['perMinute'],
  samples: { t: number; done: number }[],
  t: number,
): CampaignProgress {
  let rate: number | null = null;
  if (c.status === 'sending') {
    const first = samples[0];
    const span = (t - first.t) / 1000;
    if (span >= 2) rate = (done - first.done) / span;
    else if (c.startedAt) {
      const since = (t - Date.parse(c.startedAt)) / 1000;
      rate = since > 0 ? done / since : null;
    }
    if (rate !== null) rate = Math.round(rate * 10) / 10;
  }
  const left = Math.max(c.total - done, 0);
  return {
    id: c.id,
    status: c.status,
    total: c.total,
    sent: c.sent,
    failed: c.failed,
    skipped: c.skipped,
    bounced: c.bounced,
    complained: c.complained,
    done,
    ratePerSecond: rate,
    secondsLeft: rate && rate > 0 ? Math.ceil(left / rate) : c.status === 'sending' && left === 0 ? 0 : null,
    reason: c.reason ?? null,
    startedAt: c.startedAt ?? null,
    finishedAt: c.finishedAt ?? null,
    perMinute,
  };
}
