import { ConfigError } from './config';
import { errorStack } from './lib/errors';
import { assemble } from './runtime/boot';
import { RedisUnavailableError } from './runtime/embedded-redis';
import { RedisRefusedError } from './runtime/redis-checks';
import { WorkerProcesses } from './runtime/worker-processes';

type Role = 'all' | 'api' | 'worker';

/** Set once SIGTERM or SIGINT arrived: what fails after that is the shutdown's doing, not a start-up failure. */
let stopping = false;

/** Entry point of `npm start` (all roles), `npm run api` and `npm run worker`. */
async function main(role: Role) {
  const service = await assemble({ role, processMetrics: true });
  const { config, container, log, redis, devSecrets } = service;
  let started = false;
  /** The extra worker processes, once started (SIGTERM may come before). */
  const forks: { extra?: WorkerProcesses } = {};

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'shutdown.start', signal }, 'shutting down: finishing the work in hand');
    // A stuck close must not keep a deploy waiting forever; with nothing started (Redis never answered) there is
    // no work in hand, so a few seconds are plenty.
    const force = setTimeout(
      () => {
        log.error({ event: 'shutdown.forced' }, 'shutdown took too long; exiting');
        process.exit(1);
      },
      started ? 30_000 : 4_000,
    );
    force.unref();
    await Promise.all([service.close(), forks.extra?.stop()]);
    log.info({ event: 'shutdown.done' }, 'stopped');
    process.exit(0);
  };
  // Listened for before waiting on Redis: a service waiting for it must still stop when told to.
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // A fork of WORKER_PROCESSES talks to its parent over an IPC channel, which closes when the parent dies, even by
  // SIGKILL: the fork then stops the same way instead of sending on as an orphan nothing supervises or stops.
  // The parent may have died while this fork was still starting: `connected` tells what the event would have.
  if (process.send && !process.connected) void stop('parent_exited');
  else if (process.send) process.on('disconnect', () => void stop('parent_exited'));

  // Serve before Redis answers: /healthz says the process is alive, /readyz and every other route answer 503 until
  // Redis answers and start-up is done.
  const port = role !== 'worker' ? await listening('PORT', () => container.listen()) : undefined;
  const opsPort =
    role === 'worker' && config.workerPort > 0
      ? await listening('WORKER_PORT', () => container.listenOps(config.workerPort))
      : undefined;

  const answered = await Promise.race([
    container.redisReady().then(() => true),
    new Promise<boolean>((ok) => setTimeout(() => ok(false), 1500).unref()),
  ]);
  if (!answered) {
    // One line for operators at any log level; the outage log adds one per backoff step while it lasts.
    const http = port !== undefined ? `http://localhost:${port}/ answers 503 (/healthz 200)` : 'nothing runs';
    process.stdout.write(
      `newsletter ${role} waiting for Redis at ${redis.describe}: ${http} until it answers; retrying in the background\n`,
    );
  }
  try {
    await service.start();
  } catch (err) {
    // Refused (or failed) before anything ran: stop the servers, the connections and an embedded redis-server.
    if (!stopping) await service.close().catch(() => undefined);
    throw err;
  }
  started = true;
  if (stopping) return;

  const extra =
    role !== 'api' && config.workerProcesses > 1
      ? new WorkerProcesses({
          entry: __filename,
          count: config.workerProcesses - 1,
          log,
          // Under `all` the forks run in the background, below this process, which answers HTTP: when signups and mail
          // sending want more CPU than there is, a visitor's answer comes first and the mails, which wait in Redis,
          // catch up after. Idle cores are still theirs. Measured on two cores (signups of 8 s, one service, its fork
          // switched between the two): at nice 19 alone 1,509-1,571 signups/s, in the idle class as well 1,539-1,688,
          // four runs each alternated; and nice 19 against nice 10 (bench signups section): 1,631-1,678 against
          // 1,167-1,504.
          priority: role === 'all' ? 'background' : 'normal',
        })
      : undefined;
  // With forks, the process that also serves HTTP (`all`) leaves the confirmation and welcome mails to them: a burst
  // of signups then costs this process only the signups, not their mails too. It still runs every other worker, and
  // takes the mails as well while the forks, starved of CPU or down, leave them waiting.
  if (role !== 'api') container.startWorkers({ confirmationMails: extra && role === 'all' ? 'standby' : 'here' });
  forks.extra = extra;
  extra?.start();

  const lines = [
    `newsletter ${role} started`,
    `  redis:  ${redis.describe}`,
    `  mail:   ${container.transport.describe}`,
  ];
  if (extra) lines.push(`  workers: this process and ${config.workerProcesses - 1} more`);
  if (port !== undefined) lines.push(`  http:   http://localhost:${port}/  (public URL ${config.publicUrl})`);
  if (opsPort !== undefined) lines.push(`  health: http://localhost:${opsPort}/healthz and /metrics`);
  if (devSecrets) {
    const origin = `${devSecrets.generated ? 'generated now' : 'kept'} in ${devSecrets.file}`;
    lines.push(`  admin token (development, ${origin}): ${config.adminToken}`);
  }
  for (const w of service.warnings) lines.push(`  WARNING: ${w}`);
  process.stdout.write(lines.join('\n') + '\n');
}

/** Listens, turning a port already taken into a one-line start-up error that names the setting. */
async function listening(setting: string, listen: () => Promise<number>): Promise<number> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES')
      throw new ConfigError(`${setting}: cannot listen (${code}); choose another port`);
    throw err;
  }
}

const role = (process.argv[2] ?? 'all') as Role;
if (!['all', 'api', 'worker'].includes(role)) {
  process.stderr.write(`unknown role "${role}": use all, api or worker\n`);
  process.exit(2);
}
main(role).catch((err) => {
  if (stopping) return;
  if (err instanceof ConfigError || err instanceof RedisUnavailableError || err instanceof RedisRefusedError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`failed to start: ${errorStack(err)}\n`);
  process.exit(1);
});
