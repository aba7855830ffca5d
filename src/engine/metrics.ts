/**
 * Exact binary-classification metrics with optional weights, matching scikit-learn 1.2:
 * `roc_auc_score`, `average_precision_score`, `log_loss`, `brier_score_loss`.
 *
 * Weights are meant to be bootstrap multiplicities (non-negative integers): a weight of k is the same as
 * repeating the row k times. With integer weights ROC AUC is exact (every intermediate is an integer
 * below 2^53; the only rounding is the final division). Non-integer non-negative weights are accepted
 * and behave as scikit-learn's `sample_weight`.
 *
 * The functions copy nothing they do not need and never modify their inputs.
 */
import { LABEL_BIT, ROW_MASK, TIE_WITH_NEXT, sortOrder } from './sort';
import type { AnyMetric, Metric, ScoreArray } from './types';

/** Labels accepted by the metric functions: 0/1 numbers (or booleans coerced by the caller). */
export type LabelInput = ArrayLike<number>;
/** Scores accepted by the metric functions: a typed score column or any array of numbers. */
export type ScoreInput = ScoreArray | ArrayLike<number>;

/**
 * True when a larger value of `metric` is better: `roc_auc`, `average_precision`, and for the other
 * problem types `r2`, `roc_auc_ovr`, `roc_auc_ovr_weighted`, `accuracy`, `f1_macro`.
 */
export function isHigherBetter(metric: AnyMetric): boolean {
  return (
    metric === 'roc_auc' ||
    metric === 'average_precision' ||
    metric === 'r2' ||
    metric === 'roc_auc_ovr' ||
    metric === 'roc_auc_ovr_weighted' ||
    metric === 'accuracy' ||
    metric === 'f1_macro'
  );
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative,
 * ties counting one half — the Mann–Whitney U statistic divided by P·N, which equals scikit-learn's
 * trapezoidal `roc_auc_score` (Hanley & McNeil 1982; Mason & Graham 2002).
 *
 * With weights c: U = Σ_pos c_i · (negative weight strictly below) + ½ Σ_tie groups p_g · q_g.
 *
 * @throws RangeError when the (weighted) data hold only one class.
 * @example
 * rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]); // 0.75
 * rocAuc([0, 1, 1], [0.2, 0.5, 0.9], [2, 1, 0]); // weight 0 drops the last row: 1
 */
export function rocAuc(labels: LabelInput, scores: ScoreInput, weights?: ArrayLike<number>): number {
  const s = checkInputs('rocAuc', labels, scores, weights);
  const { u2, pos, neg } = aucSums(sortOrder(s), labels, weights);
  if (pos === 0 || neg === 0) {
    throw new RangeError(`rocAuc: only one class present (${pos} positive and ${neg} negative weight); ROC AUC is undefined`);
  }
  return u2 / (2 * pos * neg);
}

/**
 * Weighted Mann–Whitney sums over an ascending order with tie marks (from `sortOrder`): twice U, and the
 * positive and negative weight totals. `labels` null: read each label from the order's label bit.
 * Exported for the engine; see `rocAuc`.
 */
export function aucSums(order: Uint32Array, labels: LabelInput | null, weights?: ArrayLike<number>): { u2: number; pos: number; neg: number } {
  const n = order.length;
  let u2 = 0;
  let negBelow = 0;
  let posTotal = 0;
  let gp = 0;
  let gn = 0;
  for (let k = 0; k < n; k++) {
    const e = order[k];
    const row = e & ROW_MASK;
    const w = weights === undefined ? 1 : weights[row];
    if (labels === null ? e & LABEL_BIT : labels[row] === 1) gp += w;
    else gn += w;
    if ((e & TIE_WITH_NEXT) === 0) {
      u2 += gp * (2 * negBelow + gn);
      negBelow += gn;
      posTotal += gp;
      gp = 0;
      gn = 0;
    }
  }
  return { u2, pos: posTotal, neg: negBelow };
}

/**
 * Average precision as scikit-learn defines it (no interpolation):
 * AP = Σ_k (R_k − R_{k−1}) · P_k over the distinct score thresholds in decreasing order, where P_k and R_k
 * are the (weighted) precision and recall of predicting positive at scores ≥ threshold k.
 *
 * @throws RangeError when there is no positive weight.
 * @example
 * averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]); // 0.8333333333333333
 */
export function averagePrecision(labels: LabelInput, scores: ScoreInput, weights?: ArrayLike<number>): number {
  const s = checkInputs('averagePrecision', labels, scores, weights);
  const { sum, pos } = apSums(sortOrder(s), labels, weights);
  if (pos === 0) throw new RangeError('averagePrecision: no positive labels (with non-zero weight); average precision is undefined');
  return sum / pos;
}

/**
 * Σ_thresholds (positive weight at the threshold) · precision, walking the ascending order backwards,
 * and the positive weight total; AP = sum / pos. `labels` null: read labels from the order's label bit.
 * Exported for the engine; see `averagePrecision`.
 */
export function apSums(order: Uint32Array, labels: LabelInput | null, weights?: ArrayLike<number>): { sum: number; pos: number } {
  let tp = 0;
  let fp = 0;
  let sum = 0;
  let gp = 0;
  let gn = 0;
  for (let k = order.length - 1; k >= 0; k--) {
    const e = order[k];
    const row = e & ROW_MASK;
    const w = weights === undefined ? 1 : weights[row];
    if (labels === null ? e & LABEL_BIT : labels[row] === 1) gp += w;
    else gn += w;
    if (k === 0 || (order[k - 1] & TIE_WITH_NEXT) === 0) {
      tp += gp;
      fp += gn;
      sum += (gp * tp) / (tp + fp || 1);
      gp = 0;
      gn = 0;
    }
  }
  return { sum, pos: tp };
}

/** Smallest probability log loss uses: scikit-learn 1.2's `eps="auto"` for float64 input (2^-52). */
export const LOG_LOSS_EPS = 2.220446049250313e-16;

/**
 * Per-row loss of `metric` (`log_loss` or `brier`) for scores that are probabilities in [0, 1].
 * log_loss follows scikit-learn 1.2 exactly: clip to [eps, 1 − eps], form [1 − p, p], renormalise, and
 * take −log of the entry of the true class. Brier: (y − p)².
 *
 * Writes into `into` when given.
 *
 * @throws RangeError when a score is outside [0, 1] (scikit-learn's log_loss would silently clip; a
 * probability metric on non-probabilities is a mistake we prefer to report).
 * @example
 * rowLosses('brier', [0, 1], [0.2, 0.9]); // Float64Array [0.04, 0.01] (up to rounding)
 */
export function rowLosses(metric: 'log_loss' | 'brier', labels: LabelInput, scores: ScoreInput, column = 'scores', into?: Float64Array): Float64Array {
  const n = scores.length;
  const out = into ?? new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = scores[i];
    if (!(p >= 0 && p <= 1)) {
      throw new RangeError(`${metric} needs probabilities in [0, 1], but column '${column}' has ${p} at row ${i}`);
    }
    const y = labels[i];
    if (metric === 'brier') {
      out[i] = (y - p) * (y - p);
    } else {
      const pc = Math.min(Math.max(p, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
      const qc = 1 - pc;
      const total = qc + pc;
      out[i] = -Math.log((y === 1 ? pc : qc) / total);
    }
  }
  return out;
}

/**
 * Logistic loss (cross-entropy) of probability scores, weighted mean over rows, as scikit-learn 1.2's
 * `log_loss(y, p, sample_weight=w)` (clipping at 2^-52). Unlike scikit-learn it accepts a single class.
 *
 * @example
 * logLoss([0, 1], [0.2, 0.8]); // 0.2231435513142097
 */
export function logLoss(labels: LabelInput, scores: ScoreInput, weights?: ArrayLike<number>): number {
  checkInputs('logLoss', labels, scores, weights);
  return weightedMean(rowLosses('log_loss', labels, scores), weights);
}

/**
 * Brier score: weighted mean squared difference between the label and the probability score, as
 * scikit-learn's `brier_score_loss(y, p, sample_weight=w)`.
 *
 * @example
 * brierScore([0, 1], [0.2, 0.8]); // 0.04 (up to rounding)
 */
export function brierScore(labels: LabelInput, scores: ScoreInput, weights?: ArrayLike<number>): number {
  checkInputs('brierScore', labels, scores, weights);
  return weightedMean(rowLosses('brier', labels, scores), weights);
}

/** Computes `metric` by name; see the individual functions. */
export function metricValue(metric: Metric, labels: LabelInput, scores: ScoreInput, weights?: ArrayLike<number>): number {
  switch (metric) {
    case 'roc_auc':
      return rocAuc(labels, scores, weights);
    case 'average_precision':
      return averagePrecision(labels, scores, weights);
    case 'log_loss':
      return logLoss(labels, scores, weights);
    case 'brier':
      return brierScore(labels, scores, weights);
    default:
      throw new RangeError(`unknown metric '${String(metric)}'`);
  }
}

function weightedMean(values: Float64Array, weights?: ArrayLike<number>): number {
  let s = 0;
  let w = 0;
  for (let i = 0; i < values.length; i++) {
    const c = weights === undefined ? 1 : weights[i];
    s += c * values[i];
    w += c;
  }
  if (w === 0) throw new RangeError('all weights are zero');
  return s / w;
}

const TYPED_SCORE_CTORS = [Float64Array, Float32Array, Int32Array, Int16Array, Int8Array, Uint32Array, Uint16Array, Uint8Array];

/** Validates lengths, labels, scores and weights; returns the scores as a typed array (copying plain arrays). */
function checkInputs(fn: string, labels: LabelInput, scores: ScoreInput, weights?: ArrayLike<number>): ScoreArray {
  const n = labels.length;
  if (scores.length !== n) throw new RangeError(`${fn}: ${n} labels but ${scores.length} scores`);
  if (weights !== undefined && weights.length !== n) throw new RangeError(`${fn}: ${n} labels but ${weights.length} weights`);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new RangeError(`${fn}: label at row ${i} is ${y}; labels must be 0 or 1`);
    const s = scores[i];
    if (!Number.isFinite(s)) throw new RangeError(`${fn}: score at row ${i} is ${s}; scores must be finite`);
    if (weights !== undefined) {
      const w = weights[i];
      if (!(w >= 0 && w < Infinity)) throw new RangeError(`${fn}: weight at row ${i} is ${w}; weights must be finite and non-negative`);
    }
  }
  const typed = TYPED_SCORE_CTORS.some((C) => scores instanceof C);
  return typed ? (scores as ScoreArray) : Float64Array.from(scores as ArrayLike<number>);
}
