import pino from 'pino';
import type { MailboxMessage, MessageVerdict } from '../../src/domain/ports/feedback-mailbox';
import { ImapFeedbackMailbox, PROCESSED_KEYWORD } from '../../src/feedback-mailbox/imap-mailbox';
import { startDovecot, type TestDovecot } from '../support/dovecot';

/** The IMAP adapter alone against a real Dovecot: what it hands over, and how it marks what was processed. */

let dovecot: TestDovecot;
beforeAll(async () => {
  dovecot = await startDovecot();
});
afterAll(async () => {
  await dovecot?.stop();
});

const log = pino({ level: 'silent' });

function mailbox(opts: { mailbox: string; processedMailbox?: string; password?: string; maxMessageBytes?: number }) {
  return new ImapFeedbackMailbox({
    host: '127.0.0.1',
    port: dovecot.port,
    secure: false,
    user: dovecot.user,
    password: opts.password ?? dovecot.password,
    mailbox: opts.mailbox,
    processedMailbox: opts.processedMailbox,
    maxMessageBytes: opts.maxMessageBytes,
    log,
  });
}

const message = (subject: string, body = 'Hello.') =>
  `From: someone@example.org\r\nTo: news@gazette.test\r\nSubject: ${subject}\r\n\r\n${body}\r\n`;

const subjectOf = (m: MailboxMessage) => /^Subject: (.*)$/m.exec(m.headers.toString())?.[1].trim() ?? '';

async function fill(folder: string, ...subjects: string[]): Promise<void> {
  const client = await dovecot.client();
  try {
    await client.mailboxCreate(folder);
    for (const s of subjects) await client.append(folder, message(s));
  } finally {
    await client.logout();
  }
}

/** Subject and flags of every message in `folder`, in UID order. */
async function contents(folder: string): Promise<[string, string[]][]> {
  const client = await dovecot.client();
  try {
    await client.mailboxOpen(folder, { readOnly: true });
    if (!(client.mailbox && client.mailbox.exists)) return [];
    const all = await client.fetchAll('1:*', { uid: true, flags: true, envelope: true });
    // \Recent only says this session is the first to see the message.
    return all.map((m) => [m.envelope?.subject ?? '', [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort()]);
  } finally {
    await client.logout();
  }
}

/** A handler that processes the messages whose subject starts with "report" and reads each one whole. */
function handler(seen: string[]) {
  return async (m: MailboxMessage): Promise<MessageVerdict> => {
    const subject = subjectOf(m);
    seen.push(subject);
    if (!subject.startsWith('report')) return 'left';
    expect((await m.source()).toString()).toContain(`Subject: ${subject}\r\n\r\nHello.`);
    return 'processed';
  };
}

test('flagging: processed mail gets \\Seen and the keyword and is never handed over again; the rest is untouched', async () => {
  await fill('Flagged', 'report 1', 'a note', 'report 2');
  const box = mailbox({ mailbox: 'Flagged' });

  const seen: string[] = [];
  expect(await box.scan(handler(seen))).toEqual({ examined: 3, processed: 2, tooLarge: 0 });
  expect(seen).toEqual(['report 1', 'a note', 'report 2']);
  expect(await contents('Flagged')).toEqual([
    ['report 1', [PROCESSED_KEYWORD, '\\Seen'].sort()],
    ['a note', []],
    ['report 2', [PROCESSED_KEYWORD, '\\Seen'].sort()],
  ]);

  const again: string[] = [];
  expect(await box.scan(handler(again))).toEqual({ examined: 1, processed: 0, tooLarge: 0 });
  expect(again).toEqual(['a note']);
});

test('moving: processed mail goes, read, to the processed folder (created on first use); the rest stays', async () => {
  await fill('Moving', 'report 1', 'a note', 'report 2');
  const box = mailbox({ mailbox: 'Moving', processedMailbox: 'Moving-done' });

  expect(await box.scan(handler([]))).toEqual({ examined: 3, processed: 2, tooLarge: 0 });
  expect(await contents('Moving')).toEqual([['a note', []]]);
  expect(await contents('Moving-done')).toEqual([
    ['report 1', ['\\Seen']],
    ['report 2', ['\\Seen']],
  ]);
  const again: string[] = [];
  expect(await box.scan(handler(again))).toEqual({ examined: 1, processed: 0, tooLarge: 0 });
  expect(again).toEqual(['a note']);
});

test('a handler that fails ends the scan and leaves the message in hand for the next one', async () => {
  await fill('Failing', 'report 1', 'report 2');
  const box = mailbox({ mailbox: 'Failing' });
  let calls = 0;
  await expect(
    box.scan(() => (++calls === 2 ? Promise.reject(new Error('store unreachable')) : Promise.resolve('processed'))),
  ).rejects.toThrow('store unreachable');
  expect((await contents('Failing')).map(([, flags]) => flags.includes(PROCESSED_KEYWORD))).toEqual([true, false]);

  const seen: string[] = [];
  expect(await box.scan(handler(seen))).toEqual({ examined: 1, processed: 1, tooLarge: 0 });
  expect(seen).toEqual(['report 2']);
});

test('mail larger than the limit is neither fetched nor handed over, and stays as it was', async () => {
  const client = await dovecot.client();
  try {
    await client.mailboxCreate('Large');
    await client.append('Large', message('report small'));
    await client.append('Large', message('report large', 'x'.repeat(5000)));
  } finally {
    await client.logout();
  }
  const seen: string[] = [];
  expect(await mailbox({ mailbox: 'Large', maxMessageBytes: 2000 }).scan(handler(seen))).toEqual({
    examined: 1,
    processed: 1,
    tooLarge: 1,
  });
  expect(seen).toEqual(['report small']);
  expect((await contents('Large'))[1]).toEqual(['report large', []]);
});

test('a mailbox that does not exist rejects the scan with the server’s answer', async () => {
  await expect(mailbox({ mailbox: 'Nowhere' }).scan(handler([]))).rejects.toThrow(
    /^the IMAP server 127\.0\.0\.1:\d+ refused a command: Mailbox doesn't exist: Nowhere/,
  );
});

// Last: Dovecot slows every login from an address that just failed one.
test('a refused login rejects the scan with the server’s answer, naming the server and the user', async () => {
  await expect(mailbox({ mailbox: 'INBOX', password: 'wrong' }).scan(handler([]))).rejects.toThrow(
    `the IMAP server 127.0.0.1:${dovecot.port} refused the login of ${dovecot.user}: Authentication failed.`,
  );
});
