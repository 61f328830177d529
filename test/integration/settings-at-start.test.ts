import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliProcess } from '../support/cli-process';
import { TEST_SECRETS } from '../support/test-app';

const ROOT = join(__dirname, '..', '..');
let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'nl-settings-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The service started as `npm run api` / `npm run worker` start it, with `bad` added; resolves when it exits. */
function start(role: 'api' | 'worker' | 'all', bad: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string; ms: number }>((ok, fail) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), role], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...TEST_SECRETS,
        NODE_ENV: 'test',
        // A port nothing listens on: the settings must be refused before any connection is tried.
        REDIS_URL: 'redis://127.0.0.1:1',
        PORT: '0',
        DATA_DIR: dataDir,
        ...bad,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${role} did not exit within 30 s; stderr: ${stderr}`));
    }, 30_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      ok({ code, stderr, ms: Date.now() - started });
    });
  });
}

describe('a bad setting stops the service at start with one line naming it', () => {
  test.each([
    [
      'api',
      { FEED_URL: 'https://www.example.com/feed.xml', FEED_POLL_CRON: 'every 5 min' },
      /^Invalid configuration: FEED_POLL_CRON: must be a cron pattern such as "\*\/15 \* \* \* \*" \(every 15 minutes\): /,
    ],
    ['worker', { FEED_POLL_CRON: 'every 5 min' }, /^Invalid configuration: FEED_POLL_CRON: must be a cron pattern/],
    [
      'api',
      { SMTP_URL: 'http://x' },
      /^Invalid configuration: SMTP_URL: must start with smtp:\/\/ or smtps:\/\/ \(got http:\), like smtps:\/\//,
    ],
    [
      'all',
      { PUBLIC_URL: 'news.example.com' },
      /^Invalid configuration: PUBLIC_URL: must be a URL starting with http:\/\/ or https:\/\//,
    ],
    ['api', { MAIL_FROM: 'Newsletter' }, /^Invalid configuration: MAIL_FROM: must be one mail address/],
    [
      'worker',
      { REDIS_URL: 'http://127.0.0.1:6379' },
      /^Invalid configuration: REDIS_URL: must start with redis:\/\/ or rediss:\/\//,
    ],
  ] as const)('%s with %j exits 1', async (role, bad, message) => {
    const run = await start(role, bad);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(message)]);
  });

  test('the CLI refuses the same setting the same way', async () => {
    const run = await cliProcess(
      { ...TEST_SECRETS, REDIS_URL: 'redis://127.0.0.1:1', DATA_DIR: dataDir, SMTP_URL: 'http://x' },
      ['subscribers', 'stats'],
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/SMTP_URL: must start with smtp:\/\/ or smtps:\/\//);
  });
});
