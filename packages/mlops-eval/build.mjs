// Builds dist/mlops-eval.js, the one file of the `mlops-eval` npm package: the CLI of the repository
// (src/cli/mlops-eval.ts) with the engine, the file readers and the report compiled in by esbuild, and every
// npm package left as a `require` of the package's declared `dependencies` (`packages: 'external'`), which
// npm installs from the registry beside it. The extension's task bundles import the same sources directly.
// Run by the repository's build (scripts/build.mjs) and by `prepack`, so `npm pack` never packs a stale file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

/** The esbuild options of the package's bundle (the tests read the same options to check the externals). */
export function packageBuildOptions() {
  return {
    absWorkingDir: repoRoot,
    entryPoints: [path.join(repoRoot, 'src/cli/mlops-eval.ts')],
    outfile: path.join(here, 'dist/mlops-eval.js'),
    bundle: true,
    // Every npm import stays a require(): the package declares them as dependencies (checked by
    // test/cli-package), so users get them from the registry with their own licenses and fixes.
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Readable on purpose: users who open the installed file see the code, not a minified line.
    minify: false,
    legalComments: 'inline',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
    metafile: true,
  };
}

export async function buildPackage() {
  const esbuild = await import('esbuild');
  const result = await esbuild.build(packageBuildOptions());
  return result.metafile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { version } = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
  buildPackage().then(
    () => console.error(`mlops-eval ${version}: dist/mlops-eval.js built`),
    (e) => {
      console.error(e?.message ?? e);
      process.exit(1);
    },
  );
}
