import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';

/** How the process reaches Redis, and what to stop on shutdown if it started one. */
export interface RedisTarget {
  options: RedisOptions;
  /** Human description for the start banner. */
  describe: string;
  /** Set when this process started redis-server itself. */
  child?: ChildProcess;
}

export class RedisUnavailableError extends Error {
  readonly code = 'redis_unavailable';
}

const SOCKET = 'redis.sock';

/** REDIS_SENTINELS, REDIS_SENTINEL_NAME and REDIS_SENTINEL_PASSWORD. */
export interface SentinelSettings {
  sentinels: { host: string; port: number }[];
  name: string;
  password?: string;
}

/**
 * ioredis asks the Sentinels for the primary of `name` on every (re)connect, so after a failover each connection
 * (ours and BullMQ's, which are built from the same options) reconnects to the promoted replica. REDIS_URL, when set
 * too, gives the data nodes' credentials, database and TLS; its host and port are the Sentinels' business.
 */
export function sentinelTarget(s: SentinelSettings, url?: string): RedisTarget {
  const data = url ? optionsFromUrl(url) : {};
  const options: RedisOptions = {
    sentinels: s.sentinels,
    name: s.name,
    sentinelPassword: s.password,
    username: data.username,
    password: data.password,
    db: data.db,
    tls: data.tls,
    // With TLS to the data nodes, the Sentinels are reached over TLS as well.
    enableTLSForSentinelMode: Boolean(data.tls),
    // A primary demoted while a connection stayed open answers writes with READONLY: reconnect, which asks the
    // Sentinels again, and resend the command.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  };
  const where = s.sentinels.map((a) => `${a.host}:${a.port}`).join(',');
  return { options, describe: `redis primary "${s.name}" via Sentinels ${where}` };
}

/** Answers true when a Redis at these options replies to PING within a second. */
export async function redisAnswers(options: RedisOptions): Promise<boolean> {
  const probe = new Redis({
    ...options,
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    // With Sentinels: one round of asking them, not a retry loop.
    sentinelRetryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    // A probe that found nothing has closed already ('end'). ioredis's disconnect would still arm its two-second
    // timer for a socket whose close it will never see again, and that timer kept a process (a CLI command on a
    // machine without Redis) alive two seconds after its work.
    if (probe.status !== 'end') probe.disconnect();
  }
}

/**
 * The embedded default: REDIS_URL when set; else a Redis answering on 127.0.0.1:6379; else one this project
 * started earlier on `<dataDir>/redis/redis.sock`; else start `redis-server` from PATH with its append-only
 * file under `<dataDir>/redis`. A unix socket keeps the embedded server off the network and lets the CLI and
 * other roles find it.
 */
export async function resolveRedis(
  url: string | undefined,
  dataDir: string,
  sentinel?: SentinelSettings,
): Promise<RedisTarget> {
  if (sentinel) return sentinelTarget(sentinel, url);
  if (url) return { options: optionsFromUrl(url), describe: redactUrl(url) };
  const local = { host: '127.0.0.1', port: 6379 };
  if (await redisAnswers(local)) return { options: local, describe: 'redis at 127.0.0.1:6379' };
  return startEmbeddedRedis(dataDir);
}

/**
 * Reuses the redis-server this project started earlier on `<dataDir>/redis/redis.sock`, or starts one from PATH
 * with its append-only file in that folder, so data survives restarts.
 */
export async function startEmbeddedRedis(dataDir: string): Promise<RedisTarget> {
  const dir = resolve(dataDir, 'redis');
  const path = relativeSocketPath(dir);
  if (await redisAnswers({ path })) return { options: { path }, describe: `embedded redis at ${path}` };
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      SOCKET,
      '--unixsocketperm',
      '700',
      '--dir',
      '.',
      '--appendonly',
      'yes',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const spawnError = new Promise<Error>((ok) => child.once('error', ok));
  for (let i = 0; i < 50; i++) {
    const failed = await Promise.race([spawnError, new Promise<null>((ok) => setTimeout(() => ok(null), 100))]);
    if (failed) {
      throw new RedisUnavailableError(
        'No Redis answers on 127.0.0.1:6379 and redis-server is not on PATH. ' +
          'Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) ' +
          'or set REDIS_URL=redis://host:6379.',
      );
    }
    if (await redisAnswers({ path }))
      return { options: { path }, describe: `embedded redis-server (pid ${child.pid}) at ${path}`, child };
    if (child.exitCode !== null) break;
  }
  child.kill('SIGTERM');
  throw new RedisUnavailableError(`redis-server started but did not answer on ${path}; see its files under ${dir}`);
}

/** Unix socket paths are limited to ~107 bytes; a relative path keeps deep checkouts working. */
function relativeSocketPath(dir: string): string {
  const abs = join(dir, SOCKET);
  const rel = join(dir.startsWith(process.cwd()) ? dir.slice(process.cwd().length + 1) : dir, SOCKET);
  return abs.length < 100 ? abs : rel;
}

export function optionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
