import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { TEST_REDIS, TEST_SECRETS } from './test-app';

const ROOT = join(__dirname, '..', '..');
// The project's own tsx, called directly rather than through npx so nothing is looked up at run time.
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real operator CLI in a child process with only `env` (and PATH, HOME, NODE_ENV=test) as its environment,
 * and waits for it to exit by itself: the CLI must end once its work is done, so one that hangs is killed and fails
 * the test instead of holding Jest.
 */
export function cliProcess(
  env: Record<string, string>,
  args: string[],
  opts: {
    cwd?: string;
    timeoutMs?: number;
    /** Written to the child's stdin, then closed. Default: no stdin. */ input?: string;
  } = {},
): Promise<CliRun> {
  const timeoutMs = opts.timeoutMs ?? 30000;
  return new Promise((ok, fail) => {
    const child = spawn(TSX, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', ...env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(
        new Error(`cli ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`),
      );
    }, timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      ok({ code, stdout, stderr });
    });
  });
}

/** The CLI on a test app's key prefix and data folder, so both see the same data. */
export function runCli(
  prefix: string,
  dataDir: string,
  args: string[],
  timeoutMs = 30000,
  extra: { env?: Record<string, string>; input?: string } = {},
): Promise<CliRun> {
  const env = {
    REDIS_URL: `redis://${TEST_REDIS.host}:${TEST_REDIS.port}`,
    REDIS_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...TEST_SECRETS,
    ...extra.env,
  };
  return cliProcess(env, args, { timeoutMs, input: extra.input });
}
