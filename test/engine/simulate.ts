/**
 * Simulated evaluation data for the engine's statistical tests: a pair of correlated models with known
 * population ROC AUCs, under the binormal model.
 *
 * Scores: s_m = μ_m · y + √ρ · z + √(1 − ρ) · e_m with z, e_a, e_b independent N(0, 1). Within each class
 * each score is N(·, 1), so AUC_m = Φ(μ_m / √2), i.e. μ_m = √2 · Φ⁻¹(AUC_m); ρ is the correlation of the
 * two models' scores within a class (they err on the same rows when ρ is high).
 */
import seedrandom from 'seedrandom';
import { normalQuantile } from '../../src/engine';

export interface SimulatedPair {
  n: number;
  labels: Uint8Array;
  a: Float64Array;
  b: Float64Array;
  /** Population AUCs of a and b. */
  auc: [number, number];
}

export interface SimulateOptions {
  n: number;
  auc: [number, number];
  rho: number;
  prevalence: number;
  seed: string;
  /** Round scores to this many decimals (creates ties). */
  roundTo?: number;
}

export function simulatePair(o: SimulateOptions): SimulatedPair {
  const { labels, scores } = simulateModels({ ...o, aucs: o.auc });
  return { n: o.n, labels, a: scores[0], b: scores[1], auc: o.auc };
}

/** Any number of correlated models (one shared factor z), with population AUCs `aucs`. */
export function simulateModels(o: Omit<SimulateOptions, 'auc'> & { aucs: number[] }): { labels: Uint8Array; scores: Float64Array[] } {
  const rng = seedrandom.xor4096(o.seed);
  const gauss = (): number => {
    // Box–Muller on the generator's 53-bit doubles.
    let u = 0;
    while (u === 0) u = rng.double();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.double());
  };
  const mu = o.aucs.map((a) => Math.SQRT2 * normalQuantile(a));
  const labels = new Uint8Array(o.n);
  const scores = mu.map(() => new Float64Array(o.n));
  const sr = Math.sqrt(o.rho);
  const se = Math.sqrt(1 - o.rho);
  const round = o.roundTo === undefined ? (x: number) => x : (x: number) => Number(x.toFixed(o.roundTo));
  for (let i = 0; i < o.n; i++) {
    const y = rng.double() < o.prevalence ? 1 : 0;
    labels[i] = y;
    const z = gauss();
    for (let m = 0; m < mu.length; m++) scores[m][i] = round(mu[m] * y + sr * z + se * gauss());
  }
  // Both classes are needed; force the first two rows if a tiny sample missed one.
  if (!labels.includes(1)) labels[0] = 1;
  if (!labels.includes(0)) labels[1] = 0;
  return { labels, scores };
}
