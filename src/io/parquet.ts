/**
 * Reading flat numeric Parquet columns straight into float64 arrays, page by page, with hyparquet's decoders
 * (https://github.com/hyparam/hyparquet, pinned in package.json): its page-header parser, decompression,
 * PLAIN and RLE/bit-packed decoders and type conversion. Only the walk over a column chunk's pages is ours.
 *
 * Why not parquetRead alone: for a 1e7-row file it copies every column chunk out of the file (a prefetch
 * slice), decodes dictionary indices and definition levels into JS arrays, and for an OPTIONAL column (what
 * pandas and Spark write) assembles every page into a JS array of numbers and nulls before it reaches us;
 * that made a pandas-like file read in several times the time of the same data in REQUIRED columns
 * (docs/parquet-reading.md has the profile and the figures). Here a page's values go to the output once.
 *
 * Page layout, from the Parquet format (https://parquet.apache.org/docs/file-format/data-pages/ and
 * https://github.com/apache/parquet-format/blob/master/src/main/thrift/parquet.thrift, DataPageHeader and
 * DataPageHeaderV2; level encoding https://github.com/apache/parquet-format/blob/master/Encodings.md):
 * - DATA_PAGE (v1, pyarrow's and Spark's default): the whole page is compressed; it holds the repetition
 *   levels, the definition levels (each RLE/bit-packed, prefixed by its byte length as 4-byte little endian,
 *   absent when the maximum level is 0), then the values.
 * - DATA_PAGE_V2: the levels come first, never compressed and without length prefix (their byte lengths are
 *   in the header), then the values, compressed unless `is_compressed` is false.
 * - DICTIONARY_PAGE: PLAIN values; data pages encoded PLAIN_DICTIONARY or RLE_DICTIONARY hold one byte of
 *   bit width then RLE/bit-packed indices into it.
 * Other value encodings (DELTA_*, BYTE_STREAM_SPLIT, ALP...) are rare for scores: such a page is decoded by
 * hyparquet's readDataPage/readDataPageV2 whole, and its values placed the same way.
 */
import type { FileMetaData } from 'hyparquet';
import { parquetSchema } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { getMaxDefinitionLevel, getMaxRepetitionLevel, getTreePath } from 'hyparquet/src/schema.js';
import type { ColumnDecoder, Compressors, DecodedArray, PageHeader } from 'hyparquet/src/types.js';
import { snappyUncompressor } from 'hysnappy';

let snappyDecoder: ReturnType<typeof snappyUncompressor> | undefined;

/**
 * The decompressors given to hyparquet. Snappy is the default codec of pyarrow, pandas and Spark; hysnappy
 * (WebAssembly, same authors as hyparquet, https://github.com/hyparam/hysnappy) decodes it about 3 times
 * faster than hyparquet's JavaScript decoder. Its module is compiled once, on first use.
 */
export function parquetCompressors(): Compressors {
  snappyDecoder ??= snappyUncompressor();
  return { SNAPPY: snappyDecoder };
}

/** Where a column's values go: float64 values, a validity bitmap (bit clear = null) and the count of nulls. */
export interface Float64Sink {
  out: Float64Array;
  valid: Uint8Array;
  nulls: number;
}

/**
 * Whether `decodeFlatColumns` reads the top-level column `name`: a leaf neither repeated nor nested, at
 * most one definition level (REQUIRED or OPTIONAL). Other columns are left to hyparquet's parquetRead.
 */
export function isFlatLeaf(metadata: FileMetaData, name: string): boolean {
  const path = getTreePath(parquetSchema(metadata), [name]);
  const leaf = path[path.length - 1];
  return path.length === 2 && leaf.children.length === 0 && getMaxRepetitionLevel(path) === 0 && getMaxDefinitionLevel(path) <= 1;
}

/** Scratch arrays reused from page to page (levels and dictionary indices), grown as needed. */
interface Scratch {
  defs: Uint8Array;
  indices: Int32Array;
}

/**
 * Decodes the flat columns of `sinks` (see `isFlatLeaf`) of every row group into their sinks, rows in file
 * order; `n` is the file's row count. Throws hyparquet's errors (the caller says the file is corrupt), and
 * an error of its own when a column chunk holds fewer values than its row group has rows.
 */
export function decodeFlatColumns(file: ArrayBuffer, metadata: FileMetaData, sinks: Map<string, Float64Sink>, n: number): void {
  const tree = parquetSchema(metadata);
  const compressors = parquetCompressors();
  const scratch: Scratch = { defs: new Uint8Array(0), indices: new Int32Array(0) };
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Math.min(Number(group.num_rows), n - groupStart);
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      const sink = meta && meta.path_in_schema.length === 1 ? sinks.get(meta.path_in_schema[0]) : undefined;
      if (!meta || !sink) continue;
      if (chunk.file_path) throw new Error('parquet file_path not supported');
      const { decoder, reader } = chunkSource(file, tree, meta, compressors);
      const read = decodeChunk(reader, decoder, sink, groupStart, groupRows, scratch);
      if (read < groupRows) throw new Error(`parquet column ${meta.path_in_schema[0]} has ${read} values in a row group of ${groupRows} rows`);
    }
    groupStart += Number(group.num_rows);
  }
}

type ColumnMeta = NonNullable<FileMetaData['row_groups'][number]['columns'][number]['meta_data']>;

/** A column chunk's decoder (hyparquet's description of the column) and a reader over its bytes in the file. */
function chunkSource(
  file: ArrayBuffer,
  tree: ReturnType<typeof parquetSchema>,
  meta: ColumnMeta,
  compressors: Compressors,
): { decoder: ColumnDecoder; reader: { view: DataView; offset: number } } {
  const schemaPath = getTreePath(tree, meta.path_in_schema);
  const decoder: ColumnDecoder = {
    pathInSchema: meta.path_in_schema,
    type: meta.type,
    element: schemaPath[schemaPath.length - 1].element,
    schemaPath,
    codec: meta.codec,
    parsers: DEFAULT_PARSERS,
    compressors,
  };
  // Where the chunk starts: its dictionary page if any; polars writes dictionary_page_offset 0 (as hyparquet reads it).
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  return { decoder, reader: { view: new DataView(file, start, Number(meta.total_compressed_size)), offset: 0 } };
}

/** The next page of a column chunk: its header and its (still compressed) bytes. */
function nextPage(reader: { view: DataView; offset: number }): { header: PageHeader; bytes: Uint8Array } {
  const header = parquetHeader(reader);
  const bytes = new Uint8Array(reader.view.buffer, reader.view.byteOffset + reader.offset, header.compressed_page_size);
  reader.offset += header.compressed_page_size;
  return { header, bytes };
}

/** A DICTIONARY_PAGE's PLAIN values as float64. */
function readDictionary(bytes: Uint8Array, header: PageHeader, decoder: ColumnDecoder): Float64Array {
  const page = decompressPage(bytes, header.uncompressed_page_size, decoder.codec, decoder.compressors);
  const count = header.dictionary_page_header?.num_values ?? 0;
  const values = readPlain({ view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 }, decoder.type, count, decoder.element.type_length);
  return toFloat64(convert(values, decoder));
}

/** Decodes one column chunk's pages into `sink` from row `groupStart`; returns the number of rows read. */
function decodeChunk(
  reader: { view: DataView; offset: number },
  decoder: ColumnDecoder,
  sink: Float64Sink,
  groupStart: number,
  groupRows: number,
  scratch: Scratch,
): number {
  const maxDef = getMaxDefinitionLevel(decoder.schemaPath);
  let dictionary: Float64Array | undefined;
  let rows = 0;
  while (rows < groupRows && reader.offset < reader.view.byteLength - 1) {
    const { header, bytes } = nextPage(reader);
    if (header.type === 'DICTIONARY_PAGE') {
      dictionary = readDictionary(bytes, header, decoder);
      continue;
    }
    if (header.type !== 'DATA_PAGE' && header.type !== 'DATA_PAGE_V2') continue; // index pages: nothing to read
    const count = header.data_page_header?.num_values ?? header.data_page_header_v2?.num_values ?? 0;
    const take = Math.min(count, groupRows - rows);
    const page = { row: groupStart + rows, take, maxDef, dictionary };
    sink.nulls += decodeDataPage(bytes, header, decoder, sink, page, scratch);
    rows += count;
  }
  return rows;
}

/** A data page's place: its first row in the output, how many of its rows to keep, the column's dictionary. */
interface PagePlace {
  row: number;
  take: number;
  maxDef: number;
  dictionary: Float64Array | undefined;
}

/** Decodes one data page (v1 or v2) into `sink`; returns its number of nulls. */
function decodeDataPage(bytes: Uint8Array, header: PageHeader, decoder: ColumnDecoder, sink: Float64Sink, place: PagePlace, scratch: Scratch): number {
  const v1 = header.data_page_header;
  const v2 = header.data_page_header_v2;
  const encoding = v1?.encoding ?? v2!.encoding;
  const count = v1?.num_values ?? v2!.num_values;
  // RLE is read here for booleans only (hyparquet reads other RLE values as raw indices, so do we, there).
  if (!FAST_ENCODINGS.has(encoding) || (encoding === 'RLE' && decoder.type !== 'BOOLEAN')) return decodeOtherPage(bytes, header, decoder, sink, place);
  let page: Uint8Array;
  let levelBytes = bytes;
  let defsLength: number | undefined;
  if (v1) {
    page = decompressPage(bytes, header.uncompressed_page_size, decoder.codec, decoder.compressors);
  } else {
    // v2: levels first, uncompressed; flat columns have no repetition levels (length 0).
    defsLength = v2!.definition_levels_byte_length;
    const levels = v2!.repetition_levels_byte_length + defsLength;
    const values = bytes.subarray(levels);
    const size = header.uncompressed_page_size - levels;
    page = v2!.is_compressed !== false && size > 0 ? decompressPage(values, size, decoder.codec, decoder.compressors) : values;
    levelBytes = bytes.subarray(v2!.repetition_levels_byte_length, levels);
  }
  const reader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
  let defs: Uint8Array | undefined;
  let present = count;
  if (place.maxDef > 0) {
    defs = levels(scratch, count);
    // v1: the levels are in the (decompressed) page, length-prefixed; v2: in `bytes`, their length in the header.
    const levelReader = v1 ? reader : { view: new DataView(levelBytes.buffer, levelBytes.byteOffset, levelBytes.byteLength), offset: 0 };
    readRleBitPackedHybrid(levelReader, 1, defs, defsLength);
    present = countPresent(defs, count);
    // An OPTIONAL column without nulls in this page (the usual case) is then read as a REQUIRED one.
    if (present === count) defs = undefined;
  }
  const nulls = count - present;
  if (encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY') {
    if (!place.dictionary) throw new Error(`parquet column ${decoder.pathInSchema[0]} has a dictionary-encoded page but no dictionary`);
    const indices = indexScratch(scratch, present);
    const width = reader.view.getUint8(reader.offset++);
    readRleBitPackedHybrid(reader, width, indices, reader.view.byteLength - reader.offset);
    placeIndexed(sink, place, defs, indices, place.dictionary);
  } else if (encoding === 'RLE') {
    // BOOLEAN values RLE-encoded (data page v2): bit width 1, length-prefixed (Encodings.md).
    const bits = new Uint8Array(present);
    readRleBitPackedHybrid(reader, 1, bits);
    placeValues(sink, place, defs, Float64Array.from(bits));
  } else if (decoder.type === 'DOUBLE' && defs === undefined) {
    // PLAIN doubles without nulls are little-endian IEEE 754 bytes: copied straight into the output.
    if (reader.offset + place.take * 8 > page.length) throw new Error(`parquet page of ${decoder.pathInSchema[0]} is shorter than its ${place.take} values`);
    new Uint8Array(sink.out.buffer, sink.out.byteOffset + place.row * 8, place.take * 8).set(page.subarray(reader.offset, reader.offset + place.take * 8));
  } else {
    placeValues(sink, place, defs, toFloat64(convert(readPlain(reader, decoder.type, present, decoder.element.type_length), decoder)));
  }
  return nulls > 0 ? clearNulls(sink, place, defs!) : 0;
}

/** Value encodings decoded here; the others go through hyparquet's whole-page readers. */
const FAST_ENCODINGS = new Set(['PLAIN', 'PLAIN_DICTIONARY', 'RLE_DICTIONARY', 'RLE']);

/** A page in another encoding, decoded by hyparquet's readDataPage / readDataPageV2; returns its number of nulls. */
function decodeOtherPage(bytes: Uint8Array, header: PageHeader, decoder: ColumnDecoder, sink: Float64Sink, place: PagePlace): number {
  const { definitionLevels, dataPage } = header.data_page_header
    ? readDataPage(decompressPage(bytes, header.uncompressed_page_size, decoder.codec, decoder.compressors), header.data_page_header, decoder)
    : readDataPageV2(bytes, header, decoder);
  const defs = definitionLevels && definitionLevels.length > 0 ? Uint8Array.from(definitionLevels) : undefined;
  placeValues(sink, place, defs, toFloat64(convert(dataPage, decoder)));
  return defs && countPresent(defs, defs.length) < defs.length ? clearNulls(sink, place, defs) : 0;
}

function levels(scratch: Scratch, count: number): Uint8Array {
  if (scratch.defs.length < count) scratch.defs = new Uint8Array(count);
  return scratch.defs.subarray(0, count);
}

function indexScratch(scratch: Scratch, count: number): Int32Array {
  if (scratch.indices.length < count) scratch.indices = new Int32Array(count);
  return scratch.indices.subarray(0, count);
}

/** The number of definition levels at the maximum (1): values present. */
function countPresent(defs: Uint8Array, count: number): number {
  let present = 0;
  for (let i = 0; i < count; i++) present += defs[i];
  return present;
}

/** Dictionary values by index into rows (nulls skipped, their rows left for `clearNulls`). */
function placeIndexed(sink: Float64Sink, place: PagePlace, defs: Uint8Array | undefined, indices: Int32Array, dictionary: Float64Array): void {
  const out = sink.out;
  const size = dictionary.length;
  let k = 0;
  for (let i = 0; i < place.take; i++) {
    if (defs !== undefined && defs[i] === 0) continue;
    const index = indices[k++];
    if (index >= size) throw new Error(`parquet dictionary index ${index} out of range (${size} values)`);
    out[place.row + i] = dictionary[index];
  }
}

/** Values (one per non-null row) into rows. */
function placeValues(sink: Float64Sink, place: PagePlace, defs: Uint8Array | undefined, values: Float64Array): void {
  if (defs === undefined) {
    sink.out.set(values.subarray(0, place.take), place.row);
    return;
  }
  const out = sink.out;
  let k = 0;
  for (let i = 0; i < place.take; i++) if (defs[i] !== 0) out[place.row + i] = values[k++];
}

/** Clears the validity bit of each null row kept from the page; returns their number. */
function clearNulls(sink: Float64Sink, place: PagePlace, defs: Uint8Array): number {
  let nulls = 0;
  for (let i = 0; i < place.take; i++) {
    if (defs[i] !== 0) continue;
    const r = place.row + i;
    sink.valid[r >> 3] &= ~(1 << (r & 7));
    nulls++;
  }
  return nulls;
}

/** Decoded values as float64: INT64 (BigInt64Array) through Number, booleans as 0/1, anything else NaN. */
function toFloat64(values: DecodedArray): Float64Array {
  if (values instanceof Float64Array) return values;
  if (values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint32Array || values instanceof Uint8Array)
    return Float64Array.from(values);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    out[i] = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v === true ? 1 : v === false ? 0 : NaN;
  }
  return out;
}

// ------------------------------------------------------------------------------------- lists of probabilities

/** Where a list column's values go: K per row (K from the first non-null row), its validity bitmap and nulls. */
export interface ListSink {
  out: Float64Array | undefined;
  K: number;
  firstRow: number;
  valid: Uint8Array;
  nulls: number;
}

/**
 * Whether `decodeListColumns` can read the top-level column `name`: a Parquet LIST of DOUBLE or FLOAT, in the
 * three-level form (`<list> (LIST) { repeated group list { <element> } }`, what pyarrow and Spark write) or the
 * legacy two-level form (`<list> (LIST) { repeated double element }`), LogicalTypes.md#lists in apache/parquet-format.
 */
export function isListLeaf(metadata: FileMetaData, name: string): boolean {
  const path = getTreePath(parquetSchema(metadata), [name]);
  let node = path[path.length - 1];
  const full = [...path];
  while (node.children.length === 1) {
    node = node.children[0];
    full.push(node);
  }
  const leaf = full[full.length - 1].element;
  return (
    (full.length === 3 || full.length === 4) &&
    node.children.length === 0 &&
    getMaxRepetitionLevel(full) === 1 &&
    full[2].element.repetition_type === 'REPEATED' &&
    (leaf.type === 'DOUBLE' || leaf.type === 'FLOAT')
  );
}

/** Thrown inside the list decoder when a column needs hyparquet's row-by-row path (which names the bad row). */
class NeedsRowPath extends Error {}

/** The walk over one list column: the row being filled, its value count, and the first row's values until K is known. */
interface ListWalk {
  sink: ListSink;
  n: number;
  row: number;
  count: number;
  nullRow: boolean;
  first: number[];
}

/**
 * Decodes lists of class probabilities (see `isListLeaf`) page by page into row-major n·K float64 arrays.
 * hyparquet's `parquetRead` assembles each row into a JS array first (about 20 s per 10^6 rows × 2 models at
 * K = 5); this reads the repetition and definition levels and places each value directly (Dremel encoding:
 * a repetition level 0 starts a row; the maximum definition level marks a present element;
 * https://github.com/apache/parquet-format/blob/master/README.md#nested-encoding).
 *
 * Only the regular case is read here: every row a null list or exactly K present values. A column with an
 * empty list, a null element, rows of different lengths or a value encoding other than PLAIN and dictionary is
 * returned, its sink reset, for the caller to read row by row (whose messages name the column and the row).
 */
export function decodeListColumns(file: ArrayBuffer, metadata: FileMetaData, sinks: Map<string, ListSink>, n: number): Set<string> {
  const tree = parquetSchema(metadata);
  const compressors = parquetCompressors();
  const scratch: ListScratch = { reps: new Uint8Array(0), defs: new Uint8Array(0), indices: new Int32Array(0) };
  const rowPath = new Set<string>();
  for (const [name, sink] of sinks) {
    const walk: ListWalk = { sink, n, row: -1, count: 0, nullRow: false, first: [] };
    try {
      let groupStart = 0;
      for (const group of metadata.row_groups) {
        const chunk = group.columns.find((c) => c.meta_data?.path_in_schema[0] === name);
        const meta = chunk?.meta_data;
        if (!chunk || !meta || chunk.file_path) throw new NeedsRowPath();
        const { decoder, reader } = chunkSource(file, tree, meta, compressors);
        decodeListChunk(reader, decoder, walk, scratch);
        groupStart += Number(group.num_rows);
        if (walk.row + 1 !== Math.min(groupStart, n)) throw new NeedsRowPath();
      }
      closeRow(walk);
      if (walk.row + 1 !== n) throw new NeedsRowPath();
      if (sink.out === undefined) sink.K = -1; // every row null: the caller's checks say so
    } catch (e) {
      if (!(e instanceof NeedsRowPath)) throw e;
      sink.out = undefined;
      sink.K = -1;
      sink.firstRow = 0;
      sink.valid.fill(0xff);
      sink.nulls = 0;
      rowPath.add(name);
    }
  }
  return rowPath;
}

/** Scratch arrays for the levels and dictionary indices of a page. */
interface ListScratch {
  reps: Uint8Array;
  defs: Uint8Array;
  indices: Int32Array;
}

function grow(a: Uint8Array, count: number): Uint8Array {
  return a.length >= count ? a.subarray(0, count) : new Uint8Array(count);
}

/** Decodes the pages of one list column chunk into the walk. */
function decodeListChunk(reader: { view: DataView; offset: number }, decoder: ColumnDecoder, walk: ListWalk, scratch: ListScratch): void {
  const maxDef = getMaxDefinitionLevel(decoder.schemaPath);
  // A null list is definition level 0 when the list itself is OPTIONAL (pandas and Spark write it so).
  const nullDef = decoder.schemaPath[1].element.repetition_type === 'OPTIONAL' ? 0 : -1;
  let dictionary: Float64Array | undefined;
  while (reader.offset < reader.view.byteLength - 1) {
    const { header, bytes } = nextPage(reader);
    if (header.type === 'DICTIONARY_PAGE') {
      dictionary = readDictionary(bytes, header, decoder);
      continue;
    }
    if (header.type !== 'DATA_PAGE' && header.type !== 'DATA_PAGE_V2') continue;
    const page = listPage(bytes, header, decoder, maxDef, dictionary, scratch);
    walkLevels(walk, page, maxDef, nullDef);
  }
}

/** One data page's levels and present values. */
interface ListPage {
  count: number;
  reps: Uint8Array;
  defs: Uint8Array;
  values: Float64Array;
}

function listPage(
  bytes: Uint8Array,
  header: PageHeader,
  decoder: ColumnDecoder,
  maxDef: number,
  dictionary: Float64Array | undefined,
  scratch: ListScratch,
): ListPage {
  const v1 = header.data_page_header;
  const v2 = header.data_page_header_v2;
  const encoding = v1?.encoding ?? v2!.encoding;
  if (encoding !== 'PLAIN' && encoding !== 'PLAIN_DICTIONARY' && encoding !== 'RLE_DICTIONARY') throw new NeedsRowPath();
  const count = v1?.num_values ?? v2!.num_values;
  scratch.reps = grow(scratch.reps, count);
  scratch.defs = grow(scratch.defs, count);
  const reps = scratch.reps.subarray(0, count);
  const defs = scratch.defs.subarray(0, count);
  const defWidth = 32 - Math.clz32(maxDef);
  let page: Uint8Array;
  if (v1) {
    // v1: repetition then definition levels, each prefixed by its byte length, inside the compressed page.
    page = decompressPage(bytes, header.uncompressed_page_size, decoder.codec, decoder.compressors);
    const levelReader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
    readRleBitPackedHybrid(levelReader, 1, reps);
    if (maxDef > 0) readRleBitPackedHybrid(levelReader, defWidth, defs);
    page = page.subarray(levelReader.offset);
  } else {
    // v2: the levels first, uncompressed, their byte lengths in the header.
    const repLength = v2!.repetition_levels_byte_length;
    const defLength = v2!.definition_levels_byte_length;
    readRleBitPackedHybrid({ view: new DataView(bytes.buffer, bytes.byteOffset, repLength), offset: 0 }, 1, reps, repLength);
    if (maxDef > 0) readRleBitPackedHybrid({ view: new DataView(bytes.buffer, bytes.byteOffset + repLength, defLength), offset: 0 }, defWidth, defs, defLength);
    const values = bytes.subarray(repLength + defLength);
    const size = header.uncompressed_page_size - repLength - defLength;
    page = v2!.is_compressed !== false && size > 0 ? decompressPage(values, size, decoder.codec, decoder.compressors) : values;
  }
  if (maxDef === 0) defs.fill(0);
  let present = 0;
  for (let i = 0; i < count; i++) if (defs[i] === maxDef) present++;
  const reader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
  if (encoding === 'PLAIN')
    return { count, reps, defs, values: toFloat64(convert(readPlain(reader, decoder.type, present, decoder.element.type_length), decoder)) };
  if (!dictionary) throw new Error(`parquet column ${decoder.pathInSchema[0]} has a dictionary-encoded page but no dictionary`);
  if (scratch.indices.length < present) scratch.indices = new Int32Array(present);
  const indices = scratch.indices.subarray(0, present);
  const width = reader.view.getUint8(reader.offset++);
  readRleBitPackedHybrid(reader, width, indices, reader.view.byteLength - reader.offset);
  const values = new Float64Array(present);
  for (let i = 0; i < present; i++) {
    if (indices[i] >= dictionary.length) throw new Error(`parquet dictionary index ${indices[i]} out of range (${dictionary.length} values)`);
    values[i] = dictionary[indices[i]];
  }
  return { count, reps, defs, values };
}

/** Ends the current row: a non-null row must have K values (the first one sets K). */
function closeRow(walk: ListWalk): void {
  if (walk.row < 0 || walk.nullRow) return;
  const sink = walk.sink;
  if (sink.out === undefined) {
    if (walk.count === 0) throw new NeedsRowPath();
    sink.K = walk.count;
    sink.firstRow = walk.row;
    sink.out = new Float64Array(walk.n * sink.K);
    sink.out.set(walk.first, walk.row * sink.K);
    walk.first = [];
  } else if (walk.count !== sink.K) {
    throw new NeedsRowPath();
  }
}

/** Places one page's values row by row (a row may continue from the previous page). */
function walkLevels(walk: ListWalk, page: ListPage, maxDef: number, nullDef: number): void {
  const { count, reps, defs, values } = page;
  const sink = walk.sink;
  let v = 0;
  for (let i = 0; i < count; i++) {
    if (reps[i] === 0) {
      closeRow(walk);
      walk.row++;
      if (walk.row >= walk.n) throw new NeedsRowPath();
      walk.count = 0;
      walk.nullRow = defs[i] === nullDef;
      if (walk.nullRow) {
        sink.valid[walk.row >> 3] &= ~(1 << (walk.row & 7));
        sink.nulls++;
        continue;
      }
    } else if (walk.row < 0 || walk.nullRow) {
      throw new NeedsRowPath();
    }
    if (defs[i] !== maxDef) throw new NeedsRowPath();
    const x = values[v++];
    if (sink.out === undefined) walk.first.push(x);
    else if (walk.count < sink.K) sink.out[walk.row * sink.K + walk.count] = x;
    walk.count++;
  }
}
