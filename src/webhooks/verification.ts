import { createHash, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../domain/errors';

/** A delivery that does not prove it comes from the provider: nothing in it is looked at further. */
export function invalidSignature(message: string): DomainError {
  return new DomainError('invalid_signature', message);
}

/**
 * Compares a secret the caller sent with the one configured, in time that does not depend on where they differ.
 * Both sides are hashed first so their lengths match and the configured length does not leak either.
 */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Compares two hex MACs in constant time; false for anything that is not hex of the expected length. */
export function sameHexMac(given: string, expected: Buffer): boolean {
  if (!/^[0-9a-f]+$/i.test(given) || given.length !== expected.length * 2) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}

/** How far ahead of our clock a signed timestamp may be: clocks drift, but not by more than this. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

/**
 * Refuses a signature whose signed time is older than `maxAgeSeconds` (a captured delivery played again) or
 * further in the future than clock drift explains.
 */
export function requireFresh(signedAtMs: number, nowMs: number, maxAgeSeconds: number): void {
  const ageMs = nowMs - signedAtMs;
  if (ageMs > maxAgeSeconds * 1000) {
    throw new DomainError(
      'stale_signature',
      `The signature is ${Math.round(ageMs / 1000)} s old; deliveries signed more than ${maxAgeSeconds} s ago are refused as replays.`,
    );
  }
  if (-ageMs > FUTURE_SKEW_MS) {
    throw new DomainError(
      'stale_signature',
      `The signature is dated ${Math.round(-ageMs / 1000)} s in the future; check the clocks of both ends.`,
    );
  }
}
