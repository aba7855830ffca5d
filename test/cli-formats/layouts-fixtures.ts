/**
 * Predictions files of every layout (issue 20), built in the tests: Arrow IPC with apache-arrow, Parquet
 * with hyparquet-writer (a devDependency), CSV as text. No network, no Python: the layouts are those the
 * scoring notebook writes (regression: float64 label and models; multiclass: class indices and one
 * FixedSizeList<Float64>[K] per model, class values in the schema metadata `mlops.classes`; slice columns as
 * dictionaries of strings), and what pandas/pyarrow write for Parquet (a FixedSizeList becomes a LIST).
 */
import {
  Dictionary,
  Field,
  FixedSizeList,
  Float64,
  Int32,
  Int8,
  Schema,
  Table,
  Utf8,
  makeData,
  tableToIPC,
  vectorFromArray,
  Vector,
  type Data,
} from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';

export const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A column of a fixture: its name and values, one per row (a list per row for probabilities). */
export interface FixtureColumn {
  name: string;
  kind: 'double' | 'int' | 'string' | 'dictionary' | 'probabilities';
  values: (number | string | number[] | null)[];
}

/** A small deterministic generator (xorshift32), so the fixtures need no seeded library. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/**
 * Regression: y = s + noise; `prod` predicts s + 1.0·noise, `cand` s + 0.5·noise except on the `north`
 * region (rows with i % 5 === 0), where it predicts s + 1.6·noise: better overall, worse on north. `region`
 * and `tier` (integer codes) are slice columns, `w` integer weights, `row_id` an integer row key.
 */
export function regressionColumns(n = 6000): FixtureColumn[] {
  const r = rng(20);
  const g = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const y: number[] = [];
  const prod: number[] = [];
  const cand: number[] = [];
  const region: string[] = [];
  const tier: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = 10 + 2 * g();
    y.push(s + g());
    const north = i % 5 === 0;
    region.push(north ? 'north' : i % 5 < 3 ? 'south' : 'east');
    tier.push(i % 2);
    prod.push(s + 1.0 * g());
    cand.push(s + (north ? 1.6 : 0.5) * g());
  }
  return [
    { name: 'row_id', kind: 'int', values: Array.from({ length: n }, (_, i) => 1000 + i) },
    { name: 'label', kind: 'double', values: y },
    { name: 'prod', kind: 'double', values: prod },
    { name: 'cand', kind: 'double', values: cand },
    { name: 'region', kind: 'dictionary', values: region },
    { name: 'tier', kind: 'int', values: tier },
  ];
}

/**
 * Multiclass, K = 3: label = class index (i % 3 spread by the generator), `prod` puts 0.5 on the true
 * class, `cand` 0.7 (both otherwise split the rest); the class values ['bronze', 'silver', '10'].
 */
export function multiclassColumns(n = 900): FixtureColumn[] {
  const r = rng(30);
  const labels: number[] = [];
  const prod: number[][] = [];
  const cand: number[][] = [];
  const segment: string[] = [];
  for (let i = 0; i < n; i++) {
    const y = i < 3 ? i : Math.floor(r() * 3);
    labels.push(y);
    const noisy = (strength: number): number[] => {
      // The true class gets `strength` most of the time, otherwise a wrong class does.
      const hit = r() < 0.8 ? y : (y + 1 + Math.floor(r() * 2)) % 3;
      return [0, 1, 2].map((k) => (k === hit ? strength : (1 - strength) / 2));
    };
    prod.push(noisy(0.5));
    cand.push(noisy(0.7));
    segment.push(i % 2 === 0 ? 'web' : 'store');
  }
  return [
    { name: 'label', kind: 'int', values: labels },
    { name: 'prod', kind: 'probabilities', values: prod },
    { name: 'cand', kind: 'probabilities', values: cand },
    { name: 'segment', kind: 'string', values: segment },
  ];
}

export const CLASSES = '["bronze", "silver", 10]';

function arrowData(c: FixtureColumn): Data {
  const n = c.values.length;
  switch (c.kind) {
    case 'double':
      return vectorFromArray(c.values as (number | null)[], new Float64()).data[0];
    case 'int':
      return vectorFromArray(c.values as (number | null)[], new Int32()).data[0];
    case 'string':
      return vectorFromArray(c.values as (string | null)[], new Utf8()).data[0];
    case 'dictionary':
      return vectorFromArray(c.values as (string | null)[], new Dictionary(new Utf8(), new Int8())).data[0];
    case 'probabilities': {
      const lists = c.values as (number[] | null)[];
      const K = lists.find((l) => l !== null)!.length;
      const flat = new Float64Array(n * K);
      lists.forEach((l, i) => l?.forEach((v, k) => (flat[i * K + k] = v)));
      const child = makeData({ type: new Float64(), length: n * K, nullCount: 0, data: flat });
      return makeData({ type: new FixedSizeList(K, new Field('item', new Float64(), false)), length: n, nullCount: 0, child });
    }
  }
}

/** The columns as an Arrow table, with the schema metadata given. */
export function arrowTable(columns: FixtureColumn[], metadata: Record<string, string> = {}): Table {
  const vectors: Record<string, Vector> = {};
  for (const c of columns) vectors[c.name] = new Vector([arrowData(c)]);
  const t = new Table(vectors);
  return new Table(new Schema(t.schema.fields, new Map(Object.entries(metadata))), t.batches);
}

export function arrowBytes(columns: FixtureColumn[], kind: 'file' | 'stream', metadata: Record<string, string> = {}): Uint8Array {
  return tableToIPC(arrowTable(columns, metadata), kind);
}

/**
 * The columns as Parquet, the way pyarrow writes them: doubles, INT32, UTF8 strings (dictionary columns as
 * strings: Parquet's dictionary encoding is an encoding, not a type) and the probabilities as a three-level
 * LIST of doubles; the metadata as key-value metadata.
 */
export function parquetBytes(columns: FixtureColumn[], metadata: Record<string, string> = {}): Uint8Array {
  const schema: Record<string, unknown>[] = [{ name: 'root', num_children: columns.length }];
  for (const c of columns) {
    if (c.kind === 'double') schema.push({ name: c.name, type: 'DOUBLE', repetition_type: 'OPTIONAL' });
    else if (c.kind === 'int') schema.push({ name: c.name, type: 'INT32', repetition_type: 'OPTIONAL' });
    else if (c.kind === 'string' || c.kind === 'dictionary')
      schema.push({ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    else {
      schema.push(
        { name: c.name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
      );
    }
  }
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: columns.map((c) => ({ name: c.name, data: c.values })) as Parameters<typeof parquetWriteBuffer>[0]['columnData'],
      schema: schema as unknown as Parameters<typeof parquetWriteBuffer>[0]['schema'],
      kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    }),
  );
}

/** The columns as CSV text (probabilities cannot be written: CSV has no lists). */
export function csvBytes(columns: FixtureColumn[]): Uint8Array {
  const n = columns[0].values.length;
  const lines = [columns.map((c) => c.name).join(',')];
  for (let i = 0; i < n; i++) lines.push(columns.map((c) => (c.values[i] === null ? '' : String(c.values[i]))).join(','));
  return bytesOf(`${lines.join('\n')}\n`);
}

/** A copy of the columns with one value replaced. */
export function withValue(columns: FixtureColumn[], name: string, row: number, value: FixtureColumn['values'][number]): FixtureColumn[] {
  return columns.map((c) => (c.name === name ? { ...c, values: c.values.map((v, i) => (i === row ? value : v)) } : c));
}
