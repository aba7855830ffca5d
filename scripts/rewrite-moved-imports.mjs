// Rewrites relative imports after the workspace emulator and the demo left src/ (issue 18):
//   src/emulator/** -> emulator/**      src/demo/** -> demo/**
//
//   node scripts/rewrite-moved-imports.mjs [--check] [DIR_OR_FILE ...]     (default: src emulator demo test tasks)
//
// Two kinds of stale specifier are fixed, in every .ts file of the given trees:
//  1. an import of the old locations from anywhere (`../../src/emulator`, `../emulator/routes/jobs` from src/...):
//     it resolves into src/emulator or src/demo, so it is pointed at the same module under emulator/ or demo/;
//  2. an import inside a moved file that still counts its `../` from the old place (`../databricks/errors` in
//     emulator/index.ts): it no longer resolves, while the same text resolved from the file's old location
//     does, so it is pointed at that module from the new location.
// A specifier that already resolves to an existing module outside the old locations is left alone, so a
// second run changes nothing (idempotent), and files merged later from other branches can be fixed by
// running it again. --check changes nothing and exits 1 when a file would change.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Old folder -> new folder, relative to the repository root. */
export const MOVES = [
  ['src/emulator', 'emulator'],
  ['src/demo', 'demo'],
];

const EXTENSIONS = ['', '.ts', '.d.ts', '.js', '.json', '/index.ts', '/index.js'];

function resolves(absNoExt) {
  return EXTENSIONS.some((ext) => {
    const p = absNoExt + ext;
    return existsSync(p) && (ext === '' ? statSync(p).isFile() : true);
  });
}

const within = (abs, dir) => abs === dir || abs.startsWith(dir + path.sep);

/** Maps an absolute path under an old folder to the same path under its new folder, else undefined. */
function moved(abs) {
  for (const [from, to] of MOVES) {
    const oldDir = path.join(root, from);
    if (within(abs, oldDir)) return path.join(root, to, path.relative(oldDir, abs));
  }
  return undefined;
}

/** Where a file under a new folder used to live, else undefined. */
function formerLocation(absFile) {
  for (const [from, to] of MOVES) {
    const newDir = path.join(root, to);
    if (within(absFile, newDir)) return path.join(root, from, path.relative(newDir, absFile));
  }
  return undefined;
}

function specifierFrom(fromFile, absTarget) {
  let rel = path.relative(path.dirname(fromFile), absTarget).split(path.sep).join('/');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel;
}

/** The new specifier for `spec` imported by `file`, or undefined when it is fine as it is. */
export function rewriteSpecifier(file, spec) {
  if (!spec.startsWith('.')) return undefined;
  const abs = path.resolve(path.dirname(file), spec);
  const target = moved(abs);
  if (target) return specifierFrom(file, target);
  if (resolves(abs)) return undefined;
  const former = formerLocation(file);
  if (!former) return undefined;
  const oldAbs = path.resolve(path.dirname(former), spec);
  // A sibling inside the moved folder resolves from the new place already; only imports that leave it need fixing.
  const fixed = moved(oldAbs) ?? oldAbs;
  return resolves(fixed) ? specifierFrom(file, fixed) : undefined;
}

// `from '...'`, `import '...'`, `import('...')`, `require('...')`, `jest.mock`-style calls are not used here.
const IMPORT_RE = /(\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(['"])(\.{1,2}\/[^'"]*|\.{1,2})\2/g;

export function rewriteSource(file, text) {
  return text.replace(IMPORT_RE, (whole, lead, quote, spec) => {
    const next = rewriteSpecifier(file, spec);
    return next === undefined ? whole : `${lead}${quote}${next}${quote}`;
  });
}

function* tsFiles(p) {
  if (!existsSync(p)) return;
  if (statSync(p).isFile()) {
    if (p.endsWith('.ts')) yield p;
    return;
  }
  for (const e of readdirSync(p, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'out' || e.name.startsWith('.')) continue;
    yield* tsFiles(path.join(p, e.name));
  }
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const targets = args.filter((a) => a !== '--check');
  const roots = (targets.length ? targets : ['src', 'emulator', 'demo', 'test', 'tasks', 'ui/src']).map((t) => path.resolve(root, t));
  const changed = [];
  for (const r of roots) {
    for (const file of tsFiles(r)) {
      const before = readFileSync(file, 'utf8');
      const after = rewriteSource(file, before);
      if (after === before) continue;
      changed.push(path.relative(root, file));
      if (!check) writeFileSync(file, after);
    }
  }
  for (const f of changed) console.log(`${check ? 'would rewrite' : 'rewrote'} ${f}`);
  console.log(`rewrite-moved-imports: ${changed.length} file(s) ${check ? 'to rewrite' : 'rewritten'}`);
  if (check && changed.length > 0) process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
