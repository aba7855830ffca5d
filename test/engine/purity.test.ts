/**
 * src/engine is pure: no I/O, no clock, no ambient randomness. This scan is the enforcement (the
 * project has no ESLint): it reads every engine source file and fails on a forbidden import or usage.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ENGINE = path.resolve(__dirname, '../../../src/engine');
/** The only module allowed to start threads (a thin runtime shell around the pure kernel). */
const THREAD_MODULE = 'parallel.ts';
const ALLOWED_PACKAGES = ['seedrandom', 'apache-arrow'];

const FORBIDDEN_USAGES: [RegExp, string][] = [
  [/\bprocess\s*\./, 'process'],
  [/\bprocess\b(?!\w)/, 'process'],
  [/\bDate\s*\.\s*now\b/, 'Date.now'],
  [/\bnew\s+Date\b/, 'new Date'],
  [/\bMath\s*\.\s*random\b/, 'Math.random'],
  [/\bperformance\s*\./, 'performance'],
  [/\brequire\s*\(/, 'require('],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b/, 'timers'],
  [/\bconsole\s*\./, 'console'],
];

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function importsOf(src: string): string[] {
  return [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s*['"]([^'"]+)['"]/g), ...src.matchAll(/import\s*\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
}

describe('src/engine purity', () => {
  const files = readdirSync(ENGINE).filter((f) => f.endsWith('.ts'));

  it('finds the engine sources', () => {
    assert.ok(files.includes('kernel.ts') && files.includes('compare.ts') && files.length >= 10, files.join(', '));
  });

  for (const file of files) {
    it(`${file} imports only engine modules${file === THREAD_MODULE ? ', worker_threads' : ''} and ${ALLOWED_PACKAGES.join(', ')}`, () => {
      const src = readFileSync(path.join(ENGINE, file), 'utf8');
      for (const spec of importsOf(src)) {
        const ok = spec.startsWith('./') || ALLOWED_PACKAGES.includes(spec) || (file === THREAD_MODULE && spec === 'worker_threads');
        assert.ok(ok, `${file} imports '${spec}' (no fs, axios, azure-pipelines-task-lib, process or other I/O in src/engine)`);
      }
    });

    it(`${file} uses no process, clock, Math.random, timers or console`, () => {
      const code = stripComments(readFileSync(path.join(ENGINE, file), 'utf8'));
      for (const [re, what] of FORBIDDEN_USAGES) {
        // The thread module builds the worker's source text, which itself calls require('worker_threads').
        if (file === THREAD_MODULE && what === 'require(') continue;
        const m = re.exec(code);
        assert.equal(m, null, `${file} uses ${what}: '${m ? code.slice(Math.max(0, m.index - 30), m.index + 30) : ''}'`);
      }
    });
  }

  it('the scan catches what it forbids (self-check on a bad sample)', () => {
    const bad = "import { readFileSync } from 'fs';\nconst t = Date.now() + Math.random();\nprocess.exit(1);";
    assert.deepEqual(importsOf(bad), ['fs']);
    const hits = FORBIDDEN_USAGES.filter(([re]) => re.test(stripComments(bad))).map(([, w]) => w);
    assert.ok(hits.includes('Date.now') && hits.includes('Math.random') && hits.includes('process'));
  });
});
