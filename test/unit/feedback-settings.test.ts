import { ConfigError, parseEnv } from '../../src/config';

const mailboxOf = (url: string, more: Record<string, string> = {}) =>
  parseEnv({ FEEDBACK_IMAP_URL: url, ...more }).FEEDBACK_IMAP_URL;

test('an imaps URL gives server, TLS, credentials and the mailbox; defaults: port 993, INBOX, 60 s, flag only', () => {
  const env = parseEnv({ FEEDBACK_IMAP_URL: 'imaps://bounces%40example.com:s3cret%2Fx@mail.example.com' });
  expect(env.FEEDBACK_IMAP_URL).toEqual({
    host: 'mail.example.com',
    port: 993,
    secure: true,
    user: 'bounces@example.com',
    password: 's3cret/x',
    mailbox: 'INBOX',
  });
  expect(env.FEEDBACK_POLL_SECONDS).toBe(60);
  expect(env.FEEDBACK_PROCESSED_MAILBOX).toBeUndefined();
});

test('an imap URL takes port 143 unless given, an address as user name as typed, and a nested mailbox path', () => {
  expect(mailboxOf('imap://bounces@example.com:pw@[::1]/Archive/Bounces%20In')).toEqual({
    host: '::1',
    port: 143,
    secure: false,
    user: 'bounces@example.com',
    password: 'pw',
    mailbox: 'Archive/Bounces In',
  });
  expect(mailboxOf('imap://u:p@127.0.0.1:1143/')).toMatchObject({ port: 1143, mailbox: 'INBOX' });
});

test('no FEEDBACK_IMAP_URL (or an empty one) means no feedback mailbox', () => {
  expect(parseEnv({}).FEEDBACK_IMAP_URL).toBeUndefined();
  expect(parseEnv({ FEEDBACK_IMAP_URL: '  ' }).FEEDBACK_IMAP_URL).toBeUndefined();
});

test.each([
  ['pop3://u:p@mail.example.com', /FEEDBACK_IMAP_URL: must start with imap:\/\/ or imaps:\/\//],
  ['imap-host.example.net', /FEEDBACK_IMAP_URL: must be an imap:\/\/ or imaps:\/\/ URL/],
  ['imaps://mail.example.com/INBOX', /FEEDBACK_IMAP_URL: must carry the user and password/],
  ['imaps://user@mail.example.com', /FEEDBACK_IMAP_URL: must carry the user and password/],
  ['imaps://u:p@mail.example.com/INBOX?x=1', /FEEDBACK_IMAP_URL: takes no \?query or #fragment/],
  ['imaps://u:p@mail.example.com/%E0%A4%A', /FEEDBACK_IMAP_URL: has a bad %-escape/],
])('%s is refused with a message that shows a good URL and never echoes the value', (url, message) => {
  let err: unknown;
  try {
    parseEnv({ FEEDBACK_IMAP_URL: url });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).toContain('like imaps://bounces%40example.com:secret@mail.example.com/INBOX');
  expect((err as Error).message).not.toContain(url);
});

test('the poll interval is bounded; the processed folder is a name', () => {
  expect(() => parseEnv({ FEEDBACK_POLL_SECONDS: '1' })).toThrow(/FEEDBACK_POLL_SECONDS/);
  expect(parseEnv({ FEEDBACK_POLL_SECONDS: '300' }).FEEDBACK_POLL_SECONDS).toBe(300);
  expect(parseEnv({ FEEDBACK_PROCESSED_MAILBOX: ' Processed ' }).FEEDBACK_PROCESSED_MAILBOX).toBe('Processed');
});

test('the processed folder cannot be the mailbox that is read', () => {
  expect(() =>
    parseEnv({ FEEDBACK_IMAP_URL: 'imap://u:p@mail.example.com/', FEEDBACK_PROCESSED_MAILBOX: 'inbox' }),
  ).toThrow('FEEDBACK_PROCESSED_MAILBOX must differ from the mailbox FEEDBACK_IMAP_URL reads (INBOX)');
  expect(() =>
    parseEnv({ FEEDBACK_IMAP_URL: 'imap://u:p@mail.example.com/Bounces', FEEDBACK_PROCESSED_MAILBOX: 'Bounces' }),
  ).toThrow(ConfigError);
  expect(
    parseEnv({ FEEDBACK_IMAP_URL: 'imap://u:p@mail.example.com/Bounces', FEEDBACK_PROCESSED_MAILBOX: 'Done' })
      .FEEDBACK_PROCESSED_MAILBOX,
  ).toBe('Done');
});
