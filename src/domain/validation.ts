import { z } from 'zod';
import { ValidationError, type ErrorCode } from './errors';

/**
 * Characters that end or fold a line somewhere: C0 and C1 controls (CR, LF, NUL among them) and the Unicode line and
 * paragraph separators. None may appear in a value that can reach a mail header (subject, author, From name), a URL
 * or a one-line label.
 */
export const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * A UTF-16 surrogate with no partner: JSON allows "\ud800", but such a string has no UTF-8 form, so Redis would
 * store U+FFFD (or bytes no reader decodes) instead of what was sent.
 */
export const LONE_SURROGATE = /\p{Cs}/u;

/** Zod's error option that tells a missing value ("is required") from one of the wrong type ("must be ..."). */
export const required = (what: string) => ({
  error: (iss: { input: unknown }) =>
    iss.input === undefined || iss.input === null ? 'is required' : `must be ${what}`,
});

/** One line of text: no line breaks or control characters, trimmed, bounded. */
export const oneLine = (max: number) =>
  z
    .string(required('a string'))
    .refine((v) => !LINE_BREAKING.test(v), 'must not contain line breaks or control characters')
    .refine((v) => !LONE_SURROGATE.test(v), 'is not valid Unicode (a lone surrogate)')
    .transform((v) => v.trim())
    .pipe(z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`));

/** Options of `parseFields`. */
export interface ParseFieldsOptions {
  /** The field an issue about the whole input is filed under. Default `body`. */
  whole?: string;
  /** With it, each unknown key is its own issue, filed under that key, with this message. */
  unknownKey?: string;
}

/**
 * The input as the schema reads it, or a ValidationError with `code` whose message names the first bad field
 * (dotted, e.g. `schedule.timezone`); every issue is in `details.issues` as `{field, message}`.
 */
export function parseFields<T extends z.ZodTypeAny>(
  schema: T,
  input: unknown,
  code: ErrorCode,
  opts: ParseFieldsOptions = {},
): z.output<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const whole = opts.whole ?? 'body';
  const issues = r.error.issues.flatMap((i) =>
    opts.unknownKey && i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: [...i.path, k].join('.'), message: opts.unknownKey! }))
      : [{ field: i.path.join('.') || whole, message: i.message }],
  );
  throw new ValidationError(code, `${issues[0].field} ${issues[0].message}`, { issues });
}

/**
 * A record id as a path or query gives it (or a number): decimal digits only, no sign, no leading zero, a safe integer; undefined
 * otherwise. Number() alone would also read "0x1", "1e0", "0b1" and " 1" as 1, so one object would answer to many
 * names, and the audit log would record whichever name was used.
 */
export function recordId(raw: unknown): number | undefined {
  // Callers inside the service pass the number itself.
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw > 0 ? raw : undefined;
  if (typeof raw !== 'string' || !/^[1-9]\d{0,15}$/.test(raw)) return undefined;
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : undefined;
}

/**
 * Whether the date at the start of an ISO 8601 string (YYYY-MM-DD…) is a day of the calendar. Date.parse does not
 * say: it reads 2026-02-30 as 2 March and 2026-04-31 as 1 May, so a date that is not a date would pass as another.
 */
export function isCalendarDate(iso: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const last = new Date(Date.UTC(2000, month, 0));
  last.setUTCFullYear(year, month, 0);
  return month >= 1 && month <= 12 && day >= 1 && day <= last.getUTCDate();
}
