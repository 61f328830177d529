import { availableParallelism } from 'node:os';
import { ConfigError, parseEnv } from '../../src/config';

/** The message parseEnv refuses `env` with. */
function refusal(env: Record<string, string>): string {
  try {
    parseEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('every setting is checked when the configuration is read, and a refusal names it', () => {
  test.each([
    [
      'FEED_POLL_CRON',
      'every 5 min',
      /^Invalid configuration: FEED_POLL_CRON: must be a cron pattern such as "\*\/15 \* \* \* \*"/,
    ],
    ['FEED_POLL_CRON', '61 * * * *', /FEED_POLL_CRON: must be a cron pattern .*expected range 0-59/],
    ['FEED_POLL_CRON', '* * * * * * *', /FEED_POLL_CRON: must be a cron pattern/],
    ['SMTP_URL', 'http://x', /^Invalid configuration: SMTP_URL: must start with smtp:\/\/ or smtps:\/\/ \(got http:\)/],
    ['SMTP_URL', 'mail.example.com:587', /SMTP_URL: must start with smtp:\/\/ or smtps:\/\//],
    ['SMTP_URL', 'not a url', /SMTP_URL: must be a URL starting with smtp:\/\/ or smtps:\/\//],
    ['PUBLIC_URL', 'ftp://news.example.com', /PUBLIC_URL: must start with http:\/\/ or https:\/\/ \(got ftp:\)/],
    ['SITE_URL', 'javascript:alert(1)', /SITE_URL: must start with http:\/\/ or https:\/\//],
    ['FEED_URL', 'file:///etc/passwd', /FEED_URL: must start with http:\/\/ or https:\/\//],
    ['FEED_URL', 'https://', /FEED_URL: must be a URL starting with http:\/\/ or https:\/\//],
    [
      'TERMS_URL',
      'javascript:alert(1)',
      /TERMS_URL: must be a path on this site such as \/terms, or an http:\/\/ or https:\/\/ URL/,
    ],
    ['TERMS_URL', '//elsewhere.example/terms', /TERMS_URL: must be a path on this site/],
    ['REDIS_URL', 'http://127.0.0.1:6379', /REDIS_URL: must start with redis:\/\/ or rediss:\/\//],
    ['REDIS_URL', '/var/run/redis.sock', /REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\//],
    ['REDIS_URL', 'redis://127.0.0.1:6379/cache', /REDIS_URL: may end in a database number/],
    ['FEEDBACK_IMAP_URL', 'pop3://u:p@mail.example.com', /FEEDBACK_IMAP_URL: must start with imap:\/\/ or imaps:\/\//],
    ['MAIL_FROM', 'Newsletter', /^Invalid configuration: MAIL_FROM: must be one mail address/],
    ['MAIL_FROM', 'a@example.com, b@example.com', /MAIL_FROM: must be one mail address/],
    ['MAIL_FROM', 'news@127.0.0.1', /MAIL_FROM: must be one mail address/],
    ['MAIL_REPLY_TO', 'letters at example.com', /MAIL_REPLY_TO: must be one mail address/],
    ['DKIM_DOMAIN', 'example com', /DKIM_DOMAIN: must be a domain name/],
    ['DKIM_SELECTOR', 'news 2026', /DKIM_SELECTOR: must be a DNS label/],
  ])('%s=%j is refused', (name, value, message) => {
    expect(refusal({ [name]: value })).toMatch(message);
  });

  test.each([
    ['FEED_POLL_CRON', '0 3 * * *'],
    ['FEED_POLL_CRON', '*/5 * * * *'],
    ['SMTP_URL', 'smtps://user:secret@smtp.example.com:465'],
    ['SMTP_URL', 'smtp://127.0.0.1:2525'],
    ['PUBLIC_URL', 'https://news.example.com'],
    ['TERMS_URL', '/terms'],
    ['TERMS_URL', 'https://www.example.com/legal/newsletter'],
    ['REDIS_URL', 'rediss://:secret@redis.example.com:6380/2'],
    ['REDIS_URL', 'redis://127.0.0.1:6379'],
    ['MAIL_FROM', 'Newsletter <newsletter@localhost>'],
    ['MAIL_FROM', '"The Gazette, Daily" <news@gazette.example>'],
    ['MAIL_FROM', 'news@bücher.example'],
    ['MAIL_REPLY_TO', 'letters@gazette.example'],
  ])('%s=%j is taken as given', (name, value) => {
    expect(parseEnv({ [name]: value })[name as 'SMTP_URL']).toBe(value);
  });

  test('several bad settings are each named on a line of their own', () => {
    expect(refusal({ SMTP_URL: 'http://x', FEED_POLL_CRON: 'hourly' }).split('\n')).toEqual([
      'Invalid configuration:',
      expect.stringMatching(/^ {2}SMTP_URL: must start with smtp:\/\//),
      expect.stringMatching(/^ {2}FEED_POLL_CRON: must be a cron pattern/),
    ]);
  });
});

describe('WORKER_PROCESSES: one worker process per core unless set', () => {
  const cores = Math.min(64, availableParallelism());

  test.each([
    ['unset', {}],
    ['empty', { WORKER_PROCESSES: '' }],
    ['auto', { WORKER_PROCESSES: 'auto' }],
    ['AUTO', { WORKER_PROCESSES: 'AUTO' }],
  ])('%s is one per core this process may use', (_name, env: Record<string, string>) => {
    expect(parseEnv(env).WORKER_PROCESSES).toBe(cores);
  });

  test.each([
    ['1', 1],
    [' 3 ', 3],
    ['64', 64],
  ])('%j is that many', (value, count) => {
    expect(parseEnv({ WORKER_PROCESSES: value }).WORKER_PROCESSES).toBe(count);
  });

  test.each(['0', '65', '1.5', '-2', 'two', 'auto2', '1e1'])('%j is refused', (value) => {
    expect(refusal({ WORKER_PROCESSES: value })).toBe(
      'Invalid configuration: WORKER_PROCESSES: must be auto (one per core) or a whole number from 1 to 64',
    );
  });
});
