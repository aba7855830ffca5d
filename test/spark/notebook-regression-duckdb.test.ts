/**
 * The scoring notebook's Spark path for regression (evaluate_models.regression_spark_sums, reached through
 * spark_sums with problem_type regression) end to end, with DuckDB standing in for Spark SQL, as
 * notebook-duckdb.test.ts does for the binary path: the notebook's own steps (key check, the fingerprint's two
 * actions, the largest losses and the scale rule, the totals, the keyed sums with redraws of all-zero draws) run in
 * the system python3, each statement rendered in the DuckDB dialect by spark_sql.py and answered here. The JSON must
 * equal `sparkRegressionSumsOf` on the same rows, and the finisher must turn it into the local keyed decision.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  compareModels,
  finishRegressionFromSums,
  sparkRegressionSumsOf,
  type AnyMetric,
  type CompareOptions,
  type RegressionPredictions,
} from '../../src/engine';
import { lcg } from '../helpers/lcg';
import { notebookSumsOnDuckDb, useDuckDb } from '../helpers/duckdb';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const VIEW = 'mlops_eval_scores';

let db: DuckDBConnection;

/** n rows, `models` prediction columns keyed model_0.. (the notebook's positional s0..), values of size `scale`. */
function makeRows(n: number, models: number, seed: number, scale = 1): RegressionPredictions {
  const rnd = lcg(seed);
  const target = Float64Array.from({ length: n }, () => (rnd() - 0.3) * 100 * scale);
  return {
    n,
    target,
    columns: Array.from({ length: models }, (_, m) => ({ name: `model_${m}`, scores: Float64Array.from(target, (y) => y + (rnd() - 0.5) * (10 + m) * scale) })),
    rowKey: { name: 'rid', values: Float64Array.from({ length: n }, (_, i) => (2654435761 * i + 977) % 2 ** 40) },
  };
}

async function load(d: RegressionPredictions): Promise<void> {
  await db.run(`CREATE OR REPLACE TABLE ${VIEW} (k BIGINT, y DOUBLE, ${d.columns.map((_, m) => `s${m} DOUBLE`).join(', ')})`);
  const app = await db.createAppender(VIEW);
  const keys = d.rowKey!.values as Float64Array;
  for (let i = 0; i < d.n; i++) {
    app.appendBigInt(BigInt(keys[i]));
    app.appendDouble(d.target[i]);
    for (const c of d.columns) app.appendDouble(c.scores[i]);
    app.endRow();
  }
  app.closeSync();
}

const notebookSums = (params: Record<string, unknown>, rows: number): ReturnType<typeof notebookSumsOnDuckDb> => notebookSumsOnDuckDb(db, params, rows);

function params(models: number, metric: string, resamples: number): Record<string, unknown> {
  return {
    models: Array.from({ length: models }, (_, m) => ({ key: `model_${m}`, uri: `runs:/r${m}/model` })),
    label_column: 'label',
    row_key_column: 'rid',
    problem_type: 'regression',
    comparison: { metric, method: 'bootstrap', seed: 'nb-seed', resamples, unsupported: null },
  };
}

function options(metric: 'rmse' | 'mae', resamples: number): CompareOptions<AnyMetric> {
  return {
    problemType: 'regression',
    metric,
    method: 'bootstrap',
    bootstrap: 'keyedPoisson',
    baseline: 'model_0',
    resamples,
    seed: 'nb-seed',
    winRate: 0.9,
    minDelta: 0,
    confidence: 0.95,
  };
}

describe("the notebook's Spark path for regression on DuckDB: its sums JSON is the engine's", function () {
  this.timeout(120_000);

  useDuckDb((c) => (db = c));

  const cases: [string, RegressionPredictions, 'rmse' | 'mae', number][] = [
    ['1,500 rows × 3 models, RMSE', makeRows(1500, 3, 1), 'rmse', 60],
    ['800 rows × 2 models of size 1e148, RMSE (negative scales)', makeRows(800, 2, 2, 1e148), 'rmse', 40],
    ['3 rows × 2 models, MAE, many all-zero draws redrawn', makeRows(3, 2, 3), 'mae', 200],
  ];
  for (const [what, d, metric, B] of cases) {
    it(`${what}: the JSON equals sparkRegressionSumsOf and finishes to the local keyed decision`, async () => {
      await load(d);
      const keys = d.columns.map((c) => c.name);
      const got = await notebookSums(params(keys.length, metric, B), d.n);
      assert.equal(got.error, undefined);
      // The notebook lists the redraws after the first draws, the engine after each resample: the same draws, by index.
      const byIndex = (s: unknown): unknown => {
        const j = JSON.parse(JSON.stringify(s)) as { bootstrap: { draws: { b: number }[] } };
        j.bootstrap.draws.sort((x, y) => x.b - y.b);
        return j;
      };
      assert.deepEqual(byIndex(got.result), byIndex(sparkRegressionSumsOf(d, keys, { metric, seed: 'nb-seed', resamples: B })));
      const local = compareModels(d, options(metric, B));
      assert.deepEqual(finishRegressionFromSums(got.result, keys, options(metric, B)), local);
      if (d.n === 3) assert.ok(local.degenerateResamples > 0, 'redraws happened');
      // Every statement read the scored view and none sorted all rows into one partition (no global ORDER BY over rows).
      assert.ok(got.statements.every((q) => q.includes(`FROM ${VIEW}`)));
    });
  }

  it('the scorer writes (k, y, s0..) with y a double and the raw predictions, refuses non-finite ones; the refusal names what regression on Spark computes', async () => {
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'tasks', 'DatabricksEvaluatePromoteV1', 'notebooks'))})`,
      'import numpy as np, pandas as pd',
      'import evaluate_models as nb',
      'class Model:',
      '    def __init__(self, f): self.f = f',
      '    def predict(self, x): return self.f(x)',
      "pdf = pd.DataFrame({'rid': [7, 3, 2**40 - 1], 'label': [1.5, -2.0, 1e300], 'x': [1.0, 2.0, 3.0]})",
      "plan = {'problem_type': 'regression', 'label': 'label', 'row_key': 'rid', 'models': [{'key': 'a'}, {'key': 'b'}]}",
      "loaded = {'a': Model(lambda x: x['x'].to_numpy() * 1e150), 'b': Model(lambda x: pd.DataFrame({'p': [0, 1, 2]}))}",
      'out = nb.regression_spark_score_table(pdf, plan, loaded)',
      "res = {'columns': list(out.columns), 'dtypes': [str(t) for t in out.dtypes], 'rows': out.astype(object).values.tolist()}",
      "loaded['b'] = Model(lambda x: np.array([0.0, np.nan, 1.0]))",
      'try:',
      '    nb.regression_spark_score_table(pdf, plan, loaded)',
      'except nb.ScoringError as e:',
      "    res['error'] = str(e)",
      "res['schema'] = nb.spark_schema(2, 'regression')",
      "p = {'comparison': {'unsupported': None, 'method': 'bootstrap', 'metric': 'r2', 'resamples': 10}, 'problem_type': 'regression', 'slice_columns': []}",
      "res['r2'] = nb.spark_refusal(p, 10)",
      "p['comparison']['metric'] = 'mae'",
      "res['mae'] = nb.spark_refusal(p, 10)",
      "p['slice_columns'] = ['region']",
      "res['slices'] = nb.spark_refusal(p, 10)",
      'print(json.dumps(res))',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('/usr/bin/python3', ['-c', script], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
      let text = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(err))));
    });
    assert.deepEqual(JSON.parse(out), {
      columns: ['k', 'y', 's0', 's1'],
      dtypes: ['int64', 'float64', 'float64', 'float64'],
      rows: [
        [7, 1.5, 1e150, 0],
        [3, -2, 2 * 1e150, 1],
        [2 ** 40 - 1, 1e300, 3 * 1e150, 2],
      ],
      error: 'model b produced 1 non-finite predictions (NaN or infinity; first at row 1)',
      schema: '`k` bigint, `y` double, `s0` double, `s1` double',
      r2: 'r2 by bootstrap for regression (it computes rmse or mae by the keyed bootstrap)',
      mae: null,
      slices: 'slices (slice_columns are judged on the agent only)',
    });
  });

  it('refuses an overflowing squared error, a changed row count and repeated keys, before any sum is returned', async () => {
    const d = makeRows(50, 2, 4);
    (d.columns[1].scores as Float64Array)[7] = 1e160;
    await load(d);
    const over = await notebookSums(params(2, 'rmse', 10), d.n);
    assert.match(String(over.error), /the largest rmse loss of model 1 is .*: a squared error or a value overflows a double, so it cannot be compared/);
    const ok = makeRows(50, 2, 4);
    await load(ok);
    const changed = await notebookSums(params(2, 'mae', 10), 49);
    assert.match(String(changed.error), /the evaluation data changed while it was compared: 49 rows were counted and 50 scored/);
    await db.run(`UPDATE ${VIEW} SET k = 5 WHERE k IN (SELECT k FROM ${VIEW} LIMIT 2)`);
    const repeated = await notebookSums(params(2, 'mae', 10), 50);
    assert.match(String(repeated.error), /row_key_column 'rid' repeats keys: 49 distinct keys for 50 rows/);
  });
});
