import { Router, type Request } from 'express';
import type { Campaigns } from '../domain/campaigns';
import { ValidationError } from '../domain/errors';
import { newsletterPagePolicy } from './content-security';
import { jsonBody } from './body-parsers';
import { recordId } from '../domain/validation';

/** Operator campaign API under /api/admin/campaigns. */
export function adminCampaignRoutes(deps: { campaigns: Campaigns }): Router {
  const { campaigns } = deps;
  const r = Router();
  const json = jsonBody('64kb', ['application/json']);
  const id = (req: Request) => {
    const n = recordId(req.params.id);
    if (n === undefined) throw new ValidationError('invalid_request', 'campaign id must be a positive integer');
    return n;
  };

  r.get('/campaigns', async (_req, res) => void res.json({ campaigns: await campaigns.list() }));
  r.post('/campaigns', json, async (req, res) => void res.status(201).json(await campaigns.create(req.body)));
  r.get('/campaigns/:id', async (req, res) => void res.json(await campaigns.overview(id(req))));
  r.patch('/campaigns/:id', json, async (req, res) => void res.json(await campaigns.edit(id(req), req.body)));
  r.delete('/campaigns/:id', async (req, res) => {
    await campaigns.delete(id(req));
    res.status(204).end();
  });
  r.get('/campaigns/:id/preview', async (req, res) => {
    const { html, htmlBytes } = await campaigns.preview(id(req));
    // The size that counts against the limit is the HTML as sent, before a reader's values go in.
    res.type('html').setHeader('Newsletter-Html-Bytes', String(htmlBytes)).setHeader('Cache-Control', 'no-store');
    // The console's compose page frames it; the policy keeps the newsletter's own styles and nothing else.
    res.setHeader('Content-Security-Policy', newsletterPagePolicy(html, "'self'")).send(html);
  });
  r.post('/campaigns/:id/test', json, async (req, res) => void res.json(await campaigns.test(id(req), req.body)));
  r.post('/campaigns/:id/send', async (req, res) => void res.status(202).json(await campaigns.send(id(req))));
  r.post(
    '/campaigns/:id/schedule',
    json,
    async (req, res) => void res.json(await campaigns.schedule(id(req), req.body)),
  );
  r.delete('/campaigns/:id/schedule', async (req, res) => void res.json(await campaigns.unschedule(id(req))));
  r.post('/campaigns/:id/pause', async (req, res) => void res.json(await campaigns.pause(id(req))));
  r.post('/campaigns/:id/resume', async (req, res) => void res.json(await campaigns.resume(id(req))));
  r.post('/campaigns/:id/cancel', async (req, res) => void res.json(await campaigns.cancel(id(req))));
  return r;
}
