/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --only=e2e --cpu-profile=FILE`, or node --cpu-prof): the
 * functions with the most self time, and self time by package, so the next optimisation goes where the CPU goes.
 *
 *   npx tsx bench/profile-summary.ts FILE [top=15]
 */
import { readFileSync } from 'node:fs';
import { table } from './report';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function summarise(profile: Profile, top = 15): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time from sample i-1 to sample i; it is charged to sample i's node, as Chrome DevTools does.
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs]
    .filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)')
    .reduce((a, [, us]) => a + us, 0);
  const busy = total - idle;

  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') continue;
    const where = shortUrl(f.url);
    const key = `${f.functionName || '(anonymous)'}  ${where ? `${where}:${f.lineNumber + 1}` : ''}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + us);
    const p = packageOf(f.url, f.functionName);
    pkg.set(p, (pkg.get(p) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`;
  const rows = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => [k, ms(us), pct(us)]);
  return [
    `profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy ` +
      `(${((busy / total) * 100).toFixed(0)}%); percentages are of busy time`,
    '',
    table([['self time by function', 'self', 'of busy'], ...rows(fn, top)]),
    '',
    table([['self time by package', 'self', 'of busy'], ...rows(pkg, 12)]),
    '',
    'Self time is where V8 was when sampled, after inlining: a large self time in a Node stream function such as',
    "Transform._write is the inlined _transform of the stream subclass (for the SMTP path, Nodemailer's DataStream,",
    'the dot-stuffing loop over every byte of a message). Read the callers in Chrome DevTools to be sure.',
  ].join('\n');
}

function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/work\/main\//, '');
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native/V8 builtins)';
  if (url.startsWith('node:')) return 'node: core';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const own = /\/(src|workers|bench|test)\//.exec(url);
  return own ? `project ${own[1]}/` : url;
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: tsx bench/profile-summary.ts FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top ?? 15)));
}
