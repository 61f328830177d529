import { z } from 'zod';
import { InvalidEmailError, normaliseEmail } from './email-address';
import { ValidationError } from './errors';
import { oneLine, parseFields } from './validation';

/** The roles, least to most: each can do everything the ones before it can. */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `role` may do what `needed` may. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** A person who runs the service: signs in to the console, calls the admin API with their own tokens. */
export interface Operator {
  /** Stable, never reused. */
  id: string;
  /** The login: a normalised address, lower-cased whole (a login is not a mailbox: Foo@x and foo@x are one person). */
  email: string;
  name: string;
  role: Role;
  /** ISO time. */
  createdAt: string;
  /** A disabled operator can neither sign in nor use their tokens; the record stays for the audit log. */
  disabled?: boolean;
}

/** An operator's API token as listed: the secret itself is shown once, when made, and only its SHA-256 is kept. */
export interface ApiToken {
  id: string;
  name: string;
  createdAt: string;
  /** Updated at most once a minute, so a busy script does not write on every call. */
  lastUsedAt?: string;
}

/**
 * Passwords: at least 12 characters and no composition rules, as NIST SP 800-63B (5.1.1.2) advises: length is what
 * makes a password hard to guess, and "one digit, one symbol" rules push people to predictable patterns
 * (Password1!). At most 1024, so nobody can make the server hash megabytes.
 */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

export function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length === 0)
    throw new ValidationError('invalid_password', 'password is required');
  // Counted in code points, as a person counts characters (NIST: each Unicode code point is one character).
  const length = [...password].length;
  if (length < PASSWORD_MIN)
    throw new ValidationError('invalid_password', `password must be at least ${PASSWORD_MIN} characters`);
  if (length > PASSWORD_MAX)
    throw new ValidationError('invalid_password', `password must be at most ${PASSWORD_MAX} characters`);
  return password;
}

/** A login as stored and looked up; throws ValidationError (invalid_operator) when it is not an address. */
export function normaliseLogin(input: unknown): string {
  try {
    return normaliseEmail(input).toLowerCase();
  } catch (e) {
    if (e instanceof InvalidEmailError) throw new ValidationError('invalid_operator', e.message);
    throw e;
  }
}

const role = z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` });

const newOperator = z.strictObject({
  email: z.unknown(),
  name: oneLine(100).optional(),
  role,
  password: z.unknown(),
});

/** A new operator's fields, validated: the email normalised, the name defaulting to the address's local part. */
export function parseNewOperator(input: unknown): { email: string; name: string; role: Role; password: string } {
  const fields = parseFields(newOperator, input, 'invalid_operator', { unknownKey: 'is not a field of an operator' });
  const email = normaliseLogin(fields.email);
  return {
    email,
    name: fields.name ?? email.split('@')[0],
    role: fields.role,
    password: checkPassword(fields.password),
  };
}

export function parseRole(input: unknown): Role {
  return parseFields(role, input, 'invalid_operator', { whole: 'role' });
}
