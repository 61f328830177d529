import type { AuditEntry } from '../../domain/audit';
import { command, positiveInt, str } from '../command-spec';
import { formatTime, table } from '../format';
import { err, out, terminalWidth } from '../output';
import { PROG } from '../program';

/** How an actor reads in a table: the operator's login, "admin-token", or "cli:<os user>". */
export function actorLabel(a: AuditEntry['actor']): string {
  if (a.kind === 'operator') return `${a.email ?? a.id ?? '?'}${a.via === 'api-token' ? ' (token)' : ''}`;
  if (a.kind === 'cli') return `cli${a.id ? `:${a.id}` : ''}`;
  return a.kind;
}

const auditList = command<{ query: Record<string, string>; json: boolean }>({
  group: 'audit',
  name: 'list',
  synopsis: '[--limit N] [--actor A] [--action X] [--cursor C] [--json]',
  summary: 'Show the audit log, newest first',
  details: [
    '--actor takes an operator login or id, "admin-token" or "cli"; --action an action name (campaign.send) or a ' +
      'prefix ending in a dot (campaign.). A next page is named by the cursor printed at the end.',
  ],
  positionals: [],
  options: {
    limit: { type: 'string', value: 'N', help: 'Entries per page, 1-200 (default 50)' },
    actor: { type: 'string', value: 'A', help: 'Only this actor' },
    action: { type: 'string', value: 'X', help: 'Only this action, or actions starting with it (ending in .)' },
    cursor: { type: 'string', value: 'C', help: 'Go on from a previous page' },
    json: { type: 'boolean', help: 'Print JSON, as GET /api/admin/audit answers' },
  },
  examples: [`${PROG} audit list --action campaign. --limit 20`],
  parse(values) {
    const query: Record<string, string> = {};
    const limit = str(values, 'limit');
    if (limit !== undefined) query.limit = String(positiveInt(limit, '--limit'));
    for (const k of ['actor', 'action', 'cursor'] as const) {
      const v = str(values, k);
      if (v !== undefined) query[k] = v;
    }
    return { query, json: Boolean(values.json) };
  },
  async run({ container }, input) {
    const page = await container.audit.list(input.query);
    if (input.json) return void out(JSON.stringify(page, null, 2));
    out(
      table(
        page.entries,
        [
          { header: 'AT', value: (e) => formatTime(e.at) },
          { header: 'ACTOR', value: (e) => actorLabel(e.actor) },
          { header: 'ACTION', value: (e) => e.action },
          { header: 'OBJECT', value: (e) => `${e.object.type}${e.object.id ? ` ${e.object.id}` : ''}` },
          { header: 'IP', value: (e) => e.ip ?? '' },
          {
            header: 'DETAIL',
            value: (e) =>
              e.detail
                ? Object.entries(e.detail)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(' ')
                : '',
            flex: true,
          },
        ],
        { maxWidth: terminalWidth(), empty: 'No entries.' },
      ),
    );
    if (page.next) err(`more: ${PROG} audit list --cursor ${page.next}`);
  },
});

export const AUDIT_COMMANDS = [auditList];
