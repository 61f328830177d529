import { redactedAddress } from '../domain/audit';

/** What a state-changing command records: the action (as the admin API names it) and the object. */
interface CliAuditSpec {
  action: string;
  type: string;
  /** Which positional names the object. */
  positional?: number;
  /** The positional is a person's address: keep only its hash. */
  redact?: boolean;
}

const campaign = (action: string): CliAuditSpec => ({ action: `campaign.${action}`, type: 'campaign', positional: 0 });
const operator = (action: string): CliAuditSpec => ({ action: `operator.${action}`, type: 'operator', positional: 0 });

/**
 * The CLI commands that change state, by name, and what each records in the audit log; the command runner writes
 * the entry after a command succeeds. Commands not listed only read. Action names match the admin API's route table,
 * so one action reads the same whoever did it and how.
 */
export const CLI_AUDIT: Record<string, CliAuditSpec> = {
  'articles add': { action: 'article.create', type: 'article' },
  'subscribers import': { action: 'subscriber.import', type: 'import' },
  'subscribers erase': { action: 'subscriber.erase', type: 'subscriber', positional: 0, redact: true },
  'newsletter create': { action: 'newsletter.create', type: 'newsletter', positional: 0 },
  'newsletter update': { action: 'newsletter.update', type: 'newsletter', positional: 0 },
  'campaign create': { action: 'campaign.create', type: 'campaign' },
  'campaign edit': campaign('update'),
  'campaign delete': campaign('delete'),
  'campaign test': campaign('test'),
  'campaign send': campaign('send'),
  'campaign schedule': campaign('schedule'),
  'campaign unschedule': campaign('unschedule'),
  'campaign pause': campaign('pause'),
  'campaign resume': campaign('resume'),
  'campaign cancel': campaign('cancel'),
  'operators add': operator('create'),
  'operators set-role': operator('set_role'),
  'operators disable': operator('disable'),
  'operators enable': operator('enable'),
  'operators reset-password': operator('reset_password'),
};

/** The audit entry of a command that succeeded, or undefined for a command that only reads. */
export function cliAuditOf(
  name: string,
  positionals: string[],
): { action: string; object: { type: string; id?: string } } | undefined {
  const spec = CLI_AUDIT[name];
  if (!spec) return undefined;
  const raw = spec.positional !== undefined ? positionals[spec.positional] : undefined;
  const id = raw === undefined ? undefined : spec.redact ? redactedAddress(raw) : raw;
  return { action: spec.action, object: { type: spec.type, ...(id !== undefined ? { id } : {}) } };
}
