/**
 * Reading predictions of every problem type from an Arrow table (issue 20): regression and multiclass
 * layouts, and slice columns, next to the binary layout of arrow.ts (which is unchanged and shared: the
 * same column checks, the same messages naming column and row).
 *
 * - Regression: a numeric label with finite values and one numeric column per model (float64 expected;
 *   other numeric types are read exactly, as for binary scores).
 * - Multiclass: a label of class indices 0..K−1 and per model a `FixedSizeList<Float64>[K]` of class
 *   probabilities (the layout the scoring notebook writes); a variable-size `List` with K entries on every
 *   row is accepted too, because Parquet has no fixed-size list (pyarrow writes a FixedSizeList to Parquet
 *   as a LIST: https://arrow.apache.org/docs/cpp/parquet.html#logical-types). The class values come from
 *   the schema metadata `mlops.classes` (a JSON list; numbers kept as the file writes them).
 * - Slices: a dictionary of strings (or integers), strings or integers; integers are stringified.
 */
import { Type, type Data, type DataType, type Table, type Vector } from 'apache-arrow';
import {
  batchValues,
  bitWidth,
  checkColumnShape,
  halfToNumber,
  ipcTable,
  planColumns,
  readPredictionsFromTable,
  readRowKeys,
  readWeightValues,
  typeName,
  type ReadPredictionsOptions,
} from './arrow';
import { validateMulticlass, validateRegression } from './compare-more';
import { InvalidOptionsError, PredictionsError } from './errors';
import {
  PROBLEM_TYPES,
  type AnyPredictions,
  type MulticlassPredictions,
  type ProblemType,
  type RegressionPredictions,
  type ScoreArray,
  type SliceKey,
} from './types';

/** The schema metadata key holding the class values of a multiclass file, a JSON list in class-index order. */
export const CLASSES_METADATA_KEY = 'mlops.classes';

/** Options of `readAnyPredictions`: those of `readPredictions`, the problem type and the slice columns. */
export type ReadAnyOptions = ReadPredictionsOptions & {
  /** `binaryClassification` (default), `regression` or `multiclass`: the layout expected (see `readAnyPredictionsFromTable`). */
  problemType?: ProblemType;
  /** Columns whose values define slices (dictionary, string or integer columns), in order. Never models. */
  sliceColumns?: string[];
};

/** Predictions of the problem type asked for, and one slice key per slice column (`[]` without slice columns). */
export interface ReadAnyResult {
  predictions: AnyPredictions;
  slices: SliceKey[];
}

/**
 * `readAnyPredictionsFromTable` on Arrow IPC bytes (file or stream format).
 *
 * @throws PredictionsError naming the column (and the row) of the problem; InvalidOptionsError for bad options.
 */
export function readAnyPredictions(bytes: Uint8Array, opts: ReadAnyOptions = {}): ReadAnyResult {
  return readAnyPredictionsFromTable(ipcTable(bytes), opts);
}

/**
 * Predictions of any problem type, and the slice keys, from an Arrow table:
 * - binary classification: as `readPredictionsFromTable` (same checks, same messages, same zero-copy);
 * - regression: a numeric label (float64, or integers) with finite values, one numeric column per model;
 * - multiclass: a label of class indices 0..K−1 (integers, or floats holding whole numbers), one
 *   `FixedSizeList<Float64>[K]` column of class probabilities per model (a variable `List` with K entries on
 *   every row is accepted too: Parquet has no fixed-size list), and the class values in the schema metadata
 *   `mlops.classes` (a JSON list; optional);
 * - slices: each slice column a dictionary of strings, strings or integers (stringified), without nulls.
 *
 * Slice, weight and `exclude` columns are never models; with `numericOnly`, only columns of the model type
 * of the problem (numbers; lists for multiclass) are taken by default.
 *
 * @throws PredictionsError naming the column (and the row) of the problem; InvalidOptionsError for bad options.
 */
export function readAnyPredictionsFromTable(table: Table, opts: ReadAnyOptions = {}): ReadAnyResult {
  const { problemType, sliceColumns, ...base } = opts;
  const problem = problemType ?? 'binaryClassification';
  if (!PROBLEM_TYPES.includes(problem)) {
    throw new InvalidOptionsError(`unknown problem type '${String(problem)}' (expected one of ${PROBLEM_TYPES.join(', ')})`);
  }
  const slices = checkSliceColumns(table, opts, sliceColumns ?? []);
  const readOpts: ReadPredictionsOptions = { ...base, exclude: [...(base.exclude ?? []), ...slices] };
  const predictions =
    problem === 'binaryClassification'
      ? readPredictionsFromTable(table, readOpts)
      : problem === 'regression'
        ? readRegressionFromTable(table, readOpts)
        : readMulticlassFromTable(table, readOpts);
  return { predictions, slices: slices.map((name) => readSliceKey(table, name, predictions.n)) };
}

/** The slice columns, checked: listed once, present, and neither the label, the weight nor a model named in `scoreColumns`. */
function checkSliceColumns(table: Table, opts: ReadAnyOptions, slices: string[]): string[] {
  if (!Array.isArray(slices) || slices.some((c) => typeof c !== 'string' || c === '')) {
    throw new InvalidOptionsError('sliceColumns must be a list of column names');
  }
  const names = table.schema.fields.map((f) => f.name);
  const label = opts.labelColumn ?? 'label';
  const seen = new Set<string>();
  for (const name of slices) {
    if (seen.has(name)) throw new InvalidOptionsError(`the slice column '${name}' is listed twice`);
    seen.add(name);
    if (!names.includes(name)) throw new PredictionsError(`there is no slice column '${name}' (columns: ${names.join(', ') || 'none'})`, name);
    if (name === label) throw new PredictionsError(`column '${name}' cannot be both the label and a slice column`, name);
    if (name === opts.weightColumn) throw new PredictionsError(`column '${name}' cannot be both the weight and a slice column`, name);
    if (opts.scoreColumns?.includes(name)) throw new PredictionsError(`column '${name}' is a slice column; it cannot also be a model`, name);
  }
  return slices;
}

const isNumber = (t: DataType): boolean => t.typeId === Type.Int || t.typeId === Type.Float;
const isProbabilityList = (t: DataType): boolean => t.typeId === Type.FixedSizeList || t.typeId === Type.List;

/** Regression predictions: a finite numeric label, numeric model columns, optional weights. */
export function readRegressionFromTable(table: Table, opts: ReadPredictionsOptions): RegressionPredictions {
  const { labelName, n, weightName, rowKeyName, scoreNames } = planColumns(table, opts, isNumber);
  for (const name of [labelName, ...scoreNames]) checkColumnShape(table, name, n);
  if (n === 0) throw new PredictionsError('the predictions are empty (0 rows)');
  if (scoreNames.length === 0) throw new PredictionsError(`there is no model column besides '${labelName}'`);
  const target = readTarget(table, labelName, n);
  const columns = scoreNames.map((name) => ({ name, scores: readPredictionColumn(table, name, n) }));
  const out: RegressionPredictions = { n, target, columns };
  if (rowKeyName !== undefined) out.rowKey = readRowKeys(table, rowKeyName, n);
  if (weightName !== undefined) {
    checkColumnShape(table, weightName, n);
    out.weight = { name: weightName, values: readWeightValues(table, weightName, n) };
  }
  validateRegression(out);
  return out;
}

/** The regression label as float64: a view when it is float64 in one batch, else converted; every value finite. */
function readTarget(table: Table, name: string, n: number): Float64Array {
  const type = table.getChild(name)!.type;
  if (!isNumber(type)) throw new PredictionsError(`the label column '${name}' has type ${typeName(type)}; regression labels must be numbers (float64)`, name);
  const values = numericValues(table, name, n);
  for (let i = 0; i < n; i++) {
    const y = values[i];
    if (y - y !== 0) throw new PredictionsError(`the label column '${name}' has ${y} at row ${i}; regression labels must be finite numbers`, name);
  }
  return values;
}

/** A regression model column: numbers, every prediction finite (the first bad one reported with its row). */
function readPredictionColumn(table: Table, name: string, n: number): ScoreArray {
  const type = table.getChild(name)!.type;
  if (!isNumber(type)) {
    throw new PredictionsError(`column '${name}' has type ${typeName(type)}; a regression model column must hold numbers (float64)`, name);
  }
  const values = numericValues(table, name, n);
  for (let i = 0; i < n; i++) {
    const y = values[i];
    if (y - y !== 0) throw new PredictionsError(`column '${name}' has the prediction ${y} at row ${i}; predictions must be finite numbers`, name);
  }
  return values;
}

/** A numeric column as float64 (a view for float64 in one batch). NaN and infinities are left for the caller to report. */
function numericValues(table: Table, name: string, n: number): Float64Array {
  const col = table.getChild(name)!;
  if (col.type.typeId === Type.Float && bitWidth(col.type) === 64 && col.data.length === 1) return batchValues(col.data[0]) as Float64Array;
  // readScores converts every numeric type exactly; its NaN check is skipped here by converting first.
  const out = new Float64Array(n);
  let row = 0;
  for (const data of col.data) {
    const width = bitWidth(data.type)!;
    if (data.type.typeId === Type.Float && width === 16) {
      const v = data.values as unknown as { buffer: ArrayBufferLike; byteOffset: number };
      const half = new Uint16Array(v.buffer, v.byteOffset + 2 * data.offset, data.length);
      for (let i = 0; i < data.length; i++) out[row++] = halfToNumber(half[i]);
    } else if (data.type.typeId === Type.Int && width === 64) {
      for (let i = 0; i < data.length; i++, row++) out[row] = exactInteger(col.get(row) as bigint, name, row);
    } else {
      out.set(batchValues(data) as Float64Array, row);
      row += data.length;
    }
  }
  return out;
}

function exactInteger(v: bigint, name: string, row: number): number {
  const x = Number(v);
  if (!Number.isSafeInteger(x))
    throw new PredictionsError(`column '${name}' has the 64-bit integer ${v} at row ${row}, beyond 2^53, which a float64 cannot hold exactly`, name);
  return x;
}

/**
 * Multiclass predictions: class indices, per model n × K probabilities (one list of K per row), the class
 * names from the schema metadata, optional weights; then the engine's checks (finite, non-negative, rows
 * summing to 1, every class present), whose messages name column and row.
 */
export function readMulticlassFromTable(table: Table, opts: ReadPredictionsOptions): MulticlassPredictions {
  const { labelName, n, weightName, scoreNames } = planColumns(table, opts, isProbabilityList);
  for (const name of [labelName, ...scoreNames]) checkColumnShape(table, name, n);
  if (n === 0) throw new PredictionsError('the predictions are empty (0 rows)');
  if (scoreNames.length === 0)
    throw new PredictionsError(`there is no model column besides '${labelName}' (a multiclass model column is a list of class probabilities)`);
  let K = 0;
  let first = '';
  const columns = scoreNames.map((name) => {
    const { probabilities, classes } = readProbabilities(table, name, n);
    if (K === 0) {
      K = classes;
      first = name;
    } else if (classes !== K) {
      throw new PredictionsError(
        `column '${name}' has ${classes} class probabilities per row but column '${first}' has ${K}; every model needs one probability per class, in the same class order`,
        name,
      );
    }
    return { name, probabilities };
  });
  const classNames = readClassNames(table, K, first);
  const labels = readClassIndices(table, labelName, n, K);
  const out: MulticlassPredictions = { n, classes: K, labels, ...(classNames !== undefined ? { classNames } : {}), columns };
  if (weightName !== undefined) {
    checkColumnShape(table, weightName, n);
    out.weight = { name: weightName, values: readWeightValues(table, weightName, n) };
  }
  validateMulticlass(out);
  return out;
}

/**
 * A model's class probabilities, row-major n × K: a view of a `FixedSizeList<Float64>` in one batch, else
 * one copy; a `List` must hold the same K entries on every row. A missing probability is an error naming
 * the class and the row.
 */
function readProbabilities(table: Table, name: string, n: number): { probabilities: Float64Array; classes: number } {
  const col = table.getChild(name)!;
  const type = col.type as DataType & { listSize?: number; children: { type: DataType }[] };
  const child = type.children?.[0]?.type;
  if (!isProbabilityList(type) || child === undefined || child.typeId !== Type.Float || bitWidth(child) === 16) {
    throw new PredictionsError(
      `column '${name}' has type ${typeName(type)}; a multiclass model column must be a list of class probabilities, FixedSizeList<Float64>[K] (one probability per class on every row)`,
      name,
    );
  }
  const fixed = type.typeId === Type.FixedSizeList;
  let K = fixed ? type.listSize! : -1;
  let firstRow = 0;
  let out: Float64Array | undefined;
  let row = 0;
  for (const data of col.data) {
    const values = data.children[0];
    for (let i = 0; i < data.length; i++, row++) {
      const start = fixed ? (data.offset + i) * K : data.valueOffsets[data.offset + i];
      const len = fixed ? K : data.valueOffsets[data.offset + i + 1] - start;
      if (K < 0) {
        K = len;
        firstRow = row;
      } else if (len !== K) {
        throw new PredictionsError(
          `column '${name}' has a list of ${len} probabilities at row ${row} but ${K} at row ${firstRow}; every row needs one probability per class`,
          name,
        );
      }
      if (out === undefined) {
        if (fixed && col.data.length === 1 && bitWidth(child) === 64 && values.nullCount === 0) {
          const all = values.values as Float64Array;
          const at = values.offset + data.offset * K;
          return { probabilities: all.subarray(at, at + n * K), classes: K };
        }
        out = new Float64Array(n * K);
      }
      copyProbabilities(values, start, K, out, row, name);
    }
  }
  return { probabilities: out ?? new Float64Array(0), classes: Math.max(K, 0) };
}

function copyProbabilities(values: Data, start: number, K: number, out: Float64Array, row: number, name: string): void {
  const v = values.values as Float64Array | Float32Array;
  for (let k = 0; k < K; k++) {
    const at = values.offset + start + k;
    if (values.nullCount > 0 && !values.getValid(start + k)) {
      throw new PredictionsError(`column '${name}' has a missing (null) probability for class ${k} at row ${row}`, name);
    }
    out[row * K + k] = v[at];
  }
}

/**
 * The class names from the schema metadata `mlops.classes`: a JSON list of K strings or numbers; numbers
 * are kept as written (`1.0` stays `1.0`). Undefined when the key is absent.
 */
function readClassNames(table: Table, K: number, firstModel: string): string[] | undefined {
  const raw = table.schema.metadata.get(CLASSES_METADATA_KEY);
  if (raw === undefined) return undefined;
  const bad = (why: string): never => {
    throw new PredictionsError(
      `the schema metadata '${CLASSES_METADATA_KEY}' must be a JSON list of the class values in class-index order (${why}), got ${raw.length > 80 ? `${raw.slice(0, 80)}…` : raw}`,
    );
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return bad('not valid JSON');
  }
  if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== 'string' && typeof x !== 'number')) return bad('a list of strings or numbers');
  const values = parsed as (string | number)[];
  if (values.length !== K) {
    throw new PredictionsError(
      `the schema metadata '${CLASSES_METADATA_KEY}' lists ${values.length} classes but the probability lists of '${firstModel}' have ${K} entries; it must name every class, in class-index order`,
    );
  }
  // The tokens of the list as written: a JSON number keeps its text; JSON.parse above has checked the syntax.
  const tokens = raw.match(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g) ?? [];
  return values.map((v, k) => (typeof v === 'string' ? v : tokens[k]));
}

/** The multiclass label as class indices 0..K−1: integers, or floats holding whole numbers; the first bad value is reported with its row. */
function readClassIndices(table: Table, name: string, n: number, K: number): Uint8Array | Uint16Array | Uint32Array {
  const col = table.getChild(name)!;
  const type = col.type;
  if (!isNumber(type)) {
    throw new PredictionsError(
      `the label column '${name}' has type ${typeName(type)}; multiclass labels must be class indices 0 to ${K - 1} (integers), with the class values listed in the schema metadata '${CLASSES_METADATA_KEY}'`,
      name,
    );
  }
  const out = K <= 256 ? new Uint8Array(n) : K <= 65536 ? new Uint16Array(n) : new Uint32Array(n);
  let row = 0;
  for (const data of col.data) {
    const wide = type.typeId === Type.Int && bitWidth(type) === 64;
    const half = type.typeId === Type.Float && bitWidth(type) === 16;
    const v = wide || half ? undefined : batchValues(data);
    for (let i = 0; i < data.length; i++, row++) {
      const y = v !== undefined ? v[i] : half ? (col.get(row) as number) : Number(col.get(row) as bigint);
      if (!(Number.isInteger(y) && y >= 0 && y < K)) {
        throw new PredictionsError(
          `the label column '${name}' has ${wide ? String(col.get(row)) : y} at row ${row}; multiclass labels must be class indices, whole numbers from 0 to ${K - 1} (the probability lists have ${K} entries)`,
          name,
        );
      }
      out[row] = y;
    }
  }
  return out;
}

/**
 * A slice column as codes into names: a dictionary column keeps its dictionary's values (only those used
 * count), strings and integers get a code per distinct value in order of first appearance; nulls are an
 * error naming the first row.
 */
export function readSliceKey(table: Table, name: string, n: number): SliceKey {
  checkColumnShape(table, name, n);
  const col = table.getChild(name)!;
  const type = col.type;
  const valueType = type.typeId === Type.Dictionary ? (type as DataType & { dictionary: DataType }).dictionary : type;
  if (!(valueType.typeId === Type.Utf8 || valueType.typeId === Type.LargeUtf8 || valueType.typeId === Type.Int)) {
    throw new PredictionsError(
      `the slice column '${name}' has type ${typeName(type)}; a slice column must hold strings (or a dictionary of strings) or integers`,
      name,
    );
  }
  const codes = new Uint32Array(n);
  const names: string[] = [];
  const codeOf = new Map<string, number>();
  const code = (value: unknown): number => {
    const key = String(value);
    let c = codeOf.get(key);
    if (c === undefined) {
      c = names.length;
      codeOf.set(key, c);
      names.push(key);
    }
    return c;
  };
  let row = 0;
  for (const data of col.data) {
    if (type.typeId === Type.Dictionary) {
      // Each batch may carry its own dictionary: its entries are mapped to codes once, then rows are looked up.
      const dictionary = data.dictionary as Vector;
      const lookup = new Uint32Array(dictionary.length);
      for (let d = 0; d < dictionary.length; d++) lookup[d] = code(dictionary.get(d));
      for (let i = 0; i < data.length; i++) codes[row++] = lookup[indexAt(data, i)];
    } else {
      for (let i = 0; i < data.length; i++, row++) codes[row] = code(col.get(row));
    }
  }
  // Dictionary entries no row uses are dropped, so the slice list holds only slices with rows.
  return compactKey(name, codes, names);
}

function indexAt(data: Data, i: number): number {
  const v = data.values as unknown as ArrayLike<number | bigint>;
  return Number(v[data.offset + i]);
}

/** Keeps only the names some row uses, renumbering the codes in order of first use. */
function compactKey(column: string, codes: Uint32Array, names: string[]): SliceKey {
  const used = new Int32Array(names.length).fill(-1);
  const kept: string[] = [];
  for (let i = 0; i < codes.length; i++) {
    let c = used[codes[i]];
    if (c < 0) {
      c = kept.length;
      used[codes[i]] = c;
      kept.push(names[codes[i]]);
    }
    codes[i] = c;
  }
  return { column, codes, names: kept };
}
