// Third-party notices for the bundles we ship (the task bundles, the CLI, the build results tab).
//
// esbuild is run with `legalComments: 'none'`, so no license text survives in a bundle; redistributing the
// npm code it contains in the .vsix requires carrying each package's license text (and, for Apache-2.0, its
// NOTICE). From the esbuild metafile of a bundle we take every input under node_modules/ that put bytes into
// the output (a module tree-shaken to nothing is not shipped), map it to the nearest package.json with a name
// and a version (nested copies such as echarts/node_modules/tslib are their own packages), and write
// THIRD-PARTY-NOTICES.txt beside the bundle: one section per name@version, sorted, with the package's
// LICENSE/LICENCE/COPYING files, the files of a top-level licenses/ folder and its NOTICE files, verbatim.
// No date, no absolute path: rebuilding gives the same bytes.
//
// The build fails (fail closed) when a package's license is not in ALLOWED_LICENSES, when a package has no
// license field (its license file alone cannot be checked against the list), or has neither a field nor a file.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The notices file written beside each bundle. */
export const NOTICES_FILE = 'THIRD-PARTY-NOTICES.txt';

/**
 * SPDX identifiers a bundled package may be under: permissive licenses whose only condition on
 * redistribution in binary form is carrying the copyright notice and license text (plus, for Apache-2.0,
 * the NOTICE file), which THIRD-PARTY-NOTICES.txt does.
 * Present today (all on this list, nothing added beyond the base list): MIT (axios, task-lib, seedrandom and
 * most of axios' dependency tree), ISC (minimatch, semver), Apache-2.0 (apache-arrow, flatbuffers, echarts),
 * BSD-3-Clause (zrender), 0BSD (tslib). A new license must be reviewed before it is added here.
 */
export const ALLOWED_LICENSES = Object.freeze(['0BSD', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', 'ISC', 'MIT']);

const LICENSE_FILE = /^(licen[cs]e|copying)([.\-_].*)?$/i;
const LICENSE_FOLDER = /^licen[cs]es$/i;
const NOTICE_FILE = /^notice([.\-_].*)?$/i;

/**
 * The license of a package.json as one SPDX expression string, or undefined when it states none.
 * `license: {type}` is the old object form; a legacy `licenses: [{type}]` array means "any of these".
 */
export function licenseOf(pkgJson) {
  const l = pkgJson.license;
  if (typeof l === 'string' && l.trim()) return l.trim();
  if (l && typeof l === 'object' && typeof l.type === 'string' && l.type.trim()) return l.type.trim();
  if (Array.isArray(pkgJson.licenses)) {
    const types = pkgJson.licenses.map((x) => (typeof x === 'string' ? x : x?.type)).filter((t) => typeof t === 'string' && t.trim());
    if (types.length === 1) return types[0].trim();
    if (types.length > 1) return `(${types.map((t) => t.trim()).join(' OR ')})`;
  }
  return undefined;
}

/**
 * Whether an SPDX license expression is acceptable: a single identifier on the list, an OR where at least
 * one side is acceptable (we may choose it), an AND where both are. Anything else (WITH exceptions, `+`,
 * `LicenseRef-`, "SEE LICENSE IN", "UNLICENSED", malformed text) is not: fail closed.
 */
export function isAllowedLicense(expression, allowed = ALLOWED_LICENSES) {
  const tokens = String(expression).match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const primary = () => {
    const t = tokens[i++];
    if (t === '(') {
      const v = or();
      if (tokens[i++] !== ')') throw new Error('unbalanced');
      return v;
    }
    if (t === undefined || t === ')' || /^(AND|OR|WITH)$/i.test(t)) throw new Error('malformed');
    if (/^(AND|OR)$/i.test(tokens[i] ?? '') || tokens[i] === ')' || tokens[i] === undefined) return allowed.includes(t);
    throw new Error('unsupported'); // e.g. "GPL-2.0 WITH Classpath-exception-2.0" or "MIT License"
  };
  const and = () => {
    let v = primary();
    while (/^AND$/i.test(tokens[i] ?? '')) {
      i++;
      v = primary() && v;
    }
    return v;
  };
  const or = () => {
    let v = and();
    while (/^OR$/i.test(tokens[i] ?? '')) {
      i++;
      v = and() || v;
    }
    return v;
  };
  try {
    const v = or();
    return i === tokens.length && v;
  } catch {
    return false;
  }
}

/**
 * Throws one Error naming every bundled package that may not be shipped, and why (pure: takes the package
 * list, reads nothing). A package is `{ name, version, license?: string, licenseFiles: {file, text}[] }`.
 */
export function checkLicenses(packages, bundle, allowed = ALLOWED_LICENSES) {
  const problems = [];
  for (const p of packages) {
    const id = `${p.name}@${p.version}`;
    if (!p.license && p.licenseFiles.length === 0) problems.push(`${id} has neither a "license" field in its package.json nor a LICENSE/LICENCE/COPYING file`);
    else if (!p.license)
      problems.push(
        `${id} has no "license" field in its package.json, so its license cannot be checked against the allow-list (its ${p.licenseFiles.map((f) => f.file).join(', ')} must be reviewed)`,
      );
    else if (!isAllowedLicense(p.license, allowed)) problems.push(`${id} is licensed "${p.license}", which is not in the allow-list (${allowed.join(', ')})`);
  }
  if (problems.length) {
    throw new Error(
      `third-party license check failed for ${bundle}:\n${problems.map((m) => `  - ${m}`).join('\n')}\n` +
        'Replace the package, or review its license and add it to ALLOWED_LICENSES in scripts/notices.mjs with a reason.',
    );
  }
}

const byNameThenVersion = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0);

/** The node_modules path of a metafile input (namespace prefix such as `(disabled):` removed), or undefined. */
function nodeModulesFile(input, root) {
  const file = input.replace(/^[a-z()-]+:(?!\/\/)/i, '');
  if (!/(^|\/)node_modules\//.test(file)) return undefined;
  const abs = path.resolve(root, file);
  return existsSync(abs) && statSync(abs).isFile() ? abs : undefined;
}

/** The nearest folder at or above `file`'s folder whose package.json has a name and a version, inside node_modules. */
function packageDirOf(file) {
  for (let dir = path.dirname(file); path.basename(dir) !== 'node_modules' && dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      const j = JSON.parse(readFileSync(pj, 'utf8'));
      if (typeof j.name === 'string' && typeof j.version === 'string') return dir;
    }
  }
  throw new Error(`notices: no package.json with a name and a version above ${file}`);
}

/**
 * The npm packages whose code is in the one output of `metafile`, as `{ name, version, dir }` sorted by
 * name then version, one entry per name@version (the first folder in path order when copies are nested).
 */
export function bundledPackages(metafile, root) {
  const dirs = new Set();
  for (const out of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      if (!bytesInOutput) continue;
      const file = nodeModulesFile(input, root);
      if (file) dirs.add(packageDirOf(file));
    }
  }
  const seen = new Map();
  for (const dir of [...dirs].sort()) {
    const j = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const key = `${j.name}@${j.version}`;
    if (!seen.has(key)) seen.set(key, { name: j.name, version: j.version, dir });
  }
  return [...seen.values()].sort(byNameThenVersion);
}

const readText = (file) => readFileSync(file, 'utf8').replace(/\r\n?/g, '\n').replace(/\s+$/, '');

/** A package's license field and its license and notice texts, read from its folder. */
export function readPackageLicense({ name, version, dir }) {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const licenseFiles = [];
  const noticeFiles = [];
  for (const e of entries) {
    if (e.isFile() && LICENSE_FILE.test(e.name)) licenseFiles.push({ file: e.name, text: readText(path.join(dir, e.name)) });
    else if (e.isFile() && NOTICE_FILE.test(e.name)) noticeFiles.push({ file: e.name, text: readText(path.join(dir, e.name)) });
    else if (e.isDirectory() && LICENSE_FOLDER.test(e.name)) {
      // e.g. echarts/licenses/LICENSE-d3: the license of third-party code embedded in the package, which its
      // LICENSE points to.
      for (const f of readdirSync(path.join(dir, e.name)).sort()) {
        const p = path.join(dir, e.name, f);
        if (statSync(p).isFile()) licenseFiles.push({ file: `${e.name}/${f}`, text: readText(p) });
      }
    }
  }
  return { name, version, license: licenseOf(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))), licenseFiles, noticeFiles };
}

const RULE = '='.repeat(80);
const THIN = '-'.repeat(80);

/** The text of THIRD-PARTY-NOTICES.txt for `bundle` (a path relative to the repository, for the header). */
export function renderNotices(bundle, packages) {
  const lines = [
    `Third-party software notices for ${bundle}`,
    '',
    '',
    'This bundle contains code from the npm packages listed below, each under its own license. This file is',
    'generated by the build (scripts/notices.mjs) from what esbuild reports the bundle contains, and carries',
    "each package's license and NOTICE files as the package ships them.",
    '',
    `Packages (${packages.length}):`,
    ...packages.map((p) => `  ${p.name} ${p.version} (${p.license ?? 'no license field'})`),
  ];
  for (const p of packages) {
    lines.push('', RULE, `${p.name} ${p.version}`, `License: ${p.license ?? 'none stated in package.json'}`);
    if (p.licenseFiles.length === 0) lines.push(`No license file was shipped by the package; its package.json states the license "${p.license}".`);
    for (const f of [...p.licenseFiles, ...p.noticeFiles]) lines.push(THIN, `${f.file}:`, '', f.text);
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes THIRD-PARTY-NOTICES.txt beside `outfile` for the bundle esbuild described in `metafile`, after
 * checking every license. On a failed check it removes a notices file left by an earlier build (so a stale
 * one can never be packaged) and throws.
 * @returns the packages listed
 */
export function writeNotices(metafile, outfile, root, allowed = ALLOWED_LICENSES) {
  const target = path.join(path.dirname(outfile), NOTICES_FILE);
  const bundle = path.relative(root, outfile).split(path.sep).join('/');
  const packages = bundledPackages(metafile, root).map(readPackageLicense);
  try {
    checkLicenses(packages, bundle, allowed);
  } catch (e) {
    rmSync(target, { force: true });
    throw e;
  }
  writeFileSync(target, renderNotices(bundle, packages));
  return packages;
}
