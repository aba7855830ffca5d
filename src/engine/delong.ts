/**
 * DeLong's test for correlated ROC AUCs, with the fast O(n log n) algorithm of Sun & Xu (2014).
 *
 * References:
 * - E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson (1988), "Comparing the areas under two or more
 *   correlated receiver operating characteristic curves: a nonparametric approach", Biometrics 44(3).
 * - X. Sun, W. Xu (2014), "Fast implementation of DeLong's algorithm for comparing the areas under
 *   correlated receiver operating characteristic curves", IEEE Signal Processing Letters 21(11).
 *
 * For model r, the structural components are V10_r(i) = (1/N) Σ_j ψ(X_i, Y_j) for each positive i and
 * V01_r(j) = (1/P) Σ_i ψ(X_i, Y_j) for each negative j, with ψ = 1 if the positive scores higher,
 * ½ on a tie, 0 otherwise. After one sort per model they follow from tie-group counts in O(n).
 * Then S10 and S01 are their sample covariance matrices (over positives and over negatives) and
 * Var(AUC_a − AUC_b) = (S10_aa + S10_bb − 2 S10_ab)/P + (S01_aa + S01_bb − 2 S01_ab)/N.
 */
import { aucSums } from './metrics';
import { LABEL_BIT, ROW_MASK, TIE_WITH_NEXT, sortOrder } from './sort';
import { normalCdf, normalSf } from './stats';
import type { ScoreArray } from './types';

/** DeLong analysis of several models scored on the same rows. */
export interface DelongResult {
  /** AUC of each model (exact, equal to `rocAuc`). */
  auc: number[];
  /** Covariance matrix of the AUC estimates, `cov[a][b]`. */
  cov: number[][];
  positives: number;
  negatives: number;
}

/**
 * Computes every model's AUC and the DeLong covariance matrix of the AUCs.
 *
 * Memory: 4 bytes per row and model for the sorted orders, 8 bytes per row and model but one for the
 * structural components, plus one sort's scratch (before the components exist).
 *
 * @example
 * const d = delongCovariance(labels, [prod.scores, cand.scores]);
 * const diff = delongDifference(d, 1, 0); // candidate − baseline
 */
export function delongCovariance(labels: Uint8Array, models: ScoreArray[]): DelongResult {
  const n = labels.length;
  let P = 0;
  for (let i = 0; i < n; i++) P += labels[i];
  const N = n - P;
  if (P === 0 || N === 0) throw new RangeError(`DeLong needs both classes (${P} positives, ${N} negatives)`);
  const M = models.length;
  // Sort every model first (labels carried in the order), so the sort's scratch is never alive together
  // with the structural components.
  const orders = models.map((scores) => sortOrder(scores, labels));
  const auc = orders.map((order) => aucOfOrder(order, P, N));
  // s10[a*M+b], s01[a*M+b] (a <= b): sums of centred products over positives and negatives.
  const s10 = new Float64Array(M * M);
  const s01 = new Float64Array(M * M);
  // Structural components of the models seen so far, in row order (the last model is never stored).
  const stored: Float64Array[] = [];
  for (let b = 0; b < M; b++) {
    const order = orders[b];
    const v = b < M - 1 ? new Float64Array(n) : null;
    const mean = auc[b];
    // Running centred sums over positives (index 0) and negatives (1): own square, products with earlier models.
    const own = [0, 0];
    const cross = Array.from({ length: b }, () => [0, 0]);
    let negBelow = 0;
    let posBelow = 0;
    let start = 0;
    while (start < n) {
      let end = start;
      let gp = 0;
      for (;;) {
        const e = order[end];
        if (e & LABEL_BIT) gp++;
        if ((e & TIE_WITH_NEXT) === 0) break;
        end++;
      }
      const gn = end - start + 1 - gp;
      // Structural components of this tie group: V10 for its positives, V01 for its negatives.
      const d10 = (negBelow + 0.5 * gn) / N - mean;
      const d01 = (P - posBelow - gp + 0.5 * gp) / P - mean;
      for (let k = start; k <= end; k++) {
        const e = order[k];
        const row = e & ROW_MASK;
        const pos = (e & LABEL_BIT) !== 0;
        const d = pos ? d10 : d01;
        const c = pos ? 0 : 1;
        own[c] += d * d;
        for (let a = 0; a < b; a++) cross[a][c] += (stored[a][row] - auc[a]) * d;
        if (v !== null) v[row] = d + mean;
      }
      negBelow += gn;
      posBelow += gp;
      start = end + 1;
    }
    s10[b * M + b] = own[0];
    s01[b * M + b] = own[1];
    for (let a = 0; a < b; a++) {
      s10[a * M + b] = cross[a][0];
      s01[a * M + b] = cross[a][1];
    }
    orders[b] = new Uint32Array(0); // release the order
    if (v !== null) stored.push(v);
  }
  const cov: number[][] = [];
  for (let a = 0; a < M; a++) {
    const row: number[] = [];
    for (let b = 0; b < M; b++) {
      const k = a <= b ? a * M + b : b * M + a;
      const v10 = P > 1 ? s10[k] / (P - 1) : 0;
      const v01 = N > 1 ? s01[k] / (N - 1) : 0;
      row.push(v10 / P + v01 / N);
    }
    cov.push(row);
  }
  return { auc, cov, positives: P, negatives: N };
}

/** Exact AUC from the integer Mann–Whitney sum over a label-carrying order (equal to `rocAuc`). */
function aucOfOrder(order: Uint32Array, P: number, N: number): number {
  const { u2 } = aucSums(order, null);
  return u2 / (2 * P * N);
}

/** DeLong comparison of model `a` against model `b` (delta = AUC_a − AUC_b). */
export interface DelongDifference {
  delta: number;
  variance: number;
  /** delta / sd; undefined when the variance is 0. */
  z?: number;
  /** Two-sided p-value of H0: AUC_a = AUC_b (1 when delta = variance = 0, 0 when only the variance is 0). */
  pValue: number;
}

/**
 * The difference AUC_a − AUC_b, its DeLong variance, z and two-sided p-value.
 *
 * @example
 * const { delta, variance, z, pValue } = delongDifference(delongCovariance(labels, [a, b]), 0, 1);
 */
export function delongDifference(d: DelongResult, a: number, b: number): DelongDifference {
  const delta = d.auc[a] - d.auc[b];
  const variance = Math.max(0, d.cov[a][a] + d.cov[b][b] - 2 * d.cov[a][b]);
  if (variance === 0) return { delta, variance, pValue: delta === 0 ? 1 : 0 };
  const z = delta / Math.sqrt(variance);
  return { delta, variance, z, pValue: 2 * normalSf(Math.abs(z)) };
}

/** P(delta' ≥ threshold) for delta' ~ Normal(delta, variance); a step function when the variance is 0. */
export function normalShareAtLeast(delta: number, variance: number, threshold: number, strict = false): number {
  if (variance === 0) return strict ? (delta > threshold ? 1 : 0) : delta >= threshold ? 1 : 0;
  return normalCdf((delta - threshold) / Math.sqrt(variance));
}
