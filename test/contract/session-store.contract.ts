import type { SessionRecord, SessionStore } from '../../src/domain/ports/session-store';
import { freshRepositoryPerTest, type RepositoryFixture } from './fixture';

const session = (changes: Partial<SessionRecord> = {}): SessionRecord => ({
  operatorId: '1',
  csrfToken: 'csrf-token',
  createdAt: 1_000,
  lastSeenAt: 1_000,
  ip: '192.0.2.1',
  ...changes,
});

/** The executable form of the `SessionStore` port (src/domain/ports/session-store.ts). */
export function sessionStoreContract(
  implementation: string,
  make: () => Promise<RepositoryFixture<SessionStore>>,
): void {
  describe(`${implementation} satisfies SessionStore`, () => {
    const store = freshRepositoryPerTest(make);

    test('a session reads back as put, is touched, and is gone once deleted', async () => {
      await store.put('h1', session(), 60_000);
      expect(await store.get('h1')).toEqual(session());
      await store.touch('h1', 5_000, 60_000);
      expect(await store.get('h1')).toEqual(session({ lastSeenAt: 5_000 }));
      await store.delete('h1');
      expect(await store.get('h1')).toBeNull();
      // Touching a session that is gone does not bring it back.
      await store.touch('h1', 6_000, 60_000);
      expect(await store.get('h1')).toBeNull();
    });

    test('a bootstrap session has no operator', async () => {
      const { operatorId: _none, ...bootstrap } = session();
      await store.put('h2', bootstrap, 60_000);
      expect(await store.get('h2')).toEqual(bootstrap);
    });

    test('deleteAllOf ends every session of one operator and no other', async () => {
      await store.put('a1', session(), 60_000);
      await store.put('a2', session(), 60_000);
      await store.put('b1', session({ operatorId: '2' }), 60_000);
      await store.deleteAllOf('1');
      expect(await store.get('a1')).toBeNull();
      expect(await store.get('a2')).toBeNull();
      expect(await store.get('b1')).toEqual(session({ operatorId: '2' }));
    });

    test('a session is forgotten once its time to live has passed', async () => {
      await store.put('short', session(), 50);
      await new Promise((ok) => setTimeout(ok, 120));
      expect(await store.get('short')).toBeNull();
    });
  });
}
