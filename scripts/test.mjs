// `npm test`: check the machine has what the tests need (installing Debian packages when it can,
// otherwise stopping with the exact command), build, then run the whole mocha suite from out/.
// Pass --junit to also write test-results/junit.xml (the extension's own pipeline publishes it).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireSupportedNode } from './node-version.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
requireSupportedNode('npm test');
const args = process.argv.slice(2);

/** Debian packages the suite needs, each with the check that proves it is usable. */
const DEBIAN_REQUIREMENTS = [
  { pkg: 'python3-pandas', why: 'unit tests of the scoring notebook', ok: () => run('/usr/bin/python3', ['-c', 'import pandas']) },
  { pkg: 'chromium', why: 'the build results tab test in headless Chromium', ok: () => existsSync('/usr/bin/chromium') },
];

function run(cmd, argv) {
  return spawnSync(cmd, argv, { stdio: 'ignore' }).status === 0;
}

function ensureDebianPackages() {
  const missing = DEBIAN_REQUIREMENTS.filter((r) => !r.ok());
  if (missing.length === 0) return;
  const pkgs = missing.map((m) => m.pkg);
  const command = `apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    console.error(`npm test needs Debian packages that are not installed:`);
    for (const m of missing) console.error(`  ${m.pkg}: ${m.why}`);
    console.error(`Install them, then run npm test again:\n  sudo sh -c '${command}'`);
    process.exit(1);
  }
  console.log(`npm test: installing ${pkgs.join(', ')} with apt-get`);
  execFileSync('sh', ['-c', command], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const still = missing.filter((r) => !r.ok());
  if (still.length > 0) {
    console.error(`apt-get finished but these are still unusable: ${still.map((m) => m.pkg).join(', ')}`);
    process.exit(1);
  }
}

ensureDebianPackages();
execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });

// Style is part of the test: ESLint (the rings as import rules, functions of at most 80 lines; see
// eslint.config.mjs) and Prettier's check. Either failing stops the run before mocha, with its own report.
for (const [name, bin, argv] of [
  ['ESLint', 'node_modules/eslint/bin/eslint.js', ['.', '--max-warnings', '0']],
  ['Prettier', 'node_modules/prettier/bin/prettier.cjs', ['--check', '--log-level', 'warn', '.']],
]) {
  const t0 = Date.now();
  const check = spawnSync(process.execPath, [path.join(root, bin), ...argv], { stdio: 'inherit', cwd: root });
  if (check.status !== 0) {
    console.error(`npm test: ${name} failed (run \`npm run ${name === 'ESLint' ? 'lint' : 'format:check'}\` to see it again)`);
    process.exit(check.status ?? 1);
  }
  console.log(`npm test: ${name} clean in ${Date.now() - t0} ms`);
}

const mocha = path.join(root, 'node_modules/mocha/bin/mocha.js');
const mochaArgs = ['--timeout', '30000', '--recursive', 'out/test', '--extension', 'test.js'];
if (args.includes('--junit')) {
  mochaArgs.push('--reporter', 'mocha-junit-reporter', '--reporter-options', 'mochaFile=test-results/junit.xml');
}
for (const a of args) if (a !== '--junit') mochaArgs.push(a);
const r = spawnSync(process.execPath, [mocha, ...mochaArgs], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
