import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';

export class InvalidEmailError extends Error {
  readonly code = 'invalid_email';
}

// RFC 5321 4.5.3.1: local part 64 octets, whole path 256 including the angle brackets, so 254 for the address.
const MAX_LOCAL = 64;
const MAX_ADDRESS = 254;
// Dot-atom local part (RFC 5322 3.2.3); quoted local parts are legal but never seen from real signup forms.
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Trims and normalises an address: the domain lower-cased and IDN domains turned to punycode; the local part
 * kept as typed (RFC 5321 says only the receiving host may interpret its case). Throws InvalidEmailError.
 */
export function normaliseEmail(input: unknown): string {
  if (typeof input !== 'string') throw new InvalidEmailError('email is required');
  const raw = input.trim();
  if (/[\r\n\0]/.test(raw)) throw new InvalidEmailError('email must not contain line breaks or NUL');
  const at = raw.lastIndexOf('@');
  if (at <= 0 || at === raw.length - 1) throw new InvalidEmailError('email must look like name@example.com');
  const local = raw.slice(0, at);
  const domain = domainToASCII(raw.slice(at + 1).toLowerCase());
  if (!domain) throw new InvalidEmailError('email domain is not a valid domain name');
  if (Buffer.byteLength(local) > MAX_LOCAL)
    throw new InvalidEmailError(`email local part is longer than ${MAX_LOCAL} characters`);
  if (!LOCAL_PART.test(local)) throw new InvalidEmailError('email local part has characters that are not allowed');
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l)))
    throw new InvalidEmailError('email domain is not a valid domain name');
  const address = `${local}@${domain}`;
  if (address.length > MAX_ADDRESS) throw new InvalidEmailError(`email is longer than ${MAX_ADDRESS} characters`);
  return address;
}

/**
 * The key under which an address is indexed and suppressed. Lower-cased whole, so Foo@x and foo@x are one
 * person for uniqueness and suppression even though the local part is delivered as typed.
 */
export function emailHash(normalised: string): string {
  return createHash('sha256').update(normalised.toLowerCase()).digest('hex');
}

/** A loggable stand-in for an address: never log addresses in clear. */
export function redactEmail(normalised: string): string {
  return emailHash(normalised).slice(0, 12);
}
