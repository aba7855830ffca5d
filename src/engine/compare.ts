/**
 * The decision: compare candidates with the production model (the baseline) and decide whether to
 * promote the best one.
 *
 * Rule (all thresholds are options):
 * 1. The best candidate is chosen by paired comparison, independently of input order: the largest mean
 *    metric over the shared resamples (for the bootstrap; on shared resamples mean(A) − mean(B) is the
 *    mean paired difference, so this ranking is transitive), or the largest full-data AUC (DeLong);
 *    ties are broken by the full-data estimate, then by column name.
 * 2. With a baseline, a resample is a **win** when the best candidate's oriented improvement is strictly
 *    greater than `minDelta`; promote iff the share of wins reaches `winRate` and (when given) its
 *    full-data metric reaches `minMetric` — unless it shows no difference at all from the baseline
 *    (every paired resample delta exactly 0; for DeLong an AUC difference of exactly 0 with variance 0),
 *    or DeLong cannot weigh the difference (undetermined variance), in which cases production is kept.
 *    DeLong's analogue of the share is P(improvement > minDelta) under its normal approximation.
 *    Equivalently the lower bound of the improvement at the `winRate` level (`gateBound`: the
 *    ⌈winRate·B⌉-th largest paired delta, or Δ − z_winRate·sd) must exceed `minDelta`; the report shows
 *    that bound next to the two-sided interval.
 * 3. Without a baseline, promote iff `minMetric` holds or no floor is set.
 * 4. Without candidates, the decision is `none`.
 *
 * Why ties are not wins. The seed design counted a resample as a win when the candidate was "at least
 * as good" (delta ≥ 0). A candidate that equals production on most rows then ties on most resamples and
 * "wins" them all: a copy of the production model with one row's score changed was promoted with a win
 * rate of 100% and a delta of +0.0000. A release has costs (review, rollout, monitoring, risk) that a
 * tie does not repay, so only a strict improvement beyond `minDelta` counts; the default `minDelta`
 * (see `defaultMinDelta`) sets that improvement at a size worth a release.
 */
import { prepareBootstrap, runBootstrap, type BootstrapRun, type PreparedBootstrap } from './bootstrap';
import { delongCovariance, delongDifference, normalShareAbove, type DelongResult } from './delong';
import { InvalidOptionsError, PredictionsError } from './errors';
import { isHigherBetter } from './metrics';
import { mean, normalQuantile, percentileInterval } from './stats';
import { compareExtended, isKeyedRegression, needsExtended } from './compare-more';
import { formatInteger, formatPercent as pct, metricFormat, type MetricFormat } from './format';
import { runKeyedPoisson } from './keyed-poisson';
import {
  METHODS,
  METRICS,
  type AnyMetric,
  type BootstrapScheme,
  type CompareOptions,
  type Decision,
  type Metric,
  type ModelResult,
  type AnyPredictions,
  type Predictions,
  type VersusBaseline,
  type WeightColumn,
} from './types';

/**
 * Validated options and the model list, shared by the sync and the multi-threaded entry points (so
 * both take exactly the same decision path).
 */
export interface ComparisonPlan {
  preds: Predictions;
  opts: CompareOptions;
  metric: Metric;
  scheme: BootstrapScheme;
  baseline?: string;
  candidates: string[];
  /** Models in kernel order: the reference model first (baseline, else the smallest name). */
  kernelModels: string[];
}

/** Metric names in the reasons. */
export const METRIC_LABEL: Record<AnyMetric, string> = {
  roc_auc: 'ROC AUC',
  average_precision: 'average precision',
  log_loss: 'log loss',
  brier: 'Brier score',
  rmse: 'RMSE',
  mae: 'MAE',
  r2: 'R²',
  mape: 'MAPE',
  roc_auc_ovr: 'one-vs-rest ROC AUC',
  roc_auc_ovr_weighted: 'weighted one-vs-rest ROC AUC',
  accuracy: 'accuracy',
  f1_macro: 'macro F1',
};

/**
 * What the decision rule needs to know about a comparison, whatever the problem type (a
 * `ComparisonPlan` is one).
 */
export interface RulePlan {
  opts: CompareOptions<AnyMetric>;
  metric: AnyMetric;
  baseline?: string;
  candidates: string[];
}

/**
 * Compares candidates with the baseline and decides, on the calling thread.
 *
 * @throws InvalidOptionsError for invalid options or unknown columns; PredictionsError for unusable data.
 * @example
 * const d = compareModels(preds, {
 *   baseline: 'prod', metric: 'roc_auc', method: 'bootstrap', resamples: 1000, seed: 42,
 *   winRate: 0.95, minDelta: 0.001, confidence: 0.95,
 * });
 * if (d.decision === 'promote') console.log(d.best, d.reason);
 */
export function compareModels(preds: Predictions, opts: CompareOptions): Decision;
export function compareModels(preds: AnyPredictions, opts: CompareOptions<AnyMetric>): Decision<AnyMetric>;
export function compareModels(preds: AnyPredictions, opts: CompareOptions<AnyMetric>): Decision<AnyMetric> {
  if (opts !== null && typeof opts === 'object' && opts.bootstrap === 'keyedPoisson' && needsExtended(opts) && !isKeyedRegression(opts)) {
    throw new InvalidOptionsError(
      "bootstrap 'keyedPoisson' supports binary classification without guardrails or slices, and regression likewise; use 'multinomial' for those",
    );
  }
  // Regression, multiclass, guardrails and slices (compare-more.ts); without them, the binary path below as it always was.
  if (needsExtended(opts)) return compareExtended(preds, opts);
  if (preds !== null && typeof preds === 'object' && ('target' in preds || 'classes' in preds)) {
    const kind = 'target' in preds ? 'regression' : 'multiclass';
    throw new InvalidOptionsError(`these are ${kind} predictions; set problemType '${kind}' (the default is binaryClassification)`);
  }
  return compareBinary(preds as Predictions, opts as CompareOptions);
}

/** The binary comparison on one metric (no guardrails, no slices). */
export function compareBinary(preds: Predictions, opts: CompareOptions): Decision {
  const plan = planComparison(preds, opts);
  if (plan.candidates.length === 0) return noCandidateDecision(plan);
  if (opts.method === 'delong') return delongDecision(plan);
  if (plan.scheme === 'keyedPoisson') {
    const keyed = runKeyedPoisson(preds, plan.kernelModels, plan.metric, opts.seed, opts.resamples);
    return decisionFromBootstrap(plan, baseDecision(plan), plan.kernelModels, keyed.estimates, keyed.run) as Decision;
  }
  const prep = prepareBootstrap(preds, plan.kernelModels, plan.metric, plan.scheme);
  return bootstrapDecision(plan, prep, runBootstrap(prep, opts.seed, opts.resamples));
}

/**
 * Validates the options and the data, and fixes the model list: the baseline (if any) and the
 * candidates in the caller's order, plus the kernel's order, whose first model is the bootstrap's
 * reference. The reference is the baseline, or without one the smallest column name — never "the
 * first column" — so the resamples, hence every number, do not depend on the order of the columns.
 *
 * @throws InvalidOptionsError, PredictionsError (see `compareModels`).
 * @example
 * const plan = planComparison(preds, { ...opts, baseline: 'prod' });
 * plan.kernelModels; // ['prod', 'cand']
 */
export function planComparison(preds: Predictions, opts: CompareOptions): ComparisonPlan {
  validateOptions(opts);
  validatePredictions(preds);
  if (preds.weight !== undefined && opts.bootstrap === 'keyedPoisson' && opts.method === 'bootstrap') {
    throw new InvalidOptionsError(
      `bootstrap 'keyedPoisson' does not take row weights (weight column '${preds.weight.name}'); leave the weights out or use 'multinomial'`,
    );
  }
  if (preds.weight !== undefined && opts.method === 'delong') {
    // The engine's DeLong (Sun & Xu's structural components) is defined for unweighted rows only.
    throw new InvalidOptionsError(
      `method 'delong' does not take row weights (weight column '${preds.weight.name}'); use the bootstrap, or leave the weights out`,
    );
  }
  const names = preds.columns.map((c) => c.name);
  const { baseline } = opts;
  if (baseline !== undefined && !names.includes(baseline)) {
    throw new InvalidOptionsError(`baseline column '${baseline}' is not in the predictions (columns: ${names.join(', ')})`);
  }
  let candidates: string[];
  if (opts.candidates !== undefined) {
    candidates = [...opts.candidates];
    const seen = new Set<string>();
    for (const c of candidates) {
      if (!names.includes(c)) throw new InvalidOptionsError(`candidate column '${c}' is not in the predictions (columns: ${names.join(', ')})`);
      if (c === baseline) throw new InvalidOptionsError(`column '${c}' cannot be both the baseline and a candidate`);
      if (seen.has(c)) throw new InvalidOptionsError(`candidate column '${c}' is listed twice`);
      seen.add(c);
    }
  } else {
    candidates = names.filter((c) => c !== baseline);
  }
  const used = baseline === undefined ? candidates : [baseline, ...candidates];
  for (const name of used) validateScores(preds, name, opts.metric);
  const kernelModels = baseline === undefined ? [...candidates].sort(compareNames) : [baseline, ...candidates];
  return { preds, opts, metric: opts.metric, scheme: opts.bootstrap ?? 'multinomial', baseline, candidates, kernelModels };
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every option's range; messages name the option and echo the value. */
export function validateOptions(o: CompareOptions): void {
  const bad = (msg: string): never => {
    throw new InvalidOptionsError(msg);
  };
  if (o === null || typeof o !== 'object') bad('options are required');
  if (!METRICS.includes(o.metric)) bad(`unknown metric '${String(o.metric)}' (expected one of ${METRICS.join(', ')})`);
  if (!METHODS.includes(o.method)) bad(`unknown method '${String(o.method)}' (expected one of ${METHODS.join(', ')})`);
  if (o.method === 'delong' && o.metric !== 'roc_auc') bad(`method 'delong' applies to roc_auc only, not to ${o.metric}`);
  if (o.method === 'bootstrap' && !(Number.isInteger(o.resamples) && o.resamples >= 1 && o.resamples <= 10_000_000)) {
    bad(`resamples must be an integer from 1 to 10000000, got ${String(o.resamples)}`);
  }
  if (!(typeof o.seed === 'string' || (typeof o.seed === 'number' && Number.isFinite(o.seed)))) {
    bad(`seed must be a string or a finite number, got ${String(o.seed)}`);
  }
  if (!(typeof o.winRate === 'number' && o.winRate > 0 && o.winRate <= 1)) bad(`winRate must be in (0, 1], got ${String(o.winRate)}`);
  if (!(typeof o.confidence === 'number' && o.confidence > 0 && o.confidence < 1)) {
    bad(`confidence must be in (0, 1), got ${String(o.confidence)}`);
  }
  if (!(typeof o.minDelta === 'number' && Number.isFinite(o.minDelta))) bad(`minDelta must be a finite number, got ${String(o.minDelta)}`);
  if (o.minMetric !== undefined && !(typeof o.minMetric === 'number' && Number.isFinite(o.minMetric))) {
    bad(`minMetric must be a finite number, got ${String(o.minMetric)}`);
  }
  if (o.bootstrap !== undefined && o.bootstrap !== 'multinomial' && o.bootstrap !== 'poisson' && o.bootstrap !== 'keyedPoisson') {
    bad(`bootstrap must be 'multinomial' or 'poisson' (or 'keyedPoisson' with a row key), got '${String(o.bootstrap)}'`);
  }
}

/**
 * Shape and labels of predictions built by a caller rather than by `readPredictions` (which already
 * checks them): a comparison needs rows, 0/1 labels of both classes, equal lengths, unique names.
 */
function validatePredictions(p: Predictions): void {
  if (!p || !(p.labels instanceof Uint8Array) || !Array.isArray(p.columns)) {
    throw new PredictionsError('predictions must have a Uint8Array of labels and an array of columns');
  }
  const n = p.n;
  if (n === 0) throw new PredictionsError('the predictions are empty (0 rows)');
  if (p.labels.length !== n) throw new PredictionsError(`the label column has ${p.labels.length} rows, expected ${n}`, 'label');
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const y = p.labels[i];
    if (y > 1) throw new PredictionsError(`the label column has the value ${y} at row ${i}; labels must be 0 or 1`, 'label');
    positives += y;
  }
  if (positives === 0 || positives === n) {
    throw new PredictionsError(`the label column holds only one class (${positives} positives in ${n} rows); a comparison needs both`, 'label');
  }
  const seen = new Set<string>();
  if (p.weight !== undefined) validateWeights(p);
  for (const c of p.columns) {
    if (p.weight !== undefined && c.name === p.weight.name) {
      throw new PredictionsError(`column '${c.name}' is the weight column; it cannot also be a model`, c.name);
    }
    if (seen.has(c.name)) throw new PredictionsError(`column '${c.name}' appears twice`, c.name);
    seen.add(c.name);
    if (c.scores.length !== n) throw new PredictionsError(`column '${c.name}' has ${c.scores.length} rows but the label column has ${n}`, c.name);
  }
}

/**
 * Weights built by a caller: a Uint32Array (hence integers from 0 to 2^32 − 1) of n values, with some
 * weight on both classes. `readPredictions` checks the Arrow values themselves (type, sign, integrality,
 * each with its row).
 */
function validateWeights(p: Predictions): void {
  const w = p.weight!;
  if (typeof w.name !== 'string' || !(w.values instanceof Uint32Array)) {
    throw new PredictionsError('the weight column must have a name and a Uint32Array of values (non-negative integers)');
  }
  if (w.values.length !== p.n) throw new PredictionsError(`the weight column '${w.name}' has ${w.values.length} rows but the label column has ${p.n}`, w.name);
  const { total, positive } = weightSummary(p.labels, w);
  if (positive === 0 || positive === total) {
    throw new PredictionsError(
      `the weight column '${w.name}' gives weight 0 to every ${positive === 0 ? 'positive' : 'negative'} row (total weight ${total}); a comparison needs weight on both classes`,
      w.name,
    );
  }
}

/** Total weight and the positive rows' weight (exact while the total stays below 2^53). */
function weightSummary(labels: Uint8Array, w: WeightColumn): { column: string; total: number; positive: number } {
  let total = 0;
  let positive = 0;
  for (let i = 0; i < labels.length; i++) {
    const x = w.values[i];
    total += x;
    if (labels[i] === 1) positive += x;
  }
  return { column: w.name, total, positive };
}

/** The scores of a compared column: finite, and probabilities for the loss metrics. */
function validateScores(p: Predictions, name: string, metric: Metric): void {
  const scores = p.columns.find((c) => c.name === name)!.scores;
  const probability = metric === 'log_loss' || metric === 'brier';
  let bad = 0;
  let first = -1;
  let outside = 0;
  let firstOutside = -1;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (s - s !== 0) {
      if (bad++ === 0) first = i;
    } else if (probability && !(s >= 0 && s <= 1)) {
      if (outside++ === 0) firstOutside = i;
    }
  }
  if (bad > 0) throw new PredictionsError(`column '${name}' has ${bad} NaN or infinite score${bad > 1 ? 's' : ''} (first at row ${first})`, name);
  if (outside > 0) {
    throw new PredictionsError(
      `column '${name}' has ${outside} score${outside > 1 ? 's' : ''} outside [0, 1] (first at row ${firstOutside}: ${scores[firstOutside]}); ${metric} needs probabilities`,
      name,
    );
  }
}

function countPositives(labels: Uint8Array): number {
  let p = 0;
  for (let i = 0; i < labels.length; i++) p += labels[i];
  return p;
}

function baseDecision(plan: ComparisonPlan): Omit<Decision, 'decision' | 'reason' | 'models'> {
  const weight = plan.preds.weight !== undefined ? weightSummary(plan.preds.labels, plan.preds.weight) : undefined;
  return decisionBase(plan, plan.scheme, plan.preds.n, countPositives(plan.preds.labels), weight);
}

/**
 * The decision's fields other than the verdict and the models, from the plan and the data's counts: shared by
 * the local path and the one finished from integer sums (spark-sums.ts), so both records have the same shape.
 */
export function decisionBase(
  plan: Pick<ComparisonPlan, 'opts' | 'metric' | 'baseline'>,
  scheme: BootstrapScheme,
  n: number,
  positives: number,
  weight?: Decision['weight'],
): Omit<Decision, 'decision' | 'reason' | 'models'> {
  const o = plan.opts;
  const d: Omit<Decision, 'decision' | 'reason' | 'models'> = {
    metric: plan.metric,
    higherIsBetter: isHigherBetter(plan.metric),
    method: o.method,
    ...(o.method === 'bootstrap' ? { bootstrap: scheme } : {}),
    seed: o.seed,
    resamples: o.method === 'bootstrap' ? o.resamples : 0,
    confidence: o.confidence,
    winRateThreshold: o.winRate,
    minDelta: o.minDelta,
    ...(o.minMetric !== undefined ? { minMetric: o.minMetric } : {}),
    ...(plan.baseline !== undefined ? { baseline: plan.baseline } : {}),
    degenerateResamples: 0,
    n,
    positives,
    ...(weight !== undefined ? { weight } : {}),
  };
  return d;
}

/**
 * Decision without candidates: `none`, with the baseline's metric when there is a baseline (the seed
 * design "promoted" `runs:/None/model` in this case).
 */
export function noCandidateDecision(plan: ComparisonPlan): Decision {
  const base = baseDecision(plan);
  const models: ModelResult[] = [];
  let reason = 'No decision: there is no candidate column to evaluate.';
  if (plan.baseline !== undefined) {
    const col = plan.preds.columns.find((c) => c.name === plan.baseline)!;
    const prep = prepareBootstrap(
      { n: plan.preds.n, labels: plan.preds.labels, columns: [col], ...(plan.preds.weight !== undefined ? { weight: plan.preds.weight } : {}) },
      [plan.baseline],
      plan.metric,
      plan.scheme,
    );
    models.push({ name: plan.baseline, estimate: prep.estimates[0], isBaseline: true });
    reason = `No decision: there is no candidate to compare with the baseline '${plan.baseline}'.`;
  }
  return { decision: 'none', reason, ...base, models };
}

/**
 * Builds the decision from a finished bootstrap run: per model the full-data estimate, the resample
 * mean and percentile interval; per candidate the paired, oriented deltas against the baseline (win
 * rate, mean, interval, share above `minDelta`); then the best candidate and the rule.
 *
 * @example
 * const prep = prepareBootstrap(preds, plan.kernelModels, plan.metric, plan.scheme);
 * const decision = bootstrapDecision(plan, prep, runBootstrap(prep, seed, 1000));
 */
export function bootstrapDecision(plan: ComparisonPlan, prep: PreparedBootstrap, run: BootstrapRun): Decision {
  return decisionFromBootstrap(plan, baseDecision(plan), prep.models, prep.estimates, run) as Decision;
}

/**
 * `bootstrapDecision` for any problem type: `models` and `estimates` in the order of the run's
 * statistics (`stats[m * resamples + b]`), `base` the decision's other fields.
 */
export function decisionFromBootstrap(
  plan: RulePlan,
  base: Omit<Decision<AnyMetric>, 'decision' | 'reason' | 'models'>,
  kernelModels: string[],
  estimates: number[],
  run: { resamples: number; stats: Float64Array; redraws: Uint32Array },
): Decision<AnyMetric> {
  const o = plan.opts;
  const B = run.resamples;
  const sign = isHigherBetter(plan.metric) ? 1 : -1;
  const dist = (name: string): Float64Array => {
    const m = kernelModels.indexOf(name);
    return run.stats.subarray(m * B, (m + 1) * B);
  };
  const estimateOf = (name: string): number => estimates[kernelModels.indexOf(name)];
  const resultOf = (name: string, isBaseline: boolean): ModelResult => ({
    name,
    estimate: estimateOf(name),
    mean: mean(dist(name)),
    ci: percentileInterval(dist(name), o.confidence),
    isBaseline,
  });
  const deltaDistributions: { [model: string]: number[] } = Object.create(null);
  // Candidates whose every paired delta is exactly 0 (the baseline re-logged): never promoted.
  const indistinguishable = new Set<string>();
  const models: ModelResult[] = [];
  if (plan.baseline !== undefined) models.push(resultOf(plan.baseline, true));
  for (const name of plan.candidates) {
    const r = resultOf(name, false);
    if (plan.baseline !== undefined) {
      const cand = dist(name);
      const base = dist(plan.baseline);
      const deltas = new Float64Array(B);
      let wins = 0;
      let differing = 0;
      for (let b = 0; b < B; b++) {
        const d = sign * (cand[b] - base[b]);
        deltas[b] = d;
        // Strictly above minDelta: a tie is not a win (see the module comment).
        if (d > o.minDelta) wins++;
        if (d !== 0) differing++;
      }
      if (differing === 0) indistinguishable.add(name);
      const sorted = Float64Array.from(deltas).sort();
      r.vsBaseline = {
        winRate: wins / B,
        meanDelta: mean(deltas),
        deltaCi: percentileInterval(deltas, o.confidence),
        gateBound: sorted[B - winsNeeded(B, o.winRate)],
        shareAboveMinDelta: wins / B,
      };
      deltaDistributions[name] = Array.from(deltas);
    }
    models.push(r);
  }
  const best = pickBest(plan, models, (m) => sign * m.mean!);
  const decision: Decision<AnyMetric> = {
    ...decide(plan, best, (w) => `in ${w} of ${formatInteger(B)} paired resamples`, indistinguishable.has(best.name) ? 'on every resample' : undefined),
    ...base,
    models,
  };
  decision.degenerateResamples = run.redraws.reduce((a, b) => a + b, 0);
  decision.best = best.name;
  if (o.includeDistributions !== false) {
    const distributions: { [model: string]: number[] } = Object.create(null);
    for (const m of models) distributions[m.name] = Array.from(dist(m.name));
    decision.distributions = distributions;
    if (plan.baseline !== undefined) decision.deltaDistributions = deltaDistributions;
  }
  return orderKeys(decision);
}

/**
 * Builds the decision by DeLong's test (ROC AUC only): AUCs with normal intervals, and per candidate
 * the AUC difference, its variance, z and p-value. The bootstrap's win rate has no direct analogue;
 * its normal approximation Φ(Δ/sd) (the probability that the difference is ≥ 0 under the test's
 * normal model) takes its place in the rule, so both methods promote on the same scale.
 */
export function delongDecision(plan: ComparisonPlan): Decision {
  const names = plan.baseline === undefined ? plan.candidates : [plan.baseline, ...plan.candidates];
  const scores = names.map((name) => plan.preds.columns.find((c) => c.name === name)!.scores);
  return delongDecisionFrom(plan, baseDecision(plan), delongCovariance(plan.preds.labels, scores));
}

/**
 * `delongDecision` from a DeLong analysis of the models in the order [baseline, ...candidates] (candidates
 * only without a baseline): computed from the rows (`delongCovariance`) or from integer sums
 * (`delongResultFromSums`), then the same rule either way.
 */
export function delongDecisionFrom(plan: RulePlan, base: Omit<Decision, 'decision' | 'reason' | 'models'>, d: DelongResult): Decision {
  const o = plan.opts;
  const names = plan.baseline === undefined ? plan.candidates : [plan.baseline, ...plan.candidates];
  const zc = normalQuantile(1 - (1 - o.confidence) / 2);
  // One-sided level of the gate: P(improvement > minDelta) ≥ winRate ⟺ Δ − z_w·sd ≥ minDelta.
  const zw = normalQuantile(o.winRate);
  // The variance of an AUC is undefined with fewer than 2 positives or 2 negatives: no interval then.
  const defined = d.positives >= 2 && d.negatives >= 2;
  const models: ModelResult[] = names.map((name, i) => {
    const sd = Math.sqrt(Math.max(0, d.cov[i][i]));
    return {
      name,
      estimate: d.auc[i],
      ...(defined ? { ci: clip([d.auc[i] - zc * sd, d.auc[i] + zc * sd], 0, 1) } : {}),
      isBaseline: name === plan.baseline,
    };
  });
  if (plan.baseline !== undefined) {
    for (let i = 1; i < names.length; i++) {
      const diff = delongDifference(d, i, 0);
      let vs: VersusBaseline;
      if (diff.undetermined !== undefined) {
        // Nothing is known about the difference: the whole range, and no win.
        vs = {
          winRate: 0,
          meanDelta: diff.delta,
          deltaCi: [-1, 1],
          gateBound: -1,
          shareAboveMinDelta: 0,
          ...(diff.variance !== undefined ? { variance: diff.variance } : {}),
          undetermined: diff.undetermined,
        };
      } else if (diff.variance === 0) {
        // Difference 0 with variance 0 (the same ranking): a point mass at 0.
        const share = diff.delta > o.minDelta ? 1 : 0;
        vs = {
          winRate: share,
          meanDelta: diff.delta,
          deltaCi: [diff.delta, diff.delta],
          gateBound: diff.delta,
          shareAboveMinDelta: share,
          pValue: 1,
          variance: 0,
        };
      } else {
        const variance = diff.variance!;
        const sd = Math.sqrt(variance);
        const share = normalShareAbove(diff.delta, variance, o.minDelta);
        vs = {
          winRate: share,
          meanDelta: diff.delta,
          deltaCi: clip([diff.delta - zc * sd, diff.delta + zc * sd], -1, 1),
          gateBound: clip([diff.delta - zw * sd, 0], -1, 1)[0],
          shareAboveMinDelta: share,
          pValue: diff.pValue!,
          z: diff.z!,
          variance,
        };
      }
      models[i].vsBaseline = vs;
    }
  }
  const best = pickBest(
    plan,
    models.filter((m) => !m.isBaseline),
    (m) => m.estimate,
  );
  const bvs = best.vsBaseline;
  const sameAsBaseline = bvs !== undefined && bvs.meanDelta === 0 && bvs.variance === 0;
  const decision: Decision = {
    ...decide(
      plan,
      best,
      (w) => `with probability ${w} by DeLong's normal approximation`,
      sameAsBaseline ? "by DeLong's test (AUC difference 0 with variance 0)" : undefined,
    ),
    ...base,
    models,
  };
  decision.best = best.name;
  return orderKeys(decision);
}

/** A normal interval clipped to the metric's range (the bounds stay ordered; NaN never arises here). */
function clip(ci: [number, number], lo: number, hi: number): [number, number] {
  return [Math.min(hi, Math.max(lo, ci[0])), Math.min(hi, Math.max(lo, ci[1]))];
}

/**
 * The smallest number of wins k with k / B ≥ winRate, exactly as the rule compares (`wins / B >=
 * winRate`), so that "the k-th largest delta exceeds minDelta" and "the share of wins reaches winRate"
 * are the same statement.
 */
export function winsNeeded(B: number, winRate: number): number {
  let k = Math.min(B, Math.max(1, Math.ceil(winRate * B)));
  while (k > 1 && (k - 1) / B >= winRate) k--;
  while (k < B && k / B < winRate) k++;
  return k;
}

/**
 * Best candidate: largest `score`, then largest oriented full-data estimate, then smallest name — a
 * total order, so the choice never depends on the order of the candidates.
 */
function pickBest(plan: RulePlan, models: ModelResult[], score: (m: ModelResult) => number): ModelResult {
  const sign = isHigherBetter(plan.metric) ? 1 : -1;
  let best: ModelResult | undefined;
  for (const m of models) {
    if (m.isBaseline) continue;
    if (best === undefined) {
      best = m;
      continue;
    }
    const ds = score(m) - score(best);
    const de = sign * (m.estimate - best.estimate);
    if (ds > 0 || (ds === 0 && (de > 0 || (de === 0 && m.name < best.name)))) best = m;
  }
  return best!;
}

/**
 * The numbers of one reason sentence, in the report's formats (format.ts): values and differences of the
 * metric with 4 decimals, or by magnitude for RMSE, MAE and MAPE over the numbers the sentence shows (so
 * they keep one number of decimals), and U+2212 for negative differences.
 */
export function reasonFormat(metric: AnyMetric, values: readonly number[], deltas: readonly number[]): MetricFormat {
  return metricFormat(metric, values, deltas);
}

/**
 * Applies the rule to the best candidate and writes the one-sentence reason, which names every
 * failed condition with its value and threshold (the audit trail reads it, not just the verdict).
 * `indistinguishable` (set when the best candidate shows no difference at all from the baseline)
 * keeps production whatever the thresholds; an undetermined DeLong comparison keeps it too.
 */
function decide(
  plan: RulePlan,
  best: ModelResult,
  winPhrase: (winRate: string) => string,
  indistinguishable?: string,
): Pick<Decision<AnyMetric>, 'decision' | 'reason'> {
  const o = plan.opts;
  const label = METRIC_LABEL[plan.metric];
  const higher = isHigherBetter(plan.metric);
  const versus = best.vsBaseline;
  const f = reasonFormat(
    plan.metric,
    [best.estimate, ...(o.minMetric === undefined ? [] : [o.minMetric])],
    versus === undefined ? [] : [o.minDelta, versus.meanDelta, ...(versus.gateBound === undefined ? [] : [versus.gateBound])],
  );
  const floorOk = o.minMetric === undefined || (higher ? best.estimate >= o.minMetric : best.estimate <= o.minMetric);
  const floorText =
    o.minMetric === undefined
      ? ''
      : `its ${label} ${f.value(best.estimate)} ${floorOk ? 'meets' : higher ? 'is below' : 'is above'} the ${higher ? 'floor' : 'ceiling'} ${f.value(o.minMetric)}`;
  if (plan.baseline === undefined) {
    if (o.minMetric === undefined) {
      return {
        decision: 'promote',
        reason: `Promote '${best.name}': there is no production model to compare with and no metric floor is set, so the best candidate (${label} ${f.value(best.estimate)}) is promoted.`,
      };
    }
    return floorOk
      ? { decision: 'promote', reason: `Promote '${best.name}': there is no production model to compare with, and ${floorText}.` }
      : { decision: 'keep', reason: `Keep: there is no production model, but the best candidate '${best.name}' is not promoted because ${floorText}.` };
  }
  if (indistinguishable !== undefined) {
    return {
      decision: 'keep',
      reason: `Keep '${plan.baseline}': the best candidate '${best.name}' is indistinguishable from it ${indistinguishable}.`,
    };
  }
  const vs = best.vsBaseline!;
  if (vs.undetermined !== undefined) {
    return {
      decision: 'keep',
      reason: `Keep '${plan.baseline}': the comparison with the best candidate '${best.name}' (${label} improvement ${f.delta(vs.meanDelta)}) is undetermined: ${vs.undetermined}.`,
    };
  }
  const winOk = vs.winRate >= o.winRate;
  const bound = `lower ${pct(o.winRate)} bound ${f.delta(vs.gateBound!)}, mean ${f.delta(vs.meanDelta)}`;
  if (winOk && floorOk) {
    const winText = `its ${label} improvement over '${plan.baseline}' exceeds ${f.amount(o.minDelta)} ${winPhrase(pct(vs.winRate))} (required ${pct(o.winRate)}; ${bound})`;
    const parts = [winText, ...(floorText ? [floorText] : [])];
    return { decision: 'promote', reason: `Promote '${best.name}': ${joinAnd(parts)}.` };
  }
  const failures: string[] = [];
  if (!winOk) failures.push(`improves on it by more than ${f.amount(o.minDelta)} only ${winPhrase(pct(vs.winRate))} (required ${pct(o.winRate)}; ${bound})`);
  if (!floorOk) failures.push(`has ${label} ${f.value(best.estimate)}, ${higher ? 'below the floor' : 'above the ceiling'} ${f.value(o.minMetric!)}`);
  return { decision: 'keep', reason: `Keep '${plan.baseline}': the best candidate '${best.name}' ${joinAnd(failures)}.` };
}

export function joinAnd(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

const KEY_ORDER: (keyof Decision<AnyMetric>)[] = [
  'decision',
  'reason',
  'metric',
  'problemType',
  'classes',
  'classCounts',
  'classNames',
  'higherIsBetter',
  'method',
  'bootstrap',
  'seed',
  'resamples',
  'confidence',
  'winRateThreshold',
  'minDelta',
  'minMetric',
  'baseline',
  'best',
  'n',
  'positives',
  'weight',
  'degenerateResamples',
  'models',
  'guardrails',
  'slices',
  'distributions',
  'deltaDistributions',
];

/**
 * Fixed key order, so the JSON text depends only on the values (spreads above would otherwise decide
 * it), which makes "same inputs and seed → byte-identical JSON" hold by construction.
 */
export function orderKeys<D extends Decision<AnyMetric>>(d: D): D {
  const out: Record<string, unknown> = {};
  for (const k of KEY_ORDER) if (d[k] !== undefined) out[k] = d[k];
  return out as unknown as D;
}
