/**
 * The inputs of issue 20: the problem type, the metric it allows, guardrails and slices. Parsed with the
 * other Evaluate & Promote inputs (inputs.ts), so every bad combination fails before the first request.
 * The metric lists are the engine's (src/engine: METRICS, REGRESSION_METRICS, MULTICLASS_METRICS).
 */
import { InputError, type Inputs, truncate } from '../../pipeline/inputs';
import { DEFAULT_MIN_SLICE_ROWS, METRICS, MULTICLASS_METRICS, PROBLEM_TYPES, REGRESSION_METRICS } from '../../engine';
import type { AnyMetric, Guardrail, ProblemType } from '../../engine';

/** The metrics of each problem type, in the order the `metric` input's help lists them. */
export const METRICS_BY_PROBLEM: Readonly<Record<ProblemType, readonly AnyMetric[]>> = Object.freeze({
  binaryClassification: METRICS,
  regression: REGRESSION_METRICS,
  multiclass: MULTICLASS_METRICS,
});

/** The problem types in words, for messages. */
export const PROBLEM_LABEL: Readonly<Record<ProblemType, string>> = Object.freeze({
  binaryClassification: 'binary classification',
  regression: 'regression',
  multiclass: 'multiclass classification',
});

/** Guardrails and slices of a decision: what the engine gets besides the primary metric. */
export interface ChecksConfig {
  guardrails: Guardrail[];
  /** Slice columns, in the order given; empty: no slice check. */
  sliceColumns: string[];
  minSliceRows: number;
  sliceTolerance: number;
}

const COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

function fail(name: string, message: string): never {
  throw new InputError(name, message);
}

export function parseProblemType(inputs: Inputs): ProblemType {
  return inputs.oneOf('problemType', PROBLEM_TYPES, 'binaryClassification');
}

/** `, a log_loss is a multiclass classification metric` when the metric belongs to other problem types. */
function otherTypes(metric: string, problem: ProblemType): string {
  const others = PROBLEM_TYPES.filter((p) => p !== problem && METRICS_BY_PROBLEM[p].includes(metric as AnyMetric));
  return others.length > 0 ? ` (${metric} is a ${others.map((p) => PROBLEM_LABEL[p]).join(' and ')} metric)` : '';
}

/** The primary metric: one of the problem type's metrics, named in the message when it is not. */
export function parseMetric(inputs: Inputs, problem: ProblemType): AnyMetric {
  const raw = inputs.optional('metric') ?? 'roc_auc';
  const allowed = METRICS_BY_PROBLEM[problem];
  const metric = allowed.find((m) => m === raw.toLowerCase());
  if (metric === undefined) {
    fail(
      'metric',
      `metric ${truncate(raw)} is not a ${PROBLEM_LABEL[problem]} metric${otherTypes(raw.toLowerCase(), problem)}; ` +
        `with problemType ${problem} set metric to one of ${allowed.join(', ')}.`,
    );
  }
  return metric;
}

/**
 * `<metric> <max worsening>` per line (blank lines and `#` comments ignored): a metric of the problem type
 * other than the primary one, at most once, with an allowance of 0 or more in the metric's units.
 */
export function parseGuardrails(inputs: Inputs, problem: ProblemType, primary: AnyMetric): Guardrail[] {
  // Untrimmed, so the line numbers in messages are the user's.
  const raw = inputs.source.get('guardrails') ?? '';
  const allowed = METRICS_BY_PROBLEM[problem];
  const guardrails: Guardrail[] = [];
  const lineOf = new Map<string, number>();
  raw.split(/\r?\n/).forEach((text, index) => {
    const line = text.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = `guardrails line ${index + 1}`;
    const parts = line.split(/\s+/);
    if (parts.length !== 2 || !NUMBER.test(parts[1])) {
      fail('guardrails', `Each line of guardrails must be "<metric> <max worsening>", e.g. "log_loss 0.01"; ${at} is "${truncate(line)}".`);
    }
    const name = parts[0].toLowerCase();
    const metric = allowed.find((m) => m === name);
    if (metric === undefined) {
      fail(
        'guardrails',
        `${at}: ${truncate(parts[0])} is not a ${PROBLEM_LABEL[problem]} metric${otherTypes(name, problem)}; use one of ${allowed.join(', ')}.`,
      );
    }
    if (metric === primary) {
      fail(
        'guardrails',
        `${at}: ${metric} is the primary metric (input metric), which the gate already judges; a guardrail is another metric: ${allowed.filter((m) => m !== primary).join(', ')}.`,
      );
    }
    const maxWorsening = Number(parts[1]);
    if (!Number.isFinite(maxWorsening) || maxWorsening < 0) {
      fail('guardrails', `${at}: the max worsening of ${metric} must be a finite number, 0 or more (in ${metric} units); got ${truncate(parts[1])}.`);
    }
    const first = lineOf.get(metric);
    if (first !== undefined) fail('guardrails', `guardrails lists ${metric} twice (lines ${first} and ${index + 1}); keep one line per metric.`);
    lineOf.set(metric, index + 1);
    guardrails.push({ metric, maxWorsening });
  });
  return guardrails;
}

/**
 * Slice columns (comma or newline separated), each a plain column name, at most once, never the label
 * column nor a model column (`production`, `run_<run id>`); then minSliceRows and sliceTolerance.
 */
export function parseSlices(inputs: Inputs, labelColumn: string): Omit<ChecksConfig, 'guardrails'> {
  const columns = (inputs.optional('sliceColumns') ?? '')
    .split(/[,\r\n]/)
    .map((c) => c.trim())
    .filter((c) => c !== '');
  const seen = new Set<string>();
  for (const c of columns) {
    if (!COLUMN.test(c)) fail('sliceColumns', `Each slice column in sliceColumns must be a column name of letters, digits and _; got "${truncate(c)}".`);
    if (seen.has(c)) fail('sliceColumns', `sliceColumns lists ${c} twice.`);
    seen.add(c);
    if (c === labelColumn) {
      fail('sliceColumns', `sliceColumns: ${c} is the label column (labelColumn); a slice column is another column of the evaluation data, such as region.`);
    }
    if (c === 'production' || /^run_/.test(c)) {
      fail('sliceColumns', `sliceColumns: ${c} is the name of a model's column in the predictions (production, run_<run id>); rename the slice column.`);
    }
  }
  const minSliceRows = inputs.number('minSliceRows', { default: DEFAULT_MIN_SLICE_ROWS, min: 1, max: 1e9, integer: true })!;
  const sliceTolerance = inputs.number('sliceTolerance', { default: 0, min: 0 })!;
  return { sliceColumns: columns, minSliceRows, sliceTolerance };
}

/** Guardrails need a win rate below 1 (checked here, with the input named, before the engine would refuse it). */
export function checkGuardrailWinRate(guardrails: Guardrail[], winRate: number): void {
  if (guardrails.length > 0 && winRate >= 1) {
    fail(
      'guardrails',
      'guardrails need winRate below 1: a guardrail passes only when fewer than (1 - winRate) of the resamples worsen its metric by more than its allowance, ' +
        'which no candidate can do at winRate 1. Lower winRate (e.g. 0.95) or remove the guardrails.',
    );
  }
}

/**
 * minMetric in the range of the primary metric: [0, 1] for AUCs, average precision, Brier score, accuracy
 * and F1; 0 or more for log loss, RMSE, MAE and MAPE; at most 1 for R².
 */
export function checkMinMetric(metric: AnyMetric, minMetric: number | undefined): void {
  if (minMetric === undefined) return;
  const nonNegative: AnyMetric[] = ['log_loss', 'rmse', 'mae', 'mape'];
  if (metric === 'r2') {
    if (minMetric > 1) fail('minMetric', `minMetric for r2 must be at most 1; got ${minMetric}.`);
  } else if (nonNegative.includes(metric)) {
    if (minMetric < 0) fail('minMetric', `minMetric for ${metric} must be at least 0; got ${minMetric}.`);
  } else if (minMetric < 0 || minMetric > 1) {
    fail('minMetric', `minMetric for ${metric} must be between 0 and 1; got ${minMetric}.`);
  }
}
