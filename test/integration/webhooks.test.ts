import { startTestApp, type TestApp } from '../support/test-app';
import { postWebhook } from '../support/webhooks';

let app: TestApp;

// No webhook settings at all: the defaults of a fresh install.
beforeAll(async () => {
  app = await startTestApp({ workers: false });
});
afterAll(() => app.stop());

test.each(['ses', 'postmark', 'mailgun', 'sendgrid', 'generic'])(
  'without its secret the %s webhook has no endpoint: 404 webhook_not_configured',
  async (provider) => {
    const r = await postWebhook(app, provider, JSON.stringify({ id: 'x', type: 'bounce', email: 'a@b.test' }));
    expect(r.status).toBe(404);
    expect(r.body.error).toEqual({
      code: 'webhook_not_configured',
      message: `The ${provider} webhook is not configured on this service.`,
    });
  },
);

test('an unknown provider is an unknown path, and a GET is not a delivery', async () => {
  const r = await postWebhook(app, 'sparkpost', '{}');
  expect(r.status).toBe(404);
  expect(r.body.error?.code).toBe('not_found');
  const get = await fetch(`${app.base}/api/webhooks/generic`);
  expect(get.status).toBe(404);
});
