import { COMMANDS } from './command-list';
import { commandName, GROUPS, type CommandSpec, type Group } from './command-spec';
import { PROG } from './program';

function optionLines(spec: CommandSpec<unknown>): [string, string][] {
  const lines: [string, string][] = Object.entries(spec.options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`,
    o.help,
  ]);
  lines.push(['-h, --help', 'Show this help']);
  return lines;
}

/**
 * Rows of "left  right", the right column aligned at `width` (default: the widest left, up to 56);
 * longer lefts wrap.
 */
function twoColumns(
  rows: [string, string][],
  width = Math.min(Math.max(...rows.map(([a]) => a.length)), 56),
  indent = 2,
): string {
  return rows
    .map(([a, b]) =>
      a.length > width
        ? `${' '.repeat(indent)}${a}\n${' '.repeat(indent + width + 2)}${b}`
        : `${' '.repeat(indent)}${a.padEnd(width)}  ${b}`,
    )
    .join('\n');
}

const usageOf = (spec: CommandSpec<unknown>, brief = false) => {
  const synopsis = brief ? (spec.brief ?? spec.synopsis) : spec.synopsis;
  return `${commandName(spec)}${synopsis ? ` ${synopsis}` : ''}`;
};

export function commandHelp(spec: CommandSpec<unknown>): string {
  const parts = [`Usage: ${PROG} ${usageOf(spec)}`, '', spec.summary + '.'];
  for (const d of spec.details ?? []) parts.push('', d);
  parts.push('', 'Options:', twoColumns(optionLines(spec)));
  if (spec.examples?.length) parts.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return parts.join('\n');
}

export function groupHelp(group: Group): string {
  const specs = COMMANDS.filter((c) => c.group === group);
  return [
    `Usage: ${PROG} ${group} <command> [options]`,
    '',
    `${GROUPS[group]}:`,
    twoColumns(specs.map((s) => [usageOf(s, true), s.summary])),
    '',
    `Run '${PROG} ${group} <command> --help' for a command's options.`,
  ].join('\n');
}

export function mainHelp(): string {
  // One width for every section, so the summaries line up down the page.
  const width = Math.min(Math.max(...COMMANDS.map((c) => usageOf(c, true).length)), 56);
  const sections = (Object.keys(GROUPS) as Group[]).map(
    (g) =>
      `${GROUPS[g]}:\n${twoColumns(
        COMMANDS.filter((c) => c.group === g).map((s) => [usageOf(s, true), s.summary]),
        width,
      )}`,
  );
  return [
    'Operator CLI of the newsletter service.',
    '',
    `Usage: ${PROG} <command> [options]`,
    `       ${PROG} <command> --help`,
    '',
    ...sections.flatMap((s) => [s, '']),
    'Settings come from the environment, as for npm start (REDIS_URL, REDIS_PREFIX, SMTP_URL, DATA_DIR, ...). With no',
    'REDIS_URL the CLI finds the same Redis npm start uses: 127.0.0.1:6379, ' +
      'else the embedded one under DATA_DIR/redis.',
    'Results go to stdout; progress, hints and errors to stderr. Logs: LOG_LEVEL (default warn here), on stderr.',
    '',
    'Exit codes: 0 done; 1 failed, or a followed campaign ended failed or cancelled; 2 usage error;',
    '            3 a followed campaign paused; 130 interrupted (Ctrl-C).',
  ].join('\n');
}
