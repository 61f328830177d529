import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { Router, type Request } from 'express';
import type { ImportFormat, SubscriberImport } from '../domain/subscriber-import';
import { jsonError, mapError } from './errors';

const FORMATS: Record<string, ImportFormat> = { 'application/x-ndjson': 'ndjson', 'text/csv': 'csv' };
const CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

/**
 * POST /api/admin/subscribers/import[?newsletter=slug] (behind the admin guard). No body parser: the body is handed to the import
 * as a stream, so a file of any size is read as it arrives. `Accept: application/x-ndjson` streams progress lines
 * and then `{"done": summary}`; otherwise the answer is the summary as JSON when the import is over.
 */
export function adminImportRoutes(deps: { subscriberImport: SubscriberImport }): Router {
  const r = Router();
  r.post('/subscribers/import', async (req, res) => {
    const type = mediaType(req.get('content-type'));
    const format = FORMATS[type.essence];
    if (!format) {
      return void jsonError(
        res,
        415,
        'unsupported_media_type',
        'Send NDJSON (Content-Type: application/x-ndjson) or CSV with a header row (Content-Type: text/csv).',
      );
    }
    if (type.charset && !CHARSETS.has(type.charset)) {
      return void jsonError(res, 415, 'unsupported_encoding', 'The file must be UTF-8 (charset=utf-8).');
    }
    const body = bodyOf(req);
    if (!body) return void jsonError(res, 415, 'unsupported_encoding', 'Content-Encoding must be gzip or identity.');

    const progressLines = req.accepts(['application/json', 'application/x-ndjson']) === 'application/x-ndjson';
    let streaming = false;
    const begin = () => {
      if (streaming) return;
      streaming = true;
      res.status(200).type('application/x-ndjson').setHeader('Cache-Control', 'no-store');
      // Proxies that buffer responses (nginx) would hold the progress lines back until the end.
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
    };

    try {
      const summary = await deps.subscriberImport.run(
        body,
        format,
        progressLines
          ? (progress) => {
              begin();
              res.write(JSON.stringify({ progress }) + '\n');
            }
          : undefined,
        { newsletter: req.query.newsletter },
      );
      if (!progressLines) return void res.json(summary);
      begin();
      res.end(JSON.stringify({ done: summary }) + '\n');
    } catch (err) {
      if (res.destroyed || req.socket.destroyed) {
        // The client went away mid-upload; the batches written so far stay (a rerun skips them as existing).
        req.log.warn({ event: 'import.aborted', err: (err as Error).message }, 'import stopped: client disconnected');
        return;
      }
      // Read and drop the rest of the body, so the client, still sending, gets to read the answer.
      if (body !== req) req.unpipe();
      req.resume();
      const corrupt = (err as { code?: string }).code?.startsWith('Z_');
      if (!streaming && !corrupt) throw err;
      const mapped = corrupt
        ? { status: 400, code: 'invalid_gzip', message: 'The gzip-compressed body is corrupt.' }
        : mapError(err);
      if (!streaming) return void jsonError(res, mapped.status, mapped.code, mapped.message);
      if (mapped.status >= 500) req.log.error({ event: 'import.failed', err }, 'import failed');
      res.end(JSON.stringify({ error: { code: mapped.code, message: mapped.message } }) + '\n');
    }
  });
  return r;
}

function mediaType(header: string | undefined): { essence: string; charset?: string } {
  const [essence, ...params] = (header ?? '').split(';').map((s) => s.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"|"$/g, '');
  return { essence, charset };
}

/** The body as bytes, gunzipped if sent gzip-compressed (a million-row CSV shrinks ~5x); null for other encodings. */
function bodyOf(req: Request): Readable | null {
  const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity') return req;
  if (encoding !== 'gzip') return null;
  // pipe, not pipeline: a corrupt gzip stream must not destroy the request, or the error answer could not be sent.
  return req.pipe(createGunzip());
}
