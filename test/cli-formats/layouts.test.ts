/**
 * Reading predictions of every problem type and slice columns (issue 20) from Arrow IPC (file and
 * stream), Parquet and CSV: every format gives the same predictions and slice keys; each violation of a
 * layout fails with an exact message naming the column and the row; slice, weight and row-key columns are
 * never models; multiclass from CSV is refused with what to write instead.
 */
import assert from 'node:assert/strict';
import {
  InvalidOptionsError,
  PredictionsError,
  compareModels,
  readAnyPredictions,
  readAnyPredictionsFromTable,
  readPredictions,
  type AnyMetric,
  type CompareOptions,
  type MulticlassPredictions,
  type ReadAnyOptions,
  type RegressionPredictions,
} from '../../src/engine';
import { readAnyPredictionsFile } from '../../src/io/predictions-file';
import {
  CLASSES,
  arrowBytes,
  arrowTable,
  bytesOf,
  csvBytes,
  multiclassColumns,
  parquetBytes,
  regressionColumns,
  withValue,
  type FixtureColumn,
} from './layouts-fixtures';

const REG = regressionColumns();
const MC = multiclassColumns();
const META = { 'mlops.classes': CLASSES };

/** The four encodings of the same columns (CSV only without lists). */
function files(columns: FixtureColumn[], metadata: Record<string, string> = {}): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [
    ['p.arrow', arrowBytes(columns, 'file', metadata)],
    ['p.arrows', arrowBytes(columns, 'stream', metadata)],
    ['p.parquet', parquetBytes(columns, metadata)],
  ];
  if (!columns.some((c) => c.kind === 'probabilities')) out.push(['p.csv', csvBytes(columns)]);
  return out;
}

async function rejects(bytes: Uint8Array, name: string, opts: ReadAnyOptions, message: string): Promise<void> {
  await assert.rejects(readAnyPredictionsFile(bytes, opts, name), (e: unknown) => {
    assert.ok(e instanceof PredictionsError, `${name}: ${String(e)}`);
    assert.equal(e.message, message, name);
    return true;
  });
}

const O = { method: 'bootstrap', resamples: 200, seed: 3, winRate: 0.95, minDelta: 0, confidence: 0.95, baseline: 'prod' } as const;

describe('readAnyPredictions*: regression', () => {
  it('Arrow file and stream, Parquet and CSV give the same predictions and slice keys, and the same decision', async () => {
    const opts: ReadAnyOptions = { problemType: 'regression', scoreColumns: ['prod', 'cand'], sliceColumns: ['region', 'tier'] };
    const decisions = new Set<string>();
    for (const [name, bytes] of files(REG)) {
      const { predictions, slices } = await readAnyPredictionsFile(bytes, opts, name);
      const p = predictions as RegressionPredictions;
      assert.equal(p.n, 6000, name);
      assert.ok(p.target instanceof Float64Array, name);
      assert.deepEqual(Array.from(p.target), REG[1].values, name);
      assert.deepEqual(
        p.columns.map((c) => [c.name, Array.from(c.scores)]),
        [
          ['prod', REG[2].values],
          ['cand', REG[3].values],
        ],
        name,
      );
      assert.deepEqual(
        slices.map((s) => [s.column, s.names, s.codes.length]),
        [
          ['region', ['north', 'south', 'east'], 6000],
          ['tier', ['0', '1'], 6000],
        ],
        name,
      );
      assert.deepEqual(Array.from(slices[0].codes.subarray(0, 6)), [0, 1, 1, 2, 2, 0], name);
      const d = compareModels(p, { ...O, problemType: 'regression', metric: 'rmse', slices, minSliceRows: 1000 } as CompareOptions<AnyMetric>);
      decisions.add(JSON.stringify(d));
    }
    assert.equal(decisions.size, 1);
    const d = JSON.parse([...decisions][0]);
    assert.equal(d.decision, 'keep');
    assert.match(d.reason, /fails on slice 'north' of 'region' \(1,200 rows\)/);
  });

  it('Arrow float64 columns in one batch are read without copying', () => {
    const bytes = arrowBytes(REG, 'file');
    const { predictions } = readAnyPredictions(bytes, { problemType: 'regression', scoreColumns: ['prod', 'cand'] });
    const p = predictions as RegressionPredictions;
    assert.equal(p.target.buffer, bytes.buffer);
    assert.equal(p.columns[0].scores.buffer, bytes.buffer);
  });

  it('slice, weight and row-key columns are never models: numericOnly takes the numeric rest, an excluded row key is left out', async () => {
    const cols: FixtureColumn[] = [...REG, { name: 'w', kind: 'int', values: REG[0].values.map((_, i) => 1 + (i % 3)) }];
    for (const [name, bytes] of files(cols)) {
      const { predictions, slices } = await readAnyPredictionsFile(
        bytes,
        { problemType: 'regression', numericOnly: true, sliceColumns: ['tier'], weightColumn: 'w', exclude: ['row_id'] },
        name,
      );
      assert.deepEqual(
        predictions.columns.map((c) => c.name),
        ['prod', 'cand'],
        name,
      );
      assert.deepEqual([predictions.weight?.name, predictions.weight?.values.slice(0, 4)], ['w', Uint32Array.from([1, 2, 3, 1])], name);
      assert.deepEqual(
        slices.map((s) => s.column),
        ['tier'],
      );
    }
  });

  it('a slice column cannot be the label, the weight or a model named in scoreColumns, and must exist', async () => {
    const bytes = arrowBytes(REG, 'file');
    const opts: ReadAnyOptions = { problemType: 'regression', scoreColumns: ['prod', 'cand'] };
    await rejects(bytes, 'p.arrow', { ...opts, sliceColumns: ['label'] }, "column 'label' cannot be both the label and a slice column");
    await rejects(bytes, 'p.arrow', { ...opts, sliceColumns: ['cand'] }, "column 'cand' is a slice column; it cannot also be a model");
    await rejects(bytes, 'p.arrow', { ...opts, weightColumn: 'tier', sliceColumns: ['tier'] }, "column 'tier' cannot be both the weight and a slice column");
    await rejects(
      bytes,
      'p.arrow',
      { ...opts, sliceColumns: ['country'] },
      "there is no slice column 'country' (columns: row_id, label, prod, cand, region, tier)",
    );
    assert.throws(
      () => readAnyPredictions(bytes, { ...opts, sliceColumns: ['region', 'region'] }),
      (e: unknown) => e instanceof InvalidOptionsError && e.message === "the slice column 'region' is listed twice",
    );
  });

  it('a non-finite label or prediction, a text label, a float or missing slice value: exact errors naming column and row, in every format', async () => {
    const opts: ReadAnyOptions = { problemType: 'regression', scoreColumns: ['prod', 'cand'], sliceColumns: ['region'] };
    for (const [name, bytes] of files(withValue(REG, 'label', 17, Number.NaN)).filter(([f]) => f !== 'p.parquet')) {
      await rejects(bytes, name, opts, "the label column 'label' has NaN at row 17; regression labels must be finite numbers");
    }
    for (const [name, bytes] of files(withValue(REG, 'cand', 42, Number.POSITIVE_INFINITY))) {
      await rejects(bytes, name, opts, "column 'cand' has the prediction Infinity at row 42; predictions must be finite numbers");
    }
    for (const [name, bytes] of files(withValue(REG, 'cand', 5, null))) {
      await rejects(bytes, name, opts, "column 'cand' has 1 missing (null) value (first at row 5)");
    }
    for (const [name, bytes] of files(withValue(REG, 'region', 9, null))) {
      await rejects(bytes, name, opts, "column 'region' has 1 missing (null) value (first at row 9)");
    }
    const textLabel = REG.map((c) => (c.name === 'label' ? { ...c, kind: 'string' as const, values: c.values.map((v) => `y${String(v)}`) } : c));
    await rejects(arrowBytes(textLabel, 'file'), 'p.arrow', opts, "the label column 'label' has type Utf8; regression labels must be numbers (float64)");
    await rejects(
      arrowBytes(REG, 'stream'),
      'p.arrows',
      { ...opts, sliceColumns: ['prod'], scoreColumns: ['cand'] },
      "the slice column 'prod' has type Float64; a slice column must hold strings (or a dictionary of strings) or integers",
    );
  });
});

describe('readAnyPredictions*: multiclass', () => {
  it('Arrow FixedSizeList (file and stream) and Parquet LIST give the same predictions, class names from mlops.classes as written', async () => {
    const opts: ReadAnyOptions = { problemType: 'multiclass', numericOnly: true, sliceColumns: ['segment'] };
    const decisions = new Set<string>();
    for (const [name, bytes] of files(MC, META)) {
      const { predictions, slices } = await readAnyPredictionsFile(bytes, opts, name);
      const p = predictions as MulticlassPredictions;
      assert.equal(p.classes, 3, name);
      assert.deepEqual(p.classNames, ['bronze', 'silver', '10'], name);
      assert.deepEqual(Array.from(p.labels), MC[0].values, name);
      assert.deepEqual(
        p.columns.map((c) => c.name),
        ['prod', 'cand'],
        name,
      );
      assert.deepEqual(Array.from(p.columns[1].probabilities.subarray(0, 6)), [...(MC[2].values[0] as number[]), ...(MC[2].values[1] as number[])], name);
      assert.deepEqual(slices[0].names, ['web', 'store'], name);
      const d = compareModels(p, { ...O, problemType: 'multiclass', metric: 'log_loss', slices, minSliceRows: 100 } as CompareOptions<AnyMetric>);
      assert.deepEqual(d.classNames, ['bronze', 'silver', '10']);
      decisions.add(JSON.stringify(d));
    }
    assert.equal(decisions.size, 1);
    assert.equal(JSON.parse([...decisions][0]).decision, 'promote');
  });

  it('an Arrow FixedSizeList<Float64> in one batch is read without copying; no mlops.classes means no class names', () => {
    const bytes = arrowBytes(MC, 'file');
    const p = readAnyPredictions(bytes, { problemType: 'multiclass', scoreColumns: ['prod', 'cand'] }).predictions as MulticlassPredictions;
    assert.equal(p.columns[0].probabilities.buffer, bytes.buffer);
    assert.equal('classNames' in p, false);
  });

  it('CSV is refused for multiclass with what to write instead', async () => {
    await rejects(
      bytesOf('label,a\n0,0.5\n'),
      'p.csv',
      { problemType: 'multiclass' },
      "multiclass predictions cannot be read from CSV: each model needs a list of class probabilities per row, which CSV cannot hold. Write them as Parquet (df.to_parquet('predictions.parquet')) or Arrow IPC (pyarrow.feather.write_feather(table, 'predictions.arrow')), one list column per model, the label as class indices 0..K-1 and the class values in the schema metadata 'mlops.classes' (a JSON list)",
    );
  });

  it('each violation of the layout: an exact error naming the column and the row, in Arrow and Parquet', async () => {
    const opts: ReadAnyOptions = { problemType: 'multiclass', scoreColumns: ['prod', 'cand'] };
    const cases: [FixtureColumn[], string][] = [
      [
        withValue(MC, 'label', 9, 3),
        "the label column 'label' has 3 at row 9; multiclass labels must be class indices, whole numbers from 0 to 2 (the probability lists have 3 entries)",
      ],
      [
        withValue(MC, 'label', 4, -1),
        "the label column 'label' has -1 at row 4; multiclass labels must be class indices, whole numbers from 0 to 2 (the probability lists have 3 entries)",
      ],
      [withValue(MC, 'cand', 7, [0.5, 0.5, 0.01]), "column 'cand' has class probabilities summing to 1.01 at row 7; each row must sum to 1 within 0.000001"],
      [
        withValue(MC, 'prod', 11, [1.5, -0.25, -0.25]),
        "column 'prod' has the probability -0.25 for class 1 at row 11; probabilities must be finite and non-negative",
      ],
      [
        withValue(MC, 'prod', 12, [Number.NaN, 0.5, 0.5]),
        "column 'prod' has the probability NaN for class 0 at row 12; probabilities must be finite and non-negative",
      ],
    ];
    for (const [columns, message] of cases) {
      for (const [name, bytes] of files(columns, META)) await rejects(bytes, name, opts, message);
    }
    const floatLabel = MC.map((c) => (c.name === 'label' ? { ...c, kind: 'double' as const, values: c.values.map((v, i) => (i === 6 ? 1.5 : v)) } : c));
    for (const [name, bytes] of files(floatLabel, META)) {
      await rejects(
        bytes,
        name,
        opts,
        "the label column 'label' has 1.5 at row 6; multiclass labels must be class indices, whole numbers from 0 to 2 (the probability lists have 3 entries)",
      );
    }
    // Floats holding whole numbers are class indices.
    const wholeFloats = MC.map((c) => (c.name === 'label' ? { ...c, kind: 'double' as const } : c));
    for (const [name, bytes] of files(wholeFloats, META)) {
      const p = (await readAnyPredictionsFile(bytes, opts, name)).predictions as MulticlassPredictions;
      assert.deepEqual(Array.from(p.labels), MC[0].values, name);
    }
  });

  it('lists of different lengths, a missing list or probability, a scalar model column, models with different K, a bad mlops.classes', async () => {
    const opts: ReadAnyOptions = { problemType: 'multiclass', scoreColumns: ['prod', 'cand'] };
    // Parquet (and an Arrow List) may hold lists of any length: each row must have K entries.
    await rejects(
      parquetBytes(withValue(MC, 'cand', 8, [0.5, 0.5]), META),
      'p.parquet',
      opts,
      "column 'cand' has a list of 2 probabilities at row 8 but 3 at row 0; every row needs one probability per class",
    );
    await rejects(parquetBytes(withValue(MC, 'cand', 8, null), META), 'p.parquet', opts, "column 'cand' has 1 missing (null) value (first at row 8)");
    await rejects(
      parquetBytes(withValue(MC, 'cand', 8, [0.5, null as unknown as number, 0.5]), META),
      'p.parquet',
      opts,
      "column 'cand' has a missing (null) probability for class 1 at row 8",
    );
    const scalar = MC.map((c) => (c.name === 'cand' ? { ...c, kind: 'double' as const, values: c.values.map(() => 0.5) } : c));
    for (const [name, bytes] of files(scalar, META)) {
      await rejects(
        bytes,
        name,
        opts,
        "column 'cand' has type Float64; a multiclass model column must be a list of class probabilities, FixedSizeList<Float64>[K] (one probability per class on every row)",
      );
    }
    const four = MC.map((c) => (c.name === 'cand' ? { ...c, values: c.values.map((l) => [...(l as number[]).map((x) => x / 2), 0.5]) } : c));
    for (const [name, bytes] of files(four, META)) {
      await rejects(
        bytes,
        name,
        opts,
        "column 'cand' has 4 class probabilities per row but column 'prod' has 3; every model needs one probability per class, in the same class order",
      );
    }
    for (const [name, bytes] of files(MC, { 'mlops.classes': '["a", "b"]' })) {
      await rejects(
        bytes,
        name,
        opts,
        "the schema metadata 'mlops.classes' lists 2 classes but the probability lists of 'prod' have 3 entries; it must name every class, in class-index order",
      );
    }
    for (const [name, bytes] of files(MC, { 'mlops.classes': "['a', 'b', 'c']" })) {
      await rejects(
        bytes,
        name,
        opts,
        "the schema metadata 'mlops.classes' must be a JSON list of the class values in class-index order (not valid JSON), got ['a', 'b', 'c']",
      );
    }
    const textLabel = MC.map((c) => (c.name === 'label' ? { ...c, kind: 'string' as const, values: c.values.map((v) => `c${String(v)}`) } : c));
    await rejects(
      arrowBytes(textLabel, 'file', META),
      'p.arrow',
      opts,
      "the label column 'label' has type Utf8; multiclass labels must be class indices 0 to 2 (integers), with the class values listed in the schema metadata 'mlops.classes'",
    );
  });
});

describe('readAnyPredictions*: binary', () => {
  it('is readPredictions with the slice columns left out of the models, and their keys', () => {
    const n = 40;
    const cols: FixtureColumn[] = [
      { name: 'label', kind: 'int', values: Array.from({ length: n }, (_, i) => i % 2) },
      { name: 'a', kind: 'double', values: Array.from({ length: n }, (_, i) => (i % 7) / 7) },
      { name: 'store', kind: 'int', values: Array.from({ length: n }, (_, i) => 100 + (i % 4)) },
    ];
    const table = arrowTable(cols);
    const { predictions, slices } = readAnyPredictionsFromTable(table, { numericOnly: true, sliceColumns: ['store'] });
    const bytes = arrowBytes(cols, 'file');
    assert.deepEqual(predictions, readPredictions(bytes, { scoreColumns: ['a'] }));
    assert.deepEqual(slices, [{ column: 'store', codes: Uint32Array.from({ length: n }, (_, i) => i % 4), names: ['100', '101', '102', '103'] }]);
    assert.deepEqual(readAnyPredictionsFromTable(table, { scoreColumns: ['a'] }).slices, []);
  });
});
