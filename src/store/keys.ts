/** People per record bucket (Keys.subscriberBucket): at most a hash's 128 fields in Redis's compact encoding. */
export const SUBSCRIBER_BUCKET = 128;

/** Every Redis key this service owns, under one prefix, in one place. */
export class Keys {
  constructor(readonly prefix: string) {}
  private k(...parts: (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }
  subscriberSeq = () => this.k('subscriber', 'seq');
  /** hash of a person's fields, as written before the compact records (migration 4 converts them) */
  subscriber = (id: number | string) => this.k('subscriber', id);
  /**
   * hash of up to SUBSCRIBER_BUCKET people: id -> the compact record with its consent trail (subscriber-record.ts).
   * Buckets, not a key per person: a key costs ~100 bytes of its own; a field of a hash ~50.
   */
  subscriberBucket = (id: number) => this.k('people', Math.floor(id / SUBSCRIBER_BUCKET));
  /** What subscriberBucket(id) is without the bucket number: the scripts name buckets themselves. */
  subscriberBucketPrefix = () => this.k('people', '');
  /** hash of the strings many records share (user agents, terms, sources): '=<text>' -> code, '#<code>' -> text */
  subscriberStrings = () => this.k('people', 'strings');
  /** hash of an email hash -> subscriber id, before migration 4 (the address index below replaced it) */
  subscriberIndex = () => this.k('subscriber', 'by-email');
  /**
   * bitmap of the ids of one status (bit = id): every held id is set in exactly one of the four. Bitmaps, not sorted
   * sets: a bit per id ever given instead of ~100 bytes per member.
   */
  subscribersWithStatus = (status: string) => this.k('subscribers', 'bits', status);
  /** bitmap of every held id: the unfiltered listing and the export page through it */
  allSubscribers = () => this.k('subscribers', 'bits', 'all');
  /**
   * sorted set, all scores 0, of "<lower-cased address>\0<id>": the one unique index of addresses (exact lookup and
   * prefix search with ZRANGEBYLEX)
   */
  subscriberAddresses = () => this.k('subscribers', 'by-address');
  /** sorted sets of ids by status and of all ids, before migration 4 (now the bitmaps above) */
  oldIdSet = (name: string) => this.k('subscribers', name);
  /** version of the audience indexes before migration 4, which deletes it */
  audienceIndexVersion = () => this.k('subscribers', 'indexed');
  /** set of email hashes never to be mailed again (bounced, erased) */
  suppressed = () => this.k('suppressed');
  /** list of consent events (JSON) of one address before migration 4 (now inside the record) */
  consentTrail = (hash: string) => this.k('consent', hash);
  /** stream of erasures: only hashes and times, proof that an erasure happened without keeping the person */
  erasureLog = () => this.k('consent', 'erasures');
  rateLimit = (name: string) => this.k('rl', name);
  articleSeq = () => this.k('article', 'seq');
  article = (id: number | string) => this.k('article', id);
  articleUrlIndex = () => this.k('article', 'by-url');
  articleGuidIndex = () => this.k('article', 'by-guid');
  /** sorted set of article ids not yet in a sent campaign, score = published time */
  newArticles = () => this.k('articles', 'new');
  allArticles = () => this.k('articles', 'all');
  campaignSeq = () => this.k('campaign', 'seq');
  campaign = (id: number | string) => this.k('campaign', id);
  campaigns = () => this.k('campaigns');
  campaignContent = (id: number | string) => this.k('campaign', id, 'content');
  /** bitmap of subscriber ids whose message the SMTP server accepted */
  campaignLedger = (id: number | string) => this.k('campaign', id, 'ledger');
  /** bitmap of subscriber ids that ended in a final non-success state (skipped, bounced, failed) */
  campaignSettled = (id: number | string) => this.k('campaign', id, 'settled');
  /** bitmaps of subscriber ids reported back after the send: kind is 'bounced' or 'complained' */
  campaignFeedback = (id: number | string, kind: string) => this.k('campaign', id, kind);
  /** hash: newsletter slug -> the newsletter as JSON (a handful of them, always read together) */
  newsletters = () => this.k('newsletters');
  /** set of the article ids sent in a campaign of this newsletter: what is no longer new for it */
  newsletterSent = (slug: string) => this.k('newsletter', slug, 'sent');
  /** bitmap of the ids of a newsletter's readers (active people who receive it): its fan-out */
  newsletterMembers = (slug: string) => this.k('newsletter', slug, 'readers');
  /** sorted set of a newsletter's readers before migration 4 */
  oldNewsletterMembers = (slug: string) => this.k('newsletter', slug, 'members');
  /**
   * What newsletterMembers(slug) is with the slug and suffix left off: scripts that read a person's newsletters from
   * the record name the bitmaps themselves (`<this><slug>:readers`).
   */
  newsletterKeyPrefix = () => this.k('newsletter', '');
  /** hash: run key (slot or article, see runKey) -> the run as JSON: the claim and the record of each */
  newsletterRuns = (slug: string) => this.k('newsletter', slug, 'runs');
  /** sorted set of the run keys above, score = claim time (ms): their order, and what is trimmed */
  newsletterRunOrder = (slug: string) => this.k('newsletter', slug, 'run-order');
  /** sorted set of the run keys of alerts claimed, score = claim time (ms): the alertsPerDay window */
  newsletterAlertWindow = (slug: string) => this.k('newsletter', slug, 'alert-window');
  /** string: the number of the last data migration applied (see migrations.ts) */
  schemaVersion = () => this.k('schema', 'version');
  /** string with an expiry: held by the one process running the migrations */
  migrationLock = () => this.k('schema', 'lock');
  /** string key per handled inbound report (source and id), expiring: the webhooks' idempotency */
  feedbackSeen = (source: string, eventId: string) => this.k('feedback', 'seen', source, eventId);
  /** sorted set of one person's soft bounce times (ms) */
  softBounces = (subscriberId: number) => this.k('feedback', 'soft', subscriberId);
  // Operators, sessions and the audit log (see operator-store.ts, session-store.ts, audit-store.ts).
  operatorSeq = () => this.k('operator', 'seq');
  /** hash: email, name, role, createdAt, disabled ('1' when so), password (the scrypt PHC string) */
  operator = (id: string) => this.k('operator', id);
  /** hash: login -> operator id */
  operatorsByEmail = () => this.k('operators', 'by-email');
  /** sorted set of every operator id, score = id */
  operators = () => this.k('operators', 'all');
  /** set of the ids of enabled admins: the last one may not go */
  enabledAdmins = () => this.k('operators', 'admins');
  /** hash: token id -> the token as JSON (with the SHA-256 of its secret) */
  operatorTokens = (operatorId: string) => this.k('operator', operatorId, 'tokens');
  /** hash: SHA-256 of a token's secret -> "<operator id>:<token id>" */
  tokensBySecret = () => this.k('operators', 'tokens');
  /** hash per session, by the SHA-256 of its id, expiring with the session */
  session = (idHash: string) => this.k('session', idHash);
  /** set of the session hashes of one operator, so they can all be ended */
  operatorSessions = (operatorId: string) => this.k('operator', operatorId, 'sessions');
  /** stream of audit entries, capped by length */
  auditLog = () => this.k('audit');
  /** hash per UTC day (YYYY-MM-DD): signups, confirmations, unsubscribes -> count; expires after ~40 days */
  dailyActivity = (day: string) => this.k('activity', day);
  /** hash: minute (epoch minute) -> messages sent in it, for one campaign */
  campaignMinutes = (id: number | string) => this.k('campaign', id, 'minutes');
  /** string: the last feed poll as JSON */
  feedLastPoll = () => this.k('feed', 'last-poll');
  /** hash: feed URL -> its last ETag and Last-Modified as JSON, sent back on the next poll (conditional GET) */
  feedValidators = () => this.k('feed', 'validators');
}
