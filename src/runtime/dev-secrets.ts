import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface DevSecrets {
  adminToken: string;
  appSecret: string;
}

/**
 * Development secrets, generated once into `<dataDir>/secrets.json` so links signed yesterday still verify today.
 * Never used in production: the config refuses to start there without real secrets.
 */
export function loadOrCreateDevSecrets(dataDir: string): { secrets: DevSecrets; created: boolean; file: string } {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>;
    if (parsed.adminToken && parsed.appSecret) return { secrets: parsed as DevSecrets, created: false, file };
  }
  mkdirSync(dataDir, { recursive: true });
  const secrets = {
    adminToken: randomBytes(24).toString('base64url'),
    appSecret: randomBytes(32).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  return { secrets, created: true, file };
}
