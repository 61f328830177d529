/**
 * V8's old-space limit for the processes that deliver, in MB. Left to itself on a machine with gigabytes free, V8
 * lets a delivery worker's heap grow to about 250 MB, most of it garbage (about 55 MB is live while it sends to a
 * million readers), before a full collection: 330-345 MB of RSS. With this limit it collects sooner: 182-188 MB, at
 * 4-6 % less throughput (BENCHMARKS.md, section Scale).
 *
 * A running process cannot change its own limit, so it is a flag on node's command line: the `worker` and
 * `worker:prod` scripts and compose.yaml's worker pass it (a test keeps them in step with this value), and the forks
 * of WORKER_PROCESSES get it below.
 */
const WORKER_HEAP_MB = 192;
export const WORKER_HEAP_FLAG = `--max-old-space-size=${WORKER_HEAP_MB}`;

/**
 * Node flags for a worker fork: its parent's (the TypeScript loader among them) with the heap limit, unless the
 * operator chose one of their own (on the command line or in NODE_OPTIONS), which then stands.
 */
export function workerForkFlags(parentFlags: readonly string[], nodeOptions = ''): string[] {
  const chosen = [...parentFlags, ...nodeOptions.split(/\s+/)].some((f) => f.startsWith('--max-old-space-size'));
  return chosen ? [...parentFlags] : [...parentFlags, WORKER_HEAP_FLAG];
}
