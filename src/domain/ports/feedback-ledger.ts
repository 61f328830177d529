/**
 * What the feedback loop remembers beyond a person's record: which reports it has already handled (providers
 * deliver webhooks at least once, and a mailbox may be read twice), and each person's recent soft bounces.
 */
export interface FeedbackLedger {
  /**
   * Marks the event as handled for `ttlSeconds` and returns true, or returns false when it was marked already.
   * Concurrent calls for one event: exactly one gets true.
   */
  firstSeen(source: string, eventId: string, ttlSeconds: number): Promise<boolean>;
  /** Adds a soft bounce at `atMs` and returns how many the person has had in the `windowMs` before it (this one too). */
  addSoftBounce(subscriberId: number, atMs: number, windowMs: number): Promise<number>;
}
