/**
 * ROC AUC under keyed Poisson weights in SQL (src/engine/spark/sql.ts `renderKeyedRankSumsSql`,
 * `renderRankTotalsSql`), rendered for DuckDB and run in-process through @duckdb/node-api: per generator index
 * b and model, the integer u2 (twice the weighted Mann–Whitney U) must equal the engine's `aucSums` under the
 * same weights, and the statistic finished from it must equal `runKeyedPoisson`'s, bit for bit, whatever the
 * bucketing (1, 7, 1,000 buckets, arbitrary cut points) and the row order.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  MAX_KEYED_ATTEMPTS,
  aucSums,
  keyedBase,
  keyedResampleIndex,
  keyedSeed64,
  keyedWeightsFromBase,
  rocAuc,
  runKeyedPoisson,
  sortOrder,
  type Predictions,
} from '../../src/engine';
import { renderDelongCutPointsSql, renderKeyedRankSumsSql, renderRankTotalsSql, type CutPoints, type SqlSource } from '../../src/engine/spark/sql';
import { aucFromRankSum } from '../../src/engine/spark-sums';
import { duckRows, useDuckDb } from '../helpers/duckdb';
import { loadKeyedTable, permutation, simulatedKeyedData, sparseKeys, type KeyedData as Data } from '../helpers/spark-data';

const ROOT = path.resolve(__dirname, '..', '..', '..');

let db: DuckDBConnection;

const rows = (sql: string): Promise<Record<string, unknown>[]> => duckRows(db, sql);

const load = (name: string, d: Data, order: number[]): Promise<SqlSource> => loadKeyedTable(db, name, d, order);

interface RankRow {
  b: number;
  weight: number;
  positiveWeight: number;
  ranks: string[];
}

function rankRows(result: Record<string, unknown>[], models: number): RankRow[] {
  return result.map((r) => ({
    b: Number(r.b),
    weight: Number(r.weight),
    positiveWeight: Number(r.positive_weight),
    ranks: Array.from({ length: models }, (_, m) => String(r[`rank${m}`])),
  }));
}

/** The engine's integers for generator index b: Σw, Σw·y and `aucSums`' u2 per model under the keyed weights. */
function engineRankRow(d: Data, seed: string, b: number): RankRow {
  const w = keyedWeightsFromBase(keyedBase(keyedSeed64(seed), d.keys), b, new Uint8Array(d.keys.length));
  const ranks = d.scores.map((s) => aucSums(sortOrder(s, d.labels), null, w));
  return { b, weight: ranks[0].pos + ranks[0].neg, positiveWeight: ranks[0].pos, ranks: ranks.map((r) => String(r.u2)) };
}

/** A generator index whose draw gave no row any weight has no row in the result: its sums are zero. */
function withEmptyDraws(got: RankRow[], indices: number[], models: number): RankRow[] {
  const byIndex = new Map(got.map((r) => [r.b, r]));
  return indices.map((b) => byIndex.get(b) ?? { b, weight: 0, positiveWeight: 0, ranks: new Array<string>(models).fill('0') });
}

const bothClasses = (r: RankRow): boolean => r.positiveWeight > 0 && r.positiveWeight < r.weight;

/**
 * The notebook's order of work on DuckDB: indices 0..B−1, then redraws b + a·2^20 for every b whose draw missed
 * a class; returns every draw computed.
 */
async function sqlDraws(src: SqlSource, seed: string, cuts: CutPoints, B: number): Promise<RankRow[]> {
  const M = src.scores.length;
  const first = [...Array(B).keys()];
  const all = withEmptyDraws(rankRows(await rows(renderKeyedRankSumsSql('duckdb', src, seed, cuts, { count: B })), M), first, M);
  let pending = all.filter((r) => !bothClasses(r)).map((r) => r.b);
  for (let attempt = 1; pending.length > 0 && attempt < MAX_KEYED_ATTEMPTS; attempt++) {
    const indices = pending.map((b) => keyedResampleIndex(b, attempt));
    const redraw = withEmptyDraws(rankRows(await rows(renderKeyedRankSumsSql('duckdb', src, seed, cuts, indices)), M), indices, M);
    pending = redraw.filter((r) => !bothClasses(r)).map((r) => r.b % 2 ** 20);
    all.push(...redraw);
  }
  return all;
}

/** Per model and resample the statistic from the draws (first with both classes), as the finisher takes it. */
function statsFromDraws(draws: RankRow[], B: number, M: number): Float64Array {
  const byIndex = new Map(draws.map((r) => [r.b, r]));
  const stats = new Float64Array(M * B);
  for (let b = 0; b < B; b++) {
    for (let attempt = 0; attempt < MAX_KEYED_ATTEMPTS; attempt++) {
      const r = byIndex.get(keyedResampleIndex(b, attempt));
      if (r === undefined || !bothClasses(r)) continue;
      for (let m = 0; m < M; m++) stats[m * B + b] = aucFromRankSum(BigInt(r.ranks[m]), r.positiveWeight, r.weight - r.positiveWeight);
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
  for (const r of draws) {
    const want = engineRankRow(d, seed, r.b);
    assert.deepEqual(r, want, `${what}: draw ${r.b}`);
  }
  const local = runKeyedPoisson(
    predictionsOf(d),
    d.scores.map((_, m) => `s${m}`),
    'roc_auc',
    seed,
    B,
  );
  assert.deepEqual(statsFromDraws(draws, B, M), local.run.stats, `${what}: statistics`);
  const [full] = rankRows(await rows(renderRankTotalsSql('duckdb', src, cuts)), M);
  const estimates = full.ranks.map((u2) => aucFromRankSum(BigInt(u2), full.positiveWeight, full.weight - full.positiveWeight));
  assert.deepEqual(estimates, local.estimates, `${what}: estimates`);
  assert.deepEqual(
    estimates,
    d.scores.map((s) => rocAuc(d.labels, s)),
    `${what}: rocAuc`,
  );
}

const noCuts = (M: number): CutPoints => Array.from({ length: M }, () => []);

async function cutsOf(src: SqlSource, buckets: number): Promise<CutPoints> {
  const q = await db.runAndReadAll(renderDelongCutPointsSql('duckdb', src, buckets));
  return q.getRowObjectsJson().map((r) => (r.cuts as number[]).map(Number));
}

describe('keyed ROC AUC in SQL on DuckDB: the engine integers and statistics', function () {
  this.timeout(300_000);

  useDuckDb((c) => (db = c));

  it('continuous scores, 3 models × 2,000 rows × 32 resamples: the same u2 per draw and statistics with 1, 7 and 1,000 buckets, odd cut points and any row order', async () => {
    const d = simulatedKeyedData(2000, 'rank', { models: 3 });
    const src = await load('r_cont', d, permutation(2000, 1));
    await assertSameAsEngine(d, src, 'rank-seed', noCuts(3), 32, '1 bucket');
    await assertSameAsEngine(d, src, 'rank-seed', await cutsOf(src, 7), 32, '7 buckets');
    await assertSameAsEngine(d, src, 'rank-seed', await cutsOf(src, 1000), 32, '1,000 buckets');
    await assertSameAsEngine(d, src, 'rank-seed', [[-9, 0.2, 0.2, 0.5, 9], [0.5], [0.1, 0.9]], 32, 'odd cut points');
    const shuffled = await load('r_cont2', d, permutation(2000, 77));
    await assertSameAsEngine(d, shuffled, 'rank-seed', await cutsOf(shuffled, 7), 32, 'other row order');
  });

  it('ties only (scores on a grid of 5 values, ties across buckets), float32 scores, near-identical models', async () => {
    const base = simulatedKeyedData(1500, 'rank-ties', { float32: true });
    const tied: Data = { ...base, scores: base.scores.map((s) => Float32Array.from(s, (x) => Math.round(x) / 2)) };
    const near: Data = { ...base, scores: [base.scores[0], Float32Array.from(base.scores[0], (x, i) => (i === 17 ? x + 0.125 : x))] };
    for (const [name, d] of Object.entries({ tied, float32: base, near })) {
      const src = await load(`r_${name}`, d, permutation(1500, 5));
      await assertSameAsEngine(d, src, 'tie-seed', await cutsOf(src, 7), 24, name);
      await assertSameAsEngine(
        d,
        src,
        'tie-seed',
        [
          [0, 0, 0.5],
          [-0.5, 0],
        ],
        24,
        `${name}, cuts on tie values`,
      );
    }
  });

  it('one positive among 60 rows: redraws b + a·2^20 until the positive has weight; the same draws, redraws and statistics', async () => {
    const d = simulatedKeyedData(60, 'rank-one');
    d.labels.fill(0);
    d.labels[7] = 1;
    const src = await load('r_one', d, permutation(60, 9));
    const local = runKeyedPoisson(predictionsOf(d), ['s0', 's1'], 'roc_auc', 'one-seed', 40);
    assert.ok(local.run.redraws.reduce((a, x) => a + x, 0) >= 5, `redraws ${local.run.redraws.join(',')}`);
    await assertSameAsEngine(d, src, 'one-seed', noCuts(2), 40, 'one positive');
    await assertSameAsEngine(d, src, 'one-seed', await cutsOf(src, 3), 40, 'one positive, 3 buckets');
  });

  it('the scikit-learn golden sets (test/fixtures/engine/metrics-golden.json), each against its reversed scores: the full-data AUC is the golden value', async () => {
    const golden = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'engine', 'metrics-golden.json'), 'utf8')) as {
      cases: { name: string; labels: number[]; scores: number[]; weights?: number[]; roc_auc: number }[];
    };
    let checked = 0;
    for (const c of golden.cases) {
      if (c.weights !== undefined || c.labels.length > 1000 || c.labels.length < 10) continue;
      const n = c.labels.length;
      const d: Data = { keys: sparseKeys(n), labels: Uint8Array.from(c.labels), scores: [Float64Array.from(c.scores), Float64Array.from(c.scores, (x) => -x)] };
      const src = await load('r_golden', d, permutation(n, n));
      await assertSameAsEngine(d, src, c.name, await cutsOf(src, 4), 16, c.name);
      const [full] = rankRows(await rows(renderRankTotalsSql('duckdb', src, noCuts(2))), 2);
      assert.ok(Math.abs(aucFromRankSum(BigInt(full.ranks[0]), full.positiveWeight, n - full.positiveWeight) - c.roc_auc) <= 1e-15, c.name);
      checked++;
    }
    assert.equal(checked, 18);
  });

  it('renders the Spark dialect: one pass over the rows crossed with the indices and the models; windows per (m, bk, b) and (m, b) only', () => {
    const src: SqlSource = { table: 'main.eval.preds', key: 'row_id', label: 'label', scores: ['prod', 'cand'] };
    const spark = renderKeyedRankSumsSql('spark', src, 42, [[0.5], []], { count: 100 });
    assert.match(spark, /CROSS JOIN \(SELECT id AS b FROM range\(100\)\) AS kp_i/);
    assert.match(spark, /CROSS JOIN \(SELECT \* FROM VALUES \(0\), \(1\) AS au_mv\(m\)\) AS au_mi WHERE w > 0/);
    assert.match(spark, /OVER \(PARTITION BY m, bk, b ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING\)/);
    assert.match(spark, /OVER \(PARTITION BY m, b ORDER BY bk ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING\)/);
    assert.deepEqual(spark.match(/PARTITION BY [a-z, ]+/g), ['PARTITION BY m, bk, b ', 'PARTITION BY m, b ']);
    assert.match(spark, /CAST\(gp AS DECIMAL\(20,0\)\) \* CAST\(2 \* nb \+ gn AS DECIMAL\(20,0\)\)/);
    assert.doesNotMatch(spark, /xor\(|\/\/|"/);
    assert.doesNotMatch(renderKeyedRankSumsSql('duckdb', src, 42, [[0.5], []], [1, 2]), /\^|\bdiv\b|`/);
    assert.throws(() => renderKeyedRankSumsSql('spark', src, 42, [[0.5]], { count: 1 }), /2 models need 2 cut point lists, got 1/);
    assert.throws(() => renderRankTotalsSql('spark', { ...src, label: 'a b' }, [[], []]), /column name 'a b'/);
  });

  it('DECIMAL(20,0) products and their sums are exact at 10^9-row extremes (weights up to 18 per row: totals below 1.8·10^10); DECIMAL(18,0) would overflow', async () => {
    const gp = 18_000_000_000n;
    const c = 2n * 18_000_000_000n + 17n;
    const dec = (x: bigint, p: number): string => `CAST(CAST(${x} AS BIGINT) AS DECIMAL(${p},0))`;
    const [r] = await rows(
      `SELECT SUM(${dec(gp, 20)} * ${dec(c, 20)}) AS u2, SUM(${dec(gp, 20)} * ${dec(c, 20)} + ${dec(gp, 20)} * ${dec(c, 20)}) AS twice, typeof(SUM(${dec(1n, 20)} * ${dec(1n, 20)})) AS t FROM range(1000)`,
    );
    assert.deepEqual(r, { u2: (1000n * gp * c).toString(), twice: (2000n * gp * c).toString(), t: 'DECIMAL(38,0)' });
    await assert.rejects(db.run(`SELECT ${dec(gp, 18)} * ${dec(c, 18)}`), /Overflow in multiplication of DECIMAL\(18\)/);
  });
});
