import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TEST_SECRETS, type TestApp } from './test-app';

const ROOT = join(__dirname, '..', '..');

/**
 * A worker as operators run it (`npm run worker`), in its own process, on the test app's Redis prefix and
 * delivering to `smtpUrl`. `node --import tsx` keeps it one process: the tsx CLI would put a wrapper in between,
 * and a SIGKILL to the wrapper would leave the real worker running.
 */
export function startWorkerProcess(app: TestApp, smtpUrl: string, settings: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), 'worker'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...TEST_SECRETS,
      NODE_ENV: 'test',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: app.prefix,
      SMTP_URL: smtpUrl,
      PUBLIC_URL: app.base,
      DATA_DIR: app.dataDir,
      LOG_LEVEL: 'error',
      // Tests run many workers at once: none takes the default health port (3001) unless the test asks for one.
      WORKER_PORT: '0',
      // One worker process, as the tests count them, unless a test asks for more (the default, auto, forks one per
      // core, and tests run several services at once).
      WORKER_PROCESSES: '1',
      ...settings,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
