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

  test("buildParts is the same message left in parts: the template's own Buffers, shared by every message, and the values", () => {
    const a = template.buildParts(values);
    const b = template.buildParts({ ...values, name: 'Ann' });
    const whole = Buffer.concat(a.parts).toString();
    // the same bytes as build, but for the Message-ID each build draws
    const c = template.build(values);
    expect(whole.replace(a.messageId, 'ID')).toBe(c.raw.toString().replace(c.messageId, 'ID'));
    // not copied: the template's static parts are the same Buffers in every message
    const shared = a.parts.filter((p) => b.parts.includes(p));
    expect(shared.length).toBeGreaterThan(a.parts.length / 2);
  });

  test('each build has its own Message-ID', () => {
    expect(template.build(values).messageId).not.toBe(template.build(values).messageId);
  });
});

describe('the Date header', () => {
  test('each build is dated by the clock at build time, in RFC 5322 form, not when the template was compiled', async () => {
    let now = Date.parse('2026-12-01T01:30:00.250Z');
    const dated = new MessageTemplate({
      from: 'news@gazette.test',
      subject: 'Hello',
      html: '<p>Hi {{name}}</p>',
      text: 'Hi {{name}}',
      messageIdDomain: 'gazette.test',
      now: () => now,
    });
    const first = dated.build(values).raw.toString();
    now += 5 * 60_000;
    const second = dated.build(values).raw.toString();
    expect(first).toContain('\r\nDate: Tue, 01 Dec 2026 01:30:00 +0000\r\n');
    expect(second).toContain('\r\nDate: Tue, 01 Dec 2026 01:35:00 +0000\r\n');
    expect((await simpleParser(second)).date?.toISOString()).toBe('2026-12-01T01:35:00.000Z');
    // One Date header, not the composer's own as well.
    expect(second.match(/^Date:/gm)).toHaveLength(1);
  });

  test('builds within one second share the header; the next second gets its own', () => {
    let now = Date.parse('2026-12-01T01:30:00.000Z');
    const dated = new MessageTemplate({ ...templateInput(), now: () => now });
    const dateOf = () => /\r\nDate: ([^\r]+)\r\n/.exec(dated.build(values).raw.toString())![1];
    const a = dateOf();
    now += 999;
    expect(dateOf()).toBe(a);
    now += 1;
    expect(dateOf()).toBe('Tue, 01 Dec 2026 01:30:01 +0000');
  });

  test('`date` is filled by the template itself, so it is not among the tokens a caller must give', () => {
    expect(template.tokens.sort()).toEqual(['name', 'unsubscribe_url']);
  });
});

function templateInput() {
  return { from: 'news@gazette.test', subject: 'Hi', html: '<p>Hi</p>', text: 'Hi', messageIdDomain: 'gazette.test' };
}
