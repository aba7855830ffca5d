/**
 * The notebook's numpy twin of the keyed Poisson generator (tasks/DatabricksEvaluatePromoteV1/notebooks/
 * spark_compare.py) against the published vectors and the engine's resample sums, run with the system
 * python3 like the notebook tests (test/tasks/evaluate/notebook-python.test.ts). The sums fixture is
 * checked here against the engine first, so a stale fixture fails instead of testing nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { keyedLossSums, keyedSeed64 } from '../../src/engine';

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** Update when tests are added to test/spark/python: a silently skipped test must fail this one. */
const EXPECTED_PYTHON_TESTS = 6;

interface SumsFile {
  seed: string;
  keys: string[];
  labels: number[];
  q: string[][];
  resamples: { b: number; weight: number; positiveWeight: number; losses: string[] }[];
}

function runPython(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', args, { cwd, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('keyed Poisson generator: the notebook twin (numpy)', () => {
  it('the sums fixture is what the engine computes', () => {
    const f = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'engine', 'keyed-poisson-sums.json'), 'utf8')) as SumsFile;
    const keys = Float64Array.from(f.keys, Number);
    const labels = Uint8Array.from(f.labels);
    const q = f.q.map((col) => Float64Array.from(col, Number));
    assert.equal(f.resamples.length, 12);
    for (const r of f.resamples) {
      const got = keyedLossSums(keyedSeed64(f.seed), keys, labels, q, r.b);
      assert.deepEqual({ b: r.b, weight: got.weight, positiveWeight: got.positiveWeight, losses: got.losses.map(String) }, r);
    }
  });

  it(`python3 -m unittest passes all ${EXPECTED_PYTHON_TESTS} twin tests (vectors, seeds, thresholds, resample sums)`, async function () {
    this.timeout(60_000);
    const { code, output } = await runPython(['-m', 'unittest', 'discover', '-s', '.', '-p', 'test_*.py', '-v'], path.join(ROOT, 'test', 'spark', 'python'));
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`\\nRan ${EXPECTED_PYTHON_TESTS} tests in [0-9.]+s\\n`), output);
    assert.match(output, /\nOK\n?$/, output);
  });
});
