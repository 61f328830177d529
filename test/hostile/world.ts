import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { generate } from 'selfsigned';
import { SignedTokens, type TokenPurpose } from '../../src/domain/signed-token';
import type { HttpGet } from '../../src/webhooks/webhook';
import { seedAddresses, seedArticles, seedSubscribers } from '../support/seed';
import { startTestApp, TEST_SECRETS, TestClock, type TestApp } from '../support/test-app';

/** The time the suite's app lives at: fixed, so a session's sliding expiry writes back the same value. */
export const NOW = Date.parse('2026-11-27T12:00:00Z');

export const WEBHOOK_SECRET = 'hostile-generic-webhook-secret-0123456789';
export const MAILGUN_KEY = 'key-hostile-mailgun-0123456789';
export const POSTMARK = { user: 'postmark-hostile', password: 'postmark-password-0123456789' };
export const SES_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-feedback';
export const SES_CERT_URL =
  'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';

const PASSWORD = 'correct horse battery staple';

/**
 * The suite's app and the data it holds: what the hostile cases aim at (a real token, a real campaign id) and must
 * leave as it was.
 */
export interface World {
  app: TestApp;
  port: number;
  adminToken: string;
  editorToken: string;
  viewerToken: string;
  session: { cookie: string; csrf: string };
  origin: string;
  subscriberIds: { active: number; pending: number };
  activeEmail: string;
  articleId: number;
  campaignId: number;
  newsletter: string;
  editorId: string;
  /** A token signed with the app's secret, for any purpose, person and newsletter. */
  token(purpose: TokenPurpose, subscriberId: number, newsletter?: string): string;
  /** A confirmation token that expired a day ago. */
  expiredConfirmToken: string;
  sign: {
    generic(body: string): Record<string, string>;
    mailgun(timestamp?: number, token?: string): { timestamp: string; token: string; signature: string };
    sendgrid(body: string, timestamp?: string): Record<string, string>;
    ses(message: Record<string, string | undefined>): Record<string, string | undefined>;
  };
  postmarkAuth: string;
}

const sesKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let sesCertificate = '';

/** The suite's stand-in for Amazon: the one signing certificate, nothing else. */
const httpGet: HttpGet = (url) =>
  Promise.resolve(url === SES_CERT_URL ? { status: 200, body: sesCertificate } : { status: 404, body: '' });

/** Starts the app with every webhook configured and limits high enough that no limiter masks a validation. */
export async function buildWorld(): Promise<World> {
  sesCertificate = (
    await generate([{ name: 'commonName', value: 'sns.amazonaws.com' }], {
      keyPair: {
        privateKey: sesKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicKey: sesKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
      algorithm: 'sha256',
      notBeforeDate: new Date('2020-01-01T00:00:00Z'),
      notAfterDate: new Date('2040-01-01T00:00:00Z'),
    })
  ).cert;
  const clock = new TestClock(NOW);
  const app = await startTestApp({
    workers: false,
    clock,
    httpGet,
    env: {
      SIGNUP_RATE_PER_IP: '100000',
      CONFIRM_MAILS_PER_ADDRESS_PER_HOUR: '100000',
      SIGN_IN_RATE_PER_IP: '100000',
      SIGN_IN_RATE_PER_ACCOUNT: '100000',
      // The admin API's lockout after refused bearer tokens (issue 10, security): the suite refuses dozens on purpose.
      ADMIN_AUTH_FAILURES_PER_IP: '100000',
      PASSWORD_SCRYPT_N: '1024',
      WEBHOOK_SECRET,
      MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
      POSTMARK_WEBHOOK_USER: POSTMARK.user,
      POSTMARK_WEBHOOK_PASSWORD: POSTMARK.password,
      SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridKeys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      SES_TOPIC_ARN: SES_TOPIC,
    },
  });
  const { container } = app;
  const port = Number(new URL(app.base).port);

  const newsletter = await container.newsletters.create({
    slug: 'hostile-weekly',
    name: 'Hostile Weekly',
    description: 'A second newsletter the cases may name.',
  });
  await seedSubscribers(container, 3, { domain: 'list.test' });
  const [pending] = await seedSubscribers(container, 1, { domain: 'pending.test', status: 'pending' });
  const [active] = await seedAddresses(container, ['jane@list.test']);
  const [article] = await seedArticles(container, 2);
  const campaign = await container.campaigns.create({ subject: 'Hostile draft', articleIds: [article.id] });

  const admin = await container.operators.create({ email: 'admin@ops.test', role: 'admin', password: PASSWORD });
  const editor = await container.operators.create({ email: 'editor@ops.test', role: 'editor', password: PASSWORD });
  const viewer = await container.operators.create({ email: 'viewer@ops.test', role: 'viewer', password: PASSWORD });
  const editorToken = (await container.operators.createToken(editor.id, 'hostile')).token;
  const viewerToken = (await container.operators.createToken(viewer.id, 'hostile')).token;
  void admin;

  const signIn = await fetch(`${app.base}/admin/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@ops.test', password: PASSWORD }),
  });
  if (signIn.status !== 200) throw new Error(`sign-in answered ${signIn.status}`);
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0];
  const { csrfToken } = (await signIn.json()) as { csrfToken: string };

  // An API token records when it was last used: used once here, at the suite's fixed time, so that later uses
  // write back the same value and the snapshot holds it.
  for (const token of [editorToken, viewerToken])
    await fetch(`${app.base}/api/admin/stats`, { headers: { authorization: `Bearer ${token}` } });

  const tokens = new SignedTokens({ secret: TEST_SECRETS.APP_SECRET, clock });
  const past = new SignedTokens({ secret: TEST_SECRETS.APP_SECRET, clock: new TestClock(NOW - 8 * 86400_000) });

  return {
    app,
    port,
    adminToken: TEST_SECRETS.ADMIN_TOKEN,
    editorToken,
    viewerToken,
    session: { cookie, csrf: csrfToken },
    origin: app.base,
    subscriberIds: { active, pending },
    activeEmail: 'jane@list.test',
    articleId: article.id,
    campaignId: campaign.id,
    newsletter: newsletter.slug,
    editorId: editor.id,
    token: (purpose, id, slug) => tokens.issue(purpose, id, slug),
    expiredConfirmToken: past.issue('confirm', pending),
    sign: {
      generic: (body) => ({
        'x-webhook-signature': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`,
      }),
      mailgun: (timestamp = Math.floor(NOW / 1000), token = randomBytes(25).toString('hex')) => ({
        timestamp: String(timestamp),
        token,
        signature: createHmac('sha256', MAILGUN_KEY).update(`${timestamp}${token}`).digest('hex'),
      }),
      sendgrid: (body, timestamp = String(Math.floor(NOW / 1000))) => ({
        'x-twilio-email-event-webhook-signature': sign(
          'sha256',
          Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]),
          sendgridKeys.privateKey,
        ).toString('base64'),
        'x-twilio-email-event-webhook-timestamp': timestamp,
      }),
      ses: (message) => {
        const fields =
          message.Type === 'Notification'
            ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
            : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
        const text = fields
          .filter((f) => typeof message[f] === 'string')
          .map((f) => `${f}\n${message[f]}\n`)
          .join('');
        const signature = sign('sha256', Buffer.from(text), sesKeys.privateKey).toString('base64');
        return { ...message, SignatureVersion: '2', Signature: signature, SigningCertURL: SES_CERT_URL };
      },
    },
    postmarkAuth: `Basic ${Buffer.from(`${POSTMARK.user}:${POSTMARK.password}`).toString('base64')}`,
  };
}
