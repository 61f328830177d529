import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt's cost parameters, recorded with every hash so they can be raised later without locking anyone out. */
export interface ScryptCost {
  /** CPU/memory cost, a power of two. Memory used is 128 · N · r bytes. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelism (Node computes the p lanes one after another, so it multiplies time, not memory). */
  p: number;
}

/**
 * OWASP's Password Storage Cheat Sheet lists N=2^17,r=8,p=1 (128 MiB) and, as equally strong, N=2^15,r=8,p=3 (32
 * MiB). The second is chosen: a few sign-ins at once then cost ~100 MiB rather than ~400 MiB on a small server.
 * Measured here (Node 20, 2 busy cores): one hash or verification takes 240-370 ms (N=2^17,r=8,p=1: 420-620 ms);
 * see README, "Operators and the audit log". PASSWORD_SCRYPT_N raises (or, for tests, lowers) N.
 */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 2 ** 15, r: 8, p: 3 };

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

/** `$scrypt$ln=15,r=8,p=3$<salt b64>$<hash b64>`: the PHC string format, so the parameters travel with the hash. */
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const options: ScryptOptions = {
    N: cost.N,
    r: cost.r,
    p: cost.p,
    // Node refuses more than 32 MiB by default; allow what these parameters need, with room.
    maxmem: 256 * cost.N * cost.r,
  };
  return new Promise((ok, fail) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? fail(err) : ok(key))),
  );
}

/**
 * Hashes and verifies operator passwords with scrypt (Node's, no native add-on). Passwords are NFKC-normalised first,
 * as NIST SP 800-63B asks, so the same password typed on another keyboard still matches.
 */
export class PasswordHasher {
  private dummy?: Promise<string>;

  constructor(readonly cost: ScryptCost = DEFAULT_SCRYPT_COST) {
    if (!Number.isInteger(Math.log2(cost.N)) || cost.N < 2) throw new Error('scrypt N must be a power of two');
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_LENGTH);
    const key = await derive(password, salt, this.cost);
    const ln = Math.log2(this.cost.N);
    return `$scrypt$ln=${ln},r=${this.cost.r},p=${this.cost.p}$${b64(salt)}$${b64(key)}`;
  }

  /** Whether `password` matches `stored`; false for a malformed hash. Constant-time comparison of the keys. */
  async verify(password: string, stored: string): Promise<boolean> {
    const m = PHC.exec(stored);
    if (!m) return false;
    const cost = { N: 2 ** Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
    const expected = Buffer.from(m[5], 'base64');
    const key = await derive(password, Buffer.from(m[4], 'base64'), cost);
    return key.length === expected.length && timingSafeEqual(key, expected);
  }

  /** A hash made with weaker parameters than today's: rehash it at the next successful sign-in. */
  needsRehash(stored: string): boolean {
    const m = PHC.exec(stored);
    if (!m) return true;
    return 2 ** Number(m[1]) < this.cost.N || Number(m[2]) < this.cost.r || Number(m[3]) < this.cost.p;
  }

  /**
   * Spends the time of one verification on nothing: a sign-in with an unknown login, a disabled account or the
   * bootstrap login calls this, so how long a failure takes says nothing about whether the account exists.
   */
  async verifyDummy(password: string): Promise<void> {
    if (!this.dummy) {
      // The first call makes the dummy instead of verifying against it: one derivation either way, so even the first
      // failure after a start takes the usual time (and a CLI run that never signs anyone in never pays for it).
      this.dummy = this.hash(randomBytes(16).toString('hex'));
      await this.dummy;
      return;
    }
    await this.verify(password, await this.dummy);
  }
}

/** Standard base64 without padding, as the PHC format writes it. */
function b64(b: Buffer): string {
  return b.toString('base64').replace(/=+$/, '');
}
