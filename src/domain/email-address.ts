import { createHash } from 'node:crypto';
import { toASCII } from 'tr46';

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
 * UTS #46 processing as a mail domain needs it (the options of IDNA2008-style registration checks): nontransitional,
 * so ß and ς stay themselves; STD3 rules, so only letters, digits and hyphens; hyphens, joiners and bidi rules
 * checked; and DNS lengths (labels of 1-63 octets, 253 in all, no empty label).
 */
export const UTS46 = {
  checkBidi: true,
  checkHyphens: true,
  checkJoiners: true,
  useSTD3ASCIIRules: true,
  transitionalProcessing: false,
  verifyDNSLength: true,
} as const;

/**
 * Trims and normalises an address: the domain mapped per UTS #46 (tr46), so it is lower-cased and an IDN domain
 * becomes its A-labels (bücher.example and xn--bcher-kva.example are one address); the local part kept as typed
 * (RFC 5321 says only the receiving host may interpret its case). Throws InvalidEmailError.
 *
 * The domain is never read as a URL host would read it: a URL parser takes 127.1, 0x7f.1 and 2130706433 for IPv4
 * addresses and decodes %41, turning one string into another address. A newsletter mails domain names only, so
 * IP literals and all-digit last labels (no top-level domain is numeric) are refused, as is anything with a '%'.
 */
export function normaliseEmail(input: unknown): string {
  if (input === undefined || input === null || input === '') throw new InvalidEmailError('email is required');
  // A list or an object (a repeated form field, JSON) is no address, not even when it holds one.
  if (typeof input !== 'string') throw new InvalidEmailError('email must be a string');
  const raw = input.trim();
  if (/[\r\n\0]/.test(raw)) throw new InvalidEmailError('email must not contain line breaks or NUL');
  const at = raw.lastIndexOf('@');
  if (at <= 0 || at === raw.length - 1) throw new InvalidEmailError('email must look like name@example.com');
  const local = raw.slice(0, at);
  const given = raw.slice(at + 1);
  if (Buffer.byteLength(local) > MAX_LOCAL)
    throw new InvalidEmailError(`email local part is longer than ${MAX_LOCAL} characters`);
  if (!LOCAL_PART.test(local)) throw new InvalidEmailError('email local part has characters that are not allowed');
  if (given.startsWith('['))
    throw new InvalidEmailError('email domain must be a domain name, not an IP address in brackets');
  if (given.includes('%')) throw new InvalidEmailError('email domain must not contain a percent sign');
  const domain = plainAsciiDomain(given) ?? toASCII(given, UTS46);
  if (!domain) throw new InvalidEmailError('email domain is not a valid domain name');
  const labels = domain.split('.');
  if (/^[0-9]+$/.test(labels[labels.length - 1]))
    throw new InvalidEmailError('email domain must be a domain name, not a number or an IP address');
  if (labels.length < 2) throw new InvalidEmailError('email domain must have a dot, as in example.com');
  // Belt and braces: UTS #46 with STD3 rules leaves only these, but the index and mail headers rely on it.
  if (!labels.every((l) => DOMAIN_LABEL.test(l)))
    throw new InvalidEmailError('email domain is not a valid domain name');
  const address = `${local}@${domain}`;
  if (address.length > MAX_ADDRESS) throw new InvalidEmailError(`email is longer than ${MAX_ADDRESS} characters`);
  return address;
}

/**
 * The domain UTS #46 makes of a plain ASCII one, computed without tr46: lower-cased, when every label is letters, digits
 * and inner hyphens, 1-63 long, without hyphens in the third and fourth places (so no A-label), and the whole at most
 * 253. Undefined for anything else, which tr46 decides. Why: nearly every signup has such a domain, and tr46's
 * per-code-point table lookups were about 2 % of the CPU of the process answering HTTP during signups (profiled with
 * `npm run bench -- --only=signups --signup-cpu-profile=DIR`). A property test holds it to tr46's answer.
 */
export function plainAsciiDomain(given: string): string | undefined {
  if (given.length > 253 || !/^[A-Za-z0-9.-]+$/.test(given)) return undefined;
  const domain = given.toLowerCase();
  const plain = domain.split('.').every((label) => DOMAIN_LABEL.test(label) && label.slice(2, 4) !== '--');
  return plain ? domain : undefined;
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
