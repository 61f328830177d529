import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { terminate } from './child-exit';
import { freePort } from './free-port';

/** Debian's dovecot-imapd (`.ci/run` installs it); DOVECOT_PATH overrides. */
const DOVECOT = process.env.DOVECOT_PATH ?? '/usr/sbin/dovecot';

/** A Dovecot IMAP server of the test's own, with one user whose mail lives in a temporary folder. */
export interface TestDovecot {
  port: number;
  user: string;
  password: string;
  /** A FEEDBACK_IMAP_URL for one of the user's mailboxes (default INBOX). */
  url(mailbox?: string): string;
  /** A logged-in IMAP client of the user; the caller logs it out. */
  client(): Promise<ImapFlow>;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts Dovecot on a free loopback port with a configuration generated into a temporary folder: its own base_dir
 * and state_dir (so it shares nothing with a system Dovecot), maildirs under the folder, a passwd-file with one
 * user, and plaintext logins without TLS (loopback only).
 *
 * Dovecot never runs mail processes as root, so as root (CI) its internal and login processes run as the users
 * Debian's package creates (dovecot, dovenull) and the mail belongs to Debian's `mail` user; as anyone else every
 * process runs as that user, without chroot.
 */
export async function startDovecot(): Promise<TestDovecot> {
  if (!existsSync(DOVECOT)) throw new Error(`${DOVECOT} is missing: install dovecot-imapd (.ci/run does)`);
  const dir = mkdtempSync(join(tmpdir(), 'nl-dovecot-'));
  // The mail user must get through the folder to the maildirs in it.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const user = 'feedback';
  const password = randomBytes(12).toString('hex');
  const owners = processOwners();
  const home = join(dir, 'home');
  mkdirSync(home);
  chownSync(home, owners.mailUid, owners.mailGid);
  // Readable by Dovecot's auth process, which runs as the internal user; the password is this run's only.
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}\n`, { mode: 0o644 });
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, configuration({ dir, port, owners, version: dovecotVersion() }));

  const child = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const log = () => {
    const file = join(dir, 'dovecot.log');
    return stderr + (existsSync(file) ? readFileSync(file, 'utf8') : '');
  };
  try {
    await waitForGreeting(port, exited);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Dovecot did not start: ${(err as Error).message}\n${log()}`, { cause: err });
  }

  const url = (mailbox = 'INBOX') =>
    `imap://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(mailbox).replace(/%2F/g, '/')}`;
  return {
    port,
    user,
    password,
    url,
    async client() {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port,
        secure: false,
        auth: { user, pass: password },
        logger: false,
        disableAutoIdle: true,
      });
      await client.connect();
      return client;
    },
    async stop() {
      await terminate(child, 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Owners {
  internalUser: string;
  internalGroup: string;
  loginUser: string;
  mailUid: number;
  mailGid: number;
  root: boolean;
}

function processOwners(): Owners {
  if (process.getuid?.() !== 0) {
    const me = userInfo();
    const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
    return {
      internalUser: me.username,
      internalGroup: group,
      loginUser: me.username,
      mailUid: me.uid,
      mailGid: me.gid,
      root: false,
    };
  }
  const id = (flag: string, name: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return {
    internalUser: 'dovecot',
    internalGroup: 'dovecot',
    loginUser: 'dovenull',
    mailUid: id('-u', 'mail'),
    mailGid: id('-g', 'mail'),
    root: true,
  };
}

/** Dovecot's major and minor version: 2.4 renamed the settings this configuration needs. */
function dovecotVersion(): { major: number; minor: number } {
  const out = execFileSync(DOVECOT, ['--version'], { encoding: 'utf8' });
  const m = /^(\d+)\.(\d+)/.exec(out.trim());
  if (!m) throw new Error(`cannot read Dovecot's version from "${out.trim()}"`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/**
 * The configuration, in the syntax of the installed version. 2.3 is what Debian 12 ships and what these tests have
 * run on; the 2.4 form follows Dovecot 2.4's upgrade notes (the two version lines first, auth_allow_cleartext for
 * disable_plaintext_auth, mail_driver and mail_path for mail_location, named passdb and userdb blocks, %{user}) and
 * has not been run here.
 */
function configuration(c: { dir: string; port: number; owners: Owners; version: { major: number; minor: number } }) {
  const { dir, port, owners } = c;
  const v24 = c.version.major > 2 || (c.version.major === 2 && c.version.minor >= 4);
  const common = [
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${dir}/dovecot.log`,
    'protocols = imap',
    'listen = 127.0.0.1',
    'ssl = no',
    'auth_mechanisms = plain login',
    `default_internal_user = ${owners.internalUser}`,
    `default_internal_group = ${owners.internalGroup}`,
    `default_login_user = ${owners.loginUser}`,
    `first_valid_uid = ${owners.mailUid}`,
    `first_valid_gid = ${owners.mailGid}`,
    'service imap-login {',
    '  inet_listener imap {',
    `    port = ${port}`,
    '  }',
    '  inet_listener imaps {',
    '    port = 0',
    '  }',
    // Without root there is no chroot to go into.
    ...(owners.root ? [] : ['  chroot =']),
    '}',
    ...(owners.root ? [] : ['service anvil {', '  chroot =', '}']),
  ];
  const home = `${dir}/home/${v24 ? '%{user}' : '%u'}`;
  const version = v24
    ? [
        'dovecot_config_version = 2.4.0',
        'dovecot_storage_version = 2.4.0',
        'auth_allow_cleartext = yes',
        'mail_driver = maildir',
        'mail_path = ~/Maildir',
        // 2.3 makes this namespace when none is configured; 2.4's example configurations spell it out.
        'namespace inbox {',
        '  inbox = yes',
        '}',
        'passdb passwd-file {',
        `  passwd_file_path = ${dir}/passwd`,
        '}',
        'userdb static {',
        '  fields {',
        `    uid = ${owners.mailUid}`,
        `    gid = ${owners.mailGid}`,
        `    home = ${home}`,
        '  }',
        '}',
      ]
    : [
        'disable_plaintext_auth = no',
        'mail_location = maildir:~/Maildir',
        'passdb {',
        '  driver = passwd-file',
        `  args = ${dir}/passwd`,
        '}',
        'userdb {',
        '  driver = static',
        `  args = uid=${owners.mailUid} gid=${owners.mailGid} home=${home}`,
        '}',
      ];
  // 2.4 wants its version line first.
  return [...(v24 ? version.slice(0, 2) : []), ...common, ...(v24 ? version.slice(2) : version), ''].join('\n');
}

/** Resolves once the server greets on `port`; rejects when Dovecot exits first or after 15 s. */
async function waitForGreeting(port: number, exited: Promise<void>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (gone) throw new Error('dovecot exited');
    if (await greets(port)) return;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`no IMAP greeting on port ${port}`);
}

function greets(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = connect(port, '127.0.0.1');
    const done = (v: boolean) => {
      socket.destroy();
      ok(v);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d: Buffer) => done(d.toString().startsWith('* OK')));
  });
}
