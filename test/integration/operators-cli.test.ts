import { userInfo } from 'node:os';
import { runCli } from '../support/cli-process';
import { startTestApp, TEST_SECRETS, type TestApp } from '../support/test-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field in assertions
type Json = Record<string, any>;

const FAST = { PASSWORD_SCRYPT_N: '1024' };
const PASSWORD = 'piped from a password manager';

/** The CLI and an HTTP server on one prefix: what the CLI writes, the API serves (and the audit log shows). */
describe('operators and the audit log from the CLI', () => {
  let app: TestApp;
  const cli = (args: string[], input?: string) => runCli(app.prefix, app.dataDir, args, 30000, { env: FAST, input });

  beforeAll(async () => {
    app = await startTestApp({ workers: false, env: FAST });
  });
  afterAll(async () => {
    await app.stop();
  });

  test('operators add reads the password from stdin; the new admin signs in with it', async () => {
    const added = await cli(
      ['operators', 'add', 'First@CLI.test', '--role', 'admin', '--name', 'First Admin', '--password-stdin'],
      `${PASSWORD}\n`,
    );
    expect(added.stderr).toBe('');
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toMatch(/^added operator \d+: first@cli\.test \(admin\)$/m);

    const res = await fetch(`${app.base}/admin/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'first@cli.test', password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).actor.name).toBe('First Admin');
  });

  test('refusals: a short password, a taken login, an unknown role, demoting the last admin', async () => {
    const [short, taken, role, last] = await Promise.all([
      cli(['operators', 'add', 'short@cli.test', '--role', 'viewer'], 'too short\n'),
      cli(['operators', 'add', 'first@cli.test', '--role', 'viewer', '--password-stdin'], `${PASSWORD}\n`),
      cli(['operators', 'add', 'x@cli.test', '--role', 'owner']),
      cli(['operators', 'set-role', 'first@cli.test', '--role', 'viewer']),
    ]);
    expect(short).toMatchObject({ code: 1, stderr: 'error: password must be at least 12 characters\n' });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/operator with login first@cli\.test exists/);
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/--role must be one of viewer, editor, admin/);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/last enabled admin cannot be demoted/);
  });

  test('list, set-role, disable and reset-password, each in the audit log as the CLI’s user', async () => {
    expect((await cli(['operators', 'add', 'ed@cli.test', '--role', 'editor'], `${PASSWORD}\n`)).code).toBe(0);
    expect((await cli(['operators', 'set-role', 'ed@cli.test', '--role', 'viewer'])).stdout).toMatch(/is now viewer/);
    const reset = await cli(
      ['operators', 'reset-password', 'ed@cli.test', '--password-stdin'],
      'a brand new password\n',
    );
    expect(reset.code).toBe(0);
    expect((await cli(['operators', 'disable', 'ed@cli.test'])).stdout).toMatch(/is disabled and signed out/);

    const [list, listJson] = await Promise.all([cli(['operators', 'list']), cli(['operators', 'list', '--json'])]);
    expect(list.stdout).toMatch(/^ID\s+EMAIL\s+ROLE\s+STATUS/);
    expect(list.stdout).toMatch(/ed@cli\.test\s+viewer\s+disabled/);
    const json = JSON.parse(listJson.stdout) as Json[];
    expect(json.map((o) => o.email)).toEqual(['first@cli.test', 'ed@cli.test']);

    const audit = await fetch(`${app.base}/api/admin/audit?actor=cli&action=operator.`, {
      headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}` },
    });
    const entries = ((await audit.json()) as Json).entries as Json[];
    expect(entries.map((e) => e.action)).toEqual([
      'operator.disable',
      'operator.reset_password',
      'operator.set_role',
      'operator.create',
      'operator.create',
    ]);
    // Refused commands are not recorded: only two creates, no second set-role for the last admin.
    for (const e of entries) expect(e.actor).toEqual({ kind: 'cli', id: userInfo().username });
    expect(entries[0].object).toEqual({ type: 'operator', id: 'ed@cli.test' });
  });

  test('audit list shows who did what, filters, and pages with a cursor', async () => {
    // An entry by the API too, so the list mixes actors.
    await fetch(`${app.base}/api/admin/articles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Audited', url: 'https://site.test/audited' }),
    });
    const [all, page] = await Promise.all([
      cli(['audit', 'list']),
      cli(['audit', 'list', '--limit', '2', '--actor', 'cli']),
    ]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^AT\s+ACTOR\s+ACTION\s+OBJECT/);
    expect(lines[1]).toMatch(/admin-token\s+article\.create\s+article \d+/);
    expect(all.stdout).toMatch(
      new RegExp(`cli:${userInfo().username}\\s+operator\\.disable\\s+operator ed@cli\\.test`),
    );

    expect(page.stdout.trim().split('\n')).toHaveLength(3);
    const cursor = /--cursor (\S+)/.exec(page.stderr)?.[1];
    expect(cursor).toBeDefined();
    const next = JSON.parse(
      (await cli(['audit', 'list', '--cursor', cursor!, '--actor', 'cli', '--json'])).stdout,
    ) as Json;
    expect(next.entries.map((e: Json) => e.action)).toEqual([
      'operator.set_role',
      'operator.create',
      'operator.create',
    ]);
  });
});
