import fc from 'fast-check';
import { toASCII } from 'tr46';
import { normaliseEmail, emailHash, plainAsciiDomain, UTS46 } from '../../src/domain/email-address';
import { InvalidTokenError, SignedTokens } from '../../src/domain/signed-token';

describe('normaliseEmail', () => {
  test.each([
    ['  Reader@Example.COM ', 'Reader@example.com'],
    ['someone@BÜCHER.example', 'someone@xn--bcher-kva.example'],
    ['first.last+tag@sub.example.org', 'first.last+tag@sub.example.org'],
  ])('%j becomes %j', (input, out) => expect(normaliseEmail(input)).toBe(out));

  test.each([
    '',
    'plain',
    '@example.com',
    'a@',
    'a..b@example.com',
    'a@-bad-.com',
    'a@b',
    `${'x'.repeat(65)}@example.com`,
    'a\n@example.com',
    'a b@example.com',
  ])('refuses %j', (input) => {
    expect(() => normaliseEmail(input)).toThrow();
  });

  test('the index hash ignores case so one person has one record', () => {
    expect(emailHash(normaliseEmail('Reader@Example.com'))).toBe(emailHash(normaliseEmail('reader@example.com')));
  });

  test.each([
    // UTS #46: mapped (full-width letters, case), nontransitional (ß stays ß), stored as A-labels.
    ['jane@ｅｘａｍｐｌｅ.com', 'jane@example.com'],
    ['jane@faß.de', 'jane@xn--fa-hia.de'],
    ['jane@例え.テスト', 'jane@xn--r8jz45g.xn--zckzah'],
    ['jane@XN--BCHER-KVA.example', 'jane@xn--bcher-kva.example'],
    ['jane@123.example', 'jane@123.example'],
  ])('maps the domain of %j per UTS #46 to %j', (input, out) => expect(normaliseEmail(input)).toBe(out));

  test('the Unicode and the A-label form of a domain are one person in the index', () => {
    expect(emailHash(normaliseEmail('jane@bücher.example'))).toBe(
      emailHash(normaliseEmail('jane@xn--bcher-kva.example')),
    );
  });

  test.each([
    ['jane@127.1', 'email domain must be a domain name, not a number or an IP address'],
    ['jane@0x7f.1', 'email domain must be a domain name, not a number or an IP address'],
    ['jane@2130706433', 'email domain must be a domain name, not a number or an IP address'],
    ['jane@1.2.3.4', 'email domain must be a domain name, not a number or an IP address'],
    ['jane@example.123', 'email domain must be a domain name, not a number or an IP address'],
    ['jane@[127.0.0.1]', 'email domain must be a domain name, not an IP address in brackets'],
    ['jane@[IPv6:::1]', 'email domain must be a domain name, not an IP address in brackets'],
    ['jane@ex%41mple.com', 'email domain must not contain a percent sign'],
    ['jane@localhost', 'email domain must have a dot, as in example.com'],
    ['jane@example.com.', 'email domain is not a valid domain name'],
    ['jane@exa_mple.com', 'email domain is not a valid domain name'],
    ['jane@ab--cd.com', 'email domain is not a valid domain name'],
    ['jane@xn--zz.com', 'email domain is not a valid domain name'],
    ['jane@example.com\u200d', 'email domain is not a valid domain name'],
    [`jane@${'a'.repeat(64)}.com`, 'email domain is not a valid domain name'],
  ])('refuses %j, not rewrites it: %s', (input, message) => {
    expect(() => normaliseEmail(input)).toThrow(expect.objectContaining({ code: 'invalid_email', message }));
  });
});

describe('plainAsciiDomain, the path that skips tr46', () => {
  // With the options normaliseEmail gives tr46: the fast path must answer what tr46 answers.
  const tr46 = (d: string) => toASCII(d, UTS46);
  // Mostly the characters a plain domain has, so that most cases take the fast path, with the ones that must not:
  // hyphens where hyphens are refused, A-label prefixes, empty labels, an underscore, a non-ASCII letter.
  const domains = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'B', 'z', '0', '9', '-', '.', 'x', 'n'), maxLength: 24 }),
    fc
      .array(
        fc.oneof(
          fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?$/),
          fc.constantFrom(
            'xn--bcher-kva',
            'ab--cd',
            'a---b',
            '-a',
            'a-',
            '',
            'ü',
            'a_b',
            'x'.repeat(63),
            'y'.repeat(64),
          ),
        ),
        { minLength: 1, maxLength: 5 },
      )
      .map((labels) => labels.join('.')),
    fc.integer({ min: 240, max: 260 }).map((n) => `${'a'.repeat(n - 4)}.com`.replace(/(a{60})/g, '$1.')),
  );

  test('where it answers, it answers what tr46 does; tr46 refusing means it does not answer', () => {
    let answered = 0;
    fc.assert(
      fc.property(domains, (d) => {
        const fast = plainAsciiDomain(d);
        if (fast === undefined) return;
        answered++;
        expect(fast).toBe(tr46(d));
      }),
      { numRuns: 3000 },
    );
    // The comparison above is only worth something if the fast path took a good share of the cases.
    expect(answered).toBeGreaterThan(1000);
  });

  test.each(['Example.COM', 'mail.example.co.uk', '123.example', 'a-b.example'])('answers %j', (d) =>
    expect(plainAsciiDomain(d)).toBe(d.toLowerCase()),
  );

  test.each(['xn--bcher-kva.example', 'ab--cd.com', '-a.com', 'a-.com', 'a..com', 'example.com.', 'bücher.example'])(
    'leaves %j to tr46',
    (d) => expect(plainAsciiDomain(d)).toBeUndefined(),
  );
});

describe('SignedTokens', () => {
  let now = Date.parse('2026-11-27T00:00:00Z');
  const tokens = new SignedTokens({ secret: 's'.repeat(40), clock: { now: () => new Date(now) } });

  test('a confirmation token verifies for its purpose only, until it expires after 7 days', () => {
    const t = tokens.issue('confirm', 42);
    expect(tokens.verify('confirm', t)).toBe(42);
    expect(() => tokens.verify('unsubscribe', t)).toThrow(InvalidTokenError);
    now += 7 * 24 * 3600 * 1000 - 1000;
    expect(tokens.verify('confirm', t)).toBe(42);
    now += 2000;
    expect(() => tokens.verify('confirm', t)).toThrow(expect.objectContaining({ code: 'expired_token' }));
  });

  test('an unsubscribe token never expires', () => {
    const t = tokens.issue('unsubscribe', 7);
    now += 3 * 365 * 24 * 3600 * 1000;
    expect(tokens.verify('unsubscribe', t)).toBe(7);
  });

  test('another secret or a changed byte fails', () => {
    const t = tokens.issue('unsubscribe', 7);
    const other = new SignedTokens({ secret: 'o'.repeat(40), clock: { now: () => new Date(now) } });
    expect(() => other.verify('unsubscribe', t)).toThrow(InvalidTokenError);
    const flipped = t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');
    expect(() => tokens.verify('unsubscribe', flipped)).toThrow(InvalidTokenError);
    expect(() => tokens.verify('unsubscribe', 'x'.repeat(500))).toThrow(InvalidTokenError);
  });

  test('an unsubscribe token may name a newsletter; one without names none and means the whole person', () => {
    const scoped = tokens.issue('unsubscribe', 7, 'morning-briefing');
    expect(tokens.claims('unsubscribe', scoped)).toEqual({ subscriberId: 7, newsletter: 'morning-briefing' });
    expect(tokens.verify('unsubscribe', scoped)).toBe(7);
    expect(tokens.claims('unsubscribe', tokens.issue('unsubscribe', 7))).toEqual({ subscriberId: 7 });
    // The longest slug still fits the length a token may have.
    expect(() => tokens.claims('unsubscribe', tokens.issue('unsubscribe', 2 ** 52, 'x'.repeat(40)))).not.toThrow();
    expect(() => tokens.issue('unsubscribe', 7, 'Not A Slug')).toThrow();
  });

  test('a preference token never expires and serves no other purpose', () => {
    const t = tokens.issue('preferences', 9);
    now += 3 * 365 * 24 * 3600 * 1000;
    expect(tokens.verify('preferences', t)).toBe(9);
    expect(() => tokens.verify('unsubscribe', t)).toThrow(InvalidTokenError);
    expect(() => tokens.verify('preferences', tokens.issue('unsubscribe', 9))).toThrow(InvalidTokenError);
  });

  describe('key rotation (APP_SECRET_PREVIOUS)', () => {
    const clock = { now: () => new Date(now) };
    const oldKey = 'o'.repeat(40);
    const olderKey = 'p'.repeat(40);
    const before = new SignedTokens({ secret: oldKey, clock });
    const rotated = new SignedTokens({ secret: 's'.repeat(40), previousSecrets: [oldKey, olderKey], clock });

    test('links signed with a previous secret still verify, for every purpose and the return token', () => {
      const older = new SignedTokens({ secret: olderKey, clock });
      expect(rotated.verify('confirm', before.issue('confirm', 5))).toBe(5);
      expect(rotated.claims('unsubscribe', before.issue('unsubscribe', 6, 'news'))).toEqual({
        subscriberId: 6,
        newsletter: 'news',
      });
      expect(rotated.verify('preferences', older.issue('preferences', 7))).toBe(7);
      expect(rotated.verifyReturn(before.issueReturn(8, 3))).toEqual({ subscriberId: 8, campaignId: 3 });
    });

    test('new links are signed with the current secret only', () => {
      const t = rotated.issue('unsubscribe', 9);
      expect(() => before.verify('unsubscribe', t)).toThrow(InvalidTokenError);
      expect(tokens.verify('unsubscribe', t)).toBe(9);
      expect(before.verifyReturn(rotated.issueReturn(9))).toBeNull();
      expect(tokens.verifyReturn(rotated.issueReturn(9))).toEqual({ subscriberId: 9 });
    });

    test('a link signed with a secret neither current nor previous is refused', () => {
      const stranger = new SignedTokens({ secret: 'x'.repeat(40), clock });
      expect(() => rotated.verify('unsubscribe', stranger.issue('unsubscribe', 10))).toThrow(InvalidTokenError);
      expect(rotated.verifyReturn(stranger.issueReturn(10))).toBeNull();
    });

    test('a confirmation link signed with a previous secret still expires after its 7 days', () => {
      const t = before.issue('confirm', 11);
      now += 7 * 24 * 3600 * 1000 + 1000;
      expect(() => rotated.verify('confirm', t)).toThrow(expect.objectContaining({ code: 'expired_token' }));
    });
  });
});
