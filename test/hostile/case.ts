import type { World } from './world';

/** A value of a case, or how to make it from the seeded world (a token, an id). */
export type Lazy<T> = T | ((w: World) => T);

/** Who the request claims to be. */
export type Auth =
  /** no credential at all */
  | 'none'
  /** `Authorization: Bearer <ADMIN_TOKEN>` */
  | 'admin'
  /** an editor operator's API token */
  | 'editor'
  /** a viewer operator's API token */
  | 'viewer'
  /** the console's session cookie with its CSRF token and this site's Origin, as the console's scripts send */
  | 'session'
  /** the session cookie alone: a cross-site form post would carry only that */
  | 'session-no-csrf';

/** What a refusal must look like. */
export interface Expected {
  status: number;
  /** `{"error":{"code"}}` of a JSON answer. */
  code?: string;
  /** An HTML answer (a form's page) whose text matches. */
  page?: RegExp;
  /** A redirect's Location. */
  location?: string;
  /** Anything else the answer must show (e.g. an import's summary). */
  check?: (answer: { status: number; text: string; json: unknown }) => void;
}

/** One hostile request and what it must get. */
export interface HostileCase {
  name: string;
  method?: string;
  path: Lazy<string>;
  auth?: Auth;
  headers?: Lazy<Record<string, string | string[]>>;
  /** A string or bytes as sent; an object is sent as JSON (with `content-type: application/json` unless given). */
  body?: Lazy<string | Buffer | object>;
  /** Bytes written straight to the socket instead (what node:http will not send). */
  raw?: Lazy<string | Buffer>;
  expect: Expected;
}

/** A case as a table writes it inside a group: what the group gives may be left out. */
export type Case = Partial<HostileCase> & { name: string };

/** Cases that share a path, method, credential or expectation: each case gives what it does not share. */
export function group(defaults: Partial<HostileCase>, cases: Case[]): HostileCase[] {
  // Groups nest (an inner one gives the method, the outer one the path): what is still missing at the top shows when
  // the case runs, as a request without a path.
  return cases.map((c) => ({ ...defaults, ...c }) as HostileCase);
}

/** A JSON body in which every one of `fields` in turn is replaced by each wrong-typed value. */
export function wrongTypes(
  base: Record<string, unknown>,
  fields: string[],
  values: [label: string, value: unknown][] = WRONG_TYPES,
): [field: string, label: string, body: Record<string, unknown>][] {
  return fields.flatMap((f) =>
    values.map(([label, v]) => [f, label, { ...base, [f]: v }] as [string, string, Record<string, unknown>]),
  );
}

/** Values of the wrong type where a string belongs. */
export const WRONG_TYPES: [string, unknown][] = [
  ['an array', ['a@b.test']],
  ['an object', { $gt: '' }],
  ['a number', 42],
  ['true', true],
  ['null', null],
];

/** A JSON document nested `depth` arrays deep. */
export const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

export const resolve = <T>(v: Lazy<T> | undefined, w: World): T | undefined =>
  typeof v === 'function' ? (v as (w: World) => T)(w) : v;
