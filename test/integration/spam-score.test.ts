import { execFile } from 'node:child_process';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { seedLongArticles } from '../support/seed';

/**
 * Every kind of mail, built by the real service, scored by Debian's SpamAssassin with its local rules only (`-L`: no
 * DNS, no network lists). The bar is low on purpose: a clean mail scores 0, and each rule that fires on our own markup
 * (hidden text, low-contrast text, a malformed header) costs every reader's copy the same points.
 */
const MAX_SCORE = 0.5;

/** `spamassassin -L -t` on one message: its score and the rules that fired. */
function spamScore(raw: Buffer): Promise<{ score: number; rules: string }> {
  return new Promise((ok, fail) => {
    // -p /dev/null: no per-user preferences, so the run neither reads nor writes anything under $HOME.
    const child = execFile(
      'spamassassin',
      ['-L', '-t', '-p', '/dev/null'],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => {
        const status = /^X-Spam-Status: (.*(?:\r?\n[ \t].*)*)/m.exec(stdout)?.[1].replace(/\s+/g, ' ');
        const score = status && /score=(-?\d+(?:\.\d+)?)/.exec(status);
        if (!score) return fail(err ?? new Error(`no X-Spam-Status in spamassassin's output:\n${stdout}`));
        ok({ score: Number(score[1]), rules: status });
      },
    );
    child.stdin!.end(raw);
  });
}

/**
 * The trace line the receiving server writes on a direct delivery from our host, in Postfix's format. The address is
 * an ordinary public one (documentation ranges like 192.0.2.0/24 score RCVD_ILLEGAL_IP); nothing is sent to it.
 */
function receivedBy(helo: string): string {
  const date = new Date().toUTCString().replace(/GMT$/, '+0000');
  return (
    `Received: from ${helo} (${helo} [93.184.215.14])\r\n` +
    `\tby mx.example.net (Postfix) with ESMTPS id 4Q2RzX0mVbz1234\r\n` +
    `\tfor <reader@example.net>; ${date}\r\n`
  );
}

let sink: SmtpSink;
let app: TestApp;
const mails: Record<'confirm' | 'welcome' | 'newsletter', ReceivedMail | undefined> = {
  confirm: undefined,
  welcome: undefined,
  newsletter: undefined,
};

beforeAll(async () => {
  sink = await startSmtpSink();
  // Settings as a deployment has them: links to a domain, not to the test server's 127.0.0.1 (an address in a link
  // is a spam sign of its own). The test reaches the server at app.base all the same.
  app = await startTestApp({
    smtpUrl: sink.url,
    env: {
      PUBLIC_URL: 'https://newsletter.example.com',
      SITE_URL: 'https://www.example.com',
      MAIL_FROM: 'The Example Gazette <newsletter@example.com>',
      SITE_NAME: 'The Example Gazette',
    },
  });
  const email = 'reader@example.net';
  const signup = await fetch(`${app.base}/api/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, name: 'Jane Reader', consent: true, termsVersion: '2026-01' }),
  });
  expect(signup.status).toBe(202);
  await eventually(() => sink.to(email).length === 1, 15000, 'the confirmation mail');
  mails.confirm = sink.to(email)[0];
  const token = /\/confirm\?token=([\w.-]+)/.exec((await mails.confirm.parse()).text ?? '')?.[1];
  const confirmed = await fetch(`${app.base}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${token}`,
  });
  expect(confirmed.status).toBe(200);
  await eventually(() => sink.to(email).length === 2, 15000, 'the welcome mail');
  mails.welcome = sink.to(email)[1];

  const campaign = await app.container.campaigns.create({ articleIds: await seedLongArticles(app.container, 5) });
  await app.container.campaigns.send(campaign.id);
  await eventually(() => sink.to(email).length === 3, 20000, 'the newsletter');
  mails.newsletter = sink.to(email)[2];
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

/** Fails with the rules that fired, which say what to fix. */
function expectClean(kind: string, { score, rules }: { score: number; rules: string }) {
  if (score > MAX_SCORE) throw new Error(`the ${kind} mail scored ${score}: ${rules}`);
  expect(score).toBeLessThanOrEqual(MAX_SCORE);
}

describe.each(['confirm', 'welcome', 'newsletter'] as const)('the %s mail', (kind) => {
  test(`scores at most ${MAX_SCORE} with SpamAssassin's local rules, as handed over`, async () => {
    expectClean(kind, await spamScore(mails[kind]!.raw));
  });

  test(`scores at most ${MAX_SCORE} as delivered straight to the reader's server (with its Received line)`, async () => {
    const mail = mails[kind]!;
    expectClean(kind, await spamScore(Buffer.concat([Buffer.from(receivedBy(mail.helo)), mail.raw])));
  });
});

test('the scorer can fail: the old hidden, white preheader scores above the bar', async () => {
  const raw = mails.newsletter!.raw.toString('latin1');
  // The preview text as MJML's mj-preview writes it, put back at the start of the HTML body.
  const hidden =
    '<div style=3D"display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;max-width:0px;' +
    'opacity:0;overflow:hidden;">In this issue: a preview nobody sees</div>';
  const withHidden = raw.replace(/<body([^>]*)>/, (m) => `${m}=\r\n${hidden}=\r\n`);
  expect(withHidden).not.toBe(raw);
  const { score } = await spamScore(Buffer.from(withHidden, 'latin1'));
  expect(score).toBeGreaterThan(MAX_SCORE);
});
