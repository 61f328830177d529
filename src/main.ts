import { ConfigError } from './config';
import { errorStack } from './lib/errors';
import { boot } from './runtime/boot';
import { RedisUnavailableError } from './runtime/embedded-redis';
import { WorkerProcesses } from './runtime/worker-processes';

type Role = 'all' | 'api' | 'worker';

/** Entry point of `npm start` (all roles), `npm run api` and `npm run worker`. */
async function main(role: Role) {
  const service = await boot({ role, processMetrics: true });
  const { config, container, log, redis, devSecrets } = service;

  if (role !== 'api') container.startWorkers();
  const extra =
    role !== 'api' && config.workerProcesses > 1
      ? new WorkerProcesses({ entry: __filename, count: config.workerProcesses - 1, log })
      : undefined;
  extra?.start();
  const port = role !== 'worker' ? await container.listen() : undefined;

  const lines = [
    `newsletter ${role} started`,
    `  redis:  ${redis.describe}`,
    `  mail:   ${container.transport.describe}`,
  ];
  if (extra) lines.push(`  workers: this process and ${config.workerProcesses - 1} more`);
  if (port !== undefined) lines.push(`  http:   http://localhost:${port}/  (public URL ${config.publicUrl})`);
  if (devSecrets) {
    const origin = `${devSecrets.generated ? 'generated now' : 'kept'} in ${devSecrets.file}`;
    lines.push(`  admin token (development, ${origin}): ${config.adminToken}`);
  }
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'shutdown.start', signal }, 'shutting down: finishing the work in hand');
    // A stuck close must not keep a deploy waiting forever.
    const force = setTimeout(() => {
      log.error({ event: 'shutdown.forced' }, 'shutdown took too long; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    await Promise.all([service.close(), extra?.stop()]);
    log.info({ event: 'shutdown.done' }, 'stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

const role = (process.argv[2] ?? 'all') as Role;
if (!['all', 'api', 'worker'].includes(role)) {
  process.stderr.write(`unknown role "${role}": use all, api or worker\n`);
  process.exit(2);
}
main(role).catch((err) => {
  if (err instanceof ConfigError || err instanceof RedisUnavailableError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`failed to start: ${errorStack(err)}\n`);
  process.exit(1);
});
