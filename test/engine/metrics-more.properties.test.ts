/**
 * Regression and multiclass metrics: worked examples with exact values (degenerate cases as scikit-learn
 * 1.2.1 defines them) and properties (weights = repetition, numpy's summation order).
 */
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import {
  MAPE_EPS,
  accuracy,
  argmaxRows,
  compareModels,
  f1Macro,
  logLossMulticlass,
  mae,
  mape,
  pairwiseSum,
  r2,
  rmse,
  rocAucOvr,
  rocAucOvrWeighted,
  type Predictions,
} from '../../src/engine';
import { simulateModels } from './simulate';

describe('regression and multiclass metrics: worked examples', () => {
  it('rmse, mae, r2 and mape of two rows', () => {
    assert.equal(rmse([1, 3], [1.5, 2]), Math.sqrt(0.625));
    assert.equal(mae([1, 3], [1.5, 2]), 0.75);
    assert.equal(r2([1, 3], [1.5, 2]), 1 - 1.25 / 2);
    assert.equal(mape([1, 3], [1.5, 2]), (0.5 + 1 / 3) / 2);
  });

  it("r2 with a constant label is scikit-learn 1.2's force_finite value: 1 for a perfect prediction, else 0; fewer than 2 rows throws", () => {
    assert.equal(r2([2, 2, 2], [2, 2, 2]), 1);
    assert.equal(r2([2, 2, 2], [1, 2, 3]), 0);
    assert.equal(r2([1, 2, 3], [1, 2, 3]), 1);
    assert.throws(() => r2([1], [1]), /fewer than two rows/);
  });

  it('mape divides by max(|y|, 2^-52): a zero label gives a very large, finite error', () => {
    assert.equal(MAPE_EPS, 2 ** -52);
    assert.equal(mape([0, 1], [1, 1]), 2 ** 52 / 2);
    assert.equal(mape([0, 1], [1, 1], [0, 5]), 0);
  });

  it('argmax ties go to the lowest class index', () => {
    assert.deepEqual(Array.from(argmaxRows([0.4, 0.4, 0.2, 0.3, 0.3, 0.4, 1 / 3, 1 / 3, 1 / 3], 3, 3)), [0, 2, 0]);
  });

  it('f1_macro: a class never predicted counts with F = 0; a class absent from labels and predictions is left out', () => {
    // Labels 0, 1, 2; every row predicted 0: F = (0.5 + 0 + 0) / 3, as f1_score([0,1,2], [0,0,0], average="macro").
    const allZero = [0.9, 0.05, 0.05, 0.8, 0.1, 0.1, 0.7, 0.2, 0.1];
    assert.equal(f1Macro([0, 1, 2], allZero, 3), 0.5 / 3);
    // Class 2 in neither: the mean over classes 0 and 1 (both F = 2/3).
    const p = [0.9, 0.05, 0.05, 0.1, 0.8, 0.1, 0.2, 0.7, 0.1];
    assert.equal(f1Macro([0, 0, 1], p, 3), 2 / 3);
    // A weight of 0 removes a row, and with it a class that appears only there.
    assert.equal(f1Macro([0, 0, 1, 2], [...p, 0, 0.1, 0.9], 3, [1, 1, 1, 0]), 2 / 3);
  });

  it('accuracy is exact: weighted right over weighted total', () => {
    assert.equal(accuracy([0, 1, 2], [0.9, 0.05, 0.05, 0.8, 0.1, 0.1, 0.1, 0.2, 0.7], 3, [3, 4, 5]), 8 / 12);
  });

  it('roc_auc_ovr and its weighted form on three rows', () => {
    const p = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.2, 0.3, 0.5];
    assert.equal(rocAucOvr([0, 1, 2], p, 3), 1);
    assert.equal(rocAucOvrWeighted([0, 1, 2], p, 3), 1);
    // Class 0 vs rest with scores 0.4 (pos), 0.5, 0.1: AUC 0.5; classes 1 and 2 perfect.
    const q = [0.4, 0.3, 0.3, 0.5, 0.4, 0.1, 0.1, 0.1, 0.8];
    assert.equal(rocAucOvr([0, 1, 2], q, 3), 2.5 / 3);
    assert.equal(rocAucOvrWeighted([0, 1, 2], q, 3, [2, 1, 1]), (0.5 * 2 + 1 + 1) / 4);
    assert.throws(() => rocAucOvr([0, 1, 1], q, 3), /only one class present/);
  });

  it("pairwiseSum is numpy's order: plain below 8 terms, 8 partial sums up to 128, halves above", () => {
    assert.equal(pairwiseSum([0.1, 0.2, 0.3]), 0.1 + 0.2 + 0.3);
    const a = Array.from({ length: 9 }, (_, i) => 0.1 * (i + 1));
    assert.equal(pairwiseSum(a), a[0] + a[1] + (a[2] + a[3]) + (a[4] + a[5] + (a[6] + a[7])) + a[8]);
    const big = Array.from({ length: 300 }, (_, i) => 1 / (i + 1));
    assert.equal(pairwiseSum(big), pairwiseSum(big, 0, 144) + pairwiseSum(big, 144, 156));
    // The sequential sum of these 300 terms is another double: the order matters.
    assert.notEqual(
      pairwiseSum(big),
      big.reduce((x, y) => x + y, 0),
    );
  });
});

describe('regression and multiclass metrics: properties', () => {
  it('integer weights are repetitions, for every metric (within 1e-12)', () => {
    const rng = seedrandom('rep');
    for (let t = 0; t < 20; t++) {
      const n = 5 + Math.floor(rng() * 40);
      const y = Array.from({ length: n }, () => Math.round(rng() * 20) / 4 - 1);
      const p = y.map((v) => v + rng() - 0.5);
      const w = Array.from({ length: n }, (_, i) => (i < 2 ? 1 : Math.floor(rng() * 4)));
      const ex: number[] = [];
      w.forEach((k, i) => {
        for (let j = 0; j < k; j++) ex.push(i);
      });
      if (new Set(ex.map((i) => y[i])).size < 2) continue;
      for (const f of [rmse, mae, r2, mape]) {
        const a = f(y, p, w);
        const b = f(
          ex.map((i) => y[i]),
          ex.map((i) => p[i]),
        );
        assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${f.name}: ${a} vs ${b}`);
      }
      const K = 3;
      const labels = Array.from({ length: n }, (_, i) => (i < K ? i : Math.floor(rng() * K)));
      const w3 = w.map((k, i) => (i < K ? 1 : k));
      const proba: number[] = [];
      for (let i = 0; i < n; i++) {
        const e = [0, 1, 2].map((k) => Math.exp(Math.round(((k === labels[i] ? 1 : 0) + rng()) * 4) / 4));
        const s = e[0] + e[1] + e[2];
        proba.push(...e.map((x) => x / s));
      }
      const rows: number[] = [];
      w3.forEach((k, i) => {
        for (let j = 0; j < k; j++) rows.push(i);
      });
      const exLabels = rows.map((i) => labels[i]);
      const exProba = rows.flatMap((i) => proba.slice(i * K, i * K + K));
      for (const f of [logLossMulticlass, rocAucOvr, rocAucOvrWeighted, accuracy, f1Macro]) {
        const a = f(labels, proba, K, w3);
        const b = f(exLabels, exProba, K);
        assert.ok(Math.abs(a - b) <= 1e-12, `${f.name}: ${a} vs ${b}`);
      }
    }
  });

  it('input order does not change the value of any metric beyond rounding', () => {
    const y = [3, 1, 4, 1, 5, 9, 2, 6];
    const p = [2.5, 1.5, 4, 0.5, 6, 8, 2, 7];
    const perm = [7, 2, 5, 0, 3, 6, 1, 4];
    for (const f of [rmse, mae, r2, mape]) {
      assert.ok(
        Math.abs(
          f(y, p) -
            f(
              perm.map((i) => y[i]),
              perm.map((i) => p[i]),
            ),
        ) <= 1e-15,
        f.name,
      );
    }
  });
});

describe('slices on a binary comparison', () => {
  it('a slice where the candidate ranks worse blocks a promotion earned overall; DeLong as primary method too', () => {
    const a = simulateModels({ n: 3000, aucs: [0.7, 0.85], rho: 0.5, prevalence: 0.3, seed: 'slice-a' });
    const b = simulateModels({ n: 1500, aucs: [0.75, 0.6], rho: 0.5, prevalence: 0.3, seed: 'slice-b' });
    const cat = (x: Float64Array, y: Float64Array): Float64Array => {
      const out = new Float64Array(x.length + y.length);
      out.set(x);
      out.set(y, x.length);
      return out;
    };
    const labels = new Uint8Array(4500);
    labels.set(a.labels);
    labels.set(b.labels, 3000);
    const preds: Predictions = {
      n: 4500,
      labels,
      columns: [
        { name: 'prod', scores: cat(a.scores[0], b.scores[0]) },
        { name: 'cand', scores: cat(a.scores[1], b.scores[1]) },
      ],
    };
    const codes = Uint32Array.from({ length: 4500 }, (_, i) => (i < 3000 ? 1 : 0));
    for (const method of ['bootstrap', 'delong'] as const) {
      const o = { metric: 'roc_auc', method, resamples: 200, seed: 5, winRate: 0.95, minDelta: 0.001, confidence: 0.95, baseline: 'prod' } as const;
      assert.equal(compareModels(preds, o).decision, 'promote');
      const d = compareModels(preds, { ...o, slices: [{ column: 'segment', codes, names: ['small-business', 'consumer'] }] });
      assert.equal(d.decision, 'keep');
      assert.deepEqual(
        d.slices![0].slices.map((s) => [s.name, s.rows, s.judged, s.passed]),
        [
          ['small-business', 1500, true, false],
          ['consumer', 3000, true, true],
        ],
      );
      assert.match(
        d.reason,
        /^Keep 'prod': the best candidate 'cand' passes the ROC AUC gate but fails on slice 'small-business' of 'segment' \(1,500 rows\): its ROC AUC worsens by more than 0\.0000 in 100\.0% of that slice's 200 resamples \(limit 95\.0%; mean change \u2212\d\.\d{4}\)\.$/,
      );
    }
  });
});
