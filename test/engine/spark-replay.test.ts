/**
 * src/engine/spark-replay.ts: the comparison of Spark sums with a file's (`firstSumsDifference`), the shapes a
 * replay accepts (`sumsOfReplayInput`) and the options check (`replayOptionMismatch`). The draws are matched by
 * their generator index: the notebook lists 0 … B−1 before the redraws, `sparkSumsOf` each index's redraws after
 * it, and both must replay as equal (tested on data small enough to need redraws). The keyed ROC AUC sums (rank
 * sums per model) and the regression RMSE/MAE sums (per-model scales and largest losses, a regression fingerprint)
 * are walked the same way, each per-model array named by model.
 */
import assert from 'node:assert/strict';
import {
  compareModels,
  finishFromSums,
  finishRegressionFromSums,
  sparkRegressionSumsOf,
  sparkSumsOf,
  type AnyMetric,
  type CompareOptions,
  type Predictions,
  type RegressionPredictions,
} from '../../src/engine';
import { firstSumsDifference, problemOfSums, replayOptionMismatch, SparkReplayError, sumsOfReplayInput } from '../../src/engine/spark-replay';

/** 14 rows, 2 positives: a keyed Poisson draw often misses both positives, so there are redraws. */
function tiny(): Predictions {
  const labels = Uint8Array.from([0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  const a = Float64Array.from(labels, (y, i) => 0.1 + 0.05 * ((i * 7) % 11) + 0.2 * y);
  const b = Float64Array.from(labels, (y, i) => 0.2 + 0.04 * ((i * 5) % 13) + 0.1 * y);
  return {
    n: labels.length,
    labels,
    columns: [
      { name: 'prod', scores: a },
      { name: 'cand', scores: b },
    ],
    rowKey: { name: 'id', values: Float64Array.from(labels, (_, i) => 1000 + 37 * i) },
  };
}

const MODELS = ['cand', 'prod'];
const OPTS: CompareOptions = {
  metric: 'brier',
  method: 'bootstrap',
  bootstrap: 'keyedPoisson',
  baseline: 'prod',
  candidates: ['cand'],
  seed: 'tiny',
  resamples: 40,
  winRate: 0.9,
  minDelta: 0,
  confidence: 0.95,
};

const json = (x: unknown): any => JSON.parse(JSON.stringify(x));

describe('spark-replay: Spark sums against a file', () => {
  const local = json(sparkSumsOf(tiny(), MODELS, OPTS));
  /** The notebook's order: the indices 0 … B−1, then the redraws of attempt 1, attempt 2, … (each sorted). */
  const notebook = { ...json(local), bootstrap: { ...local.bootstrap, draws: [...local.bootstrap.draws].sort((x: any, y: any) => x.b - y.b) } };

  it('the draws in the notebook order replay as equal, and finish to the same decision', () => {
    const redraws = local.bootstrap.draws.filter((d: any) => d.b >= 2 ** 20);
    assert.ok(redraws.length >= 5, `${redraws.length} redraws`);
    assert.notDeepEqual(notebook.bootstrap.draws, local.bootstrap.draws);
    assert.equal(firstSumsDifference(notebook, local), undefined);
    assert.deepEqual(finishFromSums(notebook, MODELS, OPTS), finishFromSums(local, MODELS, OPTS));
  });

  it('names a changed redraw by its position in the Spark list and its b, and a missing one by its b', () => {
    const changed = json(notebook);
    const k = changed.bootstrap.draws.findIndex((d: any) => d.b >= 2 ** 20);
    const d = changed.bootstrap.draws[k];
    d.weight = String(Number(d.weight) + 1);
    assert.deepEqual(firstSumsDifference(changed, local), {
      field: `bootstrap.draws[${k}] (b ${d.b}).weight`,
      spark: d.weight,
      local: String(Number(d.weight) - 1),
      inFingerprint: false,
    });
    const missing = json(notebook);
    const [gone] = missing.bootstrap.draws.splice(k, 1);
    assert.deepEqual(firstSumsDifference(missing, local), { field: `bootstrap.draws (b ${gone.b})`, spark: 'no draw', local: 'a draw', inFingerprint: false });
  });

  it('compares the fingerprint before anything else, and fields only one side has', () => {
    const both = json(notebook);
    both.bootstrap.full.losses[0] = '1';
    both.fingerprint.positiveKeySum = '5';
    assert.deepEqual(firstSumsDifference(both, local), {
      field: 'fingerprint.positiveKeySum',
      spark: '5',
      local: local.fingerprint.positiveKeySum,
      inFingerprint: true,
    });
    assert.deepEqual(firstSumsDifference({ ...notebook, aucSums: { draws: [] } }, local), {
      field: 'aucSums',
      spark: 'an object',
      local: 'nothing',
      inFingerprint: false,
    });
    assert.deepEqual(firstSumsDifference(notebook, { ...local, generator: 2 }), { field: 'generator', spark: '1', local: '2', inFingerprint: false });
    assert.deepEqual(firstSumsDifference({ ...notebook, format: 'x' }, local), {
      field: 'format',
      spark: '"x"',
      local: '"mlopspipelines.spark-sums/v1"',
      inFingerprint: false,
    });
  });

  it('sumsOfReplayInput finds the sums in each shape and refuses the others with the reason', () => {
    const exit = { comparison: 'spark', rows: 14, local_row_limit: 10, result: local };
    assert.equal(sumsOfReplayInput(local, 'f').shape, 'sums');
    assert.equal(sumsOfReplayInput(exit, 'f').sums, local);
    assert.deepEqual(sumsOfReplayInput({ notebook_output: { result: JSON.stringify(exit) } }, 'f').models, MODELS);
    assert.equal(sumsOfReplayInput(JSON.stringify(exit), 'f').shape, 'exit');
    assert.throws(() => sumsOfReplayInput([local], 'f'), new SparkReplayError('f is not a JSON object'));
    assert.throws(() => sumsOfReplayInput({ ...local, models: ['a', 'a'] }, 'f'), new SparkReplayError("f: models lists 'a' twice"));
    assert.throws(() => sumsOfReplayInput({ ...local, models: [] }, 'f'), new SparkReplayError('f: models must be a non-empty list of model keys'));
    assert.throws(
      () => sumsOfReplayInput({ comparison: 'spark', rows: 14 }, 'f'),
      new SparkReplayError('f is an exit value with comparison "spark" but no result'),
    );
    assert.throws(
      () => sumsOfReplayInput({ notebook_output: { result: '{' } }, 'f'),
      (e: Error) => e instanceof SparkReplayError && e.message.startsWith("f's notebook_output.result is not JSON: "),
    );
  });

  it('replayOptionMismatch: the method, then the metric, seed and resamples the sums record', () => {
    const opts = { problem: 'binary' as const, method: 'bootstrap', metric: 'brier', seed: 'tiny', resamples: 40 };
    assert.equal(replayOptionMismatch(local, opts), undefined);
    assert.deepEqual(replayOptionMismatch(local, { ...opts, method: 'delong' }), {
      option: 'method',
      spark: 'bootstrap',
      given: 'delong',
      field: 'bootstrap is set',
    });
    assert.deepEqual(replayOptionMismatch(local, { ...opts, metric: 'log_loss' }), {
      option: 'metric',
      spark: 'brier',
      given: 'log_loss',
      field: 'bootstrap.metric',
    });
    assert.deepEqual(replayOptionMismatch(local, { ...opts, seed: 7 }), { option: 'seed', spark: 'tiny', given: '7', field: 'bootstrap.seed' });
    assert.deepEqual(replayOptionMismatch(local, { ...opts, resamples: 41 }), { option: 'resamples', spark: '40', given: '41', field: 'bootstrap.resamples' });
    const delong = json(sparkSumsOf(tiny(), MODELS, { ...OPTS, metric: 'roc_auc', method: 'delong' }));
    assert.equal(replayOptionMismatch(delong, { ...opts, method: 'delong', metric: 'roc_auc' }), undefined);
    assert.deepEqual(replayOptionMismatch(delong, opts), { option: 'method', spark: 'delong', given: 'bootstrap', field: 'delong is set' });
    assert.throws(() => replayOptionMismatch({ ...delong, delong: null }, opts), new SparkReplayError('the sums hold neither delong nor bootstrap sums'));
  });
});

/** 12 regression rows: targets and two models' predictions, distinct row keys. */
function regression(): RegressionPredictions {
  const target = Float64Array.from({ length: 12 }, (_, i) => 3 + 0.75 * ((i * 5) % 7) - 0.5 * (i % 3));
  return {
    n: target.length,
    target,
    columns: [
      { name: 'prod', scores: Float64Array.from(target, (y, i) => y + 0.4 * (((i * 3) % 5) - 2)) },
      { name: 'cand', scores: Float64Array.from(target, (y, i) => y + 0.25 * (((i * 7) % 5) - 2)) },
    ],
    rowKey: { name: 'id', values: Float64Array.from(target, (_, i) => 500 + 11 * i) },
  };
}

describe('spark-replay: keyed ROC AUC and regression sums against a file', () => {
  const AUC: CompareOptions = { ...OPTS, metric: 'roc_auc', minDelta: 0.001 };
  const auc = json(sparkSumsOf(tiny(), MODELS, AUC));
  const aucNotebook = { ...json(auc), bootstrap: { ...auc.bootstrap, draws: [...auc.bootstrap.draws].sort((x: any, y: any) => x.b - y.b) } };

  it('keyed ROC AUC: the notebook order replays as equal, finishes to the local keyed decision; a rank sum is named by draw, b and model', () => {
    assert.ok(
      auc.bootstrap.draws.some((d: any) => d.b >= 2 ** 20),
      'redraws',
    );
    assert.equal(firstSumsDifference(aucNotebook, auc), undefined);
    assert.deepEqual(finishFromSums(aucNotebook, MODELS, AUC), compareModels(tiny(), AUC));
    const tampered = json(aucNotebook);
    const k = 3;
    const d = tampered.bootstrap.draws[k];
    d.rankSums[1] = String(BigInt(d.rankSums[1]) + 1n);
    assert.deepEqual(firstSumsDifference(tampered, auc), {
      field: `bootstrap.draws[${k}] (b ${d.b}).rankSums[1] (model prod)`,
      spark: d.rankSums[1],
      local: String(BigInt(d.rankSums[1]) - 1n),
      inFingerprint: false,
    });
    const full = json(aucNotebook);
    full.bootstrap.full.rankSums[0] = '0';
    assert.deepEqual(firstSumsDifference(full, auc), {
      field: 'bootstrap.full.rankSums[0] (model cand)',
      spark: '0',
      local: auc.bootstrap.full.rankSums[0],
      inFingerprint: false,
    });
  });

  it('keyed average precision: the notebook order replays as equal, finishes to the local keyed decision; an AP sum is named by draw, b and model', () => {
    const AP: CompareOptions = { ...OPTS, metric: 'average_precision', minDelta: 0.001 };
    const ap = json(sparkSumsOf(tiny(), MODELS, AP));
    const apNotebook = { ...json(ap), bootstrap: { ...ap.bootstrap, draws: [...ap.bootstrap.draws].sort((x: any, y: any) => x.b - y.b) } };
    assert.equal(firstSumsDifference(apNotebook, ap), undefined);
    assert.deepEqual(finishFromSums(apNotebook, MODELS, AP), compareModels(tiny(), AP));
    const tampered = json(apNotebook);
    const d = tampered.bootstrap.draws[5];
    d.apSums[0] = String(BigInt(d.apSums[0]) + 1n);
    assert.deepEqual(firstSumsDifference(tampered, ap), {
      field: `bootstrap.draws[5] (b ${d.b}).apSums[0] (model cand)`,
      spark: d.apSums[0],
      local: String(BigInt(d.apSums[0]) - 1n),
      inFingerprint: false,
    });
  });

  for (const metric of ['rmse', 'mae'] as const) {
    const opts: CompareOptions<AnyMetric> = { ...OPTS, problemType: 'regression', metric, minDelta: 0 };
    const local = json(sparkRegressionSumsOf(regression(), MODELS, { metric, seed: 'tiny', resamples: 40 }));
    it(`regression ${metric}: identical sums replay as equal and finish to the local keyed decision`, () => {
      const shuffled = [...local.bootstrap.draws].sort((x: any, y: any) => y.b - x.b);
      assert.equal(firstSumsDifference({ ...local, bootstrap: { ...local.bootstrap, draws: shuffled } }, local), undefined);
      assert.deepEqual(finishRegressionFromSums(local, MODELS, opts), compareModels(regression(), opts));
    });
  }

  it('regression: a changed prediction is in the fingerprint; a tampered scale, largest loss or loss sum is named by model', () => {
    const local = json(sparkRegressionSumsOf(regression(), MODELS, { metric: 'rmse', seed: 'tiny', resamples: 40 }));
    const changed = regression();
    changed.columns[0].scores[4] += 2 ** -30;
    const theirs = json(sparkRegressionSumsOf(changed, MODELS, { metric: 'rmse', seed: 'tiny', resamples: 40 }));
    assert.deepEqual(firstSumsDifference(theirs, local), {
      field: 'fingerprint.predictionSums[1] (model prod)',
      spark: theirs.fingerprint.predictionSums[1],
      local: local.fingerprint.predictionSums[1],
      inFingerprint: true,
    });
    const tamper = (edit: (s: any) => void): unknown => {
      const s = json(local);
      edit(s);
      return firstSumsDifference(s, local);
    };
    const scale = local.bootstrap.lossScaleBits[0];
    assert.deepEqual(
      tamper((s) => (s.bootstrap.lossScaleBits[0] = scale + 1)),
      { field: 'bootstrap.lossScaleBits[0] (model cand)', spark: String(scale + 1), local: String(scale), inFingerprint: false },
    );
    const max = local.bootstrap.maxLosses[1];
    assert.deepEqual(
      tamper((s) => (s.bootstrap.maxLosses[1] = String(BigInt(max) - 1n))),
      { field: 'bootstrap.maxLosses[1] (model prod)', spark: String(BigInt(max) - 1n), local: max, inFingerprint: false },
    );
    const loss = local.bootstrap.draws[5].losses[0];
    assert.deepEqual(
      tamper((s) => (s.bootstrap.draws[5].losses[0] = String(BigInt(loss) + 1n))),
      {
        field: `bootstrap.draws[5] (b ${local.bootstrap.draws[5].b}).losses[0] (model cand)`,
        spark: String(BigInt(loss) + 1n),
        local: loss,
        inFingerprint: false,
      },
    );
  });

  it('replayOptionMismatch: the problem first (regression sums say so, binary sums have no problem field), then the metric', () => {
    const local = json(sparkRegressionSumsOf(regression(), MODELS, { metric: 'mae', seed: 'tiny', resamples: 40 }));
    const opts = { problem: 'regression' as const, method: 'bootstrap', metric: 'mae', seed: 'tiny', resamples: 40 };
    assert.equal(problemOfSums(local), 'regression');
    assert.equal(problemOfSums(auc), 'binary');
    assert.equal(replayOptionMismatch(local, opts), undefined);
    assert.deepEqual(replayOptionMismatch(local, { ...opts, problem: 'binary', metric: 'roc_auc' }), {
      option: 'problem',
      spark: 'regression',
      given: 'binary',
      field: 'problem',
    });
    assert.deepEqual(replayOptionMismatch(auc, { ...opts, metric: 'roc_auc' }), {
      option: 'problem',
      spark: 'binary',
      given: 'regression',
      field: 'no problem field',
    });
    assert.deepEqual(replayOptionMismatch(local, { ...opts, metric: 'rmse' }), { option: 'metric', spark: 'mae', given: 'rmse', field: 'bootstrap.metric' });
    assert.throws(
      () => problemOfSums({ ...local, problem: 'multiclass' }),
      new SparkReplayError('the sums\' problem is "multiclass": Spark sums are of binary classifiers (no problem) or "regression"'),
    );
  });
});
