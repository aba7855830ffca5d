/**
 * Exact regression and multiclass metrics with optional integer weights, matching scikit-learn 1.2.1
 * (definitions and sources in docs/engine-metrics.md):
 * - regression: `rmse` (square root of `mean_squared_error`), `mae` (`mean_absolute_error`), `r2`
 *   (`r2_score`), `mape` (`mean_absolute_percentage_error`, a fraction, not a percentage);
 * - multiclass, from row-major class probabilities (n rows × K classes): `log_loss`, `roc_auc_ovr`
 *   (`roc_auc_score(multi_class="ovr", average="macro")`), `roc_auc_ovr_weighted` (`average="weighted"`),
 *   `accuracy` (`accuracy_score`) and `f1_macro` (`f1_score(average="macro")`), the last two on the
 *   argmax of the probabilities, ties going to the lowest class index (numpy's `argmax`).
 *
 * Sums are formed as numpy forms them (`pairwiseSum`: the pairwise summation of numpy's add reduction),
 * so the full-data values are numpy's own roundings, not just close to them: an RMSE of 4.5·10^7 is
 * within 1e-12 of scikit-learn only when it is the same double. Weights are frequency weights (a weight
 * of k is the row repeated k times; the bootstrap's multiplicities); a class is "present" when it carries
 * positive weight.
 *
 * The functions copy nothing they do not need and never modify their inputs.
 */
import { rocAuc, LOG_LOSS_EPS } from './metrics';
import type { MulticlassMetric, RegressionMetric } from './types';

/** Regression metrics, in a fixed order. `r2` is higher-is-better, the others lower-is-better. */
export const REGRESSION_METRICS: readonly RegressionMetric[] = Object.freeze(['rmse', 'mae', 'r2', 'mape'] as RegressionMetric[]);

/** Multiclass metrics, in a fixed order. `log_loss` is lower-is-better, the others higher-is-better. */
export const MULTICLASS_METRICS: readonly MulticlassMetric[] = Object.freeze([
  'log_loss',
  'roc_auc_ovr',
  'roc_auc_ovr_weighted',
  'accuracy',
  'f1_macro',
] as MulticlassMetric[]);

/**
 * Smallest |y| MAPE divides by: scikit-learn's `np.finfo(np.float64).eps` (2^-52), so a zero label gives
 * a very large error rather than infinity.
 */
export const MAPE_EPS = 2.220446049250313e-16;

/**
 * numpy's pairwise summation (`pairwise_sum_DOUBLE` in numpy/core/src/umath/loops_utils.h.src, used by
 * every float64 `add.reduce` over a contiguous axis): below 8 terms a plain loop; up to 128 eight
 * interleaved partial sums combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) plus the remainder; above,
 * the two halves (split at a multiple of 8) summed recursively. Exported for the tests.
 *
 * @example
 * pairwiseSum([0.1, 0.2, 0.3]); // 0.6000000000000001, as np.sum
 */
export function pairwiseSum(a: ArrayLike<number>, from = 0, count = a.length - from): number {
  if (count < 8) {
    let res = 0;
    for (let i = 0; i < count; i++) res += a[from + i];
    return res;
  }
  if (count <= 128) {
    let r0 = a[from],
      r1 = a[from + 1],
      r2 = a[from + 2],
      r3 = a[from + 3];
    let r4 = a[from + 4],
      r5 = a[from + 5],
      r6 = a[from + 6],
      r7 = a[from + 7];
    let i = 8;
    const end = count - (count % 8);
    for (; i < end; i += 8) {
      r0 += a[from + i];
      r1 += a[from + i + 1];
      r2 += a[from + i + 2];
      r3 += a[from + i + 3];
      r4 += a[from + i + 4];
      r5 += a[from + i + 5];
      r6 += a[from + i + 6];
      r7 += a[from + i + 7];
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < count; i++) res += a[from + i];
    return res;
  }
  let n2 = Math.floor(count / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, from, n2) + pairwiseSum(a, from + n2, count - n2);
}

/**
 * numpy's `np.average(values, weights=weights)`: Σv/n without weights, else Σ(v·w)/Σw, each sum pairwise.
 * @throws RangeError when the weights sum to 0.
 */
export function numpyAverage(values: Float64Array, weights?: ArrayLike<number>): number {
  const n = values.length;
  if (weights === undefined) {
    if (n === 0) throw new RangeError('no rows');
    return pairwiseSum(values) / n;
  }
  const prod = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    prod[i] = values[i] * weights[i];
    w[i] = weights[i];
  }
  const total = pairwiseSum(w);
  if (total === 0) throw new RangeError('all weights are zero');
  return pairwiseSum(prod) / total;
}

/**
 * Per-row term of a regression metric, as scikit-learn forms it: (y − p)² for `rmse` and `r2`'s
 * numerator, |p − y| for `mae`, |p − y| / max(|y|, 2^-52) for `mape`. Writes into `into` when given.
 */
export function regressionRowTerms(metric: RegressionMetric, target: ArrayLike<number>, pred: ArrayLike<number>, into?: Float64Array): Float64Array {
  const n = target.length;
  const out = into ?? new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = target[i];
    const p = pred[i];
    if (metric === 'mae') out[i] = Math.abs(p - y);
    else if (metric === 'mape') out[i] = Math.abs(p - y) / Math.max(Math.abs(y), MAPE_EPS);
    else out[i] = (y - p) * (y - p);
  }
  return out;
}

function checkRegression(fn: string, target: ArrayLike<number>, pred: ArrayLike<number>, weights?: ArrayLike<number>): void {
  const n = target.length;
  if (pred.length !== n) throw new RangeError(`${fn}: ${n} labels but ${pred.length} predictions`);
  if (weights !== undefined && weights.length !== n) throw new RangeError(`${fn}: ${n} labels but ${weights.length} weights`);
  if (n === 0) throw new RangeError(`${fn}: no rows`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(target[i])) throw new RangeError(`${fn}: label at row ${i} is ${target[i]}; labels must be finite`);
    if (!Number.isFinite(pred[i])) throw new RangeError(`${fn}: prediction at row ${i} is ${pred[i]}; predictions must be finite`);
    if (weights !== undefined && !(weights[i] >= 0 && weights[i] < Infinity)) {
      throw new RangeError(`${fn}: weight at row ${i} is ${weights[i]}; weights must be finite and non-negative`);
    }
  }
}

/**
 * Root mean squared error: √(Σw(y − p)² / Σw), as `sqrt(mean_squared_error(y, p, sample_weight=w))`.
 * @example
 * rmse([1, 3], [1.5, 2]); // 0.7905694150420949
 */
export function rmse(target: ArrayLike<number>, pred: ArrayLike<number>, weights?: ArrayLike<number>): number {
  checkRegression('rmse', target, pred, weights);
  return Math.sqrt(numpyAverage(regressionRowTerms('rmse', target, pred), weights));
}

/**
 * Mean absolute error Σw|p − y| / Σw, as `mean_absolute_error(y, p, sample_weight=w)`.
 * @example
 * mae([1, 3], [1.5, 2]); // 0.75
 */
export function mae(target: ArrayLike<number>, pred: ArrayLike<number>, weights?: ArrayLike<number>): number {
  checkRegression('mae', target, pred, weights);
  return numpyAverage(regressionRowTerms('mae', target, pred), weights);
}

/**
 * Mean absolute percentage error Σw·|p − y|/max(|y|, 2^-52) / Σw, as scikit-learn's
 * `mean_absolute_percentage_error` (a fraction: 0.1 is 10%).
 * @example
 * mape([1, 3], [1.5, 2]); // 0.41666666666666663
 */
export function mape(target: ArrayLike<number>, pred: ArrayLike<number>, weights?: ArrayLike<number>): number {
  checkRegression('mape', target, pred, weights);
  return numpyAverage(regressionRowTerms('mape', target, pred), weights);
}

/**
 * Coefficient of determination 1 − Σw(y − p)² / Σw(y − ȳ_w)², as `r2_score(y, p, sample_weight=w)`
 * (scikit-learn 1.2's `force_finite=True`): with a constant label (denominator 0) it is 1 for a perfect
 * prediction and 0 otherwise.
 * @throws RangeError with fewer than 2 rows (scikit-learn returns NaN with a warning).
 * @example
 * r2([1, 3], [1.5, 2]); // 0.375
 */
export function r2(target: ArrayLike<number>, pred: ArrayLike<number>, weights?: ArrayLike<number>): number {
  checkRegression('r2', target, pred, weights);
  const n = target.length;
  if (n < 2) throw new RangeError('r2: R² is not well-defined with fewer than two rows');
  const sq = regressionRowTerms('r2', target, pred);
  const y = Float64Array.from(target);
  const mean = numpyAverage(y, weights);
  const dev = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = y[i] - mean;
    dev[i] = weights === undefined ? d * d : weights[i] * (d * d);
    if (weights !== undefined) sq[i] = weights[i] * sq[i];
  }
  const numerator = pairwiseSum(sq);
  const denominator = pairwiseSum(dev);
  return r2FromSums(numerator, denominator);
}

/** scikit-learn's `_assemble_r2_explained_variance` with `force_finite=True` for one output. */
export function r2FromSums(numerator: number, denominator: number): number {
  if (numerator === 0) return 1;
  if (denominator === 0) return 0;
  return 1 - numerator / denominator;
}

/** Class probabilities of one model: n rows × K classes, row-major. */
function checkMulticlass(fn: string, labels: ArrayLike<number>, proba: ArrayLike<number>, classes: number, weights?: ArrayLike<number>): void {
  const n = labels.length;
  if (!(Number.isInteger(classes) && classes >= 2)) throw new RangeError(`${fn}: classes must be an integer >= 2, got ${classes}`);
  if (proba.length !== n * classes) throw new RangeError(`${fn}: ${n} labels and ${classes} classes need ${n * classes} probabilities, got ${proba.length}`);
  if (weights !== undefined && weights.length !== n) throw new RangeError(`${fn}: ${n} labels but ${weights.length} weights`);
  if (n === 0) throw new RangeError(`${fn}: no rows`);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < classes))
      throw new RangeError(`${fn}: label at row ${i} is ${y}; labels must be class indices 0..${classes - 1}`);
    if (weights !== undefined && !(weights[i] >= 0 && weights[i] < Infinity)) {
      throw new RangeError(`${fn}: weight at row ${i} is ${weights[i]}; weights must be finite and non-negative`);
    }
    for (let c = 0; c < classes; c++) {
      const p = proba[i * classes + c];
      if (!(p >= 0 && p <= 1)) throw new RangeError(`${fn}: probability of class ${c} at row ${i} is ${p}; probabilities must be in [0, 1]`);
    }
  }
}

/**
 * Per-row multiclass log loss as scikit-learn 1.2's `log_loss`: clip every probability to
 * [2^-52, 1 − 2^-52], divide the true class's by the row's (pairwise) sum, take −log.
 */
export function multiclassRowLosses(labels: ArrayLike<number>, proba: ArrayLike<number>, classes: number, into?: Float64Array): Float64Array {
  const n = labels.length;
  const out = into ?? new Float64Array(n);
  const row = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) row[c] = Math.min(Math.max(proba[i * classes + c], LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
    out[i] = -Math.log(row[labels[i]] / pairwiseSum(row));
  }
  return out;
}

/** Index of the largest probability of each row, the lowest index among ties (numpy's `argmax`). */
export function argmaxRows(proba: ArrayLike<number>, n: number, classes: number, into?: Uint32Array): Uint32Array {
  const out = into ?? new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let top = proba[i * classes];
    for (let c = 1; c < classes; c++) {
      const p = proba[i * classes + c];
      if (p > top) {
        top = p;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/**
 * Multiclass logistic loss, the weighted mean of `multiclassRowLosses`, as
 * `log_loss(y, proba, sample_weight=w)` (with `labels=range(K)`).
 * @example
 * logLossMulticlass([0, 1, 2], [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.2, 0.3, 0.5], 3); // 0.42432189193762904
 */
export function logLossMulticlass(labels: ArrayLike<number>, proba: ArrayLike<number>, classes: number, weights?: ArrayLike<number>): number {
  checkMulticlass('logLossMulticlass', labels, proba, classes, weights);
  return numpyAverage(multiclassRowLosses(labels, proba, classes), weights);
}

/** Weight of each class (Σw over its rows). */
function classWeights(labels: ArrayLike<number>, classes: number, weights?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) out[labels[i]] += weights === undefined ? 1 : weights[i];
  return out;
}

/** One-vs-rest ROC AUC of every class (class c against the rest, scored by its probability). */
export function rocAucPerClass(labels: ArrayLike<number>, proba: ArrayLike<number>, classes: number, weights?: ArrayLike<number>): Float64Array {
  const n = labels.length;
  const out = new Float64Array(classes);
  const y = new Uint8Array(n);
  const s = new Float64Array(n);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < n; i++) {
      y[i] = labels[i] === c ? 1 : 0;
      s[i] = proba[i * classes + c];
    }
    out[c] = rocAuc(y, s, weights);
  }
  return out;
}

/**
 * Macro one-vs-rest ROC AUC: the plain mean of the K per-class AUCs, as
 * `roc_auc_score(y, proba, multi_class="ovr", average="macro", sample_weight=w)`.
 * @throws RangeError when a class carries no weight (its one-vs-rest AUC is undefined).
 */
export function rocAucOvr(labels: ArrayLike<number>, proba: ArrayLike<number>, classes: number, weights?: ArrayLike<number>): number {
  checkMulticlass('rocAucOvr', labels, proba, classes, weights);
  return pairwiseSum(rocAucPerClass(labels, proba, classes, weights)) / classes;
}

/**
 * Prevalence-weighted one-vs-rest ROC AUC: Σ_c AUC_c·W_c / Σ_c W_c with W_c the weight of class c, as
 * `roc_auc_score(y, proba, multi_class="ovr", average="weighted", sample_weight=w)`.
 * @throws RangeError when a class carries no weight.
 */
export function rocAucOvrWeighted(labels: ArrayLike<number>, proba: ArrayLike<number>, classes: number, weights?: ArrayLike<number>): number {
  checkMulticlass('rocAucOvrWeighted', labels, proba, classes, weights);
  const auc = rocAucPerClass(labels, proba, classes, weights);
  const cw = classWeights(labels, classes, weights);
  const prod = new Float64Array(classes);
  for (let c = 0; c < classes; c++) prod[c] = auc[c] * cw[c];
  return pairwiseSum(prod) / pairwiseSum(cw);
}

/**
 * Share (by weight) of rows whose argmax class is the label, as `accuracy_score(y, argmax, sample_weight=w)`.
 * Exact: both sums are integers for integer weights, so the only rounding is the division.
 */
export function accuracy(labels: ArrayLike<number>, proba: ArrayLike<number>, classes: number, weights?: ArrayLike<number>): number {
  checkMulticlass('accuracy', labels, proba, classes, weights);
  const n = labels.length;
  const pred = argmaxRows(proba, n, classes);
  let right = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i];
    total += w;
    if (pred[i] === labels[i]) right += w;
  }
  if (total === 0) throw new RangeError('accuracy: all weights are zero');
  return right / total;
}

/**
 * Macro F1 from per-class weighted counts, as scikit-learn's `precision_recall_fscore_support`: per class
 * P = tp/predicted and R = tp/true (0 when the denominator is 0: `zero_division="warn"` gives 0), F =
 * 2·P·R/(P + R) (0 when P + R = 0); the mean over the classes present (positive weight) among the labels
 * or the predictions — scikit-learn's `unique_labels(y_true, y_pred)`.
 */
export function f1MacroFromCounts(tp: ArrayLike<number>, predicted: ArrayLike<number>, truth: ArrayLike<number>, classes: number): number {
  const f: number[] = [];
  for (let c = 0; c < classes; c++) {
    if (predicted[c] === 0 && truth[c] === 0) continue;
    const p = predicted[c] === 0 ? 0 : tp[c] / predicted[c];
    const r = truth[c] === 0 ? 0 : tp[c] / truth[c];
    const denom = p + r;
    f.push(denom === 0 ? 0 : (2 * p * r) / denom);
  }
  return pairwiseSum(f) / f.length;
}

/**
 * Macro F1 of the argmax class, as `f1_score(y, argmax, average="macro", sample_weight=w)`, averaged over
 * the classes that carry weight in the labels or the predictions (see `f1MacroFromCounts`).
 */
export function f1Macro(labels: ArrayLike<number>, proba: ArrayLike<number>, classes: number, weights?: ArrayLike<number>): number {
  checkMulticlass('f1Macro', labels, proba, classes, weights);
  const n = labels.length;
  const pred = argmaxRows(proba, n, classes);
  const tp = new Float64Array(classes);
  const predicted = new Float64Array(classes);
  const truth = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i];
    predicted[pred[i]] += w;
    truth[labels[i]] += w;
    if (pred[i] === labels[i]) tp[pred[i]] += w;
  }
  if (pairwiseSum(truth) === 0) throw new RangeError('f1Macro: all weights are zero');
  return f1MacroFromCounts(tp, predicted, truth, classes);
}

/** Regression metric by name; see the individual functions. */
export function regressionMetricValue(metric: RegressionMetric, target: ArrayLike<number>, pred: ArrayLike<number>, weights?: ArrayLike<number>): number {
  switch (metric) {
    case 'rmse':
      return rmse(target, pred, weights);
    case 'mae':
      return mae(target, pred, weights);
    case 'r2':
      return r2(target, pred, weights);
    case 'mape':
      return mape(target, pred, weights);
    default:
      throw new RangeError(`unknown regression metric '${String(metric)}'`);
  }
}

/** Multiclass metric by name; see the individual functions. */
export function multiclassMetricValue(
  metric: MulticlassMetric,
  labels: ArrayLike<number>,
  proba: ArrayLike<number>,
  classes: number,
  weights?: ArrayLike<number>,
): number {
  switch (metric) {
    case 'log_loss':
      return logLossMulticlass(labels, proba, classes, weights);
    case 'roc_auc_ovr':
      return rocAucOvr(labels, proba, classes, weights);
    case 'roc_auc_ovr_weighted':
      return rocAucOvrWeighted(labels, proba, classes, weights);
    case 'accuracy':
      return accuracy(labels, proba, classes, weights);
    case 'f1_macro':
      return f1Macro(labels, proba, classes, weights);
    default:
      throw new RangeError(`unknown multiclass metric '${String(metric)}'`);
  }
}
