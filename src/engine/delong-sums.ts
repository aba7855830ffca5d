/**
 * DeLong's test finished from integer sufficient statistics, so a cluster can compute the sums (in SQL,
 * see spark/sql.ts) and the agent the statistics, with the same numbers as the local path (delong.ts).
 *
 * For model r, a positive row i has the integer structural component a_ri = 2·(negatives scored below
 * it) + (negatives tied with it) = 2N·V10_r(i), and a negative row j has b_rj = 2·(positives scored
 * above it) + (positives tied with it) = 2P·V01_r(j) (DeLong, DeLong & Clarke-Pearson 1988, Biometrics
 * 44(3); Sun & Xu 2014, IEEE SPL 21(11) obtain the same components from mid-ranks). The sufficient
 * statistics are, per model, A_r = Σ_pos a_r and B_r = Σ_neg b_r (both equal 2U_r, twice the
 * Mann–Whitney U), and per pair r ≤ s the product sums Q_rs = Σ_pos a_r·a_s and R_rs = Σ_neg b_r·b_s.
 * Then AUC_r = A_r / (2PN) and, for the difference of models a and b,
 *   Σ_pos (a_a − a_b)² = Q_aa + Q_bb − 2Q_ab (likewise R over the negatives),
 * which is exactly the `diffSquares` the local path sums row by row, so `delongDifferenceFromSums`
 * returns the local `delongDifference`'s delta, variance, z and p bit for bit (tested). The product sums
 * need about 92 bits at 10^9 rows (a < 2^31): they travel as decimal strings or BigInt.
 */
import { sortOrder, sortScratchBytes, LABEL_BIT, ROW_MASK, TIE_WITH_NEXT } from './sort';
import { delongTestFromExactSums, type DelongDifference, type DelongResult } from './delong';
import type { ScoreArray } from './types';

/** DeLong's integer sums for M models (integers as BigInt, or decimal strings as read from JSON). */
export interface DelongSums {
  positives: number;
  negatives: number;
  /** A_r = Σ over positives of a_r, per model. */
  positiveSums: (bigint | string)[];
  /** B_r = Σ over negatives of b_r, per model (equal to A_r; checked). */
  negativeSums: (bigint | string)[];
  /** Q_rs = Σ over positives of a_r·a_s at index r·M + s, for r ≤ s (the other entries are ignored). */
  positiveProducts: (bigint | string)[];
  /** R_rs = Σ over negatives of b_r·b_s at index r·M + s, for r ≤ s. */
  negativeProducts: (bigint | string)[];
}

/** The sums as BigInt, checked for shape and for A_r = B_r (a wrong aggregation fails here, not in a p-value). */
interface ExactSums {
  P: number;
  N: number;
  M: number;
  A: bigint[];
  Q: bigint[];
  R: bigint[];
}

function exact(s: DelongSums): ExactSums {
  const M = s.positiveSums.length;
  const big = (x: bigint | string, what: string): bigint => {
    if (typeof x === 'bigint') return x;
    if (typeof x !== 'string' || !/^(0|[1-9][0-9]*)$/.test(x)) throw new RangeError(`DeLong sums: ${what} must be a non-negative integer, got ${String(x)}`);
    return BigInt(x);
  };
  if (!(Number.isInteger(s.positives) && s.positives >= 1 && Number.isInteger(s.negatives) && s.negatives >= 1)) {
    throw new RangeError(`DeLong needs both classes (${s.positives} positives, ${s.negatives} negatives)`);
  }
  if (M < 1 || s.negativeSums.length !== M || s.positiveProducts.length !== M * M || s.negativeProducts.length !== M * M) {
    throw new RangeError(`DeLong sums: ${M} models need ${M} sums per class and ${M * M} product slots per class`);
  }
  const A = s.positiveSums.map((x, r) => big(x, `positiveSums[${r}]`));
  const B = s.negativeSums.map((x, r) => big(x, `negativeSums[${r}]`));
  for (let r = 0; r < M; r++) {
    if (A[r] !== B[r]) throw new RangeError(`DeLong sums: model ${r}'s positive and negative component sums differ (${A[r]} vs ${B[r]}); both must be 2U`);
  }
  const Q = s.positiveProducts.map((x, k) => (Math.floor(k / M) <= k % M ? big(x, `positiveProducts[${k}]`) : 0n));
  const R = s.negativeProducts.map((x, k) => (Math.floor(k / M) <= k % M ? big(x, `negativeProducts[${k}]`) : 0n));
  return { P: s.positives, N: s.negatives, M, A, Q, R };
}

const slot = (M: number, a: number, b: number): number => (a <= b ? a * M + b : b * M + a);

/**
 * The local path's `DelongResult` from the sums: AUCs, 2U, the exact difference sums of squares, and the
 * covariance matrix from exact numerators (P·Q_rs − A_r·A_s and N·R_rs − A_r·A_s, one rounding each).
 * The AUCs and `diffSquares` equal the local ones; the covariances (used for the models' own intervals)
 * are the exact values rounded, where the local path sums centred doubles, so they may differ in the
 * last bits.
 */
export function delongResultFromSums(sums: DelongSums): DelongResult {
  const { P, N, M, A, Q, R } = exact(sums);
  const u2 = A.map(Number);
  const auc = u2.map((u) => u / (2 * P * N));
  const bp = BigInt(P);
  const bn = BigInt(N);
  const cov: number[][] = [];
  for (let a = 0; a < M; a++) {
    const row: number[] = [];
    for (let b = 0; b < M; b++) {
      const k = slot(M, a, b);
      const v10 = P > 1 ? Number(bp * Q[k] - A[a] * A[b]) / (4 * N * N * P * (P - 1)) : 0;
      const v01 = N > 1 ? Number(bn * R[k] - A[a] * A[b]) / (4 * P * P * N * (N - 1)) : 0;
      row.push(v10 / P + v01 / N);
    }
    cov.push(row);
  }
  const diffSquares: { pos: bigint; neg: bigint }[] = [];
  for (let k = 0; k < M * M; k++) {
    const a = Math.floor(k / M);
    const b = k % M;
    if (a > b) diffSquares.push({ pos: 0n, neg: 0n });
    else diffSquares.push({ pos: Q[slot(M, a, a)] + Q[slot(M, b, b)] - 2n * Q[k], neg: R[slot(M, a, a)] + R[slot(M, b, b)] - 2n * R[k] });
  }
  return { auc, u2, diffSquares, cov, positives: P, negatives: N };
}

/**
 * AUC_a − AUC_b, its DeLong variance, z and p from the sums: the local `delongDifference`'s formulas
 * on the same exact integers, so the results are identical (===) wherever the local path applies
 * (2PN < 2^53). The difference is formed from the BigInt A_a − A_b, so it stays exact beyond that too.
 *
 * @example
 * const { delta, variance, z, pValue } = delongDifferenceFromSums(sums, 1, 0); // candidate − baseline
 */
export function delongDifferenceFromSums(sums: DelongSums, a: number, b: number): DelongDifference {
  const { P, N, M, A, Q, R } = exact(sums);
  const s = A[a] - A[b];
  const delta = Number(s) / (2 * P * N);
  if (a === b) return { delta: 0, variance: 0, pValue: 1 };
  const k = slot(M, a, b);
  const sqPos = Q[slot(M, a, a)] + Q[slot(M, b, b)] - 2n * Q[k];
  const sqNeg = R[slot(M, a, a)] + R[slot(M, b, b)] - 2n * R[k];
  return delongTestFromExactSums(delta, P, N, s, sqPos, sqNeg);
}

/** A per-row structural component, a or b, of one model: integers below 2^31 (rows are below 2^30). */
export function delongComponents(labels: Uint8Array, scores: ScoreArray, P: number, scratch?: ArrayBuffer): Float64Array {
  const n = labels.length;
  const order = sortOrder(scores, labels, { scratch: scratch ?? new ArrayBuffer(sortScratchBytes(n)) });
  const out = new Float64Array(n);
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
    const a = 2 * negBelow + gn;
    const b = 2 * (P - posBelow - gp) + gp;
    for (let k = start; k <= end; k++) out[order[k] & ROW_MASK] = order[k] & LABEL_BIT ? a : b;
    negBelow += gn;
    posBelow += gp;
    start = end + 1;
  }
  return out;
}

/** Products below this are summed exactly in doubles (flushed into BigInt before the sum reaches 2^53). */
const EXACT_PRODUCT = 2 ** 52;

/** Exact Σ x_i·y_i over the rows where `mask` holds `label`. */
function exactProductSum(x: Float64Array, y: Float64Array, labels: Uint8Array, label: number): bigint {
  let big = 0n;
  let acc = 0;
  for (let i = 0; i < x.length; i++) {
    if (labels[i] !== label) continue;
    const p = x[i] * y[i];
    if (p >= EXACT_PRODUCT) big += BigInt(x[i]) * BigInt(y[i]);
    else if ((acc += p) >= EXACT_PRODUCT) {
      big += BigInt(acc);
      acc = 0;
    }
  }
  return big + BigInt(acc);
}

/**
 * DeLong's integer sums computed locally, row by row (the reference the Spark SQL is tested against,
 * and a way to produce the return value of a Spark evaluation from a local file).
 *
 * @example
 * const sums = delongSumsOf(labels, [prod.scores, cand.scores]);
 * delongDifferenceFromSums(sums, 1, 0);
 */
export function delongSumsOf(labels: Uint8Array, models: ScoreArray[]): DelongSums {
  const n = labels.length;
  let P = 0;
  for (let i = 0; i < n; i++) P += labels[i];
  const N = n - P;
  if (P === 0 || N === 0) throw new RangeError(`DeLong needs both classes (${P} positives, ${N} negatives)`);
  const scratch = new ArrayBuffer(sortScratchBytes(n));
  const comps = models.map((scores) => delongComponents(labels, scores, P, scratch));
  const M = models.length;
  const ones = new Float64Array(n).fill(1);
  const positiveProducts: bigint[] = new Array<bigint>(M * M).fill(0n);
  const negativeProducts: bigint[] = new Array<bigint>(M * M).fill(0n);
  for (let a = 0; a < M; a++) {
    for (let b = a; b < M; b++) {
      positiveProducts[a * M + b] = exactProductSum(comps[a], comps[b], labels, 1);
      negativeProducts[a * M + b] = exactProductSum(comps[a], comps[b], labels, 0);
    }
  }
  return {
    positives: P,
    negatives: N,
    positiveSums: comps.map((c) => exactProductSum(c, ones, labels, 1)),
    negativeSums: comps.map((c) => exactProductSum(c, ones, labels, 0)),
    positiveProducts,
    negativeProducts,
  };
}
