/**
 * Plain-text rendering for the operator CLI: numbers, sizes, durations, dates, aligned tables and key/value
 * blocks. Pure functions of their input, so what the CLI prints does not depend on where it runs except through
 * the `maxWidth` a caller passes.
 */

const grouping = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return grouping.format(n);
}

/** A rate for humans: one decimal below 10, whole numbers above. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0';
  return perSecond < 10 ? perSecond.toFixed(1) : formatCount(Math.round(perSecond));
}

/** 1536 → "1.5 KB"; units of 1024, one decimal from KB up. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/**
 * A duration at the precision a person needs: "850ms", "4.2s", "3m 05s", "2h 07m", "3d 4h". Negative or
 * non-finite input (an unknown ETA) gives "?".
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const total = Math.round(s);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(sec).padStart(2, '0')}s`;
}

/** An ISO timestamp as "2026-11-27 12:00:05Z" (UTC, seconds); "-" when absent or unreadable. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** Shortens to `max` characters with an ellipsis; never returns more than `max`. */
export function truncate(s: string, max: number): string {
  if (max <= 0) return '';
  if (s.length <= max) return s;
  return max === 1 ? '…' : `${s.slice(0, max - 1)}…`;
}

/** Line breaks and control characters shown as spaces: a stored value must not break a table's layout. */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}

export interface TableColumn<T> {
  header: string;
  value: (row: T) => string | number;
  /** Right-aligned (numbers). Default false. */
  right?: boolean;
  /** The column that gives up width when the table is wider than `maxWidth`. Default: the last column. */
  flex?: boolean;
}

export interface TableOptions {
  /** Widest a line may be (a terminal's columns); no limit when absent. */
  maxWidth?: number;
  /** Text in place of the table when there are no rows. Default "(none)". */
  empty?: string;
}

/** Columns aligned with two spaces between them, a header row first; the flex column is truncated to fit. */
export function table<T>(rows: readonly T[], columns: readonly TableColumn<T>[], opts: TableOptions = {}): string {
  if (!rows.length) return opts.empty ?? '(none)';
  const cells = rows.map((r) => columns.map((c) => oneLine(String(c.value(r)))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const gap = 2;
  if (opts.maxWidth) {
    const marked = columns.findIndex((c) => c.flex);
    const flex = marked >= 0 ? marked : columns.length - 1;
    const fixed = widths.reduce((sum, w, i) => (i === flex ? sum : sum + w), 0) + gap * (columns.length - 1);
    // Past a point a column is unreadable; the line then wraps instead.
    widths[flex] = Math.min(widths[flex], Math.max(opts.maxWidth - fixed, 8));
  }
  const line = (values: string[]) =>
    values
      .map((v, i) => {
        const t = truncate(v, widths[i]);
        if (i === values.length - 1 && !columns[i].right) return t;
        return columns[i].right ? t.padStart(widths[i]) : t.padEnd(widths[i]);
      })
      .join(' '.repeat(gap));
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** "key  value" lines with the keys padded to one width; entries with an undefined value are left out. */
export function keyValues(entries: readonly [string, string | number | undefined][]): string {
  const shown = entries.filter((e): e is [string, string | number] => e[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${oneLine(String(v))}`).join('\n');
}

/** Levenshtein distance, for "did you mean" suggestions on mistyped command names. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = prev[j];
      prev[j] = next;
    }
  }
  return prev[b.length];
}

/** The closest of `choices` to a mistyped `word`, if one is close enough to be what was meant. */
export function closest(word: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of choices) {
    const d = c.startsWith(word) || word.startsWith(c) ? 1 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}
