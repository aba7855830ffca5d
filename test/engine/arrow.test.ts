import assert from 'node:assert/strict';
import { Bool, Float16, Table, makeVector, tableFromArrays, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { PredictionsError, readPredictions } from '../../src/engine';

function ipc(columns: Record<string, Vector | ArrayLike<number>>, format: 'file' | 'stream' = 'file'): Uint8Array {
  const vectors = Object.fromEntries(
    Object.entries(columns).map(([k, v]) => [k, 'data' in (v as object) && 'type' in (v as object) ? (v as Vector) : makeVector(v as Float64Array)]),
  );
  return tableToIPC(new Table(vectors), format);
}

/** Replaces the first occurrences of an int64 little-endian value in the IPC metadata (e.g. a batch length). */
function patchInt64(bytes: Uint8Array, from: number, to: number, occurrences: number[]): Uint8Array {
  const out = Uint8Array.from(bytes);
  const pat = new Uint8Array(new BigInt64Array([BigInt(from)]).buffer);
  const rep = new Uint8Array(new BigInt64Array([BigInt(to)]).buffer);
  const hits: number[] = [];
  for (let i = 0; i + 8 <= out.length; i++) if (pat.every((b, j) => out[i + j] === b)) hits.push(i);
  for (const h of occurrences) out.set(rep, hits[h]);
  return out;
}

function rejects(bytes: Uint8Array, message: RegExp | string, column?: string, opts?: Parameters<typeof readPredictions>[1]): void {
  assert.throws(
    () => readPredictions(bytes, opts),
    (e: Error) => {
      assert.ok(e instanceof PredictionsError, `${e.name}: ${e.message}`);
      assert.equal(e.name, 'PredictionsError');
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      if (column !== undefined) assert.equal((e as PredictionsError).column, column);
      return true;
    },
  );
}

describe('readPredictions(bytes) from Arrow IPC', () => {
  const n = 777;
  const label = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const f64 = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
  const f32 = Float32Array.from(f64);
  const i32 = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 1000);

  for (const format of ['file', 'stream'] as const) {
    it(`reads the ${format} format into typed arrays, float64/float32/int32/uint8 labels as views of the bytes (no copy)`, () => {
      const bytes = ipc({ label, m64: f64, m32: f32, mi: i32 }, format);
      const p = readPredictions(bytes);
      assert.equal(p.n, n);
      assert.deepEqual(
        p.columns.map((c) => [c.name, c.scores.constructor.name]),
        [
          ['m64', 'Float64Array'],
          ['m32', 'Float32Array'],
          ['mi', 'Int32Array'],
        ],
      );
      assert.deepEqual(p.columns[0].scores, f64);
      assert.deepEqual(p.columns[1].scores, f32);
      assert.deepEqual(p.columns[2].scores, i32);
      assert.deepEqual(p.labels, label);
      for (const c of p.columns) assert.equal(c.scores.buffer, bytes.buffer, `${c.name} is a view`);
      assert.equal(p.labels.buffer, bytes.buffer, 'labels are a view');
    });
  }

  it('reads boolean labels, int64 labels and scores, float16 scores and multi-batch columns (converted)', () => {
    const t = new Table({
      y: vectorFromArray([true, false, true, false], new Bool()),
      big: makeVector(new BigInt64Array([1n, 0n, -3n, 9007199254740991n])),
      half: vectorFromArray([0.1, 0.5, 0.25, 1], new Float16()),
    });
    const p = readPredictions(tableToIPC(t), { labelColumn: 'y' });
    assert.deepEqual(Array.from(p.labels), [1, 0, 1, 0]);
    assert.deepEqual(Array.from(p.columns[0].scores), [1, 0, -3, 9007199254740991]);
    assert.deepEqual(Array.from(p.columns[1].scores), [0.0999755859375, 0.5, 0.25, 1]);
    const labels64 = readPredictions(ipc({ label: new BigInt64Array([1n, 0n]) as unknown as Float64Array, s: new Float64Array([0.2, 0.1]) }));
    assert.deepEqual(Array.from(labels64.labels), [1, 0]);
    const b1 = tableFromArrays({ label: new Uint8Array([0, 1]), m: new Float64Array([0.1, 0.2]) });
    const b2 = tableFromArrays({ label: new Uint8Array([1, 0]), m: new Float64Array([0.3, 0.4]) });
    const multi = readPredictions(tableToIPC(new Table([...b1.batches, ...b2.batches]), 'stream'));
    assert.deepEqual(Array.from(multi.labels), [0, 1, 1, 0]);
    assert.deepEqual(Array.from(multi.columns[0].scores), [0.1, 0.2, 0.3, 0.4]);
  });

  it('reads only the requested score columns when scoreColumns is given', () => {
    const p = readPredictions(ipc({ label, id: vectorFromArray(Array.from({ length: n }, (_, i) => `row${i}`)), a: f64 }), { scoreColumns: ['a'] });
    assert.deepEqual(
      p.columns.map((c) => c.name),
      ['a'],
    );
    rejects(ipc({ label, a: f64 }), "there is no score column 'b' (columns: label, a)", 'b', { scoreColumns: ['b'] });
  });

  it('rejects a missing label column, naming it and the columns present', () => {
    rejects(ipc({ y: label, a: f64 }), "there is no label column 'label' (columns: y, a)", 'label');
  });

  it('rejects labels other than 0/1 with the count and the first row', () => {
    const bad = Int32Array.from(label);
    bad[5] = 2;
    bad[9] = -1;
    rejects(ipc({ label: bad, a: f64 }), "the label column 'label' has 2 values other than 0 and 1 (first at row 5: 2)", 'label');
    rejects(
      ipc({ label: vectorFromArray(['0', '1']), a: f64.subarray(0, 2) }),
      "the label column 'label' has type Dictionary<Int32, Utf8>; expected booleans, integers 0/1 or floats 0.0/1.0",
      'label',
    );
  });

  it('accepts float labels that are exactly 0.0 or 1.0 (what Spark writes), and rejects any other value with its row', () => {
    const expected = readPredictions(ipc({ label: Int32Array.from(label), a: f64 })).labels;
    for (const floats of [Float64Array.from(label), Float32Array.from(label)]) {
      const p = readPredictions(ipc({ label: floats, a: f64 }));
      assert.deepEqual(Array.from(p.labels), Array.from(expected));
    }
    const half = readPredictions(ipc({ label: vectorFromArray(Array.from(label), new Float16()), a: f64 }));
    assert.deepEqual(Array.from(half.labels), Array.from(expected));
    const bad = Float64Array.from(label);
    bad[7] = 0.5;
    bad[8] = 1.0000000000000002;
    rejects(ipc({ label: bad, a: f64 }), "the label column 'label' has 2 values other than 0 and 1 (first at row 7: 0.5)", 'label');
    const nan = Float32Array.from(label);
    nan[3] = NaN;
    rejects(ipc({ label: nan, a: f64 }), "the label column 'label' has 1 value other than 0 and 1 (first at row 3: NaN)", 'label');
  });

  it('without scoreColumns: exclude leaves named columns out and numericOnly skips non-numeric columns', () => {
    const bytes = ipc({ label, a: f64, weight: Int32Array.from(label, () => 2), id: vectorFromArray(Array.from(label, (_, i) => `row${i}`)) });
    const p = readPredictions(bytes, { exclude: ['weight'], numericOnly: true });
    assert.deepEqual(
      p.columns.map((c) => c.name),
      ['a'],
    );
    rejects(bytes, /column 'id' has type Dictionary<Int32, Utf8>; a score column must be numeric/, 'id', { exclude: ['weight'] });
  });

  it('rejects labels with one class only', () => {
    rejects(ipc({ label: new Uint8Array(n), a: f64 }), "the label column 'label' holds only one class (every label is 0)", 'label');
  });

  it('rejects NaN or infinite scores with the count and the first row', () => {
    const s = Float64Array.from(f64);
    s[3] = NaN;
    s[100] = -Infinity;
    s[200] = NaN;
    rejects(ipc({ label, good: f64, bad: s }), "column 'bad' has 3 NaN or infinite scores (first at row 3: NaN)", 'bad');
    const s32 = Float32Array.from(f32);
    s32[7] = Infinity;
    rejects(ipc({ label, bad32: s32 }), "column 'bad32' has 1 NaN or infinite score (first at row 7: Infinity)", 'bad32');
  });

  it('rejects columns of different lengths and missing (null) scores', () => {
    const t = tableFromArrays({ label: new Uint8Array([0, 1, 0, 1]), short: new Float64Array([0.1, 0.2, 0.3]) });
    rejects(tableToIPC(t), "column 'short' has 3 rows but the other columns have 4 (its last 1 values are missing)", 'short');
    const withNull = new Table({ label: makeVector(new Uint8Array([0, 1, 0, 1])), s: vectorFromArray([0.1, null, 0.3, null]) });
    rejects(tableToIPC(withNull), "column 's' has 2 missing (null) values (first at row 1)", 's');
  });

  it('rejects non-numeric score columns, naming the type', () => {
    rejects(
      ipc({ label, name: vectorFromArray(Array.from({ length: n }, () => 'x')) }),
      /^column 'name' has type Dictionary<Int32, Utf8>; a score column must be numeric/,
      'name',
    );
  });

  it('rejects empty predictions: no bytes, no rows, no score column', () => {
    rejects(new Uint8Array(0), 'the predictions are empty (0 bytes)');
    rejects(ipc({ label: new Uint8Array(0), a: new Float64Array(0) }), 'the predictions are empty (0 rows)');
    rejects(ipc({ label }), "there is no score column besides 'label'");
  });

  it('rejects a truncated Arrow file (footer missing) at any cut', () => {
    const bytes = ipc({ label, a: f64 }, 'file');
    for (const cut of [bytes.length - 1, bytes.length - 10, Math.floor(bytes.length / 2), 64, 10]) {
      rejects(bytes.subarray(0, cut), 'the Arrow file is truncated: it does not end with the Arrow footer and magic');
    }
  });

  it('rejects a truncated Arrow stream (no end-of-stream marker) at any cut, including message boundaries', () => {
    const bytes = ipc({ label, a: f64 }, 'stream');
    for (const cut of [bytes.length - 1, bytes.length - 8, bytes.length - 9, Math.floor(bytes.length / 2), 100, 8]) {
      rejects(bytes.subarray(0, cut), /^the Arrow stream is truncated: it ends inside message \d, before the end-of-stream marker$/);
    }
  });

  for (const format of ['file', 'stream'] as const) {
    it(`rejects a record batch claiming more rows than its buffers hold (${format})`, () => {
      const bytes = patchInt64(ipc({ label, a: f64 }, format), n, 100000, [0]);
      rejects(bytes, /^column 'label' claims 100000 rows in a record batch but its data hold only 784 \(truncated or corrupt Arrow data\)$/, 'label');
    });
  }

  it('rejects bytes that are not Arrow', () => {
    rejects(new TextEncoder().encode('label,a\n1,0.5\n'), 'the predictions are not Arrow IPC data (no Arrow file magic and no valid stream message)');
  });

  it('does not modify the input bytes', () => {
    const bytes = ipc({ label, a: f64 });
    const copy = Uint8Array.from(bytes);
    readPredictions(bytes);
    assert.deepEqual(bytes, copy);
  });
});
