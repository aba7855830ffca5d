/**
 * Integer row weights (a weight column): the full-data metrics take them as scikit-learn's
 * sample_weight, every bootstrap resample weighs a row by count × weight, and the weight column is
 * never a model. The reference expands each row (count × weight) times and computes the plain,
 * unweighted metric, resample by resample.
 */
import assert from 'node:assert/strict';
import { Table, makeVector, tableToIPC, vectorFromArray, Utf8, type Vector } from 'apache-arrow';
import seedrandom from 'seedrandom';
import {
  InvalidOptionsError,
  PredictionsError,
  ROW_MASK,
  compareModels,
  compareModelsParallel,
  metricValue,
  prepareBootstrap,
  readPredictions,
  runBootstrap,
  sortOrder,
  type BootstrapScheme,
  type CompareOptions,
  type Metric,
  type PreparedBootstrap,
  type Predictions,
} from '../../src/engine';
import { kernelJob } from '../../src/engine/bootstrap';
import { runKernel } from '../../src/engine/kernel';

/** Small data with tied scores, weights 0 to 3 (some 0), both classes carrying weight. */
function smallWeighted(n: number, seed: string): Predictions & { weight: { name: string; values: Uint32Array } } {
  const rng = seedrandom(seed);
  const labels = new Uint8Array(n);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const w = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng() < 0.35 ? 1 : 0;
    // Scores on a coarse grid, so that ties occur (the tie-group branches), as probabilities.
    a[i] = Math.round((0.5 * rng() + 0.4 * labels[i]) * 20) / 20;
    b[i] = Math.round((0.5 * rng() + 0.45 * labels[i]) * 20) / 20;
    w[i] = Math.floor(rng() * 4);
  }
  labels[0] = 1;
  labels[1] = 0;
  w[0] = 2;
  w[1] = 1;
  return {
    n,
    labels,
    columns: [
      { name: 'a', scores: a },
      { name: 'b', scores: b },
    ],
    weight: { name: 'w', values: w },
  };
}

/** Resample multiplicities by reference position, as the kernel used them. */
function kernelCounts(prep: PreparedBootstrap, seed: string | number, B: number): { counts: Uint8Array; redraws: Uint32Array; stats: Float64Array } {
  const job = kernelJob(prep, seed, 0, B);
  job.countsOut = new Uint8Array(B * prep.n);
  runKernel(job);
  return { counts: job.countsOut, redraws: job.redraws, stats: job.out };
}

/** The metric on the data with row r repeated mult[r] times: the plain, unweighted functions. */
function expandedMetric(metric: Metric, labels: Uint8Array, scores: ArrayLike<number>, mult: ArrayLike<number>): number {
  const y: number[] = [];
  const s: number[] = [];
  for (let r = 0; r < labels.length; r++) {
    for (let k = 0; k < mult[r]; k++) {
      y.push(labels[r]);
      s.push(scores[r]);
    }
  }
  return metricValue(metric, y, s);
}

const baseOpts: CompareOptions = {
  metric: 'roc_auc',
  method: 'bootstrap',
  resamples: 200,
  seed: 7,
  winRate: 0.95,
  minDelta: 0.001,
  confidence: 0.95,
  baseline: 'a',
};

describe('weighted bootstrap (count x weight)', () => {
  const preds = smallWeighted(41, 'weights');
  const cases: [Metric, BootstrapScheme][] = [
    ['roc_auc', 'multinomial'],
    ['average_precision', 'multinomial'],
    ['log_loss', 'multinomial'],
    ['brier', 'multinomial'],
    ['roc_auc', 'poisson'],
    ['average_precision', 'poisson'],
  ];
  for (const [metric, scheme] of cases) {
    it(`${metric}, ${scheme}: each resample's statistic equals the plain metric on rows expanded count x weight times`, () => {
      const B = 64;
      const prep = prepareBootstrap(preds, ['a', 'b'], metric, scheme);
      assert.ok(prep.weights instanceof Uint32Array);
      const { counts, stats } = kernelCounts(prep, 'expand', B);
      // Reference position -> row: the reference model's sorted order (ranking metrics), else the row itself.
      const rowAt =
        metric === 'roc_auc' || metric === 'average_precision'
          ? Array.from(sortOrder(preds.columns[0].scores), (e) => e & ROW_MASK)
          : Array.from({ length: preds.n }, (_, r) => r);
      const w = preds.weight.values;
      let zeroWeightDrawn = 0;
      for (let b = 0; b < B; b++) {
        const mult = new Array<number>(preds.n).fill(0);
        for (let p = 0; p < preds.n; p++) {
          const r = rowAt[p];
          mult[r] = counts[b * preds.n + p] * w[r];
          if (counts[b * preds.n + p] > 0 && w[r] === 0) zeroWeightDrawn++;
        }
        for (let m = 0; m < 2; m++) {
          const want = expandedMetric(metric, preds.labels, preds.columns[m].scores, mult);
          const got = stats[m * B + b];
          // ROC AUC is integer sums and one division: exact. The others sum in another order.
          if (metric === 'roc_auc') assert.equal(got, want, `resample ${b}, model ${m}`);
          else assert.ok(Math.abs(got - want) <= 1e-12 * Math.abs(want), `resample ${b}, model ${m}: ${got} vs ${want}`);
        }
      }
      // The rows of weight 0 are drawn but contribute nothing (the test covers them).
      assert.ok(zeroWeightDrawn > 0);
    });
  }

  it('the draws do not depend on the weights: the same multiplicities as the unweighted run where neither redrew', () => {
    const B = 64;
    const unweighted: Predictions = { n: preds.n, labels: preds.labels, columns: preds.columns };
    const wRun = kernelCounts(prepareBootstrap(preds, ['a', 'b'], 'roc_auc', 'multinomial'), 3, B);
    const uRun = kernelCounts(prepareBootstrap(unweighted, ['a', 'b'], 'roc_auc', 'multinomial'), 3, B);
    let compared = 0;
    for (let b = 0; b < B; b++) {
      if (wRun.redraws[b] !== 0 || uRun.redraws[b] !== 0) continue;
      compared++;
      assert.deepEqual(wRun.counts.subarray(b * preds.n, (b + 1) * preds.n), uRun.counts.subarray(b * preds.n, (b + 1) * preds.n));
    }
    assert.ok(compared >= 60, `${compared}`);
  });

  it('a resample whose drawn rows carry weight on one class only is redrawn (weight-0 rows do not count)', () => {
    // Positives: rows 0 (weight 1) and 1 (weight 0); most resamples of 4 rows... at n = 4 many draws leave
    // the only weighted positive out, so they must be redrawn.
    const tiny: Predictions = {
      n: 4,
      labels: Uint8Array.from([1, 1, 0, 0]),
      columns: [
        { name: 'a', scores: Float64Array.from([0.9, 0.2, 0.3, 0.1]) },
        { name: 'b', scores: Float64Array.from([0.8, 0.7, 0.1, 0.2]) },
      ],
      weight: { name: 'w', values: Uint32Array.from([1, 0, 2, 1]) },
    };
    const prep = prepareBootstrap(tiny, ['a', 'b'], 'roc_auc', 'multinomial');
    const B = 200;
    const { counts, redraws } = kernelCounts(prep, 'tiny', B);
    const rowAt = Array.from(sortOrder(tiny.columns[0].scores), (e) => e & ROW_MASK);
    let total = 0;
    for (let b = 0; b < B; b++) {
      total += redraws[b];
      let pos = 0;
      let neg = 0;
      for (let p = 0; p < 4; p++) {
        const r = rowAt[p];
        const c = counts[b * 4 + p] * tiny.weight!.values[r];
        if (tiny.labels[r] === 1) pos += c;
        else neg += c;
      }
      assert.ok(pos > 0 && neg > 0, `resample ${b}`);
    }
    // P(row 0 drawn) = 1 − (3/4)^4 ≈ 0.68 and a negative weighted row is needed too: many redraws.
    assert.ok(total > 30, `${total}`);
  });

  it('with every weight 1 the results are byte-identical to the unweighted path (same seed), for every metric and both schemes', () => {
    const ones: Predictions = { ...preds, weight: { name: 'w', values: new Uint32Array(preds.n).fill(1) } };
    const unweighted: Predictions = { n: preds.n, labels: preds.labels, columns: preds.columns };
    for (const [metric, scheme] of cases) {
      const a = runBootstrap(prepareBootstrap(ones, ['a', 'b'], metric, scheme), 11, 100);
      const u = runBootstrap(prepareBootstrap(unweighted, ['a', 'b'], metric, scheme), 11, 100);
      assert.equal(Buffer.compare(Buffer.from(a.stats.buffer), Buffer.from(u.stats.buffer)), 0, `${metric} ${scheme}`);
      assert.deepEqual(a.redraws, u.redraws);
      const opts: CompareOptions = { ...baseOpts, metric, bootstrap: scheme, minDelta: 0 };
      const dw = compareModels(ones, opts);
      const du = compareModels(unweighted, opts);
      assert.deepEqual(dw.weight, { column: 'w', total: preds.n, positive: Array.from(preds.labels).reduce((s, y) => s + y, 0) });
      delete dw.weight;
      assert.equal(JSON.stringify(dw), JSON.stringify(du));
    }
  });

  it('full-data estimates are the weighted metrics (scikit-learn sample_weight), and the decision records the weights', () => {
    for (const metric of ['roc_auc', 'average_precision', 'log_loss', 'brier'] as Metric[]) {
      const d = compareModels(preds, { ...baseOpts, metric });
      for (const m of d.models) {
        const scores = preds.columns.find((c) => c.name === m.name)!.scores;
        const want = metricValue(metric, preds.labels, scores, preds.weight.values);
        assert.equal(m.estimate, want, `${metric} ${m.name}`);
        // And not the unweighted value (the weights matter on these data).
        assert.notEqual(m.estimate, metricValue(metric, preds.labels, scores));
      }
      let total = 0;
      let positive = 0;
      for (let i = 0; i < preds.n; i++) {
        total += preds.weight.values[i];
        positive += preds.labels[i] * preds.weight.values[i];
      }
      assert.deepEqual(d.weight, { column: 'w', total, positive });
      assert.deepEqual(Object.keys(d).slice(Object.keys(d).indexOf('positives'), Object.keys(d).indexOf('positives') + 3), [
        'positives',
        'weight',
        'degenerateResamples',
      ]);
    }
  });

  it('worker threads give the single-thread weighted decision byte for byte', async () => {
    const opts = { ...baseOpts, resamples: 300 };
    const one = compareModels(preds, opts);
    const two = await compareModelsParallel(preds, { ...opts, threads: 2 });
    assert.equal(JSON.stringify(two), JSON.stringify(one));
  });
});

describe('weights: refused combinations and bad weights', () => {
  const preds = smallWeighted(30, 'bad');

  it('DeLong with weights is refused (InvalidOptionsError naming the weight column)', () => {
    assert.throws(
      () => compareModels(preds, { ...baseOpts, method: 'delong' }),
      (e: Error) =>
        e instanceof InvalidOptionsError &&
        e.message === "method 'delong' does not take row weights (weight column 'w'); use the bootstrap, or leave the weights out",
    );
  });

  it('a weight column that is also a score column is refused; weight 0 on every positive is refused', () => {
    const both: Predictions = { ...preds, columns: [...preds.columns, { name: 'w', scores: Float64Array.from(preds.weight.values) }] };
    assert.throws(
      () => compareModels(both, baseOpts),
      (e: Error) => e instanceof PredictionsError && e.message === "column 'w' is the weight column; it cannot also be a model",
    );
    const values = Uint32Array.from(preds.weight.values, (x, i) => (preds.labels[i] === 1 ? 0 : x));
    const total = values.reduce((s, x) => s + x, 0);
    assert.throws(
      () => compareModels({ ...preds, weight: { name: 'w', values } }, baseOpts),
      (e: Error) =>
        e instanceof PredictionsError &&
        e.message === `the weight column 'w' gives weight 0 to every positive row (total weight ${total}); a comparison needs weight on both classes`,
    );
    assert.throws(
      () => compareModels({ ...preds, weight: { name: 'w', values: new Uint32Array(3) } }, baseOpts),
      (e: Error) => e instanceof PredictionsError && e.message === "the weight column 'w' has 3 rows but the label column has 30",
    );
  });
});

describe('readPredictions with a weight column', () => {
  const label = makeVector(Uint8Array.from([0, 1, 0, 1]));
  const s = makeVector(Float64Array.from([0.1, 0.8, 0.4, 0.3]));
  const t = makeVector(Float64Array.from([0.2, 0.7, 0.3, 0.6]));
  const file = (w: Vector): Uint8Array => tableToIPC(new Table({ label, s, t, w }));
  const rejects = (bytes: Uint8Array, message: string, opts: Parameters<typeof readPredictions>[1] = { weightColumn: 'w' }): void => {
    assert.throws(
      () => readPredictions(bytes, opts),
      (e: Error) => {
        assert.ok(e instanceof PredictionsError, `${e.name}: ${e.message}`);
        assert.equal(e.message, message);
        return true;
      },
    );
  };

  it('reads integer and whole-float weights (weight 0 allowed) and never takes the weight column as a model', () => {
    for (const w of [
      makeVector(Int32Array.from([1, 2, 0, 3])),
      makeVector(Uint8Array.from([1, 2, 0, 3])),
      makeVector(BigInt64Array.from([1n, 2n, 0n, 3n])),
      makeVector(Float64Array.from([1, 2, 0, 3])),
      makeVector(Float32Array.from([1, 2, 0, 3])),
    ]) {
      const p = readPredictions(file(w), { weightColumn: 'w' });
      assert.deepEqual(
        p.columns.map((c) => c.name),
        ['s', 't'],
      );
      assert.deepEqual(p.weight, { name: 'w', values: Uint32Array.from([1, 2, 0, 3]) });
      const numeric = readPredictions(file(w), { weightColumn: 'w', numericOnly: true });
      assert.deepEqual(
        numeric.columns.map((c) => c.name),
        ['s', 't'],
      );
    }
    // Without weightColumn a numeric weight column would be read as a model: the option is what excludes it.
    assert.deepEqual(
      readPredictions(file(makeVector(Int32Array.from([1, 2, 0, 3])))).columns.map((c) => c.name),
      ['s', 't', 'w'],
    );
  });

  it('errors name the column and the row', () => {
    rejects(
      file(makeVector(Int32Array.from([1, 2, -1, 3]))),
      "the weight column 'w' has -1 at row 2 (negative); weights must be whole numbers from 0 to 4294967295",
    );
    rejects(
      file(makeVector(Float64Array.from([1, 1.5, 1, 3]))),
      "the weight column 'w' has 1.5 at row 1 (not a whole number); weights must be whole numbers from 0 to 4294967295",
    );
    rejects(
      file(makeVector(Float64Array.from([1, 1, NaN, 3]))),
      "the weight column 'w' has NaN at row 2 (not a finite number); weights must be whole numbers from 0 to 4294967295",
    );
    rejects(
      file(makeVector(Float64Array.from([1, 1, 1, 2 ** 32]))),
      "the weight column 'w' has 4294967296 at row 3 (larger than 4294967295); weights must be whole numbers from 0 to 4294967295",
    );
    rejects(
      file(makeVector(BigInt64Array.from([1n, -5n, 1n, 1n]))),
      "the weight column 'w' has -5 at row 1 (negative); weights must be whole numbers from 0 to 4294967295",
    );
    rejects(
      file(makeVector(BigInt64Array.from([1n, 1n, 1n, 2n ** 40n]))),
      "the weight column 'w' has 1099511627776 at row 3 (larger than 4294967295); weights must be whole numbers from 0 to 4294967295",
    );
    rejects(
      file(vectorFromArray(['1', '2', '0', '3'], new Utf8())),
      "the weight column 'w' has type Utf8; expected integers (or floats holding whole numbers)",
    );
    rejects(file(vectorFromArray([1, null, 0, 3])), "column 'w' has 1 missing (null) value (first at row 1)");
    rejects(
      file(makeVector(Int32Array.from([1, 0, 1, 0]))),
      "the weight column 'w' gives weight 0 to every positive row (total weight 2); a comparison needs weight on both classes",
    );
    rejects(file(makeVector(Int32Array.from([1, 1, 0, 3]))), "there is no weight column 'x' (columns: label, s, t, w)", { weightColumn: 'x' });
    rejects(file(makeVector(Int32Array.from([1, 1, 0, 3]))), "column 'label' cannot be both the label and the weight", { weightColumn: 'label' });
    rejects(file(makeVector(Int32Array.from([1, 1, 0, 3]))), "column 'w' is the weight column; it cannot also be a model", {
      weightColumn: 'w',
      scoreColumns: ['s', 'w'],
    });
  });
});
