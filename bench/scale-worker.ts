/**
 * The scale bench's worker process: the service's worker role (`src/main.ts worker`) booted through the same
 * composition root with the same settings, except that the mail transport accepts each message at once. The scale
 * section measures fan-out, BullMQ, the ledger and MIME building at a million recipients, not an SMTP wire (the
 * delivery section measures that).
 *
 * Run as `node --import tsx bench/scale-worker.ts worker` with the service's settings in the environment;
 * WORKER_PROCESSES=N starts N-1 forks of this same file, as the service forks `src/main.ts`.
 */
import { errorStack } from '../src/lib/errors';
import { boot } from '../src/runtime/boot';
import { WorkerProcesses } from '../src/runtime/worker-processes';
import { AcceptingTransport } from './accepting-transport';
import { logMemory } from './scale-worker-memory';

async function main(): Promise<void> {
  // The environment is the whole configuration (the bench passes it); no .env is read.
  const service = await boot({ role: 'worker', env: process.env, transport: new AcceptingTransport() });
  const { config, container, log } = service;
  logMemory(config.dataDir);
  container.startWorkers();
  const extra =
    config.workerProcesses > 1
      ? new WorkerProcesses({ entry: __filename, count: config.workerProcesses - 1, log })
      : undefined;
  extra?.start();

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // As the service does: finish the batches in hand, then exit.
    await Promise.all([service.close(), extra?.stop()]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // A fork stops with its parent, as the service's forks do.
  if (process.send) process.on('disconnect', () => void stop());
  process.stdout.write(
    `scale worker ${process.pid} started${extra ? ` with ${config.workerProcesses - 1} forks` : ''}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`scale worker failed to start: ${errorStack(err)}\n`);
  process.exit(1);
});
