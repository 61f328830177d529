import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/** One reading of process.memoryUsage() (main thread), with its wall-clock time in ms. */
export interface MemorySample {
  t: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Where a scale worker process logs its memory, one JSON line per sample. */
export function memoryLogFile(dataDir: string, pid: number): string {
  return join(dataDir, `scale-memory-${pid}.jsonl`);
}

/**
 * Logs this process's memory as Node sees it every `everyMs`, so the scale section can say what a worker's peak RSS
 * was made of (the V8 heap, Buffers, the rest); /proc gives only the total.
 */
export function logMemory(dataDir: string, everyMs = 500): void {
  const file = memoryLogFile(dataDir, process.pid);
  setInterval(() => {
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const sample: MemorySample = { t: Date.now(), rss, heapTotal, heapUsed, external, arrayBuffers };
    appendFileSync(file, JSON.stringify(sample) + '\n');
  }, everyMs).unref();
}
