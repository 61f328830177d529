import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');

/**
 * Runs the project's layering check (.dependency-cruiser.cjs, as `npm run lint` does) on a small tree of files
 * written for the test, so each rule is seen to fail on the import it forbids and to pass without it.
 */
function check(files: Record<string, string>): { code: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nl-layers-'));
  try {
    const all = {
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'commonjs', strict: true } }),
      ...files,
    };
    for (const [path, text] of Object.entries(all)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const r = spawnSync(DEPCRUISE, ['src', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--no-progress'], {
      cwd: dir,
      encoding: 'utf8',
    });
    return { code: r.status, output: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const port = { 'src/domain/ports/store.ts': 'export interface Store { get(id: number): Promise<string> }\n' };
const adapter = {
  'src/store/redis-store.ts':
    "import type { Store } from '../domain/ports/store';\n" +
    "export class RedisStore implements Store { async get() { return ''; } }\n",
};

test('a domain that uses its own port passes, and an adapter implementing the port passes', () => {
  const r = check({
    ...port,
    ...adapter,
    'src/domain/use-case.ts':
      "import type { Store } from './ports/store';\nexport const run = (s: Store) => s.get(1);\n",
  });
  expect(r.output).toContain('no dependency violations');
  expect(r.code).toBe(0);
});

test('the domain importing an adapter fails the check, even as a type-only import', () => {
  const r = check({
    ...port,
    ...adapter,
    'src/domain/use-case.ts':
      "import type { RedisStore } from '../store/redis-store';\nexport const run = (s: RedisStore) => s.get();\n",
  });
  expect(r.output).toMatch(/error domain-is-pure: src\/domain\/use-case\.ts → src\/store\/redis-store\.ts/);
  expect(r.code).not.toBe(0);
});

test('an adapter importing another adapter, or HTTP importing a store, fails the check', () => {
  const r = check({
    ...port,
    ...adapter,
    'src/mail/mailer.ts': "import { RedisStore } from '../store/redis-store';\nexport const m = new RedisStore();\n",
    'src/http/routes.ts': "import { RedisStore } from '../store/redis-store';\nexport const s = new RedisStore();\n",
  });
  expect(r.output).toMatch(
    /error adapters-use-only-domain-and-lib: src\/mail\/mailer\.ts → src\/store\/redis-store\.ts/,
  );
  expect(r.output).toMatch(/error http-calls-the-domain: src\/http\/routes\.ts → src\/store\/redis-store\.ts/);
  expect(r.code).not.toBe(0);
});

test('HTTP may name the webhook contract but not a webhook adapter, and an adapter may not reach the store', () => {
  const contract = {
    'src/webhooks/webhook.ts': 'export interface WebhookProvider { read(): Promise<string[]> }\n',
    'src/webhooks/generic.ts':
      "import type { WebhookProvider } from './webhook';\n" +
      'export class Generic implements WebhookProvider { async read() { return []; } }\n',
  };
  const allowed = check({
    ...contract,
    'src/http/webhook-routes.ts':
      "import type { WebhookProvider } from '../webhooks/webhook';\nexport const route = (p: WebhookProvider) => p.read();\n",
  });
  expect(allowed.output).toContain('no dependency violations');
  expect(allowed.code).toBe(0);

  const r = check({
    ...port,
    ...adapter,
    ...contract,
    'src/http/webhook-routes.ts': "import { Generic } from '../webhooks/generic';\nexport const g = new Generic();\n",
    'src/webhooks/mailgun.ts':
      "import { RedisStore } from '../store/redis-store';\nexport const s = new RedisStore();\n",
  });
  expect(r.output).toMatch(/error http-calls-the-domain: src\/http\/webhook-routes\.ts → src\/webhooks\/generic\.ts/);
  expect(r.output).toMatch(
    /error webhooks-verify-and-translate: src\/webhooks\/mailgun\.ts → src\/store\/redis-store\.ts/,
  );
  expect(r.code).not.toBe(0);
});

test('the feedback mailbox is an adapter: it may not reach the store, and only the composition root picks it', () => {
  const r = check({
    ...port,
    ...adapter,
    'src/feedback-mailbox/imap-mailbox.ts':
      "import { RedisStore } from '../store/redis-store';\nexport const s = new RedisStore();\n",
    'src/cli/poll.ts': "import { s } from '../feedback-mailbox/imap-mailbox';\nexport const p = s;\n",
  });
  expect(r.output).toMatch(
    /error adapters-use-only-domain-and-lib: src\/feedback-mailbox\/imap-mailbox\.ts → src\/store\/redis-store\.ts/,
  );
  expect(r.output).toMatch(
    /error only-the-composition-root-wires: src\/cli\/poll\.ts → src\/feedback-mailbox\/imap-mailbox\.ts/,
  );
  expect(r.code).not.toBe(0);
});
