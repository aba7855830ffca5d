// Bundles the "Model evaluation" build results tab (ui/src/results-tab.ts -> ui/dist/results-tab.js), with
// the options of its EXTRA_BUNDLES entry in build.mjs, so the UI tests can rebuild just the tab; like
// build.mjs it writes ui/dist/THIRD-PARTY-NOTICES.txt beside it (scripts/notices.mjs).
// The VSIX ships ui/results-tab.html and ui/dist/ only (two `files` entries), never ui/src.
// `--check` also type-checks the tab with the DOM types (the root tsconfig has no DOM lib and no ui/).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { bundleBuilds } from './build.mjs';
import { writeNotices } from './notices.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function checkUi() {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'ui/tsconfig.json')], { stdio: 'inherit' });
}

/** Bundles the tab with the options build.mjs uses for it, and writes ui/dist/THIRD-PARTY-NOTICES.txt the same way. */
export async function buildUi() {
  const options = bundleBuilds().find((b) => b.outfile === path.join(root, 'ui/dist/results-tab.js'));
  if (!options) throw new Error('build-ui: scripts/build.mjs has no bundle for ui/dist/results-tab.js');
  writeNotices((await esbuild.build(options)).metafile, options.outfile, root);
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
