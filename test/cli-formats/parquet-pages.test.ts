/**
 * src/io/parquet.ts decodes flat Parquet columns page by page. Each case writes a file with hyparquet-writer
 * (REQUIRED and OPTIONAL columns with nulls, every value encoding it writes, several row groups and pages,
 * uncompressed and Snappy) and checks the decoded columns against the values written and against
 * hyparquet's own row reader (parquetReadObjects). hyparquet-writer writes data pages v2 only; pyarrow,
 * pandas and Spark write v1 by default, so every file is also rewritten with v1 data pages (`toDataPageV1`,
 * the page layouts of the Parquet format: https://parquet.apache.org/docs/file-format/data-pages/) and read
 * again.
 */
import assert from 'node:assert/strict';
import { parquetMetadata, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { makeVector, Table, tableToIPC } from 'apache-arrow';
import { PredictionsError } from '../../src/engine';
import { decodeFlatColumns, isFlatLeaf, type Float64Sink } from '../../src/io/parquet';
import { readPredictionsFile } from '../../src/io/predictions-file';
import { bufferOf, pageTypes, toDataPageV1 } from '../helpers/parquet-pages';

type ColumnData = Parameters<typeof parquetWriteBuffer>[0]['columnData'];

const N = 2345;
let seed = 7;
const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const label = Int32Array.from({ length: N }, () => (rand() < 0.3 ? 1 : 0));
const score = Float64Array.from({ length: N }, (_, i) => 0.4 * label[i] + 0.6 * rand());
/** Every 7th row null, the others as `values`. */
const withNulls = <T>(values: ArrayLike<T>): (T | null)[] => Array.from(values, (v, i) => (i % 7 === 3 ? null : v));

/** The columns of the test files: name, the values as numbers (null where missing), how they are written. */
const COLUMNS: { name: string; expected: (number | null)[]; column: ColumnData[number] }[] = [
  { name: 'label_dict', expected: Array.from(label), column: { name: 'label_dict', data: label, type: 'INT32', nullable: false } },
  { name: 'label_int64', expected: Array.from(label), column: { name: 'label_int64', data: BigInt64Array.from(label, BigInt), type: 'INT64' } },
  { name: 'bool', expected: Array.from(label), column: { name: 'bool', data: Array.from(label, (y) => y === 1), type: 'BOOLEAN', nullable: false } },
  { name: 'plain', expected: Array.from(score), column: { name: 'plain', data: score, type: 'DOUBLE', nullable: false, encoding: 'PLAIN' } },
  { name: 'optional_plain', expected: Array.from(score), column: { name: 'optional_plain', data: score, type: 'DOUBLE', encoding: 'PLAIN' } },
  { name: 'nulls', expected: withNulls(score), column: { name: 'nulls', data: withNulls(score), type: 'DOUBLE', encoding: 'PLAIN' } },
  {
    name: 'dict_nulls',
    expected: withNulls(Array.from(score, (s) => Math.round(s * 20) / 20)),
    column: { name: 'dict_nulls', data: withNulls(Array.from(score, (s) => Math.round(s * 20) / 20)), type: 'DOUBLE', encoding: 'RLE_DICTIONARY' },
  },
  {
    name: 'float',
    expected: Array.from(Float32Array.from(score)),
    column: { name: 'float', data: Float32Array.from(score), type: 'FLOAT', nullable: false, encoding: 'PLAIN' },
  },
  { name: 'split', expected: Array.from(score), column: { name: 'split', data: score, type: 'DOUBLE', nullable: false, encoding: 'BYTE_STREAM_SPLIT' } },
  {
    name: 'delta_nulls',
    expected: withNulls(Array.from(label, (y, i) => y * 1000 + i)),
    column: { name: 'delta_nulls', data: withNulls(Int32Array.from(label, (y, i) => y * 1000 + i)), type: 'INT32', encoding: 'DELTA_BINARY_PACKED' },
  },
];

/** A file of every column in COLUMNS, in several row groups (100 rows, then 1000) and pages of about 1 KiB. */
function testFile(codec: 'UNCOMPRESSED' | 'SNAPPY'): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({ codec, columnData: COLUMNS.map((c) => c.column), rowGroupSize: [100, 1000], pageSize: 1024 }));
}

/** Decodes every column of COLUMNS; returns each as numbers with null where the validity bit is clear. */
function decodeAll(bytes: Uint8Array, metadata?: FileMetaData): { columns: Map<string, (number | null)[]>; nulls: Map<string, number> } {
  const file = bufferOf(bytes);
  const md = metadata ?? parquetMetadata(file);
  const n = Number(md.num_rows);
  const sinks = new Map<string, Float64Sink>(
    COLUMNS.map((c) => [c.name, { out: new Float64Array(n), valid: new Uint8Array(Math.ceil(n / 8)).fill(0xff), nulls: 0 }]),
  );
  decodeFlatColumns(file, md, sinks, n);
  const columns = new Map<string, (number | null)[]>();
  const nulls = new Map<string, number>();
  for (const [name, sink] of sinks) {
    columns.set(
      name,
      Array.from(sink.out, (v, r) => ((sink.valid[r >> 3] >> (r & 7)) & 1 ? v : null)),
    );
    nulls.set(name, sink.nulls);
  }
  return { columns, nulls };
}

/** hyparquet's own reading of the same file, as numbers (booleans 0/1, INT64 through Number). */
async function hyparquetRows(bytes: Uint8Array): Promise<Map<string, (number | null)[]>> {
  const rows = await parquetReadObjects({ file: bufferOf(bytes) });
  return new Map(
    COLUMNS.map((c) => [
      c.name,
      rows.map((row) => {
        const v: unknown = row[c.name];
        return v === null || v === undefined ? null : typeof v === 'boolean' ? Number(v) : Number(v as number | bigint);
      }),
    ]),
  );
}

describe('Parquet flat columns decoded page by page (src/io/parquet.ts)', () => {
  for (const codec of ['UNCOMPRESSED', 'SNAPPY'] as const) {
    for (const pages of ['v2', 'v1'] as const) {
      it(`${codec}, data pages ${pages}: every encoding, REQUIRED and OPTIONAL, nulls, several row groups and pages`, async () => {
        const v2File = testFile(codec);
        const bytes = pages === 'v1' ? toDataPageV1(v2File) : v2File;
        const metadata = parquetMetadata(bufferOf(bytes));
        assert.equal(metadata.row_groups.length, 4);
        assert.equal(metadata.row_groups[0].columns[0].meta_data?.codec, codec);
        const page = pages === 'v1' ? 'DATA_PAGE' : 'DATA_PAGE_V2';
        assert.deepEqual(
          [...pageTypes(bytes)].sort(),
          ['DICTIONARY_PAGE', `${page} BYTE_STREAM_SPLIT`, `${page} DELTA_BINARY_PACKED`, `${page} PLAIN`, `${page} RLE`, `${page} RLE_DICTIONARY`].sort(),
        );
        for (const c of COLUMNS) assert.equal(isFlatLeaf(metadata, c.name), true, c.name);
        const { columns, nulls } = decodeAll(bytes, metadata);
        const reference = await hyparquetRows(bytes);
        for (const c of COLUMNS) {
          assert.deepEqual(columns.get(c.name), c.expected, c.name);
          assert.deepEqual(columns.get(c.name), reference.get(c.name), `${c.name} (hyparquet)`);
          assert.equal(nulls.get(c.name), c.expected.filter((v) => v === null).length, `${c.name} nulls`);
        }
        assert.equal(nulls.get('nulls'), 335);
      });
    }
  }

  it('pandas-like predictions (OPTIONAL columns, INT64 label, Snappy, data pages v1) read as the same Arrow file does', async () => {
    const pandas = toDataPageV1(
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'label', data: BigInt64Array.from(label, BigInt), type: 'INT64' },
            { name: 'prod', data: score, type: 'DOUBLE' },
            { name: 'cand', data: Float64Array.from(score, (s, i) => (s + label[i]) / 2), type: 'DOUBLE' },
          ],
          rowGroupSize: 1000,
          pageSize: 4096,
        }),
      ),
    );
    assert.ok(pageTypes(pandas).has('DATA_PAGE PLAIN'));
    const arrow = tableToIPC(
      new Table({
        label: makeVector(Int8Array.from(label)),
        prod: makeVector(score),
        cand: makeVector(Float64Array.from(score, (s, i) => (s + label[i]) / 2)),
      }),
      'file',
    );
    const opts = { labelColumn: 'label', scoreColumns: ['prod', 'cand'] };
    const fromParquet = await readPredictionsFile(pandas, opts, 'p.parquet');
    const fromArrow = await readPredictionsFile(arrow, opts, 'p.arrow');
    assert.equal(fromParquet.n, N);
    assert.deepEqual(Array.from(fromParquet.labels), Array.from(label));
    assert.deepEqual(Array.from(fromParquet.labels), Array.from(fromArrow.labels));
    assert.deepEqual(
      fromParquet.columns.map((c) => [c.name, Array.from(c.scores)]),
      fromArrow.columns.map((c) => [c.name, Array.from(c.scores)]),
    );
  });

  it('a null in an OPTIONAL column of a v1 page gets the engine error naming column and row', async () => {
    const withNull = Array.from(score) as (number | null)[];
    withNull[1234] = null;
    const bytes = toDataPageV1(
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'label', data: label, type: 'INT32' },
            { name: 'prod', data: score, type: 'DOUBLE' },
            { name: 'cand', data: withNull, type: 'DOUBLE' },
          ],
          rowGroupSize: 1000,
        }),
      ),
    );
    await assert.rejects(readPredictionsFile(bytes, { labelColumn: 'label', scoreColumns: ['prod', 'cand'] }, 'p.parquet'), (e: unknown) => {
      assert.ok(e instanceof PredictionsError, String(e));
      assert.equal(e.message, "column 'cand' has 1 missing (null) value (first at row 1234)");
      return true;
    });
  });

  it('a column chunk with fewer values than its row group has rows fails as corrupt', async () => {
    const bytes = testFile('UNCOMPRESSED');
    const file = bufferOf(bytes);
    const metadata = parquetMetadata(file);
    metadata.row_groups[1].num_rows += 1n;
    metadata.num_rows += 1n;
    assert.throws(() => decodeAll(bytes, metadata), /^Error: parquet column label_dict has 1000 values in a row group of 1001 rows$/);
  });
});
