// `npm run build`: compiles src/ and workers/ to JavaScript under dist/ (tsconfig.build.json), then copies beside
// the compiled modules the files the service reads at run time: the pages' CSS and scripts under src/http, the
// console's under src/http/console, and the MJML templates (one level above src/, so dist/templates). Every path the
// code computes from __dirname then resolves the same way from src/ (under tsx) and from dist/ (under node), so the
// code needs no "am I compiled?" branch. dist/ is emptied first: a module deleted from src/ must not live on there.
//
//   node scripts/build.cjs [OUT]   OUT (default dist) is where the build goes; the compiled-build test builds into a
//                                  temporary folder so it never empties a dist/ someone is running from.
const { execFileSync } = require('node:child_process');
const { cpSync, existsSync, readdirSync, rmSync, statSync } = require('node:fs');
const { isAbsolute, join, relative, resolve } = require('node:path');

const root = join(__dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));

/** Every file under `dir` that tsc does not handle (anything but TypeScript), copied to the same path under OUT. */
function copyNonTs(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyNonTs(path);
    else if (!name.endsWith('.ts')) cpSync(path, join(out, relative(root, path)));
  }
}

function refuse(why) {
  process.stderr.write(`refusing to build into ${out}: ${why}\n`);
  process.exit(2);
}

// OUT is deleted before the build, so it must be a folder this script made: never the project or a folder holding
// it, and, when it exists, empty or an earlier build (it has src/main.js).
const up = relative(out, root);
if (!up.startsWith('..') && !isAbsolute(up)) refuse('it holds the project');
if (existsSync(out) && readdirSync(out).length && !existsSync(join(out, 'src', 'main.js')))
  refuse('it is neither empty nor an earlier build');

const tsc = require.resolve('typescript/bin/tsc');
rmSync(out, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  // tsc has printed the errors.
  process.exit(1);
}
copyNonTs(join(root, 'src'));
copyNonTs(join(root, 'workers'));
cpSync(join(root, 'templates'), join(out, 'templates'), { recursive: true });
