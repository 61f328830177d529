import type { Campaign, CampaignStatus } from '../../src/domain/campaign';
import type { CampaignRepository, DeliveryOutcome } from '../../src/domain/ports/campaign-repository';
import { freshRepositoryPerTest, time, type RepositoryFixture } from './fixture';

/** A campaign's counters: the four delivery outcomes and the two kinds of late feedback, zero unless given. */
type Counters = Pick<Campaign, DeliveryOutcome | 'lateBounces' | 'complained'>;
function counters(counts: Partial<Counters> = {}): Counters {
  return { sent: 0, failed: 0, skipped: 0, bounced: 0, lateBounces: 0, complained: 0, ...counts };
}

/**
 * The executable form of the `CampaignRepository` port (src/domain/ports/campaign-repository.ts): every
 * implementation passes this, each test on a fresh, empty repository from `make`.
 */
export function campaignRepositoryContract(
  implementation: string,
  make: () => Promise<RepositoryFixture<CampaignRepository>>,
): void {
  describe(`${implementation} satisfies CampaignRepository`, () => {
    const repo = freshRepositoryPerTest(make);

    function draft(now = time(0)): Promise<Campaign> {
      return repo.create({ subject: 'The weekly digest', newsletter: 'weekly', articleIds: [3, 1, 2], now });
    }

    /**
     * A campaign in 'sending' whose fan-out has queued `queued` recipients (subscriber ids 1..queued), not yet
     * done.
     */
    async function sending(queued: number): Promise<number> {
      const { id } = await draft();
      expect(
        await repo.transition(id, ['draft'], 'sending', { startedAt: time(1), maxSubscriberId: queued, total: queued }),
      ).toEqual({ ok: true });
      await repo.checkpoint(id, queued, queued);
      return id;
    }

    /** Records outcomes for subscriber ids 1, 2, ... in order; each must be the first for its subscriber. */
    async function recordAll(id: number, outcomes: DeliveryOutcome[]): Promise<void> {
      for (const [i, outcome] of outcomes.entries()) expect(await repo.record(id, i + 1, outcome)).toBe(true);
    }

    describe('campaigns', () => {
      test('create gives a draft with zero counters and the given subject, newsletter and articles; get and status read it back', async () => {
        const created = await draft(time(2));
        expect(created).toEqual({
          id: expect.any(Number),
          status: 'draft',
          subject: 'The weekly digest',
          newsletter: 'weekly',
          articleIds: [3, 1, 2],
          ...counters(),
          total: 0,
          createdAt: time(2),
          maxSubscriberId: 0,
          cursor: 0,
          queued: 0,
          fanoutDone: false,
        });
        expect(await repo.get(created.id)).toEqual(created);
        expect(await repo.status(created.id)).toBe('draft');
      });

      test('an unknown campaign reads as null: get, status and content', async () => {
        expect(await repo.get(42)).toBeNull();
        expect(await repo.status(42)).toBeNull();
        expect(await repo.content(42)).toBeNull();
        expect(await repo.list()).toEqual([]);
      });

      test('list is newest first and honours the limit', async () => {
        const first = await draft(time(0));
        const second = await draft(time(1));
        const third = await draft(time(2));
        expect(await repo.list()).toEqual([third, second, first]);
        expect(await repo.list(2)).toEqual([third, second]);
        expect(await repo.list(0)).toEqual([]);
      });

      test('saveContent and content round-trip, per campaign, with null before any is saved', async () => {
        const a = await draft();
        const b = await draft();
        expect(await repo.content(a.id)).toBeNull();
        const content = { subject: 'The weekly digest', html: '<p>Hello &amp; welcome</p>', text: 'Hello & welcome' };
        await repo.saveContent(a.id, content);
        expect(await repo.content(a.id)).toEqual(content);
        expect(await repo.content(b.id)).toBeNull();
      });

      test('checkpoint moves the cursor and adds to the number queued', async () => {
        const { id } = await draft();
        await repo.checkpoint(id, 17, 5);
        expect(await repo.get(id)).toMatchObject({ cursor: 17, queued: 5 });
        await repo.checkpoint(id, 40, 3);
        expect(await repo.get(id)).toMatchObject({ cursor: 40, queued: 8 });
      });

      test('a checkpoint from a cursor that is no longer the stored one moves nothing', async () => {
        const { id } = await draft();
        expect(await repo.checkpoint(id, 17, 5, 0)).toBe(true);
        // A fan-out that read cursor 40 (a write Redis lost since) must not move on from there.
        expect(await repo.checkpoint(id, 60, 4, 40)).toBe(false);
        expect(await repo.get(id)).toMatchObject({ cursor: 17, queued: 5 });
        expect(await repo.checkpoint(id, 40, 3, 17)).toBe(true);
        expect(await repo.get(id)).toMatchObject({ cursor: 40, queued: 8 });
      });
    });

    describe('drafts: updateDraft, deleteDraft, startSending', () => {
      const content = { subject: 'The weekly digest', html: '<p>Three stories</p>', text: 'Three stories' };

      test('updateDraft changes the subject, the article ids (in the order given) or both, and nothing else', async () => {
        const created = await draft();
        expect(await repo.updateDraft(created.id, { articleIds: [2, 9, 1] })).toEqual({ ok: true });
        expect(await repo.get(created.id)).toEqual({ ...created, articleIds: [2, 9, 1] });
        expect(await repo.updateDraft(created.id, { subject: 'Edited' })).toEqual({ ok: true });
        expect(await repo.get(created.id)).toEqual({ ...created, subject: 'Edited', articleIds: [2, 9, 1] });
        expect(await repo.updateDraft(created.id, { subject: 'Both', articleIds: [5] })).toEqual({ ok: true });
        expect(await repo.get(created.id)).toEqual({ ...created, subject: 'Both', articleIds: [5] });
      });

      test('updateDraft drops content stored for the draft: it was of the draft before the edit', async () => {
        const { id } = await draft();
        await repo.saveContent(id, content);
        expect(await repo.updateDraft(id, { subject: 'Edited' })).toEqual({ ok: true });
        expect(await repo.content(id)).toBeNull();
      });

      test('updateDraft of a campaign that is no longer a draft changes nothing and names its status', async () => {
        for (const status of ['sending', 'paused', 'cancelled', 'sent', 'failed'] as CampaignStatus[]) {
          const created = await draft();
          await repo.transition(created.id, ['draft'], status);
          await repo.saveContent(created.id, content);
          expect(await repo.updateDraft(created.id, { subject: 'Edited', articleIds: [7] })).toEqual({
            ok: false,
            current: status,
          });
          expect(await repo.get(created.id)).toEqual({ ...created, status });
          expect(await repo.content(created.id)).toEqual(content);
        }
        expect(await repo.updateDraft(42, { subject: 'Edited' })).toEqual({ ok: false, current: null });
        expect(await repo.get(42)).toBeNull();
      });

      test('deleteDraft removes the draft, its content and its place in the list; other campaigns stay', async () => {
        const kept = await draft(time(0));
        const gone = await draft(time(1));
        await repo.saveContent(gone.id, content);
        expect(await repo.deleteDraft(gone.id)).toEqual({ ok: true });
        expect(await repo.get(gone.id)).toBeNull();
        expect(await repo.status(gone.id)).toBeNull();
        expect(await repo.content(gone.id)).toBeNull();
        expect(await repo.list()).toEqual([kept]);
        expect(await repo.deleteDraft(gone.id)).toEqual({ ok: false, current: null });
        // Ids are never reused: a campaign made after the delete gets a new one.
        expect((await draft()).id).toBeGreaterThan(gone.id);
      });

      test('deleteDraft of a campaign that is no longer a draft keeps it whole and names its status', async () => {
        const id = await sending(2);
        await repo.saveContent(id, content);
        await recordAll(id, ['sent']);
        const before = await repo.get(id);
        expect(await repo.deleteDraft(id)).toEqual({ ok: false, current: 'sending' });
        expect(await repo.get(id)).toEqual(before);
        expect(await repo.content(id)).toEqual(content);
        expect(await repo.recorded(id, [1, 2])).toEqual([true, false]);
        expect((await repo.list()).map((c) => c.id)).toEqual([id]);
      });

      test('startSending stores the content and moves the unchanged draft to sending with the changes', async () => {
        const created = await draft();
        const moved = await repo.startSending(
          created.id,
          { subject: created.subject, articleIds: created.articleIds },
          content,
          { startedAt: time(1), maxSubscriberId: 30, total: 25 },
        );
        expect(moved).toEqual({ ok: true });
        expect(await repo.get(created.id)).toEqual({
          ...created,
          status: 'sending',
          startedAt: time(1),
          maxSubscriberId: 30,
          total: 25,
        });
        expect(await repo.content(created.id)).toEqual(content);
      });

      test('startSending of a draft edited since it was read writes nothing and answers draft', async () => {
        const created = await draft();
        const read = { subject: created.subject, articleIds: created.articleIds };
        const changes = { startedAt: time(1), maxSubscriberId: 30, total: 25 };
        for (const edit of [{ subject: 'Edited' }, { articleIds: [1, 2, 3] }, { preheader: 'A new first line' }]) {
          expect(await repo.updateDraft(created.id, edit)).toEqual({ ok: true });
          expect(await repo.startSending(created.id, read, content, changes)).toEqual({ ok: false, current: 'draft' });
          expect(await repo.get(created.id)).toEqual({ ...created, ...edit });
          expect(await repo.content(created.id)).toBeNull();
          expect(await repo.updateDraft(created.id, { ...read, preheader: '' })).toEqual({ ok: true });
        }
      });

      test('startSending of a campaign already going out, or deleted, writes nothing', async () => {
        const created = await draft();
        const read = { subject: created.subject, articleIds: created.articleIds };
        expect(await repo.startSending(created.id, read, content, { startedAt: time(1) })).toEqual({ ok: true });
        const other = { ...content, html: '<p>Another render</p>' };
        expect(await repo.startSending(created.id, read, other, { startedAt: time(2) })).toEqual({
          ok: false,
          current: 'sending',
        });
        expect(await repo.get(created.id)).toMatchObject({ status: 'sending', startedAt: time(1) });
        expect(await repo.content(created.id)).toEqual(content);

        const deleted = await draft();
        expect(await repo.deleteDraft(deleted.id)).toEqual({ ok: true });
        expect(
          await repo.startSending(
            deleted.id,
            { subject: deleted.subject, articleIds: deleted.articleIds },
            content,
            {},
          ),
        ).toEqual({ ok: false, current: null });
        expect(await repo.get(deleted.id)).toBeNull();
        expect(await repo.content(deleted.id)).toBeNull();
      });

      test("setSchedule sets and clears a draft's scheduledAt, keeps it through edits, and refuses a non-draft", async () => {
        const created = await draft();
        expect(await repo.setSchedule(created.id, time(60))).toEqual({ ok: true });
        expect(await repo.get(created.id)).toEqual({ ...created, scheduledAt: time(60) });
        expect(await repo.updateDraft(created.id, { subject: 'Edited' })).toEqual({ ok: true });
        expect(await repo.get(created.id)).toEqual({ ...created, subject: 'Edited', scheduledAt: time(60) });
        expect(await repo.setSchedule(created.id, time(90))).toEqual({ ok: true });
        expect((await repo.get(created.id))?.scheduledAt).toBe(time(90));
        expect(await repo.setSchedule(created.id, null)).toEqual({ ok: true });
        expect(await repo.get(created.id)).toEqual({ ...created, subject: 'Edited' });

        expect(await repo.transition(created.id, ['draft'], 'cancelled')).toEqual({ ok: true });
        expect(await repo.setSchedule(created.id, time(60))).toEqual({ ok: false, current: 'cancelled' });
        expect((await repo.get(created.id))?.scheduledAt).toBeUndefined();
        expect(await repo.setSchedule(created.id + 1000, time(60))).toEqual({ ok: false, current: null });
      });

      test('startSending with scheduledAt goes ahead only while the draft is scheduled for that time, and clears it', async () => {
        const created = await draft();
        const read = { subject: created.subject, articleIds: created.articleIds };
        await repo.setSchedule(created.id, time(90));
        const stale = { ...read, scheduledAt: time(60) };
        expect(await repo.startSending(created.id, stale, content, { startedAt: time(1) })).toEqual({
          ok: false,
          current: 'draft',
        });
        expect(await repo.content(created.id)).toBeNull();
        await repo.setSchedule(created.id, null);
        expect(
          await repo.startSending(created.id, { ...read, scheduledAt: time(90) }, content, { startedAt: time(1) }),
        ).toEqual({ ok: false, current: 'draft' });
        expect((await repo.get(created.id))?.status).toBe('draft');

        await repo.setSchedule(created.id, time(90));
        const current = { ...read, scheduledAt: time(90) };
        expect(
          await repo.startSending(created.id, current, content, { startedAt: time(92), startedLateBySeconds: 120 }),
        ).toEqual({ ok: true });
        expect(await repo.get(created.id)).toEqual({
          ...created,
          status: 'sending',
          startedAt: time(92),
          startedLateBySeconds: 120,
        });
      });

      test('startSending by hand clears a schedule the draft had', async () => {
        const created = await draft();
        await repo.setSchedule(created.id, time(60));
        const read = { subject: created.subject, articleIds: created.articleIds };
        expect(await repo.startSending(created.id, read, content, { startedAt: time(1) })).toEqual({ ok: true });
        expect((await repo.get(created.id))?.scheduledAt).toBeUndefined();
      });

      test('concurrent startSending and deleteDraft of one draft: exactly one succeeds, and nothing is left half', async () => {
        for (let i = 0; i < 20; i++) {
          const created = await draft();
          const read = { subject: created.subject, articleIds: created.articleIds };
          const [sent, deleted] = await Promise.all([
            repo.startSending(created.id, read, content, { startedAt: time(1) }),
            repo.deleteDraft(created.id),
          ]);
          expect([sent.ok, deleted.ok].filter(Boolean)).toHaveLength(1);
          if (sent.ok) {
            expect(deleted).toEqual({ ok: false, current: 'sending' });
            expect(await repo.content(created.id)).toEqual(content);
          } else {
            expect(sent).toEqual({ ok: false, current: null });
            expect(await repo.get(created.id)).toBeNull();
            expect(await repo.content(created.id)).toBeNull();
          }
        }
      });
    });

    describe('transition', () => {
      test('moves from an allowed status and applies the changes given', async () => {
        const { id } = await draft();
        expect(
          await repo.transition(id, ['draft'], 'sending', { startedAt: time(1), maxSubscriberId: 40, total: 35 }),
        ).toEqual({ ok: true });
        expect(await repo.get(id)).toMatchObject({
          status: 'sending',
          startedAt: time(1),
          maxSubscriberId: 40,
          total: 35,
        });

        expect(
          await repo.transition(id, ['sending'], 'paused', { reason: 'too many failures in a row', pausedAt: time(2) }),
        ).toEqual({ ok: true });
        expect(await repo.get(id)).toMatchObject({ status: 'paused', reason: 'too many failures in a row' });

        expect(await repo.transition(id, ['paused'], 'sending', { reason: '' })).toEqual({ ok: true });
        const resumed = await repo.get(id);
        expect(resumed?.status).toBe('sending');
        expect(['', undefined]).toContain(resumed?.reason); // '' clears it

        expect(
          await repo.transition(id, ['draft', 'sending', 'paused'], 'cancelled', {
            finishedAt: time(3),
            reason: 'by the operator',
          }),
        ).toEqual({ ok: true });
        expect(await repo.get(id)).toMatchObject({
          status: 'cancelled',
          startedAt: time(1),
          finishedAt: time(3),
          reason: 'by the operator',
        });
        expect(await repo.status(id)).toBe('cancelled');
      });

      test('from a status not in from it is refused with the current status, and nothing changes', async () => {
        const created = await draft();
        const refused = await repo.transition(created.id, ['sending', 'paused'], 'cancelled', {
          finishedAt: time(2),
          reason: 'nope',
          total: 9,
        });
        expect(refused).toEqual({ ok: false, current: 'draft' });
        expect(await repo.get(created.id)).toEqual(created);
      });

      test('an unknown campaign is refused with current null, and nothing is created', async () => {
        expect(await repo.transition(42, ['draft'], 'sending', { startedAt: time(1) })).toEqual({
          ok: false,
          current: null,
        });
        expect(await repo.get(42)).toBeNull();
        expect(await repo.status(42)).toBeNull();
      });

      test('with rateBaseline it keeps the counters as they are at that moment; later counts move, the baseline stays', async () => {
        const id = await sending(4);
        expect((await repo.get(id))?.rateBaseline).toBeUndefined();
        await recordAll(id, ['sent', 'sent', 'bounced']);
        expect(await repo.recordFeedback(id, 1, 'complained')).toBe(true);
        expect(await repo.recordFeedback(id, 2, 'bounced')).toBe(true);
        expect(await repo.transition(id, ['sending'], 'paused', { reason: 'complaints' })).toEqual({ ok: true });
        expect(await repo.transition(id, ['paused'], 'sending', { reason: '', rateBaseline: true })).toEqual({
          ok: true,
        });
        const baseline = { sent: 2, bounced: 1, lateBounces: 1, complained: 1 };
        expect(await repo.get(id)).toMatchObject({ status: 'sending', rateBaseline: baseline });

        expect(await repo.record(id, 4, 'sent')).toBe(true);
        expect(await repo.recordFeedback(id, 4, 'complained')).toBe(true);
        expect(await repo.get(id)).toMatchObject({
          ...counters({ sent: 3, bounced: 1, lateBounces: 1, complained: 2 }),
          rateBaseline: baseline,
        });
      });

      test('a refused transition with rateBaseline keeps no baseline', async () => {
        const id = await sending(1);
        await recordAll(id, ['sent']);
        expect(await repo.transition(id, ['paused'], 'sending', { rateBaseline: true })).toEqual({
          ok: false,
          current: 'sending',
        });
        expect((await repo.get(id))?.rateBaseline).toBeUndefined();
      });

      test('countFailure counts the run of failures, and a transition with resetFailures starts it from zero again', async () => {
        const id = await sending(3);
        expect(await repo.countFailure(id)).toBe(1);
        expect(await repo.countFailure(id)).toBe(2);
        expect(await repo.countFailure(id)).toBe(3);
        expect(await repo.transition(id, ['sending'], 'paused', { reason: 'failures', resetFailures: true })).toEqual({
          ok: true,
        });
        expect(await repo.countFailure(id)).toBe(1);
      });
    });

    describe('delivery ledger', () => {
      test('record counts each outcome in its own counter and returns true when it recorded', async () => {
        const id = await sending(5);
        await recordAll(id, ['sent', 'failed', 'skipped', 'bounced', 'sent']);
        expect(await repo.get(id)).toMatchObject(counters({ sent: 2, failed: 1, skipped: 1, bounced: 1 }));
      });

      test.each<[DeliveryOutcome, DeliveryOutcome]>([
        ['sent', 'sent'],
        ['sent', 'bounced'],
        ['skipped', 'sent'],
        ['failed', 'sent'],
        ['failed', 'skipped'],
        ['bounced', 'bounced'],
      ])('for one subscriber the first outcome wins and counts once: %s, then %s is refused', async (first, second) => {
        const id = await sending(1);
        expect(await repo.record(id, 7, first)).toBe(true);
        expect(await repo.record(id, 7, second)).toBe(false);
        expect(await repo.get(id)).toMatchObject(counters({ [first]: 1 }));
      });

      test('outcomes recorded at the same time each get their own answer, the first asked for a subscriber winning', async () => {
        const id = await sending(4);
        const answers = await Promise.all([
          repo.record(id, 1, 'sent'),
          repo.record(id, 2, 'skipped'),
          repo.record(id, 1, 'bounced'),
          repo.record(id, 3, 'sent'),
          repo.record(id, 3, 'sent'),
          repo.record(id, 4, 'failed'),
        ]);
        expect(answers).toEqual([true, true, false, true, false, true]);
        expect(await repo.get(id)).toMatchObject(counters({ sent: 2, skipped: 1, failed: 1 }));
        expect(await repo.recorded(id, [1, 2, 3, 4])).toEqual([true, true, true, true]);
      });

      test('recorded tells, in the order given, which subscribers have an outcome of either kind', async () => {
        const id = await sending(9);
        await repo.record(id, 2, 'sent');
        await repo.record(id, 5, 'skipped');
        await repo.record(id, 6, 'failed');
        expect(await repo.recorded(id, [5, 1, 2, 9, 6])).toEqual([true, false, true, false, true]);
        expect(await repo.recorded(id, [])).toEqual([]);
      });

      test('the ledger is per campaign: an outcome in one is not recorded in another', async () => {
        const a = await sending(3);
        const b = await sending(3);
        expect(await repo.record(a, 3, 'sent')).toBe(true);
        expect(await repo.recorded(b, [3])).toEqual([false]);
        expect(await repo.record(b, 3, 'failed')).toBe(true);
        expect(await repo.get(a)).toMatchObject(counters({ sent: 1 }));
        expect(await repo.get(b)).toMatchObject(counters({ failed: 1 }));
      });

      test('a recorded sent resets the run of consecutive failures', async () => {
        const id = await sending(3);
        await repo.countFailure(id);
        expect(await repo.countFailure(id)).toBe(2);
        expect(await repo.record(id, 1, 'sent')).toBe(true);
        expect(await repo.countFailure(id)).toBe(1);
      });
    });

    describe('late feedback', () => {
      test('recordFeedback counts a late bounce and a complaint once per recipient and kind, and returns true when it counted', async () => {
        const id = await sending(3);
        await recordAll(id, ['sent', 'sent', 'sent']);
        expect(await repo.recordFeedback(id, 1, 'bounced')).toBe(true);
        expect(await repo.recordFeedback(id, 1, 'bounced')).toBe(false);
        expect(await repo.recordFeedback(id, 1, 'complained')).toBe(true);
        expect(await repo.recordFeedback(id, 1, 'complained')).toBe(false);
        expect(await repo.recordFeedback(id, 2, 'complained')).toBe(true);
        expect(await repo.get(id)).toMatchObject(counters({ sent: 3, lateBounces: 1, complained: 2 }));
      });

      test('a late bounce counts only for a recipient the ledger has as sent; a complaint counts whatever the ledger says', async () => {
        const id = await sending(4);
        await recordAll(id, ['bounced', 'skipped', 'failed']);
        for (const subscriberId of [1, 2, 3, 4])
          expect(await repo.recordFeedback(id, subscriberId, 'bounced')).toBe(false);
        expect(await repo.recordFeedback(id, 1, 'complained')).toBe(true);
        expect(await repo.get(id)).toMatchObject(counters({ bounced: 1, skipped: 1, failed: 1, complained: 1 }));
        // Sent later (a retried batch): its late bounce now counts.
        expect(await repo.record(id, 4, 'sent')).toBe(true);
        expect(await repo.recordFeedback(id, 4, 'bounced')).toBe(true);
        expect(await repo.get(id)).toMatchObject({ sent: 1, lateBounces: 1 });
      });

      test('concurrent reports of one recipient and kind count once', async () => {
        const id = await sending(1);
        await recordAll(id, ['sent']);
        const bounces = await Promise.all(Array.from({ length: 8 }, () => repo.recordFeedback(id, 1, 'bounced')));
        const complaints = await Promise.all(Array.from({ length: 8 }, () => repo.recordFeedback(id, 1, 'complained')));
        expect(bounces.filter(Boolean)).toHaveLength(1);
        expect(complaints.filter(Boolean)).toHaveLength(1);
        expect(await repo.get(id)).toMatchObject(counters({ sent: 1, lateBounces: 1, complained: 1 }));
      });

      test('late feedback is per campaign', async () => {
        const a = await sending(1);
        const b = await sending(1);
        await repo.record(a, 1, 'sent');
        await repo.record(b, 1, 'sent');
        expect(await repo.recordFeedback(a, 1, 'complained')).toBe(true);
        expect(await repo.recordFeedback(b, 1, 'complained')).toBe(true);
        expect(await repo.recordFeedback(b, 1, 'bounced')).toBe(true);
        expect(await repo.get(a)).toMatchObject(counters({ sent: 1, complained: 1 }));
        expect(await repo.get(b)).toMatchObject(counters({ sent: 1, lateBounces: 1, complained: 1 }));
      });

      test('for an unknown campaign recordFeedback returns false and creates nothing', async () => {
        expect(await repo.recordFeedback(42, 1, 'complained')).toBe(false);
        expect(await repo.recordFeedback(42, 1, 'bounced')).toBe(false);
        expect(await repo.get(42)).toBeNull();
        expect(await repo.list()).toEqual([]);
      });
    });

    describe('finishing', () => {
      test.each<[DeliveryOutcome[], CampaignStatus]>([
        [['sent', 'failed', 'skipped'], 'sent'],
        [['failed', 'skipped', 'bounced'], 'failed'],
        [['skipped', 'bounced'], 'sent'],
        [[], 'sent'],
      ])(
        'once the fan-out is done and every queued recipient has an outcome (%j) the campaign ends %s',
        async (outcomes, ends) => {
          const id = await sending(outcomes.length);
          await recordAll(id, outcomes);
          expect(await repo.finishFanout(id, time(5))).toBe(ends);
          expect(await repo.get(id)).toMatchObject({
            status: ends,
            finishedAt: time(5),
            fanoutDone: true,
            total: outcomes.length,
          });
        },
      );

      test('finishIfDone does not end a campaign whose fan-out is not done, even with every queued recipient recorded', async () => {
        const id = await sending(2);
        await recordAll(id, ['sent', 'sent']);
        expect(await repo.finishIfDone(id, time(5))).toBeNull();
        const campaign = await repo.get(id);
        expect(campaign).toMatchObject({ status: 'sending', fanoutDone: false });
        expect(campaign?.finishedAt).toBeUndefined();
      });

      test('after the fan-out, the campaign ends only when the last queued recipient has an outcome', async () => {
        const id = await sending(3);
        expect(await repo.finishFanout(id, time(2))).toBeNull();
        expect(await repo.get(id)).toMatchObject({ status: 'sending', fanoutDone: true });
        await recordAll(id, ['sent', 'failed']);
        expect(await repo.finishIfDone(id, time(3))).toBeNull();
        expect(await repo.status(id)).toBe('sending');
        expect(await repo.record(id, 3, 'sent')).toBe(true);
        expect(await repo.finishIfDone(id, time(4))).toBe('sent');
        expect(await repo.get(id)).toMatchObject({
          status: 'sent',
          finishedAt: time(4),
          ...counters({ sent: 2, failed: 1 }),
        });
      });

      test('only a sending campaign is ended: a draft, a paused or an already ended one stays as it is', async () => {
        const { id: draftId } = await draft();
        expect(await repo.finishFanout(draftId, time(1))).toBeNull();
        expect(await repo.status(draftId)).toBe('draft');

        const id = await sending(1);
        await recordAll(id, ['sent']);
        expect(await repo.transition(id, ['sending'], 'paused', { reason: 'operator' })).toEqual({ ok: true });
        expect(await repo.finishFanout(id, time(2))).toBeNull();
        expect(await repo.status(id)).toBe('paused');

        expect(await repo.transition(id, ['paused'], 'sending', { reason: '' })).toEqual({ ok: true });
        expect(await repo.finishIfDone(id, time(3))).toBe('sent');
        expect(await repo.finishIfDone(id, time(4))).toBeNull();
        expect(await repo.get(id)).toMatchObject({ status: 'sent', finishedAt: time(3) });
      });

      test('while the fan-out runs the total is the estimate given; once it is done, the number queued', async () => {
        const { id } = await draft();
        await repo.transition(id, ['draft'], 'sending', { startedAt: time(1), maxSubscriberId: 12, total: 10 });
        await repo.checkpoint(id, 6, 3);
        expect(await repo.get(id)).toMatchObject({ total: 10, queued: 3 });
        await repo.checkpoint(id, 12, 1);
        expect(await repo.finishFanout(id, time(2))).toBeNull();
        expect(await repo.get(id)).toMatchObject({ status: 'sending', fanoutDone: true, total: 4, queued: 4 });
      });
    });
  });
}
