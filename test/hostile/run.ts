import { resolve, type HostileCase } from './case';
import { send, sendBytes, type Answer, type RawRequest } from './http';
import { differences, digest, restore, takeSnapshot, type Snapshot } from './snapshot';
import type { World } from './world';

/** No hostile request may take longer than this to be answered. */
export const REQUEST_TIMEOUT_MS = 5000;

function authHeaders(c: HostileCase, w: World): Record<string, string> {
  switch (c.auth ?? 'none') {
    case 'none':
      return {};
    case 'admin':
      return { authorization: `Bearer ${w.adminToken}` };
    case 'editor':
      return { authorization: `Bearer ${w.editorToken}` };
    case 'viewer':
      return { authorization: `Bearer ${w.viewerToken}` };
    case 'session':
      return { cookie: w.session.cookie, 'x-csrf-token': w.session.csrf, origin: w.origin };
    case 'session-no-csrf':
      return { cookie: w.session.cookie };
  }
}

/** The request a case describes, credentials and body encoding included. */
export function requestOf(c: HostileCase, w: World): RawRequest {
  const given = resolve(c.headers, w) ?? {};
  const headers: Record<string, string | string[]> = { ...authHeaders(c, w), ...given };
  const raw = resolve(c.body, w);
  let body: string | Buffer | undefined;
  if (raw === undefined || typeof raw === 'string' || Buffer.isBuffer(raw)) body = raw;
  else {
    body = JSON.stringify(raw);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
  }
  return { method: c.method ?? 'GET', path: resolve(c.path, w)!, headers, body };
}

/** Sends a case and checks its answer: the exact status, the exact error code (or page), never a 5xx or a hang. */
export async function runCase(c: HostileCase, w: World): Promise<Answer> {
  const raw = resolve(c.raw, w);
  const answer =
    raw === undefined
      ? await send(w.port, requestOf(c, w), REQUEST_TIMEOUT_MS)
      : await sendBytes(w.port, raw, REQUEST_TIMEOUT_MS);
  const type = String(answer.headers['content-type'] ?? '');
  let json: unknown;
  if (type.startsWith('application/json')) json = JSON.parse(answer.text);
  const code = (json as { error?: { code?: string } } | undefined)?.error?.code;
  const want = c.expect;
  expect(answer.status).toBeLessThan(500);
  // Status and code compared together, so a failure shows both.
  expect({ status: answer.status, ...(want.code ? { code } : {}) }).toEqual({
    status: want.status,
    ...(want.code ? { code: want.code } : {}),
  });
  if (want.code) expect(type).toMatch(/^application\/json/);
  if (want.page) {
    expect(type).toMatch(/^text\/html/);
    expect(answer.text).toMatch(want.page);
  }
  if (want.location) expect(answer.headers.location).toBe(want.location);
  want.check?.({ status: answer.status, text: answer.text, json });
  return answer;
}

/** What every case is compared with: the seeded data read whole, and the digest of what is held now. */
export interface Baseline {
  snapshot: Snapshot;
  digest: string;
}

export async function baseline(w: World): Promise<Baseline> {
  const redis = w.app.container.redis;
  return { snapshot: await takeSnapshot(redis, w.app.prefix), digest: await digest(redis, w.app.prefix) };
}

/**
 * Runs a case and then checks that everything held under the app's prefix reads as the snapshot taken before the
 * suite: a digest first, the full comparison when it differs. A difference fails the case, and the data is put back
 * so the next case starts from the same state.
 */
export async function runAndCompare(c: HostileCase, w: World, base: Baseline): Promise<void> {
  let failure: unknown;
  try {
    await runCase(c, w);
  } catch (e) {
    failure = e;
  }
  const redis = w.app.container.redis;
  const now = await digest(redis, w.app.prefix);
  if (now !== base.digest) {
    const changed = differences(base.snapshot, await takeSnapshot(redis, w.app.prefix));
    if (changed.length) {
      await restore(redis, w.app.prefix, base.snapshot);
      base.digest = await digest(redis, w.app.prefix);
      if (!failure) failure = new Error(`the request changed what is held:\n${changed.join('\n')}`);
    } else {
      // Only entries the allow-list accepts were added (an audited refusal): they are the new normal.
      base.digest = now;
    }
  }
  if (failure) throw failure as Error;
}
