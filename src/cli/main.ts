import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { AuditActor } from '../domain/audit';
import { DomainError } from '../domain/errors';
import { errorStack } from '../lib/errors';
import { cliAuditOf } from './audit-actions';
import { COMMANDS } from './command-list';
import { commandName, GROUPS, type CommandSpec, type Group, type Values } from './command-spec';
import { CliError, UsageError } from './errors';
import { EXIT } from './exit-codes';
import { closest } from './format';
import { commandHelp, groupHelp, mainHelp } from './help';
import { err, out } from './output';
import { PROG } from './program';

/**
 * The operator CLI: `npm run cli -- <command>`. Boots like `npm start` (same settings, same Redis discovery) but
 * never listens or runs workers; each command parses its arguments, calls one use case and prints the result.
 * Usage errors are found before anything connects, so a typo answers at once and needs no Redis.
 */

// ---------------------------------------------------------------------------------------------------------------
// Dispatch

type Invocation =
  | { kind: 'help'; text: string; code: number }
  | { kind: 'run'; spec: CommandSpec<unknown>; input: unknown; positionals: string[] };

const isHelp = (a: string) => a === '--help' || a === '-h';

function resolveInvocation(argv: string[]): Invocation {
  let args = argv;
  if (args[0] === 'help') args = [...args.slice(1), '--help'];
  const [groupArg, name, ...rest] = args;
  if (groupArg === undefined) return { kind: 'help', text: mainHelp(), code: EXIT.usage };
  if (isHelp(groupArg)) return { kind: 'help', text: mainHelp(), code: EXIT.ok };
  if (!(groupArg in GROUPS)) {
    // "send" alone names a command of a group; anything else may be a typo of a group.
    const sub = COMMANDS.find((c) => c.name && c.name === groupArg);
    const guess = sub ? commandName(sub) : closest(groupArg, Object.keys(GROUPS));
    const hint = guess ? ` Did you mean "${guess}"?` : '';
    throw new UsageError(`unknown command "${groupArg}".${hint}`);
  }
  const group = groupArg as Group;
  // A group that is one command takes its options right after its name.
  const solo = COMMANDS.find((c) => c.group === group && c.name === '');
  if (solo) return invocationOf(solo, args.slice(1));
  if (name === undefined) return { kind: 'help', text: groupHelp(group), code: EXIT.usage };
  if (isHelp(name)) return { kind: 'help', text: groupHelp(group), code: EXIT.ok };
  const spec = COMMANDS.find((c) => c.group === group && c.name === name);
  if (!spec) {
    const guess = closest(
      name,
      COMMANDS.filter((c) => c.group === group).map((c) => c.name),
    );
    throw new UsageError(
      `unknown command "${group} ${name}".${guess ? ` Did you mean "${group} ${guess}"?` : ''}`,
      group,
    );
  }
  return invocationOf(spec, rest);
}

/** Parses one command's arguments (after its name) into its input, or answers with its help. */
function invocationOf(spec: CommandSpec<unknown>, rest: string[]): Invocation {
  const key = commandName(spec);
  // Help wins over every other mistake on the line: asking for it is how one fixes them.
  if (rest.some(isHelp)) return { kind: 'help', text: commandHelp(spec), code: EXIT.ok };

  let parsed: { values: Values; positionals: string[] };
  try {
    const options = Object.fromEntries(
      Object.entries(spec.options).map(([n, o]) => [n, { type: o.type, ...(o.short ? { short: o.short } : {}) }]),
    );
    const result = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    parsed = { values: result.values, positionals: result.positionals };
  } catch (e) {
    throw new UsageError(argsErrorMessage(e as Error & { code?: string }, spec), key);
  }
  const { positionals } = parsed;
  const needed = spec.positionals.filter((p) => !p.optional).length;
  if (positionals.length < needed) throw new UsageError(`missing <${spec.positionals[positionals.length].name}>`, key);
  if (positionals.length > spec.positionals.length)
    throw new UsageError(`unexpected argument "${positionals[spec.positionals.length]}"`, key);
  try {
    return { kind: 'run', spec, input: spec.parse(parsed.values, positionals), positionals };
  } catch (e) {
    if (e instanceof UsageError && !e.helpFor) throw new UsageError(e.message, key);
    throw e;
  }
}

/** Node's parseArgs messages, made short and specific to this command. */
function argsErrorMessage(e: Error & { code?: string }, spec: CommandSpec<unknown>): string {
  const option = /'(-{1,2}[^' ]+)/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
    const known = Object.keys(spec.options);
    const guess = closest(option.replace(/^-+/, ''), known);
    const hint = guess ? `. Did you mean --${guess}?` : known.length ? '' : ' (it takes none)';
    return `unknown option ${option} for "${commandName(spec)}"${hint}`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return /does not take an argument/.test(e.message) ? `${option} does not take a value` : `${option} needs a value`;
  }
  return e.message;
}

/**
 * Boots as src/main.ts does, minus the HTTP server and the workers. Loaded on demand: help and usage errors answer
 * without loading Express, MJML and BullMQ.
 */
async function boot() {
  const [{ default: pino }, { boot: bootService }] = await Promise.all([import('pino'), import('../runtime/boot')]);
  return bootService({
    role: 'cli',
    requireRedis: true,
    // Logs go to stderr so stdout holds only results; info-level events would drown the CLI's own output.
    logger: (config) =>
      pino(
        { level: process.env.LOG_LEVEL ? config.logLevel : 'warn', base: { service: 'newsletter', role: 'cli' } },
        pino.destination({ dest: 2, sync: true }),
      ),
  });
}

/** The CLI runs on the server, as one of its users: that user is who the audit log names. */
function cliActor(): AuditActor {
  try {
    return { kind: 'cli', id: userInfo().username };
  } catch {
    // No passwd entry for this uid (some containers).
    return { kind: 'cli' };
  }
}

/** Codes of ConfigError and RedisUnavailableError (classes loaded with the container): their messages say it all. */
const BOOT_ERRORS = new Set(['invalid_config', 'redis_unavailable']);

function reportFailure(e: unknown): number {
  if (e instanceof DomainError) {
    err(`error: ${e.message}`);
    const issues = (e.details as { issues?: { field: string; message: string }[] } | undefined)?.issues;
    if (issues && issues.length > 1) for (const i of issues.slice(1)) err(`       ${i.field} ${i.message}`);
  } else if (e instanceof CliError || (e instanceof Error && BOOT_ERRORS.has((e as { code?: string }).code ?? ''))) {
    err(`error: ${e.message}`);
  } else {
    err(`error: unexpected failure: ${errorStack(e)}`);
  }
  return EXIT.failed;
}

async function main(argv: string[]): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = resolveInvocation(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${e.message}`);
      err(`Run '${PROG} ${e.helpFor ? `${e.helpFor} ` : ''}--help' for usage.`);
      return EXIT.usage;
    }
    if (e instanceof CliError) return reportFailure(e);
    throw e;
  }
  if (invocation.kind === 'help') {
    (invocation.code === EXIT.ok ? out : err)(invocation.text);
    return invocation.code;
  }

  const abort = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    // The first Ctrl-C lets the command stop cleanly; a second one does not wait.
    if (++interrupts > 1) process.exit(EXIT.interrupted);
    abort.abort();
  });

  const { spec, input, positionals } = invocation;
  if (spec.offline) {
    try {
      const { loadDotEnv, parseEnv } = await import('../config');
      loadDotEnv();
      return (await spec.offline({ settings: parseEnv(process.env), signal: abort.signal }, input)) ?? EXIT.ok;
    } catch (e) {
      return reportFailure(e);
    }
  }
  let app: Awaited<ReturnType<typeof boot>> | undefined;
  try {
    app = await boot();
    const code = (await spec.run({ container: app.container, signal: abort.signal }, input)) ?? EXIT.ok;
    // The one place the CLI records, as the server's own user: a state-changing command that ran to its end. One
    // that returned a failure code may still have changed something (an import interrupted keeps its rows, a
    // followed send that paused was sent), so it is recorded with its exit code; one that threw was refused.
    const entry = cliAuditOf(commandName(spec), positionals);
    if (entry)
      await app.container.audit.record(cliActor(), entry.action, entry.object, {
        detail: code === EXIT.ok ? undefined : { exitCode: code },
      });
    return code;
  } catch (e) {
    return reportFailure(e);
  } finally {
    await app?.close().catch((e) => err(`warning: closing connections failed: ${(e as Error).message}`));
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed, so the process ends by itself; this only guards against a handle a library leaks.
    setTimeout(() => process.exit(code), 5000).unref();
  },
  (e) => {
    process.exitCode = reportFailure(e);
  },
);
