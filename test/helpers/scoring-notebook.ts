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
