import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deleteKeys, eventually, TEST_REDIS, TEST_SECRETS } from '../support/test-app';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

/**
 * The service as the container runs it: `npm run build`'s script compiles into a folder laid out like the image
 * (dist/ beside node_modules/), and `node dist/src/main.js all` starts from there, with no tsx and no npm, under
 * NODE_ENV=production with only the settings a deployment gives it. What breaks only when compiled (a path computed
 * from __dirname to the templates or the pages' assets, a worker process forked from the entry file) breaks here.
 */
let app: string;
let sink: SmtpSink;
let service: ChildProcessByStdio<null, Readable, Readable> | undefined;
let workerPid: number | undefined;
const prefix = `tbuild${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'nl-build-'));
  // Tens of seconds on a quiet machine: tsc over src/ and workers/.
  await run(process.execPath, [join(ROOT, 'scripts', 'build.cjs'), join(app, 'dist')], { cwd: ROOT, timeout: 240_000 });
  // The image has the production node_modules beside dist/; here the project's own stand in for them.
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
  sink = await startSmtpSink();
}, 300_000);

afterAll(async () => {
  // After a failure: the service is asked to stop first, since SIGKILL to it would orphan its forked worker process
  // (which keeps Jest's stdout pipe open); whatever is still alive after that is killed, the worker by its pid.
  if (service && service.exitCode === null && service.signalCode === null) {
    const gone = new Promise((ok) => service!.once('exit', ok));
    service.kill('SIGTERM');
    await Promise.race([gone, new Promise((ok) => setTimeout(ok, 10_000))]);
    service.kill('SIGKILL');
  }
  if (workerPid) {
    try {
      process.kill(workerPid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
  await sink?.close();
  await deleteKeys(`${prefix}:*`);
  if (app) rmSync(app, { recursive: true, force: true });
});

test('the compiled build serves, signs up, mails the confirmation through SMTP, and stops on SIGTERM with exit 0', async () => {
  service = spawn(process.execPath, [join('dist', 'src', 'main.js'), 'all'], {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      PORT: '0',
      PUBLIC_URL: 'https://news.example.com',
      REDIS_URL: `redis://${TEST_REDIS.host}:${TEST_REDIS.port}`,
      REDIS_PREFIX: prefix,
      SMTP_URL: sink.url,
      TERMS_VERSION: '2026-01',
      ...TEST_SECRETS,
      // One more worker process, forked from the compiled entry file: the fork must find it under dist/.
      WORKER_PROCESSES: '2',
      // No worker ops port: 3001 by default, which another test or service on this machine may hold.
      WORKER_PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  service.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  service.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    service!.once('exit', (code, signal) => ok({ code, signal })),
  );

  const port = await eventually(
    () => {
      if (service!.exitCode !== null) throw new Error(`the build exited with ${service!.exitCode}: ${stderr}`);
      return /http:\s+http:\/\/localhost:(\d+)\//.exec(stdout)?.[1];
    },
    60_000,
    `the start banner (stdout so far: ${stdout.slice(0, 500)})`,
  );
  const base = `http://127.0.0.1:${port}`;
  workerPid = Number(
    await eventually(
      () => /"event":"worker_process.started"[^\n]*"pid":(\d+)/.exec(stdout)?.[1],
      30_000,
      'the second worker process',
    ),
  );

  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  await eventually(async () => (await fetch(`${base}/readyz`)).status === 200, 30_000, '/readyz 200');
  expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ status: 'ready' });
  // The signup page and its assets are files read beside the compiled modules.
  for (const path of ['/', '/assets/site.css', '/assets/signup.js'])
    expect((await fetch(`${base}${path}`)).status).toBe(200);

  const email = `built.${prefix}@example.com`;
  const res = await fetch(`${base}/api/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, consent: true, termsVersion: '2026-01' }),
  });
  expect(res.status).toBe(202);
  // The confirmation is rendered from the MJML templates copied into the build, and sent by a worker.
  await eventually(() => sink.to(email).length > 0, 30_000, `the confirmation mail to ${email}`);
  const mail = await sink.to(email)[0].parse();
  expect(mail.text).toContain('https://news.example.com/confirm?token=');

  const signalled = Date.now();
  service.kill('SIGTERM');
  const end = await exited;
  const tookMs = Date.now() - signalled;
  expect(end).toEqual({ code: 0, signal: null });
  expect(tookMs).toBeLessThan(10_000);
  // The forked worker process went with it.
  expect(() => process.kill(workerPid!, 0)).toThrow();
  expect(stderr).toBe('');

  // The operator CLI is compiled too (`node dist/src/cli/main.js` in the container).
  const cli = await run(process.execPath, [join('dist', 'src', 'cli', 'main.js'), '--help'], { cwd: app });
  expect(cli.stdout).toContain('outbox');
}, 180_000);
