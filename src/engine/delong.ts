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
 *
 * Exactness of the difference. For two nearly identical models the three terms above are each about
 * 1e-6 while their combination is about 1e-20, so forming it from floating-point covariances leaves only
 * rounding noise (which once made the variance 0 and the p-value 0). The difference is therefore never
 * computed that way: it is the sample variance of the per-row differences of the components, and those
 * are rationals with a known denominator. With e_i = 2N·(V10_a(i) − V10_b(i)) for a positive and
 * e_j = 2P·(V01_a(j) − V01_b(j)) for a negative (integers, |e| ≤ 2·max(P, N)):
 *
 *   Var(AUC_a − AUC_b) = (P·Σ_pos e² − S²) / (P²(P−1)·4N²) + (N·Σ_neg e² − S²) / (N²(N−1)·4P²),
 *
 * where S = Σ_pos e_i = Σ_neg e_j = U2_a − U2_b (twice the Mann–Whitney U difference). Σ e² is summed in
 * integers: in a double while it stays below 2^53 (each e² ≤ 2^52 is exact and the running sum is
 * flushed into a BigInt as soon as it reaches 2^52, so no partial sum ever exceeds 2^53), and straight in
 * BigInt for the rare |e| > 2^26. The numerators are then exact integers (BigInt); the only roundings are
 * their conversion to double and the division, so the variance carries a relative error of a few units
 * in the last place. The difference of AUCs is likewise (U2_a − U2_b) / (2PN), one rounding.
 * (Exact as long as 2PN < 2^53, i.e. up to about 1.3·10^8 rows, as for `rocAuc`.)
 *
 * The variance is undefined with fewer than 2 positives or 2 negatives (a sample variance over one
 * value; pROC returns NA there): `delongDifference` then reports the difference as undetermined.
 */
import { aucSums } from './metrics';
import { LABEL_BIT, ROW_MASK, TIE_WITH_NEXT, sortOrder, sortScratchBytes } from './sort';
import { normalCdf, normalSf } from './stats';
import type { ScoreArray } from './types';

/** DeLong analysis of several models scored on the same rows. */
export interface DelongResult {
  /** AUC of each model (exact, equal to `rocAuc`). */
  auc: number[];
  /** Twice the Mann–Whitney U of each model (an integer; AUC = u2 / (2PN)). */
  u2: number[];
  /**
   * Exact sums of squares of the per-row component differences of each pair a < b, at index a·M + b:
   * Σ over positives of (2N·(V10_a − V10_b))² and Σ over negatives of (2P·(V01_a − V01_b))².
   */
  diffSquares: { pos: bigint; neg: bigint }[];
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
  const sq = new ExactSquares(M * M);
  let u2: number[];
  // Two models (the usual comparison), when the components fit beside the label and tie bits:
  // the first model's components ride through the second model's sort in place of the row indices.
  if (M === 2 && 2 * Math.max(P, N) <= ROW_MASK) u2 = twoModelSums(labels, models, P, N, s10, s01, sq);
  else u2 = manyModelSums(labels, models, P, N, s10, s01, sq);
  const auc = u2.map((u) => u / (2 * P * N));
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
  const diffSquares: { pos: bigint; neg: bigint }[] = [];
  for (let k = 0; k < M * M; k++) diffSquares.push({ pos: sq.total(2 * k), neg: sq.total(2 * k + 1) });
  return { auc, u2, diffSquares, cov, positives: P, negatives: N };
}

/** Largest |e| whose square (at most 2^52) is exact in a double. */
const EXACT_E = 2 ** 26;
/** A running double sum is flushed into its BigInt once it reaches this; below it, adding e² ≤ 2^52 stays exact. */
const FLUSH_AT = 2 ** 52;

/**
 * Exact integer sums of squares, slot by slot: a double accumulator kept below 2^52 (so adding one
 * square of at most 2^52 never exceeds 2^53 and is exact) and a BigInt it is flushed into.
 */
class ExactSquares {
  readonly acc: Float64Array;
  readonly big: bigint[];
  constructor(slots: number) {
    this.acc = new Float64Array(2 * slots);
    this.big = new Array<bigint>(2 * slots).fill(0n);
  }
  add(slot: number, e: number): void {
    if (e === 0) return;
    if (e > EXACT_E || e < -EXACT_E) {
      this.big[slot] += BigInt(e) * BigInt(e);
      return;
    }
    const a = this.acc[slot] + e * e;
    if (a >= FLUSH_AT) {
      this.big[slot] += BigInt(a);
      this.acc[slot] = 0;
    } else this.acc[slot] = a;
  }
  /** Adds a partial sum computed elsewhere under the same invariant (an integer below 2^53). */
  addPartial(slot: number, partial: number, big: bigint): void {
    this.big[slot] += BigInt(partial) + big;
  }
  total(slot: number): bigint {
    return this.big[slot] + BigInt(this.acc[slot]);
  }
}

/**
 * Two models: sort the first, compute its components (in row order), then sort the second carrying
 * those components in place of the row indices, so the second pass reads them sequentially instead
 * of gathering them at random (the most expensive step at 10^7 rows). Same sums, same order of
 * operations as `manyModelSums`. Peak memory is unchanged: the sort scratch, one order (reused by the
 * second sort) and the components.
 */
function twoModelSums(labels: Uint8Array, models: ScoreArray[], P: number, N: number, s10: Float64Array, s01: Float64Array, sq: ExactSquares): number[] {
  const n = labels.length;
  const scratch = new ArrayBuffer(sortScratchBytes(n));
  const order = sortOrder(models[0], labels, { scratch });
  const u0 = aucSums(order, null).u2;
  const auc0 = u0 / (2 * P * N);
  const v = new Uint32Array(n);
  const first = componentSums(order, P, N, auc0, v, [], [auc0], sq, 2);
  const carried = sortOrder(models[1], labels, { scratch, into: order, rowWords: v });
  const u1 = aucSums(carried, null).u2;
  const auc1 = u1 / (2 * P * N);
  const second = carriedComponentSums(carried, P, N, auc1, auc0);
  // Pair (0, 1) is slot 1 of the 2×2 layout.
  sq.addPartial(2, second.sq10, second.big10);
  sq.addPartial(3, second.sq01, second.big01);
  s10[0] = first.own10;
  s01[0] = first.own01;
  s10[3] = second.own10;
  s01[3] = second.own01;
  s10[1] = second.c10;
  s01[1] = second.c01;
  return [u0, u1];
}

/** Any number of models: every order first, then one component pass per model against the earlier ones. */
function manyModelSums(labels: Uint8Array, models: ScoreArray[], P: number, N: number, s10: Float64Array, s01: Float64Array, sq: ExactSquares): number[] {
  const n = labels.length;
  const M = models.length;
  // Sort every model first (labels carried in the order), so the sort's scratch is never alive together
  // with the structural components.
  const scratch = new ArrayBuffer(sortScratchBytes(n));
  const orders = models.map((scores) => sortOrder(scores, labels, { scratch }));
  const u2 = orders.map((order) => aucSums(order, null).u2);
  const auc = u2.map((u) => u / (2 * P * N));
  // Structural components of the models seen so far, in row order (the last model is never stored).
  const stored: Uint32Array[] = [];
  for (let b = 0; b < M; b++) {
    // The first model's components borrow the sort scratch (free by now); the others get their own.
    const v = b === M - 1 ? null : b === 0 ? new Uint32Array(scratch, 0, n) : new Uint32Array(n);
    const sums = componentSums(orders[b], P, N, auc[b], v, stored, auc, sq, M, b);
    s10[b * M + b] = sums.own10;
    s01[b * M + b] = sums.own01;
    for (let a = 0; a < b; a++) {
      s10[a * M + b] = sums.cross[2 * a];
      s01[a * M + b] = sums.cross[2 * a + 1];
    }
    orders[b] = new Uint32Array(0); // release the order
    if (v !== null) stored.push(v);
  }
  return u2;
}

/**
 * One model's pass over its sorted order: the centred sums of squares of its structural components
 * over positives (own10) and negatives (own01), and of products with each earlier model's components
 * (cross[2a], cross[2a + 1]). Writes the model's components into `v` when given, as exact integers:
 * 2·N·V10 for a positive row, 2·P·V01 for a negative row (both below 2^32) — half the memory of
 * float64 components, which matters because the next model reads them at random. The exact sums of
 * squared differences with each earlier model a go to `sq`, slots 2(a·M + b) (positives) and +1 (negatives).
 */
function componentSums(
  order: Uint32Array,
  P: number,
  N: number,
  mean: number,
  v: Uint32Array | null,
  prev: Uint32Array[],
  prevAuc: number[],
  sq: ExactSquares,
  M: number,
  b = prev.length,
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
        for (let a = 0; a < prev.length; a++) sq.add(2 * (a * M + b), prev[a][row] - num10);
        if (v !== null) v[row] = num10;
        posBelow++;
      } else {
        const num01 = 2 * (P - posBelow);
        const d01 = num01 * inv2P - mean;
        own01 += d01 * d01;
        if (one !== null) c01 += (one[row] * inv2P - oneAuc) * d01;
        else for (let a = 0; a < prev.length; a++) cross[2 * a + 1] += (prev[a][row] * inv2P - prevAuc[a]) * d01;
        for (let a = 0; a < prev.length; a++) sq.add(2 * (a * M + b) + 1, prev[a][row] - num01);
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
        for (let a = 0; a < prev.length; a++) sq.add(2 * (a * M + b), prev[a][row] - num10);
        if (v !== null) v[row] = num10;
      } else {
        own01 += d01 * d01;
        if (one !== null) c01 += (one[row] * inv2P - oneAuc) * d01;
        else for (let a = 0; a < prev.length; a++) cross[2 * a + 1] += (prev[a][row] * inv2P - prevAuc[a]) * d01;
        for (let a = 0; a < prev.length; a++) sq.add(2 * (a * M + b) + 1, prev[a][row] - num01);
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
 * Keep the arithmetic in step with `componentSums`: the results must be identical. The exact sums of
 * squared component differences are kept inline here (this loop runs once per row at 10^7 rows): the
 * same invariant as `ExactSquares` (double part below 2^52 before each add, e² ≤ 2^52, else BigInt).
 */
function carriedComponentSums(
  order: Uint32Array,
  P: number,
  N: number,
  mean: number,
  oneAuc: number,
): { own10: number; own01: number; c10: number; c01: number; sq10: number; sq01: number; big10: bigint; big01: bigint } {
  const n = order.length;
  const inv2P = 1 / (2 * P);
  const inv2N = 1 / (2 * N);
  let sq10 = 0;
  let sq01 = 0;
  let big10 = 0n;
  let big01 = 0n;
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
        const num10 = 2 * negBelow;
        const d10 = num10 * inv2N - mean;
        own10 += d10 * d10;
        c10 += (other * inv2N - oneAuc) * d10;
        const e = other - num10;
        if (e !== 0) {
          if (e > EXACT_E || e < -EXACT_E) big10 += BigInt(e) * BigInt(e);
          else if ((sq10 += e * e) >= FLUSH_AT) {
            big10 += BigInt(sq10);
            sq10 = 0;
          }
        }
        posBelow++;
      } else {
        const num01 = 2 * (P - posBelow);
        const d01 = num01 * inv2P - mean;
        own01 += d01 * d01;
        c01 += (other * inv2P - oneAuc) * d01;
        const e = other - num01;
        if (e !== 0) {
          if (e > EXACT_E || e < -EXACT_E) big01 += BigInt(e) * BigInt(e);
          else if ((sq01 += e * e) >= FLUSH_AT) {
            big01 += BigInt(sq01);
            sq01 = 0;
          }
        }
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
    const num10 = 2 * negBelow + gn;
    const num01 = 2 * (P - posBelow - gp) + gp;
    const d10 = num10 * inv2N - mean;
    const d01 = num01 * inv2P - mean;
    for (let k = start; k <= end; k++) {
      const entry = order[k];
      const other = entry & ROW_MASK;
      if (entry & LABEL_BIT) {
        own10 += d10 * d10;
        c10 += (other * inv2N - oneAuc) * d10;
        const e = other - num10;
        if (e !== 0) {
          if (e > EXACT_E || e < -EXACT_E) big10 += BigInt(e) * BigInt(e);
          else if ((sq10 += e * e) >= FLUSH_AT) {
            big10 += BigInt(sq10);
            sq10 = 0;
          }
        }
      } else {
        own01 += d01 * d01;
        c01 += (other * inv2P - oneAuc) * d01;
        const e = other - num01;
        if (e !== 0) {
          if (e > EXACT_E || e < -EXACT_E) big01 += BigInt(e) * BigInt(e);
          else if ((sq01 += e * e) >= FLUSH_AT) {
            big01 += BigInt(sq01);
            sq01 = 0;
          }
        }
      }
    }
    negBelow += gn;
    posBelow += gp;
    start = end + 1;
  }
  return { own10, own01, c10, c01, sq10, sq01, big10, big01 };
}

/** DeLong comparison of model `a` against model `b` (delta = AUC_a − AUC_b). */
export interface DelongDifference {
  /** AUC_a − AUC_b, from the exact Mann–Whitney sums (one rounding). */
  delta: number;
  /** The variance of the difference (exact up to the final rounding); absent when it is undefined. */
  variance?: number;
  /** delta / sd; absent when the variance is 0 or undefined. */
  z?: number;
  /** Two-sided p-value of H0: AUC_a = AUC_b (1 when delta = variance = 0); absent when undetermined. */
  pValue?: number;
  /**
   * Set when the test cannot say anything: the variance is undefined (fewer than 2 positives or 2
   * negatives) or it is 0 while the difference is not (a normal with no spread would turn any
   * difference into certainty). The text says which, for the decision's reason.
   */
  undetermined?: string;
}

/**
 * The difference AUC_a − AUC_b, its DeLong variance, z and two-sided p-value, from the exact sums of
 * `delongCovariance` (see the module comment).
 *
 * @example
 * const { delta, variance, z, pValue } = delongDifference(delongCovariance(labels, [a, b]), 0, 1);
 */
export function delongDifference(d: DelongResult, a: number, b: number): DelongDifference {
  const P = d.positives;
  const N = d.negatives;
  const M = d.auc.length;
  const delta = (d.u2[a] - d.u2[b]) / (2 * P * N);
  if (a === b) return { delta: 0, variance: 0, pValue: 1 };
  const sq = d.diffSquares[a < b ? a * M + b : b * M + a];
  return delongTestFromExactSums(delta, P, N, BigInt(d.u2[a]) - BigInt(d.u2[b]), sq.pos, sq.neg);
}

/**
 * DeLong's test of a difference from its exact integers: the counts P and N, S = A_a − A_b (twice the
 * Mann–Whitney counts) and the sums of squared differences of the two models' structural components over
 * the positives and over the negatives. Shared by the local path and the one finished from integer sums
 * (delong-sums.ts), so both give identical (===) results from the same integers.
 */
export function delongTestFromExactSums(delta: number, P: number, N: number, s: bigint, sqPos: bigint, sqNeg: bigint): DelongDifference {
  if (P < 2 || N < 2) {
    return {
      delta,
      undetermined: `DeLong's variance is undefined with ${P} positive${P === 1 ? '' : 's'} and ${N} negative${N === 1 ? '' : 's'} (it needs at least 2 of each)`,
    };
  }
  // P·Σe² − S² = P·Σ(e − ē)² ≥ 0, an exact integer (likewise over the negatives).
  const numPos = BigInt(P) * sqPos - s * s;
  const numNeg = BigInt(N) * sqNeg - s * s;
  const variance = Number(numPos) / (P * P * (P - 1) * 4 * N * N) + Number(numNeg) / (N * N * (N - 1) * 4 * P * P);
  if (variance === 0) {
    if (delta === 0) return { delta, variance, pValue: 1 };
    return {
      delta,
      variance,
      undetermined: "DeLong's variance of the AUC difference is exactly 0 although the difference is not, so the test cannot weigh it",
    };
  }
  const z = delta / Math.sqrt(variance);
  return { delta, variance, z, pValue: 2 * normalSf(Math.abs(z)) };
}

/** P(delta' > threshold) for delta' ~ Normal(delta, variance), variance > 0: the normal analogue of a bootstrap share. */
export function normalShareAbove(delta: number, variance: number, threshold: number): number {
  return normalCdf((delta - threshold) / Math.sqrt(variance));
}
