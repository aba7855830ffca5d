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
    assert.equal(diff.delta, d.auc[1] - d.auc[0]);
    assert.equal(diff.variance, d.cov[0][0] + d.cov[1][1] - 2 * d.cov[0][1]);
    assert.equal(diff.z, diff.delta / Math.sqrt(diff.variance));
    assert.ok(diff.pValue > 0 && diff.pValue < 0.05, `p = ${diff.pValue}`);
    const reverse = delongDifference(d, 0, 1);
    assert.equal(reverse.pValue, diff.pValue);
    assert.equal(reverse.z, -diff.z!);
  });

  it('identical models: variance 0, no z, p-value 1, win rate 1, and production is kept', () => {
    const sim = simulatePair({ n: 200, auc: [0.75, 0.75], rho: 0.5, prevalence: 0.3, seed: 'same' });
    const preds: Predictions = { n: sim.n, labels: sim.labels, columns: [{ name: 'prod', scores: sim.a }, { name: 'cand', scores: Float64Array.from(sim.a) }] };
    const dec = compareModels(preds, { baseline: 'prod', metric: 'roc_auc', method: 'delong', resamples: 1, seed: 0, winRate: 0.9, minDelta: 0, confidence: 0.95 });
    const vs = dec.models[1].vsBaseline!;
    assert.equal(vs.variance, 0);
    assert.equal(vs.z, undefined);
    assert.equal(vs.pValue, 1);
    assert.equal(vs.winRate, 1);
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
    const preds: Predictions = { n: sim.n, labels: sim.labels, columns: [{ name: 'prod', scores: sim.a }, { name: 'cand', scores: sim.b }] };
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
    const delongVar = delongDifference(delongCovariance(sim.labels, [sim.a, sim.b]), 1, 0).variance;
    const ratio = bootVar / delongVar;
    assert.ok(Math.abs(ratio - 1) < 0.1, `bootstrap ${bootVar} vs DeLong ${delongVar} (ratio ${ratio})`);
  });

  it("compareModels(method 'delong') reports AUCs, normal intervals and the test against the baseline", () => {
    const sim = simulatePair({ n: 3000, auc: [0.72, 0.78], rho: 0.5, prevalence: 0.3, seed: 'delong-decision' });
    const preds: Predictions = { n: sim.n, labels: sim.labels, columns: [{ name: 'prod', scores: sim.a }, { name: 'cand', scores: sim.b }] };
    const opts: CompareOptions = { baseline: 'prod', metric: 'roc_auc', method: 'delong', resamples: 1000, seed: 1, winRate: 0.9, minDelta: 0, confidence: 0.95 };
    const dec = compareModels(preds, opts);
    assert.equal(dec.method, 'delong');
    assert.equal(dec.resamples, 0);
    assert.equal(dec.distributions, undefined);
    assert.equal(dec.models[0].estimate, rocAuc(sim.labels, sim.a));
    const vs = dec.models[1].vsBaseline!;
    const diff = delongDifference(delongCovariance(sim.labels, [sim.a, sim.b]), 1, 0);
    assert.equal(vs.meanDelta, diff.delta);
    assert.equal(vs.pValue, diff.pValue);
    const half = 1.959963984540054 * Math.sqrt(diff.variance);
    assert.ok(Math.abs(vs.deltaCi[0] - (diff.delta - half)) < 1e-15 && Math.abs(vs.deltaCi[1] - (diff.delta + half)) < 1e-15);
    assert.equal(dec.decision, 'promote');
    assert.match(dec.reason, /DeLong/);
  });
});
