/**
 * Reading predictions from Apache Arrow IPC bytes (file or stream format) into typed arrays.
 *
 * Pure: takes bytes, returns arrays; reading the file from disk is the caller's job (CLI, task).
 * Zero-copy where Arrow allows: a float64, float32 or 8/16/32-bit integer score column held in one
 * record batch without nulls is returned as a view into `bytes`; 0/1 labels stored as (u)int8 likewise.
 * Booleans (bit-packed), 64-bit integers, float16 and multi-batch columns are converted (one copy).
 *
 * Every problem is reported as a `PredictionsError` naming the column: missing label column, labels
 * other than 0/1, one class only, NaN/infinite or missing scores (count and first row), columns of
 * different lengths, non-numeric columns, empty predictions, and truncated or inconsistent Arrow data
 * (a stream without its end-of-stream marker, a file without its footer, a batch claiming more rows
 * than its buffers hold).
 */
import { tableFromIPC, Type, type Data, type DataType, type Table } from 'apache-arrow';
import { PredictionsError } from './errors';
import type { Predictions, RowKeyColumn, ScoreArray } from './types';

/** Options of `readPredictions`. */
export interface ReadPredictionsOptions {
  /** Name of the label column; default `label`. */
  labelColumn?: string;
  /** Score columns to read; default every column except the label and `exclude` (each must then be numeric). */
  scoreColumns?: string[];
  /** Without `scoreColumns`: columns that are not models (e.g. a weight or id column named by the caller). */
  exclude?: string[];
  /**
   * Without `scoreColumns`: leave out columns that are not numeric scalars (strings, lists, dates...)
   * instead of failing on them. Default false.
   */
  numericOnly?: boolean;
  /**
   * Column of integer row weights (see `Predictions.weight`): Arrow integers, or floats holding exact
   * integers, from 0 to 2^32 − 1. Never read as a model: it is left out of the default score columns,
   * and naming it in `scoreColumns` (or as the label) is an error.
   */
  weightColumn?: string;
  /**
   * Column of row keys for the `keyedPoisson` bootstrap (see `Predictions.rowKey`): Arrow integers (64-bit
   * included) or floats holding integers; the engine checks the range and that keys are distinct. Never
   * read as a model.
   */
  rowKeyColumn?: string;
}

const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

/**
 * Reads labels and one score column per model from Arrow IPC bytes.
 *
 * @throws PredictionsError with a message naming the column and the problem.
 * @example
 * const preds = readPredictions(new Uint8Array(readFileSync('predictions.arrow')));
 * preds.columns.map((c) => c.name); // ['prod', 'cand']
 */
export function readPredictions(bytes: Uint8Array, opts: ReadPredictionsOptions = {}): Predictions {
  return readPredictionsFromTable(ipcTable(bytes), opts);
}

/** Arrow IPC bytes (file or stream) as a table, after the framing checks. */
export function ipcTable(bytes: Uint8Array): Table {
  if (!(bytes instanceof Uint8Array)) throw new PredictionsError('the predictions must be given as bytes (a Uint8Array)');
  if (bytes.length === 0) throw new PredictionsError('the predictions are empty (0 bytes)');
  checkFraming(bytes);
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (e) {
    throw new PredictionsError(`the predictions are not readable Arrow IPC data (truncated or corrupt?): ${(e as Error).message}`);
  }
  return table;
}

/**
 * The validation and conversion of `readPredictions` applied to an Arrow table already in memory (the
 * Parquet and CSV readers outside the engine build one), so every format gets the same checks and messages.
 *
 * @throws PredictionsError with a message naming the column and the problem.
 */
export function readPredictionsFromTable(table: Table, opts: ReadPredictionsOptions = {}): Predictions {
  const { labelName, n, weightName, rowKeyName, scoreNames } = planColumns(table, opts, (t) => t.typeId === Type.Int || t.typeId === Type.Float);
  for (const name of [labelName, ...scoreNames]) checkColumnShape(table, name, n);
  if (n === 0) throw new PredictionsError('the predictions are empty (0 rows)');
  if (scoreNames.length === 0) throw new PredictionsError(`there is no score column besides '${labelName}'`);
  const labels = readLabels(table, labelName, n);
  const columns = scoreNames.map((name) => ({ name, scores: readScores(table, name, n) }));
  const rowKey = rowKeyName === undefined ? {} : { rowKey: readRowKeys(table, rowKeyName, n) };
  if (weightName === undefined) return { n, labels, columns, ...rowKey };
  checkColumnShape(table, weightName, n);
  return { n, labels, columns, weight: { name: weightName, values: readWeights(table, weightName, n, labels) }, ...rowKey };
}

/** The columns of a predictions table, checked by name: the label, the weight and the models (default: every other column, or those of the model type with `numericOnly`). */
export function planColumns(
  table: Table,
  opts: ReadPredictionsOptions,
  isModelType: (type: DataType) => boolean,
): { labelName: string; n: number; weightName?: string; rowKeyName?: string; scoreNames: string[] } {
  const labelName = opts.labelColumn ?? 'label';
  const names = table.schema.fields.map((f) => f.name);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new PredictionsError(`column '${name}' appears twice`, name);
    seen.add(name);
  }
  if (!names.includes(labelName)) {
    throw new PredictionsError(`there is no label column '${labelName}' (columns: ${names.join(', ') || 'none'})`, labelName);
  }
  const n = table.numRows;
  const weightName = opts.weightColumn;
  if (weightName !== undefined) {
    if (!names.includes(weightName)) throw new PredictionsError(`there is no weight column '${weightName}' (columns: ${names.join(', ')})`, weightName);
    if (weightName === labelName) throw new PredictionsError(`column '${weightName}' cannot be both the label and the weight`, weightName);
    if (opts.scoreColumns?.includes(weightName))
      throw new PredictionsError(`column '${weightName}' is the weight column; it cannot also be a model`, weightName);
  }
  const exclude = new Set(opts.exclude ?? []);
  if (weightName !== undefined) exclude.add(weightName);
  const rowKeyName = checkRowKeyName(opts, names, labelName);
  if (rowKeyName !== undefined) exclude.add(rowKeyName);
  const scoreNames =
    opts.scoreColumns ??
    names.filter((c) => {
      if (c === labelName || exclude.has(c)) return false;
      if (!opts.numericOnly) return true;
      return isModelType(table.schema.fields.find((f) => f.name === c)!.type);
    });
  for (const name of scoreNames) {
    if (!names.includes(name)) throw new PredictionsError(`there is no score column '${name}' (columns: ${names.join(', ')})`, name);
  }
  return { labelName, n, ...(weightName !== undefined ? { weightName } : {}), ...(rowKeyName !== undefined ? { rowKeyName } : {}), scoreNames };
}

/** The row key column's name, checked against the table and the other roles. */
function checkRowKeyName(opts: ReadPredictionsOptions, names: string[], labelName: string): string | undefined {
  const name = opts.rowKeyColumn;
  if (name === undefined) return undefined;
  if (!names.includes(name)) throw new PredictionsError(`there is no row key column '${name}' (columns: ${names.join(', ')})`, name);
  if (name === labelName || name === opts.weightColumn) {
    throw new PredictionsError(`column '${name}' cannot be both the row key and the ${name === labelName ? 'label' : 'weight'}`, name);
  }
  if (opts.scoreColumns?.includes(name)) throw new PredictionsError(`column '${name}' is the row key column; it cannot also be a model`, name);
  return name;
}

/** The row keys as Arrow gives them (64-bit integers as BigInt arrays); range and uniqueness are checked by the keyed bootstrap. */
export function readRowKeys(table: Table, name: string, n: number): RowKeyColumn {
  checkColumnShape(table, name, n);
  const col = table.getChild(name)!;
  // Half floats (precision 0) hold integers only up to 2048: not keys.
  if (col.type.typeId !== Type.Int && !(col.type.typeId === Type.Float && (col.type as { precision?: number }).precision !== 0)) {
    throw new PredictionsError(`the row key column '${name}' has type ${typeName(col.type)}; expected integers`, name);
  }
  const values = col.toArray() as ArrayLike<number> | BigInt64Array | BigUint64Array;
  if (values instanceof BigInt64Array || values instanceof BigUint64Array || values instanceof Float64Array) return { name, values };
  return { name, values: Float64Array.from(values as ArrayLike<number>) };
}

/** Largest weight: weights are kept as 32-bit unsigned integers. */
const MAX_WEIGHT = 4294967295;

/**
 * The weight column as integers: Arrow integers of any width, or floats (16/32/64-bit) holding exact
 * integers, each from 0 to 2^32 − 1; the first offending value is reported with its row. Both classes
 * must keep some weight.
 */
function readWeights(table: Table, name: string, n: number, labels: Uint8Array): Uint32Array {
  const out = readWeightValues(table, name, n);
  let total = 0;
  let positive = 0;
  for (let i = 0; i < n; i++) {
    total += out[i];
    if (labels[i] === 1) positive += out[i];
  }
  if (positive === 0 || positive === total) {
    throw new PredictionsError(
      `the weight column '${name}' gives weight 0 to every ${positive === 0 ? 'positive' : 'negative'} row (total weight ${total}); a comparison needs weight on both classes`,
      name,
    );
  }
  return out;
}

/** The weight column's values as 32-bit unsigned integers; the first value that is not one is reported with its row. */
export function readWeightValues(table: Table, name: string, n: number): Uint32Array {
  const col = table.getChild(name)!;
  const type = col.type;
  if (type.typeId !== Type.Int && type.typeId !== Type.Float) {
    throw new PredictionsError(`the weight column '${name}' has type ${typeName(type)}; expected integers (or floats holding whole numbers)`, name);
  }
  // Any integer or float column converts to float64 exactly (64-bit integers are checked below 2^53).
  const values = type.typeId === Type.Float && bitWidth(type) === 16 ? widenToFloat64(col.data, name, n, true, true) : null;
  const out = new Uint32Array(n);
  let row = 0;
  const check = (x: number, r: number): number => {
    if (!Number.isFinite(x) || x < 0 || x > MAX_WEIGHT || Math.floor(x) !== x) {
      const why = !Number.isFinite(x) ? 'not a finite number' : x < 0 ? 'negative' : x > MAX_WEIGHT ? 'larger than 4294967295' : 'not a whole number';
      throw new PredictionsError(`the weight column '${name}' has ${x} at row ${r} (${why}); weights must be whole numbers from 0 to 4294967295`, name);
    }
    return x;
  };
  if (values !== null) {
    for (let i = 0; i < n; i++) out[i] = check(values[i], i);
  } else if (type.typeId === Type.Int && bitWidth(type) === 64) {
    for (const data of col.data) {
      const v = data.values as unknown as { buffer: ArrayBufferLike; byteOffset: number };
      const words = new Int32Array(v.buffer, v.byteOffset + 8 * data.offset, 2 * data.length);
      for (let i = 0; i < data.length; i++, row++) {
        const lo = words[2 * i] >>> 0;
        const hi = words[2 * i + 1];
        if (hi === 0) {
          out[row] = lo;
          continue;
        }
        // Negative or beyond 2^32 − 1 whatever the low word: report the exact value.
        const raw = String(col.get(row));
        throw new PredictionsError(
          `the weight column '${name}' has ${raw} at row ${row} (${raw.startsWith('-') ? 'negative' : 'larger than 4294967295'}); weights must be whole numbers from 0 to 4294967295`,
          name,
        );
      }
    }
  } else {
    for (const data of col.data) {
      const v = batchValues(data);
      for (let i = 0; i < data.length; i++, row++) out[row] = check(v[i], row);
    }
  }
  return out;
}

/** Rejects truncated data before Arrow's reader, whose own errors are cryptic or absent for truncation. */
function checkFraming(bytes: Uint8Array): void {
  const isFile = FILE_MAGIC.every((b, i) => bytes[i] === b);
  if (isFile) {
    const end = bytes.length - FILE_MAGIC.length;
    if (bytes.length < 12 || !FILE_MAGIC.every((b, i) => bytes[end + i] === b)) {
      throw new PredictionsError('the Arrow file is truncated: it does not end with the Arrow footer and magic');
    }
    return;
  }
  walkStream(bytes);
}

/**
 * Follows the encapsulated messages of an Arrow stream (continuation marker, metadata length, metadata
 * flatbuffer, body) up to the end-of-stream marker, and throws if the bytes end first.
 */
function walkStream(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let messages = 0;
  for (;;) {
    if (pos + 4 > bytes.length) break;
    let len = view.getInt32(pos, true);
    if (len === -1) {
      if (pos + 8 > bytes.length) break;
      len = view.getInt32(pos + 4, true);
      pos += 8;
    } else {
      pos += 4; // pre-1.0 framing without the continuation marker
    }
    if (len === 0) {
      if (messages === 0) throw new PredictionsError('the Arrow stream holds no schema');
      return; // end-of-stream marker
    }
    if (len < 0 || pos + len > bytes.length) break;
    const body = messageBodyLength(view, pos, len);
    if (body === null) throw new PredictionsError('the predictions are not Arrow IPC data (no Arrow file magic and no valid stream message)');
    pos += len;
    if (pos + body > bytes.length) break;
    pos += body;
    messages++;
  }
  const continuation = bytes.length >= 4 && view.getInt32(0, true) === -1;
  if (messages === 0 && !continuation) {
    throw new PredictionsError('the predictions are not Arrow IPC data (no Arrow file magic and no valid stream message)');
  }
  throw new PredictionsError(`the Arrow stream is truncated: it ends inside message ${messages + 1}, before the end-of-stream marker`);
}

/** `bodyLength` (field 3) of a flatbuffer `Message` table at [start, start + len), or null if malformed. */
function messageBodyLength(view: DataView, start: number, len: number): number | null {
  if (len < 8) return null;
  const table = start + view.getUint32(start, true);
  if (table + 4 > start + len) return null;
  const vtable = table - view.getInt32(table, true);
  if (vtable < start || vtable + 4 > start + len) return null;
  const vtSize = view.getUint16(vtable, true);
  const FIELD = 3;
  if (4 + 2 * FIELD + 2 > vtSize) return 0;
  const off = view.getUint16(vtable + 4 + 2 * FIELD, true);
  if (off === 0) return 0;
  if (table + off + 8 > start + len) return null;
  const body = Number(view.getBigInt64(table + off, true));
  return body >= 0 && Number.isSafeInteger(body) ? body : null;
}

/** Bytes per value of fixed-width types we read, by Arrow type id; booleans are bit-packed (special-cased). */
export function bitWidth(type: DataType): number | null {
  if (type.typeId === Type.Bool) return 1;
  if (type.typeId === Type.Int) return (type as DataType & { bitWidth: number }).bitWidth;
  if (type.typeId === Type.Float) return [16, 32, 64][(type as DataType & { precision: number }).precision];
  return null;
}

/**
 * Checks that each batch's buffers hold the rows the batch claims, and that the column has the table's
 * length (a column shorter than the others shows up as trailing nulls when written with arrow-js).
 */
export function checkColumnShape(table: Table, name: string, n: number): void {
  const col = table.getChild(name)!;
  const bits = bitWidth(col.type);
  let rows = 0;
  for (const data of col.data) {
    if (bits !== null && data.nullCount < data.length) {
      const need = Math.ceil(((data.offset + data.length) * bits) / 8);
      const have = data.values ? (data.values as ArrayLike<number> & { byteLength: number }).byteLength : 0;
      if (have < need) {
        throw new PredictionsError(
          `column '${name}' claims ${data.length} rows in a record batch but its data hold only ${Math.floor((have * 8) / bits) - data.offset} (truncated or corrupt Arrow data)`,
          name,
        );
      }
    }
    rows += data.length;
  }
  if (rows !== n) throw new PredictionsError(`column '${name}' has ${rows} rows but the table has ${n}`, name);
  if (col.nullCount > 0) {
    let first = -1;
    let lastValid = -1;
    let row = 0;
    for (const data of col.data) {
      for (let i = 0; i < data.length; i++, row++) {
        if (data.getValid(i)) lastValid = row;
        else if (first < 0) first = row;
      }
    }
    if (first === lastValid + 1) {
      throw new PredictionsError(`column '${name}' has ${first} rows but the other columns have ${n} (its last ${n - first} values are missing)`, name);
    }
    throw new PredictionsError(`column '${name}' has ${col.nullCount} missing (null) value${col.nullCount > 1 ? 's' : ''} (first at row ${first})`, name);
  }
}

/** Arrow's own spelling of a type (`Float64`, `Dictionary<Int32, Utf8>`...), for messages. */
export function typeName(type: DataType): string {
  return String(type);
}

/** The values of one batch of a fixed-width column, trimmed to its rows (a view, no copy). */
export function batchValues(data: Data): ArrayLike<number> & { subarray(a: number, b: number): unknown } {
  const values = data.values as unknown as ScoreArray;
  return values.subarray(data.offset, data.offset + data.length) as ScoreArray;
}

/**
 * The label column as 0/1 bytes: a view for (u)int8 in one batch, otherwise one conversion pass
 * (booleans are bit-packed, wider integers need narrowing); values other than 0/1 are reported with
 * their count and first row, as is a column holding one class only.
 */
function readLabels(table: Table, name: string, n: number): Uint8Array {
  const labels = labelBytes(table, name, n);
  checkLabels(table, name, labels, n);
  return labels;
}

/** The label column as bytes: 0 and 1 as themselves, any other value as 2 (reported by {@link checkLabels}). */
function labelBytes(table: Table, name: string, n: number): Uint8Array {
  const col = table.getChild(name)!;
  const type = col.type;
  let labels: Uint8Array;
  if (type.typeId === Type.Bool) {
    labels = new Uint8Array(n);
    let row = 0;
    for (const data of col.data) {
      const bits = data.values as Uint8Array;
      for (let i = 0, j = data.offset; i < data.length; i++, j++) labels[row++] = (bits[j >> 3] >> (j & 7)) & 1;
    }
  } else if (type.typeId === Type.Int) {
    const width = (type as DataType & { bitWidth: number }).bitWidth;
    if (width === 8 && col.data.length === 1) {
      const v = batchValues(col.data[0]) as Uint8Array | Int8Array;
      labels = new Uint8Array(v.buffer, v.byteOffset, n);
    } else if (width === 64) {
      labels = new Uint8Array(n);
      let row = 0;
      for (const data of col.data) {
        const v = batchValues(data) as unknown as BigInt64Array;
        const words = new Int32Array(v.buffer, v.byteOffset, 2 * data.length);
        for (let i = 0; i < data.length; i++) {
          const lo = words[2 * i];
          const hi = words[2 * i + 1];
          labels[row++] = hi === 0 && (lo === 0 || lo === 1) ? lo : 2;
        }
      }
    } else {
      labels = new Uint8Array(n);
      let row = 0;
      for (const data of col.data) {
        const v = batchValues(data);
        for (let i = 0; i < data.length; i++) {
          const y = v[i];
          labels[row++] = y === 0 || y === 1 ? y : 2;
        }
      }
    }
  } else if (type.typeId === Type.Float) {
    // Spark writes labels as doubles; only exactly 0.0 and 1.0 are labels (the scoring notebook accepts
    // the same). Anything else (0.5, NaN, -0.0 aside, which equals 0) is reported with its row below.
    const width = bitWidth(type)!;
    labels = new Uint8Array(n);
    let row = 0;
    for (const data of col.data) {
      if (width === 16) {
        const v = data.values as unknown as { buffer: ArrayBufferLike; byteOffset: number };
        const half = new Uint16Array(v.buffer, v.byteOffset + 2 * data.offset, data.length);
        for (let i = 0; i < data.length; i++) {
          const y = halfToNumber(half[i]);
          labels[row++] = y === 0 || y === 1 ? y : 2;
        }
      } else {
        const v = batchValues(data);
        for (let i = 0; i < data.length; i++) {
          const y = v[i];
          labels[row++] = y === 0 || y === 1 ? y : 2;
        }
      }
    }
  } else {
    throw new PredictionsError(`the label column '${name}' has type ${typeName(type)}; expected booleans, integers 0/1 or floats 0.0/1.0`, name);
  }
  return labels;
}

/** Throws when a label is neither 0 nor 1 (its count and first row) or when the labels hold one class only. */
function checkLabels(table: Table, name: string, labels: Uint8Array, n: number): void {
  let bad = 0;
  let first = -1;
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y > 1) {
      if (bad++ === 0) first = i;
    } else positives += y;
  }
  if (bad > 0) {
    const shown = labelText(table, name, first);
    throw new PredictionsError(`the label column '${name}' has ${bad} value${bad > 1 ? 's' : ''} other than 0 and 1 (first at row ${first}: ${shown})`, name);
  }
  if (positives === 0 || positives === n) {
    throw new PredictionsError(`the label column '${name}' holds only one class (every label is ${positives === 0 ? 0 : 1})`, name);
  }
}

/** A label value as the user wrote it (e.g. `2`, `-1`), for the error message. */
function labelText(table: Table, name: string, row: number): string {
  const v = table.getChild(name)!.get(row);
  return String(v);
}

/**
 * A score column as a typed array: a view for float64, float32 and 8–32-bit integers in one batch, a
 * concatenation for several batches, a float64 conversion for float16 and 64-bit integers. NaN and
 * infinite scores are reported with their count and first row (integers cannot hold them).
 */
export function readScores(table: Table, name: string, n: number): ScoreArray {
  const col = table.getChild(name)!;
  const type = col.type;
  let scores: ScoreArray;
  const single = col.data.length === 1;
  if (type.typeId === Type.Float || type.typeId === Type.Int) {
    const width = bitWidth(type)!;
    const isHalf = type.typeId === Type.Float && width === 16;
    if (isHalf || (type.typeId === Type.Int && width === 64)) {
      scores = widenToFloat64(col.data, name, n, isHalf, (type as DataType & { isSigned?: boolean }).isSigned !== false);
    } else if (single) {
      scores = batchValues(col.data[0]) as ScoreArray;
    } else {
      const Ctor = (col.data[0].values as ScoreArray).constructor as new (len: number) => ScoreArray;
      scores = new Ctor(n);
      let row = 0;
      for (const data of col.data) {
        (scores as Float64Array).set(batchValues(data) as Float64Array, row);
        row += data.length;
      }
    }
  } else {
    throw new PredictionsError(`column '${name}' has type ${typeName(type)}; a score column must be numeric (float64, float32 or integer)`, name);
  }
  if (scores instanceof Float64Array || scores instanceof Float32Array) {
    let bad = 0;
    let first = -1;
    for (let i = 0; i < n; i++) {
      const s = scores[i];
      if (s - s !== 0) {
        if (bad++ === 0) first = i;
      }
    }
    if (bad > 0) {
      throw new PredictionsError(`column '${name}' has ${bad} NaN or infinite score${bad > 1 ? 's' : ''} (first at row ${first}: ${scores[first]})`, name);
    }
  }
  return scores;
}

/** Float16 or 64-bit integer batches converted to one Float64Array (64-bit integers must be below 2^53). */
export function widenToFloat64(chunks: readonly Data[], name: string, n: number, isHalf: boolean, signed: boolean): Float64Array {
  const out = new Float64Array(n);
  let row = 0;
  for (const data of chunks) {
    const v = data.values as unknown as { buffer: ArrayBufferLike; byteOffset: number };
    if (isHalf) {
      const half = new Uint16Array(v.buffer, v.byteOffset + 2 * data.offset, data.length);
      for (let i = 0; i < data.length; i++) out[row++] = halfToNumber(half[i]);
      continue;
    }
    const words = new Int32Array(v.buffer, v.byteOffset + 8 * data.offset, 2 * data.length);
    for (let i = 0; i < data.length; i++, row++) {
      const lo = words[2 * i] >>> 0;
      const hi = words[2 * i + 1];
      if (signed ? hi < -0x200000 || hi >= 0x200000 : hi >>> 0 >= 0x200000) {
        throw new PredictionsError(`column '${name}' has a 64-bit integer score beyond 2^53 at row ${row}, which a float64 cannot hold exactly`, name);
      }
      out[row] = (signed ? hi : hi >>> 0) * 4294967296 + lo;
    }
  }
  return out;
}

/** IEEE 754 half precision bits to a number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
