import { CronExpressionParser } from 'cron-parser';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import { NEWSLETTER_SLUG, type Newsletter } from './newsletter';
import type { Clock } from './ports/clock';
import type { NewsletterListener } from './ports/newsletter-listener';
import type { NewsletterRepository } from './ports/newsletter-repository';
import { oneLine, parseFields, required } from './validation';

export interface NewslettersDeps {
  newsletters: NewsletterRepository;
  clock: Clock;
  log: Logger;
  /** The newsletter everyone is in until they choose (DEFAULT_NEWSLETTER), and campaigns naming none go to. */
  defaultSlug: string;
  /** Name the default newsletter gets when it is first created (the site's name); operators may rename it. */
  defaultName: string;
  /** Told after each create and update (the schedules plan the next slot). Default: nobody. */
  listener?: NewsletterListener;
}

export const NEWSLETTER_LIMITS = {
  name: 100,
  description: 1000,
  fromName: 100,
  category: 100,
  categories: 50,
  /** The shortest gap a schedule may leave between two sends: a digest more often than this is a mistake. */
  minScheduleGapMs: 5 * 60_000,
  /** Fire times checked for that gap (see `scheduleProblem`). */
  fireTimesChecked: 60,
  minArticles: 100,
  alertsPerDay: 1000,
} as const;

const wholeNumber = (min: number, max: number) =>
  z
    .number(required('a number'))
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const slug = z
  .string(required('a string'))
  .regex(NEWSLETTER_SLUG, 'must be 1-40 lowercase letters, digits or hyphens, e.g. "morning-briefing"');

/** The zone's canonical name (`europe/london` → `Europe/London`), or undefined when Intl does not know it. */
function canonicalTimeZone(zone: string): string | undefined {
  // Offsets like "+01:00" are not zones: they would keep 07:00 at 07:00 UTC+1 through summer time.
  if (!/^[A-Za-z]/.test(zone)) return undefined;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

const schedule = z.strictObject(
  {
    cron: oneLine(200),
    timezone: z.string(required('a string')).transform((v, ctx) => {
      const zone = canonicalTimeZone(v.trim());
      if (zone) return zone;
      ctx.addIssue({ code: 'custom', message: 'must be an IANA time zone, e.g. "Europe/London"' });
      return z.NEVER;
    }),
    minArticles: wholeNumber(1, NEWSLETTER_LIMITS.minArticles).default(1),
  },
  { error: 'must be an object {cron, timezone, minArticles}' },
);

const categories = z
  .array(oneLine(NEWSLETTER_LIMITS.category), { error: 'must be an array of strings' })
  .max(NEWSLETTER_LIMITS.categories, `must have at most ${NEWSLETTER_LIMITS.categories} entries`)
  // Matching ignores case, so "Politics" and "politics" are one category; the first spelling is kept.
  .transform((list) => list.filter((c, i) => list.findIndex((d) => d.toLowerCase() === c.toLowerCase()) === i));

/** Every field a newsletter has besides its times, as the API takes it; the rules between fields come after. */
const fields = z.strictObject(
  {
    slug,
    name: oneLine(NEWSLETTER_LIMITS.name),
    description: z
      .string(required('a string'))
      .max(NEWSLETTER_LIMITS.description, `must be at most ${NEWSLETTER_LIMITS.description} characters`)
      .transform((v) => v.trim())
      .default(''),
    fromName: oneLine(NEWSLETTER_LIMITS.fromName).optional(),
    public: z.boolean(required('true or false')).default(true),
    categories: categories.default([]),
    mode: z.enum(['digest', 'alerts'], { error: 'must be "digest" or "alerts"' }).default('digest'),
    schedule: schedule.optional(),
    alertsPerDay: wholeNumber(1, NEWSLETTER_LIMITS.alertsPerDay).optional(),
  },
  { error: 'must be a JSON object' },
);

/** `fields` with the rules that span fields, and a schedule that fires too often refused. */
const newsletterSchema = fields.superRefine((n, ctx) => {
  if (n.schedule && n.mode !== 'digest')
    ctx.addIssue({ code: 'custom', path: ['schedule'], message: 'is only for mode "digest"' });
  if (n.alertsPerDay !== undefined && n.mode !== 'alerts')
    ctx.addIssue({ code: 'custom', path: ['alertsPerDay'], message: 'is only for mode "alerts"' });
  if (n.schedule) {
    const problem = scheduleProblem(n.schedule.cron, n.schedule.timezone);
    if (problem) ctx.addIssue({ code: 'custom', path: ['schedule', 'cron'], message: problem });
  }
});

type NewsletterFields = z.output<typeof fields>;

/**
 * Why a cron expression cannot be a schedule, or undefined when it can: it must parse, and no two of its next
 * fire times (in its zone, so a daylight-saving change counts) may be closer than five minutes. Sixty fire times
 * are enough: a cron's pattern repeats every hour, day or year, and the closest pair of any pattern shows within
 * its first few repetitions.
 */
export function scheduleProblem(cron: string, timezone: string, from = new Date()): string | undefined {
  let times: number[];
  try {
    const it = CronExpressionParser.parse(cron, { tz: timezone, currentDate: from });
    times = [];
    for (let i = 0; i < NEWSLETTER_LIMITS.fireTimesChecked && it.hasNext(); i++) times.push(it.next().getTime());
  } catch (e) {
    return `is not a cron expression this service reads (${(e as Error).message}); e.g. "0 7 * * *" is 07:00 daily`;
  }
  if (!times.length) return 'never fires';
  for (let i = 1; i < times.length; i++)
    if (times[i] - times[i - 1] < NEWSLETTER_LIMITS.minScheduleGapMs) return 'fires more often than every 5 minutes';
  return undefined;
}

/**
 * The newsletters readers choose from and campaigns belong to. Every write validates the newsletter whole (the
 * rules span fields: a schedule only for digests), so a refused request writes nothing.
 */
export class Newsletters {
  constructor(private readonly deps: NewslettersDeps) {}

  get defaultSlug(): string {
    return this.deps.defaultSlug;
  }

  async create(input: unknown): Promise<Newsletter> {
    const valid = parseNewsletter(input);
    const now = this.deps.clock.now().toISOString();
    const newsletter = withTimes(valid, now, now);
    if (!(await this.deps.newsletters.create(newsletter)))
      throw new ConflictError('newsletter_exists', `slug "${valid.slug}" is taken by another newsletter`, {
        issues: [{ field: 'slug', message: 'is taken' }],
      });
    this.deps.log.info({ event: 'newsletter.created', newsletter: newsletter.slug }, 'newsletter created');
    await this.deps.listener?.saved(newsletter);
    return newsletter;
  }

  list(): Promise<Newsletter[]> {
    return this.deps.newsletters.list();
  }

  /**
   * The newsletters a visitor may choose (the signup page's and the preference page's choices): the default one
   * first, since it is what a signup naming none gets, then the others by slug.
   */
  async listPublic(): Promise<Newsletter[]> {
    const all = (await this.list()).filter(isPublic);
    return [...all.filter((n) => n.slug === this.defaultSlug), ...all.filter((n) => n.slug !== this.defaultSlug)];
  }

  async get(rawSlug: unknown): Promise<Newsletter> {
    const found =
      typeof rawSlug === 'string' && NEWSLETTER_SLUG.test(rawSlug) && (await this.deps.newsletters.get(rawSlug));
    if (!found) throw new NotFoundError('No newsletter with this slug');
    return found;
  }

  /**
   * Changes the fields the body names; `null` removes an optional one (fromName, schedule, alertsPerDay). The
   * result is checked as a whole, so switching a digest with a schedule to alerts needs `"schedule": null` too.
   */
  async update(rawSlug: unknown, input: unknown): Promise<Newsletter> {
    const current = await this.get(rawSlug);
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw new ValidationError('invalid_newsletter', 'body must be a JSON object');
    const changes = input as Record<string, unknown>;
    if ('slug' in changes && changes.slug !== current.slug)
      throw new ValidationError('invalid_newsletter', 'slug cannot change', {
        issues: [{ field: 'slug', message: 'cannot change' }],
      });
    const { createdAt, updatedAt: _, ...merged } = current as Newsletter & Record<string, unknown>;
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    const valid = parseNewsletter(merged);
    const newsletter = withTimes(valid, createdAt, this.deps.clock.now().toISOString());
    // A newsletter is never deleted, so one found above is still there unless the store lost it.
    if (!(await this.deps.newsletters.update(newsletter))) throw new NotFoundError('No newsletter with this slug');
    this.deps.log.info(
      { event: 'newsletter.updated', newsletter: newsletter.slug, fields: Object.keys(changes) },
      'newsletter updated',
    );
    await this.deps.listener?.saved(newsletter);
    return newsletter;
  }

  /** The slug of a newsletter that exists: the default one when `slug` is absent; else 422 unknown_newsletter. */
  async resolve(slug: unknown): Promise<string> {
    if (slug === undefined || slug === null) return this.deps.defaultSlug;
    if (typeof slug === 'string' && NEWSLETTER_SLUG.test(slug) && (await this.deps.newsletters.get(slug))) return slug;
    throw new ValidationError('unknown_newsletter', `newsletter ${JSON.stringify(slug)} does not exist`, {
      issues: [{ field: 'newsletter', message: 'is not a known newsletter slug' }],
    });
  }

  /**
   * The newsletters a signup chooses, from untrusted input: absent means the default one; a slug or a list of them
   * (a form's checkboxes, or a hidden field naming one) each must exist (422 unknown_newsletter naming it). Empty
   * strings are dropped, so a form can always send an empty `newsletters` to say "the reader saw the choice": a
   * choice with nothing ticked is refused with no_newsletter_chosen rather than read as "the default".
   */
  async resolveChoice(input: unknown): Promise<string[]> {
    if (input === undefined || input === null) return [this.deps.defaultSlug];
    const given = Array.isArray(input) ? input : [input];
    if (given.length > MAX_CHOSEN)
      throw new ValidationError('invalid_request', `newsletters: at most ${MAX_CHOSEN} may be chosen`, {
        issues: [{ field: 'newsletters', message: `lists more than ${MAX_CHOSEN}` }],
      });
    const slugs = [...new Set(given.filter((s) => s !== ''))];
    if (!slugs.length)
      throw new ValidationError('no_newsletter_chosen', 'Please choose at least one newsletter.', {
        issues: [{ field: 'newsletters', message: 'names no newsletter' }],
      });
    // Only public newsletters may be chosen here, and a private one is refused exactly like an unknown one, so the
    // answer does not tell a visitor which private newsletters exist.
    const known = new Set((await this.listPublic()).map((n) => n.slug));
    for (const slug of slugs)
      if (typeof slug !== 'string' || !known.has(slug))
        throw new ValidationError('unknown_newsletter', `newsletter ${JSON.stringify(slug)} does not exist`, {
          issues: [{ field: 'newsletters', message: `${JSON.stringify(slug)} is not a known newsletter slug` }],
        });
    return slugs as string[];
  }

  /**
   * Creates the default newsletter unless it exists. Runs at every start, in every process: the store's unique
   * create makes the concurrent and the repeated calls harmless, and an operator's changes to it are kept.
   */
  async ensureDefault(): Promise<Newsletter> {
    const { defaultSlug, defaultName } = this.deps;
    const now = this.deps.clock.now().toISOString();
    const newsletter = withTimes(
      {
        slug: defaultSlug,
        name: defaultName.slice(0, NEWSLETTER_LIMITS.name),
        description: '',
        public: true,
        categories: [],
        mode: 'digest',
      },
      now,
      now,
    );
    if (await this.deps.newsletters.create(newsletter)) {
      this.deps.log.info(
        { event: 'newsletter.default_created', newsletter: defaultSlug },
        'default newsletter created',
      );
      return newsletter;
    }
    return this.get(defaultSlug);
  }
}

/** Whether visitors may choose it; a newsletter stored before the `public` field existed is public. */
export function isPublic(n: Pick<Newsletter, 'public'>): boolean {
  return n.public !== false;
}

/** Most newsletters one signup may name: more than a site runs is not a choice but junk. */
const MAX_CHOSEN = 50;

function withTimes(n: NewsletterFields, createdAt: string, updatedAt: string): Newsletter {
  const out: Newsletter = {
    slug: n.slug,
    name: n.name,
    description: n.description,
    public: n.public,
    categories: n.categories,
    mode: n.mode,
    createdAt,
    updatedAt,
  };
  if (n.fromName !== undefined) out.fromName = n.fromName;
  if (n.schedule) out.schedule = n.schedule;
  if (n.alertsPerDay !== undefined) out.alertsPerDay = n.alertsPerDay;
  return out;
}

/** Parses or throws invalid_newsletter naming the first bad field; an unknown key is named as such. */
function parseNewsletter(input: unknown): z.output<typeof newsletterSchema> {
  return parseFields(newsletterSchema, input, 'invalid_newsletter', { unknownKey: 'is not a newsletter field' });
}
