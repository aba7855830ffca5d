/**
 * docs/architecture.md names files, folders and documents a maintainer will open: every relative link must
 * lead to a file (and an anchor to a heading of it), and every backticked repository path must exist, so the
 * page cannot silently go stale when code moves. A `<placeholder>` or `*` segment matches any entry of its
 * folder (at least one must exist). Build outputs, which a fresh checkout lacks, are listed below.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** GitHub's heading anchor, as docs.test.ts computes it (not imported: that would load its suites too). */
function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DOC = 'docs/architecture.md';

/** Top-level entries of the repository a backticked path may start with. */
const TOP = ['src', 'emulator', 'demo', 'packages', 'tasks', 'ui', 'scripts', 'test', 'docs', 'reference', 'bin', 'images', 'samples'];
const TOP_FILES = ['README.md', 'package.json', 'eslint.config.mjs', 'tsconfig.json', 'vss-extension.json', 'azure-pipelines.yml'];
/** Written by a build (scripts/build.mjs, packages/mlops-eval/build.mjs), absent from a fresh checkout. */
const BUILD_OUTPUTS = [
  /^out\//,
  /^dist\/cli\/mlops-eval\.js$/,
  /^ui\/dist\/results-tab\.js$/,
  /^packages\/mlops-eval\/dist\/mlops-eval\.js$/,
  /^tasks\/<Task>\/index\.js$/,
];

/** Whether a path exists, a `<x>` or `*` segment standing for any entry of its folder. */
export function pathExists(root: string, rel: string): boolean {
  const parts = rel.replace(/\/$/, '').split('/');
  const walk = (dir: string, i: number): boolean => {
    if (i === parts.length) return true;
    const seg = parts[i];
    if (!/[<*]/.test(seg)) return existsSync(path.join(dir, seg)) && walk(path.join(dir, seg), i + 1);
    if (!existsSync(dir)) return false;
    const re = new RegExp(`^${seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/<[^>]+>|\*/g, '[^/]+')}$`);
    return readdirSync(dir).some((name) => re.test(name) && walk(path.join(dir, name), i + 1));
  };
  return walk(root, 0);
}

/** The backticked spans of a markdown text that name a repository path. */
export function repoPaths(text: string): string[] {
  const spans = [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]);
  return [...new Set(spans.filter((s) => TOP_FILES.includes(s) || (TOP.includes(s.split('/')[0]) && s.includes('/')) || /^(out|dist)\//.test(s)))];
}

describe('docs: docs/architecture.md names only what exists', () => {
  const text = readFileSync(path.join(ROOT, DOC), 'utf8');

  it('every relative link leads to a file, and every anchor to a heading of it', () => {
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/i.test(l));
    assert.ok(links.length >= 10, `${links.length} links`);
    const missing: string[] = [];
    for (const link of links) {
      const [file, anchor] = link.split('#');
      const target = file ? path.join(path.dirname(path.join(ROOT, DOC)), file) : path.join(ROOT, DOC);
      if (!existsSync(target)) {
        missing.push(`${link}: no file`);
        continue;
      }
      if (anchor) {
        const headings = new Set([...readFileSync(target, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => headingSlug(m[1])));
        if (!headings.has(anchor)) missing.push(`${link}: no heading #${anchor}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('every backticked repository path exists (or is a listed build output)', () => {
    const paths = repoPaths(text);
    assert.ok(paths.length >= 60, `${paths.length} paths`);
    const missing = paths.filter((p) => !BUILD_OUTPUTS.some((re) => re.test(p)) && !pathExists(ROOT, p));
    assert.deepEqual(missing, []);
  });

  it('the check can fail: a missing path and a placeholder with no match are caught; only repository paths are picked', () => {
    assert.equal(pathExists(ROOT, 'src/engine/kernel.ts'), true);
    assert.equal(pathExists(ROOT, 'src/tasks/<task>/main.ts'), true);
    assert.equal(pathExists(ROOT, 'src/engine/no-such-file.ts'), false);
    assert.equal(pathExists(ROOT, 'src/tasks/<task>/no-such-file.ts'), false);
    assert.deepEqual(repoPaths('see `src/a.ts`, `run()`, `README.md`, `notebooks/x.py` and `/api/2.0/repos`'), ['src/a.ts', 'README.md']);
  });
});
