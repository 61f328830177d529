import { Router, type Request } from 'express';
import type { Audit } from '../domain/audit';
import { DomainError } from '../domain/errors';
import type { Operator } from '../domain/operator';
import type { Operators } from '../domain/operators';
import { jsonBody } from './body-parsers';

/** The operator an operator-only route acts for; the ADMIN_TOKEN is nobody, so it has no tokens of its own. */
function self(req: Request): Operator {
  const operator = req.caller?.operator;
  if (!operator)
    throw new DomainError('forbidden', 'Only an operator has API tokens: sign in as one, or use one of their tokens.');
  return operator;
}

/**
 * Operators and their API tokens (/api/admin/operators) and the audit log (/api/admin/audit). Who may call which is
 * in the route table (admin-policy.ts); what each success records is written by the audit middleware.
 */
export function adminOperatorRoutes(deps: { operators: Operators; audit: Audit }): Router {
  const { operators, audit } = deps;
  const r = Router();
  const json = jsonBody('16kb', ['application/json']);

  r.get('/operators', async (_req, res) => void res.json({ operators: await operators.list() }));
  r.post('/operators', json, async (req, res) => void res.status(201).json(await operators.create(req.body)));
  r.put(
    '/operators/:id/role',
    json,
    async (req, res) => void res.json(await operators.setRole(req.params.id, (req.body as { role?: unknown })?.role)),
  );
  r.post('/operators/:id/disable', async (req, res) => void res.json(await operators.disable(req.params.id)));
  r.post('/operators/:id/enable', async (req, res) => void res.json(await operators.enable(req.params.id)));

  r.get(
    '/operators/me/tokens',
    async (req, res) => void res.json({ tokens: await operators.listTokens(self(req).id) }),
  );
  r.post('/operators/me/tokens', json, async (req, res) => {
    const created = await operators.createToken(self(req).id, (req.body as { name?: unknown })?.name);
    // Shown once: no cache may keep it.
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json(created);
  });
  r.delete('/operators/me/tokens/:id', async (req, res) => {
    await operators.revokeToken(self(req).id, req.params.id);
    res.status(204).end();
  });

  r.get('/audit', async (req, res) => void res.json(await audit.list(req.query)));
  return r;
}
