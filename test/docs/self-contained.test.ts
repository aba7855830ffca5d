/**
 * The repository stands alone: no comment or document cites a note a maintainer does not have (an earlier
 * team's "reference 8.3" or "reference §x.y") or a path of a development machine. Facts the code relies on
 * live in docs/ with their public sources, and comments cite those (`docs/databricks-api-notes.md §8.3`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FOLDERS = ['src', 'emulator', 'demo', 'docs', 'packages', 'scripts', 'test', 'tasks', 'ui', 'images', 'samples'];
const TOP_FILES = ['README.md'];
const SKIP = new Set(['node_modules', 'dist', 'out']);
const TEXT = /\.(ts|mjs|cjs|js|json|md|py|html|yml|yaml|css)$/;

const FORBIDDEN: Array<[RegExp, string]> = [
  [new RegExp('\\b[Rr]eference (§|\\d+\\.\\d)'), 'a citation of the undistributed reference notes'],
  [new RegExp(['shared', 'reference'].join('/')), 'a path of the undistributed reference notes'],
  [new RegExp(`(^|[\\s'"\`(])/${'work'}/`), 'a path of a development machine'],
];

function textFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) textFiles(p, out);
    // Bundles are generated from the sources checked here.
    else if (TEXT.test(e.name) && !/^tasks\/[^/]+\/index\.js$/.test(path.relative(ROOT, p).split(path.sep).join('/'))) out.push(p);
  }
  return out;
}

export function findUncited(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [re, what] of FORBIDDEN) if (re.test(line)) found.push(`${i + 1}: ${what}: ${line.trim().slice(0, 120)}`);
  });
  return found;
}

describe('docs: the repository is self-contained', () => {
  it('no file cites the undistributed reference notes or a path of a development machine', () => {
    // This file quotes the forbidden forms as examples of what the check catches.
    const self = path.join(ROOT, 'test', 'docs', 'self-contained.test.ts');
    const files = [...FOLDERS.flatMap((f) => textFiles(path.join(ROOT, f))), ...TOP_FILES.map((f) => path.join(ROOT, f))].filter((f) => f !== self);
    assert.ok(files.length > 250, `${files.length} files`);
    const problems = files.flatMap((f) => findUncited(readFileSync(f, 'utf8')).map((p) => `${path.relative(ROOT, f)}:${p}`));
    assert.deepEqual(problems, []);
  });

  it("the check can fail, and lets the repository's own citations and remote paths through", () => {
    assert.equal(findUncited('// (reference 8.3 step 3)').length, 1);
    assert.equal(findUncited(' * base used by the client. Reference §6.').length, 1);
    // Built from parts, so this file holds no such path itself.
    const machinePath = ['', 'work', ['shared', 'reference'].join('/'), 'x.md'].join('/');
    assert.equal(findUncited(`see ${machinePath}`).length, 2);
    assert.deepEqual(findUncited('// (docs/databricks-api-notes.md §8.3); dbfs:/tmp/eval; the reference model; reference/mlflow-protos'), []);
  });
});
