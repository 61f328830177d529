#!/usr/bin/env node
// Counts the imports between the project's areas, from dependency-cruiser's JSON on stdin:
//   depcruise src workers --config .dependency-cruiser.cjs --output-type json --no-progress \
//     | node .ci/import-counts.cjs
// (that is `npm run deps:folders`). Each count is the number of (file, imported module) pairs from one area to
// another, type-only imports included; npm packages and Node built-ins are left out.
// Prints the cross-area pairs, largest first, then the imports inside each area. Layering violations do not stop
// it: `npm run lint:layers` is the check, this is the map.
'use strict';

const AREAS = [
  'src/domain',
  'src/store',
  'src/mail',
  'src/queue',
  'src/http',
  'src/cli',
  'src/runtime',
  'src/lib',
  'src/metrics',
  'workers',
  'src/config.ts',
  'src/container.ts',
  'src/main.ts',
];

/** The area of a project path, or undefined for npm packages, built-ins and unresolved imports. */
function areaOf(path) {
  for (const area of AREAS) {
    if (area.endsWith('.ts') ? path === area : path.startsWith(`${area}/`)) return area;
  }
  const m = /^(src\/[^/]+|[^/]+)(\/|$)/.exec(path);
  return m && m[1] !== 'node_modules' ? m[1] : undefined;
}

function main(text) {
  if (!text.trim()) throw new Error('no input: pipe the JSON output of depcruise into this script');
  const result = JSON.parse(text);
  if (!Array.isArray(result.modules)) throw new Error('input is not dependency-cruiser JSON (no "modules" array)');

  const counts = new Map();
  let unresolved = 0;
  for (const mod of result.modules) {
    const from = areaOf(mod.source);
    if (!from || mod.coreModule || mod.source.includes('node_modules/')) continue;
    for (const dep of mod.dependencies) {
      if (dep.couldNotResolve) {
        unresolved += 1;
        continue;
      }
      if (dep.coreModule || dep.resolved.includes('node_modules/')) continue;
      const to = areaOf(dep.resolved);
      if (!to) continue;
      const key = `${from}\t${to}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }

  const rows = [...counts].map(([key, n]) => [...key.split('\t'), n]);
  const order = (a) => (AREAS.includes(a) ? AREAS.indexOf(a) : AREAS.length);
  const byCount = (a, b) => b[2] - a[2] || order(a[0]) - order(b[0]) || order(a[1]) - order(b[1]);
  const cross = rows.filter(([f, t]) => f !== t).sort(byCount);
  const inside = rows.filter(([f, t]) => f === t).sort(byCount);
  const width = Math.max(...rows.map(([f]) => f.length), 4);

  console.log('imports between areas (from -> to: count)');
  for (const [f, t, n] of cross) console.log(`${String(n).padStart(5)}  ${f.padEnd(width)} -> ${t}`);
  const total = cross.reduce((s, [, , n]) => s + n, 0);
  console.log(`${String(total).padStart(5)}  total across areas, in ${cross.length} pairs`);
  console.log('');
  console.log('imports inside an area');
  for (const [f, , n] of inside) console.log(`${String(n).padStart(5)}  ${f}`);
  if (unresolved) console.log(`\n${unresolved} import(s) could not be resolved and are not counted`);
  const violations = result.summary?.violations?.length ?? 0;
  console.log(`\n(${violations} layering rule violation(s): see npm run lint:layers)`);
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  try {
    main(input);
  } catch (err) {
    console.error(`import-counts: ${err.message}`);
    process.exit(1);
  }
});
