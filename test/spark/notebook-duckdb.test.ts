/**
 * The scoring notebook's Spark path end to end, with DuckDB standing in for Spark SQL: the notebook's own
 * steps (evaluate_models.spark_sums: key check, fingerprint, DeLong's three actions with the driver step, the
 * keyed loss sums with redraws, the sums JSON) run in the system python3 and send each statement, rendered in
 * the DuckDB dialect by spark_sql.py, to this test, which runs it on DuckDB and returns the rows. The JSON
 * must equal what the engine computes on the same rows: DeLong's sums (delongSumsOf), the fingerprint, and
 * every resample of the keyed bootstrap, redraws included (runKeyedPoisson's statistics).
 */
import assert from 'node:assert/strict';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  compareModels,
  finishFromSums,
  type CompareOptions,
  type Decision,
  delongCovariance,
  delongDifference,
  delongDifferenceFromSums,
  delongSumsOf,
  fixedPointLosses,
  keyedLossSums,
  keyedResampleIndex,
  keyedSeed64,
  keyedSeed64Decimal,
  meanFromFixedPoint,
  rowLosses,
  runKeyedPoisson,
  sparkSumsOf,
  type DelongSums,
  type Predictions,
} from '../../src/engine';
import { lcg } from '../helpers/lcg';
import { notebookSumsOnDuckDb, useDuckDb } from '../helpers/duckdb';

const VIEW = 'mlops_eval_scores';

interface Rows {
  keys: Float64Array;
  labels: Uint8Array;
  scores: Float64Array[];
}

let db: DuckDBConnection;

function makeRows(n: number, models: number, seed: number, opts: { positives?: number; roundTo?: number } = {}): Rows {
  const rnd = lcg(seed);
  const labels = Uint8Array.from({ length: n }, (_, i) => (opts.positives !== undefined ? (i < opts.positives ? 1 : 0) : rnd() < 0.3 ? 1 : 0));
  const scores = Array.from({ length: models }, (_, m) =>
    Float64Array.from(labels, (y) => {
      const p = Math.min(0.999, Math.max(0.001, 0.5 * rnd() + (0.2 + 0.05 * m) * y));
      return opts.roundTo ? Math.round(p * opts.roundTo) / opts.roundTo : p;
    }),
  );
  const keys = Float64Array.from({ length: n }, (_, i) => (2654435761 * i + 977) % 2 ** 40);
  return { keys, labels, scores };
}

async function load(d: Rows): Promise<void> {
  await db.run(`CREATE OR REPLACE TABLE ${VIEW} (k BIGINT, y INTEGER, ${d.scores.map((_, m) => `s${m} DOUBLE`).join(', ')})`);
  const app = await db.createAppender(VIEW);
  for (let i = 0; i < d.keys.length; i++) {
    app.appendBigInt(BigInt(d.keys[i]));
    app.appendInteger(d.labels[i]);
    for (const s of d.scores) app.appendDouble(s[i]);
    app.endRow();
  }
  app.closeSync();
}

const notebookSums = (params: Record<string, unknown>, rows: number): ReturnType<typeof notebookSumsOnDuckDb> => notebookSumsOnDuckDb(db, params, rows);

function params(models: number, comparison: Record<string, unknown>): Record<string, unknown> {
  return {
    models: Array.from({ length: models }, (_, m) => ({ key: `model_${m}`, uri: `runs:/r${m}/model` })),
    label_column: 'label',
    row_key_column: 'rid',
    comparison,
  };
}

function fingerprintOf(d: Rows): Record<string, unknown> {
  let keySum = 0n;
  let positiveKeySum = 0n;
  let positives = 0;
  d.labels.forEach((y, i) => {
    keySum += BigInt(d.keys[i]);
    if (y === 1) {
      positives++;
      positiveKeySum += BigInt(d.keys[i]);
    }
  });
  const scoreSums = d.scores.map((s) => s.reduce((acc, x) => acc + BigInt(Math.floor(x * 2 ** 40)), 0n).toString());
  return { rows: String(d.keys.length), positives: String(positives), keySum: keySum.toString(), positiveKeySum: positiveKeySum.toString(), scoreSums };
}

const asText = (s: DelongSums): unknown => JSON.parse(JSON.stringify(s, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));

describe("the notebook's Spark path on DuckDB: its sums JSON equals the engine's", function () {
  this.timeout(180_000);

  useDuckDb((c) => (db = c));

  it('DeLong: 3,000 rows × 3 models with ties; the sums are delongSumsOf and finish to the local test', async () => {
    const d = makeRows(3000, 3, 11, { roundTo: 50 });
    await load(d);
    const { result, error, statements } = await notebookSums(
      params(3, { metric: 'roc_auc', method: 'delong', seed: '1', resamples: 200, unsupported: null }),
      3000,
    );
    assert.equal(error, undefined);
    assert.equal(statements.length, 5);
    const r = result!;
    assert.deepEqual(
      [r.format, r.generator, r.lossScaleBits, r.rows, r.models, r.bootstrap],
      ['mlopspipelines.spark-sums/v1', 1, 40, '3000', ['model_0', 'model_1', 'model_2'], null],
    );
    assert.deepEqual(r.fingerprint, fingerprintOf(d));
    assert.equal(r.positives, (r.fingerprint as { positives: string }).positives);
    assert.deepEqual(r.delong, asText(delongSumsOf(d.labels, d.scores)));
    assert.deepEqual(delongDifferenceFromSums(r.delong as DelongSums, 2, 0), delongDifference(delongCovariance(d.labels, d.scores), 2, 0));
  });

  it('keyed bootstrap (Brier), 9 rows with 2 positives so that many resamples miss a class: every draw and redraw is the engine’s, and the first draw with both classes gives runKeyedPoisson’s statistic', async () => {
    const d = makeRows(9, 2, 5, { positives: 2 });
    await load(d);
    const B = 40;
    const seed = 'nb-e2e';
    const { result, error } = await notebookSums(params(2, { metric: 'brier', method: 'bootstrap', seed, resamples: B, unsupported: null }), 9);
    assert.equal(error, undefined);
    const boot = result!.bootstrap as {
      metric: string;
      seed: string;
      seed64: string;
      resamples: number;
      full: { weight: string; positiveWeight: string; losses: string[] };
      draws: { b: number; weight: string; positiveWeight: string; losses: string[] }[];
    };
    assert.equal(result!.delong, null);
    assert.deepEqual([boot.metric, boot.seed, boot.seed64, boot.resamples], ['brier', seed, keyedSeed64Decimal(seed), B]);
    const q = d.scores.map((s) => fixedPointLosses(rowLosses('brier', d.labels, s)));
    assert.deepEqual(boot.full, { weight: '9', positiveWeight: '2', losses: q.map((col) => col.reduce((a, x) => a + BigInt(x), 0n).toString()) });
    // The engine's draws in the notebook's order: 0 .. B−1, then each round of redraws.
    const s64 = keyedSeed64(seed);
    const draw = (b: number): { b: number; weight: string; positiveWeight: string; losses: string[] } => {
      const r = keyedLossSums(s64, d.keys, d.labels, q, b);
      return { b, weight: String(r.weight), positiveWeight: String(r.positiveWeight), losses: r.losses.map(String) };
    };
    const both = (x: { weight: string; positiveWeight: string }): boolean => Number(x.positiveWeight) > 0 && Number(x.positiveWeight) < Number(x.weight);
    const want = Array.from({ length: B }, (_, b) => draw(b));
    let missing = want.filter((x) => !both(x)).map((x) => x.b);
    assert.ok(missing.length >= 5, `${missing.length} resamples need a redraw`);
    for (let a = 1; missing.length > 0; a++) {
      const round = missing.map((b) => draw(keyedResampleIndex(b, a)));
      want.push(...round);
      missing = round.filter((x) => !both(x)).map((x) => x.b - keyedResampleIndex(0, a));
    }
    assert.deepEqual(boot.draws, want);
    // For each b the first attempt with both classes: the local keyed bootstrap's statistic, bit for bit.
    const preds: Predictions = {
      n: 9,
      labels: d.labels,
      columns: d.scores.map((s, m) => ({ name: `model_${m}`, scores: s })),
      rowKey: { name: 'rid', values: d.keys },
    };
    const local = runKeyedPoisson(preds, ['model_0', 'model_1'], 'brier', seed, B);
    for (let b = 0; b < B; b++) {
      const chosen = boot.draws.find((x) => x.b % 2 ** 20 === b && both(x))!;
      for (let m = 0; m < 2; m++)
        assert.equal(meanFromFixedPoint(BigInt(chosen.losses[m]), Number(chosen.weight)), local.run.stats[m * B + b], `b ${b} model ${m}`);
    }
  });

  // The two sides of the contract together: the sums the notebook's own code computes (on DuckDB) are what the
  // task's finisher (src/engine/spark-sums.ts) turns into the decision the agent's path gives on the same rows.
  const asPredictions = (d: Rows): Predictions => ({
    n: d.keys.length,
    labels: d.labels,
    columns: d.scores.map((s, m) => ({ name: `model_${m}`, scores: s })),
    rowKey: { name: 'rid', values: d.keys },
  });
  // sparkSumsOf lists each resample's redraws after it, the notebook each round of redraws after the first B draws.
  const byIndex = (sums: unknown): unknown => {
    const s = JSON.parse(JSON.stringify(sums)) as { bootstrap: { draws: { b: number }[] } };
    s.bootstrap.draws.sort((x, y) => x.b - y.b);
    return s;
  };
  const BASE = { baseline: 'model_0', candidates: ['model_1', 'model_2'], seed: 'e2e', winRate: 0.9, minDelta: 0, confidence: 0.95 };
  const withoutModelIntervals = (x: Decision): unknown => ({ ...x, models: x.models.map(({ ci: _ci, ...rest }) => rest) });

  it("the notebook's DeLong sums, finished by the task's finisher, give the local DeLong decision (model intervals within 1e-12)", async () => {
    const d = makeRows(2000, 3, 23, { roundTo: 200 });
    await load(d);
    const { result, error } = await notebookSums(params(3, { metric: 'roc_auc', method: 'delong', seed: 'e2e', resamples: 200, unsupported: null }), 2000);
    assert.equal(error, undefined);
    const opts: CompareOptions = { ...BASE, metric: 'roc_auc', method: 'delong', resamples: 200 };
    const local = compareModels(asPredictions(d), opts);
    const finished = finishFromSums(result, ['model_0', 'model_1', 'model_2'], opts);
    assert.deepEqual(withoutModelIntervals(finished), withoutModelIntervals(local));
    for (let i = 0; i < local.models.length; i++) {
      const [a, b] = [finished.models[i].ci!, local.models[i].ci!];
      assert.ok(Math.abs(a[0] - b[0]) <= 1e-12 && Math.abs(a[1] - b[1]) <= 1e-12, `${local.models[i].name}: ${a.join()} vs ${b.join()}`);
    }
    assert.equal(local.method, 'delong');
  });

  it("the notebook's keyed log-loss sums, finished by the task's finisher, give the local keyed bootstrap's decision exactly", async () => {
    const d = makeRows(1500, 3, 29);
    await load(d);
    const B = 150;
    const { result, error } = await notebookSums(params(3, { metric: 'log_loss', method: 'bootstrap', seed: 'e2e', resamples: B, unsupported: null }), 1500);
    assert.equal(error, undefined);
    const opts: CompareOptions = { ...BASE, metric: 'log_loss', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: B };
    const local = compareModels(asPredictions(d), opts);
    assert.deepEqual(finishFromSums(result, ['model_0', 'model_1', 'model_2'], opts), local);
    assert.equal(local.resamples, B);
  });

  it("keyed ROC AUC: the notebook's rank sums (cut points, totals, draws, redraws) are sparkSumsOf's, and finish to the local keyed bootstrap's decision exactly", async () => {
    const d = makeRows(1200, 3, 31, { roundTo: 40 });
    await load(d);
    const B = 60;
    const comparison = { metric: 'roc_auc', method: 'bootstrap', seed: 'e2e', resamples: B, unsupported: null };
    const { result, error, statements } = await notebookSums(params(3, comparison), 1200);
    assert.equal(error, undefined);
    // Key check, fingerprint, cut points, the full-data rank sums, then one action for the B draws.
    assert.equal(statements.length, 5);
    const models = ['model_0', 'model_1', 'model_2'];
    assert.deepEqual(byIndex(result), byIndex(sparkSumsOf(asPredictions(d), models, { ...comparison, method: 'bootstrap', metric: 'roc_auc' })));
    const opts: CompareOptions = { ...BASE, metric: 'roc_auc', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: B };
    const local = compareModels(asPredictions(d), opts);
    assert.deepEqual(finishFromSums(result, models, opts), local);
    assert.equal(local.resamples, B);
  });

  it('keyed ROC AUC with one positive in 40 rows: every draw and redraw as sparkSumsOf makes them; the same decision', async () => {
    const d = makeRows(40, 2, 37, { positives: 1 });
    await load(d);
    const B = 30;
    const comparison = { metric: 'roc_auc', method: 'bootstrap', seed: 'one', resamples: B, unsupported: null };
    const { result, error, statements } = await notebookSums(params(2, comparison), 40);
    assert.equal(error, undefined);
    assert.ok(statements.length > 5, `${statements.length} statements: redraw rounds expected`);
    const models = ['model_0', 'model_1'];
    assert.deepEqual(byIndex(result), byIndex(sparkSumsOf(asPredictions(d), models, { ...comparison, method: 'bootstrap', metric: 'roc_auc' })));
    const opts: CompareOptions = {
      ...BASE,
      seed: 'one',
      candidates: ['model_1'],
      metric: 'roc_auc',
      method: 'bootstrap',
      bootstrap: 'keyedPoisson',
      resamples: B,
    };
    const local = compareModels(asPredictions(d), opts);
    assert.ok(local.degenerateResamples >= 5, `${local.degenerateResamples} redraws`);
    assert.deepEqual(finishFromSums(result, models, opts), local);
  });

  it("keyed average precision: the notebook's AP sums (cut points, totals, draws) are sparkSumsOf's, and finish to the local keyed bootstrap's decision exactly", async () => {
    const d = makeRows(1200, 3, 41, { roundTo: 40 });
    await load(d);
    const B = 60;
    const comparison = { metric: 'average_precision', method: 'bootstrap', seed: 'e2e-ap', resamples: B, unsupported: null };
    const { result, error, statements } = await notebookSums(params(3, comparison), 1200);
    assert.equal(error, undefined);
    // Key check, fingerprint, cut points, the full-data AP sums, then one action for the B draws.
    assert.equal(statements.length, 5);
    const models = ['model_0', 'model_1', 'model_2'];
    assert.deepEqual(byIndex(result), byIndex(sparkSumsOf(asPredictions(d), models, { ...comparison, method: 'bootstrap', metric: 'average_precision' })));
    const opts: CompareOptions = { ...BASE, seed: 'e2e-ap', metric: 'average_precision', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: B };
    const local = compareModels(asPredictions(d), opts);
    assert.deepEqual(finishFromSums(result, models, opts), local);
    assert.equal(local.resamples, B);
  });

  it('keyed average precision with one positive in 40 rows: every draw and redraw as sparkSumsOf makes them; the same decision', async () => {
    const d = makeRows(40, 2, 43, { positives: 1 });
    await load(d);
    const B = 30;
    const comparison = { metric: 'average_precision', method: 'bootstrap', seed: 'one-ap', resamples: B, unsupported: null };
    const { result, error, statements } = await notebookSums(params(2, comparison), 40);
    assert.equal(error, undefined);
    assert.ok(statements.length > 5, `${statements.length} statements: redraw rounds expected`);
    const models = ['model_0', 'model_1'];
    assert.deepEqual(byIndex(result), byIndex(sparkSumsOf(asPredictions(d), models, { ...comparison, method: 'bootstrap', metric: 'average_precision' })));
    const opts: CompareOptions = {
      ...BASE,
      seed: 'one-ap',
      candidates: ['model_1'],
      metric: 'average_precision',
      method: 'bootstrap',
      bootstrap: 'keyedPoisson',
      resamples: B,
    };
    const local = compareModels(asPredictions(d), opts);
    assert.ok(local.degenerateResamples >= 5, `${local.degenerateResamples} redraws`);
    assert.deepEqual(finishFromSums(result, models, opts), local);
  });

  it('refuses repeated keys on the key check, as on Spark', async () => {
    const d = makeRows(50, 2, 3);
    d.keys[7] = d.keys[3];
    await load(d);
    const { error, statements } = await notebookSums(params(2, { metric: 'roc_auc', method: 'delong', seed: '1', resamples: 1, unsupported: null }), 50);
    assert.equal(error, "row_key_column 'rid' repeats keys: 49 distinct keys for 50 rows; each row needs a distinct key");
    assert.equal(statements.length, 1);
  });
});
