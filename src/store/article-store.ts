import type { Redis } from 'ioredis';
import type { Article, NewArticle } from '../domain/article';
import type { ArticleRepository } from '../domain/ports/article-repository';
import type { Keys } from './keys';

/** Fields of the article hash, flat strings as Redis holds them. */
type Row = Record<string, string>;

/**
 * Finds an article by url (then by guid) or creates it, in one script, so two concurrent adds of one url (or one
 * guid) make one article. When found by url, a guid not yet indexed is attached to it, so a later move of the url
 * is still recognised by its guid.
 * KEYS: seq, url index, guid index, new zset, all zset.
 * ARGV: article key prefix, url, guid or '', score, field, value...
 * Returns {id, created (0/1)}.
 */
const ADD = `
local id = redis.call('HGET', KEYS[2], ARGV[2])
if id then
  if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[3], ARGV[3], id) end
  return {tonumber(id), 0}
end
if ARGV[3] ~= '' then
  id = redis.call('HGET', KEYS[3], ARGV[3])
  if id then return {tonumber(id), 0} end
end
id = redis.call('INCR', KEYS[1])
local fields = {'id', tostring(id)}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', ARGV[1] .. id, unpack(fields))
redis.call('HSET', KEYS[2], ARGV[2], id)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[3], id) end
redis.call('ZADD', KEYS[4], ARGV[4], id)
redis.call('ZADD', KEYS[5], ARGV[4], id)
return {id, 1}
`;

/**
 * Takes articles out of the new set and records the campaign on each that still exists. The first campaign to send
 * an article stays recorded (HSETNX): marking again, by a retry or a later campaign, changes nothing.
 * KEYS: new zset, article hash per id. ARGV: campaign id, then the ids in the order of KEYS[2..].
 */
const MARK_SENT = `
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('HSETNX', KEYS[i], 'sentInCampaign', ARGV[1]) end
  redis.call('ZREM', KEYS[1], ARGV[i])
end
return #KEYS - 1
`;

/** Articles a listing returns when the caller names no limit. */
const DEFAULT_LIMIT = 100;
/** Articles `listNewIn` reads per round trip. */
const NEW_IN_PAGE = 200;

/**
 * ArticleRepository on Redis: a hash per article, the url and guid indexes, and two zsets scored by publication
 * time, the new articles (in no sent campaign) and all of them.
 */
export class ArticleStore implements ArticleRepository {
  private readonly keys: Keys;

  constructor(private readonly deps: { redis: Redis; keys: Keys }) {
    this.keys = deps.keys;
  }

  private get redis() {
    return this.deps.redis;
  }

  /**
   * Stores the article unless one with this url (or this guid) exists; returns the stored one either way.
   * The input must already be validated and sanitised (see `Articles.add`).
   */
  async add(input: NewArticle): Promise<{ article: Article; created: boolean }> {
    const row = toRow(input);
    const score = String(Date.parse(input.publishedAt) || 0);
    const k = this.keys;
    const [id, created] = (await this.redis.eval(
      ADD,
      5,
      k.articleSeq(),
      k.articleUrlIndex(),
      k.articleGuidIndex(),
      k.newArticles(),
      k.allArticles(),
      k.article(''),
      input.url,
      input.guid ?? '',
      score,
      ...Object.entries(row).flat(),
    )) as [number, number];
    const article = created ? toArticle({ ...row, id: String(id) }) : await this.get(id);
    // The index and the hash are written in one script, so an indexed id always has its hash.
    if (!article) throw new Error(`article ${id} is indexed but missing`);
    return { article, created: created === 1 };
  }

  async get(id: number): Promise<Article | null> {
    const row = await this.redis.hgetall(this.keys.article(id));
    return row.id ? toArticle(row) : null;
  }

  /** Reads many articles in one round trip, in the order given; ids with no article are dropped. */
  async getMany(ids: number[]): Promise<Article[]> {
    if (!ids.length) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.keys.article(id));
    const results = (await pipe.exec()) ?? [];
    const out: Article[] = [];
    // A failed read fails the caller: a campaign rendered from the articles that happened to answer would go out
    // incomplete.
    for (const [err, row] of results) {
      if (err) throw err;
      if ((row as Row).id) out.push(toArticle(row as Row));
    }
    return out;
  }

  /** Articles not yet in a sent campaign, newest (by publication time) first. */
  async listNew(limit = DEFAULT_LIMIT): Promise<Article[]> {
    return this.getMany(await this.newestIds(this.keys.newArticles(), limit));
  }

  /** Every article, newest (by publication time) first. */
  async list(limit = DEFAULT_LIMIT): Promise<Article[]> {
    return this.getMany(await this.newestIds(this.keys.allArticles(), limit));
  }

  async sentIn(newsletter: string, ids: number[]): Promise<boolean[]> {
    if (!ids.length) return [];
    const found = await this.redis.smismember(this.keys.newsletterSent(newsletter), ...ids.map(String));
    return found.map((f) => f === 1);
  }

  async listNewIn(newsletter: string, opts: { categories?: string[]; limit?: number } = {}): Promise<Article[]> {
    const limit = opts.limit ?? DEFAULT_LIMIT;
    const wanted = new Set((opts.categories ?? []).map((c) => c.toLowerCase()));
    const sentKey = this.keys.newsletterSent(newsletter);
    const out: Article[] = [];
    // Pages through every article newest first, as few as the limit needs: a newsletter's new articles are most
    // often the newest ones, so the first page usually ends it.
    for (let start = 0; out.length < limit; start += NEW_IN_PAGE) {
      const ids = await this.redis.zrevrange(this.keys.allArticles(), start, start + NEW_IN_PAGE - 1);
      if (!ids.length) break;
      const sent = await this.redis.smismember(sentKey, ...ids);
      const unsent = ids.filter((_, i) => !sent[i]).map(Number);
      for (const a of await this.getMany(unsent)) {
        if (wanted.size && !a.categories?.some((c) => wanted.has(c.toLowerCase()))) continue;
        out.push(a);
        if (out.length === limit) break;
      }
    }
    return out;
  }

  /** Takes the articles out of the new set (and the newsletter's) and records the campaign that sent them. Idempotent. */
  async markSent(ids: number[], campaignId: number, newsletter?: string): Promise<void> {
    if (!ids.length) return;
    // Before the global mark: a retry after a failure in between repeats both, and both are idempotent.
    if (newsletter) await this.redis.sadd(this.keys.newsletterSent(newsletter), ...ids.map(String));
    await this.redis.eval(
      MARK_SENT,
      ids.length + 1,
      this.keys.newArticles(),
      ...ids.map((id) => this.keys.article(id)),
      String(campaignId),
      ...ids.map(String),
    );
  }

  private async newestIds(key: string, limit: number): Promise<number[]> {
    if (limit <= 0) return [];
    return (await this.redis.zrevrange(key, 0, limit - 1)).map(Number);
  }
}

function toRow(a: NewArticle): Row {
  const row: Row = {
    title: a.title,
    url: a.url,
    summary: a.summary,
    bodyHtml: a.bodyHtml,
    publishedAt: a.publishedAt,
    createdAt: a.createdAt,
  };
  if (a.imageUrl) row.imageUrl = a.imageUrl;
  if (a.author) row.author = a.author;
  if (a.guid) row.guid = a.guid;
  if (a.categories?.length) row.categories = JSON.stringify(a.categories);
  return row;
}

function toArticle(r: Row): Article {
  const a: Article = {
    id: Number(r.id),
    title: r.title,
    url: r.url,
    summary: r.summary ?? '',
    bodyHtml: r.bodyHtml ?? '',
    publishedAt: r.publishedAt,
    createdAt: r.createdAt,
  };
  if (r.imageUrl) a.imageUrl = r.imageUrl;
  if (r.author) a.author = r.author;
  if (r.guid) a.guid = r.guid;
  if (r.categories) a.categories = JSON.parse(r.categories) as string[];
  if (r.sentInCampaign) a.sentInCampaign = Number(r.sentInCampaign);
  return a;
}
