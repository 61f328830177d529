import type { ApiToken, Operator, Role } from '../operator';

/** Why a change to an operator was refused by the store (checked atomically there, not read-then-written). */
export type OperatorChangeRefusal = 'not_found' | 'last_admin';

/**
 * The operators, their password hashes and API tokens. Values arrive validated (see `Operators`); the repository only
 * keeps them, and guards the two invariants that must hold under races: one operator per login, and at least one
 * enabled admin once there is any operator.
 */
export interface OperatorRepository {
  /** Stores a new operator with a fresh id; null (nothing written) when the login is taken. */
  create(fields: Omit<Operator, 'id'>, passwordHash: string): Promise<Operator | null>;
  get(id: string): Promise<Operator | null>;
  findByEmail(email: string): Promise<{ operator: Operator; passwordHash: string } | null>;
  /** Every operator, oldest first. */
  list(): Promise<Operator[]>;
  /** How many operators exist (enabled or not). */
  count(): Promise<number>;
  /** Changes the role; refused when it would leave no enabled admin. */
  setRole(id: string, role: Role): Promise<Operator | OperatorChangeRefusal>;
  /** Disables (or enables again); disabling is refused when it would leave no enabled admin. */
  setDisabled(id: string, disabled: boolean): Promise<Operator | OperatorChangeRefusal>;
  setPasswordHash(id: string, passwordHash: string): Promise<boolean>;

  /** Keeps a token by the SHA-256 of its secret. */
  addToken(operatorId: string, token: ApiToken, secretHash: string): Promise<void>;
  listTokens(operatorId: string): Promise<ApiToken[]>;
  /** False when the operator has no such token. */
  revokeToken(operatorId: string, tokenId: string): Promise<boolean>;
  /** Whose token has this secret hash; marks it used at `now` (the store may skip writes within a minute). */
  findToken(secretHash: string, now: Date): Promise<{ operatorId: string; tokenId: string } | null>;
}
