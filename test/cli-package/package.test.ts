/**
 * The `mlops-eval` npm package (packages/mlops-eval): `npm pack` gives a tarball with exactly the files a
 * user needs; installed into an empty folder it brings its dependencies (the registry packages its
 * package.json declares) and `npx mlops-eval compare ...` prints the same decision as the CLI in the
 * repository.
 *
 * The install runs `npm ci --offline` with a lockfile pinning each registry package to the version and
 * integrity of the repository's package-lock.json (test/cli-package/lockfile.ts): the packages come from
 * the npm cache that the repository's own `npm ci` filled, so the test needs no network and does not
 * depend on the registry being fast. When the cache lacks a package the test fails and says so (it never
 * skips): run `npm ci` at the root once with the registry reachable.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { main } from '../../src/cli/main';
import { simulateModels } from '../engine/simulate';
import { lockfileForTarball, type Lockfile } from './lockfile';

const ROOT = path.resolve(__dirname, '../../..');
const PACKAGE_DIR = path.join(ROOT, 'packages/mlops-eval');
const rootPkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  workspaces: string[];
};
const pkg = JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  bin: Record<string, string>;
  files: string[];
  engines: Record<string, string>;
  dependencies: Record<string, string>;
};

/** The environment of a child npm: the parent's, without the npm_* settings an outer `npm test` exports. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) || /^npm_config_(cache|userconfig|registry)$/i.test(k)) env[k] = v;
  return { ...env, NO_UPDATE_NOTIFIER: '1', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' };
}

function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync('npm', args, { cwd, env: npmEnv(), encoding: 'utf8', timeout: 180000, shell: process.platform === 'win32' });
  if (r.error) throw r.error;
  return r;
}

function npx(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['--no-install', 'mlops-eval', ...args], {
    cwd,
    env: npmEnv(),
    encoding: 'utf8',
    timeout: 120000,
    shell: process.platform === 'win32',
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const { labels, scores } = simulateModels({ n: 1500, aucs: [0.72, 0.78], rho: 0.6, prevalence: 0.3, seed: 'cli-package' });
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const prod = Float64Array.from(scores[0].map(sig));
const cand = Float64Array.from(scores[1].map(sig));

function csvText(): string {
  const lines = ['id,label,prod,cand'];
  for (let i = 0; i < labels.length; i++) lines.push(`row-${i},${labels[i]},${prod[i]},${cand[i]}`);
  return `${lines.join('\n')}\n`;
}

function parquetBytes(): Uint8Array {
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'label', data: Int32Array.from(labels), type: 'INT32', nullable: false },
        { name: 'prod', data: prod, type: 'DOUBLE', nullable: false },
        { name: 'cand', data: cand, type: 'DOUBLE', nullable: false },
      ],
    }),
  );
}

/** The repository's CLI, run in-process on the same file: what the installed command must print. */
async function expectedStdout(file: string, args: string[]): Promise<string> {
  let out = '';
  const code = await main(['compare', file, ...args], { stdout: (t) => (out += t), stderr: () => undefined, readFile: (p) => readFileSync(p), cpus: 1 });
  assert.equal(code, 0);
  return out;
}

describe('the mlops-eval npm package (packages/mlops-eval)', function () {
  this.timeout(600000);
  let work: string;
  let project: string;
  let packed: { filename: string; integrity: string; files: { path: string }[] };

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'mlops-eval-package-'));
    // `prepack` rebuilds dist/mlops-eval.js from the sources first (packages/mlops-eval/build.mjs).
    const r = npm(['pack', '--json', '--pack-destination', work], PACKAGE_DIR);
    assert.equal(r.status, 0, `npm pack failed:\n${r.stderr}`);
    [packed] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as (typeof packed)[];
    project = path.join(work, 'project');
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('the root declares it as its npm workspace and the package describes itself', () => {
    assert.deepEqual(rootPkg.workspaces, ['packages/mlops-eval']);
    assert.equal(pkg.name, 'mlops-eval');
    // One version for the extension and the CLI: both ship the same engine.
    assert.equal(pkg.version, rootPkg.version);
    assert.equal(pkg.license, 'MIT');
    assert.deepEqual(pkg.bin, { 'mlops-eval': 'bin/mlops-eval.js' });
    assert.deepEqual(pkg.engines, rootPkg.engines);
    assert.ok(!('private' in pkg));
  });

  it('npm pack holds exactly the bin, the bundle, package.json, README and LICENSE', () => {
    assert.equal(packed.filename, `mlops-eval-${rootPkg.version}.tgz`);
    assert.deepEqual(packed.files.map((f) => f.path).sort(), ['LICENSE', 'README.md', 'bin/mlops-eval.js', 'dist/mlops-eval.js', 'package.json']);
    const bundle = readFileSync(path.join(PACKAGE_DIR, 'dist/mlops-eval.js'), 'utf8');
    assert.ok(bundle.startsWith('#!/usr/bin/env node\n'));
  });

  it("the bundle requires exactly the package's dependencies, pinned at the repository's versions, and compiles none in", async () => {
    const { packageBuildOptions } = (await import(path.join(PACKAGE_DIR, 'build.mjs'))) as { packageBuildOptions(): esbuild.BuildOptions };
    const result = await esbuild.build({ ...packageBuildOptions(), write: false });
    const required = new Set<string>();
    const inputs = Object.keys(result.metafile!.inputs);
    for (const input of Object.values(result.metafile!.inputs)) {
      for (const imp of input.imports) {
        if (!imp.external || imp.path.startsWith('node:') || ['worker_threads', 'fs', 'os', 'path'].includes(imp.path)) continue;
        required.add(imp.path.startsWith('@') ? imp.path.split('/').slice(0, 2).join('/') : imp.path.split('/')[0]);
      }
    }
    assert.deepEqual([...required].sort(), Object.keys(pkg.dependencies).sort());
    for (const [name, version] of Object.entries(pkg.dependencies)) assert.equal(version, rootPkg.dependencies[name], name);
    assert.deepEqual(
      inputs.filter((i) => i.includes('node_modules')),
      [],
    );
  });

  it('installs into an empty folder (dependencies from the npm cache, no network) and `npx mlops-eval compare` decides as the repository CLI does', async () => {
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(project);
    copyFileSync(path.join(work, packed.filename), path.join(project, packed.filename));
    const packedPkg = { ...pkg };
    const lock = lockfileForTarball(
      JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile,
      packedPkg,
      packed.filename,
      packed.integrity,
      'try-mlops-eval',
    );
    writeFileSync(
      path.join(project, 'package.json'),
      `${JSON.stringify({ name: 'try-mlops-eval', private: true, dependencies: { 'mlops-eval': `file:${packed.filename}` } }, null, 2)}\n`,
    );
    writeFileSync(path.join(project, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
    const install = npm(['ci', '--offline', '--no-audit', '--no-fund'], project);
    if (install.status !== 0) {
      const uncached = /ENOTCACHED|request to .* failed: cache mode is 'only-if-cached'/.test(install.stderr);
      assert.fail(
        uncached
          ? `npm ci --offline: a package is not in the npm cache. This test installs the tarball's dependencies from the cache that \`npm ci\` at the repository root fills; run \`npm ci\` there once with the registry reachable.\n${install.stderr}`
          : `npm ci --offline failed:\n${install.stderr}`,
      );
    }
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(existsSync(path.join(project, 'node_modules', dep, 'package.json')), `${dep} is installed`);

    assert.deepEqual(npx(['--version'], project), { code: 0, stdout: `mlops-eval ${rootPkg.version}\n`, stderr: '' });
    writeFileSync(path.join(project, 'p.csv'), csvText());
    writeFileSync(path.join(project, 'p.parquet'), parquetBytes());
    const args = ['--baseline', 'prod', '--resamples', '300', '--seed', '11', '--json'];
    for (const file of ['p.csv', 'p.parquet']) {
      const r = npx(['compare', file, ...args], project);
      assert.equal(r.stderr, '', file);
      assert.equal(r.code, 0, file);
      assert.equal(r.stdout, await expectedStdout(path.join(project, file), args), file);
      assert.equal((JSON.parse(r.stdout) as { decision: string }).decision, 'promote');
    }
    const html = npx(
      ['compare', 'p.csv', '--baseline', 'prod', '--resamples', '100', '--html', 'report.html', '--markdown', 'summary.md', '--fail-on-keep'],
      project,
    );
    assert.equal(html.code, 0, html.stderr);
    assert.match(readFileSync(path.join(project, 'report.html'), 'utf8'), /^<!DOCTYPE html>/i);
    assert.match(readFileSync(path.join(project, 'summary.md'), 'utf8'), /\*\*Decision: PROMOTE cand\.\*\*/);
    writeFileSync(path.join(project, 'p.json'), '{"label": [0, 1]}');
    const bad = npx(['compare', 'p.json'], project);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^mlops-eval: the predictions are in a format that cannot be read \(JSON text, extension \.json\)\./);
  });

  it('`npx mlops-eval` in the repository runs the workspace package', () => {
    const r = npx(['--version'], ROOT);
    assert.deepEqual(r, { code: 0, stdout: `mlops-eval ${rootPkg.version}\n`, stderr: '' });
  });
});
