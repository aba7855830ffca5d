/**
 * Statistical behaviour of the paired bootstrap on simulated data with known population AUCs (binormal
 * model, see simulate.ts). Every simulation is seeded, so these tests are deterministic; the tolerances
 * are stated in each test and derived from the binomial standard error of the simulated rate.
 */
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { DEFAULT_WIN_RATE, compareModels, defaultMinDelta, prepareBootstrap, runBootstrap, type CompareOptions, type Predictions } from '../../src/engine';
import { simulatePair } from './simulate';

const BASE: CompareOptions = {
  baseline: 'prod',
  metric: 'roc_auc',
  method: 'bootstrap',
  resamples: 400,
  seed: 0,
  winRate: 0.9,
  minDelta: 0,
  confidence: 0.95,
  includeDistributions: false,
};

function predsOf(sim: ReturnType<typeof simulatePair>): Predictions {
  return {
    n: sim.n,
    labels: sim.labels,
    columns: [
      { name: 'prod', scores: sim.a },
      { name: 'cand', scores: sim.b },
    ],
  };
}

/** The seed design's rule: each model resampled independently (its own stream), promote iff mean(cand_i >= prod_i) > 0.9. */
function seedRulePromotes(preds: Predictions, B: number, seed: string): boolean {
  const prod = runBootstrap(prepareBootstrap(preds, ['prod'], 'roc_auc', 'multinomial'), `${seed}/prod`, B).stats;
  const cand = runBootstrap(prepareBootstrap(preds, ['cand'], 'roc_auc', 'multinomial'), `${seed}/cand`, B).stats;
  let wins = 0;
  for (let b = 0; b < B; b++) if (cand[b] >= prod[b]) wins++;
  return wins / B > 0.9;
}

function binomialSe(p: number, r: number): number {
  return Math.sqrt((p * (1 - p)) / r);
}

describe('paired bootstrap: statistical properties on simulated data', function () {
  this.timeout(120000);

  it('the 95% percentile interval of the AUC difference covers the true difference at about the nominal rate', () => {
    // 200 simulated evaluations, n = 400, B = 400, true ΔAUC = 0.78 − 0.75 = 0.03, within-class correlation 0.5.
    // Tolerance: 3 binomial standard errors around 0.95 (SE = 1.5%), i.e. [0.904, 0.996].
    const R = 200;
    let covered = 0;
    for (let r = 0; r < R; r++) {
      const sim = simulatePair({ n: 400, auc: [0.75, 0.78], rho: 0.5, prevalence: 0.3, seed: `coverage-${r}` });
      const d = compareModels(predsOf(sim), { ...BASE, seed: r });
      const [lo, hi] = d.models[1].vsBaseline!.deltaCi;
      if (lo <= 0.03 && 0.03 <= hi) covered++;
    }
    const rate = covered / R;
    const tol = 3 * binomialSe(0.95, R);
    assert.ok(Math.abs(rate - 0.95) <= tol, `coverage ${rate} outside 0.95 ± ${tol.toFixed(3)}`);
  });

  it('with two equally good models, the rule promotes in no more than about 10% of evaluations at winRate 0.9 and minDelta 0', () => {
    // 300 simulated evaluations, n = 400, B = 400, both population AUCs 0.75, correlation 0.5.
    // Under equality the win rate is about Φ(Δ̂/σ), so promotion (win rate ≥ 0.9) happens about 10% of the time.
    // Tolerance: at most 10% + 3 binomial standard errors (SE = 1.7%) = 15.2%; at least 2% so the test is not vacuous.
    const R = 300;
    let promoted = 0;
    for (let r = 0; r < R; r++) {
      const sim = simulatePair({ n: 400, auc: [0.75, 0.75], rho: 0.5, prevalence: 0.3, seed: `null-${r}` });
      if (compareModels(predsOf(sim), { ...BASE, seed: r }).decision === 'promote') promoted++;
    }
    const rate = promoted / R;
    assert.ok(rate <= 0.1 + 3 * binomialSe(0.1, R), `promoted in ${(100 * rate).toFixed(1)}% of ${R} evaluations of equal models`);
    assert.ok(rate >= 0.02, `promoted in only ${(100 * rate).toFixed(1)}%: the simulation does not exercise the rule`);
  });

  it("is more powerful than the seed's unpaired rule on the same simulated data", () => {
    // 100 simulated evaluations, n = 1,000, B = 200 (the seed used 100), true AUCs 0.75 vs 0.765,
    // correlation 0.8 (models that err on the same rows, as retrained models do).
    // The seed's rule resamples each model independently and promotes iff mean(cand ≥ prod) > 0.9.
    // Requirement: the paired rule promotes the better model at least 25 percentage points more often.
    const R = 100;
    let paired = 0;
    let unpaired = 0;
    for (let r = 0; r < R; r++) {
      const sim = simulatePair({ n: 1000, auc: [0.75, 0.765], rho: 0.8, prevalence: 0.3, seed: `power-${r}` });
      const preds = predsOf(sim);
      if (compareModels(preds, { ...BASE, resamples: 200, seed: r }).decision === 'promote') paired++;
      if (seedRulePromotes(preds, 200, `power-${r}`)) unpaired++;
    }
    assert.ok(paired - unpaired >= 25, `paired promoted ${paired}/${R}, the seed's unpaired rule ${unpaired}/${R}`);
  });

  // The recipe for the defaults: n = 5,000, prevalence 0.3, two models scored
  // sigmoid(s·label + N(0, 1)) with independent noise, s = 1.0 vs 1.0 (equal) and 1.0 vs 1.04 (a gain of
  // about 0.008 ROC AUC), B = 500, 200 replicates each with fixed seeds.
  const R = 200;
  function recipe(s2: number, r: number): Predictions {
    const rng = seedrandom.xor4096(`defaults-${s2}-${r}`);
    const gauss = (): number => {
      let u = 0;
      while (u === 0) u = rng.double();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.double());
    };
    const n = 5000;
    const labels = new Uint8Array(n);
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const y = rng.double() < 0.3 ? 1 : 0;
      labels[i] = y;
      a[i] = 1 / (1 + Math.exp(-(1.0 * y + gauss())));
      b[i] = 1 / (1 + Math.exp(-(s2 * y + gauss())));
    }
    return {
      n,
      labels,
      columns: [
        { name: 'prod', scores: a },
        { name: 'cand', scores: b },
      ],
    };
  }
  const defaults: CompareOptions = { ...BASE, resamples: 500, winRate: DEFAULT_WIN_RATE, minDelta: defaultMinDelta('roc_auc') };
  function rates(s2: number): { bootstrap: number; delong: number; seedRule: number } {
    let bootstrap = 0;
    let delong = 0;
    let seedRule = 0;
    for (let r = 0; r < R; r++) {
      const preds = recipe(s2, r);
      if (compareModels(preds, { ...defaults, seed: r }).decision === 'promote') bootstrap++;
      if (compareModels(preds, { ...defaults, method: 'delong' }).decision === 'promote') delong++;
      if (seedRulePromotes(preds, 500, `defaults-${s2}-${r}`)) seedRule++;
    }
    return { bootstrap: bootstrap / R, delong: delong / R, seedRule: seedRule / R };
  }

  it("at the defaults (win rate 0.95, minDelta 0.001) equal models are promoted in at most 5% of evaluations (measured: 3.0% bootstrap, 3.5% DeLong; the seed's rule 5.5%)", () => {
    // Tolerance: 5% + 3 binomial standard errors (SE = 1.54% at R = 200), i.e. 9.6%.
    const got = rates(1.0);
    const limit = 0.05 + 3 * binomialSe(0.05, R);
    assert.ok(got.bootstrap <= limit && got.delong <= limit, JSON.stringify(got));
    // The figures quoted in the task's help and the README (fixed seeds: deterministic).
    assert.deepEqual(got, { bootstrap: 0.03, delong: 0.035, seedRule: 0.055 });
  });

  it("at the defaults a gain of about 0.008 ROC AUC is found in about 20% of evaluations (measured: 20.5% bootstrap, 21.0% DeLong; the seed's rule 32.5%, at a higher false-promotion rate)", () => {
    // The gain is about 0.8 standard deviations of the paired difference (sd ≈ 0.0102): a one-sided test at
    // 5% can find it at most Φ(0.8 − 1.645) ≈ 20% of the time, whatever its design. Tolerance: 3 binomial
    // standard errors (8.0% at p = 0.17, R = 200) around the normal approximation Φ((0.0085 − 0.001)/0.0102 − 1.645) ≈ 17%.
    const got = rates(1.04);
    const expected = 0.17;
    const tol = 3 * binomialSe(expected, R);
    assert.ok(Math.abs(got.bootstrap - expected) <= tol && Math.abs(got.delong - expected) <= tol, JSON.stringify(got));
    assert.deepEqual(got, { bootstrap: 0.205, delong: 0.21, seedRule: 0.325 });
  });
});
