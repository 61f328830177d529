import type { Container } from '../container';
import { UsageError } from './errors';

export type Values = Record<string, string | boolean | undefined>;

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder of the value in the help. */
  value?: string;
  help: string;
}

export interface Ctx {
  container: Container;
  /** Aborted on Ctrl-C: long commands stop cleanly and say what happened. */
  signal: AbortSignal;
}

export interface CommandSpec<I> {
  group: Group;
  name: string;
  /** Synopsis after the command's name, as in the help. */
  synopsis: string;
  /** A shorter synopsis for the list of all commands. Default: `synopsis`. */
  brief?: string;
  summary: string;
  /** Paragraphs after the synopsis in the command's help. */
  details?: string[];
  positionals: { name: string; optional?: boolean }[];
  options: Record<string, OptionSpec>;
  examples?: string[];
  /** Turns the arguments into the command's input; throws UsageError. Runs before anything connects. */
  parse(values: Values, positionals: string[]): I;
  run(ctx: Ctx, input: I): Promise<number | void>;
}

export type Group = 'articles' | 'subscribers' | 'campaign';

export const GROUPS: Record<Group, string> = {
  articles: 'Articles',
  subscribers: 'Subscribers',
  campaign: 'Campaigns',
};

export function command<I>(spec: CommandSpec<I>): CommandSpec<unknown> {
  return spec;
}

// ---------------------------------------------------------------------------------------------------------------
// Argument helpers

export function positiveInt(raw: string, what: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${what} must be a positive whole number, got "${raw}"`);
  return n;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(values: Values, name: string, spec: string): string {
  const v = str(values, name);
  if (v === undefined) throw new UsageError(`missing --${name}`, spec);
  if (!v.trim()) throw new UsageError(`--${name} must not be empty`, spec);
  return v;
}
