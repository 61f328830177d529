/**
 * Who did it: an operator (console session or their API token), the shared ADMIN_TOKEN, the CLI on the server, or
 * someone who proved nothing (a caller locked out for guessing tokens).
 */
export interface AuditActor {
  kind: 'operator' | 'admin-token' | 'cli' | 'anonymous';
  /** The operator's id; for the CLI, the operating-system user who ran it. */
  id?: string;
  email?: string;
  /** How an operator reached the service: 'session' or 'api-token'. */
  via?: 'session' | 'api-token';
}

/** One state change: who, when, what (a stable action name like 'campaign.send'), on which object. */
export interface AuditEntry {
  /** ISO time. */
  at: string;
  actor: AuditActor;
  action: string;
  object: { type: string; id?: string };
  ip?: string;
  /** A little more about it (a role given, a failed login); never a secret, a password or a token. */
  detail?: Record<string, string | number | boolean>;
}

export interface AuditQuery {
  /** Entries older than this cursor (from a previous page); absent: from the newest. */
  cursor?: string;
  limit: number;
  /** Only entries whose actor has this id or email, or is of this kind ('cli', 'admin-token'). */
  actor?: string;
  /** Only this action, or, ending in '.', the actions starting with it ('campaign.'). */
  action?: string;
}

/** An append-only log of state changes, newest first when read. Bounded: the oldest entries go first. */
export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** A page newest first; `next` is the cursor of the following page, absent at the end. */
  list(query: AuditQuery): Promise<{ entries: (AuditEntry & { id: string })[]; next?: string }>;
}
