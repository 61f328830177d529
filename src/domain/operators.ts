import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ConflictError, NotFoundError } from './errors';
import { checkPassword, normaliseLogin, parseNewOperator, parseRole, type ApiToken, type Operator } from './operator';
import type { PasswordHasher } from './password-hasher';
import type { Clock } from './ports/clock';
import type { OperatorRepository, OperatorChangeRefusal } from './ports/operator-repository';
import type { SessionStore } from './ports/session-store';
import { oneLine, parseFields } from './validation';

/** API tokens start with this, so a leaked one is recognisable in logs and by secret scanners. */
const TOKEN_PREFIX = 'nlop_';

/** The SHA-256 under which a token (or session id) is kept: enough for a 32-byte random secret, and fast. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A token's name says what uses it ("nightly import"), so a list of them can be read and pruned. */
const TOKEN_NAME = oneLine(100);

/**
 * Operator accounts: who may run the service, with which role, their passwords and API tokens. Roles are enforced
 * at the edges (the HTTP route table, the CLI runs as the server's own user); this keeps the accounts right.
 */
export class Operators {
  constructor(
    private readonly deps: {
      operators: OperatorRepository;
      sessions: SessionStore;
      hasher: PasswordHasher;
      clock: Clock;
      log: Logger;
    },
  ) {}

  get hasher(): PasswordHasher {
    return this.deps.hasher;
  }

  async create(input: unknown): Promise<Operator> {
    const fields = parseNewOperator(input);
    const passwordHash = await this.deps.hasher.hash(fields.password);
    const created = await this.deps.operators.create(
      { email: fields.email, name: fields.name, role: fields.role, createdAt: this.deps.clock.now().toISOString() },
      passwordHash,
    );
    if (!created) throw new ConflictError('operator_exists', `An operator with login ${fields.email} exists`);
    this.deps.log.info({ event: 'operator.created', operatorId: created.id, role: created.role }, 'operator created');
    return created;
  }

  list(): Promise<Operator[]> {
    return this.deps.operators.list();
  }

  count(): Promise<number> {
    return this.deps.operators.count();
  }

  get(id: string): Promise<Operator | null> {
    return this.deps.operators.get(id);
  }

  /** An operator by id or login, as the CLI and the API name them. */
  async find(idOrEmail: string): Promise<Operator> {
    const byId = /^\d+$/.test(idOrEmail) ? await this.deps.operators.get(idOrEmail) : null;
    if (byId) return byId;
    let login: string;
    try {
      login = normaliseLogin(idOrEmail);
    } catch {
      throw new NotFoundError(`No operator ${idOrEmail}`);
    }
    const found = await this.deps.operators.findByEmail(login);
    if (!found) throw new NotFoundError(`No operator ${idOrEmail}`);
    return found.operator;
  }

  async setRole(idOrEmail: string, role: unknown): Promise<Operator> {
    const target = await this.find(idOrEmail);
    return refusedOr(await this.deps.operators.setRole(target.id, parseRole(role)), 'demoted');
  }

  /** Disables an operator and ends their sessions at once; their tokens stop working with them. */
  async disable(idOrEmail: string): Promise<Operator> {
    const target = await this.find(idOrEmail);
    const done = refusedOr(await this.deps.operators.setDisabled(target.id, true), 'disabled');
    await this.deps.sessions.deleteAllOf(target.id);
    return done;
  }

  async enable(idOrEmail: string): Promise<Operator> {
    const target = await this.find(idOrEmail);
    return refusedOr(await this.deps.operators.setDisabled(target.id, false), 'enabled');
  }

  /** Sets a new password and ends the operator's sessions: whoever knew the old one is signed out. */
  async resetPassword(idOrEmail: string, password: unknown): Promise<Operator> {
    const target = await this.find(idOrEmail);
    const hash = await this.deps.hasher.hash(checkPassword(password));
    await this.deps.operators.setPasswordHash(target.id, hash);
    await this.deps.sessions.deleteAllOf(target.id);
    return target;
  }

  /**
   * The enabled operator with this login and password, or null. A failure takes as long whether or not the login
   * exists (a dummy hash is verified), so timing does not tell which logins are real. A hash made with weaker
   * parameters than today's is replaced while the password is at hand.
   */
  async authenticate(login: string, password: string): Promise<Operator | null> {
    const { operators, hasher } = this.deps;
    let email: string | undefined;
    try {
      email = normaliseLogin(login);
    } catch {
      email = undefined;
    }
    const found = email ? await operators.findByEmail(email) : null;
    if (!found || found.operator.disabled || password.length > 4096) {
      await hasher.verifyDummy(password.slice(0, 4096));
      return null;
    }
    if (!(await hasher.verify(password, found.passwordHash))) return null;
    if (hasher.needsRehash(found.passwordHash))
      await operators.setPasswordHash(found.operator.id, await hasher.hash(password));
    return found.operator;
  }

  /** A new API token for the operator: the secret is in the answer only; the store keeps its SHA-256. */
  async createToken(operatorId: string, name: unknown): Promise<ApiToken & { token: string }> {
    const tokenName = parseFields(TOKEN_NAME, name, 'invalid_request', { whole: 'name' });
    const secret = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const token: ApiToken = {
      id: randomBytes(6).toString('hex'),
      name: tokenName,
      createdAt: this.deps.clock.now().toISOString(),
    };
    await this.deps.operators.addToken(operatorId, token, secretHash(secret));
    return { ...token, token: secret };
  }

  listTokens(operatorId: string): Promise<ApiToken[]> {
    return this.deps.operators.listTokens(operatorId);
  }

  async revokeToken(operatorId: string, tokenId: string): Promise<void> {
    if (!(await this.deps.operators.revokeToken(operatorId, tokenId))) throw new NotFoundError(`No token ${tokenId}`);
  }

  /** The enabled operator who owns this token, or null. Looked up on every request, so a role change applies at once. */
  async byToken(secret: string): Promise<{ operator: Operator; tokenId: string } | null> {
    if (!secret.startsWith(TOKEN_PREFIX)) return null;
    const found = await this.deps.operators.findToken(secretHash(secret), this.deps.clock.now());
    if (!found) return null;
    const operator = await this.deps.operators.get(found.operatorId);
    return operator && !operator.disabled ? { operator, tokenId: found.tokenId } : null;
  }
}

function refusedOr(result: Operator | OperatorChangeRefusal, what: string): Operator {
  if (result === 'not_found') throw new NotFoundError('No such operator');
  if (result === 'last_admin')
    throw new ConflictError('last_admin', `The last enabled admin cannot be ${what}: make another admin first`);
  return result;
}
