import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/**
 * The arguments node gets from one of package.json's `exec node …` scripts (`start`, `worker`, …), so the bench
 * starts the service exactly as `npm start` or `npm run worker` does, its node flags included, without npm in
 * between (npm's own start-up would count against the service).
 */
export function npmScriptNodeArgs(name: string): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = (pkg.scripts[name] ?? '').trim().split(/\s+/);
  if (words[0] === 'exec') words.shift();
  if (words[0] !== 'node') throw new Error(`package.json script "${name}" is not "exec node …": ${pkg.scripts[name]}`);
  return words.slice(1);
}
