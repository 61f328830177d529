import { setTimeout as sleep } from 'node:timers/promises';
import type { Container } from '../../container';
import type { CampaignReport } from '../../domain/campaigns';
import type { Ctx } from '../command-spec';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { formatCount, formatDuration, formatRate } from '../format';
import { err, out } from '../output';
import { campaignProgressLine, LiveLine, processedOf, RateMeter } from '../progress';
import { PROG } from '../program';

const NO_WORKER =
  'warning: no worker is running, so nothing will be sent until `npm run worker` or `npm start` ' +
  'runs against the same Redis and REDIS_PREFIX.';

/** True when some worker takes delivery jobs; undefined when Redis will not tell (CLIENT LIST not allowed). */
async function workersRunning(container: Container): Promise<boolean | undefined> {
  try {
    return (await container.campaignQueues.deliveryWorkers()) > 0;
  } catch (e) {
    container.log.debug({ event: 'cli.workers_unknown', err: (e as Error).message }, 'cannot list workers');
    return undefined;
  }
}

export async function warnIfNoWorker(container: Container): Promise<void> {
  if ((await workersRunning(container)) === false) err(NO_WORKER);
}

/**
 * Polls the campaign and redraws its progress line until it leaves `sending`. Ends with the final counts on stdout
 * and an exit code scripts can act on: sent 0, failed or cancelled 1, paused 3 (with the reason).
 */
export async function follow({ container, signal }: Ctx, id: number, opts: { json: boolean }): Promise<number> {
  let c = await container.campaigns.get(id);
  if (c.status === 'draft')
    throw new CliError(
      `campaign ${id} is a draft, so there is nothing to follow yet: start it with campaign send ${id} --follow`,
    );
  const live = new LiveLine(process.stderr, { intervalMs: 5000 });
  const meter = new RateMeter(10_000);
  const pollMs = live.tty ? 500 : 1000;
  let lastWorkerCheck = Date.now();
  let warnedNoWorker = false;
  while (c.status === 'sending') {
    meter.add(Date.now(), processedOf(c));
    live.update(campaignProgressLine(c, meter.perSecond(), { tty: live.tty }));
    if (Date.now() - lastWorkerCheck > 10_000) {
      lastWorkerCheck = Date.now();
      const running = await workersRunning(container);
      if (running === false && !warnedNoWorker) live.note(NO_WORKER);
      warnedNoWorker = running === false;
    }
    try {
      await sleep(pollMs, undefined, { signal });
    } catch {
      live.done();
      err(
        `stopped following; campaign ${id} is still ${c.status}. ` +
          `Follow it again with: ${PROG} campaign status ${id} --follow`,
      );
      return EXIT.interrupted;
    }
    c = await container.campaigns.get(id);
  }
  live.update(campaignProgressLine(c, meter.perSecond(), { tty: live.tty }), true);
  live.done();

  // As `campaign status --json` prints it, which is what GET /api/admin/campaigns/:id answers.
  out(opts.json ? JSON.stringify(await container.campaigns.overview(id), null, 2) : finalLine(c));
  if (c.status === 'sent') return EXIT.ok;
  if (c.status === 'paused') {
    err(`campaign ${id} paused: ${c.reason || 'no reason recorded'}`);
    err(`resume it with: ${PROG} campaign resume ${id}   (then follow it with: campaign status ${id} --follow)`);
    return EXIT.paused;
  }
  err(`campaign ${id} ${c.status}${c.reason ? `: ${c.reason}` : ''}`);
  return EXIT.failed;
}

function finalLine(c: CampaignReport): string {
  const took = c.startedAt && c.finishedAt ? Date.parse(c.finishedAt) - Date.parse(c.startedAt) : NaN;
  const speed =
    Number.isFinite(took) && took > 0
      ? ` in ${formatDuration(took)} (${formatRate((processedOf(c) * 1000) / took)} msg/s)`
      : '';
  // Each recipient once, so the counts add up to the total; what came back later follows them.
  const counts =
    `${formatCount(c.sent)} sent, ${formatCount(c.failed)} failed, ` +
    `${formatCount(c.bouncedInSession)} bounced, ${formatCount(c.skipped)} skipped`;
  const late =
    c.lateBounces || c.complained
      ? `; reported later: ${formatCount(c.lateBounces)} bounced, ${formatCount(c.complained)} complained`
      : '';
  return `campaign ${c.id} ${c.status}: ${counts} of ${formatCount(c.total)}${speed}${late}`;
}
