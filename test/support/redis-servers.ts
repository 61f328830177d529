import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisAnswers } from '../../src/runtime/embedded-redis';
import { exited, terminate } from './child-exit';
import { freePort } from './free-port';

/**
 * Redis servers of a test's own, for the tests that stop, kill or fail over a Redis: never the shared one on 6379,
 * which every other test uses. Each listens on a free loopback port and keeps its files in a temporary folder.
 */

async function untilAnswers(port: number, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await redisAnswers({ host: '127.0.0.1', port })) return;
    if (child.exitCode !== null) break;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`${what} on port ${port} did not answer`);
}

/** A redis-server with its own folder; `stop` and `start` again keep the folder, so its files carry over. */
export class TestRedisServer {
  readonly dir: string;
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly args: string[],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'nl-redis-'));
  }

  /** Picks its port and folder without starting it: for a test where Redis is away at first. */
  static async create(args: string[] = []): Promise<TestRedisServer> {
    return new TestRedisServer(await freePort(), args);
  }

  /** `args` are redis-server options, e.g. ['--appendonly', 'yes']. */
  static async start(args: string[] = []): Promise<TestRedisServer> {
    const server = await TestRedisServer.create(args);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...this.args],
      { stdio: 'ignore' },
    );
    this.child = child;
    await untilAnswers(this.port, child, 'redis-server');
  }

  /** SIGTERM lets it write its files and exit; SIGKILL is a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill(signal);
    await exited(child);
  }

  client(): Redis {
    return new Redis({ port: this.port, host: '127.0.0.1' });
  }

  /**
   * Stops it with SIGTERM, so it ends its own save or AOF-rewrite child first: one forked before a SIGKILL outlived
   * its server and went on writing into the folder, and the removal met a file it had not listed (ENOTEMPTY in a
   * loaded full run; another one's removal failed through all 20 retries). SIGKILL only if it is not gone in 10 s.
   */
  async destroy(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await terminate(child, 10_000);
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
}

/** A redis-sentinel (Debian's package) watching `master` at `primaryPort` under `name`. */
export class TestSentinel {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  /**
   * Short timings so a test sees a failover within seconds: the primary is judged down after `downAfterMs`, and
   * a failover that stalls is retried after `failoverTimeoutMs`.
   */
  static async start(
    name: string,
    primaryPort: number,
    opts: { quorum?: number; downAfterMs?: number; failoverTimeoutMs?: number } = {},
  ): Promise<TestSentinel> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'nl-sentinel-'));
    // Sentinel rewrites its configuration file as it learns the topology, so each needs a writable file of its own.
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primaryPort} ${opts.quorum ?? 2}`,
        `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} ${opts.failoverTimeoutMs ?? 3000}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-sentinel', [conf], { stdio: 'ignore' });
    await untilAnswers(port, child, 'redis-sentinel');
    return new TestSentinel(port, child, dir);
  }

  /** The primary's port as this Sentinel sees it now. */
  async primaryPort(name: string): Promise<number | null> {
    const c = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const r = (await c.call('SENTINEL', 'get-master-addr-by-name', name)) as [string, string] | null;
      return r ? Number(r[1]) : null;
    } finally {
      c.disconnect();
    }
  }

  async destroy(): Promise<void> {
    this.child.kill('SIGKILL');
    await exited(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
