import { Router } from 'express';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Audience } from '../domain/audience';
import { EXPORT_FORMATS, exportChunks, type ExportFormat } from '../domain/audience-export';
import { ValidationError } from '../domain/errors';
import type { Subscriptions } from '../domain/subscriptions';

const CONTENT_TYPE: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** Operator API under /api/admin (the bearer guard sits in front, in app.ts). */
export function adminSubscriberRoutes(deps: { subscriptions: Subscriptions; audience: Audience }): Router {
  const r = Router();

  // ?status=&q=&cursor=&limit=&newsletter=: one page of the audience and the cursor of the next.
  r.get('/subscribers', async (req, res) => {
    res.json(await deps.audience.list(req.query));
  });

  // Declared before /subscribers/:email, which would otherwise take "export" for an address.
  r.get('/subscribers/export', async (req, res) => {
    const format = exportFormat(req.query.format);
    const day = new Date().toISOString().slice(0, 10);
    res.setHeader('Content-Type', CONTENT_TYPE[format]);
    res.setHeader('Content-Disposition', `attachment; filename="subscribers-${day}.${format}"`);
    res.setHeader('Cache-Control', 'no-store');
    // pipeline waits on the socket's drain before pulling the next page, and stops reading if the client goes away.
    await pipeline(Readable.from(exportChunks(deps.audience.exportPages(), format), { objectMode: false }), res);
  });

  r.get('/subscribers/:email', async (req, res) => {
    res.json(await deps.subscriptions.export(req.params.email));
  });
  r.delete('/subscribers/:email', async (req, res) => {
    await deps.subscriptions.erase(req.params.email);
    res.status(204).end();
  });

  r.get('/stats', async (req, res) => {
    res.json(await deps.audience.stats());
  });
  return r;
}

/** `format` of an export: csv (the default) or ndjson. */
function exportFormat(raw: unknown): ExportFormat {
  if (raw === undefined || raw === '') return 'csv';
  if (typeof raw === 'string' && (EXPORT_FORMATS as readonly string[]).includes(raw)) return raw as ExportFormat;
  const message = `must be ${EXPORT_FORMATS.join(' or ')}`;
  throw new ValidationError('invalid_request', `format ${message}`, { issues: [{ field: 'format', message }] });
}
