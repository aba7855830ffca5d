/**
 * `mlops-eval compare --problem regression --bootstrap keyed-poisson --row-key <column>`: the built CLI
 * (dist/cli) on Arrow files with a 64-bit key column; the output is the engine's decision, byte for byte
 * the same for a shuffled file, and RMSE/MAE only.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { compareModels, readAnyPredictions, type RegressionPredictions } from '../../src/engine';
import { parseArgs } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/cli/mlops-eval.js');

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mlops-eval --problem regression --bootstrap keyed-poisson', function () {
  this.timeout(120000);
  let dir: string;
  const n = 1500;
  let s = 99;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const y = Float64Array.from({ length: n }, () => 1000 * rnd());
  const prod = Float64Array.from(y, (v) => v + 40 * (rnd() - 0.5));
  const cand = Float64Array.from(y, (v) => v + 30 * (rnd() - 0.5));
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 2654435761 + 7) % 2 ** 40));
  const write = (name: string, order: number[]): string => {
    const file = path.join(dir, name);
    const table = tableFromArrays({
      label: Float64Array.from(order, (i) => y[i]),
      prod: Float64Array.from(order, (i) => prod[i]),
      cand: Float64Array.from(order, (i) => cand[i]),
      id: BigInt64Array.from(order, (i) => ids[i]),
    });
    writeFileSync(file, tableToIPC(table, 'file'));
    return file;
  };
  const ARGS = [
    '--problem',
    'regression',
    '--baseline',
    'prod',
    '--bootstrap',
    'keyed-poisson',
    '--row-key',
    'id',
    '--resamples',
    '200',
    '--seed',
    's',
    '--json',
  ];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mlops-eval-keyed-reg-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const metric of ['rmse', 'mae'] as const) {
    it(`prints the engine's keyed ${metric} decision, byte-identical for a shuffled file`, () => {
      const order = [...Array(n).keys()];
      const file = write(`in-order-${metric}.arrow`, order);
      const r = run(['compare', file, ...ARGS, '--metric', metric]);
      assert.equal(r.code, 0, r.stderr);
      const { predictions } = readAnyPredictions(new Uint8Array(readFileSync(file)), { problemType: 'regression', rowKeyColumn: 'id' });
      const preds = predictions as RegressionPredictions;
      assert.deepEqual(
        preds.columns.map((c) => c.name),
        ['prod', 'cand'],
      );
      assert.ok(preds.rowKey!.values instanceof BigInt64Array);
      const expected = compareModels(preds, {
        problemType: 'regression',
        baseline: 'prod',
        metric,
        method: 'bootstrap',
        bootstrap: 'keyedPoisson',
        resamples: 200,
        seed: 's',
        winRate: 0.95,
        minDelta: 0,
        confidence: 0.95,
      });
      assert.equal(r.stdout, `${JSON.stringify(expected)}\n`);
      assert.equal(expected.bootstrap, 'keyedPoisson');
      assert.equal(expected.best, 'cand');
      const shuffled = order.map((_, i) => (i * 7919) % n);
      const again = run(['compare', write(`shuffled-${metric}.arrow`, shuffled), ...ARGS, '--metric', metric]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, r.stdout);
    });
  }

  it('refuses r2, mape, multiclass and guardrails with keyed-poisson, exit code 2', () => {
    const file = write('refuse.arrow', [...Array(n).keys()]);
    const bad = (args: string[], re: RegExp): void => {
      const r = run(['compare', file, ...args]);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, re);
    };
    bad([...ARGS, '--metric', 'r2'], /--bootstrap keyed-poisson compares regression models on rmse or mae, not r2/);
    bad([...ARGS, '--metric', 'mape'], /--bootstrap keyed-poisson compares regression models on rmse or mae, not mape/);
    bad(
      [...ARGS, '--guardrail', 'mae:1'],
      /--bootstrap keyed-poisson compares binary classifiers or regression models on one metric for now; leave out --guardrail/,
    );
    assert.throws(
      () => parseArgs(['compare', 'f.arrow', '--problem', 'multiclass', '--bootstrap', 'keyed-poisson', '--row-key', 'id']),
      /compares binary classifiers or regression models on one metric/,
    );
    assert.equal(parseArgs(['compare', 'f.arrow', '--problem', 'regression', '--bootstrap', 'keyed-poisson', '--row-key', 'id']).opts.metric, 'rmse');
  });
});
