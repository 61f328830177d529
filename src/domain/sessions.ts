import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DomainError, RateLimitedError } from './errors';
import type { Operator } from './operator';
import { secretHash, type Operators } from './operators';
import type { Clock } from './ports/clock';
import type { SignInLimits } from './ports/rate-limits';
import type { SessionStore } from './ports/session-store';

/** Options of `Sessions`. */
export interface SessionsOptions {
  /** A session ends this long after its last request. Default 8 hours. */
  idleMs: number;
  /** … and this long after sign-in whatever happens. Default 7 days. */
  maxMs: number;
  /**
   * The ADMIN_TOKEN: while no operator exists, signing in with the login `admin` and it as the password opens a
   * bootstrap session, so the first admin can be created from a browser.
   */
  adminToken: string;
}

/** Who a session or token speaks for. */
export type Principal = { kind: 'operator'; operator: Operator } | { kind: 'admin-token' };

export interface ActiveSession {
  principal: Principal;
  csrfToken: string;
}

/** The login that, with ADMIN_TOKEN as password, opens a bootstrap session while there is no operator. */
export const BOOTSTRAP_LOGIN = 'admin';

export class InvalidCredentialsError extends DomainError {
  constructor() {
    // One message whatever went wrong: which part was wrong is for the audit log, not for the person guessing.
    super('invalid_credentials', 'Wrong email or password.');
  }
}

/**
 * Console sessions: sign-in by password, an opaque random id in a cookie, the session kept server-side with an idle
 * and an absolute lifetime judged on the injected clock, and a synchronizer CSRF token bound to each session.
 */
export class Sessions {
  constructor(
    private readonly deps: {
      operators: Operators;
      store: SessionStore;
      limits: SignInLimits;
      clock: Clock;
      options: SessionsOptions;
    },
  ) {}

  /**
   * Signs in; throws RateLimitedError before checking anything when this IP or login tried too often, and
   * InvalidCredentialsError (after the same work either way) when the login or password is wrong.
   */
  async signIn(login: string, password: string, ip: string): Promise<{ sessionId: string } & ActiveSession> {
    const { operators, limits } = this.deps;
    const loginKey = createHash('sha256').update(login.trim().toLowerCase()).digest('hex');
    const wait = await limits.takeSignIn(ip, loginKey);
    if (wait > 0) throw new RateLimitedError(wait);

    let principal: Principal;
    if (login.trim().toLowerCase() === BOOTSTRAP_LOGIN) {
      // The same work as a real verification, so this path is not told apart by its timing either.
      await operators.hasher.verifyDummy(password.slice(0, 4096));
      if (!sameSecret(password, this.deps.options.adminToken) || (await operators.count()) > 0)
        throw new InvalidCredentialsError();
      principal = { kind: 'admin-token' };
    } else {
      const operator = await operators.authenticate(login, password);
      if (!operator) throw new InvalidCredentialsError();
      principal = { kind: 'operator', operator };
    }
    await limits.clearLogin(loginKey);
    return this.open(principal, ip);
  }

  private async open(principal: Principal, ip: string): Promise<{ sessionId: string } & ActiveSession> {
    const { store, clock, options } = this.deps;
    // 32 random bytes: unguessable, and it carries nothing; all that is known of the session stays in the store.
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const now = clock.now().getTime();
    await store.put(
      secretHash(sessionId),
      {
        csrfToken,
        createdAt: now,
        lastSeenAt: now,
        ip,
        ...(principal.kind === 'operator' ? { operatorId: principal.operator.id } : {}),
      },
      Math.min(options.idleMs, options.maxMs),
    );
    return { sessionId, principal, csrfToken };
  }

  /** The live session with this id, its idle time renewed; null when unknown, expired or its operator disabled. */
  async resolve(sessionId: string): Promise<ActiveSession | null> {
    const { store, clock, options, operators } = this.deps;
    if (!/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return null;
    const idHash = secretHash(sessionId);
    const s = await store.get(idHash);
    if (!s) return null;
    const now = clock.now().getTime();
    if (now - s.lastSeenAt >= options.idleMs || now - s.createdAt >= options.maxMs) {
      await store.delete(idHash);
      return null;
    }
    let principal: Principal;
    if (s.operatorId) {
      const operator = await operators.get(s.operatorId);
      if (!operator || operator.disabled) {
        await store.delete(idHash);
        return null;
      }
      principal = { kind: 'operator', operator };
    } else {
      // A bootstrap session is for creating the first admin: it ends once any operator exists.
      if ((await operators.count()) > 0) {
        await store.delete(idHash);
        return null;
      }
      principal = { kind: 'admin-token' };
    }
    // Sliding: the idle clock restarts, but never past the absolute end.
    await store.touch(idHash, now, Math.min(options.idleMs, s.createdAt + options.maxMs - now));
    return { principal, csrfToken: s.csrfToken };
  }

  async signOut(sessionId: string): Promise<void> {
    if (/^[A-Za-z0-9_-]{43}$/.test(sessionId)) await this.deps.store.delete(secretHash(sessionId));
  }

  /** Whether `given` is this session's CSRF token, compared in constant time. */
  static csrfMatches(session: ActiveSession, given: string | undefined): boolean {
    return typeof given === 'string' && given.length > 0 && sameSecret(given, session.csrfToken);
  }
}

/** Constant-time equality of two secrets of any length (both hashed first). */
function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}
