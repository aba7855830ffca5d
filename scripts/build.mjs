// Builds everything the tests, the demo and the package need:
//  1. tsc type-checks the whole tree in strict mode and emits CommonJS to out/ (tests run from there), and
//     type-checks the build results tab (ui/) against the DOM types;
//  2. esbuild bundles each task entry (tasks/<Task>/index.ts) into one file beside its task.json, so the
//     folder runs with no node_modules, exactly as the agent runs it;
//  3. esbuild bundles the other entries listed in EXTRA_BUNDLES (CLI, build-results tab);
//  4. beside each bundle, THIRD-PARTY-NOTICES.txt: the license and NOTICE texts of every npm package in it,
//     from esbuild's metafile (scripts/notices.mjs); a package under a license not on the allow-list fails
//     the build;
//  5. the npm package's bundle, packages/mlops-eval/dist/mlops-eval.js (packages/mlops-eval/build.mjs), which
//     `npx mlops-eval` runs in the repository (the workspace links its bin into node_modules/.bin);
//  6. each task bundle's metafile under out/bundle-meta/, for the architecture test.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { writeNotices } from './notices.mjs';
import { buildPackage } from '../packages/mlops-eval/build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--bundles-only');

/** Bundles that are not task entries: [entry, outfile, platform]. */
export const EXTRA_BUNDLES = [
  ['src/cli/mlops-eval.ts', 'dist/cli/mlops-eval.js', 'node'],
  ['ui/src/results-tab.ts', 'ui/dist/results-tab.js', 'browser'],
];

export function taskEntries() {
  const tasksDir = path.join(root, 'tasks');
  return readdirSync(tasksDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(tasksDir, d.name, 'index.ts')))
    .map((d) => ({ name: d.name, entry: path.join(tasksDir, d.name, 'index.ts'), outfile: path.join(tasksDir, d.name, 'index.js') }));
}

function tsc(project) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', project], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tsc -p ${path.relative(root, project) || '.'} failed`))));
  });
}

/**
 * The esbuild options of every bundle (tasks, then EXTRA_BUNDLES), absolute paths, with a metafile: the
 * notices are derived from it, and the tests derive the expected package lists from the same options.
 */
export function bundleBuilds() {
  const common = { bundle: true, minify: true, legalComments: 'none', logLevel: 'warning', absWorkingDir: root, loader: { '.py': 'text' }, metafile: true };
  // charset utf8: Node reads every source file as UTF-8, so non-ASCII text (above all the translated messages of
  // azure-pipelines-task-lib's lib-resource.js) is written as itself rather than as \uXXXX escapes: the same strings,
  // each task bundle 17 kB smaller (test/foundation/bundle-budget.json). Task bundles only: the browser bundle stays
  // ASCII so it does not depend on how its page is decoded.
  const builds = taskEntries().map((t) => ({
    ...common,
    entryPoints: [t.entry],
    outfile: t.outfile,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    charset: 'utf8',
    // A package's ES module build where it has one (package.json "module"; "exports" still wins): esbuild can
    // drop what is unused from it, not from the CommonJS build (flatbuffers, under apache-arrow: 4 kB less).
    mainFields: ['module', 'main'],
  }));
  for (const [entry, outfile, platform] of EXTRA_BUNDLES) {
    builds.push({
      ...common,
      entryPoints: [path.join(root, entry)],
      outfile: path.join(root, outfile),
      platform,
      target: platform === 'node' ? 'node20' : 'es2020',
      format: platform === 'node' ? 'cjs' : 'iife',
    });
  }
  return builds;
}

/** Where the esbuild metafile of a bundle is written (out/bundle-meta/<outfile with / as __>.json); the bundle itself is unchanged. */
export function metafilePath(outfile) {
  return path.join(root, 'out', 'bundle-meta', `${path.relative(root, outfile).split(path.sep).join('__')}.json`);
}

/** The architecture test (test/architecture/rings.test.ts) reads it: no emulator, demo or test input may be in a bundle. */
function writeMetafile(metafile, outfile) {
  const file = metafilePath(outfile);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(metafile));
}

async function main() {
  const t0 = Date.now();
  if (!quick) {
    // The task code (Node types) and the build results tab (DOM types) are checked by separate projects,
    // in parallel to keep the build short.
    await Promise.all([tsc(root), tsc(path.join(root, 'ui/tsconfig.json'))]);
  }
  const builds = bundleBuilds();
  await Promise.all([
    ...builds.map(async (options) => {
      const { metafile } = await esbuild.build(options);
      writeMetafile(metafile, options.outfile);
      return writeNotices(metafile, options.outfile, root);
    }),
    buildPackage(),
  ]);
  console.log(`build: ${builds.length} bundle(s) and their third-party notices, and the mlops-eval package, in ${Date.now() - t0} ms`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e?.message ?? e);
    process.exit(1);
  });
}
