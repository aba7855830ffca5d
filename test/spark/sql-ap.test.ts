/**
 * Average precision under keyed Poisson weights in SQL (src/engine/spark/sql.ts `renderKeyedApSumsSql`,
 * `renderApTotalsSql`), rendered for DuckDB and run in-process through @duckdb/node-api: per generator index b
 * and model, the fixed-point sum Σ_g pw_g·⌊TP_g·2^56/(TP_g+FP_g)⌋ must equal the engine's `exactApSum` under the
 * same weights, and the statistic finished from it must equal `runKeyedPoisson`'s, bit for bit, whatever the
 * bucketing (1, 7, 1,000 buckets, arbitrary cut points) and the row order.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  MAX_KEYED_ATTEMPTS,
  apFromFixedPoint,
  averagePrecision,
  exactApSum,
  keyedBase,
  keyedResampleIndex,
  keyedSeed64,
  keyedWeightsFromBase,
  runKeyedPoisson,
  sortOrder,
  type Predictions,
} from '../../src/engine';
import { renderApTotalsSql, renderDelongCutPointsSql, renderKeyedApSumsSql, type CutPoints, type SqlSource } from '../../src/engine/spark/sql';
import { duckRows, useDuckDb } from '../helpers/duckdb';
import { loadKeyedTable, permutation, simulatedKeyedData, sparseKeys, type KeyedData as Data } from '../helpers/spark-data';

const ROOT = path.resolve(__dirname, '..', '..', '..');

let db: DuckDBConnection;

const rows = (sql: string): Promise<Record<string, unknown>[]> => duckRows(db, sql);

const load = (name: string, d: Data, order: number[]): Promise<SqlSource> => loadKeyedTable(db, name, d, order);

interface ApRow {
  b: number;
  weight: number;
  positiveWeight: number;
  aps: string[];
}

function apRows(result: Record<string, unknown>[], models: number): ApRow[] {
  return result.map((r) => ({
    b: Number(r.b),
    weight: Number(r.weight),
    positiveWeight: Number(r.positive_weight),
    aps: Array.from({ length: models }, (_, m) => String(r[`ap${m}`])),
  }));
}

/** The engine's integers for generator index b: Σw, Σw·y and `exactApSum` per model under the keyed weights. */
function engineApRow(d: Data, seed: string, b: number): ApRow {
  const w = keyedWeightsFromBase(keyedBase(keyedSeed64(seed), d.keys), b, new Uint8Array(d.keys.length));
  const weight = w.reduce((a, x) => a + x, 0);
  const aps = d.scores.map((s) => exactApSum(sortOrder(s, d.labels), w));
  return { b, weight, positiveWeight: aps[0].pos, aps: aps.map((a) => String(a.sum)) };
}

/** A generator index whose draw gave no row any weight has no row in the result: its sums are zero. */
function withEmptyDraws(got: ApRow[], indices: number[], models: number): ApRow[] {
  const byIndex = new Map(got.map((r) => [r.b, r]));
  return indices.map((b) => byIndex.get(b) ?? { b, weight: 0, positiveWeight: 0, aps: new Array<string>(models).fill('0') });
}

const bothClasses = (r: ApRow): boolean => r.positiveWeight > 0 && r.positiveWeight < r.weight;

/** The notebook's order of work: indices 0..B−1, then redraws b + a·2^20 for every b whose draw missed a class. */
async function sqlDraws(src: SqlSource, seed: string, cuts: CutPoints, B: number): Promise<ApRow[]> {
  const M = src.scores.length;
  const first = [...Array(B).keys()];
  const all = withEmptyDraws(apRows(await rows(renderKeyedApSumsSql('duckdb', src, seed, cuts, { count: B })), M), first, M);
  let pending = all.filter((r) => !bothClasses(r)).map((r) => r.b);
  for (let attempt = 1; pending.length > 0 && attempt < MAX_KEYED_ATTEMPTS; attempt++) {
    const indices = pending.map((b) => keyedResampleIndex(b, attempt));
    const redraw = withEmptyDraws(apRows(await rows(renderKeyedApSumsSql('duckdb', src, seed, cuts, indices)), M), indices, M);
    pending = redraw.filter((r) => !bothClasses(r)).map((r) => r.b % 2 ** 20);
    all.push(...redraw);
  }
  return all;
}

/** Per model and resample the statistic from the draws (first with both classes), as the finisher takes it. */
function statsFromDraws(draws: ApRow[], B: number, M: number): Float64Array {
  const byIndex = new Map(draws.map((r) => [r.b, r]));
  const stats = new Float64Array(M * B);
  for (let b = 0; b < B; b++) {
    for (let attempt = 0; attempt < MAX_KEYED_ATTEMPTS; attempt++) {
      const r = byIndex.get(keyedResampleIndex(b, attempt));
      if (r === undefined || !bothClasses(r)) continue;
      for (let m = 0; m < M; m++) stats[m * B + b] = apFromFixedPoint(BigInt(r.aps[m]), r.positiveWeight);
      break;
    }
  }
  return stats;
}

function predictionsOf(d: Data): Predictions {
  return {
    n: d.keys.length,
    labels: d.labels,
    columns: d.scores.map((s, m) => ({ name: `s${m}`, scores: s })),
    rowKey: { name: 'k', values: d.keys },
  };
}

/** The SQL's draws, estimates and statistics against the engine: integers equal, statistics bit for bit. */
async function assertSameAsEngine(d: Data, src: SqlSource, seed: string, cuts: CutPoints, B: number, what: string): Promise<void> {
  const M = d.scores.length;
  const draws = await sqlDraws(src, seed, cuts, B);
  for (const r of draws) assert.deepEqual(r, engineApRow(d, seed, r.b), `${what}: draw ${r.b}`);
  const local = runKeyedPoisson(
    predictionsOf(d),
    d.scores.map((_, m) => `s${m}`),
    'average_precision',
    seed,
    B,
  );
  assert.deepEqual(statsFromDraws(draws, B, M), local.run.stats, `${what}: statistics`);
  const [full] = apRows(await rows(renderApTotalsSql('duckdb', src, cuts)), M);
  const estimates = full.aps.map((s) => apFromFixedPoint(BigInt(s), full.positiveWeight));
  assert.deepEqual(estimates, local.estimates, `${what}: estimates`);
  d.scores.forEach((s, m) => assert.ok(Math.abs(estimates[m] - averagePrecision(d.labels, s)) <= 1e-14, `${what}: averagePrecision of model ${m}`));
}

const noCuts = (M: number): CutPoints => Array.from({ length: M }, () => []);

async function cutsOf(src: SqlSource, buckets: number): Promise<CutPoints> {
  const q = await db.runAndReadAll(renderDelongCutPointsSql('duckdb', src, buckets));
  return q.getRowObjectsJson().map((r) => (r.cuts as number[]).map(Number));
}

describe('keyed average precision in SQL on DuckDB: the engine integers and statistics', function () {
  this.timeout(300_000);

  useDuckDb((c) => (db = c));

  it('continuous scores, 3 models × 1,500 rows × 24 resamples: the same sums per draw and statistics with 1, 7 and 1,000 buckets, odd cut points and any row order', async () => {
    const d = simulatedKeyedData(1500, 'ap', { models: 3 });
    const src = await load('a_cont', d, permutation(1500, 1));
    await assertSameAsEngine(d, src, 'ap-seed', noCuts(3), 24, '1 bucket');
    await assertSameAsEngine(d, src, 'ap-seed', await cutsOf(src, 7), 24, '7 buckets');
    await assertSameAsEngine(d, src, 'ap-seed', await cutsOf(src, 1000), 24, '1,000 buckets');
    await assertSameAsEngine(d, src, 'ap-seed', [[-9, 0.2, 0.2, 0.5, 9], [0.5], [0.1, 0.9]], 24, 'odd cut points');
    const shuffled = await load('a_cont2', d, permutation(1500, 77));
    await assertSameAsEngine(d, shuffled, 'ap-seed', await cutsOf(shuffled, 7), 24, 'other row order');
  });

  it('ties only (scores on a grid of 5 values, ties across buckets), float32 scores, near-identical models', async () => {
    const base = simulatedKeyedData(1200, 'ap-ties', { float32: true });
    const tied: Data = { ...base, scores: base.scores.map((s) => Float32Array.from(s, (x) => Math.round(x) / 2)) };
    const near: Data = { ...base, scores: [base.scores[0], Float32Array.from(base.scores[0], (x, i) => (i === 17 ? x + 0.125 : x))] };
    const allTied: Data = { ...base, scores: [new Float32Array(1200).fill(0.5), base.scores[1]] };
    for (const [name, d] of Object.entries({ tied, float32: base, near, allTied })) {
      const src = await load(`a_${name}`, d, permutation(1200, 5));
      await assertSameAsEngine(d, src, 'tie-seed', await cutsOf(src, 7), 16, name);
      await assertSameAsEngine(
        d,
        src,
        'tie-seed',
        [
          [0, 0, 0.5],
          [-0.5, 0],
        ],
        16,
        `${name}, cuts on tie values`,
      );
    }
  });

  it('one positive among 60 rows: redraws b + a·2^20 until the positive has weight; the same draws, redraws and statistics', async () => {
    const d = simulatedKeyedData(60, 'ap-one');
    d.labels.fill(0);
    d.labels[7] = 1;
    const src = await load('a_one', d, permutation(60, 9));
    const local = runKeyedPoisson(predictionsOf(d), ['s0', 's1'], 'average_precision', 'one-seed', 40);
    assert.ok(local.run.redraws.reduce((a, x) => a + x, 0) >= 5, `redraws ${local.run.redraws.join(',')}`);
    await assertSameAsEngine(d, src, 'one-seed', noCuts(2), 40, 'one positive');
    await assertSameAsEngine(d, src, 'one-seed', await cutsOf(src, 3), 40, 'one positive, 3 buckets');
  });

  it('the scikit-learn golden sets (test/fixtures/engine/metrics-golden.json), each against its reversed scores: the full-data AP within 1e-12 of the golden value', async () => {
    const golden = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'engine', 'metrics-golden.json'), 'utf8')) as {
      cases: { name: string; labels: number[]; scores: number[]; weights?: number[]; average_precision: number }[];
    };
    let checked = 0;
    for (const c of golden.cases) {
      if (c.weights !== undefined || c.labels.length > 1000 || c.labels.length < 10) continue;
      const n = c.labels.length;
      const d: Data = { keys: sparseKeys(n), labels: Uint8Array.from(c.labels), scores: [Float64Array.from(c.scores), Float64Array.from(c.scores, (x) => -x)] };
      const src = await load('a_golden', d, permutation(n, n));
      await assertSameAsEngine(d, src, c.name, await cutsOf(src, 4), 12, c.name);
      const [full] = apRows(await rows(renderApTotalsSql('duckdb', src, noCuts(2))), 2);
      assert.ok(Math.abs(apFromFixedPoint(BigInt(full.aps[0]), full.positiveWeight) - c.average_precision) <= 1e-12, c.name);
      checked++;
    }
    assert.equal(checked, 18);
  });
});
