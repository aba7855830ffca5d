/**
 * The keyed Poisson bootstrap of regression RMSE and MAE (src/engine/keyed-regression.ts): the data-derived
 * fixed-point scale, every resample against a recomputation from the generator's BigInt definition, row-order
 * invariance, agreement with the plain metrics within the documented bound, huge errors, redraws and refusals.
 */
import assert from 'node:assert/strict';
import {
  compareModels,
  exactWeightedSum53,
  floorLog2,
  keyedResampleIndex,
  mae,
  meanFromScaledSum,
  pow2,
  regressionFixedPoint,
  regressionScaleBits,
  rmse,
  runKeyedRegression,
  scaledFixedPoint,
  type AnyMetric,
  type CompareOptions,
  type RegressionPredictions,
} from '../../src/engine';
import { seed64Ref, thresholdsRef, weightRef } from './keyed-reference';
import { lcg } from '../helpers/lcg';

/** Targets around 100 with two models of different noise; keys sparse and distinct, some above 2^32. */
function regression(n: number, seed: number, scale = 1): RegressionPredictions {
  const rnd = lcg(seed);
  const target = new Float64Array(n);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    target[i] = (100 + 50 * rnd()) * scale;
    a[i] = target[i] + (rnd() - 0.5) * 20 * scale;
    b[i] = target[i] + (rnd() - 0.5) * 18 * scale;
    keys[i] = (2654435761 * i + 12345) % 2 ** 40;
  }
  return {
    n,
    target,
    columns: [
      { name: 'prod', scores: a },
      { name: 'cand', scores: b },
    ],
    rowKey: { name: 'id', values: keys },
  };
}

function permuted(p: RegressionPredictions, seed: number): RegressionPredictions {
  const rnd = lcg(seed);
  const perm = [...Array(p.n).keys()];
  for (let i = p.n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const pick = (x: ArrayLike<number>): Float64Array => Float64Array.from(perm, (i) => x[i]);
  return {
    n: p.n,
    target: pick(p.target),
    columns: [...p.columns].reverse().map((c) => ({ name: c.name, scores: pick(c.scores) })),
    rowKey: { name: 'id', values: pick(p.rowKey!.values as Float64Array) },
  };
}

const OPTS: CompareOptions<AnyMetric> = {
  problemType: 'regression',
  baseline: 'prod',
  metric: 'rmse',
  method: 'bootstrap',
  bootstrap: 'keyedPoisson',
  resamples: 300,
  seed: 'reg-seed',
  winRate: 0.9,
  minDelta: 0,
  confidence: 0.95,
};

describe('keyed Poisson bootstrap of RMSE and MAE', () => {
  it('derives the scale from the exact largest loss: powers of two, floorLog2 and the cap, exactly', () => {
    assert.equal(pow2(0), 1);
    assert.equal(pow2(-1022), 2.2250738585072014e-308);
    assert.equal(pow2(1023), 8.98846567431158e307);
    assert.equal(pow2(52), 4503599627370496);
    assert.throws(() => pow2(1024), /pow2 takes an integer from -1022 to 1023, got 1024/);
    assert.equal(floorLog2(1), 0);
    assert.equal(floorLog2(3), 1);
    assert.equal(floorLog2(0.9999999999999999), -1);
    assert.equal(floorLog2(Number.MAX_VALUE), 1023);
    assert.equal(floorLog2(5e-324), -1074);
    assert.equal(floorLog2(2 ** -1030 * 3), -1029);
    assert.equal(regressionScaleBits(0), 1022);
    assert.equal(regressionScaleBits(1), 52);
    assert.equal(regressionScaleBits(4), 50);
    assert.equal(regressionScaleBits(1e300), -944);
    assert.equal(regressionScaleBits(Number.MAX_VALUE), -971);
    assert.equal(regressionScaleBits(5e-324), 1022);
    assert.throws(() => regressionScaleBits(Infinity), /the largest loss must be a finite number >= 0, got Infinity/);
    // The largest row lands in [2^52, 2^53): every row below 2^53.
    for (const max of [1, 4, 7.5, 1e-9, 123456.789, 1e300, Number.MAX_VALUE]) {
      const q = scaledFixedPoint(Float64Array.of(max, max / 3, 0), regressionScaleBits(max));
      assert.ok(q[0] >= 2 ** 52 && q[0] < 2 ** 53, `${max}: ${q[0]}`);
      assert.ok(Number.isInteger(q[1]) && q[1] < q[0]);
      assert.equal(q[2], 0);
    }
  });

  it('sums w·q exactly for q up to 2^53 − 1 and weights up to 18', () => {
    const q = Float64Array.of(2 ** 53 - 1, 2 ** 53 - 2, 12345, 0);
    const w = Uint8Array.of(18, 17, 3, 9);
    assert.equal(exactWeightedSum53(w, q), 18n * (2n ** 53n - 1n) + 17n * (2n ** 53n - 2n) + 3n * 12345n);
    // Past the flush size (2^21 rows) the sum is still exact.
    const many = new Float64Array(2 ** 21 + 5).fill(2 ** 53 - 1);
    const ones = new Uint8Array(many.length).fill(18);
    assert.equal(exactWeightedSum53(ones, many), BigInt(many.length) * 18n * (2n ** 53n - 1n));
  });

  it('gives the hand-computed value on four rows: squared errors 1/4, 0, 0, 4 at scale 2^50', () => {
    const p: RegressionPredictions = {
      n: 4,
      target: Float64Array.of(0, 1, 2, 3),
      columns: [{ name: 'm', scores: Float64Array.of(0.5, 1, 2, 5) }],
      rowKey: { name: 'id', values: Float64Array.of(10, 11, 12, 13) },
    };
    const fixed = regressionFixedPoint(p, ['m'], 'rmse');
    assert.deepEqual(fixed.scaleBits, [50]);
    assert.deepEqual(fixed.maxFixed, [2 ** 52]);
    assert.deepEqual(Array.from(fixed.q[0]), [2 ** 48, 0, 0, 2 ** 52]);
    const run = runKeyedRegression(p, ['m'], 'rmse', 1, 4);
    assert.deepEqual(run.estimates, [Math.sqrt(1.0625)]);
    assert.deepEqual(run.scaleBits, [50]);
    const maeRun = runKeyedRegression(p, ['m'], 'mae', 1, 4);
    // |errors| 0.5, 0, 0, 2: the largest 2 gives s = 51.
    assert.deepEqual(maeRun.scaleBits, [51]);
    assert.deepEqual(maeRun.estimates, [0.625]);
  });

  it('every resample equals the weighted mean recomputed from the BigInt generator, redraws included', () => {
    const p = regression(400, 3);
    const T = thresholdsRef();
    const seed64 = seed64Ref(OPTS.seed);
    const keys = p.rowKey!.values as Float64Array;
    for (const metric of ['rmse', 'mae'] as const) {
      const B = 40;
      const run = runKeyedRegression(p, ['prod', 'cand'], metric, OPTS.seed, B);
      p.columns.forEach((c, m) => {
        const losses = Float64Array.from(c.scores, (x, r) => (metric === 'rmse' ? (p.target[r] - x) ** 2 : Math.abs(x - p.target[r])));
        const s = 52 - Math.floor(Math.log2(Math.max(...losses)));
        assert.equal(run.scaleBits[m], s);
        const q = losses.map((l) => Math.floor(l * 2 ** s));
        const value = (sum: bigint, weight: number): number => {
          const mean = (Number(sum) / weight) * 2 ** -s;
          return metric === 'rmse' ? Math.sqrt(mean) : mean;
        };
        assert.equal(
          run.estimates[m],
          value(
            q.reduce((a, x) => a + BigInt(x), 0n),
            p.n,
          ),
        );
        for (let b = 0; b < B; b++) {
          assert.equal(run.run.redraws[b], 0);
          let sum = 0n;
          let weight = 0;
          for (let r = 0; r < p.n; r++) {
            const w = weightRef(seed64, BigInt(keys[r]), BigInt(keyedResampleIndex(b, 0)), T);
            sum += BigInt(w) * BigInt(q[r]);
            weight += w;
          }
          assert.equal(run.run.stats[m * B + b], value(sum, weight), `${metric} model ${m} resample ${b}`);
        }
      });
    }
    // Two rows: a draw with weight 0 on both happens (probability e^-2) and is redrawn at b + a·2^20.
    const two: RegressionPredictions = {
      n: 2,
      target: Float64Array.of(1, 2),
      columns: [{ name: 'm', scores: Float64Array.of(1.5, 1) }],
      rowKey: { name: 'id', values: Float64Array.of(5, 9) },
    };
    const run = runKeyedRegression(two, ['m'], 'mae', 'two', 200);
    let expectedRedraws = 0;
    for (let b = 0; b < 200; b++) {
      let a = 0;
      const total = (attempt: number): number => [5n, 9n].reduce((acc, k) => acc + weightRef(seedOfTwo, k, BigInt(keyedResampleIndex(b, attempt)), T), 0);
      while (total(a) === 0) a++;
      assert.equal(run.run.redraws[b], a, `resample ${b}`);
      expectedRedraws += a;
    }
    assert.ok(expectedRedraws > 10, `only ${expectedRedraws} redraws`);
    assert.equal(
      compareModels(
        { ...two, columns: [...two.columns, { name: 'c', scores: Float64Array.of(1, 2) }] },
        { ...OPTS, baseline: 'm', metric: 'mae', seed: 'two', resamples: 200 },
      ).degenerateResamples,
      expectedRedraws,
    );
  });

  it('is byte-identical for any row and column order (compareModels JSON)', () => {
    const p = regression(700, 11);
    for (const metric of ['rmse', 'mae'] as const) {
      const json = JSON.stringify(compareModels(p, { ...OPTS, metric }));
      const d = JSON.parse(json) as { bootstrap: string; problemType: string; method: string };
      assert.equal(d.bootstrap, 'keyedPoisson');
      assert.equal(d.problemType, 'regression');
      for (const seed of [1, 2, 3]) assert.equal(JSON.stringify(compareModels(permuted(p, seed), { ...OPTS, metric })), json);
    }
  });

  it('agrees with the plain RMSE and MAE within the bound 2^-s + (2 + log2 n)·2^-52·mean (outliers and huge errors included)', () => {
    const outlier = regression(5000, 21);
    (outlier.columns[0].scores as Float64Array)[17] += 1e8; // one squared error of 1e16 sets a coarse scale
    const huge = regression(300, 5, 1e148); // errors up to 1e149: squared 1e298, scale 2^-939
    for (const p of [regression(5000, 7), regression(3000, 8, 1e-6), outlier, huge]) {
      for (const metric of ['rmse', 'mae'] as const) {
        const run = runKeyedRegression(p, ['prod', 'cand'], metric, 9, 1);
        p.columns.forEach((c, m) => {
          const plainMean = metric === 'rmse' ? rmse(p.target, c.scores) ** 2 : mae(p.target, c.scores);
          const mean = metric === 'rmse' ? run.estimates[m] ** 2 : run.estimates[m];
          const bound = pow2(-run.scaleBits[m]) + (2 + Math.log2(p.n)) * 2 ** -52 * plainMean;
          // RMSE: the squares differ by at most the bound plus the squaring's own rounding.
          assert.ok(Math.abs(mean - plainMean) <= bound * (metric === 'rmse' ? 1.01 : 1), `${metric} model ${m}: ${mean} vs ${plainMean}, bound ${bound}`);
        });
      }
    }
    assert.equal(runKeyedRegression(huge, ['prod'], 'rmse', 9, 1).scaleBits[0] < -900, true);
  });

  it('refuses a squared error that overflows a double, naming the model and the row, and unsupported options', () => {
    const p = regression(50, 4);
    (p.columns[1].scores as Float64Array)[6] = 1e155;
    assert.throws(
      () => compareModels(p, OPTS),
      /column 'cand' at row 6: the squared error of the prediction 1e\+155 for the label [0-9.]+ overflows a double; RMSE of these predictions is not a finite number/,
    );
    // The absolute error of the same row is finite: MAE is computed.
    assert.equal(compareModels(p, { ...OPTS, metric: 'mae' }).bootstrap, 'keyedPoisson');
    const q = regression(50, 4);
    (q.columns[1].scores as Float64Array)[2] = -1.7e308;
    q.target[2] = 1.7e308;
    assert.throws(() => compareModels(q, { ...OPTS, metric: 'mae' }), /column 'cand' at row 2: the absolute error .* overflows a double; MAE/);
    const ok = regression(50, 4);
    const bad = (o: Partial<CompareOptions<AnyMetric>>, re: RegExp, preds: RegressionPredictions = ok): void =>
      assert.throws(() => compareModels(preds, { ...OPTS, ...o } as CompareOptions<AnyMetric>), re);
    bad({ metric: 'r2' }, /bootstrap 'keyedPoisson' compares regression models on rmse or mae, not r2: r2 needs each resample's own mean of the labels/);
    bad({ metric: 'mape' }, /compares regression models on rmse or mae, not mape/);
    bad(
      { guardrails: [{ metric: 'mae', maxWorsening: 1 }] },
      /'keyedPoisson' supports binary classification without guardrails or slices, and regression likewise/,
    );
    bad({}, /bootstrap 'keyedPoisson' needs a row key column/, { ...ok, rowKey: undefined });
    bad({}, /'keyedPoisson' does not take row weights \(weight column 'w'\)/, { ...ok, weight: { name: 'w', values: new Uint32Array(50).fill(1) } });
    bad({ resamples: 2 ** 20 + 1 }, /resamples must be an integer from 1 to 1048576 with bootstrap 'keyedPoisson'/);
    const dup = Float64Array.from(ok.rowKey!.values as Float64Array);
    dup[9] = dup[1];
    bad({}, /row key column 'id' has the key .* more than once/, { ...ok, rowKey: { name: 'id', values: dup } });
    assert.throws(
      () => compareModels(ok, { ...OPTS, problemType: 'multiclass', metric: 'accuracy' } as CompareOptions<AnyMetric>),
      /'keyedPoisson' supports binary classification without guardrails or slices/,
    );
  });

  it('finishes a mean from its sums as (Number(sum) / weight) · 2^-s without overflow at the largest scale', () => {
    assert.equal(meanFromScaledSum(2n ** 52n, 1, 1022), 2 ** -970);
    assert.equal(meanFromScaledSum(3n * 2n ** 52n, 3, -971), 2 ** 1023);
  });
});

const seedOfTwo = seed64Ref('two');
