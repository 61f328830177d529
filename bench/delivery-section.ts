/**
 * The bench section "delivery": section 3 (bench/end-to-end.ts) with its command-line options, its SMTP sink and
 * its summary rows. A thin wrapper: the delivery rework against Postfix's smtp-source replaces it.
 */
import { endToEndSection, type EndToEndOptions } from './end-to-end';
import { args, num } from './args';
import { fmt } from './report';
import type { SectionContext, SectionResult } from './section';
import { startSink, type Sink } from './sink';

/**
 * --worker-processes=N: 0 (default) runs the workers in this process; N >= 1 runs them as a `src/main.ts worker`
 * child.
 */
function workerProcesses(): number {
  const v = Number(args.get('worker-processes') ?? 0);
  if (!Number.isInteger(v) || v < 0 || v > 64) throw new Error('--worker-processes must be an integer from 0 to 64');
  return v;
}

function options(quick: boolean): EndToEndOptions {
  const opts: EndToEndOptions = {
    // --quick: a few seconds per run instead of ten or more.
    subscribers: num('subscribers', quick ? 2000 : 20_000),
    maxConnections: num('connections', 20),
    batchSize: num('batch', 200),
    concurrency: num('concurrency', 4),
    highWater: num('high-water', 50),
    timeoutMs: 120_000,
    cpuProfile: args.get('cpu-profile'),
    workerProcesses: workerProcesses(),
  };
  if (opts.cpuProfile && opts.workerProcesses)
    throw new Error(
      '--cpu-profile profiles the bench process, which runs no workers with --worker-processes: use one or the other',
    );
  return opts;
}

export async function deliverySection(ctx: SectionContext): Promise<SectionResult> {
  const opts = options(ctx.quick);
  let sink: Sink | undefined;
  let e2e;
  try {
    sink = await startSink();
    e2e = await endToEndSection(sink, opts, ctx.onCleanup);
  } finally {
    await sink?.stop();
  }
  const n = e2e.options.subscribers;
  const rawRate = (e2e.raw[0].rate + e2e.raw[1].rate) / 2;
  const rawCpuPer1000 = ((e2e.raw[0].cpu.benchMs + e2e.raw[1].cpu.benchMs) / 2 / n) * 1000;
  const rows: (string | number)[][] = [
    [
      `3. messages/s, ${fmt.int(n)} recipients: raw transport | engine`,
      fmt.rate(rawRate),
      fmt.rate(e2e.engine.rate),
      e2e.ratio.toFixed(2),
    ],
    [
      '   CPU ms per 1,000 messages in the bench process: raw | engine',
      fmt.ms(rawCpuPer1000),
      fmt.ms((e2e.engine.cpu.benchMs / n) * 1000),
      e2e.cpuRatio.toFixed(2),
    ],
  ];
  if (e2e.engine.cpu.workersMs !== undefined && e2e.workerCpuRatio !== undefined)
    rows.push([
      `   CPU ms per 1,000 messages: raw (bench process) | engine's ${opts.workerProcesses} worker process(es)`,
      fmt.ms(rawCpuPer1000),
      fmt.ms((e2e.engine.cpu.workersMs / n) * 1000),
      e2e.workerCpuRatio.toFixed(2),
    ]);
  const mem = e2e.engine.memory;
  rows.push(
    [
      '   raw runs 1 and 2 | engine steady (10-90%)',
      `${fmt.rate(e2e.raw[0].rate)} ${fmt.rate(e2e.raw[1].rate)}`,
      fmt.rate(e2e.engine.steadyRate),
      (e2e.engine.steadyRate / rawRate).toFixed(2),
    ],
    [
      '   Redis used_memory (whole instance) before | peak, after',
      fmt.mb(mem.before.used),
      `${fmt.mb(mem.peakUsed)}, ${fmt.mb(mem.after.used)}`,
      '',
    ],
    [
      "   the send's own keys before | peak, after",
      fmt.kb(mem.before.own),
      `${fmt.kb(mem.peakOwn)}, ${fmt.kb(mem.after.own)}`,
      '',
    ],
  );
  // The delivery target is against Postfix's smtp-source, which this section does not run yet.
  return { rows, targets: [] };
}
