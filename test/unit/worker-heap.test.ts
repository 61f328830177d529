import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKER_HEAP_FLAG, workerForkFlags } from '../../src/runtime/worker-heap';

const ROOT = join(__dirname, '..', '..');

describe('the delivery workers’ heap limit', () => {
  test('every command that starts a worker process passes it', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    for (const name of ['worker', 'worker:prod'])
      expect(scripts[name]).toMatch(new RegExp(`^exec node ${WORKER_HEAP_FLAG} .* worker$`));
    const compose = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');
    expect(compose).toContain(`command: ['node', '${WORKER_HEAP_FLAG}', 'dist/src/main.js', 'worker']`);
  });

  test('a fork gets it after its parent’s flags', () => {
    expect(workerForkFlags(['--import', 'tsx'])).toEqual(['--import', 'tsx', WORKER_HEAP_FLAG]);
    expect(workerForkFlags([])).toEqual([WORKER_HEAP_FLAG]);
  });

  test('a limit the operator chose stands, on the command line or in NODE_OPTIONS', () => {
    expect(workerForkFlags(['--max-old-space-size=512', '--import', 'tsx'])).toEqual([
      '--max-old-space-size=512',
      '--import',
      'tsx',
    ]);
    expect(workerForkFlags(['--import', 'tsx'], '--enable-source-maps --max-old-space-size=1024')).toEqual([
      '--import',
      'tsx',
    ]);
  });
});
