import assert from 'node:assert/strict';
import {
  delongComponents,
  delongCovariance,
  delongDifference,
  delongDifferenceFromSums,
  delongResultFromSums,
  delongSumsOf,
  type DelongSums,
  type ScoreArray,
} from '../../src/engine';
import { simulateModels } from './simulate';

/** The integer components by their definition, O(P·N): 2·(opposite class on the losing side) + ties. */
function naiveComponents(labels: Uint8Array, s: ArrayLike<number>): number[] {
  const n = labels.length;
  return Array.from({ length: n }, (_, i) => {
    let c = 0;
    for (let j = 0; j < n; j++) {
      if (labels[j] === labels[i]) continue;
      if (s[i] === s[j]) c += 1;
      else if (labels[i] === 1 ? s[j] < s[i] : s[j] > s[i]) c += 2;
    }
    return c;
  });
}

/** Every pair's local DeLong and the finisher's, identical; AUCs and exact sums identical; covariances to rounding. */
function assertSame(labels: Uint8Array, models: ScoreArray[]): DelongSums {
  const local = delongCovariance(labels, models);
  const sums = delongSumsOf(labels, models);
  const fromSums = delongResultFromSums(sums);
  assert.deepEqual(fromSums.auc, local.auc);
  assert.deepEqual(fromSums.u2, local.u2);
  assert.deepEqual(fromSums.diffSquares, local.diffSquares);
  for (let a = 0; a < models.length; a++) {
    for (let b = 0; b < models.length; b++) {
      assert.deepEqual(delongDifferenceFromSums(sums, a, b), delongDifference(local, a, b), `pair ${a}, ${b}`);
      // The same through the decimal strings a Spark run returns.
      const text = JSON.parse(JSON.stringify(sums, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as DelongSums;
      assert.deepEqual(delongDifferenceFromSums(text, a, b), delongDifference(local, a, b));
      const c = local.cov[a][b];
      assert.ok(Math.abs(fromSums.cov[a][b] - c) <= 1e-12 * Math.max(Math.abs(c), 1e-300) + 1e-300, `cov ${a}, ${b}: ${fromSums.cov[a][b]} vs ${c}`);
    }
  }
  return sums;
}

describe("DeLong from integer sums (the Spark path's finisher)", () => {
  it('the components are the definition: 2·(opposite class below / above) + ties, on ties-heavy data', () => {
    const { labels, scores } = simulateModels({ n: 300, aucs: [0.7, 0.75], rho: 0.5, prevalence: 0.3, seed: 'comp', roundTo: 1 });
    let P = 0;
    for (const y of labels) P += y;
    for (const s of scores) assert.deepEqual(Array.from(delongComponents(labels, s, P)), naiveComponents(labels, s));
  });

  it('identical to the local DeLong on continuous scores, 3 models', () => {
    const { labels, scores } = simulateModels({ n: 5000, aucs: [0.7, 0.72, 0.8], rho: 0.6, prevalence: 0.2, seed: 'cont' });
    const sums = assertSame(labels, scores);
    assert.equal(sums.positiveSums.length, 3);
  });

  it('identical on ties only (scores in {0, 0.5, 1}) and with float32 scores', () => {
    const { labels, scores } = simulateModels({ n: 4000, aucs: [0.65, 0.7], rho: 0.3, prevalence: 0.4, seed: 'ties' });
    const tied = scores.map((s) => Float64Array.from(s, (x) => (x < -0.5 ? 0 : x < 0.7 ? 0.5 : 1)));
    assertSame(labels, tied);
    assertSame(
      labels,
      scores.map((s) => Float32Array.from(s)),
    );
    // A model that ties everything: AUC 0.5, and its difference with itself is 0 with variance 0.
    assertSame(labels, [tied[0], new Float64Array(labels.length).fill(0.3)]);
  });

  it('identical with one positive (undetermined), with two positives, and with one negative', () => {
    const { labels, scores } = simulateModels({ n: 200, aucs: [0.7, 0.75], rho: 0.5, prevalence: 0.3, seed: 'few' });
    for (const positives of [1, 2]) {
      const l = new Uint8Array(labels.length);
      for (let i = 0; i < positives; i++) l[10 * i + 3] = 1;
      assertSame(l, scores);
      const d = delongDifferenceFromSums(delongSumsOf(l, scores), 1, 0);
      assert.equal(d.undetermined !== undefined, positives === 1);
    }
    const oneNegative = new Uint8Array(labels.length).fill(1);
    oneNegative[7] = 0;
    assertSame(oneNegative, scores);
  });

  it('identical for near-identical models (one score changed): the variance is the exact tiny value, not rounding noise', () => {
    const { labels, scores } = simulateModels({ n: 20_000, aucs: [0.8, 0.8], rho: 0.9, prevalence: 0.3, seed: 'near' });
    const copy = Float64Array.from(scores[0]);
    const i = labels.indexOf(1);
    copy[i] += 0.05;
    assertSame(labels, [scores[0], copy]);
    const d = delongDifferenceFromSums(delongSumsOf(labels, [scores[0], copy]), 1, 0);
    assert.ok(d.variance! > 0 && d.variance! < 1e-12, String(d.variance));
  });

  it('refuses sums that cannot come from one data set: A ≠ B, wrong shapes, non-integers', () => {
    const { labels, scores } = simulateModels({ n: 100, aucs: [0.7, 0.75], rho: 0.5, prevalence: 0.3, seed: 'bad' });
    const sums = delongSumsOf(labels, scores);
    assert.throws(
      () => delongDifferenceFromSums({ ...sums, negativeSums: [sums.negativeSums[0], 1n] }, 1, 0),
      /model 1's positive and negative component sums differ/,
    );
    assert.throws(() => delongDifferenceFromSums({ ...sums, positiveProducts: [1n] }, 1, 0), /2 models need 2 sums per class and 4 product slots per class/);
    assert.throws(
      () => delongDifferenceFromSums({ ...sums, positiveSums: ['12.5', sums.positiveSums[1]] }, 1, 0),
      /positiveSums\[0\] must be a non-negative integer, got 12.5/,
    );
    assert.throws(() => delongDifferenceFromSums({ ...sums, positives: 0 }, 1, 0), /DeLong needs both classes/);
  });
});
