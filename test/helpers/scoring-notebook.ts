/**
 * Predictions as the scoring notebook writes them (tasks/DatabricksEvaluatePromoteV1/notebooks/evaluate_models.py),
 * for the emulator's scoring-notebook handlers: seeded data of known quality in the layout of each problem
 * type, written as an Arrow IPC file with apache-arrow.
 * - binary: an int8 0/1 label and one float64 score per model;
 * - regression: a float64 label and one float64 prediction per model;
 * - multiclass: an int32 label (the class index) and one FixedSizeList<Float64>[K] of class probabilities per
 *   model, the original class values in the schema metadata `mlops.classes` (a JSON list);
 * - slice columns: Arrow dictionary columns of strings (dictionary-encoded, as pyarrow writes a pandas category).
 */
import {
  Dictionary,
  Field,
  FixedSizeList,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Table,
  tableToIPC,
  Utf8,
  Vector,
  vectorFromArray,
} from 'apache-arrow';
import seedrandom from 'seedrandom';
import { sparkRegressionSumsOf, sparkSumsOf, type Metric, type Predictions, type RegressionPredictions } from '../../src/engine';

/** The noise of a model's predictions on one row (smaller is better): a number, or one per slice value. */
export type Noise = number | ((slices: Record<string, string>) => number);

export interface TableSpec {
  rows: number;
  /** Model keys (`run_<id>`, `production`) and their noise. */
  noise: Record<string, Noise>;
  /** Slice columns: name -> the value of each row (a function of the row index). */
  slices?: Record<string, (row: number) => string>;
  seed?: string;
}

function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

function sliceValues(spec: TableSpec): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, of] of Object.entries(spec.slices ?? {})) out[name] = Array.from({ length: spec.rows }, (_, i) => of(i));
  return out;
}

function rowSlices(values: Record<string, string[]>, i: number): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v[i]]));
}

function noiseAt(noise: Noise, values: Record<string, string[]>, i: number): number {
  return typeof noise === 'number' ? noise : noise(rowSlices(values, i));
}

/** The slice columns as dictionary-encoded strings. */
function sliceVectors(values: Record<string, string[]>): Record<string, Vector> {
  const out: Record<string, Vector> = {};
  for (const [name, v] of Object.entries(values)) out[name] = vectorFromArray(v, new Dictionary(new Utf8(), new Int32()));
  return out;
}

/** Binary: label 1 with probability 0.3, score = sigmoid(2·label − 1 + noise·N(0,1)) (or `squash`ed toward 0.5). */
export function binaryTable(spec: TableSpec & { squash?: Record<string, number> }): Table {
  const n = spec.rows;
  const rng = seedrandom(`binary-labels:${spec.seed ?? 'data'}`);
  const label = new Float64Array(n);
  for (let i = 0; i < n; i++) label[i] = rng() < 0.3 ? 1 : 0;
  const values = sliceValues(spec);
  const cols: Record<string, Vector> = { label: vectorFromArray(Int8Array.from(label)) };
  for (const [key, noise] of Object.entries(spec.noise)) {
    const r = seedrandom(`binary:${key}:${spec.seed ?? 'data'}`);
    const s = new Float64Array(n);
    const squash = spec.squash?.[key] ?? 1;
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(2 * label[i] - 1 + noiseAt(noise, values, i) * gaussian(r))));
      s[i] = 0.5 + (p - 0.5) * squash;
    }
    cols[key] = vectorFromArray(s);
  }
  return new Table({ ...cols, ...sliceVectors(values) });
}

/** Regression: target = 3 + 2·N(0,1), prediction = target + noise·N(0,1). */
export function regressionTable(spec: TableSpec): Table {
  const n = spec.rows;
  const rng = seedrandom(`regression-target:${spec.seed ?? 'data'}`);
  const target = new Float64Array(n);
  for (let i = 0; i < n; i++) target[i] = 3 + 2 * gaussian(rng);
  const values = sliceValues(spec);
  const cols: Record<string, Vector> = { label: vectorFromArray(target) };
  for (const [key, noise] of Object.entries(spec.noise)) {
    const r = seedrandom(`regression:${key}:${spec.seed ?? 'data'}`);
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) p[i] = target[i] + noiseAt(noise, values, i) * gaussian(r);
    cols[key] = vectorFromArray(p);
  }
  return new Table({ ...cols, ...sliceVectors(values) });
}

/**
 * Multiclass: the true class uniform over `classNames`; each model's probabilities are the softmax of
 * logits 2 for the true class plus noise·N(0,1) on every class. The label is the class index, the class
 * values go to the schema metadata `mlops.classes`.
 */
export function multiclassTable(spec: TableSpec & { classNames: Array<string | number> }): Table {
  const n = spec.rows;
  const k = spec.classNames.length;
  const rng = seedrandom(`multiclass-labels:${spec.seed ?? 'data'}`);
  const label = new Int32Array(n);
  for (let i = 0; i < n; i++) label[i] = Math.min(k - 1, Math.floor(rng() * k));
  const values = sliceValues(spec);
  const cols: Record<string, Vector> = { label: vectorFromArray(label) };
  for (const [key, noise] of Object.entries(spec.noise)) {
    const r = seedrandom(`multiclass:${key}:${spec.seed ?? 'data'}`);
    const probs = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp((c === label[i] ? 2 : 0) + noiseAt(noise, values, i) * gaussian(r));
        probs[i * k + c] = e;
        sum += e;
      }
      for (let c = 0; c < k; c++) probs[i * k + c] /= sum;
    }
    const child = makeData({ type: new Float64(), length: n * k, nullCount: 0, data: probs });
    cols[key] = new Vector([makeData({ type: new FixedSizeList(k, new Field('item', new Float64(), false)), length: n, nullCount: 0, child })]);
  }
  return withMetadata(new Table({ ...cols, ...sliceVectors(values) }), { 'mlops.classes': JSON.stringify(spec.classNames) });
}

/** The same table with schema metadata (on the schema the IPC writer writes). */
export function withMetadata(table: Table, metadata: Record<string, string>): Table {
  const schema = new Schema(table.schema.fields, new Map([...table.schema.metadata, ...Object.entries(metadata)]));
  return new Table(
    schema,
    table.batches.map((b) => new RecordBatch(schema, b.data)),
  );
}

/** An Arrow IPC file, as the notebook writes it (pyarrow.feather / ipc.new_file). */
export function arrowFile(table: Table): Uint8Array {
  return tableToIPC(table, 'file');
}

/**
 * Issue 23: the scoring notebook's switch between the agent and Spark, as the contract in docs/scale-out.md
 * ("When each path runs") states it. This models the contract; it is not the notebook: evaluate_models.py is
 * tested against the same contract on the Python side (its Spark path with fakes, its generator against the
 * engine's published vectors). Given the table the notebook would score (label, one score per model in the
 * `models` parameter's keys, the row key column when `row_key_column` is sent):
 * - it counts the rows first; at or below `local_row_limit` (or without it) it writes the Arrow file and exits
 *   with `{"output_path", "rows"}` plus `"comparison": "local"` and the limit when the limit was sent;
 * - above it, before any model is loaded: an `unsupported` comparison fails with the contract's ScoringError
 *   (rows, the limit, the reason, maxRows); so does a missing `row_key_column`;
 * - otherwise it computes the sums with the engine's own functions (`sparkSumsOf`: delongSumsOf,
 *   keyedLossSums) from these predictions and their row keys, and exits with them inline, or, above
 *   1,000,000 bytes of JSON, writes them to `<output_path>/spark-sums.json` and exits with `result_path`.
 */
export interface SwitchingNotebookFiles {
  write(path: string, bytes: Buffer | string): void;
}

/** The contract's threshold above which the sums go to a file instead of the exit value. */
export const INLINE_SUMS_LIMIT = 1_000_000;

export class ScoringNotebookError extends Error {}

/** The predictions of an Arrow table (int8 label, float64 scores, an integer row key) for the engine's sums. */
function predictionsOf(table: Table, keys: string[], rowKeyColumn: string): Predictions {
  const label = table.getChild('label')!.toArray() as Int8Array;
  const key = table.getChild(rowKeyColumn);
  if (!key) throw new ScoringNotebookError(`ScoringError: the evaluation data has no column ${rowKeyColumn} (rowKeyColumn)`);
  return {
    n: table.numRows,
    labels: Uint8Array.from(label),
    columns: keys.map((k) => ({ name: k, scores: table.getChild(k)!.toArray() as Float64Array })),
    rowKey: { name: rowKeyColumn, values: key.toArray() as BigInt64Array },
  };
}

/** The regression predictions of an Arrow table (float64 label and predictions, an integer row key). */
function regressionPredictionsOf(table: Table, keys: string[], rowKeyColumn: string): RegressionPredictions {
  const key = table.getChild(rowKeyColumn);
  if (!key) throw new ScoringNotebookError(`ScoringError: the evaluation data has no column ${rowKeyColumn} (rowKeyColumn)`);
  return {
    n: table.numRows,
    target: Float64Array.from(table.getChild('label')!.toArray() as Float64Array),
    columns: keys.map((k) => ({ name: k, scores: table.getChild(k)!.toArray() as Float64Array })),
    rowKey: { name: rowKeyColumn, values: key.toArray() as BigInt64Array },
  };
}

/** What the switching notebook does with `table`; the handler wraps the error into the emulator's NotebookError. */
export function playSwitchingNotebook(params: Record<string, string>, table: Table, files: SwitchingNotebookFiles): { exitValue: string } {
  const keys = (JSON.parse(params.models) as Array<{ key: string }>).map((m) => m.key);
  const rows = table.numRows;
  const limit = params.local_row_limit ? Number(params.local_row_limit) : undefined;
  if (limit === undefined || rows <= limit) {
    const file = `${params.output_path}/predictions.arrow`;
    files.write(file, Buffer.from(arrowFile(table)));
    return { exitValue: JSON.stringify({ output_path: file, rows, ...(limit !== undefined ? { comparison: 'local', local_row_limit: limit } : {}) }) };
  }
  const comparison = JSON.parse(params.comparison) as {
    metric: Metric | 'rmse' | 'mae';
    method: 'delong' | 'bootstrap';
    seed: string;
    resamples: number;
    unsupported: string | null;
  };
  if (comparison.unsupported !== null) {
    const bytes = `${Math.ceil((rows * (8 * keys.length + 9)) / 1e6)} MB`;
    throw new ScoringNotebookError(
      `ScoringError: ${rows} rows is above the local row limit ${limit}, and the comparison on Spark does not support ${comparison.unsupported}; ` +
        `set maxRows to at most ${limit} to compare on the agent, or raise localRowLimit (the agent needs about ${bytes} for ${rows} rows)`,
    );
  }
  if (!params.row_key_column) {
    throw new ScoringNotebookError(
      `ScoringError: ${rows} rows is above the local row limit ${limit}, and the comparison on Spark needs a row key: set rowKeyColumn to a column holding a distinct whole number from 0 to 2^40 - 1 on every row`,
    );
  }
  // Regression's sums (RMSE/MAE, keyed) come from the regression finisher's reference; binary's from sparkSumsOf.
  const sums =
    params.problem_type === 'regression'
      ? sparkRegressionSumsOf(regressionPredictionsOf(table, keys, params.row_key_column), keys, {
          metric: comparison.metric as 'rmse' | 'mae',
          seed: comparison.seed,
          resamples: comparison.resamples,
        })
      : sparkSumsOf(predictionsOf(table, keys, params.row_key_column), keys, { ...comparison, metric: comparison.metric as Metric });
  const text = JSON.stringify(sums);
  const head = { comparison: 'spark', rows, local_row_limit: limit };
  if (text.length <= INLINE_SUMS_LIMIT) return { exitValue: JSON.stringify({ ...head, result: sums }) };
  const file = `${params.output_path}/spark-sums.json`;
  files.write(file, text);
  return { exitValue: JSON.stringify({ ...head, result_path: file }) };
}

/** The same table with a BIGINT row key column `name`: distinct, sparse keys below 2^40 (some above 2^32). */
export function withRowKey(table: Table, name: string): Table {
  const keys = BigInt64Array.from({ length: table.numRows }, (_, i) => BigInt((2654435761 * i + 977) % 2 ** 40));
  const cols: Record<string, Vector> = {};
  for (const f of table.schema.fields) cols[f.name] = table.getChild(f.name)!;
  cols[name] = vectorFromArray(keys);
  return new Table(cols);
}
