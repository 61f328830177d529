import type { AuditEntry, AuditLog } from '../../src/domain/ports/audit-log';
import { freshRepositoryPerTest, time, type RepositoryFixture } from './fixture';

const entry = (n: number, changes: Partial<AuditEntry> = {}): AuditEntry => ({
  at: time(n),
  actor: { kind: 'operator', id: '1', email: 'ada@ops.test', via: 'session' },
  action: 'campaign.send',
  object: { type: 'campaign', id: String(n) },
  ...changes,
});

/** The executable form of the `AuditLog` port (src/domain/ports/audit-log.ts). */
export function auditLogContract(implementation: string, make: () => Promise<RepositoryFixture<AuditLog>>): void {
  describe(`${implementation} satisfies AuditLog`, () => {
    const log = freshRepositoryPerTest(make);

    test('entries read back newest first, whole, in pages that join up without gaps or repeats', async () => {
      for (let n = 0; n < 7; n++) await log.append(entry(n, { ip: '192.0.2.1', detail: { role: 'viewer' } }));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await log.list({ limit: 3, cursor });
        seen.push(...page.entries.map((e) => e.object.id!));
        cursor = page.next;
      } while (cursor);
      expect(seen).toEqual(['6', '5', '4', '3', '2', '1', '0']);
      const [newest] = (await log.list({ limit: 1 })).entries;
      expect(newest).toEqual({ id: expect.any(String), ...entry(6, { ip: '192.0.2.1', detail: { role: 'viewer' } }) });
    });

    test('filters by actor (id, email or kind) and by action or action prefix', async () => {
      await log.append(entry(0));
      await log.append(entry(1, { actor: { kind: 'cli', id: 'root' }, action: 'subscriber.erase' }));
      await log.append(entry(2, { actor: { kind: 'admin-token' }, action: 'campaign.pause' }));
      const ids = async (q: { actor?: string; action?: string }) =>
        (await log.list({ limit: 10, ...q })).entries.map((e) => e.object.id);
      expect(await ids({ actor: 'ada@ops.test' })).toEqual(['0']);
      expect(await ids({ actor: '1' })).toEqual(['0']);
      expect(await ids({ actor: 'cli' })).toEqual(['1']);
      expect(await ids({ actor: 'root' })).toEqual(['1']);
      expect(await ids({ action: 'campaign.' })).toEqual(['2', '0']);
      expect(await ids({ action: 'campaign.pause' })).toEqual(['2']);
      expect(await ids({ action: 'campaign.pause', actor: 'cli' })).toEqual([]);
    });

    test('an empty log is an empty page with no next', async () => {
      expect(await log.list({ limit: 10 })).toEqual({ entries: [] });
    });
  });
}
