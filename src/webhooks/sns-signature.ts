import { verify, X509Certificate } from 'node:crypto';
import { DomainError } from '../domain/errors';
import type { Clock } from '../domain/ports/clock';
import { invalidSignature } from './verification';
import type { HttpGet } from './webhook';

/** The fields of an Amazon SNS HTTP message that its signature covers, and the signature's own. */
export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
  Signature: string;
  SignatureVersion: string;
  SigningCertURL: string;
}

/** Hosts of Amazon SNS: `sns.<region>.amazonaws.com`, and `sns.<region>.amazonaws.com.cn` in the China regions. */
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** True for an https URL on an Amazon SNS host, on the default port, without credentials. */
export function isSnsUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && !url.port && !url.username && !url.password && SNS_HOST.test(url.hostname);
}

/** Where SNS publishes the certificate a message is signed with: a .pem file on an SNS host. */
function isSigningCertUrl(raw: string): boolean {
  if (!isSnsUrl(raw)) return false;
  const url = new URL(raw);
  return url.pathname.endsWith('.pem') && !url.search && !url.hash;
}

/** The signed string: `name\nvalue\n` for each covered field in this order, per message type. */
const SIGNED_FIELDS: Record<SnsMessage['Type'], (keyof SnsMessage)[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

export function stringToSign(m: SnsMessage): string {
  // Subject is signed only when the message has one (a notification published without a subject has none).
  return SIGNED_FIELDS[m.Type]
    .filter((k) => typeof m[k] === 'string')
    .map((k) => `${k}\n${m[k]}\n`)
    .join('');
}

/** Options of `SnsSignatures`. */
export interface SnsSignaturesOptions {
  /** Fetches a signing certificate; only ever called with an https URL on an SNS host. */
  get: HttpGet;
  clock: Clock;
  /** Certificates kept in memory, by URL. Default 20 (SNS signs with one certificate per region at a time). */
  cacheSize?: number;
}

/**
 * Verifies Amazon SNS message signatures as AWS documents them: SignatureVersion 1 (SHA1withRSA) or 2
 * (SHA256withRSA) over the message's fields, with the certificate at SigningCertURL, which is fetched only from an
 * Amazon SNS host over https (TLS to that host vouches for the certificate) and kept by URL, since SNS publishes a
 * new certificate at a new URL.
 *
 * Written on node:crypto rather than a validator package: sns-validator and sns-payload-validator fetch certificates
 * with their own https.get (no timeout, no size bound, nothing a test without the network can stand in for), and
 * sns-validator keeps a process-wide cache and builds UnsubscribeConfirmation's signed string with the wrong fields.
 */
export class SnsSignatures {
  private readonly certs = new Map<string, Promise<X509Certificate>>();

  constructor(private readonly opts: SnsSignaturesOptions) {}

  /** Resolves when `m` is signed by Amazon SNS; throws invalid_signature otherwise. */
  async verify(m: SnsMessage): Promise<void> {
    const algorithm = m.SignatureVersion === '1' ? 'sha1' : m.SignatureVersion === '2' ? 'sha256' : undefined;
    if (!algorithm) throw invalidSignature(`SignatureVersion ${m.SignatureVersion} is not supported (1 or 2).`);
    // Checked before anything is fetched: the message names the URL, so anybody could point it anywhere.
    if (!isSigningCertUrl(m.SigningCertURL))
      throw invalidSignature(
        'SigningCertURL is not a certificate on an Amazon SNS host (https://sns.<region>.amazonaws.com/….pem).',
      );
    const cert = await this.certificate(m.SigningCertURL);
    const now = this.opts.clock.now().getTime();
    // A negated range check, so that a date Date.parse cannot read (NaN) refuses rather than passes.
    if (!(now >= Date.parse(cert.validFrom) && now <= Date.parse(cert.validTo)))
      throw invalidSignature('The SNS signing certificate is not valid at this time.');
    let valid: boolean;
    try {
      valid = verify(
        algorithm,
        Buffer.from(stringToSign(m), 'utf8'),
        cert.publicKey,
        Buffer.from(m.Signature, 'base64'),
      );
    } catch {
      valid = false;
    }
    if (!valid) throw invalidSignature('The message signature does not match the SNS signing certificate.');
  }

  private certificate(url: string): Promise<X509Certificate> {
    const cached = this.certs.get(url);
    if (cached) {
      // Most recently used last, so the oldest is the one dropped when the cache is full.
      this.certs.delete(url);
      this.certs.set(url, cached);
      return cached;
    }
    const fetching = this.fetch(url);
    this.certs.set(url, fetching);
    // A failed fetch is not kept: the next message tries again.
    fetching.catch(() => {
      if (this.certs.get(url) === fetching) this.certs.delete(url);
    });
    if (this.certs.size > (this.opts.cacheSize ?? 20)) this.certs.delete(this.certs.keys().next().value!);
    return fetching;
  }

  private async fetch(url: string): Promise<X509Certificate> {
    let res: { status: number; body: string };
    try {
      res = await this.opts.get(url);
    } catch (err) {
      // The network, not the sender: a 503 makes SNS deliver again later.
      throw new DomainError(
        'transient_failure',
        `The SNS signing certificate could not be fetched: ${(err as Error).message}`,
      );
    }
    if (res.status >= 500)
      throw new DomainError(
        'transient_failure',
        `The SNS signing certificate could not be fetched (HTTP ${res.status}).`,
      );
    // SNS's own host says there is no such certificate: the message was not signed with one of Amazon's.
    if (res.status !== 200) throw invalidSignature(`SigningCertURL answered HTTP ${res.status}.`);
    try {
      return new X509Certificate(res.body);
    } catch {
      throw invalidSignature('SigningCertURL did not serve a certificate.');
    }
  }
}
