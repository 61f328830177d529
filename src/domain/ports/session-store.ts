/** A signed-in session as kept: who, and the CSRF token bound to it. */
export interface SessionRecord {
  /** The operator's id; absent for the bootstrap session of the ADMIN_TOKEN (see `Sessions`). */
  operatorId?: string;
  csrfToken: string;
  /** Epoch ms: the session ends `maxMs` after this whatever happens. */
  createdAt: number;
  /** Epoch ms of the last request: it ends `idleMs` after this. */
  lastSeenAt: number;
  ip?: string;
}

/**
 * Sessions by the SHA-256 of their id, so a copy of the store holds no cookie that works. `ttlMs` lets the store
 * forget a session on its own once it cannot be valid any more; validity itself is judged by `Sessions` on its clock.
 */
export interface SessionStore {
  put(idHash: string, session: SessionRecord, ttlMs: number): Promise<void>;
  get(idHash: string): Promise<SessionRecord | null>;
  touch(idHash: string, lastSeenAt: number, ttlMs: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  /** Ends every session of one operator (disabled, password reset). */
  deleteAllOf(operatorId: string): Promise<void>;
}
