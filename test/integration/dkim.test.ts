import { generateKeyPairSync } from 'node:crypto';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { seedArticles, seedSubscribers } from '../support/seed';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicKeyB64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

/** DNS as the verifier sees it: only our selector's TXT record exists. */
const resolver = (name: string, type: string) => {
  if (type === 'TXT' && name === 'news2026._domainkey.gazette.test')
    return Promise.resolve([[`v=DKIM1; k=rsa; p=${publicKeyB64}`]]);
  return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
};

let sink: SmtpSink;
let app: TestApp;
beforeAll(async () => {
  sink = await startSmtpSink();
  app = await startTestApp({
    smtpUrl: sink.url,
    env: {
      DKIM_DOMAIN: 'gazette.test',
      DKIM_SELECTOR: 'news2026',
      DKIM_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
  });
});
afterAll(async () => {
  await app.stop();
  await sink.close();
});

test('newsletters are DKIM-signed, verify with the public key, and the signature covers both List-Unsubscribe headers and Feedback-ID', async () => {
  await seedSubscribers(app.container, 3);
  await seedArticles(app.container, 2);
  const campaign = await app.container.campaigns.create({});
  await app.container.campaigns.send(campaign.id);
  await eventually(() => sink.messages.length === 3, 20000, 'three messages');

  for (const msg of sink.messages) {
    const result = await dkimVerify(msg.raw, { resolver });
    expect(result.results).toHaveLength(1);
    const [sig] = result.results;
    expect(sig.status.result).toBe('pass');
    expect(sig.signingDomain).toBe('gazette.test');
    const signed = (sig as unknown as { signingHeaders: { keys: string } }).signingHeaders.keys
      .toLowerCase()
      .split(': ')
      .join(':')
      .split(':');
    expect(signed).toEqual(
      expect.arrayContaining([
        'from',
        'subject',
        'date',
        'list-unsubscribe',
        'list-unsubscribe-post',
        'list-id',
        // Gmail trusts a Feedback-ID only under a signature made after it was added.
        'feedback-id',
      ]),
    );
  }

  // A message altered in transit no longer verifies: the test can fail.
  const tampered = Buffer.from(
    sink.messages[0].raw.toString().replace('List-Unsubscribe=One-Click', 'List-Unsubscribe=Two-Click'),
  );
  const bad = await dkimVerify(tampered, { resolver });
  expect(bad.results[0].status.result).not.toBe('pass');
  const reattributed = Buffer.from(
    sink.messages[0].raw.toString().replace(/^Feedback-ID: campaign-\d+:/m, 'Feedback-ID: campaign-999:'),
  );
  expect(reattributed.equals(sink.messages[0].raw)).toBe(false);
  expect((await dkimVerify(reattributed, { resolver })).results[0].status.result).not.toBe('pass');
});
