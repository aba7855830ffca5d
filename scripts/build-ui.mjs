// Bundles the "Model evaluation" build results tab (ui/src/results-tab.ts -> ui/dist/results-tab.js), with
// the same settings as its EXTRA_BUNDLES entry in build.mjs, so the UI tests can rebuild just the tab.
// The VSIX ships ui/results-tab.html and ui/dist/ only (two `files` entries), never ui/src.
// `--check` also type-checks the tab with the DOM types (the root tsconfig has no DOM lib and no ui/).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function checkUi() {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'ui/tsconfig.json')], { stdio: 'inherit' });
}

export async function buildUi() {
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
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--check')) checkUi();
    await buildUi();
  } catch (e) {
    console.error(e?.message ?? e);
    process.exit(1);
  }
}
