import { simpleParser } from 'mailparser';
import { MessageTemplate } from '../../src/mail/message-template';

const longHtml =
  `<p>${'Word '.repeat(400)}</p>` +
  '<p>Dear {{name}}, <a href="{{unsubscribe_url}}">leave</a>.</p>' +
  '<p>.leading dot line</p>';
const template = new MessageTemplate({
  from: 'Büro Gazette <news@gazette.test>',
  subject: 'Grüße: the week’s news',
  html: longHtml,
  text: 'Dear {{name}},\nLeave: {{unsubscribe_url}}\n',
  headers: { 'List-Unsubscribe': '<{{unsubscribe_url}}>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  messageIdDomain: 'gazette.test',
});
const values = {
  to: 'zoe@example.com',
  name: 'Zoë <b>&',
  unsubscribe_url: 'https://gazette.test/unsubscribe?token=abc.def',
};

describe('MessageTemplate', () => {
  test('builds a message that a mail parser reads back with every value in place', async () => {
    const { raw, messageId } = template.build(values);
    const mail = await simpleParser(raw);
    expect(mail.to && !Array.isArray(mail.to) && mail.to.value[0].address).toBe('zoe@example.com');
    expect(mail.subject).toBe('Grüße: the week’s news');
    expect(mail.messageId).toBe(`<${messageId}>`);
    expect(mail.text).toBe('Dear Zoë <b>&,\nLeave: https://gazette.test/unsubscribe?token=abc.def\n');
    // HTML values are escaped: a name cannot add markup.
    expect(mail.html).toContain('Dear Zoë &#60;b&#62;&#38;,');
    expect(mail.html).toContain('href="https://gazette.test/unsubscribe?token=abc.def"');
    expect(mail.html).toContain('.leading dot line');
    expect(raw.toString()).toContain('List-Unsubscribe: <https://gazette.test/unsubscribe?token=abc.def>');
  });

  test('no line is longer than 78 octets, whatever the values (RFC 5322, quoted-printable limits)', () => {
    const { raw } = template.build({ ...values, name: 'N'.repeat(500) });
    const lines = raw.toString().split('\r\n');
    expect(Math.max(...lines.map((l) => Buffer.byteLength(l)))).toBeLessThanOrEqual(78);
    expect(raw.includes('\n') && !/[^\r]\n/.test(raw.toString())).toBe(true);
  });

  test('a value with a line break cannot add a header', () => {
    expect(() => template.build({ ...values, to: 'a@b.c\r\nBcc: everyone@example.com' })).toThrow(/line break/);
  });

  test('each build has its own Message-ID', () => {
    expect(template.build(values).messageId).not.toBe(template.build(values).messageId);
  });
});
