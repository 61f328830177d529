import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliProcess } from '../support/cli-process';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { deleteKeys, eventually, startTestApp, TEST_SECRETS, type TestApp } from '../support/test-app';
import { parseCsv } from '../support/csv';
import { seedArticles, seedSubscribers } from '../support/seed';

/** Runs the real CLI in a child process and waits for it to exit by itself. */
const cli = cliProcess;

// Every CLI run is a new Node process loading the service through tsx: about 3 s of CPU here. The newsletter test
// makes a dozen; alone it took 26 s, and in a full run on 2026-12-02, sharing two cores with another test file, it
// passed Jest's 60 s.
jest.setTimeout(180_000);

function cliEnv(prefix: string, dataDir: string): Record<string, string> {
  return {
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    ...TEST_SECRETS,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
  };
}

describe('operator CLI', () => {
  const prefix = `tcli${randomBytes(4).toString('hex')}`;
  let dataDir: string;
  let env: Record<string, string>;
  let sink: SmtpSink;
  let app: TestApp;
  /** Flipped by the pause test: the sink then defers every recipient with a 450. */
  let deferAll = false;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nl-cli-'));
    env = cliEnv(prefix, dataDir);
    sink = await startSmtpSink({ rcptResponse: () => (deferAll ? 450 : undefined) });
    // The workers run here, in the test process, on the CLI's prefix: the CLI only enqueues and watches.
    app = await startTestApp({ prefix, smtpUrl: sink.url, env: { CAMPAIGN_MAX_CONSECUTIVE_FAILURES: '5' } });
  });
  afterAll(async () => {
    await app?.stop();
    await sink?.close();
    await deleteKeys(`${prefix}:*`);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('--help lists every command, and each command has its own help', async () => {
    const [main, send, group] = await Promise.all([
      cli(env, ['--help']),
      cli(env, ['campaign', 'send', '--help']),
      cli(env, ['subscribers', '--help']),
    ]);
    expect(main.code).toBe(0);
    for (const c of [
      'articles add',
      'articles list',
      'subscribers list',
      'subscribers stats',
      'subscribers export [--format csv|ndjson] [--out FILE]',
      'subscribers import',
      'subscribers show',
      'subscribers erase',
      'newsletter create',
      'newsletter list',
      'newsletter show',
      'newsletter update',
      'newsletter runs',
      'campaign create',
      'campaign list',
      'campaign preview',
      'campaign test',
      'campaign send <id> [--follow]',
      'campaign status',
      'campaign pause',
      'campaign resume',
      'campaign cancel',
      'outbox [--limit N] [--json]',
    ]) {
      expect(main.stdout).toContain(c);
    }
    expect(main.stdout).toMatch(/Exit codes: 0 done/);
    expect(send.code).toBe(0);
    expect(send.stdout).toContain('Usage: npm run cli -- campaign send <id> [--follow]');
    expect(send.stdout).toContain('--follow');
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('subscribers import <file|-> [--format csv|ndjson]');
  });

  test('usage errors exit 2 with a precise message and a pointer to the help, before connecting anywhere', async () => {
    // An unreachable Redis proves nothing connected: a usage error must not wait for one.
    const offline = { ...env, REDIS_URL: 'redis://127.0.0.1:1' };
    const [badId, unknownOption, missingTo, unknownCommand, noFormat] = await Promise.all([
      cli(offline, ['campaign', 'send', 'abc']),
      cli(offline, ['campaign', 'send', '1', '--folow']),
      cli(offline, ['campaign', 'test', '1']),
      cli(offline, ['campaign', 'frobnicate']),
      cli(offline, ['subscribers', 'import', '-']),
    ]);
    expect(badId).toMatchObject({ code: 2, stdout: '' });
    expect(badId.stderr).toContain('error: campaign id must be a positive whole number, got "abc"');
    expect(badId.stderr).toContain("Run 'npm run cli -- campaign send --help' for usage.");
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain('unknown option --folow for "campaign send". Did you mean --follow?');
    expect(missingTo.code).toBe(2);
    expect(missingTo.stderr).toContain('missing --to');
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('unknown command "campaign frobnicate"');
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toContain('needs --format');
  });

  test('a failure after boot exits 1 with the reason', async () => {
    const [missing, offline] = await Promise.all([
      cli(env, ['campaign', 'status', '999999']),
      cli({ ...env, REDIS_URL: 'redis://127.0.0.1:1' }, ['campaign', 'list']),
    ]);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toContain('error: No campaign 999999');
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain('Redis does not answer at redis://127.0.0.1:1');
  });

  test('newsletter create, list, show and update; a schedule too often exits 1 naming the field', async () => {
    const created = await cli(env, [
      'newsletter',
      'create',
      'morning',
      '--name',
      'The Morning Briefing',
      '--categories',
      'Politics, Business',
      '--cron',
      '0 7 * * *',
      '--timezone',
      'Europe/London',
      '--min-articles',
      '2',
    ]);
    expect(created).toMatchObject({
      code: 0,
      stdout: 'created newsletter morning (digest, 0 7 * * * Europe/London): The Morning Briefing\n',
    });
    const [list, tooOften, halfSchedule, nothing] = await Promise.all([
      cli(env, ['newsletter', 'list']),
      cli(env, ['newsletter', 'update', 'morning', '--cron', '*/2 * * * *', '--timezone', 'UTC']),
      cli(env, ['newsletter', 'update', 'morning', '--timezone', 'UTC']),
      cli(env, ['newsletter', 'update', 'morning']),
    ]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SLUG\s+MODE\s+NEXT RUN\s+CATEGORIES\s+NAME$/);
    // The next 07:00 in London: 06:00 or 07:00 UTC, by the season.
    expect(lines[1]).toMatch(
      /^morning\s+digest, 0 7 \* \* \* Europe\/London\s+\d{4}-\d\d-\d\dT0[67]:00:00\.000Z\s+Politics, Business\s+The Morning Briefing$/,
    );
    expect(lines[2]).toMatch(/^news \(default\)\s+digest, sent by hand\s+all\s+/);
    expect(tooOften.code).toBe(1);
    expect(tooOften.stderr).toContain('error: schedule.cron fires more often than every 5 minutes');
    expect(halfSchedule.code).toBe(2);
    expect(halfSchedule.stderr).toContain('--cron and --timezone go together');
    expect(nothing.code).toBe(2);

    const updated = await cli(env, [
      'newsletter',
      'update',
      'morning',
      '--mode',
      'alerts',
      '--no-schedule',
      '--alerts-per-day',
      '3',
    ]);
    expect(updated).toMatchObject({
      code: 0,
      stdout: 'updated newsletter morning (alerts, at most 3 a day): The Morning Briefing\n',
    });
    const shown = await cli(env, ['newsletter', 'show', 'morning', '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(await app.container.newsletters.get('morning'));
    expect(JSON.parse(shown.stdout)).toMatchObject({
      mode: 'alerts',
      alertsPerDay: 3,
      categories: ['Politics', 'Business'],
    });

    // --private keeps a newsletter off the signup and preference pages; --public undoes it; both at once is a usage error.
    const [hidden, both] = await Promise.all([
      cli(env, ['newsletter', 'create', 'insiders', '--name', 'Insiders', '--private']),
      cli(env, ['newsletter', 'update', 'morning', '--public', '--private']),
    ]);
    expect(hidden.code).toBe(0);
    expect((await app.container.newsletters.get('insiders')).public).toBe(false);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--public and --private contradict each other');
    const [listed, shownPrivate] = await Promise.all([
      cli(env, ['newsletter', 'list']),
      cli(env, ['newsletter', 'show', 'insiders']),
    ]);
    expect(listed.stdout).toMatch(/^insiders \(private\)\s+/m);
    expect(shownPrivate.stdout).toMatch(/^public\s+no \(imports and operators only\)$/m);
    expect((await cli(env, ['newsletter', 'update', 'insiders', '--public'])).code).toBe(0);
    expect((await app.container.newsletters.get('insiders')).public).toBe(true);
    expect(JSON.parse(shown.stdout)).not.toHaveProperty('schedule');
  });

  let campaignId: number;

  test('articles add and list: added once per url, shown in a table; a bad url exits 1', async () => {
    const first = await cli(env, [
      'articles',
      'add',
      '--title',
      'UN rights chief’s China visit draws criticism',
      '--url',
      'https://news.test/cli/1',
      '--author',
      'Staff Reporter',
      '--summary',
      'Groups say an opportunity was missed.',
      '--categories',
      'World, Human rights',
    ]);
    expect(first.code).toBe(0);
    const [stored] = await app.container.articles.list({ status: 'all' });
    expect(stored.categories).toEqual(['World', 'Human rights']);
    expect(first.stdout).toMatch(/^added article \d+: UN rights chief’s China visit draws criticism\n$/);

    const jsonFile = join(dataDir, 'articles.json');
    writeFileSync(
      jsonFile,
      JSON.stringify([
        { title: 'Second story', url: 'https://news.test/cli/2', publishedAt: '2026-11-26T08:00:00Z' },
        { title: 'Same url again', url: 'https://news.test/cli/1' },
      ]),
    );
    const [fromJson, bad] = await Promise.all([
      cli(env, ['articles', 'add', '--json', jsonFile]),
      cli(env, ['articles', 'add', '--title', 'Bad', '--url', 'ftp://news.test/x']),
    ]);
    expect(fromJson.code).toBe(0);
    expect(fromJson.stdout).toMatch(/added article \d+: Second story\n/);
    expect(fromJson.stdout).toMatch(/article \d+ already exists with this url, unchanged: UN rights chief/);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error: url must be an absolute http:// or https:// URL');

    const list = await cli(env, ['articles', 'list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+PUBLISHED\s+CAMPAIGN\s+TITLE$/);
    expect(lines).toHaveLength(3);
    expect(list.stdout).toContain('UN rights chief’s China visit draws criticism');
    expect(list.stdout).toContain('2026-11-26 08:00:00Z  new       Second story');
  });

  test('campaign create, then preview writes an HTML file with the article in it and prints its path', async () => {
    const [unknown, created] = await Promise.all([
      cli(env, ['campaign', 'create', '--newsletter', 'monthly']),
      cli(env, ['campaign', 'create', '--subject', 'Today at the Gazette', '--preheader', 'Rights, rates and more']),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error: newsletter "monthly" does not exist');
    expect(created.code).toBe(0);
    const m = /^created campaign (\d+) \(draft\) in news with 2 articles: Today at the Gazette$/m.exec(created.stdout);
    expect(m).not.toBeNull();
    campaignId = Number(m![1]);
    expect((await app.container.campaigns.get(campaignId)).preheader).toBe('Rights, rates and more');

    const out = join(dataDir, 'preview.html');
    // Without --out the file goes to a new temporary folder, never into the working directory.
    const [explicit, byDefault] = await Promise.all([
      cli(env, ['campaign', 'preview', String(campaignId), '--out', out]),
      cli(env, ['campaign', 'preview', String(campaignId)], { cwd: dataDir }),
    ]);
    expect(explicit).toMatchObject({ code: 0, stdout: `${out}\n` });
    expect(explicit.stderr).toMatch(/^HTML: \d+\.\d KB of 100\.0 KB allowed \(Gmail clips longer mails\)$/m);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('UN rights chief’s China visit draws criticism');
    expect(html).toContain('Second story');
    expect(byDefault.code).toBe(0);
    const temporary = byDefault.stdout.trim();
    expect(temporary.startsWith(join(tmpdir(), 'newsletter-preview-'))).toBe(true);
    expect(temporary.endsWith(`campaign-${campaignId}.html`)).toBe(true);
    expect(readFileSync(temporary, 'utf8')).toBe(html);
    expect(existsSync(join(dataDir, `campaign-${campaignId}.html`))).toBe(false);
  });

  test('campaign status --json prints the campaign as the admin API does', async () => {
    // With the service's settings: a draft is rendered to be measured, and its links and names count.
    const asService = {
      ...env,
      PUBLIC_URL: app.base,
      SITE_NAME: 'The Test Gazette',
      POSTAL_ADDRESS: '1 Test Street, Testville',
    };
    const r = await cli(asService, ['campaign', 'status', String(campaignId), '--json']);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({
      id: campaignId,
      status: 'draft',
      subject: 'Today at the Gazette',
      total: 0,
      sent: 0,
      failed: 0,
      skipped: 0,
      bounced: 0,
      bouncedInSession: 0,
      lateBounces: 0,
      delivered: 0,
      complained: 0,
      bounceRate: 0,
      complaintRate: 0,
    });
    const api = await fetch(`${app.base}/api/admin/campaigns/${campaignId}`, { headers: app.adminHeaders });
    const status = (await api.json()) as { htmlBytes: number };
    expect(printed).toEqual(status);
    expect(status.htmlBytes).toBeGreaterThan(5000);
    const text = await cli(env, ['campaign', 'status', String(campaignId)]);
    expect(text.stdout).toMatch(/^html\s+\d+\.\d KB of 100\.0 KB allowed/m);
  });

  test('subscribers import reads a semicolon-separated export with Mailchimp header names, and a quoted line break stays in its field', async () => {
    const file = join(dataDir, 'excel.csv');
    writeFileSync(
      file,
      '\ufeff"Email Address";"First Name";"Last Name";consent_at;consentSource;Notes\r\n' +
        'excel-a@cli.test;Ada;Lovelace;2024-01-01T00:00:00Z;fair;"call back:\nmallory@cli.test;M;X;2024-01-01;fair;"\r\n' +
        'excel-b@cli.test;Bob;;2024-01-01T00:00:00Z;fair;\r\n',
    );
    // Into a newsletter of its own, so the campaign of a test below does not reach these readers.
    await app.container.newsletters.create({ slug: 'excel', name: 'Excel' });
    const run = await cli(env, ['subscribers', 'import', file, '--newsletter', 'excel']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`imported 2 of 2 rows from ${file} into excel`);
    expect(await app.container.subscribers.getByEmail('excel-a@cli.test')).toMatchObject({ name: 'Ada Lovelace' });
    expect(await app.container.subscribers.getByEmail('mallory@cli.test')).toBeNull();

    writeFileSync(file, 'Mail;Phone\nx@cli.test;1\n');
    const refused = await cli(env, ['subscribers', 'import', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Columns found: "Mail", "Phone".');
  });

  test('subscribers import --newsletter makes the rows readers of that newsletter; list --newsletter shows them; an unknown slug exits 1', async () => {
    await app.container.newsletters.create({ slug: 'arts', name: 'Arts' });
    const file = join(dataDir, 'arts.csv');
    writeFileSync(
      file,
      'email,name,consentAt,consentSource\n' +
        'painter@arts.cli.test,Painter,2024-01-01T00:00:00Z,fair\n' +
        'sculptor@arts.cli.test,,2024-01-01T00:00:00Z,fair\n',
    );
    const [imported, unknown] = await Promise.all([
      cli(env, ['subscribers', 'import', file, '--newsletter', 'arts']),
      cli(env, ['subscribers', 'import', file, '--newsletter', 'sport']),
    ]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`imported 2 of 2 rows from ${file} into arts`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('newsletter "sport" does not exist');

    const listed = await cli(env, ['subscribers', 'list', '--newsletter', 'arts', '--json']);
    expect(listed.code).toBe(0);
    const page = JSON.parse(listed.stdout) as { subscribers: { email: string; newsletters: string[] }[] };
    expect(page.subscribers.map((s) => [s.email, s.newsletters])).toEqual([
      ['painter@arts.cli.test', ['arts']],
      ['sculptor@arts.cli.test', ['arts']],
    ]);
    // Not readers of the default newsletter, so the campaigns of the tests below do not reach them.
    const painter = (await app.container.subscribers.getByEmail('painter@arts.cli.test'))!;
    expect(await app.container.subscribers.pageMemberIds('news', painter.id - 1, 1)).not.toContain(painter.id);
  });

  test('subscribers list, stats and export show the audience as the admin API does; export writes a complete file', async () => {
    // Unsubscribed, so the campaigns of the tests below still go to their own active people only.
    await seedSubscribers(app.container, 1200, { domain: 'audience.cli.test', status: 'unsubscribed' });
    const now = new Date().toISOString();
    const consent = { at: now, ip: '', userAgent: '', termsVersion: '1', termsHash: '', source: '+form, "footer"' };
    await app.container.subscribers.create({
      email: 'Quoted@Audience.Cli.Test',
      name: 'Doe, "Jane"\nline two',
      status: 'pending',
      consent,
      now,
      newsletters: ['news'],
    });
    const held = [];
    for await (const page of app.container.audience.exportPages()) held.push(...page);
    const file = join(dataDir, 'audience.csv');

    const [stats, pending, search, exported, badFormat, badStatus] = await Promise.all([
      cli(env, ['subscribers', 'stats', '--json']),
      cli(env, ['subscribers', 'list', '--status', 'pending', '--search', 'QUOTED@', '--json']),
      cli(env, ['subscribers', 'list', '--search', 'reader1', '--limit', '3']),
      cli(env, ['subscribers', 'export', '--format', 'csv', '--out', file]),
      cli(env, ['subscribers', 'export', '--format', 'xlsx']),
      cli(env, ['subscribers', 'list', '--status', 'gone']),
    ]);

    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toEqual(await app.container.audience.stats());
    expect(pending.code).toBe(0);
    const page = JSON.parse(pending.stdout) as { subscribers: { email: string }[]; nextCursor: string | null };
    expect(page).toMatchObject({ subscribers: [{ email: 'Quoted@Audience.Cli.Test' }], nextCursor: null });
    // The API's page, in address order ('0' sorts before '@', so reader1000@ comes before reader100@).
    expect(search.code).toBe(0);
    const first3 = (await app.container.audience.list({ q: 'reader1', limit: 3 })).subscribers.map((s) => s.email);
    expect(first3).toEqual([
      'reader1000@audience.cli.test',
      'reader1001@audience.cli.test',
      'reader1002@audience.cli.test',
    ]);
    expect(search.stdout.split('\n').filter((l) => l.includes('@audience.cli.test'))).toEqual(
      first3.map((email) => expect.stringContaining(` ${email} `) as unknown as string),
    );
    expect(search.stdout).toMatch(/^more: --cursor \S+$/m);

    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe('');
    expect(exported.stderr).toContain(`exported ${held.length.toLocaleString('en-US')} people as csv to ${file}`);
    expect(existsSync(`${file}.partial`)).toBe(false);
    const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'));
    expect(header.slice(0, 3)).toEqual(['email', 'name', 'status']);
    expect(rows.map((r) => [r[0], r[1], r[2]])).toEqual(held.map((s) => [s.email, s.name, s.status]));
    const quoted = rows.find((r) => r[0] === 'Quoted@Audience.Cli.Test')!;
    // The consent source starts with +, which a spreadsheet would take for a formula.
    expect(quoted[9]).toBe(`'+form, "footer"`);

    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--format must be csv or ndjson, got "xlsx"');
    expect(badStatus.code).toBe(1);
    expect(badStatus.stderr).toContain('error: status must be one of pending, active, unsubscribed, bounced');
  });

  test('campaign send --follow watches the workers deliver, exits 0 when sent and prints the final counts', async () => {
    await seedSubscribers(app.container, 60, { domain: 'cli.test' });
    const r = await cli(env, ['campaign', 'send', String(campaignId), '--follow'], { timeoutMs: 60000 });
    expect(r.stderr).not.toContain('no worker');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`campaign ${campaignId} is sending to 60 active subscribers`);
    expect(r.stdout).toMatch(new RegExp(`campaign ${campaignId} sent: 60 sent, 0 failed, 0 bounced, 0 skipped of 60`));
    // Not a terminal: progress comes as whole lines, the last one complete.
    expect(r.stderr).toMatch(/\[#+\] 100% 60\/60 sent · 0 failed · 0 bounced · 0 skipped · [\d.,]+ msg\/s · sent\n/);
    expect(r.stderr).not.toContain('\r');
    expect(sink.messages).toHaveLength(60);
    expect(new Set(sink.messages.flatMap((m) => m.to)).size).toBe(60);

    const status = await cli(env, ['campaign', 'status', String(campaignId)]);
    expect(status.stdout).toMatch(/status\s+sent/);
    expect(status.stdout).toMatch(/sent\s+60\n/);
    expect(status.stdout).toMatch(/delivered\s+60\n/);
    expect(status.stdout).toMatch(/bounced\s+0 \(0 in the SMTP session, 0 reported later\)\n/);
    expect(status.stdout).toMatch(/bounce rate\s+0\.00% of 60 handed off\n/);
    expect(status.stdout).toMatch(/complaint rate\s+0\.00% of delivered\n/);

    // A complaint reported later shows in the status and its rate.
    const sent = sink.messages[0];
    const recipient = await app.container.subscribers.getByEmail(sent.to[0]);
    const token = app.container.tokens.issueReturn(recipient!.id, campaignId);
    await app.container.feedback.receive({
      source: 'mailbox',
      eventId: 'cli-1',
      type: 'complaint',
      returnToken: token,
    });
    const after = await cli(env, ['campaign', 'status', String(campaignId)]);
    expect(after.stdout).toMatch(/complained\s+1\n/);
    expect(after.stdout).toMatch(/complaint rate\s+1\.67% of delivered\n/);
  });

  test('campaign send --follow exits non-zero with the reason when the campaign pauses itself', async () => {
    const added = await cli(env, ['articles', 'add', '--title', 'Third story', '--url', 'https://news.test/cli/3']);
    expect(added.code).toBe(0);
    const created = await cli(env, ['campaign', 'create']);
    const id = Number(/created campaign (\d+)/.exec(created.stdout)![1]);
    deferAll = true;
    try {
      const r = await cli(env, ['campaign', 'send', String(id), '--follow'], { timeoutMs: 60000 });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        new RegExp(`campaign ${id} paused: paused after \\d+ consecutive failed sends; last error: .*450`),
      );
      expect(r.stderr).toContain(`campaign resume ${id}`);
    } finally {
      deferAll = false;
      await cli(env, ['campaign', 'cancel', String(id)]);
    }
  });
});

describe('operator CLI without a worker', () => {
  let app: TestApp;
  let dataDir: string;

  beforeAll(async () => {
    app = await startTestApp({ workers: false });
    dataDir = mkdtempSync(join(tmpdir(), 'nl-cli-'));
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('campaign send warns that nothing moves until a worker runs', async () => {
    await seedSubscribers(app.container, 3);
    await seedArticles(app.container, 1);
    const c = await app.container.campaigns.create({});
    const r = await cli(cliEnv(app.prefix, dataDir), ['campaign', 'send', String(c.id)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`campaign ${c.id} is sending to 3 active subscribers`);
    expect(r.stderr).toContain(
      'warning: no worker is running, so nothing will be sent until `npm run worker` or `npm start` runs',
    );
    await app.container.campaigns.cancel(c.id);
  });
});

describe('outbox', () => {
  let app: TestApp;

  beforeAll(async () => {
    // No SMTP_URL: the service writes its mail to DATA_DIR/outbox, as on a newcomer's machine.
    app = await startTestApp({});
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(app.dataDir, { recursive: true, force: true });
  });

  const written = () => {
    try {
      return readdirSync(join(app.dataDir, 'outbox'));
    } catch {
      return [];
    }
  };
  const signup = (email: string, name: string) =>
    fetch(`${app.base}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, name, consent: true, termsVersion: '2026-01' }),
    });

  test('lists the newest mails with kind, recipient, subject and their links decoded, with no Redis needed', async () => {
    // Before anything is written, an empty outbox says so.
    const offline = { ...cliEnv(app.prefix, app.dataDir), REDIS_URL: 'redis://127.0.0.1:1' };
    const empty = await cli(offline, ['outbox']);
    expect(empty).toMatchObject({ code: 0, stdout: `No mail in ${join(app.dataDir, 'outbox')} yet.\n` });

    await signup('Ann@Outbox.test', 'Ann');
    await eventually(() => written().length === 1, 10000, 'the first mail');
    await new Promise((ok) => setTimeout(ok, 20));
    await signup('bob@outbox.test', 'Bob');
    await eventually(() => written().length === 2, 10000, 'the second mail');
    expect(written().some((f) => /^\d{8}T\d{6}Z-confirm-ann_at_outbox\.test-[0-9a-f]+\.eml$/.test(f))).toBe(true);

    const [text, json, one] = await Promise.all([
      cli(offline, ['outbox']),
      cli(offline, ['outbox', '--json']),
      cli(offline, ['outbox', '--limit', '1']),
    ]);
    expect(text.code).toBe(0);
    const entries = JSON.parse(json.stdout) as {
      kind: string;
      to: string;
      subject: string;
      file: string;
      links: { text: string; url: string }[];
    }[];
    expect(entries.map((e) => [e.kind, e.to])).toEqual([
      ['confirm', 'bob@outbox.test'],
      ['confirm', 'Ann@outbox.test'],
    ]);
    expect(entries[0].subject).toBe('Please confirm your subscription');
    // The link in the listing is the one the service signed: opening it confirms Bob.
    const confirm = entries[0].links.find((l) => l.text === 'Confirm my subscription')!;
    expect(confirm.url).toMatch(new RegExp(`^${app.base}/confirm\\?token=[\\w.-]+$`));
    const page = await fetch(confirm.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Confirm');
    expect(text.stdout).toContain(`Confirm my subscription  ${confirm.url}`);
    expect(text.stdout).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z {2}confirm {2}bob@outbox\.test$/m);
    expect(one.stdout).toContain('bob@outbox.test');
    expect(one.stdout).not.toContain('Ann@outbox.test');
  });
});
