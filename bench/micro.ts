import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Article } from '../src/domain/article';
import type { CampaignContent } from '../src/domain/campaign';
import { escapeHtml } from '../src/lib/html';
import type { RecipientValues } from '../src/mail/message-template';
import { MjmlNewsletterRenderer } from '../src/mail/newsletter';
import { TemplateRenderer } from '../src/mail/template-renderer';
import { PUBLIC_URL, SITE_NAME, TEMPLATE_GLOBALS, TEMPLATES_DIR, WEB_VERSION_URL, sampleArticles } from './fixture';
import { MessageFactory } from './messages';
import { fmt, heading, median, otherLoad, spread, table } from './report';
import type { SectionContext, SectionResult } from './section';
import { num } from './args';

// A full collection before each round, so a round pays for its own garbage and not for the other side's.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Per-operation time of `op` over `n` calls, in µs (awaits `op` only when it returns a promise). */
async function perOp(n: number, op: (i: number) => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = op(i);
    if (r instanceof Promise) await r;
  }
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

/**
 * Runs baseline and candidate in alternating rounds after a warm-up of each, so drift (CPU frequency, other load,
 * GC state) falls on both alike; returns the per-round µs of each.
 */
async function compare(spec: {
  baseline: (i: number) => unknown;
  candidate: (i: number) => unknown;
  baselineN: number;
  candidateN: number;
  rounds: number;
}) {
  await perOp(Math.max(3, spec.baselineN >> 2), spec.baseline);
  await perOp(Math.max(3, spec.candidateN >> 2), spec.candidate);
  const base: number[] = [];
  const cand: number[] = [];
  for (let r = 0; r < spec.rounds; r++) {
    gc();
    base.push(await perOp(spec.baselineN, spec.baseline));
    gc();
    cand.push(await perOp(spec.candidateN, spec.candidate));
  }
  return { base, cand };
}

/** A pool of recipients' values, computed before timing so both sides time only their own work. */
function recipients(factory: MessageFactory, n: number): RecipientValues[] {
  return Array.from({ length: n }, (_, i) => factory.values(i + 1));
}

/** The per-recipient string fill a render-per-recipient or compose-per-recipient design has to do. */
/** The campaign's one render, as the service does it (MJML to HTML and the text part). */
async function renderNewsletter(
  templates: TemplateRenderer,
  subject: string,
  articles: Article[],
): Promise<CampaignContent> {
  const renderer = new MjmlNewsletterRenderer({ templates, siteName: SITE_NAME, signupUrl: `${PUBLIC_URL}/` });
  return { subject, ...(await renderer.render({ subject, articles, webVersionUrl: WEB_VERSION_URL })) };
}

function fill(content: CampaignContent, v: RecipientValues): { html: string; text: string } {
  return {
    html: content.html
      .replaceAll('{{name}}', escapeHtml(v.name))
      .replaceAll('{{unsubscribe_url}}', escapeHtml(v.unsubscribe_url)),
    text: content.text.replaceAll('{{name}}', v.name).replaceAll('{{unsubscribe_url}}', v.unsubscribe_url),
  };
}

export interface RenderResult {
  perRecipientRenderUs: number;
  renderOnceMs: number;
  compileMs: number;
  buildUs: number;
  /** build + (render once + compile) spread over `campaignSize` recipients. */
  amortisedUs: number;
  campaignSize: number;
  ratio: number;
  spreadPct: { base: number; cand: number };
  /** Cores the rest of the machine kept busy meanwhile. */
  otherLoad: number;
  htmlBytes: number;
  textBytes: number;
}

/** How many operations per round, and rounds, each side times: `--quick` takes a few seconds instead of a minute. */
const SIZES = {
  full: { render: 12, build: 8000, compose: 250, rounds: 7 },
  quick: { render: 3, build: 1000, compose: 30, rounds: 3 },
};

/** Section 1: MJML per recipient against render once + MessageTemplate.build per recipient. */
export async function measureRendering(opts: { campaignSize: number; quick?: boolean }): Promise<RenderResult> {
  const size = opts.quick ? SIZES.quick : SIZES.full;
  heading('1. Rendering: MJML per recipient vs render once + MessageTemplate.build');
  const load = otherLoad();
  const articles = sampleArticles();
  const subject = articles[0].title;
  const factory = new MessageFactory();
  const pool = recipients(factory, 1000);
  const renderer = new TemplateRenderer({ dir: TEMPLATES_DIR, globals: TEMPLATE_GLOBALS });
  // The campaign's one render is usually the process's first: cold (templates read from disk, MJML not yet
  // optimised by the JIT). That is the cost spread over the campaign; the warm one is printed too.
  let t0 = performance.now();
  const content = await renderNewsletter(renderer, subject, articles);
  const renderOnceMs = performance.now() - t0;
  t0 = performance.now();
  const template = factory.template(content);
  const compileMs = performance.now() - t0;

  const { base, cand } = await compare({
    // What a naive engine does: a full render (MJML and the text part) for each recipient, then their values.
    baseline: async (i) => {
      return fill(await renderNewsletter(renderer, subject, articles), pool[i % pool.length]);
    },
    candidate: (i) => template.build(pool[i % pool.length]),
    baselineN: size.render,
    candidateN: size.build,
    rounds: size.rounds,
  });

  const perRecipientRenderUs = median(base);
  const buildUs = median(cand);
  const amortisedUs = buildUs + ((renderOnceMs + compileMs) * 1000) / opts.campaignSize;
  const result: RenderResult = {
    perRecipientRenderUs,
    renderOnceMs,
    compileMs,
    buildUs,
    amortisedUs,
    campaignSize: opts.campaignSize,
    ratio: perRecipientRenderUs / amortisedUs,
    spreadPct: { base: spread(base), cand: spread(cand) },
    otherLoad: load.stop(),
    htmlBytes: Buffer.byteLength(content.html),
    textBytes: Buffer.byteLength(content.text),
  };
  console.log(
    'newsletter: 5 articles from test/fixtures/sample-article.txt; ' +
      `rendered HTML ${fmt.kb(result.htmlBytes)}, text part ${fmt.kb(result.textBytes)}`,
  );
  console.log(
    table([
      ['per message', 'µs/msg', 'msgs/s on one core', 'round spread'],
      [
        'baseline: MJML render + text part per recipient (no MIME yet)',
        fmt.us(perRecipientRenderUs),
        fmt.int(1e6 / perRecipientRenderUs),
        `±${spread(base).toFixed(1)}%`,
      ],
      [
        'render once, then MessageTemplate.build (full MIME)',
        fmt.us(buildUs),
        fmt.int(1e6 / buildUs),
        `±${spread(cand).toFixed(1)}%`,
      ],
      [
        `  + one-time cold render ${fmt.ms(renderOnceMs)} and compile ${fmt.ms(compileMs)} ` +
          `over ${fmt.int(opts.campaignSize)}`,
        fmt.us(amortisedUs),
        fmt.int(1e6 / amortisedUs),
        '',
      ],
    ]),
  );
  console.log(
    `ratio (baseline / render once + build, amortised): ${fmt.ratio(result.ratio)}; ` +
      `other load on the machine meanwhile: ${result.otherLoad.toFixed(2)} cores`,
  );
  return result;
}

export interface MimeResult {
  composerUs: number;
  buildUs: number;
  ratio: number;
  composerBytes: number;
  buildBytes: number;
  spreadPct: { base: number; cand: number };
  otherLoad: number;
}

/** Section 2: Nodemailer's MailComposer per message against MessageTemplate.build, same content and headers. */
export async function measureMime(opts: { quick?: boolean } = {}): Promise<MimeResult> {
  const size = opts.quick ? SIZES.quick : SIZES.full;
  heading('2. MIME building: MailComposer per message vs MessageTemplate.build');
  const load = otherLoad();
  const articles = sampleArticles();
  const subject = articles[0].title;
  const renderer = new TemplateRenderer({ dir: TEMPLATES_DIR, globals: TEMPLATE_GLOBALS });
  const content = await renderNewsletter(renderer, subject, articles);
  const factory = new MessageFactory();
  const template = factory.template(content);
  const pool = recipients(factory, 1000);
  const { identity } = factory;

  const compose = (v: RecipientValues) => {
    const { html, text } = fill(content, v);
    return new MailComposer({
      from: identity.from,
      replyTo: identity.replyTo,
      to: v.to,
      subject,
      html,
      text,
      messageId: `<${randomBytes(12).toString('hex')}@${identity.messageIdDomain}>`,
      headers: {
        'List-Id': identity.listId,
        'List-Unsubscribe': v.list_unsubscribe,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    })
      .compile()
      .build();
  };

  const composerBytes = (await compose(pool[0])).length;
  const buildBytes = template.build(pool[0]).raw.length;
  const { base, cand } = await compare({
    baseline: (i) => compose(pool[i % pool.length]),
    candidate: (i) => template.build(pool[i % pool.length]),
    baselineN: size.compose,
    candidateN: size.build,
    rounds: size.rounds,
  });
  const result: MimeResult = {
    composerUs: median(base),
    buildUs: median(cand),
    ratio: median(base) / median(cand),
    composerBytes,
    buildBytes,
    spreadPct: { base: spread(base), cand: spread(cand) },
    otherLoad: load.stop(),
  };
  console.log(
    table([
      ['per message (same html, text, headers)', 'µs/msg', 'msgs/s on one core', 'bytes/msg', 'round spread'],
      [
        'baseline: token fill + new MailComposer().compile().build()',
        fmt.us(result.composerUs),
        fmt.int(1e6 / result.composerUs),
        fmt.int(composerBytes),
        `±${spread(base).toFixed(1)}%`,
      ],
      [
        'MessageTemplate.build',
        fmt.us(result.buildUs),
        fmt.int(1e6 / result.buildUs),
        fmt.int(buildBytes),
        `±${spread(cand).toFixed(1)}%`,
      ],
    ]),
  );
  console.log(
    `ratio (MailComposer / MessageTemplate.build): ${fmt.ratio(result.ratio)}; ` +
      `other load on the machine meanwhile: ${result.otherLoad.toFixed(2)} cores`,
  );
  return result;
}

/** The bench section "render": section 1 (the one-time render spread over --subscribers, default 20,000); no target. */
export async function renderSection(ctx: SectionContext): Promise<SectionResult> {
  const r = await measureRendering({ campaignSize: num('subscribers', 20_000), quick: ctx.quick });
  return {
    rows: [
      [
        '1. per message: MJML per recipient | render once + build',
        fmt.us(r.perRecipientRenderUs),
        fmt.us(r.amortisedUs),
        fmt.ratio(r.ratio),
      ],
    ],
    targets: [],
  };
}

/** The bench section "mime": section 2, as summary rows; the issue sets it no target. */
export async function mimeSection(ctx: SectionContext): Promise<SectionResult> {
  const m = await measureMime({ quick: ctx.quick });
  return {
    rows: [
      [
        '2. per message: MailComposer | MessageTemplate.build',
        fmt.us(m.composerUs),
        fmt.us(m.buildUs),
        fmt.ratio(m.ratio),
      ],
      ['   bytes per message', fmt.int(m.composerBytes), fmt.int(m.buildBytes), ''],
    ],
    targets: [],
  };
}
