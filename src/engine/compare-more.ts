/**
 * Comparisons beyond one binary metric: regression and multiclass problem types, guardrail metrics and
 * slices (definitions in docs/engine-metrics.md and the engine README).
 *
 * - **Problem types.** Regression and multiclass comparisons use the same paired, seeded bootstrap and
 *   the same decision rule as binary ones (`decisionFromBootstrap`); their resamples are drawn by the
 *   kernel's draw and evaluated by resample.ts.
 * - **Guardrails** are computed on the same resamples as the primary metric: for a binary comparison the
 *   multiplicities of the primary bootstrap are drawn again from the same streams in the same reference
 *   order (identical, tested); for the other problem types primary and guardrails come from one run. A
 *   DeLong comparison's guardrails use the bootstrap the options describe (`resamples`, `seed`). The best
 *   candidate passes a guardrail when its worsening exceeds `maxWorsening` in fewer than (1 − winRate) of
 *   the resamples, i.e. when the share of resamples within the allowance is strictly above `winRate`.
 * - **Slices**, per slice column (each judged separately, in the order given): the paired bootstrap of
 *   the primary metric on each slice's rows (resampled within the slice, seed
 *   `<seed>:slice:<column>:<name>`), for slices of at least `minSliceRows` rows, the largest 50 of each
 *   column at most. The candidate fails when in a judged slice of any column its worsening exceeds
 *   `sliceTolerance` in at least `winRate` of that slice's resamples.
 * - **Decision**: `promote` only when the primary gate and every guardrail and slice pass; otherwise keep,
 *   and the reason names each failing guardrail or slice with its figures.
 */
import { prepareBootstrap, runBootstrap } from './bootstrap';
import { METRIC_LABEL, compareBinary, compareNames, decisionFromBootstrap, joinAnd, orderKeys, planComparison, reasonFormat, type RulePlan } from './compare';
import { formatInteger, formatPercent as pct } from './format';
import { InvalidOptionsError, PredictionsError } from './errors';
import { isHigherBetter } from './metrics';
import { MULTICLASS_METRICS, REGRESSION_METRICS } from './metrics-more';
import { runKeyedRegression, type KeyedRegressionMetric } from './keyed-regression';
import { prepareResampling, runResampling } from './resample';
import { mean, percentileInterval } from './stats';
import {
  METRICS,
  PROBLEM_TYPES,
  type AnyMetric,
  type AnyPredictions,
  type BootstrapScheme,
  type CompareOptions,
  type Decision,
  type GuardrailResult,
  type Metric,
  type ModelResult,
  type MulticlassPredictions,
  type Predictions,
  type ProblemType,
  type RegressionPredictions,
  type SliceKey,
  type SliceReport,
  type SliceResult,
} from './types';

/** Most slices judged; the largest are kept. */
export const MAX_JUDGED_SLICES = 50;
/** Default smallest slice judged. */
export const DEFAULT_MIN_SLICE_ROWS = 1000;
/** Largest allowed deviation of a row's class probabilities from a sum of 1. */
export const PROBABILITY_SUM_TOLERANCE = 1e-6;

/** True when the options need this module: a non-binary problem type, guardrails or slices. */
export function needsExtended(opts: CompareOptions<AnyMetric>): boolean {
  if (opts === null || typeof opts !== 'object') return false;
  return (
    (opts.problemType !== undefined && opts.problemType !== 'binaryClassification') ||
    (opts.guardrails !== undefined && !(Array.isArray(opts.guardrails) && opts.guardrails.length === 0)) ||
    (opts.slices !== undefined && !(Array.isArray(opts.slices) && opts.slices.length === 0))
  );
}

/**
 * Regression by the keyed Poisson bootstrap (keyed-regression.ts): one metric, no guardrails, no slices; the metric
 * (rmse or mae) is checked with the other options.
 */
export function isKeyedRegression(opts: CompareOptions<AnyMetric>): boolean {
  return (
    opts.bootstrap === 'keyedPoisson' &&
    opts.problemType === 'regression' &&
    (opts.guardrails === undefined || (Array.isArray(opts.guardrails) && opts.guardrails.length === 0)) &&
    (opts.slices === undefined || (Array.isArray(opts.slices) && opts.slices.length === 0))
  );
}

/** The metrics of a problem type. */
export function metricsOf(problem: ProblemType): readonly AnyMetric[] {
  return problem === 'regression' ? REGRESSION_METRICS : problem === 'multiclass' ? MULTICLASS_METRICS : METRICS;
}

/**
 * `compareModels` for regression and multiclass predictions, and for any problem type with guardrails
 * or slices.
 *
 * @throws InvalidOptionsError, PredictionsError (messages name the option, column and row).
 */
export function compareExtended(preds: AnyPredictions, opts: CompareOptions<AnyMetric>): Decision<AnyMetric> {
  if (opts === null || typeof opts !== 'object') throw new InvalidOptionsError('options are required');
  const problem = opts.problemType ?? 'binaryClassification';
  if (!PROBLEM_TYPES.includes(problem)) throw new InvalidOptionsError(`unknown problemType '${String(problem)}' (expected one of ${PROBLEM_TYPES.join(', ')})`);
  const guardrails = opts.guardrails ?? [];
  validateGuardrails(guardrails, problem);
  if (guardrails.length > 0 && opts.winRate === 1) {
    // A guardrail passes when fewer than (1 − winRate) of the resamples exceed its allowance: fewer than none is impossible.
    throw new InvalidOptionsError(
      'guardrails need a winRate below 1: a guardrail passes when fewer than (1 − winRate) of the resamples exceed its allowance, which no candidate can do at winRate 1',
    );
  }
  const sliceKeys = sliceKeysOf(opts.slices);
  if (guardrails.length > 0 || sliceKeys.length > 0) {
    if (!(Number.isInteger(opts.resamples) && opts.resamples >= 1 && opts.resamples <= 10_000_000)) {
      throw new InvalidOptionsError(`resamples must be an integer from 1 to 10000000 (guardrails and slices use the bootstrap), got ${String(opts.resamples)}`);
    }
  }
  let decision: Decision<AnyMetric>;
  let plan: RulePlan & { kernelModels: string[]; scheme: BootstrapScheme };
  let guardRun: { metricIndex: number[]; stats: Float64Array[]; estimates: number[][] } | undefined;
  if (problem === 'binaryClassification') {
    const binOpts = opts as CompareOptions;
    decision = compareBinary(preds as Predictions, binOpts);
    const p = planComparison(preds as Predictions, binOpts);
    // compareModels refuses binary 'keyedPoisson' with guardrails or slices before this point.
    plan = { ...p, metric: p.metric, scheme: p.scheme as BootstrapScheme };
  } else {
    const p = planOther(preds, opts, problem);
    plan = p;
    if (p.candidates.length === 0) return noCandidate(p, preds, problem);
    if (p.scheme === 'keyedPoisson') {
      // Guardrails and slices are refused with this scheme, so the primary decision is the whole decision.
      if (guardrails.length > 0 || sliceKeys.length > 0) throw new InvalidOptionsError("bootstrap 'keyedPoisson' takes no guardrails or slices");
      const keyed = runKeyedRegression(preds as RegressionPredictions, p.kernelModels, opts.metric as KeyedRegressionMetric, opts.seed, opts.resamples);
      return decisionFromBootstrap(p, otherBase(p, preds, problem), p.kernelModels, keyed.estimates, keyed.run);
    }
    const metrics = uniqueMetrics([opts.metric, ...guardrails.map((g) => g.metric)]);
    const prep = prepareResampling(preds, problem, p.kernelModels, metrics, p.scheme, opts.metric);
    const run = runResampling(prep, opts.seed, opts.resamples);
    decision = decisionFromBootstrap(p, otherBase(p, preds, problem), p.kernelModels, prep.estimates[0], {
      resamples: opts.resamples,
      stats: run.stats[0],
      redraws: run.redraws,
    });
    guardRun = { metricIndex: guardrails.map((g) => metrics.indexOf(g.metric)), stats: run.stats, estimates: prep.estimates };
  }
  if (plan.baseline === undefined || decision.best === undefined) return decision;
  const best = decision.best;
  const failures: string[] = [];
  if (guardrails.length > 0) {
    if (guardRun === undefined) {
      // Binary: the guardrail metrics on the primary bootstrap's resamples (same streams, same positions).
      const metrics = uniqueMetrics(guardrails.map((g) => g.metric));
      for (const m of metrics) for (const name of plan.kernelModels) checkProbabilities(preds as Predictions, name, m);
      const prep = prepareResampling(preds, problem, plan.kernelModels, metrics, plan.scheme, opts.metric);
      const run = runResampling(prep, opts.seed, opts.resamples);
      guardRun = { metricIndex: guardrails.map((g) => metrics.indexOf(g.metric)), stats: run.stats, estimates: prep.estimates };
    }
    const results = guardrails.map((g, i) =>
      guardrailResult(g.metric, g.maxWorsening, plan, best, guardRun!.stats[guardRun!.metricIndex[i]], guardRun!.estimates[guardRun!.metricIndex[i]]),
    );
    decision.guardrails = results;
    for (const r of results) {
      if (!r.passed) {
        const f = reasonFormat(r.metric, [], [r.maxWorsening, r.meanDelta]);
        failures.push(
          `fails the guardrail on ${METRIC_LABEL[r.metric]}: it worsens by more than ${f.amount(r.maxWorsening)} in ${pct(r.exceedShare)} of ${formatInteger(opts.resamples)} paired resamples (allowed: fewer than ${pct(r.allowedShare)}; mean change ${f.delta(r.meanDelta)})`,
        );
      }
    }
  }
  if (sliceKeys.length > 0) {
    // Every key checked before any slice is resampled, so a bad second column fails fast.
    const settings = sliceKeys.map((key) => sliceSettings(preds, opts, key));
    decision.slices = settings.map((s) => sliceReport(preds, problem, opts, plan, best, s));
    failures.push(...sliceFailures(decision.slices, opts));
  }
  if (decision.decision === 'promote' && failures.length > 0) {
    decision.decision = 'keep';
    decision.reason = `Keep '${plan.baseline}': the best candidate '${best}' passes the ${METRIC_LABEL[opts.metric]} gate but ${joinAnd(failures)}.`;
  }
  return orderKeys(decision);
}

/** The slice keys of the options, checked to be a list naming each column once (their content is checked by `sliceSettings`). */
function sliceKeysOf(slices: unknown): SliceKey[] {
  if (slices === undefined) return [];
  if (!Array.isArray(slices)) throw new InvalidOptionsError('slices must be a list of { column, codes: Uint32Array, names: string[] }, one per slice column');
  const seen = new Set<string>();
  for (const key of slices as SliceKey[]) {
    if (key === null || typeof key !== 'object' || typeof key.column !== 'string') {
      throw new InvalidOptionsError('each slice key must be { column, codes: Uint32Array, names: string[] }');
    }
    if (seen.has(key.column)) throw new InvalidOptionsError(`the slice column '${key.column}' is listed twice`);
    seen.add(key.column);
  }
  return slices as SliceKey[];
}

/** The reason's words for each failing judged slice of each column. */
function sliceFailures(reports: SliceReport[], opts: CompareOptions<AnyMetric>): string[] {
  const failures: string[] = [];
  for (const report of reports) {
    for (const s of report.slices) {
      if (s.judged && s.passed === false) {
        const f = reasonFormat(opts.metric, [], [report.tolerance, s.meanDelta!]);
        failures.push(
          `fails on slice '${s.name}' of '${report.column}' (${formatInteger(s.rows)} rows): its ${METRIC_LABEL[opts.metric]} worsens by more than ${f.amount(report.tolerance)} in ${pct(s.worseShare!)} of that slice's ${formatInteger(opts.resamples)} resamples (limit ${pct(opts.winRate)}; mean change ${f.delta(s.meanDelta!)})`,
        );
      }
    }
  }
  return failures;
}

function uniqueMetrics(list: AnyMetric[]): AnyMetric[] {
  const out: AnyMetric[] = [];
  for (const m of list) if (!out.includes(m)) out.push(m);
  return out;
}

function validateGuardrails(guardrails: unknown, problem: ProblemType): void {
  if (!Array.isArray(guardrails)) throw new InvalidOptionsError('guardrails must be a list of { metric, maxWorsening }');
  const allowed = metricsOf(problem);
  const seen = new Set<string>();
  for (const g of guardrails as { metric?: unknown; maxWorsening?: unknown }[]) {
    if (g === null || typeof g !== 'object') throw new InvalidOptionsError('each guardrail must be { metric, maxWorsening }');
    if (!allowed.includes(g.metric as AnyMetric)) {
      throw new InvalidOptionsError(`unknown guardrail metric '${String(g.metric)}' for ${problem} (expected one of ${allowed.join(', ')})`);
    }
    if (!(typeof g.maxWorsening === 'number' && Number.isFinite(g.maxWorsening) && g.maxWorsening >= 0)) {
      throw new InvalidOptionsError(`the guardrail on ${String(g.metric)} needs a finite maxWorsening >= 0, got ${String(g.maxWorsening)}`);
    }
    if (seen.has(g.metric as string)) throw new InvalidOptionsError(`the guardrail on ${String(g.metric)} is listed twice`);
    seen.add(g.metric as string);
  }
}

/** Binary guardrails on log loss or Brier score need probabilities, like the primary metric does. */
function checkProbabilities(preds: Predictions, name: string, metric: AnyMetric): void {
  if (metric !== 'log_loss' && metric !== 'brier') return;
  const scores = preds.columns.find((c) => c.name === name)!.scores;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (!(s >= 0 && s <= 1)) {
      throw new PredictionsError(`column '${name}' has the score ${s} at row ${i}, outside [0, 1]; the ${metric} guardrail needs probabilities`, name);
    }
  }
}

/** One guardrail's verdict from the per-resample values of the guardrail metric. */
function guardrailResult(
  metric: AnyMetric,
  maxWorsening: number,
  plan: RulePlan & { kernelModels: string[] },
  best: string,
  stats: Float64Array,
  estimates: number[],
): GuardrailResult {
  const o = plan.opts;
  const B = o.resamples;
  const sign = isHigherBetter(metric) ? 1 : -1;
  const bi = plan.kernelModels.indexOf(plan.baseline!);
  const ci = plan.kernelModels.indexOf(best);
  const deltas = new Float64Array(B);
  let exceeded = 0;
  for (let b = 0; b < B; b++) {
    const d = sign * (stats[ci * B + b] - stats[bi * B + b]);
    deltas[b] = d;
    if (-d > maxWorsening) exceeded++;
  }
  return {
    metric,
    higherIsBetter: sign === 1,
    maxWorsening,
    candidate: best,
    baselineEstimate: estimates[bi],
    candidateEstimate: estimates[ci],
    meanDelta: mean(deltas),
    deltaCi: percentileInterval(deltas, o.confidence),
    exceeded,
    exceedShare: exceeded / B,
    // 1 − winRate to 15 significant digits (0.05, not 0.050000000000000044); the verdict below does not use it.
    allowedShare: Number((1 - o.winRate).toPrecision(15)),
    // "Fewer than (1 − winRate) of the resamples", stated without forming 1 − winRate (0.05 is not 1 − 0.95 in floating point).
    passed: (B - exceeded) / B > o.winRate,
  };
}

/** Validated options and model list of a regression or multiclass comparison. */
function planOther(preds: AnyPredictions, o: CompareOptions<AnyMetric>, problem: ProblemType): RulePlan & { kernelModels: string[]; scheme: BootstrapScheme } {
  const bad = (msg: string): never => {
    throw new InvalidOptionsError(msg);
  };
  const allowed = metricsOf(problem);
  if (!allowed.includes(o.metric)) bad(`unknown metric '${String(o.metric)}' for ${problem} (expected one of ${allowed.join(', ')})`);
  if (o.method !== 'bootstrap') bad(`method '${String(o.method)}' does not apply to ${problem}; use 'bootstrap'`);
  if (!(Number.isInteger(o.resamples) && o.resamples >= 1 && o.resamples <= 10_000_000))
    bad(`resamples must be an integer from 1 to 10000000, got ${String(o.resamples)}`);
  if (!(typeof o.seed === 'string' || (typeof o.seed === 'number' && Number.isFinite(o.seed))))
    bad(`seed must be a string or a finite number, got ${String(o.seed)}`);
  if (!(typeof o.winRate === 'number' && o.winRate > 0 && o.winRate <= 1)) bad(`winRate must be in (0, 1], got ${String(o.winRate)}`);
  if (!(typeof o.confidence === 'number' && o.confidence > 0 && o.confidence < 1)) bad(`confidence must be in (0, 1), got ${String(o.confidence)}`);
  if (!(typeof o.minDelta === 'number' && Number.isFinite(o.minDelta))) bad(`minDelta must be a finite number, got ${String(o.minDelta)}`);
  if (o.minMetric !== undefined && !(typeof o.minMetric === 'number' && Number.isFinite(o.minMetric)))
    bad(`minMetric must be a finite number, got ${String(o.minMetric)}`);
  if (o.bootstrap === 'keyedPoisson' && problem === 'regression') {
    if (o.metric !== 'rmse' && o.metric !== 'mae')
      bad(
        `bootstrap 'keyedPoisson' compares regression models on rmse or mae, not ${o.metric}: r2 needs each resample's own mean of the labels, and mape is not built (docs/keyed-poisson.md)`,
      );
  } else if (o.bootstrap !== undefined && o.bootstrap !== 'multinomial' && o.bootstrap !== 'poisson')
    bad(`bootstrap must be 'multinomial' or 'poisson', got '${String(o.bootstrap)}'`);
  if (problem === 'regression') validateRegression(preds as RegressionPredictions);
  else validateMulticlass(preds as MulticlassPredictions);
  const names = (preds.columns as { name: string }[]).map((c) => c.name);
  const { baseline } = o;
  if (baseline !== undefined && !names.includes(baseline)) bad(`baseline column '${baseline}' is not in the predictions (columns: ${names.join(', ')})`);
  let candidates: string[];
  if (o.candidates !== undefined) {
    candidates = [...o.candidates];
    const seen = new Set<string>();
    for (const c of candidates) {
      if (!names.includes(c)) bad(`candidate column '${c}' is not in the predictions (columns: ${names.join(', ')})`);
      if (c === baseline) bad(`column '${c}' cannot be both the baseline and a candidate`);
      if (seen.has(c)) bad(`candidate column '${c}' is listed twice`);
      seen.add(c);
    }
  } else {
    candidates = names.filter((c) => c !== baseline);
  }
  const kernelModels = baseline === undefined ? [...candidates].sort(compareNames) : [baseline, ...candidates];
  return { opts: o, metric: o.metric, baseline, candidates, kernelModels, scheme: (o.bootstrap ?? 'multinomial') as BootstrapScheme };
}

function checkWeights(p: { n: number; weight?: { name: string; values: Uint32Array } }, columns: string[]): void {
  const w = p.weight;
  if (w === undefined) return;
  if (typeof w.name !== 'string' || !(w.values instanceof Uint32Array)) {
    throw new PredictionsError('the weight column must have a name and a Uint32Array of values (non-negative integers)');
  }
  if (w.values.length !== p.n) throw new PredictionsError(`the weight column '${w.name}' has ${w.values.length} rows but the label column has ${p.n}`, w.name);
  if (columns.includes(w.name)) throw new PredictionsError(`column '${w.name}' is the weight column; it cannot also be a model`, w.name);
}

function checkNames(columns: { name: string }[]): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) throw new PredictionsError(`column '${c.name}' appears twice`, c.name);
    seen.add(c.name);
  }
}

/** Regression predictions built by a caller: finite float64 target and predictions, two distinct target values with weight. */
export function validateRegression(p: RegressionPredictions): void {
  if (!p || !(p.target instanceof Float64Array) || !Array.isArray(p.columns)) {
    throw new PredictionsError('regression predictions must have a Float64Array target and an array of columns');
  }
  const n = p.n;
  if (!(n >= 2)) throw new PredictionsError(`regression needs at least 2 rows, got ${n}`);
  if (p.target.length !== n) throw new PredictionsError(`the label column has ${p.target.length} rows, expected ${n}`, 'label');
  checkNames(p.columns);
  checkWeights(
    p,
    p.columns.map((c) => c.name),
  );
  const w = p.weight?.values;
  let first = NaN;
  let varies = false;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const y = p.target[i];
    if (!Number.isFinite(y)) throw new PredictionsError(`the label column has ${y} at row ${i}; regression labels must be finite numbers`, 'label');
    const x = w === undefined ? 1 : w[i];
    total += x;
    if (x > 0) {
      if (first !== first) first = y;
      else if (y !== first) varies = true;
    }
  }
  if (total === 0) throw new PredictionsError(`the weight column '${p.weight!.name}' gives weight 0 to every row`, p.weight!.name);
  if (!varies)
    throw new PredictionsError(
      `the label column holds a single value (${first}) on every row with weight; R² and the bootstrap need at least two distinct values`,
      'label',
    );
  for (const c of p.columns) {
    if (c.scores.length !== n) throw new PredictionsError(`column '${c.name}' has ${c.scores.length} rows but the label column has ${n}`, c.name);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(c.scores[i]))
        throw new PredictionsError(`column '${c.name}' has the prediction ${c.scores[i]} at row ${i}; predictions must be finite numbers`, c.name);
    }
  }
}

/**
 * Multiclass predictions built by a caller: K >= 3, class indices 0..K−1, every class with weight, and
 * per model n × K probabilities that are finite, non-negative and sum to 1 within 1e-6 on every row.
 */
export function validateMulticlass(p: MulticlassPredictions): void {
  if (!p || !Array.isArray(p.columns) || !(p.labels instanceof Uint8Array || p.labels instanceof Uint16Array || p.labels instanceof Uint32Array)) {
    throw new PredictionsError('multiclass predictions must have typed-array class labels and an array of probability columns');
  }
  const { n, classes: K } = p;
  if (!(Number.isInteger(K) && K >= 3 && K <= 65536)) {
    throw new PredictionsError(`multiclass needs from 3 to 65536 classes, got ${String(K)}${K === 2 ? '; two classes are binaryClassification' : ''}`);
  }
  if (!(n >= 1)) throw new PredictionsError('the predictions are empty (0 rows)');
  if (p.labels.length !== n) throw new PredictionsError(`the label column has ${p.labels.length} rows, expected ${n}`, 'label');
  checkNames(p.columns);
  checkWeights(
    p,
    p.columns.map((c) => c.name),
  );
  if (p.classNames !== undefined) checkClassNames(p.classNames, K);
  const w = p.weight?.values;
  const perClass = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const y = p.labels[i];
    if (y >= K) throw new PredictionsError(`the label column has the class index ${y} at row ${i}; class indices run from 0 to ${K - 1}`, 'label');
    perClass[y] += w === undefined ? 1 : w[i];
  }
  for (let c = 0; c < K; c++) {
    if (perClass[c] === 0) {
      throw new PredictionsError(
        `class ${c} has no rows${w !== undefined ? ' with weight' : ''} (${K} classes); every class needs rows for one-vs-rest AUC, log loss and macro F1 over all classes`,
        'label',
      );
    }
  }
  for (const c of p.columns) {
    const pr = c.probabilities;
    if (!(pr instanceof Float64Array)) throw new PredictionsError(`column '${c.name}' must hold a Float64Array of class probabilities`, c.name);
    if (pr.length !== n * K) throw new PredictionsError(`column '${c.name}' has ${pr.length} probabilities; ${n} rows × ${K} classes need ${n * K}`, c.name);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const x = pr[i * K + k];
        if (!(Number.isFinite(x) && x >= 0)) {
          throw new PredictionsError(
            `column '${c.name}' has the probability ${x} for class ${k} at row ${i}; probabilities must be finite and non-negative`,
            c.name,
          );
        }
        s += x;
      }
      if (!(Math.abs(s - 1) <= PROBABILITY_SUM_TOLERANCE)) {
        throw new PredictionsError(
          `column '${c.name}' has class probabilities summing to ${s} at row ${i}; each row must sum to 1 within ${PROBABILITY_SUM_TOLERANCE}`,
          c.name,
        );
      }
    }
  }
}

/** The class names, when given: K distinct strings. */
function checkClassNames(names: unknown, K: number): void {
  if (!Array.isArray(names) || names.some((x) => typeof x !== 'string')) throw new PredictionsError('the class names must be a list of strings');
  if (names.length !== K) throw new PredictionsError(`there are ${names.length} class names for ${K} classes (the probability lists have ${K} entries)`);
  const twice = names.find((x, k) => names.indexOf(x) !== k);
  if (twice !== undefined) throw new PredictionsError(`the class name '${String(twice)}' is given twice`);
}

/** The decision's fields other than the verdict and the models, for regression and multiclass. */
export function otherBase(
  plan: RulePlan & { scheme: BootstrapScheme },
  preds: AnyPredictions,
  problem: ProblemType,
): Omit<Decision<AnyMetric>, 'decision' | 'reason' | 'models'> {
  const o = plan.opts;
  const w = preds.weight;
  let classCounts: number[] | undefined;
  let classNames: string[] | undefined;
  if (problem === 'multiclass') {
    const mp = preds as MulticlassPredictions;
    classCounts = new Array<number>(mp.classes).fill(0);
    for (let i = 0; i < mp.n; i++) classCounts[mp.labels[i]]++;
    if (mp.classNames !== undefined) classNames = [...mp.classNames];
  }
  let total = 0;
  if (w !== undefined) for (let i = 0; i < w.values.length; i++) total += w.values[i];
  return {
    metric: plan.metric,
    problemType: problem,
    ...(classCounts !== undefined ? { classes: classCounts.length, classCounts } : {}),
    ...(classNames !== undefined ? { classNames } : {}),
    higherIsBetter: isHigherBetter(plan.metric),
    method: 'bootstrap',
    bootstrap: plan.scheme,
    seed: o.seed,
    resamples: o.resamples,
    confidence: o.confidence,
    winRateThreshold: o.winRate,
    minDelta: o.minDelta,
    ...(o.minMetric !== undefined ? { minMetric: o.minMetric } : {}),
    ...(plan.baseline !== undefined ? { baseline: plan.baseline } : {}),
    degenerateResamples: 0,
    n: preds.n,
    positives: 0,
    ...(w !== undefined ? { weight: { column: w.name, total, positive: 0 } } : {}),
  };
}

function noCandidate(plan: RulePlan & { kernelModels: string[]; scheme: BootstrapScheme }, preds: AnyPredictions, problem: ProblemType): Decision<AnyMetric> {
  const models: ModelResult[] = [];
  let reason = 'No decision: there is no candidate column to evaluate.';
  if (plan.baseline !== undefined) {
    const prep = prepareResampling(preds, problem, [plan.baseline], [plan.metric], plan.scheme, plan.metric);
    models.push({ name: plan.baseline, estimate: prep.estimates[0][0], isBaseline: true });
    reason = `No decision: there is no candidate to compare with the baseline '${plan.baseline}'.`;
  }
  return orderKeys({ decision: 'none', reason, ...otherBase(plan, preds, problem), models });
}

/** The rows of predictions of any problem type, as predictions of the same type. */
export function subsetPredictions(preds: AnyPredictions, problem: ProblemType, rows: Uint32Array): AnyPredictions {
  const m = rows.length;
  const weight = preds.weight === undefined ? undefined : { name: preds.weight.name, values: pick(preds.weight.values, rows, new Uint32Array(m)) };
  const w = weight !== undefined ? { weight } : {};
  if (problem === 'regression') {
    const p = preds as RegressionPredictions;
    return {
      n: m,
      target: pick(p.target, rows, new Float64Array(m)),
      columns: p.columns.map((c) => ({ name: c.name, scores: pick(c.scores, rows, new Float64Array(m)) })),
      ...w,
    };
  }
  if (problem === 'multiclass') {
    const p = preds as MulticlassPredictions;
    const K = p.classes;
    return {
      n: m,
      classes: K,
      labels: pick(p.labels, rows, new Uint32Array(m)),
      columns: p.columns.map((c) => {
        const out = new Float64Array(m * K);
        for (let i = 0; i < m; i++) for (let k = 0; k < K; k++) out[i * K + k] = c.probabilities[rows[i] * K + k];
        return { name: c.name, probabilities: out };
      }),
      ...w,
    };
  }
  const p = preds as Predictions;
  return {
    n: m,
    labels: pick(p.labels, rows, new Uint8Array(m)),
    columns: p.columns.map((c) => ({ name: c.name, scores: pick(c.scores, rows, new Float64Array(m)) })),
    ...w,
  };
}

function pick<T extends { [i: number]: number }>(src: ArrayLike<number>, rows: Uint32Array, out: T): T {
  for (let i = 0; i < rows.length; i++) out[i] = src[rows[i]];
  return out;
}

/** Why a slice's rows cannot be bootstrapped for the primary metric, or undefined when they can. */
function unusableSlice(sub: AnyPredictions, problem: ProblemType): string | undefined {
  const w = sub.weight?.values;
  const weightOf = (i: number): number => (w === undefined ? 1 : w[i]);
  if (problem === 'binaryClassification') {
    const p = sub as Predictions;
    let pos = 0;
    let neg = 0;
    for (let i = 0; i < p.n; i++) {
      if (p.labels[i] === 1) pos += weightOf(i);
      else neg += weightOf(i);
    }
    return pos > 0 && neg > 0 ? undefined : `only one class (${pos} positive and ${neg} negative weight)`;
  }
  if (problem === 'multiclass') {
    const p = sub as MulticlassPredictions;
    const per = new Float64Array(p.classes);
    for (let i = 0; i < p.n; i++) per[p.labels[i]] += weightOf(i);
    const missing: number[] = [];
    for (let c = 0; c < p.classes; c++) if (per[c] === 0) missing.push(c);
    return missing.length === 0 ? undefined : `class${missing.length > 1 ? 'es' : ''} ${missing.join(', ')} absent`;
  }
  const p = sub as RegressionPredictions;
  let first = NaN;
  for (let i = 0; i < p.n; i++) {
    if (weightOf(i) === 0) continue;
    if (first !== first) first = p.target[i];
    else if (p.target[i] !== first) return undefined;
  }
  return 'a single label value';
}

/** The slice check of one slice column: the best candidate against the baseline on the primary metric. */
function sliceReport(
  preds: AnyPredictions,
  problem: ProblemType,
  o: CompareOptions<AnyMetric>,
  plan: RulePlan & { scheme: BootstrapScheme },
  best: string,
  settings: SliceSettings,
): SliceReport {
  const { key, minRows, tolerance } = settings;
  const counts = sliceCounts(key, preds.n);
  const present = [...key.names.keys()].filter((c) => counts[c] > 0);
  // Largest first, then by name: the cap keeps the largest slices, independently of the codes' order.
  present.sort((a, b) => counts[b] - counts[a] || compareNames(key.names[a], key.names[b]));
  const eligible = present.filter((c) => counts[c] >= minRows);
  const judgedCodes = eligible.slice(0, MAX_JUDGED_SLICES);
  const capped = eligible.length > MAX_JUDGED_SLICES;
  const rowsOf = sliceRows(key, judgedCodes, counts, preds.n);
  const judged: SliceResult[] = [];
  const others: SliceResult[] = [];
  for (const c of present) {
    const name = key.names[c];
    const rows = rowsOf.get(c);
    if (rows === undefined) {
      others.push({
        name,
        rows: counts[c],
        judged: false,
        note: counts[c] < minRows ? `fewer than ${formatInteger(minRows)} rows` : `beyond the ${MAX_JUDGED_SLICES} largest slices (the cap on judged slices)`,
      });
      continue;
    }
    const sub = subsetPredictions(preds, problem, rows);
    const why = unusableSlice(sub, problem);
    if (why !== undefined) {
      others.push({ name, rows: counts[c], judged: false, note: `cannot be bootstrapped: ${why}` });
      continue;
    }
    judged.push(judgeSlice(sub, problem, o, plan, best, key.column, name, tolerance));
  }
  judged.sort((a, b) => a.meanDelta! - b.meanDelta! || compareNames(a.name, b.name));
  return {
    column: key.column,
    candidate: best,
    minRows,
    tolerance,
    maxJudged: MAX_JUDGED_SLICES,
    capped,
    judged: judged.length,
    passed: judged.every((s) => s.passed),
    slices: [...judged, ...others],
  };
}

interface SliceSettings {
  key: SliceKey;
  minRows: number;
  tolerance: number;
}

/** One slice column's options, checked: the key's shape and names, its length against the rows, the minimum rows and the tolerance. */
function sliceSettings(preds: AnyPredictions, o: CompareOptions<AnyMetric>, key: SliceKey): SliceSettings {
  const n = preds.n;
  const minRows = o.minSliceRows ?? DEFAULT_MIN_SLICE_ROWS;
  const tolerance = o.sliceTolerance ?? 0;
  if (key === null || typeof key !== 'object' || typeof key.column !== 'string' || !(key.codes instanceof Uint32Array) || !Array.isArray(key.names)) {
    throw new InvalidOptionsError('each slice key must be { column, codes: Uint32Array, names: string[] }');
  }
  if (!(Number.isInteger(minRows) && minRows >= 1)) throw new InvalidOptionsError(`minSliceRows must be an integer >= 1, got ${String(minRows)}`);
  if (!(typeof tolerance === 'number' && Number.isFinite(tolerance) && tolerance >= 0))
    throw new InvalidOptionsError(`sliceTolerance must be a finite number >= 0, got ${String(tolerance)}`);
  if ((preds.columns as { name: string }[]).some((c) => c.name === key.column)) {
    throw new InvalidOptionsError(`the slice column '${key.column}' is also a model column; a slice column is never a model`);
  }
  if (key.codes.length !== n)
    throw new PredictionsError(`the slice column '${key.column}' has ${key.codes.length} rows but the label column has ${n}`, key.column);
  const seenNames = new Set<string>();
  for (const name of key.names) {
    if (typeof name !== 'string') throw new InvalidOptionsError(`the slice names of '${key.column}' must be strings`);
    if (seenNames.has(name)) throw new InvalidOptionsError(`the slice column '${key.column}' names the slice '${name}' twice`);
    seenNames.add(name);
  }
  return { key, minRows, tolerance };
}

/** Rows per slice code; a code without a name is an error naming its first row. */
function sliceCounts(key: SliceKey, n: number): Uint32Array {
  const counts = new Uint32Array(key.names.length);
  for (let i = 0; i < n; i++) {
    const c = key.codes[i];
    if (c >= key.names.length)
      throw new PredictionsError(`the slice column '${key.column}' has the code ${c} at row ${i}, but only ${key.names.length} slice names`, key.column);
    counts[c]++;
  }
  return counts;
}

/** The row indices of each judged slice, in row order. */
function sliceRows(key: SliceKey, judgedCodes: number[], counts: Uint32Array, n: number): Map<number, Uint32Array> {
  const rowsOf = new Map<number, Uint32Array>();
  const fill = new Map<number, number>();
  for (const c of judgedCodes) {
    rowsOf.set(c, new Uint32Array(counts[c]));
    fill.set(c, 0);
  }
  for (let i = 0; i < n; i++) {
    const c = key.codes[i];
    const rows = rowsOf.get(c);
    if (rows !== undefined) {
      const at = fill.get(c)!;
      rows[at] = i;
      fill.set(c, at + 1);
    }
  }
  return rowsOf;
}

/** One slice judged: the paired bootstrap of baseline and candidate on the slice's rows, seeded by its column and name. */
function judgeSlice(
  sub: AnyPredictions,
  problem: ProblemType,
  o: CompareOptions<AnyMetric>,
  plan: RulePlan & { scheme: BootstrapScheme },
  best: string,
  column: string,
  name: string,
  tolerance: number,
): SliceResult {
  const B = o.resamples;
  const sign = isHigherBetter(o.metric) ? 1 : -1;
  // The column in the seed: two columns with a slice of the same name get independent resamples.
  const seed = `${String(o.seed)}:slice:${column}:${name}`;
  let stats: Float64Array;
  let estimates: number[];
  let redraws: Uint32Array;
  if (problem === 'binaryClassification') {
    const prep = prepareBootstrap(sub as Predictions, [plan.baseline!, best], o.metric as Metric, plan.scheme);
    const run = runBootstrap(prep, seed, B);
    stats = run.stats;
    estimates = prep.estimates;
    redraws = run.redraws;
  } else {
    const prep = prepareResampling(sub, problem, [plan.baseline!, best], [o.metric], plan.scheme, o.metric);
    const run = runResampling(prep, seed, B);
    stats = run.stats[0];
    estimates = prep.estimates[0];
    redraws = run.redraws;
  }
  const deltas = new Float64Array(B);
  let worse = 0;
  for (let b = 0; b < B; b++) {
    const d = sign * (stats[B + b] - stats[b]);
    deltas[b] = d;
    if (-d > tolerance) worse++;
  }
  const worseShare = worse / B;
  return {
    name,
    rows: sub.n,
    judged: true,
    baselineEstimate: estimates[0],
    candidateEstimate: estimates[1],
    meanDelta: mean(deltas),
    deltaCi: percentileInterval(deltas, o.confidence),
    worseShare,
    degenerateResamples: redraws.reduce((a, x) => a + x, 0),
    // "Worsening beyond the tolerance in at least winRate of the resamples", compared as the primary gate compares wins.
    passed: !(worseShare >= o.winRate),
  };
}
