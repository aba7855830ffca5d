import assert from 'node:assert/strict';
import {
  compareModels,
  delongCovariance,
  delongDifference,
  prepareBootstrap,
  rocAuc,
  runBootstrap,
  type CompareOptions,
  type Predictions,
} from '../../src/engine';
import { simulatePair } from './simulate';

/**
 * DeLong et al. (1988) by the definition, O(P·N): ψ over every (positive, negative) pair, then the
 * sample covariances of the structural components V10 (per positive) and V01 (per negative).
 */
function naiveDelong(labels: Uint8Array, models: Float64Array[]): { auc: number[]; cov: number[][] } {
  const pos = [...labels.keys()].filter((i) => labels[i] === 1);
  const neg = [...labels.keys()].filter((i) => labels[i] === 0);
  const psi = (x: number, y: number): number => (x > y ? 1 : x === y ? 0.5 : 0);
  const v10 = models.map((s) => pos.map((i) => neg.reduce((acc, j) => acc + psi(s[i], s[j]), 0) / neg.length));
  const v01 = models.map((s) => neg.map((j) => pos.reduce((acc, i) => acc + psi(s[i], s[j]), 0) / pos.length));
  const auc = v10.map((v) => v.reduce((a, b) => a + b, 0) / pos.length);
  const cov = models.map((_, a) =>
    models.map((__, b) => {
      let s10 = 0;
      for (let k = 0; k < pos.length; k++) s10 += (v10[a][k] - auc[a]) * (v10[b][k] - auc[b]);
      let s01 = 0;
      for (let k = 0; k < neg.length; k++) s01 += (v01[a][k] - auc[a]) * (v01[b][k] - auc[b]);
      return s10 / (pos.length - 1) / pos.length + s01 / (neg.length - 1) / neg.length;
    }),
  );
  return { auc, cov };
}

describe("DeLong's test (fast algorithm of Sun & Xu 2014)", () => {
  for (const roundTo of [undefined, 1]) {
    it(`delongCovariance equals the O(P·N) definition${roundTo === undefined ? '' : ' with heavy ties (1 decimal)'}, three models`, () => {
      const sim = simulatePair({ n: 301, auc: [0.7, 0.8], rho: 0.4, prevalence: 0.35, seed: `delong-${roundTo}`, roundTo });
      const third = sim.a.map((x, i) => x - sim.b[i] * 0.3);
      const models = [sim.a, sim.b, third];
      const fast = delongCovariance(sim.labels, models);
      const slow = naiveDelong(sim.labels, models);
      for (let a = 0; a < 3; a++) {
        assert.equal(fast.auc[a], rocAuc(sim.labels, models[a]));
        assert.ok(Math.abs(fast.auc[a] - slow.auc[a]) < 1e-14);
        for (let b = 0; b < 3; b++) assert.ok(Math.abs(fast.cov[a][b] - slow.cov[a][b]) < 1e-16, `cov[${a}][${b}] ${fast.cov[a][b]} vs ${slow.cov[a][b]}`);
      }
    });
  }

  for (const roundTo of [undefined, 1]) {
    for (const type of ['float64', 'float32'] as const) {
      it(`two models (components carried through the second sort) equal the definition and, bit for bit, the general path${roundTo === undefined ? '' : ', heavy ties'}, ${type}`, () => {
        const sim = simulatePair({ n: 257, auc: [0.72, 0.78], rho: 0.5, prevalence: 0.4, seed: `delong2-${roundTo}-${type}`, roundTo });
        const third = sim.a.map((x, i) => x + sim.b[i]);
        const cols = [sim.a, sim.b, third].map((c) => (type === 'float32' ? new Float32Array(c) : c));
        const pair = delongCovariance(sim.labels, [cols[0], cols[1]]);
        const general = delongCovariance(sim.labels, cols);
        const slow = naiveDelong(sim.labels, [Float64Array.from(cols[0]), Float64Array.from(cols[1])]);
        for (let a = 0; a < 2; a++) {
          assert.equal(pair.auc[a], general.auc[a]);
          assert.ok(Math.abs(pair.auc[a] - slow.auc[a]) < 1e-14);
          for (let b = 0; b < 2; b++) {
            assert.equal(pair.cov[a][b], general.cov[a][b], `cov[${a}][${b}]`);
            assert.ok(Math.abs(pair.cov[a][b] - slow.cov[a][b]) < 1e-16, `cov[${a}][${b}] ${pair.cov[a][b]} vs ${slow.cov[a][b]}`);
          }
        }
      });
    }
  }

  it('delongDifference gives delta, variance, z and a two-sided p-value', () => {
    const sim = simulatePair({ n: 2000, auc: [0.75, 0.8], rho: 0.5, prevalence: 0.3, seed: 'delong-diff' });
    const d = delongCovariance(sim.labels, [sim.a, sim.b]);
    const diff = delongDifference(d, 1, 0);
    // Exact sums; well-conditioned data, so the covariance formula agrees to rounding.
    assert.equal(diff.delta, (d.u2[1] - d.u2[0]) / (2 * d.positives * d.negatives));
    assert.ok(Math.abs(diff.delta - (d.auc[1] - d.auc[0])) < 1e-15);
    assert.ok(Math.abs(diff.variance! / (d.cov[0][0] + d.cov[1][1] - 2 * d.cov[0][1]) - 1) < 1e-10);
    assert.equal(diff.z, diff.delta / Math.sqrt(diff.variance!));
    assert.ok(diff.pValue! > 0 && diff.pValue! < 0.05, `p = ${diff.pValue}`);
    const reverse = delongDifference(d, 0, 1);
    assert.equal(reverse.pValue, diff.pValue);
    assert.equal(reverse.z, -diff.z!);
  });

  it('identical models: variance 0, no z, p-value 1, win rate 0 (a tie is not a win), and production is kept', () => {
    const sim = simulatePair({ n: 200, auc: [0.75, 0.75], rho: 0.5, prevalence: 0.3, seed: 'same' });
    const preds: Predictions = {
      n: sim.n,
      labels: sim.labels,
      columns: [
        { name: 'prod', scores: sim.a },
        { name: 'cand', scores: Float64Array.from(sim.a) },
      ],
    };
    const dec = compareModels(preds, {
      baseline: 'prod',
      metric: 'roc_auc',
      method: 'delong',
      resamples: 1,
      seed: 0,
      winRate: 0.9,
      minDelta: 0,
      confidence: 0.95,
    });
    const vs = dec.models[1].vsBaseline!;
    assert.equal(vs.variance, 0);
    assert.equal(vs.z, undefined);
    assert.equal(vs.pValue, 1);
    assert.equal(vs.winRate, 0);
    assert.equal(vs.meanDelta, 0);
    assert.equal(dec.decision, 'keep');
    assert.equal(dec.best, 'cand');
    assert.equal(dec.reason, "Keep 'prod': the best candidate 'cand' is indistinguishable from it by DeLong's test (AUC difference 0 with variance 0).");
  });

  it('bootstrap and DeLong agree on the variance of the AUC difference within 10% at n = 10,000 (B = 2,000)', function () {
    // Tolerance: the bootstrap variance from B resamples has a relative standard error of about
    // √(2 / B) ≈ 3.2%, so 10% is about three standard errors.
    this.timeout(120000);
    const sim = simulatePair({ n: 10000, auc: [0.75, 0.77], rho: 0.6, prevalence: 0.3, seed: 'variance' });
    const preds: Predictions = {
      n: sim.n,
      labels: sim.labels,
      columns: [
        { name: 'prod', scores: sim.a },
        { name: 'cand', scores: sim.b },
      ],
    };
    const B = 2000;
    const run = runBootstrap(prepareBootstrap(preds, ['prod', 'cand'], 'roc_auc', 'multinomial'), 'variance', B);
    let s = 0;
    let s2 = 0;
    for (let b = 0; b < B; b++) {
      const d = run.stats[B + b] - run.stats[b];
      s += d;
      s2 += d * d;
    }
    const bootVar = (s2 - (s * s) / B) / (B - 1);
    const delongVar = delongDifference(delongCovariance(sim.labels, [sim.a, sim.b]), 1, 0).variance!;
    const ratio = bootVar / delongVar;
    assert.ok(Math.abs(ratio - 1) < 0.1, `bootstrap ${bootVar} vs DeLong ${delongVar} (ratio ${ratio})`);
  });

  it("compareModels(method 'delong') reports AUCs, normal intervals and the test against the baseline", () => {
    const sim = simulatePair({ n: 3000, auc: [0.72, 0.78], rho: 0.5, prevalence: 0.3, seed: 'delong-decision' });
    const preds: Predictions = {
      n: sim.n,
      labels: sim.labels,
      columns: [
        { name: 'prod', scores: sim.a },
        { name: 'cand', scores: sim.b },
      ],
    };
    const opts: CompareOptions = {
      baseline: 'prod',
      metric: 'roc_auc',
      method: 'delong',
      resamples: 1000,
      seed: 1,
      winRate: 0.9,
      minDelta: 0,
      confidence: 0.95,
    };
    const dec = compareModels(preds, opts);
    assert.equal(dec.method, 'delong');
    assert.equal(dec.resamples, 0);
    assert.equal(dec.distributions, undefined);
    assert.equal(dec.models[0].estimate, rocAuc(sim.labels, sim.a));
    const vs = dec.models[1].vsBaseline!;
    const diff = delongDifference(delongCovariance(sim.labels, [sim.a, sim.b]), 1, 0);
    assert.equal(vs.meanDelta, diff.delta);
    assert.equal(vs.pValue, diff.pValue);
    const half = 1.959963984540054 * Math.sqrt(diff.variance!);
    assert.ok(Math.abs(vs.deltaCi[0] - (diff.delta - half)) < 1e-15 && Math.abs(vs.deltaCi[1] - (diff.delta + half)) < 1e-15);
    assert.equal(dec.decision, 'promote');
    assert.match(dec.reason, /DeLong/);
  });
});

/**
 * Near-identical models: the baseline, and the same scores with k (positive, negative) pairs that are
 * adjacent in the baseline's ranking swapped so the positive moves above the negative. Labels alternate
 * (balanced classes); scores are sigmoid(label + N(0, 1)), all distinct.
 */
function nearIdentical(n: number, pairs: number, seed: string): { labels: Uint8Array; base: Float64Array; cand: Float64Array } {
  const sim = simulatePair({ n, auc: [0.76, 0.76], rho: 0, prevalence: 0.5, seed });
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 2;
  const base = Float64Array.from(sim.a, (x, i) => 1 / (1 + Math.exp(-(labels[i] + x))));
  const order = [...base.keys()].sort((a, b) => base[a] - base[b]);
  const cand = Float64Array.from(base);
  const step = Math.floor(n / (pairs + 1));
  let done = 0;
  for (let k = step; k < n - 1 && done < pairs; k += step) {
    let j = k;
    while (j < n - 1 && !(labels[order[j]] === 1 && labels[order[j + 1]] === 0)) j++;
    const p = order[j];
    const q = order[j + 1];
    cand[p] = base[q];
    cand[q] = base[p];
    done++;
  }
  assert.equal(done, pairs);
  return { labels, base, cand };
}

/**
 * Exact DeLong variance of AUC_cand − AUC_base as a BigInt fraction, computed independently of the
 * engine: each row's structural component by binary search among the other class's sorted scores
 * (2N·V10 = 2·#negatives below + #negatives tied; 2P·V01 = 2·#positives above + #positives tied), then
 * the sample variances of the per-row differences in rational arithmetic.
 */
function exactDelong(labels: Uint8Array, a: Float64Array, b: Float64Array): { s: bigint; P: bigint; N: bigint; num: bigint; den: bigint } {
  const comps = (x: Float64Array): bigint[] => {
    const pos = Float64Array.from([...labels.keys()].filter((i) => labels[i] === 1).map((i) => x[i])).sort();
    const neg = Float64Array.from([...labels.keys()].filter((i) => labels[i] === 0).map((i) => x[i])).sort();
    const below = (arr: Float64Array, v: number): number => {
      let lo = 0;
      let hi = arr.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (arr[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const atMost = (arr: Float64Array, v: number): number => {
      let lo = 0;
      let hi = arr.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (arr[mid] <= v) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return [...x].map((v, i) => {
      if (labels[i] === 1) {
        const lt = below(neg, v);
        return BigInt(2 * lt + (atMost(neg, v) - lt));
      }
      const gt = pos.length - atMost(pos, v);
      return BigInt(2 * gt + (atMost(pos, v) - below(pos, v)));
    });
  };
  const ca = comps(a);
  const cb = comps(b);
  let P = 0n;
  let sPos = 0n;
  let qPos = 0n;
  let sNeg = 0n;
  let qNeg = 0n;
  for (let i = 0; i < labels.length; i++) {
    const e = cb[i] - ca[i];
    if (labels[i] === 1) {
      P++;
      sPos += e;
      qPos += e * e;
    } else {
      sNeg += e;
      qNeg += e * e;
    }
  }
  const N = BigInt(labels.length) - P;
  assert.equal(sPos, sNeg, 'both sums are U2_cand − U2_base');
  // Var = (P·Σe² − S²)/(P²(P−1)·4N²) + (N·Σe² − S²)/(N²(N−1)·4P²), over a common denominator.
  const d1 = P * P * (P - 1n) * 4n * N * N;
  const d2 = N * N * (N - 1n) * 4n * P * P;
  const num = (P * qPos - sPos * sPos) * d2 + (N * qNeg - sNeg * sNeg) * d1;
  return { s: sPos, P, N, num, den: d1 * d2 };
}

/** A BigInt fraction as a double, correct to well below 1e-15 relative. */
function ratio(num: bigint, den: bigint): number {
  const shift = BigInt(Math.max(0, den.toString(2).length - num.toString(2).length + 64));
  return Number((num << shift) / den) / 2 ** Number(shift);
}

describe("DeLong's test for nearly identical models: exact sums (the seed's variance collapsed to rounding noise)", function () {
  this.timeout(120000);

  for (const [n, pairs] of [
    [200_014, 1],
    [200_000, 5],
    [200_000, 20],
    [20_000, 1],
    [2_001, 5],
  ] as const) {
    it(`${pairs} reordered pair(s) at n = ${n}: delta, variance and z equal the exact rational values`, () => {
      const { labels, base, cand } = nearIdentical(n, pairs, `near-${n}-${pairs}`);
      const exact = exactDelong(labels, base, cand);
      const d = delongCovariance(labels, [base, cand]);
      const diff = delongDifference(d, 1, 0);
      const delta = ratio(exact.s, 2n * exact.P * exact.N);
      const variance = ratio(exact.num, exact.den);
      assert.equal(diff.delta, delta);
      assert.ok(Math.abs(diff.variance! / variance - 1) < 1e-13, `variance ${diff.variance} vs exact ${variance}`);
      assert.ok(Math.abs(diff.z! - delta / Math.sqrt(variance)) < 1e-12, `z ${diff.z}`);
      // The many-model path (three models) gives the same exact pair.
      const three = delongDifference(delongCovariance(labels, [base, cand, base]), 1, 0);
      assert.equal(three.delta, diff.delta);
      assert.ok(Math.abs(three.variance! / variance - 1) < 1e-13);
    });
  }

  it("the issue's example (one pair, n = 200,014): variance 1.99944e-20, z 0.70711, p 0.4795, and production is kept even at minDelta 0", () => {
    const { labels, base, cand } = nearIdentical(200_014, 1, 'near-200014-1');
    const diff = delongDifference(delongCovariance(labels, [base, cand]), 1, 0);
    // One swapped pair: e = 2 for one positive and one negative, so Var = 2/(PN)² and z = 1/√2 exactly.
    const PN = 100_007 * 100_007;
    assert.ok(Math.abs(diff.variance! / (2 / PN / PN) - 1) < 1e-14);
    assert.ok(Math.abs(diff.variance! / 1.99944e-20 - 1) < 1e-6, `${diff.variance}`);
    assert.ok(Math.abs(diff.z! - Math.SQRT1_2) < 1e-14, `${diff.z}`);
    assert.ok(Math.abs(diff.pValue! - 0.4795001221869535) < 1e-12, `${diff.pValue}`);
    const preds: Predictions = {
      n: 200_014,
      labels,
      columns: [
        { name: 'prod', scores: base },
        { name: 'cand', scores: cand },
      ],
    };
    const d = compareModels(preds, {
      baseline: 'prod',
      metric: 'roc_auc',
      method: 'delong',
      resamples: 1,
      seed: 0,
      winRate: 0.95,
      minDelta: 0,
      confidence: 0.95,
    });
    assert.equal(d.decision, 'keep');
    // A difference of about 1e-10 has 4 decimals of zeros: the probability (76.0%) is what tells it apart from none.
    assert.equal(
      d.reason,
      "Keep 'prod': the best candidate 'cand' improves on it by more than 0.0000 only with probability 76.0% by DeLong's normal approximation (required 95.0%; lower 95.0% bound 0.0000, mean 0.0000).",
    );
  });
});

describe("DeLong's test when it cannot decide: undefined or zero variance keeps production; intervals stay in range", () => {
  const opts: CompareOptions = { baseline: 'prod', metric: 'roc_auc', method: 'delong', resamples: 1, seed: 0, winRate: 0.95, minDelta: 0, confidence: 0.95 };
  const predsOf = (labels: number[], prod: number[], cand: number[]): Predictions => ({
    n: labels.length,
    labels: Uint8Array.from(labels),
    columns: [
      { name: 'prod', scores: Float64Array.from(prod) },
      { name: 'cand', scores: Float64Array.from(cand) },
    ],
  });

  it('two rows (one positive, one negative): the variance is undefined, the decision is keep and the reason says why', () => {
    const d = compareModels(predsOf([1, 0], [0.2, 0.8], [0.8, 0.2]), opts);
    const vs = d.models[1].vsBaseline!;
    assert.equal(vs.meanDelta, 1);
    assert.equal(vs.variance, undefined);
    assert.equal(vs.pValue, undefined);
    assert.equal(vs.winRate, 0);
    assert.deepEqual(vs.deltaCi, [-1, 1]);
    assert.equal(d.models[0].ci, undefined);
    assert.equal(d.decision, 'keep');
    assert.equal(
      d.reason,
      "Keep 'prod': the comparison with the best candidate 'cand' (ROC AUC improvement +1.0000) is undetermined: DeLong's variance is undefined with 1 positive and 1 negative (it needs at least 2 of each).",
    );
  });

  it('one positive among 51 rows: undefined, keep (the seed answered p = 8e-4 and promoted)', () => {
    const labels = Array.from({ length: 51 }, (_, i) => (i === 0 ? 1 : 0));
    const prod = labels.map((_, i) => (i === 0 ? 0.5 : i / 51));
    const cand = labels.map((_, i) => (i === 0 ? 0.99 : i / 51));
    const d = compareModels(predsOf(labels, prod, cand), opts);
    assert.equal(d.decision, 'keep');
    assert.match(d.reason, /undetermined: DeLong's variance is undefined with 1 positive and 50 negatives \(it needs at least 2 of each\)\.$/);
    const diff = delongDifference(delongCovariance(Uint8Array.from(labels), [Float64Array.from(prod), Float64Array.from(cand)]), 1, 0);
    assert.equal(diff.pValue, undefined);
    assert.match(diff.undetermined!, /undefined/);
  });

  it('variance exactly 0 with a non-zero difference (every component shifts by the same amount): undetermined, keep', () => {
    const d = compareModels(predsOf([1, 1, 0, 0], [0, 0.1, 0.5, 0.6], [0.5, 0.6, 0, 0.1]), opts);
    const vs = d.models[1].vsBaseline!;
    assert.equal(vs.meanDelta, 1);
    assert.equal(vs.variance, 0);
    assert.equal(d.decision, 'keep');
    assert.match(d.reason, /undetermined: DeLong's variance of the AUC difference is exactly 0 although the difference is not, so the test cannot weigh it\.$/);
  });

  it('normal intervals are clipped to the metric range: AUC within [0, 1], its difference within [−1, 1]', () => {
    const labels = [1, 1, 1, 0, 0, 0, 1, 0];
    const d = compareModels(predsOf(labels, [0.9, 0.8, 0.2, 0.1, 0.3, 0.25, 0.7, 0.75], [0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.95, 0.05]), opts);
    assert.equal(d.models[1].estimate, 1);
    assert.deepEqual(d.models[1].ci, [1, 1]);
    for (const m of d.models) assert.ok(m.ci![0] >= 0 && m.ci![1] <= 1, `${m.name} ${m.ci}`);
    const vs = d.models[1].vsBaseline!;
    assert.ok(vs.deltaCi[0] >= -1 && vs.deltaCi[1] <= 1 && vs.gateBound! >= -1);
    const wide = compareModels(predsOf([1, 1, 0, 0, 1, 0], [0.1, 0.2, 0.9, 0.8, 0.6, 0.5], [0.9, 0.8, 0.1, 0.2, 0.4, 0.5]), { ...opts, confidence: 0.999 });
    const w = wide.models[1].vsBaseline!;
    assert.ok(w.deltaCi[0] >= -1 && w.deltaCi[1] <= 1, `${w.deltaCi}`);
    assert.equal(w.deltaCi[1], 1);
  });
});
