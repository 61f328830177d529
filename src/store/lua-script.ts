import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

type BufferEval = (script: string, numkeys: number, ...args: (string | number)[]) => Promise<unknown>;

/**
 * A Lua script called by its SHA-1 (EVALSHA), so its body crosses the wire once per Redis, not once per call:
 * on the delivery hot path that is one script call per message. A NOSCRIPT answer (a restarted or flushed Redis)
 * falls back to EVAL, which caches it again.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }

  /** As run, with string replies as Buffers: for scripts that return binary data (bitmap bytes). */
  async runBuffer(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    // ioredis makes a `<command>Buffer` method of every command at run time, evalshaBuffer and evalBuffer among
    // them, though its typings lack these two; callBuffer('EVALSHA', ...) loses its command name when the
    // connection auto-pipelines (as the service's does).
    const r = redis as unknown as { evalshaBuffer: BufferEval; evalBuffer: BufferEval };
    try {
      return await r.evalshaBuffer(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return r.evalBuffer(this.source, keys.length, ...keys, ...args);
    }
  }
}
