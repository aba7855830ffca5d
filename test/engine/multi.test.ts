/**
 * Regression and multiclass comparisons, guardrails and slices (issue 20, engine ring): the same
 * paired, seeded bootstrap as the binary comparison; guardrails on the primary metric's resamples;
 * slices resampled within themselves.
 */
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import {
  InvalidOptionsError,
  PredictionsError,
  accuracy,
  compareModels,
  f1Macro,
  logLossMulticlass,
  mae,
  mape,
  prepareBootstrap,
  prepareResampling,
  r2,
  rmse,
  rocAucOvr,
  rocAucOvrWeighted,
  runBootstrap,
  sortOrder,
  ROW_MASK,
  brierScore,
  type AnyMetric,
  type CompareOptions,
  type MulticlassPredictions,
  type Predictions,
  type RegressionPredictions,
} from '../../src/engine';
import { kernelJob } from '../../src/engine/bootstrap';
import { runKernel } from '../../src/engine/kernel';
import { runResampling } from '../../src/engine/resample';
import { simulateModels } from './simulate';

function gaussian(rng: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** y = s + N(0, 1); each model predicts s + N(0, sd). */
function regression(n: number, seed: string, sds: Record<string, number>, opts: { weights?: boolean; round?: boolean } = {}): RegressionPredictions {
  const rng = seedrandom.xor4096(seed);
  const g = gaussian(rng);
  const s = new Float64Array(n);
  const target = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = 10 + 2 * g();
    target[i] = opts.round ? Math.round(s[i] + g()) : s[i] + g();
  }
  const columns = Object.entries(sds).map(([name, sd]) => ({ name, scores: Float64Array.from(s, (x) => x + sd * g()) }));
  const out: RegressionPredictions = { n, target, columns };
  if (opts.weights) out.weight = { name: 'w', values: Uint32Array.from({ length: n }, () => Math.floor(rng() * 4)) };
  return out;
}

/** K classes; each model's probabilities are a softmax of strength · onehot(y) + N(0, 1) noise. */
function multiclass(
  n: number,
  K: number,
  seed: string,
  strengths: Record<string, number>,
  opts: { weights?: boolean; rareLast?: boolean } = {},
): MulticlassPredictions {
  const rng = seedrandom.xor4096(seed);
  const g = gaussian(rng);
  const labels = new Uint32Array(n);
  // rareLast: the last class on one row only, so that many resamples miss it.
  for (let i = 0; i < n; i++) labels[i] = i < K ? i : Math.floor(rng() * (opts.rareLast ? K - 1 : K));
  const columns = Object.entries(strengths).map(([name, strength]) => {
    const p = new Float64Array(n * K);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        // Rounded logits create ties in the probabilities (the tie-group paths and argmax ties).
        const e = Math.exp(Math.round(((k === labels[i] ? strength : 0) + g()) * 4) / 4);
        p[i * K + k] = e;
        sum += e;
      }
      for (let k = 0; k < K; k++) p[i * K + k] /= sum;
    }
    return { name, probabilities: p };
  });
  const out: MulticlassPredictions = { n, classes: K, labels, columns };
  if (opts.weights) out.weight = { name: 'w', values: Uint32Array.from({ length: n }, (_, i) => (i < K ? 1 : Math.floor(rng() * 4))) };
  return out;
}

function binary(n: number, seed: string): Predictions {
  const { labels, scores } = simulateModels({ n, aucs: [0.7, 0.76], rho: 0.5, prevalence: 0.3, seed });
  // Calibrated-looking probabilities from the binormal scores.
  const toP = (x: number): number => 1 / (1 + Math.exp(-(x - 1)));
  return {
    n,
    labels,
    columns: [
      { name: 'prod', scores: Float64Array.from(scores[0], toP) },
      { name: 'cand', scores: Float64Array.from(scores[1], toP) },
    ],
  };
}

const BASE = { method: 'bootstrap', resamples: 200, seed: 11, winRate: 0.95, minDelta: 0, confidence: 0.95 } as const;

/** The plain metric on the rows repeated count × weight times. */
function expanded<T>(n: number, counts: Uint8Array, b: number, weights: Uint32Array | undefined, f: (rows: number[]) => T): T {
  const rows: number[] = [];
  for (let r = 0; r < n; r++) {
    const times = counts[b * n + r] * (weights === undefined ? 1 : weights[r]);
    for (let t = 0; t < times; t++) rows.push(r);
  }
  return f(rows);
}

describe('resampling beyond one binary metric (resample.ts)', () => {
  for (const scheme of ['multinomial', 'poisson'] as const) {
    for (const weighted of [false, true]) {
      it(`binary ${scheme}${weighted ? ', weighted' : ''}: the same multiplicities as runBootstrap, so the same ROC AUC and log loss per resample`, () => {
        const preds = binary(301, `same-${scheme}-${weighted}`);
        if (weighted) preds.weight = { name: 'w', values: Uint32Array.from({ length: 301 }, (_, i) => (i * 7) % 4) };
        for (const metric of ['roc_auc', 'log_loss'] as const) {
          const prep = prepareBootstrap(preds, ['prod', 'cand'], metric, scheme);
          const job = kernelJob(prep, 'same', 0, 37);
          job.countsOut = new Uint8Array(37 * 301);
          runKernel(job);
          const mine = new Uint8Array(37 * 301);
          const run = runResampling(prepareResampling(preds, 'binaryClassification', ['prod', 'cand'], [metric, 'brier'], scheme, metric), 'same', 37, mine);
          assert.deepEqual(mine, job.countsOut);
          assert.deepEqual(run.redraws, job.redraws);
          assert.deepEqual(run.stats[0], runBootstrap(prep, 'same', 37).stats, metric);
        }
      });
    }
  }

  it('a binary guardrail (Brier score) is evaluated on the rows the ROC AUC bootstrap drew: its value per resample is the Brier score of those rows', () => {
    const preds = binary(250, 'guard-rows');
    const prep = prepareBootstrap(preds, ['prod', 'cand'], 'roc_auc', 'multinomial');
    const job = kernelJob(prep, 'g', 0, 20);
    job.countsOut = new Uint8Array(20 * 250);
    runKernel(job);
    // Position k of the ROC AUC bootstrap is row ref[k] (the baseline's sorted order).
    const ref = Array.from(sortOrder(preds.columns[0].scores, preds.labels), (e) => e & ROW_MASK);
    const run = runResampling(prepareResampling(preds, 'binaryClassification', ['prod', 'cand'], ['brier'], 'multinomial', 'roc_auc'), 'g', 20);
    for (let b = 0; b < 20; b++) {
      const w = new Float64Array(250);
      for (let k = 0; k < 250; k++) w[ref[k]] = job.countsOut[b * 250 + k];
      for (let m = 0; m < 2; m++) {
        const want = brierScore(preds.labels, preds.columns[m].scores, w);
        assert.ok(Math.abs(run.stats[0][m * 20 + b] - want) <= 1e-12, `resample ${b} model ${m}`);
      }
    }
  });

  const REG: [AnyMetric, (y: number[], p: number[]) => number][] = [
    ['rmse', rmse],
    ['mae', mae],
    ['r2', r2],
    ['mape', mape],
  ];
  for (const weighted of [false, true]) {
    it(`regression${weighted ? ', weighted' : ''}: each resample's value is the plain metric on the rows expanded count × weight times (within 1e-12)`, () => {
      const preds = regression(45, `rep-${weighted}`, { prod: 1, cand: 0.6 }, { weights: weighted, round: true });
      const B = 30;
      const counts = new Uint8Array(B * 45);
      const prep = prepareResampling(
        preds,
        'regression',
        ['prod', 'cand'],
        REG.map((x) => x[0]),
        'multinomial',
        'rmse',
      );
      const run = runResampling(prep, 5, B, counts);
      for (let b = 0; b < B; b++) {
        REG.forEach(([name, f], s) => {
          for (let m = 0; m < 2; m++) {
            const want = expanded(45, counts, b, preds.weight?.values, (rows) =>
              f(
                rows.map((r) => preds.target[r]),
                rows.map((r) => preds.columns[m].scores[r]),
              ),
            );
            const got = run.stats[s][m * B + b];
            assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${name} resample ${b} model ${m}: ${got} vs ${want}`);
          }
        });
      }
    });
  }

  const MC: [AnyMetric, (y: number[], p: Float64Array, K: number) => number, boolean][] = [
    ['log_loss', logLossMulticlass, false],
    ['roc_auc_ovr', rocAucOvr, true],
    ['roc_auc_ovr_weighted', rocAucOvrWeighted, false],
    ['accuracy', accuracy, true],
    ['f1_macro', f1Macro, false],
  ];
  for (const weighted of [false, true]) {
    it(`multiclass${weighted ? ', weighted' : ''}: each resample's value is the plain metric on the expanded rows (ROC AUC OvR and accuracy exactly, the others within 1e-12)`, () => {
      const K = 4;
      const preds = multiclass(40, K, `mc-rep-${weighted}`, { prod: 1, cand: 1.5 }, { weights: weighted, rareLast: true });
      const B = 30;
      const counts = new Uint8Array(B * 40);
      const prep = prepareResampling(
        preds,
        'multiclass',
        ['prod', 'cand'],
        MC.map((x) => x[0]),
        'poisson',
        'log_loss',
      );
      const run = runResampling(prep, 'mc', B, counts);
      assert.ok(
        run.redraws.some((r) => r > 0),
        'some resample lacked a class and was redrawn',
      );
      for (let b = 0; b < B; b++) {
        MC.forEach(([name, f, exact], s) => {
          for (let m = 0; m < 2; m++) {
            const want = expanded(40, counts, b, preds.weight?.values, (rows) => {
              const p = new Float64Array(rows.length * K);
              rows.forEach((r, i) => p.set(preds.columns[m].probabilities.subarray(r * K, r * K + K), i * K));
              return f(
                rows.map((r) => preds.labels[r]),
                p,
                K,
              );
            });
            const got = run.stats[s][m * B + b];
            if (exact) assert.equal(got, want, `${name} resample ${b} model ${m}`);
            else assert.ok(Math.abs(got - want) <= 1e-12, `${name} resample ${b} model ${m}: ${got} vs ${want}`);
          }
        });
      }
    });
  }

  it('regression: a resample whose drawn rows hold a single label value is redrawn and counted', () => {
    // Two distinct values out of 6 rows: single-valued draws happen often enough to see.
    const preds: RegressionPredictions = {
      n: 6,
      target: Float64Array.from([1, 1, 1, 1, 1, 2]),
      columns: [
        { name: 'a', scores: Float64Array.from([1, 1.1, 0.9, 1, 1.2, 1.8]) },
        { name: 'b', scores: Float64Array.from([1.1, 1, 1, 0.8, 1, 2.5]) },
      ],
    };
    const counts = new Uint8Array(100 * 6);
    const run = runResampling(prepareResampling(preds, 'regression', ['a', 'b'], ['r2'], 'multinomial', 'r2'), 1, 100, counts);
    assert.ok(run.redraws.reduce((x, y) => x + y, 0) > 10);
    for (let b = 0; b < 100; b++) assert.ok(counts[b * 6 + 5] > 0 && counts[b * 6 + 5] < 6, `resample ${b} holds both values`);
  });
});

describe('compareModels with problemType regression and multiclass', () => {
  it('regression (rmse, lower is better): deltas are baseline − candidate, the better candidate is promoted, and the estimates are the full-data metrics', () => {
    const preds = regression(800, 'reg-cmp', { prod: 1, cand: 0.7, worse: 1.3 });
    const d = compareModels(preds, { ...BASE, problemType: 'regression', metric: 'rmse', baseline: 'prod' });
    assert.equal(d.problemType, 'regression');
    assert.equal(d.higherIsBetter, false);
    assert.equal(d.decision, 'promote');
    assert.equal(d.best, 'cand');
    assert.equal(d.positives, 0);
    for (const m of d.models) assert.equal(m.estimate, rmse(preds.target, preds.columns.find((c) => c.name === m.name)!.scores));
    const dist = d.distributions!;
    d.deltaDistributions!.cand.forEach((x, b) => assert.equal(x, dist.prod[b] - dist.cand[b]));
    assert.ok(d.models[1].vsBaseline!.meanDelta > 0);
    assert.match(d.reason, /^Promote 'cand': its RMSE improvement over 'prod' exceeds 0\.0000 in 100\.0% of 200 paired resamples/);
  });

  it('regression (r2, higher is better): deltas are candidate − baseline', () => {
    const preds = regression(500, 'reg-r2', { prod: 1, cand: 0.7 });
    const d = compareModels(preds, { ...BASE, problemType: 'regression', metric: 'r2', baseline: 'prod' });
    assert.equal(d.higherIsBetter, true);
    d.deltaDistributions!.cand.forEach((x, b) => assert.equal(x, d.distributions!.cand[b] - d.distributions!.prod[b]));
    assert.equal(d.decision, 'promote');
    assert.equal(d.models[0].estimate, r2(preds.target, preds.columns[0].scores));
  });

  it('multiclass: every metric oriented so that the stronger model shows a positive delta; estimates equal the metric functions', () => {
    const preds = multiclass(900, 3, 'mc-cmp', { prod: 1, cand: 1.6 });
    for (const metric of ['log_loss', 'roc_auc_ovr', 'roc_auc_ovr_weighted', 'accuracy', 'f1_macro'] as const) {
      const d = compareModels(preds, { ...BASE, resamples: 100, problemType: 'multiclass', metric, baseline: 'prod' });
      assert.equal(d.decision, 'promote', `${metric}: ${d.reason}`);
      assert.equal(d.classes, 3);
      assert.equal(
        d.classCounts!.reduce((a, b) => a + b, 0),
        900,
      );
      assert.ok(d.models[1].vsBaseline!.meanDelta > 0, metric);
      const sign = metric === 'log_loss' ? -1 : 1;
      d.deltaDistributions!.cand.forEach((x, b) => assert.equal(x, sign * (d.distributions!.cand[b] - d.distributions!.prod[b])));
    }
    const d = compareModels(preds, { ...BASE, resamples: 20, problemType: 'multiclass', metric: 'roc_auc_ovr', baseline: 'prod' });
    assert.equal(d.models[0].estimate, rocAucOvr(preds.labels, preds.columns[0].probabilities, 3));
  });

  it('multiclass: the class names are echoed in the decision, absent when not given, checked against K', () => {
    const preds = multiclass(300, 3, 'names', { prod: 1, cand: 1.2 });
    const o: CompareOptions<AnyMetric> = { ...BASE, resamples: 20, problemType: 'multiclass', metric: 'accuracy', baseline: 'prod' };
    const named = compareModels({ ...preds, classNames: ['bronze', 'silver', '10'] }, o);
    assert.deepEqual(named.classNames, ['bronze', 'silver', '10']);
    assert.deepEqual(Object.keys(named).slice(0, 7), ['decision', 'reason', 'metric', 'problemType', 'classes', 'classCounts', 'classNames']);
    const plain = compareModels(preds, o);
    assert.equal('classNames' in plain, false);
    const { classNames: _, ...rest } = named;
    assert.equal(JSON.stringify(rest), JSON.stringify(plain));
    assert.throws(
      () => compareModels({ ...preds, classNames: ['a', 'b'] }, o),
      (e: unknown) => e instanceof PredictionsError && e.message === 'there are 2 class names for 3 classes (the probability lists have 3 entries)',
    );
    assert.throws(
      () => compareModels({ ...preds, classNames: ['a', 'b', 'a'] }, o),
      (e: unknown) => e instanceof PredictionsError && e.message === "the class name 'a' is given twice",
    );
  });

  it('the same seed gives byte-identical JSON; another seed other resamples', () => {
    const preds = multiclass(300, 3, 'det', { prod: 1, cand: 1.2 });
    const codes = Uint32Array.from({ length: 300 }, (_, i) => i % 3);
    const o: CompareOptions<AnyMetric> = {
      ...BASE,
      problemType: 'multiclass',
      metric: 'f1_macro',
      baseline: 'prod',
      guardrails: [{ metric: 'log_loss', maxWorsening: 0.01 }],
      slices: [{ column: 'seg', codes, names: ['a', 'b', 'c'] }],
      minSliceRows: 50,
    };
    const a = JSON.stringify(compareModels(preds, o));
    assert.equal(JSON.stringify(compareModels(preds, o)), a);
    assert.equal(JSON.parse(a).slices[0].judged, 3);
    assert.notEqual(JSON.stringify(compareModels(preds, { ...o, seed: 12 })), a);
  });

  it('validates the data: names the column and the row', () => {
    const preds = multiclass(50, 3, 'bad', { prod: 1, cand: 1 });
    const o: CompareOptions<AnyMetric> = { ...BASE, problemType: 'multiclass', metric: 'accuracy', baseline: 'prod' };
    const p1 = structuredClone(preds);
    p1.columns[1].probabilities[7 * 3 + 1] += 0.01;
    assert.throws(
      () => compareModels(p1, o),
      (e: Error) =>
        e instanceof PredictionsError &&
        /^column 'cand' has class probabilities summing to 1\.01\d* at row 7; each row must sum to 1 within 0\.000001$/.test(e.message),
    );
    const p2 = structuredClone(preds);
    p2.columns[0].probabilities[4 * 3] = -0;
    p2.columns[0].probabilities[4 * 3 + 2] = -1e-9;
    assert.throws(
      () => compareModels(p2, o),
      /^PredictionsError: column 'prod' has the probability -1e-9 for class 2 at row 4; probabilities must be finite and non-negative$/,
    );
    const p3 = structuredClone(preds);
    p3.labels[9] = 3;
    assert.throws(() => compareModels(p3, o), /the label column has the class index 3 at row 9; class indices run from 0 to 2/);
    assert.throws(() => compareModels({ ...preds, classes: 2 }, o), /two classes are binaryClassification/);
    const r = regression(20, 'bad-r', { prod: 1, cand: 1 });
    r.columns[1].scores[3] = NaN;
    assert.throws(
      () => compareModels(r, { ...BASE, problemType: 'regression', metric: 'mae', baseline: 'prod' }),
      /^PredictionsError: column 'cand' has the prediction NaN at row 3; predictions must be finite numbers$/,
    );
    assert.throws(
      () => compareModels(r, { ...BASE, problemType: 'regression', metric: 'roc_auc', baseline: 'prod' }),
      (e: Error) => e instanceof InvalidOptionsError && /unknown metric 'roc_auc' for regression/.test(e.message),
    );
    assert.throws(
      () => compareModels(r, { ...BASE, problemType: 'regression', metric: 'mae', method: 'delong', baseline: 'prod' }),
      /method 'delong' does not apply to regression/,
    );
    assert.throws(
      () => compareModels(r, { ...BASE, metric: 'mae', baseline: 'prod' }),
      /^InvalidOptionsError: these are regression predictions; set problemType 'regression' \(the default is binaryClassification\)$/,
    );
    assert.throws(
      () => compareModels(preds, { ...BASE, metric: 'accuracy', baseline: 'prod' }),
      /these are multiclass predictions; set problemType 'multiclass'/,
    );
  });
});

describe('guardrails', () => {
  /** cand ranks better than prod; cand-cubed is the same ranking, badly calibrated (p³). */
  function calibration(): Predictions {
    const preds = binary(3000, 'calib');
    const cand = preds.columns[1].scores;
    preds.columns.push({ name: 'cubed', scores: Float64Array.from(cand, (p) => p * p * p) });
    return preds;
  }
  const O: CompareOptions = {
    metric: 'roc_auc',
    method: 'bootstrap',
    resamples: 300,
    seed: 3,
    winRate: 0.95,
    minDelta: 0.001,
    confidence: 0.95,
    baseline: 'prod',
  };

  it('an empty guardrail list changes nothing: byte-identical to the plain comparison', () => {
    const preds = binary(500, 'plain');
    assert.equal(JSON.stringify(compareModels(preds, { ...O, guardrails: [] })), JSON.stringify(compareModels(preds, O)));
  });

  it('a Brier-score guardrail blocks a candidate that ranks better but is badly calibrated, and the reason names it with its figures', () => {
    const preds = calibration();
    const plain = compareModels(preds, { ...O, candidates: ['cubed'] });
    assert.equal(plain.decision, 'promote');
    const d = compareModels(preds, { ...O, candidates: ['cubed'], guardrails: [{ metric: 'brier', maxWorsening: 0.002 }] });
    assert.equal(d.decision, 'keep');
    // The primary part of the decision is unchanged.
    assert.deepEqual(d.models, plain.models);
    const g = d.guardrails![0];
    assert.equal(g.metric, 'brier');
    assert.equal(g.candidate, 'cubed');
    assert.equal(g.passed, false);
    assert.equal(g.baselineEstimate, brierScore(preds.labels, preds.columns[0].scores));
    assert.equal(g.candidateEstimate, brierScore(preds.labels, preds.columns[2].scores));
    // The count is recomputed here from the guardrail's own resamples (the ROC AUC bootstrap's positions).
    const run = runResampling(prepareResampling(preds, 'binaryClassification', ['prod', 'cubed'], ['brier'], 'multinomial', 'roc_auc'), 3, 300);
    let exceeded = 0;
    for (let b = 0; b < 300; b++) if (run.stats[0][300 + b] - run.stats[0][b] > 0.002) exceeded++;
    assert.equal(g.exceeded, exceeded);
    assert.equal(g.exceedShare, exceeded / 300);
    assert.equal(g.allowedShare, 0.05);
    assert.ok(g.meanDelta < -0.002);
    assert.equal(
      d.reason,
      `Keep 'prod': the best candidate 'cubed' passes the ROC AUC gate but fails the guardrail on Brier score: it worsens by more than 0.0020 in ${(100 * g.exceedShare).toFixed(1)}% of 300 paired resamples (allowed: fewer than 5.0%; mean change \u2212${(-g.meanDelta).toFixed(4)}).`,
    );
  });

  it('a guardrail the candidate respects lets the promotion through (and so does DeLong as the primary method, the guardrail on the bootstrap)', () => {
    const preds = calibration();
    for (const method of ['bootstrap', 'delong'] as const) {
      const d = compareModels(preds, {
        ...O,
        method,
        candidates: ['cand'],
        guardrails: [
          { metric: 'brier', maxWorsening: 0.002 },
          { metric: 'log_loss', maxWorsening: 0.01 },
        ],
      });
      assert.equal(d.decision, 'promote', d.reason);
      assert.deepEqual(
        d.guardrails!.map((g) => [g.metric, g.passed, g.exceeded]),
        [
          ['brier', true, 0],
          ['log_loss', true, 0],
        ],
      );
      assert.match(d.reason, /^Promote 'cand'/);
    }
  });

  it('passes exactly when fewer than (1 − winRate) of the resamples exceed the allowance', () => {
    // The allowance set at the k-th largest worsening: k − 1 resamples exceed it.
    const preds = calibration();
    const run = runResampling(prepareResampling(preds, 'binaryClassification', ['prod', 'cubed'], ['brier'], 'multinomial', 'roc_auc'), 3, 300);
    const worse = Array.from({ length: 300 }, (_, b) => run.stats[0][300 + b] - run.stats[0][b]).sort((a, b) => b - a);
    // 15 of 300 = 5%: not fewer than 5%, fails; 14 passes.
    const at = (k: number) => compareModels(preds, { ...O, candidates: ['cubed'], guardrails: [{ metric: 'brier', maxWorsening: worse[k] }] }).guardrails![0];
    assert.deepEqual([at(15).exceeded, at(15).passed], [15, false]);
    assert.deepEqual([at(14).exceeded, at(14).passed], [14, true]);
  });

  it('regression: an MAE gate with an RMSE guardrail on the same resamples', () => {
    // cand is better on most rows but makes rare large errors: MAE improves, RMSE worsens.
    const preds = regression(1500, 'reg-guard', { prod: 1.5, cand: 0.5 });
    const rng = seedrandom('spikes');
    for (let i = 0; i < 1500; i++) if (rng() < 0.02) preds.columns[1].scores[i] += 20;
    const o: CompareOptions<AnyMetric> = { ...BASE, problemType: 'regression', metric: 'mae', baseline: 'prod' };
    assert.equal(compareModels(preds, o).decision, 'promote');
    const d = compareModels(preds, { ...o, guardrails: [{ metric: 'rmse', maxWorsening: 0.05 }] });
    assert.equal(d.decision, 'keep');
    assert.equal(d.guardrails![0].exceeded, 200);
    // RMSE is written by magnitude (format.ts decimalsFor): a mean change above 1 gives the sentence's differences 3 decimals.
    assert.match(
      d.reason,
      /fails the guardrail on RMSE: it worsens by more than 0\.050 in 100\.0% of 200 paired resamples \(allowed: fewer than 5\.0%; mean change \u22121\.\d{3}\)/,
    );
    // The guardrail's deltas are those of an RMSE comparison on the same seed (one run, same resamples).
    const asPrimary = compareModels(preds, { ...o, metric: 'rmse' });
    assert.equal(d.guardrails![0].meanDelta, asPrimary.models[1].vsBaseline!.meanDelta);
    assert.deepEqual(d.guardrails![0].deltaCi, asPrimary.models[1].vsBaseline!.deltaCi);
  });

  it('rejects unknown guardrail metrics, negative allowances and duplicates', () => {
    const preds = binary(100, 'opts');
    assert.throws(
      () => compareModels(preds, { ...O, guardrails: [{ metric: 'rmse' as never, maxWorsening: 1 }] }),
      /unknown guardrail metric 'rmse' for binaryClassification/,
    );
    assert.throws(() => compareModels(preds, { ...O, guardrails: [{ metric: 'brier', maxWorsening: -1 }] }), /needs a finite maxWorsening >= 0, got -1/);
    assert.throws(
      () =>
        compareModels(preds, {
          ...O,
          guardrails: [
            { metric: 'brier', maxWorsening: 1 },
            { metric: 'brier', maxWorsening: 2 },
          ],
        }),
      /listed twice/,
    );
    assert.throws(() => compareModels(preds, { ...O, winRate: 1, guardrails: [{ metric: 'brier', maxWorsening: 1 }] }), /guardrails need a winRate below 1/);
  });
});

describe('slices', () => {
  /** Regression where cand is better overall but much worse on the 'north' slice. */
  function sliced(): RegressionPredictions & { codes: Uint32Array } {
    const n = 6000;
    const preds = regression(n, 'slices', { prod: 1, cand: 0.6 });
    const rng = seedrandom.xor4096('slice-codes');
    const g = gaussian(rng);
    const codes = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      // north 1,200 rows, south 4,000, east 800 (below minSliceRows 1,000: not judged).
      codes[i] = i < 1200 ? 0 : i < 5200 ? 1 : 2;
      if (codes[i] === 0) preds.columns[1].scores[i] = preds.target[i] + 1.6 * g();
    }
    return { ...preds, codes };
  }
  const names = ['north', 'south', 'east'];

  it('a slice where the candidate is worse blocks the promotion; a small slice is listed as not judged', () => {
    const p = sliced();
    const o: CompareOptions<AnyMetric> = { ...BASE, problemType: 'regression', metric: 'rmse', baseline: 'prod' };
    const plain = compareModels(p, o);
    assert.equal(plain.decision, 'promote');
    const d = compareModels(p, { ...o, slices: [{ column: 'region', codes: p.codes, names }] });
    assert.equal(d.decision, 'keep');
    const r = d.slices![0];
    assert.deepEqual(
      [r.column, r.candidate, r.minRows, r.tolerance, r.maxJudged, r.capped, r.judged, r.passed],
      ['region', 'cand', 1000, 0, 50, false, 2, false],
    );
    assert.deepEqual(
      r.slices.map((s) => [s.name, s.rows, s.judged, s.passed]),
      [
        ['north', 1200, true, false],
        ['south', 4000, true, true],
        ['east', 800, false, undefined],
      ],
    );
    assert.equal(r.slices[2].note, 'fewer than 1,000 rows');
    const north = r.slices[0];
    assert.equal(north.worseShare, 1);
    assert.ok(north.meanDelta! < 0 && north.deltaCi![1] < 0);
    // The slice's comparison is the paired bootstrap of its own rows, seed '<seed>:slice:<column>:<name>'.
    const rows = Uint32Array.from({ length: 1200 }, (_, i) => i);
    const sub: RegressionPredictions = {
      n: 1200,
      target: p.target.slice(0, 1200),
      columns: p.columns.map((c) => ({ name: c.name, scores: c.scores.slice(0, 1200) })),
    };
    const alone = compareModels(sub, { ...o, seed: '11:slice:region:north' });
    assert.equal(north.meanDelta, alone.models[1].vsBaseline!.meanDelta);
    assert.equal(north.baselineEstimate, rmse(sub.target, sub.columns[0].scores));
    assert.equal(rows.length, 1200);
    assert.equal(
      d.reason,
      `Keep 'prod': the best candidate 'cand' passes the RMSE gate but fails on slice 'north' of 'region' (1,200 rows): its RMSE worsens by more than 0.0000 in 100.0% of that slice's 200 resamples (limit 95.0%; mean change \u2212${(-north.meanDelta!).toFixed(4)}).`,
    );
    // A tolerance above the slice's worsening lets it through.
    const lenient = compareModels(p, { ...o, slices: [{ column: 'region', codes: p.codes, names }], sliceTolerance: 5 });
    assert.equal(lenient.decision, 'promote');
    assert.equal(lenient.slices![0].passed, true);
  });

  it('two slice columns are judged separately: only the second blocks, and the reason names it', () => {
    const p = sliced();
    const o: CompareOptions<AnyMetric> = { ...BASE, problemType: 'regression', metric: 'rmse', baseline: 'prod' };
    // 'tier' alternates rows, so each of its two slices mixes north with the rest and the candidate wins in both;
    // 'region' holds the north slice where the candidate is worse.
    const tier = Uint32Array.from({ length: p.n }, (_, i) => i % 2);
    const tierOnly = compareModels(p, { ...o, slices: [{ column: 'tier', codes: tier, names: ['even', 'odd'] }] });
    assert.equal(tierOnly.decision, 'promote');
    const d = compareModels(p, {
      ...o,
      slices: [
        { column: 'tier', codes: tier, names: ['even', 'odd'] },
        { column: 'region', codes: p.codes, names },
      ],
    });
    assert.equal(d.decision, 'keep');
    assert.deepEqual(
      d.slices!.map((r) => [r.column, r.judged, r.passed, r.capped]),
      [
        ['tier', 2, true, false],
        ['region', 2, false, false],
      ],
    );
    assert.deepEqual(d.slices![0].slices.map((s) => [s.name, s.rows, s.judged, s.passed]).sort(), [
      ['even', 3000, true, true],
      ['odd', 3000, true, true],
    ]);
    // Each column's report equals the report of that column alone: columns do not share resamples or verdicts.
    const regionOnly = compareModels(p, { ...o, slices: [{ column: 'region', codes: p.codes, names }] });
    assert.deepEqual(d.slices![1], regionOnly.slices![0]);
    assert.equal(d.reason, regionOnly.reason);
    assert.match(d.reason, /^Keep 'prod': the best candidate 'cand' passes the RMSE gate but fails on slice 'north' of 'region' \(1,200 rows\)/);
    assert.doesNotMatch(d.reason, /tier/);
    // The seed of a slice includes its column: the same slice name in another column gets other resamples.
    const renamed = compareModels(p, { ...o, slices: [{ column: 'area', codes: p.codes, names }] });
    assert.notEqual(renamed.slices![0].slices[0].meanDelta, regionOnly.slices![0].slices[0].meanDelta);
    const sub: RegressionPredictions = {
      n: 1200,
      target: p.target.slice(0, 1200),
      columns: p.columns.map((c) => ({ name: c.name, scores: c.scores.slice(0, 1200) })),
    };
    assert.equal(renamed.slices![0].slices[0].meanDelta, compareModels(sub, { ...o, seed: '11:slice:area:north' }).models[1].vsBaseline!.meanDelta);
  });

  it('an empty list of slice columns is the plain comparison, byte for byte; a column listed twice is refused', () => {
    const p = sliced();
    const o: CompareOptions<AnyMetric> = { ...BASE, problemType: 'regression', metric: 'rmse', baseline: 'prod' };
    assert.equal(JSON.stringify(compareModels(p, { ...o, slices: [] })), JSON.stringify(compareModels(p, o)));
    assert.throws(
      () =>
        compareModels(p, {
          ...o,
          slices: [
            { column: 'region', codes: p.codes, names },
            { column: 'region', codes: p.codes, names },
          ],
        }),
      (e: unknown) => e instanceof InvalidOptionsError && e.message === "the slice column 'region' is listed twice",
    );
    const bad = p.codes.slice(0, 10);
    assert.throws(
      () =>
        compareModels(p, {
          ...o,
          slices: [
            { column: 'region', codes: p.codes, names },
            { column: 'tier', codes: bad, names: ['a'] },
          ],
        }),
      (e: unknown) => e instanceof PredictionsError && e.message === "the slice column 'tier' has 10 rows but the label column has 6000",
    );
  });

  it('judges the 50 largest slices at most and says so when capped', () => {
    const preds = multiclass(56 * 40, 3, 'cap', { prod: 1, cand: 1.4 });
    const names56 = Array.from({ length: 56 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    // Slice i has 40 rows, except s55 which has 20 (below minSliceRows 30) and s00 which takes them.
    const codes = Uint32Array.from({ length: 56 * 40 }, (_, i) => (i >= 55 * 40 + 20 ? 0 : Math.floor(i / 40)));
    const d = compareModels(preds, {
      ...BASE,
      resamples: 20,
      problemType: 'multiclass',
      metric: 'accuracy',
      baseline: 'prod',
      slices: [{ column: 'seg', codes, names: names56 }],
      minSliceRows: 30,
    });
    const r = d.slices![0];
    assert.equal(r.capped, true);
    assert.equal(r.judged + r.slices.filter((s) => !s.judged && s.note?.startsWith('cannot')).length, 50);
    const notJudged = r.slices.filter((s) => !s.judged);
    assert.deepEqual(
      notJudged.filter((s) => s.note === 'beyond the 50 largest slices (the cap on judged slices)').map((s) => s.name),
      ['s50', 's51', 's52', 's53', 's54'],
    );
    assert.deepEqual(
      notJudged.filter((s) => s.note === 'fewer than 30 rows').map((s) => [s.name, s.rows]),
      [['s55', 20]],
    );
    // The largest slice (s00, 60 rows) is among the judged ones.
    assert.ok(r.slices.find((s) => s.name === 's00')!.rows === 60);
  });

  it('rejects a slice column that is a model, codes beyond the names and duplicate names', () => {
    const p = sliced();
    const o: CompareOptions<AnyMetric> = { ...BASE, problemType: 'regression', metric: 'rmse', baseline: 'prod' };
    assert.throws(() => compareModels(p, { ...o, slices: [{ column: 'cand', codes: p.codes, names }] }), /slice column 'cand' is also a model column/);
    const bad = p.codes.slice();
    bad[17] = 3;
    assert.throws(
      () => compareModels(p, { ...o, slices: [{ column: 'region', codes: bad, names }] }),
      /the slice column 'region' has the code 3 at row 17, but only 3 slice names/,
    );
    assert.throws(() => compareModels(p, { ...o, slices: [{ column: 'region', codes: p.codes, names: ['a', 'a', 'b'] }] }), /names the slice 'a' twice/);
  });
});
