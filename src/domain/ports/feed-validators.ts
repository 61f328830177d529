/**
 * What a feed's server said identifies the version it sent (RFC 9110, section 8.8): sent back on the next poll as
 * If-None-Match / If-Modified-Since, so an unchanged feed costs a 304 with no body instead of a download and a parse.
 */
export interface FeedValidators {
  etag?: string;
  lastModified?: string;
}

/** The validators of each polled feed, by its URL. */
export interface FeedValidatorStore {
  get(url: string): Promise<FeedValidators | null>;
  /** Keeps the validators of the version just read in full; with none (the server sent neither), forgets the feed's. */
  set(url: string, validators: FeedValidators): Promise<void>;
}
