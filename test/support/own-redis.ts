import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A free loopback TCP port (nothing listens on it once this resolves). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => ok(port));
    });
  });
}

/**
 * A redis-server of the test's own, on a loopback port and a temporary folder, for tests that stop, start or
 * configure Redis: the machine's shared Redis on 6379 must never be touched that way.
 */
export class OwnRedis {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'nl-own-redis-'));

  /** `args`: extra redis-server options, e.g. ['--maxmemory-policy', 'allkeys-lru']. */
  constructor(
    readonly port: number,
    private readonly args: string[] = [],
  ) {}

  static async create(args: string[] = []): Promise<OwnRedis> {
    return new OwnRedis(await freePort(), args);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...this.args],
      { stdio: 'ignore' },
    );
    this.child = child;
    const client = new Redis({ port: this.port, lazyConnect: true, retryStrategy: () => 100 });
    client.on('error', () => undefined);
    try {
      const deadline = Date.now() + 10000;
      for (;;) {
        try {
          if (client.status !== 'ready') await client.connect().catch(() => undefined);
          if ((await client.ping()) === 'PONG') return;
        } catch {
          // not yet
        }
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`redis-server on ${this.port} did not start`);
        await new Promise((ok) => setTimeout(ok, 100));
      }
    } finally {
      client.disconnect();
    }
  }

  /** Stops it the hard way (SIGKILL): what a crash or a pulled plug does. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((ok) => {
      child.once('exit', ok);
      child.kill('SIGKILL');
    });
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
