import { defaultFeedbackSender, defaultSmtpName, parseEnv } from '../../src/config';
import { listId, mailIdentity } from '../../src/mail/mail-identity';
import { outboxFileName } from '../../src/mail/mail-transport';

describe('List-Id (RFC 2919)', () => {
  test.each([
    ['newsletter.example.com', 'The Daily <newsletter.example.com>'],
    ['NEWSLETTER.Example.com', 'The Daily <newsletter.example.com>'],
    ['news.example.com', 'The Daily <newsletter.news.example.com>'],
    ['example.com', 'The Daily <newsletter.example.com>'],
    ['newsletters.example.com', 'The Daily <newsletter.newsletters.example.com>'],
    ['localhost', 'The Daily <newsletter.localhost>'],
    ['127.0.0.1', 'The Daily <newsletter.localhost>'],
    ['[::1]', 'The Daily <newsletter.localhost>'],
  ])('a service at %s has the list id %s', (host, expected) => {
    expect(listId('The Daily', host)).toBe(expected);
  });

  test('a name with specials is quoted, a non-ASCII one left for the MIME encoder, an empty one left out', () => {
    expect(listId('Smith, Jones & Co.', 'example.com')).toBe('"Smith, Jones & Co." <newsletter.example.com>');
    expect(listId('Say "hi"', 'example.com')).toBe('"Say \\"hi\\"" <newsletter.example.com>');
    expect(listId('Die Zürcher Zeitung', 'example.com')).toBe('Die Zürcher Zeitung <newsletter.example.com>');
    expect(listId('Zürich, heute', 'example.com')).toBe('Zürich heute <newsletter.example.com>');
    expect(listId('  ', 'example.com')).toBe('<newsletter.example.com>');
  });

  test('the identity takes its list id from PUBLIC_URL and its Message-ID domain from MAIL_FROM', () => {
    const identity = mailIdentity({
      from: 'The Daily <news@daily.example>',
      publicUrl: 'https://newsletter.daily.example',
      siteName: 'The Daily',
      feedbackSender: 'thedaily',
    });
    expect(identity).toMatchObject({
      listId: 'The Daily <newsletter.daily.example>',
      messageIdDomain: 'daily.example',
      feedbackSender: 'thedaily',
    });
  });
});

describe('settings of the mail identity', () => {
  test('the EHLO name defaults to the host of PUBLIC_URL; an address becomes an address literal', () => {
    expect(defaultSmtpName('https://newsletter.example.com/base')).toBe('newsletter.example.com');
    expect(defaultSmtpName('http://127.0.0.1:3000')).toBe('[127.0.0.1]');
    expect(defaultSmtpName('http://[::1]:3000')).toBe('[IPv6:::1]');
  });

  test('SMTP_NAME must be a host name', () => {
    expect(parseEnv({ SMTP_NAME: 'mail.example.com' }).SMTP_NAME).toBe('mail.example.com');
    for (const bad of ['mail example.com', '127.0.0.1', '-mail.example.com', 'mail\r\nexample.com'])
      expect(() => parseEnv({ SMTP_NAME: bad })).toThrow(/SMTP_NAME: must be a host name/);
  });

  test('the Feedback-ID sender is 5 to 15 characters from the site name, or FEEDBACK_ID_SENDER as given', () => {
    expect(defaultFeedbackSender('The Daily Planet')).toBe('thedailyplanet');
    expect(defaultFeedbackSender('Le Café du Matin, édition du soir')).toBe('lecafedumatined');
    expect(defaultFeedbackSender('BBC')).toBe('bbcnewsletter');
    expect(defaultFeedbackSender('???')).toBe('newsletter');
    expect(parseEnv({ FEEDBACK_ID_SENDER: 'daily-news' }).FEEDBACK_ID_SENDER).toBe('daily-news');
    for (const bad of ['abc', 'a-much-too-long-sender', 'has:colon'])
      expect(() => parseEnv({ FEEDBACK_ID_SENDER: bad })).toThrow(/FEEDBACK_ID_SENDER/);
  });

  test('SITE_URL must be an http(s) URL', () => {
    expect(() => parseEnv({ SITE_URL: 'ftp://news.example.com' })).toThrow(/SITE_URL/);
  });
});

describe('outbox file names', () => {
  test('carry the time, the kind and the recipient, made safe for any file system', () => {
    const at = new Date('2026-12-01T01:30:00.123Z');
    const name = outboxFileName(at, {
      kind: 'confirm',
      messageId: '0123456789abcdef01234567@gazette.test',
      envelope: { from: 'news@gazette.test', to: 'Jane+News@Example.com' },
    });
    expect(name).toBe('20261201T013000Z-confirm-jane_news_at_example.com-0123456789abcdef01234567.eml');
    const odd = outboxFileName(at, {
      kind: 'newsletter',
      messageId: 'x@y',
      envelope: { from: 'a@b', to: `../${'a'.repeat(200)}/\\"@example.com` },
    });
    expect(odd).toMatch(/^20261201T013000Z-newsletter-[a-z0-9._-]+-x\.eml$/);
    expect(odd).not.toContain('/');
    expect(odd.length).toBeLessThan(130);
  });
});
