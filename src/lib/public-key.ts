import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * A public key as providers hand them out: PEM (`-----BEGIN PUBLIC KEY-----`), or the base64 of its DER bytes
 * without the armour (SendGrid's settings page shows it that way). Throws when it is neither.
 */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPublicKey(trimmed.replace(/\\n/g, '\n'));
  if (!/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) throw new Error('not PEM and not base64');
  return createPublicKey({ key: Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
}
