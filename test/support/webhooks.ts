import type { SubscriberStatus } from '../../src/domain/subscriber';
import type { TestApp } from './test-app';

/** What a webhook answered. */
export interface WebhookAnswer {
  status: number;
  body: { received?: number; error?: { code: string; message: string } };
}

/** POSTs a body to /api/webhooks/<provider> exactly as given (signatures cover the bytes). */
export async function postWebhook(
  app: TestApp,
  provider: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<WebhookAnswer> {
  const res = await fetch(`${app.base}/api/webhooks/${provider}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** A person as the operator sees them: GET /api/admin/subscribers/:email. */
export async function personView(
  app: TestApp,
  email: string,
): Promise<{ status: SubscriberStatus; trail: { type: string; detail?: string }[] }> {
  const res = await fetch(`${app.base}/api/admin/subscribers/${encodeURIComponent(email)}`, {
    headers: app.adminHeaders,
  });
  if (res.status !== 200) throw new Error(`GET subscriber answered ${res.status}`);
  const json = await res.json();
  return { status: json.subscriber.status, trail: json.trail };
}

/** The trail entries a webhook added (everything after the seeded person's own). */
export function reports(view: { trail: { type: string; detail?: string }[] }) {
  return view.trail.map((e) => [e.type, e.detail]);
}
