import type { Redis } from 'ioredis';
import type { AuditEntry, AuditLog, AuditQuery } from '../domain/ports/audit-log';
import type { Keys } from './keys';

/** Options of `AuditStore`. */
export interface AuditStoreOptions {
  /** Entries kept, about (XADD MAXLEN ~ trims whole stream nodes, so a few more may stay). Default 100 000. */
  maxEntries?: number;
}

/** Entries read per round trip while filtering; a page with a rare filter reads at most SCAN_LIMIT entries. */
const BATCH = 200;
const SCAN_LIMIT = 10_000;

/**
 * AuditLog on a Redis Stream: append-only, ordered by time, its ids the cursors, capped by length so it never grows
 * without bound. Each entry is one JSON field.
 */
export class AuditStore implements AuditLog {
  private readonly maxEntries: number;

  constructor(
    private readonly deps: { redis: Redis; keys: Keys },
    opts: AuditStoreOptions = {},
  ) {
    this.maxEntries = opts.maxEntries ?? 100_000;
  }

  async append(entry: AuditEntry): Promise<void> {
    const { redis, keys } = this.deps;
    await redis.xadd(keys.auditLog(), 'MAXLEN', '~', this.maxEntries, '*', 'e', JSON.stringify(entry));
  }

  async list(q: AuditQuery): Promise<{ entries: (AuditEntry & { id: string })[]; next?: string }> {
    const { redis, keys } = this.deps;
    const entries: (AuditEntry & { id: string })[] = [];
    // '(' makes the end exclusive (Redis 6.2+): the cursor is the last entry of the previous page.
    let end = q.cursor ? `(${q.cursor}` : '+';
    let scanned = 0;
    let lastId: string | undefined;
    for (;;) {
      const batch = await redis.xrevrange(keys.auditLog(), end, '-', 'COUNT', BATCH);
      for (const [id, fields] of batch) {
        lastId = id;
        scanned++;
        const entry = JSON.parse(fields[1]) as AuditEntry;
        if (matches(entry, q)) entries.push({ id, ...entry });
        if (entries.length === q.limit) return { entries, next: id };
      }
      if (batch.length < BATCH) return { entries };
      // A rare filter on a long log: hand back what was found and where to go on, rather than read it all.
      if (scanned >= SCAN_LIMIT) return { entries, next: lastId };
      end = `(${lastId}`;
    }
  }
}

function matches(e: AuditEntry, q: AuditQuery): boolean {
  if (q.action && (q.action.endsWith('.') ? !e.action.startsWith(q.action) : e.action !== q.action)) return false;
  if (q.actor && q.actor !== e.actor.id && q.actor !== e.actor.email && q.actor !== e.actor.kind) return false;
  return true;
}
