import { isSlot, latestSlot, localDate, nextSlot } from '../../src/domain/schedule-slots';

const london = (cron: string) => ({ cron, timezone: 'Europe/London' });

/** Every slot strictly after `from` up to `until`, as ISO strings. */
function slotsBetween(cron: string, from: string, until: string): string[] {
  const out: string[] = [];
  let at = new Date(from);
  for (;;) {
    const next = nextSlot(london(cron), at);
    if (!next || next > new Date(until)) return out;
    out.push(next.toISOString());
    at = next;
  }
}

/** The local date (YYYY-MM-DD) in London of each instant. */
const londonDay = (iso: string) => new Date(iso).toLocaleDateString('en-CA', { timeZone: 'Europe/London' });
const londonTime = (iso: string) =>
  new Date(iso).toLocaleTimeString('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' });

describe('slots across the spring-forward day (Europe/London, 29 March 2026, 01:00 → 02:00)', () => {
  test('0 7 * * * fires once a day at 07:00 local, whatever the offset', () => {
    const slots = slotsBetween('0 7 * * *', '2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z');
    expect(slots).toEqual([
      '2026-03-28T07:00:00.000Z', // GMT
      '2026-03-29T06:00:00.000Z', // BST from this day
      '2026-03-30T06:00:00.000Z',
      '2026-03-31T06:00:00.000Z',
    ]);
    expect(slots.map(londonTime)).toEqual(['07:00', '07:00', '07:00', '07:00']);
  });

  test('30 1 * * *, a time that day does not have, fires once that day (at 02:30 BST), never skipped', () => {
    const slots = slotsBetween('30 1 * * *', '2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z');
    expect(slots).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:30:00.000Z', // 01:30 GMT does not happen: 02:30 BST is the same instant
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
    expect(slots.map(londonDay)).toEqual(['2026-03-28', '2026-03-29', '2026-03-30', '2026-03-31']);
    expect(londonTime(slots[1])).toBe('02:30');
  });
});

describe('slots across the fall-back day (Europe/London, 25 October 2026, 02:00 → 01:00)', () => {
  test('0 7 * * * fires once a day at 07:00 local', () => {
    const slots = slotsBetween('0 7 * * *', '2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z');
    expect(slots).toEqual([
      '2026-10-24T06:00:00.000Z', // BST
      '2026-10-25T07:00:00.000Z', // GMT from this day
      '2026-10-26T07:00:00.000Z',
      '2026-10-27T07:00:00.000Z',
    ]);
    expect(slots.map(londonTime)).toEqual(['07:00', '07:00', '07:00', '07:00']);
  });

  test('30 1 * * *, a time that day has twice, fires once that day (the first, BST), never twice', () => {
    const slots = slotsBetween('30 1 * * *', '2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z');
    expect(slots).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z', // 01:30 BST; 01:30 GMT (01:30 UTC) an hour later is not a second slot
      '2026-10-26T01:30:00.000Z',
      '2026-10-27T01:30:00.000Z',
    ]);
    expect(slots.map(londonDay)).toEqual(['2026-10-24', '2026-10-25', '2026-10-26', '2026-10-27']);
  });

  test('a run planned from anywhere inside the repeated hour gets the next day, not the repeat', () => {
    // cron-parser itself answers 2026-10-25T01:30Z (the second 01:30) from 01:00Z on: corrected in nextSlot.
    for (const from of ['2026-10-25T00:30:00Z', '2026-10-25T00:45:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:29:59Z'])
      expect(nextSlot(london('30 1 * * *'), new Date(from))?.toISOString()).toBe('2026-10-26T01:30:00.000Z');
    // So the repeated local 01:30 is not a slot at all: a job for it would find nothing to do.
    expect(isSlot(london('30 1 * * *'), new Date('2026-10-25T01:30:00Z'))).toBe(false);
    expect(isSlot(london('30 1 * * *'), new Date('2026-10-25T00:30:00Z'))).toBe(true);
  });
});

describe('every-30-minutes across the fall-back hour', () => {
  test('each local time fires once: 01:00 and 01:30 BST, not again at 01:00 and 01:30 GMT', () => {
    const slots = slotsBetween('*/30 * * * *', '2026-10-24T23:45:00Z', '2026-10-25T02:30:00Z');
    expect(slots).toEqual([
      '2026-10-25T00:00:00.000Z', // 01:00 BST
      '2026-10-25T00:30:00.000Z', // 01:30 BST
      '2026-10-25T02:00:00.000Z', // 02:00 GMT
      '2026-10-25T02:30:00.000Z',
    ]);
    expect(nextSlot(london('*/30 * * * *'), new Date('2026-10-25T01:10:00Z'))?.toISOString()).toBe(
      '2026-10-25T02:00:00.000Z',
    );
  });
});

describe('slot helpers', () => {
  test('isSlot holds for the schedule’s instants only', () => {
    expect(isSlot(london('0 7 * * *'), new Date('2026-12-02T07:00:00Z'))).toBe(true);
    expect(isSlot(london('0 7 * * *'), new Date('2026-12-02T07:00:01Z'))).toBe(false);
    expect(isSlot(london('0 8 * * *'), new Date('2026-12-02T07:00:00Z'))).toBe(false);
  });

  test('latestSlot walks forward to the last slot that has come', () => {
    const from = new Date('2026-12-02T07:00:00Z');
    expect(latestSlot(london('0 7 * * *'), from, new Date('2026-12-02T09:00:00Z'))).toEqual(from);
    expect(latestSlot(london('0 7 * * *'), from, new Date('2026-12-04T08:00:00Z')).toISOString()).toBe(
      '2026-12-04T07:00:00.000Z',
    );
  });

  test('the local date of a slot is its zone’s', () => {
    // 23:30 UTC on 1 December is already 2 December in Auckland.
    expect(localDate(new Date('2026-12-01T23:30:00Z'), 'Pacific/Auckland')).toBe('Wednesday, 2 December 2026');
    expect(localDate(new Date('2026-12-01T23:30:00Z'), 'Europe/London')).toBe('Tuesday, 1 December 2026');
  });
});
