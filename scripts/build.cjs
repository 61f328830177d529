// `npm run build`: compiles src/ and workers/ to JavaScript under dist/ (tsconfig.build.json), then copies beside
// the compiled modules the files the service reads at run time: the pages' CSS and scripts under src/http, the
// console's under src/http/console, and the MJML templates (one level above src/, so dist/templates). Every path the
// code computes from __dirname then resolves the same way from src/ (under tsx) and from dist/ (under node), so the
// code needs no "am I compiled?" branch. dist/ is emptied first: a module deleted from src/ must not live on there.
const { execFileSync } = require('node:child_process');
const { cpSync, readdirSync, rmSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const out = join(root, 'dist');

/** Every file under `dir` that tsc does not handle (anything but TypeScript), copied to the same path under dist/. */
function copyNonTs(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyNonTs(path);
    else if (!name.endsWith('.ts')) cpSync(path, join(out, relative(root, path)));
  }
}

const tsc = require.resolve('typescript/bin/tsc');
rmSync(out, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
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
