/**
 * `npm run bench`: the delivery engine's performance, each figure against a baseline measured in the same run and
 * printed as a ratio. Loopback only (Redis on 127.0.0.1:6379, an SMTP sink on 127.0.0.1), bounded in time, and it
 * deletes its own Redis keys at the end. See BENCHMARKS.md.
 *
 *   npm run bench                                  all three sections
 *   npm run bench -- --only=e2e                    one or more of render,mime,e2e,memory
 *   npm run bench -- --subscribers=20000 --connections=20 --concurrency=4 --batch=200 --high-water=50
 *   npm run bench -- --only=e2e --cpu-profile=engine.cpuprofile   profile the engine run; then
 *   npx tsx bench/profile-summary.ts engine.cpuprofile
 *   npm run bench -- --only=e2e --worker-processes=2  the engine's workers as `src/main.ts worker`
 *                                                     with WORKER_PROCESSES=2
 */
import { errorMessage, errorStack } from '../src/lib/errors';
import { renderingSection, mimeSection, type MimeResult, type RenderResult } from './micro';
import { endToEndSection, type EndToEndResult } from './end-to-end';
import { memorySection } from './memory';
import type { SectionResult } from './section';
import { startSink, type Sink } from './sink';
import { fmt, heading, machine, table } from './report';
import { args, num } from './args';

/**
 * --worker-processes=N: 0 (default) runs the workers in this process; N >= 1 runs them as a `src/main.ts worker`
 * child.
 */
const workerProcesses = (() => {
  const v = Number(args.get('worker-processes') ?? 0);
  if (!Number.isInteger(v) || v < 0 || v > 64) throw new Error('--worker-processes must be an integer from 0 to 64');
  return v;
})();
const only = new Set((args.get('only') ?? 'render,mime,e2e,memory').split(','));
/** --quick: every section small. */
const quick = args.has('quick');
const options = {
  subscribers: num('subscribers', 20_000),
  maxConnections: num('connections', 20),
  batchSize: num('batch', 200),
  concurrency: num('concurrency', 4),
  highWater: num('high-water', 50),
  timeoutMs: 120_000,
  cpuProfile: args.get('cpu-profile'),
  workerProcesses,
};
if (options.cpuProfile && options.workerProcesses)
  throw new Error(
    '--cpu-profile profiles the bench process, which runs no workers with --worker-processes: use one or the other',
  );

/** The whole run stops after this, whatever happens; its Redis keys are deleted on the way out. */
const DEADLINE_MS = 175_000;
const cleanups: (() => Promise<void>)[] = [];

let aborting = false;
async function abort(why: string): Promise<void> {
  // tsx relays a signal to this process again when this process is slow to acknowledge it (a busy machine): a second
  // signal must not end the run halfway through its clean-up (with `once`, it did, through tsx's default handler).
  if (aborting) return void console.error(`bench: ${why} again; still cleaning up`);
  aborting = true;
  console.error(`bench: ${why}; cleaning up`);
  const giveUp = setTimeout(() => process.exit(1), 10_000);
  giveUp.unref();
  for (const c of cleanups) await c().catch((err) => console.error(`cleanup failed: ${errorMessage(err)}`));
  process.exit(1);
}
process.on('SIGINT', () => void abort('interrupted'));
process.on('SIGTERM', () => void abort('terminated'));

async function main() {
  const m = machine();
  const started = new Date();
  console.log(
    `newsletter bench: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.os}, ${m.memory} RAM; load average ${m.load}`,
  );
  const watchdog = setTimeout(() => void abort(`still running after ${DEADLINE_MS / 1000} s`), DEADLINE_MS);
  watchdog.unref();

  let render: RenderResult | undefined;
  let mime: MimeResult | undefined;
  let e2e: EndToEndResult | undefined;
  if (only.has('render')) render = await renderingSection({ campaignSize: options.subscribers });
  if (only.has('mime')) mime = await mimeSection();
  if (only.has('e2e')) {
    let sink: Sink | undefined;
    try {
      sink = await startSink();
      e2e = await endToEndSection(sink, options, (c) => cleanups.push(c));
    } finally {
      await sink?.stop();
    }
  }

  // The sections written to the bench contract (bench/section.ts), in order.
  const sections: SectionResult[] = [];
  if (only.has('memory')) sections.push(await memorySection({ quick, onCleanup: (c) => cleanups.push(c) }));

  const end = machine();
  heading('Summary');
  const rows: (string | number)[][] = [['measure', 'baseline', 'candidate', 'ratio']];
  if (render)
    rows.push([
      '1. per message: MJML per recipient | render once + build',
      fmt.us(render.perRecipientRenderUs),
      fmt.us(render.amortisedUs),
      fmt.ratio(render.ratio),
    ]);
  const loads: string[] = [];
  if (render) loads.push(`1: ${render.otherLoad.toFixed(2)}`);
  if (mime) {
    rows.push([
      '2. per message: MailComposer | MessageTemplate.build',
      fmt.us(mime.composerUs),
      fmt.us(mime.buildUs),
      fmt.ratio(mime.ratio),
    ]);
    rows.push(['   bytes per message', fmt.int(mime.composerBytes), fmt.int(mime.buildBytes), '']);
    loads.push(`2: ${mime.otherLoad.toFixed(2)}`);
  }
  if (e2e) {
    const rawRate = (e2e.raw[0].rate + e2e.raw[1].rate) / 2;
    rows.push([
      `3. messages/s, ${fmt.int(e2e.options.subscribers)} recipients: raw transport | engine`,
      fmt.rate(rawRate),
      fmt.rate(e2e.engine.rate),
      e2e.ratio.toFixed(2),
    ]);
    rows.push([
      '   CPU ms per 1,000 messages in the bench process: raw | engine',
      fmt.ms(((e2e.raw[0].cpu.benchMs + e2e.raw[1].cpu.benchMs) / 2 / e2e.options.subscribers) * 1000),
      fmt.ms((e2e.engine.cpu.benchMs / e2e.options.subscribers) * 1000),
      e2e.cpuRatio.toFixed(2),
    ]);
    if (e2e.engine.cpu.workersMs !== undefined && e2e.workerCpuRatio !== undefined) {
      rows.push([
        '   CPU ms per 1,000 messages: raw (bench process) | ' +
          `engine's ${e2e.options.workerProcesses} worker process(es)`,
        fmt.ms(((e2e.raw[0].cpu.benchMs + e2e.raw[1].cpu.benchMs) / 2 / e2e.options.subscribers) * 1000),
        fmt.ms((e2e.engine.cpu.workersMs / e2e.options.subscribers) * 1000),
        e2e.workerCpuRatio.toFixed(2),
      ]);
    }
    rows.push([
      '   raw runs 1 and 2 | engine steady (10-90%)',
      `${fmt.rate(e2e.raw[0].rate)} ${fmt.rate(e2e.raw[1].rate)}`,
      fmt.rate(e2e.engine.steadyRate),
      (e2e.engine.steadyRate / rawRate).toFixed(2),
    ]);
    const mem = e2e.engine.memory;
    rows.push([
      '   Redis used_memory (whole instance) before | peak, after',
      fmt.mb(mem.before.used),
      `${fmt.mb(mem.peakUsed)}, ${fmt.mb(mem.after.used)}`,
      '',
    ]);
    loads.push(`3: ${[e2e.raw[0], e2e.engine, e2e.raw[1]].map((r) => (r.cpu.othersMs / r.ms).toFixed(2)).join(' / ')}`);
    rows.push([
      "   the send's own keys before | peak, after",
      fmt.kb(mem.before.own),
      `${fmt.kb(mem.peakOwn)}, ${fmt.kb(mem.after.own)}`,
      '',
    ]);
  }
  for (const section of sections) rows.push(...section.rows);
  console.log(table(rows));
  const targets = sections.flatMap((section) => section.targets);
  if (targets.length) {
    heading('Targets');
    console.log(
      table([
        ['target', 'ours', 'baseline', 'ratio', 'limit', 'met'],
        ...targets.map((t) => [t.label, t.ours, t.baseline, t.ratio.toFixed(2), t.target, t.met ? 'yes' : 'NO']),
      ]),
    );
  }
  console.log('');
  console.log(
    table(
      [
        ['machine', ''],
        ['CPU', m.cpu],
        ['cores (os.cpus())', m.cores],
        ['Node', m.node],
        ['OS', m.os],
        ['load average at start | end', `${m.load} | ${end.load}`],
        ['other load by section (cores)', loads.join('; ')],
        ...(e2e
          ? [
              [
                'settings',
                `SMTP_MAX_CONNECTIONS=${options.maxConnections} DELIVERY_BATCH_SIZE=${options.batchSize} ` +
                  `DELIVERY_CONCURRENCY=${options.concurrency} DELIVERY_QUEUE_HIGH_WATER=${options.highWater} ` +
                  'SEND_RATE_PER_SECOND=0',
              ],
              [
                'engine workers',
                options.workerProcesses
                  ? `src/main.ts worker child process, WORKER_PROCESSES=${options.workerProcesses}`
                  : 'in the bench process (--worker-processes=0)',
              ],
            ]
          : []),
        ['run', `${started.toISOString()} (${fmt.s((Date.now() - started.getTime()) / 1000)})`],
      ],
      true,
    ),
  );
}

main()
  .then(() => {
    // Everything is closed; should a library still hold a handle, do not hang.
    setTimeout(() => process.exit(0), 5000).unref();
  })
  .catch((err) => {
    // Cut short (signal, watchdog): abort() reports and exits once its clean-up is done.
    if (aborting) return;
    console.error(`bench failed: ${errorStack(err)}`);
    process.exit(1);
  });
