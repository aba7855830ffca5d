/**
 * Reading a predictions file in the formats users have: Apache Arrow IPC (file and stream), Parquet and
 * CSV. The format is chosen by its magic bytes (Parquet: `PAR1` at both ends, Parquet format spec
 * https://parquet.apache.org/docs/file-format/; Arrow file: `ARROW1`, Arrow stream: the 0xFFFFFFFF
 * continuation marker, https://arrow.apache.org/docs/format/Columnar.html#ipc-file-format), else by the
 * file's extension.
 *
 * Parquet and CSV are converted to an Arrow table of the shape the engine's Arrow reader builds, and the
 * engine's `readPredictionsFromTable` validates it: every format gets the same checks and the same
 * messages naming column and row. This module does no I/O itself (callers hand it the bytes, or a
 * `ChunkedFile` such as src/io/file-chunks.ts so that CSV streams), but it lives outside src/engine because
 * the engine ring imports only Arrow and seedrandom.
 */
import { makeData, Table, Dictionary, Field, FixedSizeList, Float64, Int32, Schema, Utf8, Vector, vectorFromArray, type Data } from 'apache-arrow';
import { parquetMetadata, parquetRead } from 'hyparquet';
import { readCsvColumns } from './csv';
import { decodeFlatColumns, decodeListColumns, isFlatLeaf, isListLeaf, parquetCompressors, type Float64Sink, type ListSink } from './parquet';
import {
  CLASSES_METADATA_KEY,
  PredictionsError,
  readAnyPredictions,
  readAnyPredictionsFromTable,
  readPredictions,
  readPredictionsFromTable,
  type Predictions,
  type ReadAnyOptions,
  type ReadAnyResult,
  type ReadPredictionsOptions,
} from '../engine';

export type PredictionsFormat = 'arrow-file' | 'arrow-stream' | 'parquet' | 'csv';

const utf8 = new TextDecoder();

/** The formats that can be read, after a format-specific conversion hint. */
const READABLE = 'Predictions are read from Parquet, Arrow IPC (Feather v2) or CSV';

const HOW_TO_CONVERT =
  "Write the predictions as Parquet (pandas: df.to_parquet('predictions.parquet'); Spark: df.toPandas().to_parquet(...)), " +
  "Arrow IPC (pyarrow.feather.write_feather(df, 'predictions.arrow')) or CSV (df.to_csv('predictions.csv', index=False))";

function startsWith(bytes: Uint8Array, ascii: string, at = 0): boolean {
  if (at < 0 || at + ascii.length > bytes.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/** Content we recognise but cannot read: its name for the message, and how to convert it. */
interface OtherFormat {
  name: string;
  how: string;
}

const WITH_PANDAS = (read: string): string => `with pandas: ${read}.to_parquet('predictions.parquet')`;
const PANDAS_TO_PARQUET = (read: string): string => `Convert it ${WITH_PANDAS(read)}`;
const DECOMPRESS = (tool: string): string =>
  `Decompress it first (${tool}), or write Parquet, which compresses its columns itself: df.to_parquet('predictions.parquet')`;

/**
 * Binary formats recognised by their magic bytes (sources: gzip RFC 1952 §2.3.1; ZIP APPNOTE 4.3.7; the
 * Compound File Binary format of .xls, [MS-CFB] §2.2; Feather v1 `FEA1`, kFeatherV1MagicBytes in Arrow's
 * cpp/src/arrow/ipc/feather.cc, whose reader still reads version 1, https://arrow.apache.org/docs/python/feather.html; ORC `ORC`, https://orc.apache.org/specification/ORCv1/;
 * Avro `Obj\x01`, https://avro.apache.org/docs/1.11.1/specification/#object-container-files; NumPy
 * `\x93NUMPY`, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html; HDF5 `\x89HDF\r\n\x1a\n`;
 * encrypted Parquet `PARE`, https://parquet.apache.org/docs/file-format/data-pages/encryption/; SQLite
 * `SQLite format 3\0`; bzip2 `BZh`, xz `\xfd7zXZ\0`, zstd frame magic 0xFD2FB528 little-endian, RFC 8878 §3.1.1).
 */
function binaryFormat(bytes: Uint8Array, ext: string | undefined, base: string): OtherFormat | undefined {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return { name: 'gzip-compressed data', how: DECOMPRESS(`gunzip ${base}`) };
  if (startsWith(bytes, 'BZh')) return { name: 'bzip2-compressed data', how: DECOMPRESS(`bunzip2 ${base}`) };
  if (startsWith(bytes, '\xfd7zXZ\x00')) return { name: 'xz-compressed data', how: DECOMPRESS(`unxz ${base}`) };
  if (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd)
    return { name: 'zstd-compressed data', how: DECOMPRESS(`unzstd ${base}`) };
  if (startsWith(bytes, 'PK\x03\x04')) {
    if (ext === 'xlsx' || ext === 'xlsm') {
      return {
        name: `an Excel workbook (.${ext})`,
        how: `Save the sheet as CSV (File > Save As > CSV), or ${WITH_PANDAS(`pd.read_excel('predictions.${ext}')`)}`,
      };
    }
    return {
      name: 'a ZIP archive (an Excel .xlsx workbook or a zipped file?)',
      how: `Unzip it first; for an Excel workbook save the sheet as CSV, or ${WITH_PANDAS('pd.read_excel(...)')}`,
    };
  }
  if (
    bytes[0] === 0xd0 &&
    bytes[1] === 0xcf &&
    bytes[2] === 0x11 &&
    bytes[3] === 0xe0 &&
    bytes[4] === 0xa1 &&
    bytes[5] === 0xb1 &&
    bytes[6] === 0x1a &&
    bytes[7] === 0xe1
  ) {
    return {
      name: 'an Excel 97-2003 workbook (.xls) or another OLE2 compound file',
      how: `Save the sheet as CSV, or ${WITH_PANDAS("pd.read_excel('predictions.xls')")}`,
    };
  }
  if (startsWith(bytes, 'FEA1')) {
    return {
      name: 'Feather version 1 (the format before Arrow IPC)',
      how: "Rewrite it as Feather version 2, which is Arrow IPC: pyarrow.feather.write_feather(pyarrow.feather.read_table('old.feather'), 'predictions.arrow')",
    };
  }
  if (startsWith(bytes, 'PARE')) return { name: 'an encrypted Parquet file (Parquet modular encryption)', how: 'Write the predictions without encryption' };
  if (startsWith(bytes, 'ORC')) return { name: 'ORC', how: PANDAS_TO_PARQUET("pd.read_orc('predictions.orc')") };
  if (startsWith(bytes, 'Obj\x01'))
    return {
      name: 'Avro',
      how: "Convert it to Parquet, e.g. with Spark: spark.read.format('avro').load('predictions.avro').write.parquet('predictions.parquet')",
    };
  if (startsWith(bytes, '\x93NUMPY'))
    return {
      name: 'a NumPy .npy array',
      how: "Put the label and the scores in named columns: pd.DataFrame({'label': y, 'model_a': p}).to_parquet('predictions.parquet')",
    };
  if (bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return { name: 'a Python pickle', how: PANDAS_TO_PARQUET("pd.read_pickle('predictions.pkl')") };
  if (startsWith(bytes, '\x89HDF')) return { name: 'HDF5', how: PANDAS_TO_PARQUET("pd.read_hdf('predictions.h5')") };
  if (startsWith(bytes, 'SQLite format 3\x00'))
    return { name: 'an SQLite database', how: PANDAS_TO_PARQUET("pd.read_sql('select * from predictions', sqlite3.connect('predictions.db'))") };
  return undefined;
}

/** Text formats told apart from CSV by their first characters: JSON, and tab- or semicolon-separated text. */
function textFormat(bytes: Uint8Array): OtherFormat | undefined {
  const first = firstNonSpace(bytes);
  if (first === 0x7b || first === 0x5b) {
    return { name: 'JSON text', how: `${PANDAS_TO_PARQUET("pd.read_json('predictions.json')")} (JSON Lines: pd.read_json(..., lines=True))` };
  }
  const line = firstLine(bytes);
  if (line !== undefined && !line.includes(',')) {
    if (line.includes('\t'))
      return {
        name: 'tab-separated text',
        how: "Write it comma-separated: df.to_csv('predictions.csv', index=False), or convert it: pd.read_csv('predictions.tsv', sep='\\t').to_parquet('predictions.parquet')",
      };
    if (line.includes(';'))
      return {
        name: 'semicolon-separated text',
        how: "Write it comma-separated with a dot as decimal mark: df.to_csv('predictions.csv', index=False), or convert it: pd.read_csv('predictions.csv', sep=';', decimal=',').to_parquet('predictions.parquet')",
      };
  }
  return undefined;
}

function firstNonSpace(bytes: Uint8Array): number | undefined {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i];
}

/** The first line of printable text in the first KiB (no end of line needed), else undefined (binary). */
function firstLine(bytes: Uint8Array): string | undefined {
  const end = Math.min(bytes.length, 1024);
  let i = 0;
  for (; i < end && bytes[i] !== 0x0a; i++) {
    const b = bytes[i];
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return undefined;
  }
  return utf8.decode(bytes.subarray(0, i));
}

/** True when the first KiB is printable text whose first line has a comma (a CSV header). */
function looksLikeCsv(bytes: Uint8Array): boolean {
  return firstLine(bytes)?.includes(',') ?? false;
}

function cannotRead(other: OtherFormat | undefined, ext: string | undefined): PredictionsError {
  return new PredictionsError(
    `the predictions are in a format that cannot be read (${other?.name ?? 'not Arrow IPC, Parquet or CSV'}${ext ? `, extension .${ext}` : ''}). ${other ? `${other.how}. ${READABLE}` : HOW_TO_CONVERT}.`,
  );
}

/**
 * The format of predictions bytes (the whole file, or its first bytes: 64 KiB are plenty): magic bytes
 * first, then the file name's extension, then (without either) text with a comma-separated first line is
 * CSV. A format we know but cannot read is named in the error, with how to convert it.
 *
 * @throws PredictionsError naming what the bytes look like and how to convert them.
 */
export function detectFormat(bytes: Uint8Array, fileName?: string): PredictionsFormat {
  if (startsWith(bytes, 'PAR1')) return 'parquet';
  if (startsWith(bytes, 'ARROW1')) return 'arrow-file';
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff) return 'arrow-stream';
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName ?? '')?.[1]?.toLowerCase();
  const binary = binaryFormat(bytes, ext, /[^/\\]*$/.exec(fileName ?? '')?.[0] || 'the file');
  if (binary) throw cannotRead(binary, ext);
  if (ext === 'parquet' || ext === 'pq') {
    const text = textFormat(bytes);
    throw new PredictionsError(
      `the predictions file ends in .${ext} but is not Parquet data (it does not start with the Parquet magic 'PAR1'${text ? `; it looks like ${text.name}` : ''}). ${HOW_TO_CONVERT}.`,
    );
  }
  // Arrow streams written before Arrow 0.15 have no continuation marker: the extension decides.
  if (ext === 'arrow' || ext === 'feather' || ext === 'ipc' || ext === 'arrows') return 'arrow-stream';
  if (ext === 'csv') return 'csv';
  const text = textFormat(bytes);
  if (text === undefined && looksLikeCsv(bytes)) return 'csv';
  throw cannotRead(text, ext);
}

/**
 * Reads predictions from the bytes of a file in any supported format, with the engine's validation.
 *
 * @param fileName used only when the bytes carry no magic (CSV, or an old Arrow stream), and in messages.
 * @throws PredictionsError naming the column and row, or the format and how to convert it.
 */
export async function readPredictionsFile(bytes: Uint8Array, opts: ReadPredictionsOptions = {}, fileName?: string): Promise<Predictions> {
  return readPredictionsChunked({ size: bytes.length, head: bytes, chunks: () => [bytes], whole: () => bytes }, opts, fileName);
}

/**
 * A file to read predictions from without holding it whole when it need not be: its first bytes decide
 * the format; CSV is then parsed from `chunks()` as they come, Arrow IPC and Parquet (whose readers need
 * random access) are read `whole()`.
 */
export interface ChunkedFile {
  /** The size in bytes. */
  size: number;
  /** The first bytes (64 KiB or the whole file if smaller): enough to recognise any format. */
  head: Uint8Array;
  /** The whole content from the start, in order, in chunks of any size. */
  chunks(): Iterable<Uint8Array>;
  /** The whole content in one array. */
  whole(): Uint8Array;
}

/**
 * Reads predictions from a `ChunkedFile`; CSV streams (memory: the numeric columns plus about one chunk).
 *
 * @throws PredictionsError naming the column and row, or the format and how to convert it.
 */
export async function readPredictionsChunked(file: ChunkedFile, opts: ReadPredictionsOptions = {}, fileName?: string): Promise<Predictions> {
  if (file.size === 0) throw new PredictionsError('the predictions are empty (0 bytes)');
  const format = detectFormat(file.head, fileName);
  if (format === 'csv') return readPredictionsFromTable(csvTable(file.chunks(), opts, file.size), opts);
  const bytes = file.whole();
  if (format === 'arrow-file' || format === 'arrow-stream') return readPredictions(bytes, opts);
  return readPredictionsFromTable(await parquetTable(bytes, opts), opts);
}

/**
 * Reads predictions of any problem type, and the slice columns, from the bytes of a file in any supported
 * format (the engine's `readAnyPredictionsFromTable` checks every format alike).
 *
 * @throws PredictionsError naming the column and row, or the format and how to convert it.
 */
export async function readAnyPredictionsFile(bytes: Uint8Array, opts: ReadAnyOptions = {}, fileName?: string): Promise<ReadAnyResult> {
  return readAnyPredictionsChunked({ size: bytes.length, head: bytes, chunks: () => [bytes], whole: () => bytes }, opts, fileName);
}

/**
 * `readAnyPredictionsFile` from a `ChunkedFile` (CSV streams). Multiclass predictions need Parquet or Arrow
 * IPC: CSV has no list columns for the class probabilities.
 *
 * @throws PredictionsError naming the column and row, or the format and how to convert it.
 */
export async function readAnyPredictionsChunked(file: ChunkedFile, opts: ReadAnyOptions = {}, fileName?: string): Promise<ReadAnyResult> {
  if (file.size === 0) throw new PredictionsError('the predictions are empty (0 bytes)');
  const format = detectFormat(file.head, fileName);
  if (format === 'csv') {
    if (opts.problemType === 'multiclass') throw new PredictionsError(MULTICLASS_NEEDS_LISTS);
    return readAnyPredictionsFromTable(csvTable(file.chunks(), opts, file.size), opts);
  }
  const bytes = file.whole();
  if (format === 'arrow-file' || format === 'arrow-stream') return readAnyPredictions(bytes, opts);
  return readAnyPredictionsFromTable(await parquetTable(bytes, opts), opts);
}

const MULTICLASS_NEEDS_LISTS =
  "multiclass predictions cannot be read from CSV: each model needs a list of class probabilities per row, which CSV cannot hold. Write them as Parquet (df.to_parquet('predictions.parquet')) or Arrow IPC (pyarrow.feather.write_feather(table, 'predictions.arrow')), one list column per model, the label as class indices 0..K-1 and the class values in the schema metadata 'mlops.classes' (a JSON list)";

/** How a column is decoded: numbers (float64), lists of class probabilities, or slice values (strings). */
type Role = 'numeric' | 'list' | 'slice';

/**
 * The columns the engine will read and how (the rest only need a name and a type in the table): the label
 * and the weight as numbers, the slice columns as strings, the models as numbers, or as lists of class
 * probabilities for multiclass.
 */
function wanted(names: string[], opts: ReadAnyOptions, isModel: (name: string) => boolean): Map<string, Role> {
  const label = opts.labelColumn ?? 'label';
  const slices = opts.sliceColumns ?? [];
  const exclude = new Set([
    ...(opts.exclude ?? []),
    ...slices,
    ...(opts.weightColumn !== undefined ? [opts.weightColumn] : []),
    ...(opts.rowKeyColumn !== undefined ? [opts.rowKeyColumn] : []),
  ]);
  const scores = opts.scoreColumns ?? names.filter((c) => c !== label && !exclude.has(c) && (!opts.numericOnly || isModel(c)));
  const roles = new Map<string, Role>();
  for (const c of scores) roles.set(c, opts.problemType === 'multiclass' ? 'list' : 'numeric');
  for (const c of slices) roles.set(c, 'slice');
  if (opts.weightColumn !== undefined) roles.set(opts.weightColumn, 'numeric');
  // Row keys below 2^40 (keyed-poisson.ts) are exact as float64.
  if (opts.rowKeyColumn !== undefined) roles.set(opts.rowKeyColumn, 'numeric');
  roles.set(label, 'numeric');
  return roles;
}

/** A slice column as a dictionary of strings (codes per row, nulls where the file has none). */
function dictionaryData(codes: Int32Array, names: string[], valid: Uint8Array | undefined, nullCount: number): Data {
  return makeData({
    type: new Dictionary(new Utf8(), new Int32()),
    length: codes.length,
    nullCount,
    data: codes,
    dictionary: vectorFromArray(names, new Utf8()),
    ...(nullCount > 0 && valid ? { nullBitmap: valid } : {}),
  });
}

/** A model's class probabilities as a FixedSizeList<Float64>[K] column (n × K values, row-major). */
function probabilityListData(values: Float64Array, K: number, n: number, valid: Uint8Array, nullCount: number): Data {
  const child = makeData({ type: new Float64(), length: n * K, nullCount: 0, data: values });
  return makeData({
    type: new FixedSizeList(K, new Field('item', new Float64(), false)),
    length: n,
    nullCount,
    child,
    ...(nullCount > 0 ? { nullBitmap: valid } : {}),
  });
}

/** A float64 Arrow column with a validity bitmap (missing values become nulls, reported by the engine). */
function float64Data(values: Float64Array, valid: Uint8Array | undefined, nullCount: number): Data {
  return makeData({ type: new Float64(), length: values.length, nullCount, data: values, ...(nullCount > 0 && valid ? { nullBitmap: valid } : {}) });
}

/** An empty-string column of n rows: the stand-in for a non-numeric column (the engine rejects its type by name). */
function placeholder(n: number): Data {
  return makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: new Int32Array(n + 1), data: new Uint8Array(0) });
}

function tableOf(columns: [string, Data][], metadata?: Map<string, string>): Table {
  const vectors: Record<string, Vector> = {};
  for (const [name, data] of columns) vectors[name] = new Vector([data]);
  const table = new Table(vectors);
  return metadata === undefined || metadata.size === 0 ? table : new Table(new Schema(table.schema.fields, metadata), table.batches);
}

// ---------------------------------------------------------------------------------------------- Parquet

/** Parquet physical types read as numbers (BOOLEAN as 0/1); other types (strings, binaries...) are not scores. */
const PARQUET_NUMERIC = new Set(['BOOLEAN', 'INT32', 'INT64', 'FLOAT', 'DOUBLE']);
const INTEGER_CONVERTED = new Set(['INT_8', 'INT_16', 'INT_32', 'INT_64', 'UINT_8', 'UINT_16', 'UINT_32']);

type ParquetSchemaElement = ReturnType<typeof parquetMetadata>['schema'][number];

/** A top-level Parquet column: numbers, a LIST of floats or doubles (class probabilities), strings, or anything else. */
interface ParquetField {
  name: string;
  kind: 'numeric' | 'list' | 'string' | 'other';
  /** Numeric and stored as integers (INT32, INT64): usable as a slice column. */
  integer?: boolean;
}

/** The top-level columns of a Parquet schema, classified; nested columns other than lists of floats are `other`. */
function parquetFields(schema: ParquetSchemaElement[]): ParquetField[] {
  const fields: ParquetField[] = [];
  for (let i = 1; i < schema.length;) {
    const el = schema[i];
    const children = el.num_children ?? 0;
    const logical = el.logical_type?.type;
    let kind: ParquetField['kind'] = 'other';
    if (children === 0) {
      const plain = PARQUET_NUMERIC.has(el.type ?? '') && (logical === undefined || logical === 'INTEGER') && el.converted_type === undefined;
      if (plain || INTEGER_CONVERTED.has(el.converted_type ?? '')) kind = 'numeric';
      else if (el.type === 'BYTE_ARRAY' && (el.converted_type === 'UTF8' || logical === 'STRING' || logical === 'ENUM')) kind = 'string';
    } else if (el.converted_type === 'LIST' || logical === 'LIST') {
      // Parquet's LIST: a group of one repeated field (three levels: a repeated group around the element, or two:
      // the repeated element itself), https://github.com/apache/parquet-format/blob/master/LogicalTypes.md#lists
      const repeated = schema[i + 1];
      const leaf = (repeated?.num_children ?? 0) === 1 ? schema[i + 2] : repeated;
      if (leaf !== undefined && (leaf.num_children ?? 0) === 0 && (leaf.type === 'DOUBLE' || leaf.type === 'FLOAT')) kind = 'list';
    }
    fields.push({
      name: el.name,
      kind,
      ...(kind === 'numeric' && (el.type === 'INT32' || el.type === 'INT64') ? { integer: true } : {}),
    });
    i += 1 + countDescendants(schema, i);
  }
  return fields;
}

/** A column being decoded from Parquet, by role. */
type Decoded =
  | { role: 'numeric'; out: Float64Array; valid: Uint8Array; nulls: number }
  | { role: 'list'; out: Float64Array | undefined; K: number; firstRow: number; valid: Uint8Array; nulls: number }
  | { role: 'slice'; codes: Int32Array; names: string[]; index: Map<string, number>; valid: Uint8Array; nulls: number };

/**
 * A Parquet file as an Arrow table via hyparquet (https://github.com/hyparam/hyparquet): numeric columns read
 * become float64 with nulls where the file has them, lists of class probabilities FixedSizeList<Float64>[K],
 * slice columns dictionaries of strings; only the columns the engine reads are decoded. The file's key-value
 * metadata `mlops.classes` becomes the table's schema metadata (pyarrow's Parquet writer copies an Arrow
 * schema's metadata into the file's key-value metadata: GetSchemaMetadata in Arrow's
 * cpp/src/parquet/arrow/writer.cc).
 */
async function parquetTable(bytes: Uint8Array, opts: ReadAnyOptions): Promise<Table> {
  if (bytes.length < 12 || !startsWith(bytes, 'PAR1', bytes.length - 4)) {
    throw new PredictionsError("the Parquet file is truncated: it does not end with the Parquet footer and magic 'PAR1'");
  }
  // hyparquet reads an ArrayBuffer; a file read whole owns its buffer, so no copy is needed then.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  const file = (whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer;
  let metadata: ReturnType<typeof parquetMetadata>;
  try {
    metadata = parquetMetadata(file);
  } catch (e) {
    throw new PredictionsError(`the Parquet file cannot be read (truncated or corrupt?): ${(e as Error).message}`);
  }
  const n = Number(metadata.num_rows);
  const fields = parquetFields(metadata.schema);
  const kindOf = (name: string): ParquetField['kind'] => fields.find((f) => f.name === name)?.kind ?? 'other';
  const isInteger = (name: string): boolean => fields.find((f) => f.name === name)?.integer === true;
  const modelKind = opts.problemType === 'multiclass' ? 'list' : 'numeric';
  const roles = wanted(
    fields.map((f) => f.name),
    opts,
    (name) => kindOf(name) === modelKind,
  );
  const columns = new Map<string, Decoded>();
  for (const [name, role] of roles) {
    const kind = kindOf(name);
    // A column of another kind is left as a placeholder (or numbers), whose type the engine reports by name.
    let as: Role | undefined;
    if (role === 'slice' && (kind === 'string' || isInteger(name))) as = 'slice';
    else if (kind === 'numeric') as = 'numeric';
    else if (role === 'list' && kind === 'list') as = 'list';
    if (as !== undefined) columns.set(name, newDecoded(as, n));
  }
  await decodeParquet(file, metadata, columns, n);
  const classes = metadata.key_value_metadata?.find((kv) => kv.key === CLASSES_METADATA_KEY)?.value;
  return tableOf(
    fields.map((f) => [f.name, arrowData(columns.get(f.name), n)]),
    classes !== undefined ? new Map([[CLASSES_METADATA_KEY, classes]]) : undefined,
  );
}

function newDecoded(role: Role, n: number): Decoded {
  const valid = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
  if (role === 'numeric') return { role, out: new Float64Array(n), valid, nulls: 0 };
  if (role === 'list') return { role, out: undefined, K: -1, firstRow: 0, valid, nulls: 0 };
  return { role, codes: new Int32Array(n), names: [], index: new Map(), valid, nulls: 0 };
}

/** The Arrow column of a decoded Parquet column (a placeholder when it was not decoded). */
function arrowData(col: Decoded | undefined, n: number): Data {
  if (col === undefined) return placeholder(n);
  if (col.role === 'numeric') return float64Data(col.out, col.valid, col.nulls);
  if (col.role === 'slice') return dictionaryData(col.codes, col.names, col.valid, col.nulls);
  const K = Math.max(col.K, 0);
  return probabilityListData(col.out ?? new Float64Array(n * K), K, n, col.valid, col.nulls);
}

/**
 * Decodes the chosen columns into `columns`: flat numeric columns (REQUIRED or OPTIONAL leaves, what pandas,
 * Spark and most writers produce) and regular lists of class probabilities page by page straight into their
 * arrays (src/io/parquet.ts); slice columns, repeated leaves and irregular lists (whose errors name the row)
 * through hyparquet's `parquetRead`.
 */
async function decodeParquet(file: ArrayBuffer, metadata: ReturnType<typeof parquetMetadata>, columns: Map<string, Decoded>, n: number): Promise<void> {
  const flat = new Map<string, Float64Sink>();
  const lists = new Map<string, ListSink>();
  for (const [name, col] of columns) {
    if (col.role === 'numeric' && isFlatLeaf(metadata, name)) flat.set(name, col);
    if (col.role === 'list' && isListLeaf(metadata, name)) lists.set(name, col);
  }
  let rowPath: Set<string>;
  try {
    decodeFlatColumns(file, metadata, flat, n);
    rowPath = decodeListColumns(file, metadata, lists, n);
  } catch (e) {
    throw parquetError(e);
  }
  const rest = new Map([...columns].filter(([name]) => !flat.has(name) && (!lists.has(name) || rowPath.has(name))));
  if (rest.size > 0) await decodeNested(file, metadata, rest, n);
}

/** A hyparquet error as the PredictionsError users get (an unsupported codec says how to write the file). */
function parquetError(e: unknown): PredictionsError {
  if (e instanceof PredictionsError) return e;
  const codec = /unsupported compression codec: (\w+)/.exec((e as Error).message)?.[1];
  if (codec !== undefined) {
    return new PredictionsError(
      `the Parquet file is compressed with ${codec}, which cannot be read here; write it uncompressed or with Snappy (pandas: df.to_parquet('predictions.parquet', compression='snappy'), the default)`,
    );
  }
  return new PredictionsError(`the Parquet file cannot be read (truncated or corrupt?): ${(e as Error).message}`);
}

/** Decodes list and slice columns with hyparquet's `parquetRead`, chunk by chunk, into `columns`. */
async function decodeNested(file: ArrayBuffer, metadata: ReturnType<typeof parquetMetadata>, columns: Map<string, Decoded>, n: number): Promise<void> {
  // hyparquet does not propagate an exception thrown by onChunk (the read goes on and the rejection is left
  // unhandled): a chunk's error is kept, the one of the earliest chunk, and thrown once the read is done.
  let failure: { rowStart: number; error: unknown } | undefined;
  try {
    await parquetRead({
      file,
      metadata,
      compressors: parquetCompressors(),
      columns: [...columns.keys()],
      onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
        const col = columns.get(columnName);
        if (!col) return;
        const end = Math.min(rowEnd, n);
        if (col.role === 'list') {
          try {
            fillLists(col, columnName, columnData as ArrayLike<unknown>, rowStart, end, n);
          } catch (error) {
            if (failure === undefined || rowStart < failure.rowStart) failure = { rowStart, error };
          }
          return;
        }
        if (col.role === 'slice') {
          col.nulls += fillCodes(col, columnData as ArrayLike<unknown>, rowStart, end);
          return;
        }
        if (columnData instanceof Float64Array || columnData instanceof Float32Array || columnData instanceof Int32Array) {
          col.out.set(columnData.subarray(0, end - rowStart), rowStart);
          return;
        }
        col.nulls += fillFromArray(col.out, col.valid, columnData as ArrayLike<unknown>, rowStart, end);
      },
    });
  } catch (e) {
    throw parquetError(e);
  }
  if (failure !== undefined) throw failure.error;
}

/**
 * Copies a chunk of a list column (hyparquet gives one array per row, null for a missing list) into the
 * row-major n × K probabilities; K is the first list's length and every other list must match it.
 */
function fillLists(col: Extract<Decoded, { role: 'list' }>, name: string, data: ArrayLike<unknown>, rowStart: number, end: number, n: number): void {
  for (let r = rowStart, i = 0; r < end; r++, i++) {
    const list = data[i] as ArrayLike<unknown> | null | undefined;
    if (list === null || list === undefined) {
      col.valid[r >> 3] &= ~(1 << (r & 7));
      col.nulls++;
      continue;
    }
    if (col.K < 0) {
      col.K = list.length;
      col.firstRow = r;
      col.out = new Float64Array(n * col.K);
    } else if (list.length !== col.K) {
      throw new PredictionsError(
        `column '${name}' has a list of ${list.length} probabilities at row ${r} but ${col.K} at row ${col.firstRow}; every row needs one probability per class`,
        name,
      );
    }
    const out = col.out!;
    const K = col.K;
    for (let k = 0; k < K; k++) {
      const v = list[k];
      if (typeof v !== 'number') throw new PredictionsError(`column '${name}' has a missing (null) probability for class ${k} at row ${r}`, name);
      out[r * K + k] = v;
    }
  }
}

/** Copies a chunk of a slice column (strings, numbers or 64-bit integers) as codes; returns the number of nulls. */
function fillCodes(col: Extract<Decoded, { role: 'slice' }>, data: ArrayLike<unknown>, rowStart: number, end: number): number {
  let nulls = 0;
  for (let r = rowStart, i = 0; r < end; r++, i++) {
    const v = data[i];
    if (v === null || v === undefined) {
      col.valid[r >> 3] &= ~(1 << (r & 7));
      nulls++;
      continue;
    }
    const key = String(v);
    let c = col.index.get(key);
    if (c === undefined) {
      c = col.names.length;
      col.index.set(key, c);
      col.names.push(key);
    }
    col.codes[r] = c;
  }
  return nulls;
}

/**
 * Copies a decoded chunk that is not a float typed array (dictionary-decoded or nullable columns come as
 * plain arrays, INT64 as BigInt64Array, booleans as arrays of booleans) into `out`, clearing the validity
 * bit of each null; returns the number of nulls. A function of its own so V8 optimises the loop alone.
 */
function fillFromArray(out: Float64Array, valid: Uint8Array, data: ArrayLike<unknown>, rowStart: number, end: number): number {
  let nulls = 0;
  for (let r = rowStart, i = 0; r < end; r++, i++) {
    const v = data[i];
    if (typeof v === 'number') out[r] = v;
    else if (v === null || v === undefined) {
      valid[r >> 3] &= ~(1 << (r & 7));
      nulls++;
    } else out[r] = typeof v === 'bigint' ? Number(v) : v === true ? 1 : v === false ? 0 : NaN;
  }
  return nulls;
}

function countDescendants(schema: { num_children?: number }[], i: number): number {
  let count = 0;
  for (let k = 0; k < (schema[i].num_children ?? 0); k++) {
    const child = i + 1 + count;
    count += 1 + countDescendants(schema, child);
  }
  return count;
}

// -------------------------------------------------------------------------------------------------- CSV

/**
 * CSV chunks as an Arrow table of float64 columns (src/io/csv.ts reads them as a stream). A column whose
 * first non-empty cell is text (an id, a name) is not a score and is left out unless asked for; a column the
 * engine reads that holds text fails with its column, row and line.
 */
function csvTable(chunks: Iterable<Uint8Array>, opts: ReadAnyOptions, sizeHint?: number): Table {
  const { names, columns, n } = readCsvColumns(chunks, sizeHint, opts.sliceColumns ?? []);
  const isNumeric = (name: string): boolean => columns[names.indexOf(name)].text !== true;
  const need = wanted(names, opts, isNumeric);
  for (let k = 0; k < names.length; k++) {
    const bad = columns[k].bad;
    if (bad && need.get(names[k]) !== 'slice' && need.has(names[k])) {
      throw new PredictionsError(
        `column '${names[k]}' has a value that is not a number at row ${bad.row} (line ${bad.line} of the CSV): '${bad.text}'`,
        names[k],
      );
    }
  }
  return tableOf(
    names.map((name, k) => {
      const c = columns[k];
      if (c.strings) return [name, dictionaryData(c.strings.codes, c.strings.names, c.valid, c.nulls)];
      return [name, c.bad === undefined ? float64Data(c.out, c.valid, c.nulls) : placeholder(n)];
    }),
  );
}
