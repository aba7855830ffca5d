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
import { LABEL_BIT, ROW_MASK, TIE_WITH_NEXT, sortOrder, sortScratchBytes } from './sort';
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
 * Memory: two models (the usual comparison) take 32 bytes per row: the sort scratch (24), one order
 * (4, reused by the second sort) and the first model's structural components (4). Otherwise 4 bytes
 * per row and model for the sorted orders, one sort scratch of 24 bytes per row (reused by every sort,
 * then holding the first model's structural components), and 4 bytes per row for each further model
 * but the last.
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
  // s10[a*M+b], s01[a*M+b] (a <= b): sums of centred products over positives and negatives.
  const s10 = new Float64Array(M * M);
  const s01 = new Float64Array(M * M);
  let auc: number[];
  // Two models (the usual comparison), when the components fit beside the label and tie bits:
  // the first model's components ride through the second model's sort in place of the row indices.
  if (M === 2 && 2 * Math.max(P, N) <= ROW_MASK) auc = twoModelSums(labels, models, P, N, s10, s01);
  else auc = manyModelSums(labels, models, P, N, s10, s01);
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

/**
 * Two models: sort the first, compute its components (in row order), then sort the second carrying
 * those components in place of the row indices, so the second pass reads them sequentially instead
 * of gathering them at random (the most expensive step at 10^7 rows). Same sums, same order of
 * operations as `manyModelSums`. Peak memory is unchanged: the sort scratch, one order (reused by the
 * second sort) and the components.
 */
function twoModelSums(labels: Uint8Array, models: ScoreArray[], P: number, N: number, s10: Float64Array, s01: Float64Array): number[] {
  const n = labels.length;
  const scratch = new ArrayBuffer(sortScratchBytes(n));
  const order = sortOrder(models[0], labels, { scratch });
  const auc0 = aucOfOrder(order, P, N);
  const v = new Uint32Array(n);
  const first = componentSums(order, P, N, auc0, v, [], [auc0]);
  const carried = sortOrder(models[1], labels, { scratch, into: order, rowWords: v });
  const auc1 = aucOfOrder(carried, P, N);
  const second = carriedComponentSums(carried, P, N, auc1, auc0);
  s10[0] = first.own10;
  s01[0] = first.own01;
  s10[3] = second.own10;
  s01[3] = second.own01;
  s10[1] = second.c10;
  s01[1] = second.c01;
  return [auc0, auc1];
}

/** Any number of models: every order first, then one component pass per model against the earlier ones. */
function manyModelSums(labels: Uint8Array, models: ScoreArray[], P: number, N: number, s10: Float64Array, s01: Float64Array): number[] {
  const n = labels.length;
  const M = models.length;
  // Sort every model first (labels carried in the order), so the sort's scratch is never alive together
  // with the structural components.
  const scratch = new ArrayBuffer(sortScratchBytes(n));
  const orders = models.map((scores) => sortOrder(scores, labels, { scratch }));
  const auc = orders.map((order) => aucOfOrder(order, P, N));
  // Structural components of the models seen so far, in row order (the last model is never stored).
  const stored: Uint32Array[] = [];
  for (let b = 0; b < M; b++) {
    // The first model's components borrow the sort scratch (free by now); the others get their own.
    const v = b === M - 1 ? null : b === 0 ? new Uint32Array(scratch, 0, n) : new Uint32Array(n);
    const sums = componentSums(orders[b], P, N, auc[b], v, stored, auc);
    s10[b * M + b] = sums.own10;
    s01[b * M + b] = sums.own01;
    for (let a = 0; a < b; a++) {
      s10[a * M + b] = sums.cross[2 * a];
      s01[a * M + b] = sums.cross[2 * a + 1];
    }
    orders[b] = new Uint32Array(0); // release the order
    if (v !== null) stored.push(v);
  }
  return auc;
}

/**
 * One model's pass over its sorted order: the centred sums of squares of its structural components
 * over positives (own10) and negatives (own01), and of products with each earlier model's components
 * (cross[2a], cross[2a + 1]). Writes the model's components into `v` when given, as exact integers:
 * 2·N·V10 for a positive row, 2·P·V01 for a negative row (both below 2^32) — half the memory of
 * float64 components, which matters because the next model reads them at random.
 */
function componentSums(
  order: Uint32Array,
  P: number,
  N: number,
  mean: number,
  v: Uint32Array | null,
  prev: Uint32Array[],
  prevAuc: number[],
): { own10: number; own01: number; cross: Float64Array } {
  const n = order.length;
  const inv2P = 1 / (2 * P);
  const inv2N = 1 / (2 * N);
  const cross = new Float64Array(2 * prev.length);
  // The common case, one earlier model, with its array and mean in locals.
  const one = prev.length === 1 ? prev[0] : null;
  const oneAuc = prev.length === 1 ? prevAuc[0] : 0;
  let c10 = 0;
  let c01 = 0;
  let own10 = 0;
  let own01 = 0;
  let negBelow = 0;
  let posBelow = 0;
  let start = 0;
  while (start < n) {
    const e0 = order[start];
    if ((e0 & TIE_WITH_NEXT) === 0) {
      // A group of one row (the usual case with continuous scores): the general code below with
      // gp + gn = 1, in the same operations, without scanning the group twice.
      const row = e0 & ROW_MASK;
      if (e0 & LABEL_BIT) {
        const num10 = 2 * negBelow;
        const d10 = num10 * inv2N - mean;
        own10 += d10 * d10;
        if (one !== null) c10 += (one[row] * inv2N - oneAuc) * d10;
        else for (let a = 0; a < prev.length; a++) cross[2 * a] += (prev[a][row] * inv2N - prevAuc[a]) * d10;
        if (v !== null) v[row] = num10;
        posBelow++;
      } else {
        const num01 = 2 * (P - posBelow);
        const d01 = num01 * inv2P - mean;
        own01 += d01 * d01;
        if (one !== null) c01 += (one[row] * inv2P - oneAuc) * d01;
        else for (let a = 0; a < prev.length; a++) cross[2 * a + 1] += (prev[a][row] * inv2P - prevAuc[a]) * d01;
        if (v !== null) v[row] = num01;
        negBelow++;
      }
      start++;
      continue;
    }
    let end = start;
    let gp = 0;
    for (;;) {
      const e = order[end];
      if (e & LABEL_BIT) gp++;
      if ((e & TIE_WITH_NEXT) === 0) break;
      end++;
    }
    const gn = end - start + 1 - gp;
    // This tie group's components: a positive beats the negatives below and ties with the group's
    // negatives; a negative is beaten by the positives above and ties with the group's positives.
    const num10 = 2 * negBelow + gn;
    const num01 = 2 * (P - posBelow - gp) + gp;
    const d10 = num10 * inv2N - mean;
    const d01 = num01 * inv2P - mean;
    for (let k = start; k <= end; k++) {
      const e = order[k];
      const row = e & ROW_MASK;
      if (e & LABEL_BIT) {
        own10 += d10 * d10;
        if (one !== null) c10 += (one[row] * inv2N - oneAuc) * d10;
        else for (let a = 0; a < prev.length; a++) cross[2 * a] += (prev[a][row] * inv2N - prevAuc[a]) * d10;
        if (v !== null) v[row] = num10;
      } else {
        own01 += d01 * d01;
        if (one !== null) c01 += (one[row] * inv2P - oneAuc) * d01;
        else for (let a = 0; a < prev.length; a++) cross[2 * a + 1] += (prev[a][row] * inv2P - prevAuc[a]) * d01;
        if (v !== null) v[row] = num01;
      }
    }
    negBelow += gn;
    posBelow += gp;
    start = end + 1;
  }
  if (one !== null) {
    cross[0] = c10;
    cross[1] = c01;
  }
  return { own10, own01, cross };
}

/**
 * The second model's pass of `twoModelSums`: like `componentSums` with one earlier model, but each
 * entry's low 30 bits hold the earlier model's component (carried through the sort) instead of a row.
 * Keep the arithmetic in step with `componentSums`: the results must be identical.
 */
function carriedComponentSums(
  order: Uint32Array,
  P: number,
  N: number,
  mean: number,
  oneAuc: number,
): { own10: number; own01: number; c10: number; c01: number } {
  const n = order.length;
  const inv2P = 1 / (2 * P);
  const inv2N = 1 / (2 * N);
  let c10 = 0;
  let c01 = 0;
  let own10 = 0;
  let own01 = 0;
  let negBelow = 0;
  let posBelow = 0;
  let start = 0;
  while (start < n) {
    const e0 = order[start];
    if ((e0 & TIE_WITH_NEXT) === 0) {
      const other = e0 & ROW_MASK;
      if (e0 & LABEL_BIT) {
        const d10 = 2 * negBelow * inv2N - mean;
        own10 += d10 * d10;
        c10 += (other * inv2N - oneAuc) * d10;
        posBelow++;
      } else {
        const d01 = 2 * (P - posBelow) * inv2P - mean;
        own01 += d01 * d01;
        c01 += (other * inv2P - oneAuc) * d01;
        negBelow++;
      }
      start++;
      continue;
    }
    let end = start;
    let gp = 0;
    for (;;) {
      const e = order[end];
      if (e & LABEL_BIT) gp++;
      if ((e & TIE_WITH_NEXT) === 0) break;
      end++;
    }
    const gn = end - start + 1 - gp;
    const d10 = (2 * negBelow + gn) * inv2N - mean;
    const d01 = (2 * (P - posBelow - gp) + gp) * inv2P - mean;
    for (let k = start; k <= end; k++) {
      const e = order[k];
      const other = e & ROW_MASK;
      if (e & LABEL_BIT) {
        own10 += d10 * d10;
        c10 += (other * inv2N - oneAuc) * d10;
      } else {
        own01 += d01 * d01;
        c01 += (other * inv2P - oneAuc) * d01;
      }
    }
    negBelow += gn;
    posBelow += gp;
    start = end + 1;
  }
  return { own10, own01, c10, c01 };
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
