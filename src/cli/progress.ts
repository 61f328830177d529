import type { CampaignReport } from '../domain/campaigns';
import { formatBytes, formatCount, formatDuration, formatRate, truncate } from './format';

/** What a live status line writes to: stderr in the CLI, anything with `write` in tests. */
export interface StatusStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

/** Options of `LiveLine`. */
export interface LiveLineOptions {
  /** Redraw in place. Default: whether the stream is a terminal. */
  tty?: boolean;
  /** Without a terminal, least time between two printed lines, in ms. Default 5000. */
  intervalMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

/**
 * One status line that changes over time. On a terminal it is redrawn in place (carriage return, clear line), cut
 * to the terminal's width so it never wraps; elsewhere (a pipe, a CI log) each update that comes at least
 * `intervalMs` after the last printed one becomes a line of its own, so logs get a steady trickle, not a flood.
 */
export class LiveLine {
  readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private shown = '';
  private lastPrinted = -Infinity;
  private lastText: string | undefined;
  private pending: string | undefined;

  constructor(
    private readonly stream: StatusStream,
    opts: LiveLineOptions = {},
  ) {
    this.tty = opts.tty ?? Boolean(stream.isTTY);
    this.intervalMs = opts.intervalMs ?? 5000;
    this.now = opts.now ?? Date.now;
  }

  /** Shows `text` as the current status; `force` prints it even inside the interval (a change worth a line). */
  update(text: string, force = false): void {
    if (this.tty) {
      const line = truncate(text, Math.max(10, (this.stream.columns ?? 80) - 1));
      if (line === this.shown) return;
      this.stream.write(`\r\x1b[2K${line}`);
      this.shown = line;
      return;
    }
    const t = this.now();
    if (!force && t - this.lastPrinted < this.intervalMs) {
      this.pending = text;
      return;
    }
    this.stream.write(`${text}\n`);
    this.lastPrinted = t;
    this.lastText = text;
    this.pending = undefined;
  }

  /** A message of its own line (a warning) printed above the status line, which is then drawn again. */
  note(text: string): void {
    if (this.tty && this.shown) {
      this.stream.write(`\r\x1b[2K${text}\n${this.shown}`);
      return;
    }
    this.stream.write(`${text}\n`);
  }

  /** Leaves the last status on screen (or prints the one held back) and moves to a fresh line. */
  done(): void {
    if (this.tty) {
      if (this.shown) this.stream.write('\n');
      this.shown = '';
      return;
    }
    if (this.pending !== undefined && this.pending !== this.lastText) this.stream.write(`${this.pending}\n`);
    this.pending = undefined;
  }

  /** Removes the status line (terminal only), for output that replaces it. */
  clear(): void {
    if (this.tty && this.shown) this.stream.write('\r\x1b[2K');
    this.shown = '';
    this.pending = undefined;
  }
}

/** A `width`-cell bar filled to `fraction` (clamped to 0..1); block characters on a terminal, ASCII elsewhere. */
export function bar(fraction: number, width: number, unicode = true): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(f * width);
  const [on, off] = unicode ? ['█', '░'] : ['#', '.'];
  return `[${on.repeat(filled)}${off.repeat(width - filled)}]`;
}

/** Percent with no decimals, never 100 % before the end: "99%" until `done === total`. */
export function percent(done: number, total: number): string {
  if (total <= 0) return '0%';
  const p = Math.floor((done / total) * 100);
  return `${done < total ? Math.min(p, 99) : Math.min(p, 100)}%`;
}

/**
 * Throughput over a sliding window of samples of a cumulative count: recent speed, so a pause or a slow start
 * does not drag the ETA for the whole run.
 */
export class RateMeter {
  private samples: { t: number; count: number }[] = [];

  /** `windowMs`: how far back the rate looks. Default 10 s. */
  constructor(private readonly windowMs = 10_000) {}

  add(t: number, count: number): void {
    this.samples.push({ t, count });
    // Keep one sample older than the window so the rate covers the whole window.
    while (this.samples.length > 2 && this.samples[1].t <= t - this.windowMs) this.samples.shift();
  }

  /** Per second over the window; 0 until two samples at least a second apart exist (a first burst is no rate). */
  perSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || last.t - first.t < 1000) return 0;
    return Math.max(0, ((last.count - first.count) * 1000) / (last.t - first.t));
  }
}

/** Recipients a campaign has dealt with, whatever the outcome (a late bounce was counted as sent before). */
export function processedOf(c: Pick<CampaignReport, 'sent' | 'failed' | 'bouncedInSession' | 'skipped'>): number {
  return c.sent + c.failed + c.bouncedInSession + c.skipped;
}

/** Milliseconds left at `perSecond`, or NaN when there is no rate to go by. */
export function etaMs(remaining: number, perSecond: number): number {
  if (remaining <= 0) return 0;
  return perSecond > 0 ? (remaining / perSecond) * 1000 : NaN;
}

/**
 * The live line of a campaign being followed:
 * `[████░░░░] 52% 1,083/2,080 sent · 0 failed · 0 bounced · 0 skipped · 412 msg/s · ETA 3.0s`.
 * `total` is an estimate until the fan-out is done, so the line says "~" before it. The counts are each recipient's
 * outcome in the session, so they add up to the total; late bounces and complaints are in `campaign status`.
 */
export function campaignProgressLine(c: CampaignReport, perSecond: number, opts: { tty: boolean }): string {
  const processed = processedOf(c);
  const total = Math.max(c.total, processed);
  const approx = c.fanoutDone || c.status !== 'sending' ? '' : '~';
  const eta = c.status === 'sending' ? ` · ETA ${formatDuration(etaMs(total - processed, perSecond))}` : '';
  const state = c.status === 'sending' ? '' : ` · ${c.status}`;
  const head = `${bar(total ? processed / total : 0, 24, opts.tty)} ${percent(processed, total).padStart(4)}`;
  const counts =
    `${formatCount(c.sent)}/${approx}${formatCount(total)} sent · ${formatCount(c.failed)} failed · ` +
    `${formatCount(c.bouncedInSession)} bounced · ${formatCount(c.skipped)} skipped`;
  return `${head} ${counts} · ${formatRate(perSecond)} msg/s${eta}${state}`;
}

/** The live line of an import: bytes read of the file's size (when known), lines per second, counts so far. */
export function importProgressLine(
  p: { bytes: number; size?: number; lines: number; elapsedMs: number; linesPerSecond: number; imported?: number },
  opts: { tty: boolean },
): string {
  const head = p.size
    ? `${bar(p.bytes / p.size, 24, opts.tty)} ${percent(p.bytes, p.size).padStart(4)} ` +
      `${formatBytes(p.bytes)}/${formatBytes(p.size)}`
    : `${formatBytes(p.bytes)} read`;
  const imported = p.imported !== undefined ? ` · ${formatCount(p.imported)} imported` : '';
  const rows = `${formatCount(p.lines)} rows · ${formatRate(p.linesPerSecond)} rows/s`;
  return `${head} · ${rows}${imported} · ${formatDuration(p.elapsedMs)}`;
}

/**
 * The live line of an export: `[████░░░░] 52% 1,083/2,080 people · 9,120 people/s · 1.2s`. The total is the count
 * when the export began, so people who sign up meanwhile can take it past 100 % of the bar's estimate: the bar stops
 * at full and the count goes on.
 */
export function exportProgressLine(
  p: { done: number; total: number; elapsedMs: number; perSecond: number },
  opts: { tty: boolean },
): string {
  const total = Math.max(p.total, p.done);
  const head = `${bar(total ? p.done / total : 1, 24, opts.tty)} ${percent(p.done, total).padStart(4)}`;
  return (
    `${head} ${formatCount(p.done)}/${formatCount(total)} people · ${formatRate(p.perSecond)} people/s · ` +
    formatDuration(p.elapsedMs)
  );
}
