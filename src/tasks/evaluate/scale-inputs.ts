/**
 * The inputs of issue 23 (comparisons beyond one agent, docs/scale-out.md): `localRowLimit`, `rowKeyColumn` and
 * `bootstrap`, and what the task tells the bundled scoring notebook about them: the row limit above which the
 * comparison runs on Spark, the comparison it must compute there, and, when the Spark path cannot do this
 * evaluation, why (the notebook then fails before loading any model, naming the reason and `maxRows`).
 */
import { InputError, type Inputs, truncate } from '../../pipeline/inputs';
import { KEY_LIMIT } from '../../engine/keyed-poisson';
import type { AnyMetric, ProblemType } from '../../engine/types';
import type { ChecksConfig } from './problem-inputs';

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
  method: 'bootstrap' | 'delong';
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
  if (scheme === 'keyedPoisson' && d.method === 'bootstrap') {
    if (rowKeyColumn === undefined) {
      fail(
        'rowKeyColumn',
        `bootstrap keyedPoisson keys every row's resample weights by its row key: set rowKeyColumn to a column of distinct whole numbers from 0 to ${KEY_LIMIT - 1}.`,
      );
    }
    if (d.problemType !== 'binaryClassification' || d.guardrails.length > 0 || d.sliceColumns.length > 0) {
      fail('bootstrap', 'bootstrap keyedPoisson supports binary classification without guardrails or slices; use bootstrap multinomial for those.');
    }
  }
  return {
    ...(scheme === 'keyedPoisson' && d.method === 'bootstrap' ? { bootstrap: 'keyedPoisson' as const } : {}),
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
 * support"), or null when it can: ROC AUC by DeLong, log loss and Brier score by the keyed bootstrap, binary
 * classification without guardrails or slices (the finisher, src/engine/spark-sums.ts).
 */
export function sparkUnsupported(d: DecisionShape & ScaleDecisionConfig): string | null {
  const reasons: string[] = [];
  if (d.problemType === 'regression') reasons.push('regression (problemType regression)');
  if (d.problemType === 'multiclass') reasons.push('multiclass classification (problemType multiclass)');
  if (d.guardrails.length > 0) reasons.push('guardrails');
  if (d.sliceColumns.length > 0) reasons.push('slices (sliceColumns)');
  if (d.problemType === 'binaryClassification' && d.method === 'bootstrap') {
    if (d.metric === 'roc_auc') reasons.push('ROC AUC by bootstrap (method delong computes ROC AUC on Spark, exactly)');
    else if (d.metric === 'average_precision') reasons.push('average precision');
    else if (d.bootstrap !== 'keyedPoisson') reasons.push(`the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes ${d.metric} on Spark)`);
  }
  return reasons.length === 0 ? null : reasons.join('; ');
}

/** The notebook's `comparison` parameter (the contract in docs/scale-out.md). */
export function comparisonParameter(d: DecisionShape & ScaleDecisionConfig & { seed: number; resamples: number }): string {
  return JSON.stringify({ metric: d.metric, method: d.method, seed: String(d.seed), resamples: d.resamples, unsupported: sparkUnsupported(d) });
}
