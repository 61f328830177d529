import type { HttpGet } from './webhook';

/** Options of `httpsGet`. */
export interface HttpsGetOptions {
  /** Give up after this long. Default 10 s: SNS waits about 15 s for our answer. */
  timeoutMs?: number;
  /** Refuse bodies larger than this. Default 64 KB: a certificate or a confirmation answer is a few KB. */
  maxBytes?: number;
}

/**
 * The real network for the SNS adapter: a GET over https only, no redirects (a certificate must come from the host
 * that was checked, not from wherever it points), a timeout, and a bounded body.
 */
export function httpsGet(opts: HttpsGetOptions = {}): HttpGet {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBytes ?? 64 * 1024;
  return async (url) => {
    if (!url.startsWith('https://')) throw new Error('only https URLs are fetched');
    const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = res.body?.getReader();
    for (;;) {
      const next = await reader?.read();
      if (!next || next.done) break;
      size += next.value.byteLength;
      if (size > maxBytes) {
        await reader?.cancel();
        throw new Error(`the answer is larger than ${maxBytes} bytes`);
      }
      chunks.push(Buffer.from(next.value));
    }
    return { status: res.status, body: Buffer.concat(chunks).toString('utf8') };
  };
}
