import type { Env } from '../config';
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

/** What a command that needs no service gets: the validated settings, no connection. */
export interface OfflineCtx {
  settings: Env;
  signal: AbortSignal;
}

interface CommandSpecBase<I> {
  group: Group;
  /** Empty for a group that is one command (`outbox`). */
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
}

/** A command runs with the booted service (`run`), or with the settings alone and no Redis (`offline`). */
export type CommandSpec<I> = CommandSpecBase<I> &
  (
    | { run(ctx: Ctx, input: I): Promise<number | void>; offline?: undefined }
    | { offline(ctx: OfflineCtx, input: I): Promise<number | void>; run?: undefined }
  );

export type Group = 'articles' | 'subscribers' | 'newsletter' | 'campaign' | 'operators' | 'audit' | 'outbox';

export const GROUPS: Record<Group, string> = {
  articles: 'Articles',
  subscribers: 'Subscribers',
  newsletter: 'Newsletters',
  campaign: 'Campaigns',
  operators: 'Operators',
  audit: 'Audit log',
  outbox: 'Development',
};

/** How a command is named on the command line and in messages: "campaign send", "outbox". */
export function commandName(spec: { group: Group; name: string }): string {
  return spec.name ? `${spec.group} ${spec.name}` : spec.group;
}

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
