import { z } from 'zod';
import { emailHash, normaliseEmail } from './email-address';
import type { Clock } from './ports/clock';
import type { AuditActor, AuditEntry, AuditLog } from './ports/audit-log';
import { parseFields } from './validation';

export type { AuditActor, AuditEntry };

/** What an audit entry is about: its type ('campaign', 'subscriber', 'operator', …) and id when it has one. */
export interface AuditObject {
  type: string;
  id?: string;
}

const query = z.strictObject({
  cursor: z
    .string()
    .regex(/^\d{1,20}-\d{1,20}$/, 'must be a cursor from a previous page')
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  actor: z.string().trim().min(1).max(254).optional(),
  action: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]*)*$/, "must be an action name like 'campaign.send' or a prefix like 'campaign.'")
    .optional(),
});

/**
 * The audit trail: who changed what, when. Entries are written at the edges, once per entry point (the admin API's
 * middleware, the CLI's command runner, the sign-in routes), never from inside use cases, so every path records the
 * same way and no use case can forget. Writing never fails the change it records: the change has happened by then.
 */
export class Audit {
  constructor(private readonly deps: { log: AuditLog; clock: Clock; logger: { warn(o: object, m: string): void } }) {}

  async record(
    actor: AuditActor,
    action: string,
    object: AuditObject,
    extra: { ip?: string; detail?: AuditEntry['detail'] } = {},
  ): Promise<void> {
    const entry: AuditEntry = {
      at: this.deps.clock.now().toISOString(),
      actor,
      action,
      object,
      ...(extra.ip ? { ip: extra.ip } : {}),
      ...(extra.detail && Object.keys(extra.detail).length ? { detail: extra.detail } : {}),
    };
    try {
      await this.deps.log.append(entry);
    } catch (err) {
      this.deps.logger.warn({ event: 'audit.write_failed', action, err: (err as Error).message }, 'audit entry lost');
    }
  }

  /** A page of entries newest first; the query as the API and the CLI take it (strings), validated. */
  list(input: unknown) {
    return this.deps.log.list(parseFields(query, input, 'invalid_request', { unknownKey: 'is not a filter' }));
  }
}

/**
 * A person's address as the audit log names it: the start of its hash (as the erasure log keeps it), never the
 * address, so an erased person does not live on in the log.
 */
export function redactedAddress(address: string): string {
  let normalised: string;
  try {
    normalised = normaliseEmail(address);
  } catch {
    normalised = address.trim();
  }
  return `sha256:${emailHash(normalised).slice(0, 16)}`;
}
