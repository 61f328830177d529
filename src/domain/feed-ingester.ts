import type { Logger } from 'pino';
import type { Articles } from './articles';
import type { FeedPollLog } from './ports/activity';
import type { Clock } from './ports/clock';
import type { FeedValidators, FeedValidatorStore } from './ports/feed-validators';
import { ValidationError } from './errors';
import { decodeFeedBytes } from './feed-encoding';
import { FeedError, parseFeed } from './feed-parser';

export { FeedError };

/** Options of `FeedIngester`. */
export interface FeedIngesterDeps {
  articles: Articles;
  log: Logger;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Longest wait for the whole response, body included. Default 10 000 ms. */
  timeoutMs?: number;
  /** Largest document read. Default 5 MB. */
  maxBytes?: number;
  /** Where each poll's outcome is kept for the dashboard (with `clock`). Default: not kept. */
  polls?: FeedPollLog;
  clock?: Clock;
  /**
   * Where each feed's ETag and Last-Modified are kept between polls, for conditional GET.
   * Default: not kept (every poll downloads the feed).
   */
  validators?: FeedValidatorStore;
}

export interface PollResult {
  /** Entries stored as new articles. */
  added: number;
  /** Entries already known, by url or guid. */
  seen: number;
  /** Entries refused by validation (no link, a javascript: link, a line break in a url...). */
  invalid: number;
  /** The server answered 304 Not Modified to the feed's validators: nothing was downloaded or read. */
  notModified?: true;
}

const ACCEPT = 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1';

/**
 * Brings a site's RSS or Atom feed in as articles. A feed that cannot be fetched or read throws a FeedError (the poll
 * job retries); within a readable feed each entry stands alone, so one bad entry never keeps the others out.
 */
export class FeedIngester {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(private readonly deps: FeedIngesterDeps) {
    this.fetch = deps.fetch ?? globalThis.fetch;
    this.timeoutMs = deps.timeoutMs ?? 10_000;
    this.maxBytes = deps.maxBytes ?? 5 * 1024 * 1024;
  }

  /** Polls the feed, and notes the outcome (a failure too: "last poll failed" is what an operator must see). */
  async poll(url: string): Promise<PollResult> {
    const { polls, clock } = this.deps;
    if (!polls || !clock) return this.read(url);
    const at = clock.now().toISOString();
    try {
      const result = await this.read(url);
      await polls.polled({ at, url, ok: true, ...result });
      return result;
    } catch (err) {
      await polls
        .polled({ at, url, ok: false, added: 0, seen: 0, invalid: 0, error: (err as Error).message })
        .catch(() => undefined);
      throw err;
    }
  }

  private async read(url: string): Promise<PollResult> {
    const { validators } = this.deps;
    const known = (await validators?.get(url)) ?? undefined;
    const download = await this.download(url, known);
    if (!download) {
      this.deps.log.debug({ event: 'feed.not_modified', feed: url }, 'feed not modified');
      return { added: 0, seen: 0, invalid: 0, notModified: true };
    }
    const { document, finalUrl, encoding } = download;
    let feed: ReturnType<typeof parseFeed>;
    try {
      feed = parseFeed(document, { baseUrl: finalUrl });
    } catch (err) {
      // The encoding the bytes were read in is often half of why a document does not parse: say which it was.
      if (err instanceof FeedError)
        throw new FeedError('feed_invalid', `${err.message} (read as ${encoding})`, { url, encoding });
      throw err;
    }
    const result: PollResult = { added: 0, seen: 0, invalid: 0 };
    // Feeds list newest first; adding oldest first gives ids in publication order.
    for (const entry of [...feed.entries].reverse()) {
      try {
        const { created } = await this.deps.articles.add(entry);
        if (created) result.added++;
        else result.seen++;
      } catch (err) {
        // Only a refused entry is skipped; a store failure fails the poll, which retries, and dedup makes that safe.
        if (!(err instanceof ValidationError)) throw err;
        result.invalid++;
        this.deps.log.warn(
          {
            event: 'feed.entry_invalid',
            feed: url,
            guid: entry.guid,
            link: entry.url,
            code: err.code,
            reason: err.message,
          },
          'feed entry refused',
        );
      }
    }
    // Only now, with every entry stored: a poll that failed half-way must download the same version again.
    await validators
      ?.set(url, download.validators)
      .catch((err: Error) =>
        this.deps.log.warn(
          { event: 'feed.validators_not_saved', feed: url, err: err.message },
          'could not keep the feed validators; the next poll downloads the feed in full',
        ),
      );
    this.deps.log.info(
      { event: 'feed.polled', feed: url, format: feed.format, encoding, entries: feed.entries.length, ...result },
      'feed polled',
    );
    return result;
  }

  /**
   * The document as text, read under the time and size limits, with the validators of this version; undefined when
   * the server answered 304 Not Modified to the validators of the version read before.
   */
  private async download(
    url: string,
    known: FeedValidators | undefined,
  ): Promise<{ document: string; finalUrl: string; encoding: string; validators: FeedValidators } | undefined> {
    if (!/^https?:\/\//i.test(url))
      throw new FeedError('feed_unreachable', `The feed URL must be http:// or https://: ${url}`);
    // One signal for the request and the body: a server that trickles its answer is cut off too.
    const signal = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await this.fetch(url, {
        signal,
        redirect: 'follow',
        headers: {
          accept: ACCEPT,
          'user-agent': 'newsletter-feed-poller/1',
          ...(known?.etag ? { 'if-none-match': known.etag } : {}),
          ...(known?.lastModified ? { 'if-modified-since': known.lastModified } : {}),
        },
      });
    } catch (err) {
      throw new FeedError('feed_unreachable', `The feed could not be fetched: ${reason(err, this.timeoutMs)}`, { url });
    }
    const conditional = !!(known?.etag || known?.lastModified);
    if (res.status === 304 && conditional) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new FeedError('feed_unreachable', `The feed answered HTTP ${res.status}.`, { url, status: res.status });
    }
    const declared = Number(res.headers.get('content-length'));
    if (declared > this.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new FeedError('feed_invalid', `The feed is larger than ${this.maxBytes} bytes.`, { url, bytes: declared });
    }
    const bytes = await this.readCapped(res, url);
    const { text, encoding } = decodeFeedBytes(bytes, res.headers.get('content-type'));
    const validators: FeedValidators = {};
    const etag = res.headers.get('etag');
    const lastModified = res.headers.get('last-modified');
    if (etag) validators.etag = etag;
    if (lastModified) validators.lastModified = lastModified;
    return { document: text, finalUrl: res.url || url, encoding, validators };
  }

  private async readCapped(res: Response, url: string): Promise<Uint8Array> {
    if (!res.body) return new Uint8Array();
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > this.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new FeedError('feed_invalid', `The feed is larger than ${this.maxBytes} bytes.`, { url });
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof FeedError) throw err;
      throw new FeedError('feed_unreachable', `The feed could not be read: ${reason(err, this.timeoutMs)}`, { url });
    }
    return Buffer.concat(chunks);
  }
}

function reason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no complete answer within ${timeoutMs} ms`;
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
