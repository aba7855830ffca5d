/**
 * The regression finisher from Spark sums (src/engine/spark-sums-regression.ts): fed the sums the engine's own
 * functions compute (`sparkRegressionSumsOf`), passed through JSON text as the notebook returns them, it gives
 * the decision the local keyed `compareModels` gives on the same rows, deep-equal and byte-identical as JSON;
 * then every validation error, exactly.
 */
import assert from 'node:assert/strict';
import {
  compareModels,
  finishRegressionFromSums,
  sparkRegressionSumsOf,
  SparkSumsError,
  type AnyMetric,
  type CompareOptions,
  type RegressionPredictions,
  type RegressionSparkSums,
} from '../../src/engine';
import { lcg } from '../helpers/lcg';

/** n rows of a signed target, production and two candidates (one better, one worse), sparse keys. */
function predictions(n: number, seed: number): RegressionPredictions {
  const rnd = lcg(seed);
  const target = Float64Array.from({ length: n }, () => (rnd() - 0.4) * 300);
  const col = (noise: number): Float64Array => Float64Array.from(target, (y) => y + (rnd() - 0.5) * noise);
  return {
    n,
    target,
    columns: [
      { name: 'run_b', scores: col(40) },
      { name: 'production', scores: col(30) },
      { name: 'run_a', scores: col(24) },
    ],
    rowKey: { name: 'id', values: Float64Array.from({ length: n }, (_, i) => (2654435761 * i + 977) % 2 ** 40) },
  };
}

/** The models in the order the task sends them: candidates, then production. */
const MODELS = ['run_a', 'run_b', 'production'];

const OPTS: CompareOptions<AnyMetric> = {
  problemType: 'regression',
  metric: 'rmse',
  method: 'bootstrap',
  bootstrap: 'keyedPoisson',
  baseline: 'production',
  candidates: ['run_a', 'run_b'],
  resamples: 200,
  seed: 7,
  winRate: 0.9,
  minDelta: 0,
  confidence: 0.95,
};

function sumsText(preds: RegressionPredictions, opts: CompareOptions<AnyMetric>): RegressionSparkSums {
  return JSON.parse(
    JSON.stringify(sparkRegressionSumsOf(preds, MODELS, opts as { metric: 'rmse' | 'mae'; seed: number; resamples: number })),
  ) as RegressionSparkSums;
}

describe('finishRegressionFromSums: the keyed RMSE/MAE decision from Spark sums equals the local one', () => {
  it('RMSE and MAE, with a baseline, without one, and a subset of candidates: deepEqual and byte-identical JSON', () => {
    const preds = predictions(1500, 3);
    for (const metric of ['rmse', 'mae'] as const) {
      for (const o of [
        { ...OPTS, metric },
        // Without a baseline every model is a candidate, listed in the order sent (the local path lists the columns' order).
        { ...OPTS, metric, baseline: undefined, candidates: MODELS },
        { ...OPTS, metric, candidates: ['run_b'] },
        { ...OPTS, metric, minMetric: 12, includeDistributions: false },
      ]) {
        const local = compareModels(preds, o);
        const spark = finishRegressionFromSums(sumsText(preds, o), MODELS, o);
        assert.deepEqual(spark, local);
        assert.equal(JSON.stringify(spark), JSON.stringify(local));
        assert.equal(spark.bootstrap, 'keyedPoisson');
      }
    }
    assert.equal(compareModels(preds, OPTS).best, 'run_a');
  });

  it('redraws of all-zero draws (three rows): the JSON holds them and the finisher uses them as runKeyedRegression does', () => {
    const preds: RegressionPredictions = {
      n: 3,
      target: Float64Array.of(1, -2, 4),
      columns: [
        { name: 'run_a', scores: Float64Array.of(1.5, -2, 3) },
        { name: 'run_b', scores: Float64Array.of(0, -1, 4) },
        { name: 'production', scores: Float64Array.of(1, -3, 5) },
      ],
      rowKey: { name: 'id', values: Float64Array.of(4, 8, 15) },
    };
    const o = { ...OPTS, metric: 'mae' as const, resamples: 300 };
    const sums = sumsText(preds, o);
    const local = compareModels(preds, o);
    assert.ok(local.degenerateResamples > 5, String(local.degenerateResamples));
    assert.equal(sums.bootstrap.draws.length, 300 + local.degenerateResamples);
    assert.equal(sums.bootstrap.draws.filter((d) => d.weight === '0').length, local.degenerateResamples);
    assert.deepEqual(finishRegressionFromSums(sums, MODELS, o), local);
  });

  it('the JSON: problem, per-model scales and largest losses, no positives; the fingerprint by exact values', () => {
    const preds: RegressionPredictions = {
      n: 4,
      target: Float64Array.of(0, 1, 2, -3),
      columns: [
        { name: 'run_a', scores: Float64Array.of(0.5, 1, 2, -3) },
        { name: 'run_b', scores: Float64Array.of(0, 1, 2, 1) },
        { name: 'production', scores: Float64Array.of(0, 1, 2, -3) },
      ],
      rowKey: { name: 'id', values: Float64Array.of(1, 2, 3, 2 ** 40 - 1) },
    };
    const s = sparkRegressionSumsOf(preds, MODELS, { metric: 'rmse', seed: 1, resamples: 1 });
    assert.equal(s.problem, 'regression');
    assert.equal('positives' in s, false);
    assert.equal('lossScaleBits' in s, false);
    // Squared errors: run_a 1/4 (s = 54), run_b 16 (s = 48), production none (the cap, 1022).
    assert.deepEqual(s.bootstrap.lossScaleBits, [54, 48, 1022]);
    assert.deepEqual(s.bootstrap.maxLosses, [String(2 ** 52), String(2 ** 52), '0']);
    assert.deepEqual(s.bootstrap.full, { weight: '4', losses: [String(2 ** 52), String(2 ** 52), '0'] });
    // |y| at most 3: t = 51; Σ trunc(y·2^51) = (0 + 1 + 2 − 3)·2^51 = 0.
    assert.deepEqual(s.fingerprint, {
      rows: '4',
      keySum: String(6 + 2 ** 40 - 1),
      targetScaleBits: 51,
      targetSum: '0',
      predictionScaleBits: [51, 51, 51],
      predictionSums: [String(0.5 * 2 ** 51), String(4 * 2 ** 51), '0'],
    });
  });

  it('refuses malformed or mismatched sums, naming the field, and options it cannot finish', () => {
    const preds = predictions(300, 5);
    const good = sumsText(preds, OPTS);
    const bad = (edit: (s: RegressionSparkSums & Record<string, unknown>) => void, re: RegExp, opts = OPTS, models = MODELS): void => {
      const s = JSON.parse(JSON.stringify(good)) as RegressionSparkSums & Record<string, unknown>;
      edit(s);
      assert.throws(
        () => finishRegressionFromSums(s, models, opts),
        (e: Error) => e instanceof SparkSumsError && re.test(e.message),
      );
    };
    bad((s) => (s.format = 'x' as never), /format must be 'mlopspipelines.spark-sums\/v1'/);
    bad((s) => (s.generator = 2), /generator must be 1/);
    bad((s) => delete (s as Record<string, unknown>).problem, /problem must be 'regression' for a regression comparison, got undefined/);
    bad((s) => (s.positives = '3'), /positives has no meaning for regression and must be absent/);
    bad((s) => (s.lossScaleBits = 40), /lossScaleBits has no meaning for regression and must be absent/);
    bad((s) => (s.models = ['run_b', 'run_a', 'production']), /models must be \["run_a","run_b","production"\]/);
    bad((s) => (s.fingerprint.rows = '299'), /fingerprint.rows must equal rows/);
    bad((s) => (s.fingerprint.targetScaleBits = 1023), /fingerprint.targetScaleBits must be an integer scale from -971 to 1022, got 1023/);
    bad((s) => (s.fingerprint.predictionSums = ['1', '2']), /fingerprint.predictionSums must be a list of 3 items, got 2 items/);
    bad((s) => (s.delong = {} as never), /delong must be null for a regression comparison/);
    bad((s) => (s.bootstrap.metric = 'mae'), /bootstrap.metric is "mae", but the comparison is on rmse/);
    bad((s) => (s.bootstrap.seed = '8'), /bootstrap.seed is "8", but the comparison's seed is "7"/);
    bad((s) => (s.bootstrap.resamples = 100), /bootstrap.resamples is 100, but the comparison asks for 200/);
    // A scale one step too fine or too coarse breaks the rule the largest loss must satisfy.
    bad(
      (s) => (s.bootstrap.maxLosses[1] = String(2 ** 51)),
      /bootstrap.maxLosses\[1\] is 2251799813685248: at scale \d+ the largest fixed-point loss must lie in \[2\^52, 2\^53\)/,
    );
    bad((s) => (s.bootstrap.maxLosses[0] = String(2 ** 53)), /bootstrap.maxLosses\[0\] is 9007199254740992/);
    bad((s) => (s.bootstrap.lossScaleBits = [1, 2]), /bootstrap.lossScaleBits must be a list of 3 items/);
    bad((s) => (s.bootstrap.full.weight = '299'), /bootstrap.full must have weight 300 \(every row once\)/);
    bad(
      (s) => (s.bootstrap.full.losses[2] = String(BigInt(s.bootstrap.maxLosses[2]) * 300n + 1n)),
      /bootstrap.full.losses\[2\] is \d+, above weight 300 times the largest loss/,
    );
    bad(
      (s) => ((s.bootstrap.draws[0] as unknown as Record<string, unknown>).positiveWeight = '1'),
      /bootstrap.draws\[0\].positiveWeight has no meaning for regression/,
    );
    bad((s) => s.bootstrap.draws.splice(5, 1), /bootstrap.draws has no draw 5 \(resample 5, attempt 0\)/);
    bad((s) => s.bootstrap.draws.push({ ...s.bootstrap.draws[0], b: 2 ** 20 }), /bootstrap.draws holds 1 draw\(s\) no resample uses \(first index 1048576\)/);
    bad((s) => s.bootstrap.draws.push(s.bootstrap.draws[0]), /bootstrap.draws holds the generator index 0 twice/);
    bad((s) => (s.bootstrap.draws[3].losses[0] = '-5'), /bootstrap.draws\[3\].losses\[0\] must be a non-negative integer as a decimal string, got "-5"/);
    bad(() => undefined, /the model 'nope' is not among the models sent/, { ...OPTS, candidates: ['nope'] });
    assert.throws(() => finishRegressionFromSums(good, MODELS, { ...OPTS, metric: 'r2' }), /compares regression models on rmse or mae, not r2/);
    assert.throws(() => finishRegressionFromSums(good, MODELS, { ...OPTS, bootstrap: 'multinomial' }), /set method 'bootstrap' and bootstrap 'keyedPoisson'/);
    assert.throws(() => finishRegressionFromSums(good, MODELS, { ...OPTS, problemType: undefined }), /the regression sums finish a regression comparison/);
    assert.throws(() => finishRegressionFromSums(good, MODELS, { ...OPTS, resamples: 2 ** 20 + 1 }), /resamples must be an integer from 1 to 1048576/);
    // Unchanged, the same sums finish.
    assert.deepEqual(finishRegressionFromSums(good, MODELS, OPTS), compareModels(preds, OPTS));
  });
});
