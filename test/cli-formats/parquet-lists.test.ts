/**
 * src/io/parquet.ts decodes lists of class probabilities page by page (`decodeListColumns`). Each case writes a
 * multiclass file with hyparquet-writer (the three-level LIST pyarrow and Spark write, OPTIONAL lists with null
 * rows, PLAIN and dictionary values, several row groups and pages, uncompressed and Snappy, data pages v2 and
 * rewritten as v1) and checks the decoded lists against the values written and against hyparquet's own row
 * reader. Irregular lists go to the row-by-row path, whose messages name the column and the row.
 */
import assert from 'node:assert/strict';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { PredictionsError, type MulticlassPredictions } from '../../src/engine';
import { decodeListColumns, isListLeaf, type ListSink } from '../../src/io/parquet';
import { readAnyPredictionsFile } from '../../src/io/predictions-file';
import { bufferOf, pageTypes, toDataPageV1 } from '../helpers/parquet-pages';

const N = 1234;
const K = 4;
let seed = 11;
const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
/** Row i's probabilities: a random distribution over K classes (dyadic, so sums are exact). */
const probs = Array.from({ length: N }, () => {
  const w = Array.from({ length: K }, () => 1 + Math.floor(rand() * 7));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
});
/** Few distinct values (a dictionary page holds them): rotations of one distribution. */
const rounded = probs.map((_, i) => [0.5, 0.25, 0.125, 0.125].map((_, k, d) => d[(k + i) % K]));
const label = Int32Array.from({ length: N }, (_, i) => i % K);
/** Every 9th row a null list. */
const withNullRows = <T>(rows: T[]): (T | null)[] => rows.map((r, i) => (i % 9 === 4 ? null : r));

type Column = Parameters<typeof parquetWriteBuffer>[0]['columnData'][number];
type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];

function listSchema(name: string, list: 'OPTIONAL' | 'REQUIRED', element: 'OPTIONAL' | 'REQUIRED' = 'REQUIRED'): SchemaElement[] {
  return [
    { name, repetition_type: list, num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'DOUBLE', repetition_type: element },
  ] as SchemaElement[];
}

function multiclassFile(
  codec: 'UNCOMPRESSED' | 'SNAPPY',
  models: {
    name: string;
    rows: (number[] | null)[] | (number | null)[][];
    list?: 'OPTIONAL' | 'REQUIRED';
    element?: 'OPTIONAL' | 'REQUIRED';
    encoding?: string;
  }[],
): Uint8Array {
  return new Uint8Array(
    parquetWriteBuffer({
      codec,
      columnData: [
        { name: 'label', data: label },
        ...models.map((m) => ({ name: m.name, data: m.rows, ...(m.encoding ? { encoding: m.encoding } : {}) }) as Column),
      ],
      schema: [
        { name: 'root', num_children: 1 + models.length },
        { name: 'label', type: 'INT32', repetition_type: 'REQUIRED' },
        ...models.flatMap((m) => listSchema(m.name, m.list ?? 'OPTIONAL', m.element)),
      ] as SchemaElement[],
      rowGroupSize: [100, 1000],
      pageSize: 2048,
    }),
  );
}

function sinkOf(n: number): ListSink {
  return { out: undefined, K: -1, firstRow: 0, valid: new Uint8Array(Math.ceil(n / 8)).fill(0xff), nulls: 0 };
}

/** The decoded column as rows of K numbers, null where the validity bit is clear. */
function rowsOf(sink: ListSink, n: number): (number[] | null)[] {
  return Array.from({ length: n }, (_, r) => ((sink.valid[r >> 3] >> (r & 7)) & 1 ? Array.from(sink.out!.subarray(r * sink.K, (r + 1) * sink.K)) : null));
}

describe('Parquet lists of class probabilities decoded page by page (src/io/parquet.ts)', () => {
  for (const codec of ['UNCOMPRESSED', 'SNAPPY'] as const) {
    for (const pages of ['v2', 'v1'] as const) {
      it(`${codec}, data pages ${pages}: OPTIONAL and REQUIRED lists, null rows, PLAIN and dictionary, several row groups and pages`, async () => {
        const written = multiclassFile(codec, [
          { name: 'plain', rows: probs, list: 'REQUIRED', encoding: 'PLAIN' },
          { name: 'nulls', rows: withNullRows(probs), encoding: 'PLAIN' },
          { name: 'dict', rows: withNullRows(rounded), encoding: 'RLE_DICTIONARY' },
        ]);
        const bytes = pages === 'v1' ? toDataPageV1(written) : written;
        const file = bufferOf(bytes);
        const metadata = parquetMetadata(file);
        assert.equal(metadata.row_groups.length, 3);
        const page = pages === 'v1' ? 'DATA_PAGE' : 'DATA_PAGE_V2';
        assert.ok(pageTypes(bytes).has(`${page} PLAIN`) && pageTypes(bytes).has(`${page} RLE_DICTIONARY`), [...pageTypes(bytes)].join(', '));
        const names = ['plain', 'nulls', 'dict'];
        for (const name of names) assert.equal(isListLeaf(metadata, name), true, name);
        assert.equal(isListLeaf(metadata, 'label'), false);
        const sinks = new Map(names.map((name) => [name, sinkOf(N)]));
        assert.deepEqual([...decodeListColumns(file, metadata, sinks, N)], []);
        const expected: Record<string, (number[] | null)[]> = { plain: probs, nulls: withNullRows(probs), dict: withNullRows(rounded) };
        const reference = await parquetReadObjects({ file });
        for (const name of names) {
          const sink = sinks.get(name)!;
          assert.equal(sink.K, K, name);
          assert.deepEqual(rowsOf(sink, N), expected[name], name);
          assert.deepEqual(
            rowsOf(sink, N),
            reference.map((row) => (row[name] === null || row[name] === undefined ? null : Array.from(row[name] as number[]))),
            `${name} (hyparquet)`,
          );
          assert.equal(sink.nulls, name === 'plain' ? 0 : 137, name);
          assert.equal(sink.firstRow, 0, name);
        }
      });
    }
  }

  it('a file whose first rows are null lists: K and the first row come from the first non-null list', () => {
    const rows = probs.map((r, i) => (i < 3 ? null : r));
    const bytes = toDataPageV1(multiclassFile('SNAPPY', [{ name: 'a', rows, encoding: 'PLAIN' }]));
    const file = bufferOf(bytes);
    const sinks = new Map([['a', sinkOf(N)]]);
    assert.deepEqual([...decodeListColumns(file, parquetMetadata(file), sinks, N)], []);
    const sink = sinks.get('a')!;
    assert.deepEqual([sink.K, sink.firstRow, sink.nulls], [K, 3, 3]);
    assert.deepEqual(rowsOf(sink, N), rows);
  });

  const irregular: [string, (number | null)[][] | (number[] | null)[], string][] = [
    [
      'a row with another number of classes',
      probs.map((r, i) => (i === 1100 ? r.slice(0, 3) : r)),
      "column 'a' has a list of 3 probabilities at row 1100 but 4 at row 0; every row needs one probability per class",
    ],
    [
      'a null probability',
      probs.map((r, i) => (i === 700 ? [r[0], null, r[2], r[3]] : r)),
      "column 'a' has a missing (null) probability for class 1 at row 700",
    ],
  ];
  for (const [what, rows, message] of irregular) {
    it(`${what}: left to the row-by-row path, whose error names the column and the row`, async () => {
      const bytes = toDataPageV1(multiclassFile('SNAPPY', [{ name: 'a', rows, element: 'OPTIONAL', encoding: 'PLAIN' }]));
      const file = bufferOf(bytes);
      const sinks = new Map([['a', sinkOf(N)]]);
      assert.deepEqual([...decodeListColumns(file, parquetMetadata(file), sinks, N)], ['a']);
      assert.deepEqual([sinks.get('a')!.out, sinks.get('a')!.K, sinks.get('a')!.nulls], [undefined, -1, 0]);
      await assert.rejects(
        readAnyPredictionsFile(bytes, { problemType: 'multiclass', labelColumn: 'label', scoreColumns: ['a'] }, 'm.parquet'),
        (e: unknown) => {
          assert.ok(e instanceof PredictionsError, String(e));
          assert.equal(e.message, message);
          return true;
        },
      );
    });
  }

  it('the predictions read from Parquet equal the same lists read row by row (OPTIONAL elements, no nulls)', async () => {
    const bytes = toDataPageV1(
      multiclassFile('SNAPPY', [
        { name: 'a', rows: probs, element: 'OPTIONAL', encoding: 'PLAIN' },
        { name: 'b', rows: rounded, encoding: 'RLE_DICTIONARY' },
      ]),
    );
    const { predictions } = await readAnyPredictionsFile(bytes, { problemType: 'multiclass', labelColumn: 'label', scoreColumns: ['a', 'b'] }, 'm.parquet');
    assert.ok('classes' in predictions);
    const preds = predictions as MulticlassPredictions;
    assert.deepEqual([preds.n, preds.classes], [N, K]);
    assert.deepEqual(Array.from(preds.labels), Array.from(label));
    assert.deepEqual(
      preds.columns.map((c) => [c.name, Array.from(c.probabilities)]),
      [
        ['a', probs.flat()],
        ['b', rounded.flat()],
      ],
    );
  });
});
