import type { Redis } from 'ioredis';
import { ROLES, type ApiToken, type Operator, type Role } from '../domain/operator';
import type { OperatorChangeRefusal, OperatorRepository } from '../domain/ports/operator-repository';
import type { Keys } from './keys';
import { LuaScript } from './lua-script';

/** Claims the login, then writes the operator: a second operator with the same login loses, even under a race. */
const CREATE = new LuaScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'email', ARGV[1], 'name', ARGV[3], 'role', ARGV[4], 'createdAt', ARGV[5], 'password', ARGV[6])
redis.call('ZADD', KEYS[3], tonumber(ARGV[2]), ARGV[2])
if ARGV[4] == 'admin' then redis.call('SADD', KEYS[4], ARGV[2]) end
return 1
`);

/**
 * Changes the role (ARGV[2]) and/or the disabled flag (ARGV[3], '1' or '0'); an empty value keeps the current one.
 * Judged and written in one step, so two admins demoting each other at once cannot leave none.
 */
const CHANGE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not_found' end
local role = ARGV[2]
if role == '' then role = redis.call('HGET', KEYS[1], 'role') end
local disabled = ARGV[3]
if disabled == '' then disabled = redis.call('HGET', KEYS[1], 'disabled') or '0' end
local admin_after = role == 'admin' and disabled ~= '1'
if not admin_after and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 and redis.call('SCARD', KEYS[2]) <= 1 then
  return 'last_admin'
end
redis.call('HSET', KEYS[1], 'role', role, 'disabled', disabled)
if admin_after then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
return 'ok'
`);

/** The fields an operator hash holds, besides its id. */
type OperatorHash = Record<string, string>;

/** How often a token's lastUsedAt is written at most: a script calling every second should not write every second. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** OperatorRepository on Redis: a hash per operator, a login index, a set of the enabled admins, tokens by hash. */
export class OperatorStore implements OperatorRepository {
  constructor(private readonly deps: { redis: Redis; keys: Keys }) {}

  async create(fields: Omit<Operator, 'id'>, passwordHash: string): Promise<Operator | null> {
    const { redis, keys } = this.deps;
    // The id is taken before the login is claimed: a refused create wastes a number, which is harmless.
    const id = String(await redis.incr(keys.operatorSeq()));
    const done = await CREATE.run(
      redis,
      [keys.operatorsByEmail(), keys.operator(id), keys.operators(), keys.enabledAdmins()],
      [fields.email, id, fields.name, fields.role, fields.createdAt, passwordHash],
    );
    return done === 1 ? { id, ...fields } : null;
  }

  async get(id: string): Promise<Operator | null> {
    return operatorOf(id, await this.deps.redis.hgetall(this.deps.keys.operator(id)));
  }

  async findByEmail(email: string): Promise<{ operator: Operator; passwordHash: string } | null> {
    const { redis, keys } = this.deps;
    const id = await redis.hget(keys.operatorsByEmail(), email);
    if (!id) return null;
    const hash = await redis.hgetall(keys.operator(id));
    const operator = operatorOf(id, hash);
    return operator ? { operator, passwordHash: hash.password ?? '' } : null;
  }

  async list(): Promise<Operator[]> {
    const { redis, keys } = this.deps;
    const ids = await redis.zrange(keys.operators(), '0', '-1');
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.operator(id));
    const hashes = (await pipeline.exec()) ?? [];
    return ids.map((id, i) => operatorOf(id, hashes[i][1] as OperatorHash)).filter((o): o is Operator => o !== null);
  }

  count(): Promise<number> {
    return this.deps.redis.zcard(this.deps.keys.operators());
  }

  setRole(id: string, role: Role): Promise<Operator | OperatorChangeRefusal> {
    return this.change(id, role, '');
  }

  setDisabled(id: string, disabled: boolean): Promise<Operator | OperatorChangeRefusal> {
    return this.change(id, '', disabled ? '1' : '0');
  }

  private async change(id: string, role: string, disabled: string): Promise<Operator | OperatorChangeRefusal> {
    const { redis, keys } = this.deps;
    const result = (await CHANGE.run(redis, [keys.operator(id), keys.enabledAdmins()], [id, role, disabled])) as string;
    if (result !== 'ok') return result as OperatorChangeRefusal;
    return (await this.get(id)) ?? 'not_found';
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<boolean> {
    const { redis, keys } = this.deps;
    // HSET on a missing key would create a headless operator: only an existing one gets a password.
    if (!(await redis.exists(keys.operator(id)))) return false;
    await redis.hset(keys.operator(id), 'password', passwordHash);
    return true;
  }

  async addToken(operatorId: string, token: ApiToken, secretHash: string): Promise<void> {
    const { redis, keys } = this.deps;
    await redis
      .multi()
      .hset(keys.operatorTokens(operatorId), token.id, JSON.stringify({ ...token, secretHash }))
      .hset(keys.tokensBySecret(), secretHash, `${operatorId}:${token.id}`)
      .exec();
  }

  async listTokens(operatorId: string): Promise<ApiToken[]> {
    const all = await this.deps.redis.hgetall(this.deps.keys.operatorTokens(operatorId));
    return Object.values(all)
      .map((json) => {
        const { secretHash: _hidden, ...token } = JSON.parse(json) as ApiToken & { secretHash: string };
        return token;
      })
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revokeToken(operatorId: string, tokenId: string): Promise<boolean> {
    const { redis, keys } = this.deps;
    const json = await redis.hget(keys.operatorTokens(operatorId), tokenId);
    if (!json) return false;
    const { secretHash } = JSON.parse(json) as { secretHash: string };
    await redis.multi().hdel(keys.tokensBySecret(), secretHash).hdel(keys.operatorTokens(operatorId), tokenId).exec();
    return true;
  }

  async findToken(secretHash: string, now: Date): Promise<{ operatorId: string; tokenId: string } | null> {
    const { redis, keys } = this.deps;
    const owner = await redis.hget(keys.tokensBySecret(), secretHash);
    if (!owner) return null;
    const [operatorId, tokenId] = owner.split(':');
    const json = await redis.hget(keys.operatorTokens(operatorId), tokenId);
    if (!json) return null;
    const token = JSON.parse(json) as ApiToken & { secretHash: string };
    if (!token.lastUsedAt || now.getTime() - Date.parse(token.lastUsedAt) >= LAST_USED_RESOLUTION_MS) {
      // HSET only while the token is still there: a revoke racing this must not be undone.
      const updated = JSON.stringify({ ...token, lastUsedAt: now.toISOString() });
      await REPLACE_TOKEN.run(redis, [keys.operatorTokens(operatorId)], [tokenId, updated]);
    }
    return { operatorId, tokenId };
  }
}

const REPLACE_TOKEN = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`);

function operatorOf(id: string, h: OperatorHash): Operator | null {
  if (!h.email) return null;
  const role = (ROLES as readonly string[]).includes(h.role) ? (h.role as Role) : 'viewer';
  return {
    id,
    email: h.email,
    name: h.name ?? '',
    role,
    createdAt: h.createdAt,
    ...(h.disabled === '1' ? { disabled: true } : {}),
  };
}
