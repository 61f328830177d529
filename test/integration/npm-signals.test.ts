import { execFileSync } from 'node:child_process';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { freePort } from '../support/free-port';
import { seedArticles, seedSubscribers } from '../support/seed';
import { startService, timedFetch, type ServiceProcess } from '../support/service-process';
import { eventually, startTestApp, TEST_REDIS, type TestApp } from '../support/test-app';
import { startWorkerProcess } from '../support/worker-process';

// Real processes on a shared, loaded machine: each start of the service takes seconds.
jest.setTimeout(180_000);

const SETTINGS = {
  SEND_RATE_PER_SECOND: '300',
  DELIVERY_BATCH_SIZE: '50',
  DELIVERY_CONCURRENCY: '4',
  SMTP_MAX_CONNECTIONS: '5',
};

/** Every process whose process group is `pgid`, with its command line: what is still running under the command. */
function processGroup(pgid: number): string[] {
  const ps = execFileSync('ps', ['-eo', 'pgid=,pid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && Number(l.split(/\s+/)[0]) === pgid);
}

let sink: SmtpSink;
let app: TestApp;
const started: ServiceProcess[] = [];

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({ smtpUrl: sink.url, workers: false, env: SETTINGS });
});
afterAll(async () => {
  // Whatever a failed test left: its whole group.
  for (const s of started)
    for (const line of processGroup(s.child.pid!)) {
      try {
        process.kill(Number(line.split(/\s+/)[1]), 'SIGKILL');
      } catch {
        // gone
      }
    }
  await app.stop();
  await sink.close();
});

/** The README's command, as a process manager starts it: its own process group, on the test app's data. */
function npmRun(script: string[], env: Record<string, string> = {}): ServiceProcess {
  const s = startService({
    command: ['npm', ...script],
    group: true,
    env: {
      REDIS_URL: `redis://${TEST_REDIS.host}:${TEST_REDIS.port}`,
      REDIS_PREFIX: app.prefix,
      SMTP_URL: sink.url,
      PUBLIC_URL: app.base,
      LOG_LEVEL: 'info',
      ...SETTINGS,
      ...env,
    },
  });
  started.push(s);
  return s;
}

/** SIGTERM to the one process the manager started (npm), then how long until nothing of its group is left. */
async function stopAndWaitForGroup(s: ServiceProcess): Promise<number> {
  const pgid = s.child.pid!;
  const sentAt = Date.now();
  s.child.kill('SIGTERM');
  await eventually(() => processGroup(pgid).length === 0, 30000, `nothing left of process group ${pgid}`);
  return Date.now() - sentAt;
}

test('SIGTERM to `npm start` mid-campaign stops npm, the service and its worker processes; after a restart nobody is missed and nobody gets two', async () => {
  await seedSubscribers(app.container, 1500);
  await seedArticles(app.container, 1);
  const campaign = await app.container.campaigns.create({});
  await app.container.campaigns.send(campaign.id);

  const npm = npmRun(['start'], { PORT: String(await freePort()), WORKER_PROCESSES: '2' });
  await npm.waitFor(/newsletter all started/, 120000);
  await eventually(() => sink.messages.length >= 300, 120000, '300 messages');
  const pgid = npm.child.pid!;
  const before = processGroup(pgid);
  // npm, the service (node, no tsx supervisor and no shell between), and the second worker process.
  expect(before.some((l) => /main\.ts all/.test(l))).toBe(true);
  expect(before.some((l) => /main\.ts worker/.test(l))).toBe(true);

  const stoppedMs = await stopAndWaitForGroup(npm);
  process.stdout.write(`npm-signals: npm start (${before.length} processes) gone ${stoppedMs} ms after SIGTERM\n`);
  expect(stoppedMs).toBeLessThan(30000);
  // npm waited for the service: the service's last line came before npm exited.
  expect(npm.output()).toMatch(/shutdown\.done/);
  expect((await npm.exited).code).toBe(0);
  const atStop = sink.messages.length;
  expect(atStop).toBeLessThan(1500);
  await new Promise((ok) => setTimeout(ok, 1500));
  expect(sink.messages.length).toBe(atStop);

  const worker = startWorkerProcess(app, sink.url, SETTINGS);
  try {
    const done = await eventually(
      async () => {
        const c = await app.container.campaigns.get(campaign.id);
        return c.status === 'sent' ? c : null;
      },
      90000,
      'the campaign to finish after the restart',
    );
    const recipients = sink.messages.flatMap((m) => m.to);
    expect(new Set(recipients).size).toBe(1500);
    expect(recipients).toHaveLength(1500);
    expect(done).toMatchObject({ total: 1500, sent: 1500 });
  } finally {
    worker.kill('SIGTERM');
    await new Promise((ok) => worker.once('exit', ok));
  }
});

test('SIGTERM to `npm run api` and to `npm run worker` leaves nothing running', async () => {
  const port = await freePort();
  const api = npmRun(['run', 'api'], { PORT: String(port) });
  await api.waitFor(/newsletter api started/, 120000);
  expect((await timedFetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  expect(await stopAndWaitForGroup(api)).toBeLessThan(30000);
  expect((await api.exited).code).toBe(0);

  const workerPort = await freePort();
  const worker = npmRun(['run', 'worker'], { WORKER_PORT: String(workerPort), WORKER_PROCESSES: '2' });
  await worker.waitFor(/newsletter worker started/, 120000);
  expect((await timedFetch(`http://127.0.0.1:${workerPort}/healthz`)).status).toBe(200);
  expect(processGroup(worker.child.pid!).filter((l) => /main\.ts worker/.test(l))).toHaveLength(2);
  expect(await stopAndWaitForGroup(worker)).toBeLessThan(30000);
  expect((await worker.exited).code).toBe(0);
});

test('a worker process whose parent is killed with SIGKILL stops too instead of running on as an orphan', async () => {
  const workerPort = await freePort();
  const worker = npmRun(['run', 'worker'], { WORKER_PORT: String(workerPort), WORKER_PROCESSES: '2' });
  await worker.waitFor(/newsletter worker started/, 120000);
  const forks = () => processGroup(worker.child.pid!).filter((l) => /main\.ts worker/.test(l));
  await eventually(() => forks().length === 2, 60000, 'the parent and its fork');
  // The parent is the service npm started (its child); the fork is the parent's child.
  const ps = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n');
  const parentLine = ps.find((l) => /main\.ts worker/.test(l) && Number(l.trim().split(/\s+/)[1]) === worker.child.pid);
  expect(parentLine).toBeDefined();
  const parent = Number(parentLine!.trim().split(/\s+/)[0]);
  process.kill(parent, 'SIGKILL');
  await eventually(() => forks().length === 0, 30000, 'no worker process left after its parent was killed');
});
