/**
 * The inputs of issue 23 (comparisons beyond one agent, docs/scale-out.md): `localRowLimit`, `rowKeyColumn` and
 * `bootstrap`, and what the task tells the bundled scoring notebook about them: the row limit above which the
 * comparison runs on Spark, the comparison it must compute there, and, when the Spark path cannot do this
 * evaluation, why (the notebook then fails before loading any model, naming the reason and `maxRows`).
 */
import { InputError, type Inputs, truncate } from '../../pipeline/inputs';
import { KEY_LIMIT } from '../../engine/keyed-poisson';
import type { AnyMetric, Method, ProblemType } from '../../engine/types';
import { metricLabel } from '../../report/format';
import type { ChecksConfig } from './problem-inputs';

/**
 * The `method` input. `auto` (the default) is the paired bootstrap on the agent and, when the bundled notebook
 * compares on Spark, exact DeLong for ROC AUC (issue 23: "On Spark: ROC AUC by exact DeLong (the default there)");
 * `bootstrap` and `delong` run that method on either path.
 */
export type MethodInput = 'auto' | Method;

/** `auto` gives the agent this many predictions (rows × models): half the measured ceiling of a 7 GB hosted agent. */
export const AUTO_PREDICTION_BUDGET = 150_000_000;

/** The row limit when `localRowLimit` is a number; at most this (an integer Spark and JSON carry exactly). */
const MAX_LOCAL_ROW_LIMIT = 1e15;

const COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

function fail(name: string, message: string): never {
  throw new InputError(name, message);
}

/** `localRowLimit`: `auto` (absent) or a positive whole number of rows. */
export function parseLocalRowLimit(inputs: Inputs): number | undefined {
  const raw = (inputs.optional('localRowLimit') ?? 'auto').trim();
  if (raw.toLowerCase() === 'auto') return undefined;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!(Number.isSafeInteger(n) && n >= 1 && n <= MAX_LOCAL_ROW_LIMIT)) {
    fail('localRowLimit', `localRowLimit must be auto or a positive whole number of rows (e.g. 50000000); got "${truncate(raw)}".`);
  }
  return n;
}

/** The decision inputs this file adds: set only when used, so an evaluation without them is parsed as before. */
export interface ScaleDecisionConfig {
  /** The keyed Poisson bootstrap (absent: multinomial, the default). */
  bootstrap?: 'keyedPoisson';
  /** The column of distinct integer row keys in [0, 2^40). */
  rowKeyColumn?: string;
}

interface DecisionShape extends ChecksConfig {
  problemType: ProblemType;
  metric: AnyMetric;
  method: MethodInput;
}

/** The method the agent runs: `auto` is the paired bootstrap, so an evaluation on the agent decides as before `auto` existed. */
export function agentMethod(method: MethodInput): Method {
  return method === 'delong' ? 'delong' : 'bootstrap';
}

/**
 * The method the comparison on Spark runs, sent to the notebook as `comparison.method` and used to finish its sums:
 * `auto` is exact DeLong for ROC AUC of binary classification (the local DeLong's decision, src/engine/delong-sums.ts),
 * the bootstrap for every other metric.
 */
export function sparkMethod(d: Pick<DecisionShape, 'problemType' | 'metric' | 'method'>): Method {
  if (d.method !== 'auto') return d.method;
  return d.problemType === 'binaryClassification' && d.metric === 'roc_auc' ? 'delong' : 'bootstrap';
}

/**
 * `rowKeyColumn` and `bootstrap`. The keyed bootstrap needs the key and, like the engine, binary
 * classification without guardrails or slices; the key is a column of its own (not the label, a slice or a model).
 */
export function parseScaleDecision(inputs: Inputs, labelColumn: string, d: DecisionShape): ScaleDecisionConfig {
  const rowKeyColumn = inputs.optional('rowKeyColumn');
  if (rowKeyColumn !== undefined) {
    if (!COLUMN.test(rowKeyColumn)) fail('rowKeyColumn', `rowKeyColumn must be a column name of letters, digits and _; got "${truncate(rowKeyColumn)}".`);
    if (rowKeyColumn === labelColumn)
      fail('rowKeyColumn', `rowKeyColumn ${rowKeyColumn} is the label column (labelColumn); the row key is a column of its own, such as an id.`);
    if (d.sliceColumns.includes(rowKeyColumn))
      fail('rowKeyColumn', `rowKeyColumn ${rowKeyColumn} is also a slice column (sliceColumns); the row key is a column of its own.`);
    if (rowKeyColumn === 'production' || /^run_/.test(rowKeyColumn)) {
      fail(
        'rowKeyColumn',
        `rowKeyColumn ${rowKeyColumn} is the name of a model's column in the predictions (production, run_<run id>); rename the key column.`,
      );
    }
  }
  const scheme = inputs.oneOf('bootstrap', ['multinomial', 'keyedPoisson'] as const, 'multinomial');
  // auto runs the bootstrap on the agent: its scheme is checked as for method bootstrap.
  const bootstraps = d.method !== 'delong';
  if (scheme === 'keyedPoisson' && bootstraps) {
    if (rowKeyColumn === undefined) {
      fail(
        'rowKeyColumn',
        `bootstrap keyedPoisson keys every row's resample weights by its row key: set rowKeyColumn to a column of distinct whole numbers from 0 to ${KEY_LIMIT - 1}.`,
      );
    }
    // The engine's keyed bootstrap: binary metrics (keyed-poisson.ts) and regression RMSE/MAE (keyed-regression.ts).
    const keyedRegression = d.problemType === 'regression' && (d.metric === 'rmse' || d.metric === 'mae');
    if ((d.problemType !== 'binaryClassification' && !keyedRegression) || d.guardrails.length > 0 || d.sliceColumns.length > 0) {
      fail(
        'bootstrap',
        'bootstrap keyedPoisson supports binary classification, and regression on rmse or mae, without guardrails or slices; use bootstrap multinomial for those.',
      );
    }
  }
  return {
    ...(scheme === 'keyedPoisson' && bootstraps ? { bootstrap: 'keyedPoisson' as const } : {}),
    ...(rowKeyColumn !== undefined ? { rowKeyColumn } : {}),
  };
}

/** The row limit for `models` models (production included) and how it was set, for the log and the record. */
export function localRowLimitOf(explicit: number | undefined, models: number): { limit: number; how: string } {
  if (explicit !== undefined) return { limit: explicit, how: 'localRowLimit' };
  const limit = Math.floor(AUTO_PREDICTION_BUDGET / Math.max(1, models));
  return { limit, how: `auto: 1.5e8 / ${models} model${models === 1 ? '' : 's'}` };
}

/**
 * Why the comparison on Spark cannot do this evaluation (noun phrases the notebook puts after "does not
 * support"), or null when it can: ROC AUC by DeLong, log loss, Brier score, ROC AUC and average precision by the keyed bootstrap, binary
 * classification without guardrails or slices (the finisher, src/engine/spark-sums.ts); regression RMSE and MAE by
 * the keyed bootstrap (src/engine/spark-sums-regression.ts).
 */
export function sparkUnsupported(d: DecisionShape & ScaleDecisionConfig): string | null {
  const reasons: string[] = [];
  if (d.problemType === 'regression') {
    // Spark computes RMSE and MAE by the keyed bootstrap (spark-sums-regression.ts); R² and MAPE are not ratios it can sum exactly.
    if (d.metric !== 'rmse' && d.metric !== 'mae') reasons.push(`${d.metric} (regression on Spark computes rmse or mae by the keyed bootstrap)`);
    else if (d.bootstrap !== 'keyedPoisson') reasons.push(`the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes ${d.metric} on Spark)`);
  }
  if (d.problemType === 'multiclass') reasons.push('multiclass classification (problemType multiclass)');
  if (d.guardrails.length > 0) reasons.push('guardrails');
  if (d.sliceColumns.length > 0) reasons.push('slices (sliceColumns)');
  if (d.problemType === 'binaryClassification' && sparkMethod(d) === 'bootstrap') {
    // Spark's bootstrap is the keyed one: log loss, Brier, average precision from exact fixed-point sums and (opt in,
    // only an explicit method bootstrap gets here with ROC AUC: auto sends DeLong) ROC AUC from exact rank sums (spark-sums.ts).
    if (d.bootstrap !== 'keyedPoisson') {
      reasons.push(
        d.metric === 'roc_auc'
          ? 'ROC AUC by the multinomial bootstrap (method auto, the default, or delong computes ROC AUC on Spark by exact DeLong; bootstrap keyedPoisson with rowKeyColumn by the keyed bootstrap)'
          : `the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes ${d.metric} on Spark)`,
      );
    }
  }
  return reasons.length === 0 ? null : reasons.join('; ');
}

/** The notebook's `comparison` parameter (the contract in docs/scale-out.md). */
export function comparisonParameter(d: DecisionShape & ScaleDecisionConfig & { seed: number; resamples: number }): string {
  return JSON.stringify({ metric: d.metric, method: sparkMethod(d), seed: String(d.seed), resamples: d.resamples, unsupported: sparkUnsupported(d) });
}

/** What `auto` runs on each path, for the log line and the record's `comparedOnReason`; undefined for an explicit method (its lines are unchanged). */
export interface AutoMethodNote {
  agent: string;
  spark: string;
}

/** `ROC AUC by exact DeLong (method auto)` on Spark, `ROC AUC by the paired bootstrap (method auto)` on the agent. */
export function autoMethodNote(d: DecisionShape & ScaleDecisionConfig): AutoMethodNote | undefined {
  if (d.method !== 'auto') return undefined;
  const label = metricLabel(d.metric);
  const agent = d.bootstrap === 'keyedPoisson' ? 'the keyed Poisson bootstrap' : 'the paired bootstrap';
  // On Spark the bootstrap is always keyed (the finisher refuses any other scheme, src/engine/spark-sums.ts).
  const spark = sparkMethod(d) === 'delong' ? 'exact DeLong' : 'the keyed Poisson bootstrap';
  return { agent: `${label} by ${agent} (method auto)`, spark: `${label} by ${spark} (method auto)` };
}
