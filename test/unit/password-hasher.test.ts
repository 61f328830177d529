import { checkPassword, normaliseLogin, PASSWORD_MAX, PASSWORD_MIN } from '../../src/domain/operator';
import { DEFAULT_SCRYPT_COST, PasswordHasher } from '../../src/domain/password-hasher';

/** Cheap parameters: these tests are about the format and the logic, not the cost. */
const cheap = new PasswordHasher({ N: 1024, r: 8, p: 1 });

describe('scrypt password hashes', () => {
  test('a hash records its parameters and salt (PHC format) and verifies only its own password', async () => {
    const hash = await cheap.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await cheap.verify('correct horse battery staple', hash)).toBe(true);
    expect(await cheap.verify('correct horse battery stapl', hash)).toBe(false);
    expect(await cheap.verify('', hash)).toBe(false);
  });

  test('the same password hashes differently each time (a fresh salt)', async () => {
    const [a, b] = await Promise.all([cheap.hash('same password here'), cheap.hash('same password here')]);
    expect(a).not.toBe(b);
  });

  test('a hash made with lower parameters still verifies after they are raised, and asks to be rehashed', async () => {
    const old = await cheap.hash('a long enough password');
    const raised = new PasswordHasher({ N: 2048, r: 8, p: 2 });
    expect(await raised.verify('a long enough password', old)).toBe(true);
    expect(raised.needsRehash(old)).toBe(true);
    expect(raised.needsRehash(await raised.hash('a long enough password'))).toBe(false);
  });

  test('a malformed stored hash never verifies', async () => {
    expect(await cheap.verify('anything at all', 'plaintext')).toBe(false);
    expect(await cheap.verify('anything at all', '$scrypt$ln=10,r=8,p=1$$')).toBe(false);
  });

  test('passwords are compared after NFKC normalisation (the same text typed another way matches)', async () => {
    const hash = await cheap.hash('ﬁne password for me');
    expect(await cheap.verify('fine password for me', hash)).toBe(true);
  });

  test('the default parameters (N=2^15, r=8, p=3: 32 MiB) run within Node’s memory limit', async () => {
    const hasher = new PasswordHasher();
    expect(hasher.cost).toEqual(DEFAULT_SCRYPT_COST);
    const hash = await hasher.hash('default cost password');
    expect(hash.startsWith('$scrypt$ln=15,r=8,p=3$')).toBe(true);
    expect(await hasher.verify('default cost password', hash)).toBe(true);
  });
});

describe('password and login rules', () => {
  test(`at least ${PASSWORD_MIN} characters (counted as code points), at most ${PASSWORD_MAX}, no composition rules`, () => {
    expect(() => checkPassword('elevenchars')).toThrow(/at least 12/);
    expect(checkPassword('twelve chars')).toBe('twelve chars');
    // 12 emoji are 12 characters though 24 UTF-16 units.
    expect(() => checkPassword('😀'.repeat(11))).toThrow(/at least 12/);
    expect(checkPassword('😀'.repeat(12))).toHaveLength(24);
    expect(checkPassword('alllowercaseletters')).toBe('alllowercaseletters');
    expect(() => checkPassword('x'.repeat(PASSWORD_MAX + 1))).toThrow(/at most 1024/);
  });

  test('a login is the address lower-cased whole', () => {
    expect(normaliseLogin('  Ada.Editor@Example.COM ')).toBe('ada.editor@example.com');
    expect(() => normaliseLogin('not an address')).toThrow();
  });
});
