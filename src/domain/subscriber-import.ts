import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Newsletters } from './newsletters';
import type { Clock } from './ports/clock';
import type { ImportOutcome, SubscriberRepository } from './ports/subscriber-repository';
import type { Terms } from './terms';
import {
  csvHeader,
  csvRecord,
  csvRecords,
  importRow,
  ImportFormatError,
  isBlank,
  isBlankRecord,
  ndjsonRecord,
  readLines,
  RowError,
  type CsvColumns,
  type ImportRow,
  type RowContext,
} from './import-parsers';

export type ImportFormat = 'ndjson' | 'csv';

/** Batches sent before the oldest must be answered: 2 keeps the store busy while the next batch is parsed and sent. */
const IN_FLIGHT = 2;

/** Counts so far; sent as progress and as the first part of the summary. */
export interface ImportProgress {
  /** Physical lines read, header and blank lines included. */
  lines: number;
  /** New people, created active in the newsletter. */
  imported: number;
  /** Active people already held who did not receive the newsletter and now do. */
  joined: number;
  skipped: { suppressed: number; existing: number };
  /** Lines that are not a valid row. */
  invalid: number;
}

export interface ImportSummary extends ImportProgress {
  /** The newsletter the rows joined. */
  newsletter: string;
  /**
   * The first `maxErrors` invalid rows; `line` is the 1-based physical line the row starts on (a CSV header is
   * line 1; a CSV record with a quoted line break spans more than one).
   */
  errors: { line: number; reason: string }[];
  /** True when more lines were invalid than `errors` lists. */
  truncatedErrors: boolean;
}

/** Called every `progressEvery` lines; a returned promise is awaited, so a slow consumer slows the import. */
export type ImportProgressListener = (progress: ImportProgress) => void | Promise<void>;

export interface SubscriberImportDeps {
  subscribers: SubscriberRepository;
  clock: Clock;
  log: Logger;
  terms: Pick<Terms, 'version' | 'textHash'>;
  newsletters: Pick<Newsletters, 'resolve'>;
}

export interface SubscriberImportOptions {
  /** Rows written in one atomic store call. Default 500. */
  batchSize?: number;
  /** Lines between progress reports. Default 10,000. */
  progressEvery?: number;
  /** Invalid lines listed in the summary; the rest are only counted. Default 1,000. */
  maxErrors?: number;
  /**
   * Longest line (NDJSON) or record (CSV) accepted, in bytes; never buffered beyond it. A longer NDJSON line is an
   * invalid row; a longer CSV record stops the import (invalid_csv), as no CSV reader can resume after it with
   * certainty. Default 64 KiB.
   */
  maxLineBytes?: number;
}

/**
 * Imports subscribers who consented elsewhere into one newsletter: each row brings its consent evidence and becomes
 * active at once, with no confirmation mail. An import never brings back a suppressed address or a person who left. Streams end to end: memory holds one input chunk, one batch being built and
 * IN_FLIGHT batches being written, whatever the file's size; reading waits for the store,
 * so the sender is slowed, not buffered.
 * Rows are committed batch by batch: an import cut short keeps what it wrote, and running it again skips those
 * rows as existing.
 */
export class SubscriberImport {
  private readonly opts: Required<SubscriberImportOptions>;

  constructor(
    private readonly deps: SubscriberImportDeps,
    options: SubscriberImportOptions = {},
  ) {
    this.opts = { batchSize: 500, progressEvery: 10_000, maxErrors: 1000, maxLineBytes: 64 * 1024, ...options };
  }

  /**
   * Reads the rows into `newsletter` (a slug; default the default newsletter). An unknown slug is refused with
   * unknown_newsletter before a byte of the stream is read.
   */
  async run(
    stream: Readable,
    format: ImportFormat,
    onProgress?: ImportProgressListener,
    options: { newsletter?: unknown } = {},
  ): Promise<ImportSummary> {
    const { log } = this.deps;
    const newsletter = await this.deps.newsletters.resolve(options.newsletter);
    const summary: ImportSummary = {
      newsletter,
      lines: 0,
      imported: 0,
      joined: 0,
      skipped: { suppressed: 0, existing: 0 },
      invalid: 0,
      errors: [],
      truncatedErrors: false,
    };
    const started = Date.now();
    let columns: CsvColumns | undefined;
    let sawContent = false;
    let batch: ImportRow[] = [];
    // Up to IN_FLIGHT batches sent while the next is parsed, so the store never waits for us; it runs them in order.
    const inFlight: Promise<void>[] = [];
    const flush = async () => {
      const rows = batch;
      batch = [];
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
      const writing = this.write(rows, summary);
      writing.catch(() => undefined); // awaited later; this only keeps it from counting as unhandled meanwhile
      inFlight.push(writing);
    };
    const invalid = (line: number, reason: string) => {
      summary.invalid++;
      if (summary.errors.length < this.opts.maxErrors) summary.errors.push({ line, reason });
      else summary.truncatedErrors = true;
    };

    log.info({ event: 'import.started', format, newsletter }, 'subscriber import started');
    let nextProgress = this.opts.progressEvery;
    const progressed = async (line: number) => {
      summary.lines = line;
      if (!onProgress || line < nextProgress) return;
      // A quoted line break makes one CSV record span lines, so a report is due once a multiple is reached or passed.
      nextProgress = (Math.floor(line / this.opts.progressEvery) + 1) * this.opts.progressEvery;
      await onProgress(progressOf(summary));
    };
    const take = async (line: number, read: () => Record<string, unknown>, ctx: RowContext) => {
      try {
        batch.push(importRow(read(), ctx));
      } catch (e) {
        if (!(e instanceof RowError)) throw e;
        invalid(line, e.message);
      }
      if (batch.length >= this.opts.batchSize) await flush();
    };
    // The stream stays open if we stop early: its owner decides (an HTTP handler drains it to answer the error).
    const source = stream.iterator({ destroyOnReturn: false });
    try {
      if (format === 'csv') {
        for await (const records of csvRecords(source, this.opts.maxLineBytes)) {
          const ctx = { now: this.deps.clock.now(), terms: this.deps.terms };
          for (const r of records) {
            if (!isBlankRecord(r.fields)) {
              sawContent = true;
              if (!columns) columns = csvHeader(r.fields);
              else await take(r.line, () => csvRecord(r.fields, columns!), ctx);
            }
            await progressed(r.endLine);
          }
        }
      } else {
        for await (const lines of readLines(source, this.opts.maxLineBytes)) {
          const ctx = { now: this.deps.clock.now(), terms: this.deps.terms };
          for (const l of lines) {
            if ('problem' in l) {
              sawContent = true;
              invalid(l.line, l.problem);
            } else if (!isBlank(l.text)) {
              sawContent = true;
              await take(l.line, () => ndjsonRecord(l.text), ctx);
            }
            await progressed(l.line);
          }
        }
      }
    } catch (e) {
      // A CSV that breaks mid-file stops here; its message says the rows before it were imported, so make it so.
      if (e instanceof ImportFormatError && e.code === 'invalid_csv') {
        await flush();
        for (const writing of inFlight) await writing;
      }
      throw e;
    }
    if (!sawContent)
      throw new ImportFormatError(
        'empty_body',
        'The file is empty: send one row a line (NDJSON) or a header row and rows (CSV).',
      );
    await flush();
    for (const writing of inFlight) await writing;

    log.info(
      {
        event: 'import.finished',
        format,
        newsletter,
        lines: summary.lines,
        imported: summary.imported,
        joined: summary.joined,
        suppressed: summary.skipped.suppressed,
        existing: summary.skipped.existing,
        invalid: summary.invalid,
        ms: Date.now() - started,
      },
      'subscriber import finished',
    );
    return summary;
  }

  private async write(rows: ImportRow[], summary: ImportSummary): Promise<void> {
    if (!rows.length) return;
    const now = this.deps.clock.now().toISOString();
    const outcomes = await this.deps.subscribers.importActive(rows, now, summary.newsletter);
    for (const o of outcomes) count(summary, o);
  }
}

function count(summary: ImportSummary, outcome: ImportOutcome): void {
  if (outcome === 'imported') summary.imported++;
  else if (outcome === 'joined') summary.joined++;
  else summary.skipped[outcome]++;
}

function progressOf(s: ImportSummary): ImportProgress {
  return { lines: s.lines, imported: s.imported, joined: s.joined, skipped: { ...s.skipped }, invalid: s.invalid };
}
