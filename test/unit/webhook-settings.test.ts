import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, parseEnv } from '../../src/config';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;

/** The message parseEnv refuses `env` with, or undefined when it takes it. */
function refusal(env: Record<string, string>): string | undefined {
  try {
    parseEnv(env);
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
}

test('SES_TOPIC_ARN takes one or more SNS topic ARNs, comma-separated, and names itself when wrong', () => {
  const arns = 'arn:aws:sns:eu-west-1:123456789012:ses-bounces, arn:aws-cn:sns:cn-north-1:123456789012:ses';
  expect(parseEnv({ SES_TOPIC_ARN: arns }).SES_TOPIC_ARN).toEqual([
    'arn:aws:sns:eu-west-1:123456789012:ses-bounces',
    'arn:aws-cn:sns:cn-north-1:123456789012:ses',
  ]);
  expect(refusal({ SES_TOPIC_ARN: 'ses-bounces' })).toMatch(/SES_TOPIC_ARN.*: must be SNS topic ARNs/);
  expect(parseEnv({ SES_TOPIC_ARN: '' }).SES_TOPIC_ARN).toBeUndefined();
});

test('SENDGRID_WEBHOOK_PUBLIC_KEY takes an EC key as SendGrid shows it (base64 DER) or as PEM, and nothing else', () => {
  const base64 = ec.export({ type: 'spki', format: 'der' }).toString('base64');
  const pem = ec.export({ type: 'spki', format: 'pem' }).toString();
  expect(refusal({ SENDGRID_WEBHOOK_PUBLIC_KEY: base64 })).toBeUndefined();
  expect(refusal({ SENDGRID_WEBHOOK_PUBLIC_KEY: pem })).toBeUndefined();
  const rsaKey = rsa.export({ type: 'spki', format: 'der' }).toString('base64');
  expect(refusal({ SENDGRID_WEBHOOK_PUBLIC_KEY: rsaKey })).toMatch(/SENDGRID_WEBHOOK_PUBLIC_KEY: must be/);
  expect(refusal({ SENDGRID_WEBHOOK_PUBLIC_KEY: 'not a key' })).toMatch(/SENDGRID_WEBHOOK_PUBLIC_KEY: must be/);
});

test('the Postmark credentials come as a pair, and the other secrets have a minimum length', () => {
  expect(refusal({ POSTMARK_WEBHOOK_USER: 'postmark' })).toMatch(/POSTMARK_WEBHOOK_USER and POSTMARK_WEBHOOK_PASSWORD/);
  expect(refusal({ POSTMARK_WEBHOOK_USER: 'post:mark', POSTMARK_WEBHOOK_PASSWORD: 'p'.repeat(20) })).toMatch(
    /POSTMARK_WEBHOOK_USER: must not contain a colon/,
  );
  expect(refusal({ POSTMARK_WEBHOOK_USER: 'postmark', POSTMARK_WEBHOOK_PASSWORD: 'p'.repeat(20) })).toBeUndefined();
  expect(refusal({ WEBHOOK_SECRET: 'short' })).toMatch(/WEBHOOK_SECRET: must be at least 32 characters/);
  expect(refusal({ MAILGUN_WEBHOOK_SIGNING_KEY: 'short' })).toMatch(/MAILGUN_WEBHOOK_SIGNING_KEY: must be at least/);
  expect(parseEnv({}).WEBHOOK_MAX_AGE_SECONDS).toBe(300);
});
