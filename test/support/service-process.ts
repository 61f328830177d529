import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRETS } from './test-app';

const ROOT = join(__dirname, '..', '..');

/** Options of `startService`. */
export interface ServiceOptions {
  /** The command: default `node --import tsx src/main.ts <role>`; `['npm', 'start']` runs the README's command. */
  command?: string[];
  role?: 'all' | 'api' | 'worker';
  env?: Record<string, string>;
  /** Own process group (detached), so a test can see and signal everything under it. */
  group?: boolean;
}

/** A service running as operators run it, its output collected. */
export interface ServiceProcess {
  child: ChildProcess;
  /** stdout and stderr, interleaved as they came. */
  output(): string;
  /** Resolves with the output once it matches `re`; rejects after `timeoutMs` or when the process exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal) and when it came. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts the service in its own process with the test secrets, NODE_ENV=test and a fresh DATA_DIR. */
export function startService(opts: ServiceOptions = {}): ServiceProcess {
  const [cmd, ...args] = opts.command ?? [
    process.execPath,
    '--import',
    'tsx',
    join(ROOT, 'src', 'main.ts'),
    opts.role ?? 'all',
  ];
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      ...TEST_SECRETS,
      NODE_ENV: 'test',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'nl-service-')),
      LOG_LEVEL: 'warn',
      WORKER_PORT: '0',
      // One worker process unless a test asks for more: the default (auto) forks one per core, and tests run several
      // services at once.
      WORKER_PROCESSES: '1',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.group ?? false,
  });
  let out = '';
  const listeners = new Set<() => void>();
  const take = (chunk: Buffer) => {
    out += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((ok) =>
    child.once('exit', (code, signal) => {
      ok({ code, signal, at: Date.now() });
      for (const l of listeners) l();
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 90000) {
      return new Promise((ok, fail) => {
        const check = () => {
          if (re.test(out)) {
            done();
            ok(out);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            fail(new Error(`process exited before ${re} appeared; output:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          fail(new Error(`timed out waiting for ${re}; output:\n${out}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** A GET or POST with a deadline, answering the status, the parsed body and how long it took. */
export async function timedFetch(
  url: string,
  init: RequestInit = {},
  timeoutMs = 5000,
): Promise<{ status: number; body: unknown; ms: number }> {
  const started = Date.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, ms: Date.now() - started };
}
