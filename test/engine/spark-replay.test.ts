/**
 * src/engine/spark-replay.ts: the comparison of Spark sums with a file's (`firstSumsDifference`), the shapes a
 * replay accepts (`sumsOfReplayInput`) and the options check (`replayOptionMismatch`). The draws are matched by
 * their generator index: the notebook lists 0 … B−1 before the redraws, `sparkSumsOf` each index's redraws after
 * it, and both must replay as equal (tested on data small enough to need redraws).
 */
import assert from 'node:assert/strict';
import { finishFromSums, sparkSumsOf, type CompareOptions, type Predictions } from '../../src/engine';
import { firstSumsDifference, replayOptionMismatch, SparkReplayError, sumsOfReplayInput } from '../../src/engine/spark-replay';

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
    const opts = { method: 'bootstrap', metric: 'brier', seed: 'tiny', resamples: 40 };
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
