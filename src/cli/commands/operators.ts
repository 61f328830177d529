import { ROLES, type Operator } from '../../domain/operator';
import { command, str, type Values } from '../command-spec';
import { UsageError } from '../errors';
import { formatTime, table } from '../format';
import { out, terminalWidth } from '../output';
import { readPassword } from '../password-input';
import { PROG } from '../program';

function roleOf(values: Values, spec: string): string {
  const role = str(values, 'role');
  if (role === undefined) throw new UsageError('missing --role', spec);
  if (!(ROLES as readonly string[]).includes(role))
    throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${role}"`, spec);
  return role;
}

const PASSWORD_STDIN = {
  'password-stdin': { type: 'boolean', help: 'Read the password from standard input (for scripts)' },
} as const;

const operatorsAdd = command<{ email: string; role: string; name?: string; passwordStdin: boolean }>({
  group: 'operators',
  name: 'add',
  synopsis: '<email> --role admin|editor|viewer [--name N] [--password-stdin]',
  brief: '<email> --role R [--name N]',
  summary: 'Add an operator who can sign in to the console and call the admin API',
  details: [
    'The password is typed at a prompt that does not echo, or read from standard input when it is piped ' +
      '(--password-stdin says so explicitly). At least 12 characters; no other rules.',
    'Roles: admin (everything, including erasure and operators), editor (articles, newsletters, imports, ' +
      'campaigns: compose, test, schedule, send, pause, resume, cancel), viewer (reads only).',
  ],
  positionals: [{ name: 'email' }],
  options: {
    role: { type: 'string', value: 'R', help: 'admin, editor or viewer' },
    name: { type: 'string', value: 'N', help: 'Name shown in the console (default: the part before @)' },
    ...PASSWORD_STDIN,
  },
  examples: [
    `${PROG} operators add editor@example.com --role admin --name "Ada Editor"`,
    `printf '%s' "$PASSWORD" | ${PROG} operators add script@example.com --role viewer --password-stdin`,
  ],
  parse: (values, [email]) => ({
    email,
    role: roleOf(values, 'operators add'),
    name: str(values, 'name'),
    passwordStdin: Boolean(values['password-stdin']),
  }),
  async run({ container, signal }, input) {
    const password = await readPassword({ fromStdin: input.passwordStdin, signal });
    const o = await container.operators.create({
      email: input.email,
      role: input.role,
      password,
      ...(input.name !== undefined ? { name: input.name } : {}),
    });
    out(`added operator ${o.id}: ${o.email} (${o.role})`);
  },
});

const operatorsList = command<{ json: boolean }>({
  group: 'operators',
  name: 'list',
  synopsis: '[--json]',
  summary: 'List the operators',
  positionals: [],
  options: { json: { type: 'boolean', help: 'Print JSON' } },
  parse: (values) => ({ json: Boolean(values.json) }),
  async run({ container }, input) {
    const all = await container.operators.list();
    if (input.json) return void out(JSON.stringify(all, null, 2));
    out(
      table(
        all,
        [
          { header: 'ID', value: (o: Operator) => o.id },
          { header: 'EMAIL', value: (o) => o.email },
          { header: 'ROLE', value: (o) => o.role },
          { header: 'STATUS', value: (o) => (o.disabled ? 'disabled' : 'enabled') },
          { header: 'CREATED', value: (o) => formatTime(o.createdAt) },
          { header: 'NAME', value: (o) => o.name, flex: true },
        ],
        {
          maxWidth: terminalWidth(),
          empty: `No operators yet. Add the first admin: ${PROG} operators add <email> --role admin`,
        },
      ),
    );
  },
});

const operatorsSetRole = command<{ who: string; role: string }>({
  group: 'operators',
  name: 'set-role',
  synopsis: '<email|id> --role admin|editor|viewer',
  summary: "Change an operator's role",
  details: ['The last enabled admin cannot be demoted. The change applies to their next request.'],
  positionals: [{ name: 'email|id' }],
  options: { role: { type: 'string', value: 'R', help: 'admin, editor or viewer' } },
  parse: (values, [who]) => ({ who, role: roleOf(values, 'operators set-role') }),
  async run({ container }, input) {
    const o = await container.operators.setRole(input.who, input.role);
    out(`operator ${o.id} (${o.email}) is now ${o.role}`);
  },
});

const operatorsDisable = command<{ who: string }>({
  group: 'operators',
  name: 'disable',
  synopsis: '<email|id>',
  summary: 'Disable an operator: signed out at once, tokens stop working',
  details: ['The last enabled admin cannot be disabled. The record stays, so the audit log still names them.'],
  positionals: [{ name: 'email|id' }],
  options: {},
  parse: (_values, [who]) => ({ who }),
  async run({ container }, input) {
    const o = await container.operators.disable(input.who);
    out(`operator ${o.id} (${o.email}) is disabled and signed out`);
  },
});

const operatorsEnable = command<{ who: string }>({
  group: 'operators',
  name: 'enable',
  synopsis: '<email|id>',
  summary: 'Enable a disabled operator again',
  positionals: [{ name: 'email|id' }],
  options: {},
  parse: (_values, [who]) => ({ who }),
  async run({ container }, input) {
    const o = await container.operators.enable(input.who);
    out(`operator ${o.id} (${o.email}) is enabled`);
  },
});

const operatorsResetPassword = command<{ who: string; passwordStdin: boolean }>({
  group: 'operators',
  name: 'reset-password',
  synopsis: '<email|id> [--password-stdin]',
  summary: "Set an operator's password; their sessions end",
  positionals: [{ name: 'email|id' }],
  options: { ...PASSWORD_STDIN },
  parse: (values, [who]) => ({ who, passwordStdin: Boolean(values['password-stdin']) }),
  async run({ container, signal }, input) {
    // Known before the password is asked for: a typo in the login should not cost typing a password twice.
    await container.operators.find(input.who);
    const password = await readPassword({ fromStdin: input.passwordStdin, signal });
    const o = await container.operators.resetPassword(input.who, password);
    out(`new password set for operator ${o.id} (${o.email}); their sessions have ended`);
  },
});

/** The operators group, in help order. */
export const OPERATOR_COMMANDS = [
  operatorsAdd,
  operatorsList,
  operatorsSetRole,
  operatorsDisable,
  operatorsEnable,
  operatorsResetPassword,
];
