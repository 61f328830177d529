import type { Clock } from '../../src/domain/ports/clock';

/**
 * A clock that runs with real time from a moment the test chooses: BullMQ delays computed from it elapse in real
 * time, so a job planned for "07:00" runs when this clock says 07:00. `advance` jumps (a worker that was down).
 */
export class ShiftClock implements Clock {
  private offset = 0;
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
  set(iso: string): void {
    this.offset = Date.parse(iso) - Date.now();
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}
