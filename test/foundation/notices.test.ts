import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { REPO_ROOT } from '../helpers/agent';

/* eslint-disable @typescript-eslint/no-require-imports */

interface LicensedPackage {
  name: string;
  version: string;
  license?: string;
  licenseFiles: Array<{ file: string; text: string }>;
  noticeFiles?: Array<{ file: string; text: string }>;
}
interface NoticesModule {
  NOTICES_FILE: string;
  ALLOWED_LICENSES: readonly string[];
  checkLicenses(packages: LicensedPackage[], bundle: string): void;
  writeNotices(metafile: esbuild.Metafile, outfile: string, root: string, allowed?: readonly string[]): LicensedPackage[];
  isAllowedLicense(expression: string): boolean;
  bundledPackages(metafile: esbuild.Metafile, root: string): Array<{ name: string; version: string; dir: string }>;
  readPackageLicense(p: { name: string; version: string; dir: string }): LicensedPackage;
  renderNotices(bundle: string, packages: LicensedPackage[]): string;
}
// The build scripts are ES modules; Node >= 20.19 (the project's engines) loads them with require().
const notices = require(path.join(REPO_ROOT, 'scripts', 'notices.mjs')) as NoticesModule;
const build = require(path.join(REPO_ROOT, 'scripts', 'build.mjs')) as { bundleBuilds(): Array<esbuild.BuildOptions & { outfile: string }> };

const EVALUATE = 'tasks/DatabricksEvaluatePromoteV1/index.js';
const DEPLOY = 'tasks/DatabricksReposDeployV1/index.js';
const TAB = 'ui/dist/results-tab.js';
const CLI = 'dist/cli/mlops-eval.js';

/**
 * name@version of every npm package esbuild reports in a bundle, derived here independently of
 * scripts/notices.mjs: the package folder is the path up to the last node_modules/<name> (or <@scope/name>)
 * of each input that put bytes into the output.
 */
function packagesEsbuildReports(metafile: esbuild.Metafile): string[] {
  const found = new Set<string>();
  for (const out of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (!m || bytesInOutput === 0) continue;
      const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, m[1], 'package.json'), 'utf8'));
      found.add(`${pkg.name}@${pkg.version}`);
    }
  }
  return [...found].sort();
}

/** The "Packages (N):" list of a notices file as "name version (license)" lines, after checking N. */
function listed(text: string): string[] {
  const m = /^Packages \((\d+)\):\n((?: {2}.+\n)*)/m.exec(text);
  assert.ok(m, 'no package list in the notices file');
  const lines = m[2]
    .trimEnd()
    .split('\n')
    .map((l) => l.trim());
  assert.equal(lines.length, Number(m[1]));
  return lines;
}

/** The section of one package (from its "name version" line to the next package's rule). */
function section(text: string, nameVersion: string): string {
  const parts = text.split(`\n${'='.repeat(80)}\n`).filter((s) => s.startsWith(`${nameVersion}\n`));
  assert.equal(parts.length, 1, `${nameVersion} has ${parts.length} sections`);
  return parts[0];
}

const noticesOf = (bundle: string) => readFileSync(path.join(REPO_ROOT, path.dirname(bundle), notices.NOTICES_FILE), 'utf8');
const nodeModulesText = (p: string) =>
  readFileSync(path.join(REPO_ROOT, 'node_modules', p), 'utf8')
    .replace(/\r\n?/g, '\n')
    .replace(/\s+$/, '');

describe('foundation: third-party notices beside each bundle', function () {
  this.timeout(120_000);
  const metafiles = new Map<string, esbuild.Metafile>();

  before(async () => {
    const r = spawnSync(process.execPath, ['scripts/build.mjs', '--bundles-only'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
    // The same esbuild options as the build, not written: what esbuild reports each bundle contains.
    for (const options of build.bundleBuilds()) {
      const bundle = path.relative(REPO_ROOT, options.outfile).split(path.sep).join('/');
      const result = await esbuild.build({ ...options, write: false, metafile: true, logLevel: 'silent' });
      metafiles.set(bundle, result.metafile);
    }
    assert.deepEqual([...metafiles.keys()].filter((b) => [EVALUATE, DEPLOY, TAB, CLI].includes(b)).sort(), [CLI, EVALUATE, DEPLOY, TAB].sort());
  });

  it('every bundle has THIRD-PARTY-NOTICES.txt listing exactly the packages esbuild reports in it, sorted', () => {
    for (const [bundle, metafile] of metafiles) {
      const names = listed(noticesOf(bundle)).map((l) => l.replace(/^(\S+) (\S+) \(.*\)$/, '$1@$2'));
      assert.deepEqual(names, packagesEsbuildReports(metafile), bundle);
      const sorted = [...names].sort((a, b) => {
        const [an, av] = [a.slice(0, a.lastIndexOf('@')), a.slice(a.lastIndexOf('@') + 1)];
        const [bn, bv] = [b.slice(0, b.lastIndexOf('@')), b.slice(b.lastIndexOf('@') + 1)];
        return an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0;
      });
      assert.deepEqual(names, sorted, `${bundle}: not sorted by name then version`);
    }
  });

  it('the Evaluate & Promote notices list apache-arrow, echarts (with its NOTICE), zrender, axios and seedrandom with their licenses', () => {
    const text = noticesOf(EVALUATE);
    assert.ok(text.startsWith(`Third-party software notices for ${EVALUATE}\n`));
    const lines = listed(text);
    for (const l of [
      'apache-arrow 21.2.0 (Apache-2.0)',
      'echarts 6.1.0 (Apache-2.0)',
      'zrender 6.1.0 (BSD-3-Clause)',
      'axios 1.21.1 (MIT)',
      'seedrandom 3.0.5 (MIT)',
    ]) {
      assert.ok(lines.includes(l), `${l} is not listed: ${lines.join(', ')}`);
    }
    // echarts' nested tslib is its own package (0BSD) beside the top-level one.
    assert.ok(lines.includes('tslib 2.3.0 (0BSD)'), lines.join(', '));

    const echarts = section(text, 'echarts 6.1.0');
    assert.ok(echarts.startsWith('echarts 6.1.0\nLicense: Apache-2.0\n'));
    assert.ok(echarts.includes(`NOTICE:\n\nApache ECharts\nCopyright 2017-2026 The Apache Software Foundation\n`), echarts.slice(-600));
    assert.ok(echarts.includes(`NOTICE:\n\n${nodeModulesText('echarts/NOTICE')}`));
    assert.ok(echarts.includes(`LICENSE:\n\n${nodeModulesText('echarts/LICENSE')}`));
    // The d3 license its LICENSE points to (licenses/LICENSE-d3) travels with it.
    assert.ok(echarts.includes(`licenses/LICENSE-d3:\n\n${nodeModulesText('echarts/licenses/LICENSE-d3')}`));

    const arrow = section(text, 'apache-arrow 21.2.0');
    assert.ok(arrow.includes(`LICENSE.txt:\n\n${nodeModulesText('apache-arrow/LICENSE.txt')}`));
    assert.ok(arrow.includes(`NOTICE.txt:\n\n${nodeModulesText('apache-arrow/NOTICE.txt')}`));
    assert.ok(section(text, 'zrender 6.1.0').includes(`LICENSE:\n\n${nodeModulesText('zrender/LICENSE')}`));
    assert.ok(section(text, 'axios 1.21.1').includes(`LICENSE:\n\n${nodeModulesText('axios/LICENSE')}`));
    // seedrandom ships no license file: the notice says so and carries its package.json license.
    assert.equal(
      section(text, 'seedrandom 3.0.5'),
      'seedrandom 3.0.5\nLicense: MIT\nNo license file was shipped by the package; its package.json states the license "MIT".\n',
    );
  });

  it('the Deploy notices list neither echarts nor apache-arrow; the tab lists echarts but not axios; the CLI lists apache-arrow but not axios', () => {
    const names = (bundle: string) => listed(noticesOf(bundle)).map((l) => l.split(' ')[0]);
    const deploy = names(DEPLOY);
    assert.ok(deploy.includes('axios') && deploy.includes('azure-pipelines-task-lib'), deploy.join(', '));
    assert.ok(!deploy.includes('echarts') && !deploy.includes('apache-arrow') && !deploy.includes('zrender'), deploy.join(', '));
    const tab = names(TAB);
    assert.ok(tab.includes('echarts') && tab.includes('zrender'), tab.join(', '));
    assert.ok(!tab.includes('axios') && !tab.includes('azure-pipelines-task-lib'), tab.join(', '));
    const cli = names(CLI);
    assert.ok(cli.includes('apache-arrow') && cli.includes('seedrandom'), cli.join(', '));
    assert.ok(!cli.includes('axios'), cli.join(', '));
  });

  it('is deterministic: the notices rendered again in this process from a fresh metafile are the same bytes as the build wrote', () => {
    for (const [bundle, metafile] of metafiles) {
      const again = notices.renderNotices(bundle, notices.bundledPackages(metafile, REPO_ROOT).map(notices.readPackageLicense));
      assert.equal(again, noticesOf(bundle), bundle);
    }
  });

  describe('checkLicenses(packages, bundle): the check that fails the build', () => {
    const mit = { name: 'ok-pkg', version: '1.0.0', license: 'MIT', licenseFiles: [{ file: 'LICENSE', text: 'MIT License' }] };

    it('accepts packages on the allow-list, and one that ships no license file but states an allowed license', () => {
      assert.doesNotThrow(() => notices.checkLicenses([mit, { name: 'bare', version: '2.0.0', license: 'ISC', licenseFiles: [] }], 'x.js'));
      assert.deepEqual([...notices.ALLOWED_LICENSES], ['0BSD', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', 'ISC', 'MIT']);
    });

    it('throws one error naming every disallowed or unlicensed package, the bundle and the allow-list', () => {
      const packages = [
        mit,
        { name: 'copyleft', version: '3.1.4', license: 'GPL-3.0-only', licenseFiles: [{ file: 'COPYING', text: 'GNU GPL' }] },
        { name: 'mystery', version: '0.0.1', licenseFiles: [] },
        { name: 'file-only', version: '1.2.3', licenseFiles: [{ file: 'LICENSE.md', text: 'Some terms' }] },
      ];
      assert.throws(
        () => notices.checkLicenses(packages, 'tasks/EvilV1/index.js'),
        (e: Error) => {
          assert.equal(
            e.message,
            'third-party license check failed for tasks/EvilV1/index.js:\n' +
              '  - copyleft@3.1.4 is licensed "GPL-3.0-only", which is not in the allow-list (0BSD, Apache-2.0, BSD-2-Clause, BSD-3-Clause, ISC, MIT)\n' +
              '  - mystery@0.0.1 has neither a "license" field in its package.json nor a LICENSE/LICENCE/COPYING file\n' +
              '  - file-only@1.2.3 has no "license" field in its package.json, so its license cannot be checked against the allow-list (its LICENSE.md must be reviewed)\n' +
              'Replace the package, or review its license and add it to ALLOWED_LICENSES in scripts/notices.mjs with a reason.',
          );
          return true;
        },
      );
    });

    it('writeNotices() runs the check on the real package list: a license off the list throws and removes an earlier notices file', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'notices-'));
      try {
        const outfile = path.join(dir, 'cli.js');
        const stale = path.join(dir, notices.NOTICES_FILE);
        writeFileSync(stale, 'from an earlier build');
        // The CLI bundle holds apache-arrow and flatbuffers (Apache-2.0) and tslib (0BSD) besides MIT seedrandom.
        assert.throws(
          () => notices.writeNotices(metafiles.get(CLI)!, outfile, REPO_ROOT, ['MIT']),
          (e: Error) => {
            assert.match(e.message, /^third-party license check failed for .*cli\.js:\n/);
            assert.match(e.message, /\n {2}- apache-arrow@21\.2\.0 is licensed "Apache-2\.0", which is not in the allow-list \(MIT\)\n/);
            assert.match(e.message, /\n {2}- tslib@2\.\d+\.\d+ is licensed "0BSD"/);
            assert.doesNotMatch(e.message, /seedrandom/);
            return true;
          },
        );
        assert.equal(existsSync(stale), false, 'a stale notices file would be packaged beside the new bundle');
        // With the real allow-list the same call writes the file.
        assert.deepEqual(
          notices.writeNotices(metafiles.get(CLI)!, outfile, REPO_ROOT).map((p) => p.name),
          listed(noticesOf(CLI)).map((l) => l.split(' ')[0]),
        );
        assert.ok(existsSync(stale));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('isAllowedLicense() reads SPDX expressions: OR needs one allowed side, AND needs both; anything else fails closed', () => {
      const cases: Array<[string, boolean]> = [
        ['MIT', true],
        ['(MIT OR GPL-3.0)', true],
        ['GPL-3.0 OR Apache-2.0', true],
        ['MIT AND BSD-3-Clause', true],
        ['MIT AND GPL-3.0', false],
        ['(MIT AND GPL-3.0) OR ISC', true],
        ['GPL-2.0 WITH Classpath-exception-2.0', false],
        ['Apache-2.0+', false],
        ['SEE LICENSE IN LICENSE.md', false],
        ['UNLICENSED', false],
        ['MIT License', false],
        ['(MIT', false],
        ['', false],
      ];
      assert.deepEqual(
        cases.map(([e]) => [e, notices.isAllowedLicense(e)]),
        cases,
      );
    });
  });
});
