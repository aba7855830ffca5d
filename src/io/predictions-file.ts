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
import { makeData, Table, Float64, Utf8, Vector, type Data } from 'apache-arrow';
import { parquetMetadata, parquetRead } from 'hyparquet';
import { readCsvColumns } from './csv';
import { decodeFlatColumns, isFlatLeaf, parquetCompressors, type Float64Sink } from './parquet';
import { PredictionsError, readPredictions, readPredictionsFromTable, type Predictions, type ReadPredictionsOptions } from '../engine';

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

/** The columns the engine will read (the rest only need a name and a type in the table). */
function wanted(names: string[], opts: ReadPredictionsOptions, isNumeric: (name: string) => boolean): Set<string> {
  const label = opts.labelColumn ?? 'label';
  const exclude = new Set(opts.exclude ?? []);
  const scores = opts.scoreColumns ?? names.filter((c) => c !== label && !exclude.has(c) && (!opts.numericOnly || isNumeric(c)));
  return new Set([label, ...scores]);
}

/** A float64 Arrow column with a validity bitmap (missing values become nulls, reported by the engine). */
function float64Data(values: Float64Array, valid: Uint8Array | undefined, nullCount: number): Data {
  return makeData({ type: new Float64(), length: values.length, nullCount, data: values, ...(nullCount > 0 && valid ? { nullBitmap: valid } : {}) });
}

/** An empty-string column of n rows: the stand-in for a non-numeric column (the engine rejects its type by name). */
function placeholder(n: number): Data {
  return makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: new Int32Array(n + 1), data: new Uint8Array(0) });
}

function tableOf(columns: [string, Data][]): Table {
  const vectors: Record<string, Vector> = {};
  for (const [name, data] of columns) vectors[name] = new Vector([data]);
  return new Table(vectors);
}

// ---------------------------------------------------------------------------------------------- Parquet

/** Parquet physical types read as numbers (BOOLEAN as 0/1); other types (strings, binaries...) are not scores. */
const PARQUET_NUMERIC = new Set(['BOOLEAN', 'INT32', 'INT64', 'FLOAT', 'DOUBLE']);

/**
 * A Parquet file as an Arrow table via hyparquet (https://github.com/hyparam/hyparquet): every numeric
 * column read becomes float64 with nulls where the file has them; only the columns the engine reads are
 * decoded.
 */
async function parquetTable(bytes: Uint8Array, opts: ReadPredictionsOptions): Promise<Table> {
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
  // Top-level leaf columns; nested columns (lists, structs) are not scores.
  const fields: { name: string; numeric: boolean }[] = [];
  const schema = metadata.schema;
  for (let i = 1; i < schema.length;) {
    const el = schema[i];
    const children = el.num_children ?? 0;
    const logical = el.logical_type?.type;
    const numeric = children === 0 && PARQUET_NUMERIC.has(el.type ?? '') && (logical === undefined || logical === 'INTEGER') && el.converted_type === undefined;
    fields.push({
      name: el.name,
      numeric:
        numeric ||
        (children === 0 &&
          (el.converted_type === 'INT_8' ||
            el.converted_type === 'INT_16' ||
            el.converted_type === 'INT_32' ||
            el.converted_type === 'INT_64' ||
            el.converted_type === 'UINT_8' ||
            el.converted_type === 'UINT_16' ||
            el.converted_type === 'UINT_32')),
    });
    i += 1 + countDescendants(schema, i);
  }
  const isNumeric = (name: string): boolean => fields.find((f) => f.name === name)?.numeric ?? false;
  const read = [
    ...wanted(
      fields.map((f) => f.name),
      opts,
      isNumeric,
    ),
  ].filter(isNumeric);
  const values = new Map<string, Float64Sink>();
  for (const name of read) values.set(name, { out: new Float64Array(n), valid: new Uint8Array(Math.ceil(n / 8)).fill(0xff), nulls: 0 });
  // Flat columns (REQUIRED or OPTIONAL leaves: what pandas, Spark and most writers produce) are decoded page by
  // page straight into their arrays (src/io/parquet.ts); a repeated leaf goes through hyparquet's parquetRead.
  const flat = new Map([...values].filter(([name]) => isFlatLeaf(metadata, name)));
  const other = [...values.keys()].filter((name) => !flat.has(name));
  try {
    decodeFlatColumns(file, metadata, flat, n);
    if (other.length > 0) {
      await parquetRead({
        file,
        metadata,
        compressors: parquetCompressors(),
        columns: other,
        onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
          const col = values.get(columnName);
          if (!col) return;
          col.nulls += fillFromArray(col.out, col.valid, columnData as ArrayLike<unknown>, rowStart, Math.min(rowEnd, n));
        },
      });
    }
  } catch (e) {
    if (e instanceof PredictionsError) throw e;
    const codec = /unsupported compression codec: (\w+)/.exec((e as Error).message)?.[1];
    if (codec !== undefined) {
      throw new PredictionsError(
        `the Parquet file is compressed with ${codec}, which cannot be read here; write it uncompressed or with Snappy (pandas: df.to_parquet('predictions.parquet', compression='snappy'), the default)`,
      );
    }
    throw new PredictionsError(`the Parquet file cannot be read (truncated or corrupt?): ${(e as Error).message}`);
  }
  return tableOf(
    fields.map((f) => [
      f.name,
      values.has(f.name) ? float64Data(values.get(f.name)!.out, values.get(f.name)!.valid, values.get(f.name)!.nulls) : placeholder(n),
    ]),
  );
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
function csvTable(chunks: Iterable<Uint8Array>, opts: ReadPredictionsOptions, sizeHint?: number): Table {
  const { names, columns, n } = readCsvColumns(chunks, sizeHint);
  const isNumeric = (name: string): boolean => columns[names.indexOf(name)].text !== true;
  const need = wanted(names, opts, isNumeric);
  for (let k = 0; k < names.length; k++) {
    const bad = columns[k].bad;
    if (bad && need.has(names[k])) {
      throw new PredictionsError(
        `column '${names[k]}' has a value that is not a number at row ${bad.row} (line ${bad.line} of the CSV): '${bad.text}'`,
        names[k],
      );
    }
  }
  return tableOf(
    names.map((name, k) => [name, columns[k].bad === undefined ? float64Data(columns[k].out, columns[k].valid, columns[k].nulls) : placeholder(n)]),
  );
}
