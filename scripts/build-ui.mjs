// Builds the shipped "Model evaluation" build results tab into ui/dist/ (the only folder the VSIX takes,
// as `ui/` through packagePath): the esbuild IIFE bundle (same settings as the EXTRA_BUNDLES entry in
// build.mjs) and the page. `--check` also type-checks the tab against the DOM types (the root tsconfig
// has no DOM lib, so it does not see ui/).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function buildUi({ check = false } = {}) {
  if (check) {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'ui/tsconfig.json')], { stdio: 'inherit' });
  }
  mkdirSync(path.join(root, 'ui/dist'), { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(root, 'ui/src/results-tab.ts')],
    outfile: path.join(root, 'ui/dist/results-tab.js'),
    bundle: true,
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: root,
    platform: 'browser',
    target: 'es2020',
    format: 'iife',
  });
  copyFileSync(path.join(root, 'ui/results-tab.html'), path.join(root, 'ui/dist/results-tab.html'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildUi({ check: process.argv.includes('--check') }).catch((e) => {
    console.error(e?.message ?? e);
    process.exit(1);
  });
}
