import type { Operator, Role } from '../../src/domain/operator';
import type { OperatorRepository } from '../../src/domain/ports/operator-repository';
import { freshRepositoryPerTest, time, type RepositoryFixture } from './fixture';

function fields(email: string, role: Role): Omit<Operator, 'id'> {
  return { email, name: email.split('@')[0], role, createdAt: time(0) };
}

/**
 * The executable form of the `OperatorRepository` port (src/domain/ports/operator-repository.ts): every
 * implementation passes this, each test on a fresh, empty repository from `make`.
 */
export function operatorRepositoryContract(
  implementation: string,
  make: () => Promise<RepositoryFixture<OperatorRepository>>,
): void {
  describe(`${implementation} satisfies OperatorRepository`, () => {
    const repo = freshRepositoryPerTest(make);

    test('a created operator reads back by id and by login, with its password hash; a second login is refused', async () => {
      const ada = await repo.create(fields('ada@ops.test', 'editor'), '$scrypt$hash-a');
      expect(ada).toEqual({ id: expect.any(String), ...fields('ada@ops.test', 'editor') });
      expect(await repo.get(ada!.id)).toEqual(ada);
      expect(await repo.findByEmail('ada@ops.test')).toEqual({ operator: ada, passwordHash: '$scrypt$hash-a' });
      expect(await repo.create(fields('ada@ops.test', 'admin'), '$scrypt$hash-b')).toBeNull();
      expect(await repo.findByEmail('nobody@ops.test')).toBeNull();
      expect(await repo.get('999')).toBeNull();
      expect(await repo.count()).toBe(1);
    });

    test('one login, one operator, even when created at the same moment', async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => repo.create(fields('race@ops.test', 'viewer'), 'h')),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await repo.list()).toHaveLength(1);
    });

    test('list is oldest first; ids are never reused', async () => {
      const a = await repo.create(fields('a@ops.test', 'admin'), 'h');
      const b = await repo.create(fields('b@ops.test', 'viewer'), 'h');
      expect((await repo.list()).map((o) => o.email)).toEqual(['a@ops.test', 'b@ops.test']);
      expect(a!.id).not.toBe(b!.id);
    });

    test('the last enabled admin can be neither demoted nor disabled; another admin lifts that', async () => {
      const a = (await repo.create(fields('a@ops.test', 'admin'), 'h'))!;
      expect(await repo.setRole(a.id, 'editor')).toBe('last_admin');
      expect(await repo.setDisabled(a.id, true)).toBe('last_admin');
      // A disabled admin does not count.
      const b = (await repo.create(fields('b@ops.test', 'editor'), 'h'))!;
      expect(await repo.setRole(b.id, 'admin')).toMatchObject({ role: 'admin' });
      expect(await repo.setDisabled(b.id, true)).toMatchObject({ disabled: true });
      expect(await repo.setRole(a.id, 'viewer')).toBe('last_admin');
      expect(await repo.setDisabled(b.id, false)).toEqual({ ...b, role: 'admin' });
      expect(await repo.setRole(a.id, 'viewer')).toMatchObject({ role: 'viewer' });
      expect(await repo.setRole('999', 'viewer')).toBe('not_found');
    });

    test('two admins demoting each other at once leave one admin', async () => {
      const a = (await repo.create(fields('a@ops.test', 'admin'), 'h'))!;
      const b = (await repo.create(fields('b@ops.test', 'admin'), 'h'))!;
      const results = await Promise.all([repo.setRole(a.id, 'viewer'), repo.setRole(b.id, 'viewer')]);
      expect(results.filter((r) => r === 'last_admin')).toHaveLength(1);
      expect((await repo.list()).filter((o) => o.role === 'admin')).toHaveLength(1);
    });

    test('tokens are found by their secret hash, listed without it, and gone once revoked', async () => {
      const a = (await repo.create(fields('a@ops.test', 'viewer'), 'h'))!;
      await repo.addToken(a.id, { id: 't1', name: 'nightly', createdAt: time(1) }, 'secret-hash-1');
      await repo.addToken(a.id, { id: 't2', name: 'backup', createdAt: time(2) }, 'secret-hash-2');
      expect(await repo.findToken('secret-hash-1', new Date(time(5)))).toEqual({ operatorId: a.id, tokenId: 't1' });
      expect(await repo.listTokens(a.id)).toEqual([
        { id: 't1', name: 'nightly', createdAt: time(1), lastUsedAt: time(5) },
        { id: 't2', name: 'backup', createdAt: time(2) },
      ]);
      expect(await repo.revokeToken(a.id, 't1')).toBe(true);
      expect(await repo.revokeToken(a.id, 't1')).toBe(false);
      expect(await repo.findToken('secret-hash-1', new Date(time(6)))).toBeNull();
      expect((await repo.listTokens(a.id)).map((t) => t.id)).toEqual(['t2']);
    });

    test('a new password hash replaces the old one, only for an operator who exists', async () => {
      const a = (await repo.create(fields('a@ops.test', 'viewer'), 'old'))!;
      expect(await repo.setPasswordHash(a.id, 'new')).toBe(true);
      expect((await repo.findByEmail('a@ops.test'))!.passwordHash).toBe('new');
      expect(await repo.setPasswordHash('999', 'new')).toBe(false);
      expect(await repo.get('999')).toBeNull();
    });
  });
}
