import express, { Router, type Request } from 'express';
import { DomainError } from '../domain/errors';
import type { FeedbackReceiver } from '../domain/feedback';
import { WEBHOOK_NAMES, type WebhookName, type WebhookProvider } from '../webhooks/webhook';

/**
 * Larger than any one delivery the providers send (an SNS message is at most 256 KB; SendGrid batches events),
 * small enough that nobody can make us hold much of an unverified body.
 */
const BODY_LIMIT = '1mb';

/**
 * `POST /api/webhooks/{ses,postmark,mailgun,sendgrid,generic}`: the providers' reports of bounces, complaints and
 * unsubscribes. The body is read raw, since signatures cover the exact bytes; the provider's adapter verifies and
 * reads it, and each report goes to the feedback receiver. The answer is the same whether or not the addresses
 * are on the list. A provider that is not configured has no endpoint (404), so nothing unverified is accepted.
 */
export function webhookRoutes(deps: { providers: WebhookProvider[]; feedback: FeedbackReceiver }): Router {
  const providers = new Map(deps.providers.map((p) => [p.name, p]));
  const r = Router();
  const raw = express.raw({ type: () => true, limit: BODY_LIMIT });
  const known = (name: string): name is WebhookName => (WEBHOOK_NAMES as readonly string[]).includes(name);

  r.post(
    '/api/webhooks/:provider',
    (req, _res, next) => {
      const name = req.params.provider;
      if (!known(name)) return next('route');
      // Refused before the body is read: an endpoint that is not configured does not take uploads either.
      if (!providers.has(name))
        throw new DomainError('webhook_not_configured', `The ${name} webhook is not configured on this service.`);
      next();
    },
    raw,
    async (req, res) => {
      const provider = providers.get(req.params.provider as WebhookName)!;
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      try {
        const reports = await provider.read({ body, header: (name) => req.get(name) });
        for (const report of reports) await deps.feedback.receive(report);
        res.json({ received: reports.length });
      } catch (err) {
        if (err instanceof DomainError) logRefusal(req, provider.name, err);
        if (err instanceof DomainError && err.code === 'invalid_signature' && provider.challenge)
          res.setHeader('WWW-Authenticate', provider.challenge);
        throw err;
      }
    },
  );
  return r;
}

/** A refused delivery is worth a line: a wrong key or topic at the provider shows up here first. */
function logRefusal(req: Request, provider: WebhookName, err: DomainError): void {
  req.log.warn({ event: 'webhook.refused', provider, code: err.code, reason: err.message }, 'webhook refused');
}
