import { createReadStream } from 'node:fs';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Container } from '../../container';
import type { ImportFormat, ImportSummary } from '../../domain/subscriber-import';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { formatCount, formatDuration, formatRate, keyValues } from '../format';
import { err, out } from '../output';
import { importProgressLine, LiveLine, RateMeter } from '../progress';

/** Counts the bytes and line breaks that pass through, for the progress line. */
class Meter extends Transform {
  bytes = 0;
  lines = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.lines++;
    done(null, chunk);
  }
}

/** Streams a file (or stdin) into the subscriber import with a live progress line; prints the summary. */
export async function importFile(
  container: Container,
  signal: AbortSignal,
  input: { file: string; format: ImportFormat; gzip: boolean; size?: number; newsletter?: string },
): Promise<number> {
  const source: Readable = input.file === '-' ? process.stdin : createReadStream(input.file);
  if (input.file === '-' && process.stdin.isTTY) err('reading subscribers from the terminal; end with Ctrl-D');
  const raw = new Meter();
  const decoded = input.gzip ? new Meter() : raw;
  const ignore = () => undefined; // the import sees the same error through its stream
  const body: Readable = input.gzip
    ? pipeline(source, raw, createGunzip(), decoded, ignore)
    : pipeline(source, raw, ignore);
  const stop = () => source.destroy(new Error('interrupted'));
  signal.addEventListener('abort', stop, { once: true });

  const live = new LiveLine(process.stderr, { intervalMs: 5000 });
  const lineRate = new RateMeter(5000);
  const started = Date.now();
  let imported: number | undefined;
  const draw = () => {
    lineRate.add(Date.now(), decoded.lines);
    live.update(
      importProgressLine(
        {
          bytes: raw.bytes,
          size: input.size,
          lines: decoded.lines,
          elapsedMs: Date.now() - started,
          linesPerSecond: lineRate.perSecond(),
          imported,
        },
        { tty: live.tty },
      ),
    );
  };
  const timer = setInterval(draw, live.tty ? 200 : 1000);
  // In a log, a first line of zeros says nothing; the next ones come every few seconds.
  if (live.tty) draw();
  else lineRate.add(started, 0);
  let summary: ImportSummary;
  try {
    summary = await container.subscriberImport.run(body, input.format, (p) => void (imported = p.imported), {
      newsletter: input.newsletter,
    });
  } catch (e) {
    live.clear();
    if (signal.aborted) {
      err(
        `import interrupted after ${formatCount(decoded.lines)} lines: the rows written so far are kept, ` +
          `and running the same import again skips them as existing.`,
      );
      return EXIT.interrupted;
    }
    // zlib's Z_* codes: a .gz file that is not gzip, or cut short. The file is at fault, not the program.
    const code = (e as { code?: unknown }).code;
    if (input.gzip && typeof code === 'string' && code.startsWith('Z_'))
      throw new CliError(`${input.file} is not a valid gzip file (${(e as Error).message}); rows read before it stay`);
    throw e;
  } finally {
    clearInterval(timer);
    signal.removeEventListener('abort', stop);
    source.destroy();
  }
  live.clear();
  const elapsed = Date.now() - started;
  printImportSummary(input.file === '-' ? 'standard input' : input.file, summary, elapsed);
  return EXIT.ok;
}

function printImportSummary(name: string, s: ImportSummary, elapsedMs: number) {
  const rows = s.imported + s.joined + s.skipped.suppressed + s.skipped.existing + s.invalid;
  const speed = ` in ${formatDuration(elapsedMs)} (${formatRate((rows * 1000) / Math.max(elapsedMs, 1))} rows/s)`;
  out(`imported ${formatCount(s.imported)} of ${formatCount(rows)} rows from ${name} into ${s.newsletter}${speed}`);
  const { suppressed, existing } = s.skipped;
  const skippedBy = `${formatCount(suppressed)} suppressed, ${formatCount(existing)} already held or left`;
  out(
    keyValues([
      ['  imported', formatCount(s.imported)],
      ['  joined', `${formatCount(s.joined)} (readers of other newsletters, now in this one too)`],
      ['  skipped', `${formatCount(suppressed + existing)} (${skippedBy})`],
      ['  invalid', formatCount(s.invalid)],
    ]),
  );
  if (!s.errors.length) return;
  const shown = s.errors.slice(0, 10);
  out(`first invalid rows:`);
  for (const e of shown) out(`  line ${e.line}: ${e.reason}`);
  if (s.invalid > shown.length) out(`  ... and ${formatCount(s.invalid - shown.length)} more`);
}
