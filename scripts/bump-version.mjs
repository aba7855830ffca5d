// `npm run bump -- [major|minor|patch]` (default patch): bumps the extension and every task together.
//
// The version rule (README "Versions"): agents cache a task by its version and never fetch the same
// version twice, so every release must carry higher task versions. We keep it mechanical:
//   extension  M.m.p   (vss-extension.json, also package.json / package-lock.json)
//   task       {Major: <the V<n> of its folder>, Minor: m, Patch: p}
// `patch` -> M.m.(p+1); `minor` -> M.(m+1).0; `major` -> (M+1).(m+1).0: the minor never resets, because the
// tasks' Minor.Patch must keep growing even when only the extension's major changes.
//
// Also: `--check` verifies the rule without changing anything; `--check-tag <ref>` also verifies that a
// release tag (v1.2.3 or refs/tags/v1.2.3) names the extension's version; `--root DIR` works on another tree.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const scriptRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VERSION_RE = /^(\d+)\.(\d+)\.(\d+)$/;
const TASK_VERSION_RE = /"version"\s*:\s*\{\s*"Major"\s*:\s*\d+\s*,\s*"Minor"\s*:\s*\d+\s*,\s*"Patch"\s*:\s*\d+\s*\}/;

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
/** The npm workspace of the `mlops-eval` CLI package. */
const CLI_PACKAGE = 'packages/mlops-eval';

function parseVersion(v, where) {
  const m = VERSION_RE.exec(v ?? '');
  if (!m) throw new Error(`${where}: version "${v}" is not major.minor.patch`);
  return m.slice(1).map(Number);
}

export function nextVersion([major, minor, patch], kind) {
  if (kind === 'patch') return [major, minor, patch + 1];
  if (kind === 'minor') return [major, minor + 1, 0];
  if (kind === 'major') return [major + 1, minor + 1, 0];
  throw new Error(`unknown bump "${kind}": use major, minor or patch`);
}

function taskFolders(root, manifest) {
  return manifest.contributions.filter((c) => c.type === 'ms.vss-distributed-task.task').map((c) => c.properties.name);
}

/** The rule's violations, as sentences; empty when the tree follows it. */
export function checkRule(root) {
  const problems = [];
  const manifest = readJson(path.join(root, 'vss-extension.json'));
  const [, minor, patch] = parseVersion(manifest.version, 'vss-extension.json');
  for (const folder of taskFolders(root, manifest)) {
    const task = readJson(path.join(root, folder, 'task.json'));
    const v = task.version ?? {};
    const folderMajor = /V(\d+)$/.exec(folder)?.[1];
    if (folderMajor === undefined) problems.push(`${folder}: the folder name must end in V<major>`);
    else if (v.Major !== Number(folderMajor)) problems.push(`${folder}/task.json: Major is ${v.Major}, the folder says ${folderMajor}`);
    if (v.Minor !== minor || v.Patch !== patch) {
      problems.push(
        `${folder}/task.json: version ${v.Major}.${v.Minor}.${v.Patch} must have Minor.Patch ${minor}.${patch} (extension ${manifest.version}); run npm run bump`,
      );
    }
  }
  const pkgPath = path.join(root, 'package.json');
  if (existsSync(pkgPath)) {
    const pkg = readJson(pkgPath);
    if (pkg.version !== manifest.version) problems.push(`package.json: version ${pkg.version} differs from the extension's ${manifest.version}`);
  }
  // The mlops-eval npm package ships the same engine: it carries the extension's version.
  const cliPkgPath = path.join(root, CLI_PACKAGE, 'package.json');
  if (existsSync(cliPkgPath)) {
    const cliPkg = readJson(cliPkgPath);
    if (cliPkg.version !== manifest.version)
      problems.push(`${CLI_PACKAGE}/package.json: version ${cliPkg.version} differs from the extension's ${manifest.version}`);
  }
  return problems;
}

function replaceOnce(text, re, replacement, file) {
  const matches = text.match(new RegExp(re.source, 'g')) ?? [];
  if (matches.length !== 1) throw new Error(`${file}: expected exactly one version field, found ${matches.length}`);
  return text.replace(re, replacement);
}

export function bump(root, kind) {
  const manifestPath = path.join(root, 'vss-extension.json');
  const manifestText = readFileSync(manifestPath, 'utf8');
  const manifest = JSON.parse(manifestText);
  const before = manifest.version;
  const [major, minor, patch] = nextVersion(parseVersion(before, 'vss-extension.json'), kind);
  const after = `${major}.${minor}.${patch}`;
  const writes = [];

  // Text edits keep each file's own formatting; the result is parsed back and checked below.
  writes.push([manifestPath, replaceOnce(manifestText, /"version"\s*:\s*"[^"]*"/, `"version": "${after}"`, 'vss-extension.json')]);
  for (const folder of taskFolders(root, manifest)) {
    const p = path.join(root, folder, 'task.json');
    const text = readFileSync(p, 'utf8');
    const taskMajor = JSON.parse(text).version.Major;
    const updated = TASK_VERSION_RE.test(text)
      ? replaceOnce(
          text,
          TASK_VERSION_RE,
          `"version": {\n    "Major": ${taskMajor},\n    "Minor": ${minor},\n    "Patch": ${patch}\n  }`,
          `${folder}/task.json`,
        )
      : JSON.stringify({ ...JSON.parse(text), version: { Major: taskMajor, Minor: minor, Patch: patch } }, null, 2) + '\n';
    writes.push([p, updated]);
  }
  const pkgPath = path.join(root, 'package.json');
  if (existsSync(pkgPath)) {
    const pkg = readJson(pkgPath);
    pkg.version = after;
    writes.push([pkgPath, JSON.stringify(pkg, null, 2) + '\n']);
  }
  const cliPkgPath = path.join(root, CLI_PACKAGE, 'package.json');
  if (existsSync(cliPkgPath)) {
    const cliPkg = readJson(cliPkgPath);
    cliPkg.version = after;
    writes.push([cliPkgPath, JSON.stringify(cliPkg, null, 2) + '\n']);
  }
  const lockPath = path.join(root, 'package-lock.json');
  if (existsSync(lockPath)) {
    const lock = readJson(lockPath);
    lock.version = after;
    if (lock.packages?.['']) lock.packages[''].version = after;
    if (lock.packages?.[CLI_PACKAGE]) lock.packages[CLI_PACKAGE].version = after;
    writes.push([lockPath, JSON.stringify(lock, null, 2) + '\n']);
  }
  for (const [, text] of writes) JSON.parse(text); // never write a file that no longer parses
  for (const [p, text] of writes) writeFileSync(p, text);
  const problems = checkRule(root);
  if (problems.length) throw new Error(`after the bump the rule still fails:\n  ${problems.join('\n  ')}`);
  return { before, after, files: writes.map(([p]) => path.relative(root, p)) };
}

function main() {
  const argv = process.argv.slice(2);
  const rootIdx = argv.indexOf('--root');
  const root = rootIdx >= 0 ? path.resolve(argv[rootIdx + 1]) : scriptRoot;
  const tagIdx = argv.indexOf('--check-tag');
  if (argv.includes('--check') || tagIdx >= 0) {
    const problems = checkRule(root);
    if (tagIdx >= 0) {
      const tag = (argv[tagIdx + 1] ?? '').replace(/^refs\/tags\//, '');
      const version = readJson(path.join(root, 'vss-extension.json')).version;
      if (tag !== `v${version}`) problems.push(`tag ${tag || '(none)'} does not match the extension version ${version}: tag v${version}, or bump first`);
    }
    if (problems.length) {
      console.error(`version rule violated:\n  ${problems.join('\n  ')}`);
      process.exit(1);
    }
    console.log('version rule: ok');
    return;
  }
  const positional = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--root');
  const kind = positional[0] ?? 'patch';
  const r = bump(root, kind);
  console.log(`bump ${kind}: ${r.before} -> ${r.after}`);
  for (const f of r.files) console.log(`  ${f}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (e) {
    console.error(`bump: ${e.message}`);
    process.exit(1);
  }
}
