/**
 * The keyed Poisson bootstrap of regression RMSE and MAE (issue 23): the weights of keyed-poisson.ts, and per
 * resample the weighted mean of per-row losses in exact fixed point, so that every sum is an integer that does
 * not depend on row order, partitioning or machine (docs/keyed-poisson.md, "Regression losses").
 *
 * Regression errors are unbounded, so the fixed 2^-40 scale of log loss and Brier score could overflow. Each
 * model m gets its own scale instead, derived from its data alone: with L_m the exact maximum of its per-row
 * losses ((y − p)² for RMSE, |y − p| for MAE), s_m = min(1022, 52 − ⌊log2 L_m⌋) (1022 when L_m = 0), the
 * largest power of two with ⌊L_m · 2^s_m⌋ < 2^53. Every row's q = ⌊loss · 2^s_m⌋ is then an integer below 2^53,
 * exact as a double and as a BIGINT, and a sum over 10^9 rows with weights up to 18 stays below 2^88, well
 * within DECIMAL(38,0) (and Spark's DECIMAL(30,0) sum type). A mean is (Number(Σw·q) / Σw) · 2^-s_m: two
 * roundings, then an exact scaling, the same on every path. RMSE is the square root of the mean squared error.
 *
 * Why not r2 and mape: R² = 1 − Σw(y − p)² / Σw(y − ȳ_w)² needs the resample's own weighted mean of y, so it
 * is not one ratio of weighted sums of fixed per-row terms (Σw·y² − (Σw·y)²/Σw cancels in floating point; an
 * exact form needs fixed-point y and y² with their own scales). MAPE is a mean of per-row terms and would fit
 * this scheme, but a label near zero makes its largest term 2^52·|p − y|, which sets the scale so coarse that
 * the worst-case error bound below becomes the typical one; it is not built.
 */
import { InvalidOptionsError, PredictionsError } from './errors';
import {
  keyedBase,
  keyedResampleIndex,
  keyedSeed64,
  keyedWeightsFromBase,
  MAX_KEYED_ATTEMPTS,
  MAX_KEYED_RESAMPLES,
  rowKeysOf,
  type KeyedBase,
} from './keyed-poisson';
import { regressionRowTerms } from './metrics-more';
import type { RegressionPredictions } from './types';

/** The regression metrics the keyed bootstrap computes. */
export type KeyedRegressionMetric = 'rmse' | 'mae';

/** Largest scale: 2^-1022 is the smallest normal double, so 2^±s is always a normal power of two. */
export const REGRESSION_MAX_SCALE_BITS = 1022;

/** Per-row fixed-point losses stay below 2^53: exact as doubles, as BIGINT, and after a cast from DOUBLE. */
export const REGRESSION_FIXED_POINT_LIMIT = 2 ** 53;

const bits = new DataView(new ArrayBuffer(8));

/** 2^k exactly, for an integer k in [−1022, 1023] (built from its bits: no `Math.pow` rounding to trust). */
export function pow2(k: number): number {
  if (!(Number.isInteger(k) && k >= -1022 && k <= 1023)) throw new RangeError(`pow2 takes an integer from -1022 to 1023, got ${k}`);
  bits.setUint32(0, (k + 1023) * 2 ** 20);
  bits.setUint32(4, 0);
  return bits.getFloat64(0);
}

/** ⌊log2 x⌋ exactly, for a finite x > 0 (subnormals included): the exponent of its leading bit. */
export function floorLog2(x: number): number {
  if (!(x > 0 && x < Infinity)) throw new RangeError(`floorLog2 takes a finite number above 0, got ${x}`);
  bits.setFloat64(0, x);
  const field = (bits.getUint32(0) >>> 20) & 0x7ff;
  if (field !== 0) return field - 1023;
  // A subnormal is m · 2^-1074 with m < 2^52: its leading bit is that of m.
  let m = (bits.getUint32(0) & 0xfffff) * 2 ** 32 + bits.getUint32(4);
  let e = -1075;
  while (m >= 1) {
    m = Math.floor(m / 2);
    e++;
  }
  return e;
}

/**
 * The scale of a model's losses: s = min(1022, 52 − ⌊log2 maxLoss⌋), or 1022 when every loss is 0. The largest
 * s with ⌊maxLoss · 2^s⌋ < 2^53, so every row's fixed-point loss is below 2^53 (and the largest at least 2^52,
 * unless the cap applies).
 */
export function regressionScaleBits(maxLoss: number): number {
  if (!(maxLoss >= 0 && maxLoss < Infinity)) throw new RangeError(`the largest loss must be a finite number >= 0, got ${maxLoss}`);
  return maxLoss === 0 ? REGRESSION_MAX_SCALE_BITS : Math.min(REGRESSION_MAX_SCALE_BITS, 52 - floorLog2(maxLoss));
}

/**
 * q = ⌊loss · 2^s⌋ for every row. Exact: a product with a power of two is exact unless it is subnormal, and a
 * subnormal product is below 1, so its floor is 0 either way; the SQL (spark/regression-sql.ts) gets the same
 * integers with a chain of exact multiplications or divisions by powers of two.
 */
export function scaledFixedPoint(losses: Float64Array, s: number): Float64Array {
  const scale = pow2(s);
  const q = new Float64Array(losses.length);
  for (let r = 0; r < losses.length; r++) q[r] = Math.floor(losses[r] * scale);
  return q;
}

/**
 * The per-row losses of one model, as `regressionRowTerms` forms them ((y − p)², |p − y|), every one finite.
 *
 * @throws PredictionsError naming the model and the row when a squared error overflows a double.
 */
export function keyedRegressionLosses(metric: KeyedRegressionMetric, target: Float64Array, pred: ArrayLike<number>, name: string): Float64Array {
  const losses = regressionRowTerms(metric, target, pred);
  for (let r = 0; r < losses.length; r++) {
    if (!(losses[r] < Infinity)) {
      throw new PredictionsError(
        `column '${name}' at row ${r}: the ${metric === 'rmse' ? 'squared error' : 'absolute error'} of the prediction ${pred[r]} for the label ${target[r]} overflows a double; ${metric.toUpperCase()} of these predictions is not a finite number`,
        name,
      );
    }
  }
  return losses;
}

/** The exact maximum of non-negative losses (0 for none). */
export function maxLoss(losses: Float64Array): number {
  let max = 0;
  for (let r = 0; r < losses.length; r++) if (losses[r] > max) max = losses[r];
  return max;
}

/** Rows summed in doubles before a flush into BigInt: w·q_hi < 18·2^27 and w·q_lo < 18·2^26, so 2^21 rows stay below 2^53. */
const FLUSH_ROWS = 2 ** 21;
const SPLIT = 2 ** 26;

/** Σ_r w_r·q_r exactly, for integer q_r in [0, 2^53) and weights up to 18 (q split into 27- and 26-bit parts). */
export function exactWeightedSum53(w: ArrayLike<number>, q: Float64Array): bigint {
  let total = 0n;
  for (let start = 0; start < q.length; start += FLUSH_ROWS) {
    const end = Math.min(q.length, start + FLUSH_ROWS);
    let hiSum = 0;
    let loSum = 0;
    for (let r = start; r < end; r++) {
      const wr = w[r];
      if (wr === 0) continue;
      const qh = Math.floor(q[r] / SPLIT);
      hiSum += wr * qh;
      loSum += wr * (q[r] - qh * SPLIT);
    }
    total += BigInt(hiSum) * BigInt(SPLIT) + BigInt(loSum);
  }
  return total;
}

/** The integer sums of one keyed resample of regression losses: Σw and per model Σw·q. */
export interface KeyedRegressionSums {
  weight: number;
  losses: bigint[];
}

/** The sums of generator index `b` (what the Spark SQL returns per index; see spark/regression-sql.ts). */
export function keyedRegressionSums(base: KeyedBase, q: Float64Array[], b: number, scratch: Uint8Array): KeyedRegressionSums {
  const w = keyedWeightsFromBase(base, b, scratch);
  let weight = 0;
  for (let r = 0; r < w.length; r++) weight += w[r];
  return { weight, losses: q.map((col) => exactWeightedSum53(w, col)) };
}

/** A mean from its integer sums at scale s: (Number(Σw·q) / Σw) · 2^-s (two roundings, then an exact scaling). */
export function meanFromScaledSum(sum: bigint, weight: number, s: number): number {
  return (Number(sum) / weight) * pow2(-s);
}

/** RMSE (the square root of the mean squared error) or MAE from a mean of per-row losses. */
export function regressionMetricFromMean(metric: KeyedRegressionMetric, mean: number): number {
  return metric === 'rmse' ? Math.sqrt(mean) : mean;
}

/** The fixed-point losses of a comparison: per model its scale and its q column. */
export interface RegressionFixedPoint {
  scaleBits: number[];
  maxFixed: number[];
  q: Float64Array[];
}

/** Per model (in `models` order) the exact losses' scale, ⌊maxLoss · 2^s⌋ and the fixed-point losses. */
export function regressionFixedPoint(preds: RegressionPredictions, models: string[], metric: KeyedRegressionMetric): RegressionFixedPoint {
  const out: RegressionFixedPoint = { scaleBits: [], maxFixed: [], q: [] };
  for (const name of models) {
    const col = preds.columns.find((c) => c.name === name);
    if (col === undefined) throw new InvalidOptionsError(`there is no model column '${name}'`);
    const losses = keyedRegressionLosses(metric, preds.target, col.scores, name);
    const max = maxLoss(losses);
    const s = regressionScaleBits(max);
    out.scaleBits.push(s);
    out.maxFixed.push(Math.floor(max * pow2(s)));
    out.q.push(scaledFixedPoint(losses, s));
  }
  return out;
}

/** Full-data estimates and per-resample statistics of a keyed regression run, with each model's scale. */
export interface KeyedRegressionRun {
  estimates: number[];
  scaleBits: number[];
  run: { resamples: number; stats: Float64Array; redraws: Uint32Array };
}

/**
 * The keyed Poisson bootstrap of RMSE or MAE for `models` (paired: one weight vector per resample, shared by
 * every model). A draw whose weights are all 0 is drawn again at b + a·2^20 and counted in `redraws` (there are
 * no classes to miss). The full-data estimates are the fixed-point means too, so no floating sum depends on row
 * order; they are within 2^-s of the exact means (docs/keyed-poisson.md).
 *
 * @throws InvalidOptionsError for B above 2^20 or row weights; PredictionsError for bad keys, an overflowing
 *   loss, or 16 empty draws of one resample.
 * @example
 * const { estimates, run } = runKeyedRegression(preds, ['prod', 'cand'], 'rmse', 42, 1000);
 */
export function runKeyedRegression(
  preds: RegressionPredictions,
  models: string[],
  metric: KeyedRegressionMetric,
  seed: string | number,
  resamples: number,
): KeyedRegressionRun {
  if (!(Number.isInteger(resamples) && resamples >= 1 && resamples <= MAX_KEYED_RESAMPLES)) {
    throw new InvalidOptionsError(`resamples must be an integer from 1 to ${MAX_KEYED_RESAMPLES} with bootstrap 'keyedPoisson', got ${String(resamples)}`);
  }
  if (preds.weight !== undefined) {
    throw new InvalidOptionsError(
      `bootstrap 'keyedPoisson' does not take row weights (weight column '${preds.weight.name}'); leave the weights out or use 'multinomial'`,
    );
  }
  const keys = rowKeysOf(preds);
  const n = preds.n;
  const fixed = regressionFixedPoint(preds, models, metric);
  const base = keyedBase(keyedSeed64(seed), keys);
  const valueOf = (sum: bigint, weight: number, m: number): number => regressionMetricFromMean(metric, meanFromScaledSum(sum, weight, fixed.scaleBits[m]));
  const ones = new Uint8Array(n).fill(1);
  const estimates = fixed.q.map((col, m) => valueOf(exactWeightedSum53(ones, col), n, m));
  const M = models.length;
  const stats = new Float64Array(M * resamples);
  const redraws = new Uint32Array(resamples);
  const w = new Uint8Array(n);
  for (let b = 0; b < resamples; b++) {
    let sums: KeyedRegressionSums;
    for (let attempt = 0; ; attempt++) {
      if (attempt === MAX_KEYED_ATTEMPTS) {
        throw new PredictionsError(
          `keyed Poisson resample ${b} drew weight 0 for every row in ${MAX_KEYED_ATTEMPTS} draws; the data are too small to bootstrap`,
        );
      }
      sums = keyedRegressionSums(base, fixed.q, keyedResampleIndex(b, attempt), w);
      if (sums.weight > 0) break;
      redraws[b]++;
    }
    for (let m = 0; m < M; m++) stats[m * resamples + b] = valueOf(sums.losses[m], sums.weight, m);
  }
  return { estimates, scaleBits: fixed.scaleBits, run: { resamples, stats, redraws } };
}
