/**
 * The Spark comparison's SQL (src/engine/spark/sql.ts), rendered for DuckDB and run in-process through
 * @duckdb/node-api: its integers must equal the engine's (keyed-poisson.ts, delong-sums.ts) exactly, for
 * any row order and any split of the rows or of the score range. The Spark rendering is checked for the
 * dialect's spelling only (no Spark here); docs/scale-out.md says what remains to run on a cluster.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  delongBucketOffsets,
  delongSumsFromRows,
  renderDelongBucketTotalsSql,
  renderDelongCutPointsSql,
  renderDelongSumsSql,
  renderFingerprintSql,
  renderKeyedHashSql,
  renderKeyedLossSumsSql,
  renderLossTotalsSql,
  renderRowLossesSql,
  type CutPoints,
  type SqlLoss,
  type SqlSource,
} from '../../src/engine/spark/sql';
import {
  delongCovariance,
  delongDifference,
  delongDifferenceFromSums,
  delongSumsOf,
  exactWeightedSum,
  fixedPointLosses,
  keyedLossSums,
  keyedSeed64,
  rowLosses,
  type DelongSums,
} from '../../src/engine';
import { simulateModels } from '../engine/simulate';
import { duckRows, useDuckDb } from '../helpers/duckdb';
import { loadKeyedTable, permutation, type KeyedData as Data } from '../helpers/spark-data';

const ROOT = path.resolve(__dirname, '..', '..', '..');

let db: DuckDBConnection;

const rows = (sql: string): Promise<Record<string, unknown>[]> => duckRows(db, sql);

const load = (name: string, d: Data, order: number[]): Promise<SqlSource> => loadKeyedTable(db, name, d, order);

function data(n: number, seed: string, opts: { roundTo?: number; float32?: boolean; models?: number } = {}): Data {
  const aucs = [0.72, 0.75, 0.78].slice(0, opts.models ?? 2);
  const { labels, scores } = simulateModels({ n, aucs, rho: 0.6, prevalence: 0.3, seed, ...(opts.roundTo !== undefined ? { roundTo: opts.roundTo } : {}) });
  // Probabilities for the losses (a logistic of the score), float32 when asked.
  const probs = scores.map((s) => Float64Array.from(s, (x) => 1 / (1 + Math.exp(-x))));
  const keys = Float64Array.from({ length: n }, (_, i) => (i * 2654435761 + 977) % 2 ** 40);
  return { keys, labels, scores: opts.float32 ? probs.map((p) => Float32Array.from(p)) : probs };
}

function engineLossSums(
  d: Data,
  seed: string,
  losses: SqlLoss[],
  indices: number[],
): { b: number; weight: number; positiveWeight: number; losses: string[] }[] {
  const q = d.scores.map((s, m) => fixedPointLosses(rowLosses(losses[m], d.labels, s)));
  return indices.map((b) => {
    const r = keyedLossSums(keyedSeed64(seed), d.keys, d.labels, q, b);
    return { b, weight: r.weight, positiveWeight: r.positiveWeight, losses: r.losses.map(String) };
  });
}

function sqlLossSums(result: Record<string, unknown>[], models: number): { b: number; weight: number; positiveWeight: number; losses: string[] }[] {
  return result.map((r) => ({
    b: Number(r.b),
    weight: Number(r.weight),
    positiveWeight: Number(r.positive_weight),
    losses: Array.from({ length: models }, (_, m) => String(r[`loss${m}`])),
  }));
}

/** Actions 1–3 of DeLong on DuckDB, with the cut points given (or from action 1 with `buckets`). */
async function delongOnDuckdb(src: SqlSource, cutsOrBuckets: CutPoints | number): Promise<DelongSums> {
  let cuts: CutPoints;
  if (typeof cutsOrBuckets === 'number') {
    const q = await db.runAndReadAll(renderDelongCutPointsSql('duckdb', src, cutsOrBuckets));
    cuts = q.getRowObjectsJson().map((r) => (r.cuts as number[]).map(Number));
  } else cuts = cutsOrBuckets;
  const totals = (await rows(renderDelongBucketTotalsSql('duckdb', src, cuts))).map((r) => ({
    m: Number(r.m),
    bk: Number(r.bk),
    pos: Number(r.pos),
    neg: Number(r.neg),
  }));
  const offsets = delongBucketOffsets(totals, src.scores.length);
  return delongSumsFromRows(await rows(renderDelongSumsSql('duckdb', src, cuts, offsets)), src.scores.length);
}

const asText = (s: DelongSums): unknown => JSON.parse(JSON.stringify(s, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));

describe('Spark comparison SQL on DuckDB: integer equality with the engine', function () {
  this.timeout(120_000);

  useDuckDb((c) => (db = c));

  it('the keyed generator in SQL reproduces the 140 published vectors (keys up to 2^40 − 1, b up to 2^24 − 1)', async () => {
    const file = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'engine', 'keyed-poisson-vectors.json'), 'utf8')) as {
      vectors: { seed: string; key: string; b: number; hash: string; u53: string; weight: number }[];
    };
    for (const seed of [...new Set(file.vectors.map((v) => v.seed))]) {
      const vs = file.vectors.filter((v) => v.seed === seed);
      await db.run('CREATE OR REPLACE TABLE vec (k BIGINT, b BIGINT)');
      await db.run(`INSERT INTO vec VALUES ${vs.map((v) => `(${v.key}, ${v.b})`).join(', ')}`);
      const got = await rows(renderKeyedHashSql('duckdb', seed, 'vec'));
      const want = [...vs].sort((x, y) => Number(BigInt(x.key) - BigInt(y.key)) || x.b - y.b);
      assert.equal(got.length, want.length);
      got.forEach((g, i) => {
        const h = (BigInt(String(g.hi)) << 32n) | BigInt(String(g.lo));
        assert.deepEqual(
          [String(g.k), Number(g.b), h.toString(), String(g.u53), Number(g.w)],
          [want[i].key, want[i].b, want[i].hash, want[i].u53, want[i].weight],
        );
      });
    }
  });

  it('keyed Poisson Brier sums (Σw, Σw·y, Σw·q) equal the engine on 3,000 rows × 3 models × 64 resamples, float32 scores', async () => {
    const d = data(3000, 'brier', { float32: true, models: 3 });
    const src = await load('t_brier', d, [...Array(3000).keys()]);
    const losses: SqlLoss[] = ['brier', 'brier', 'brier'];
    const got = sqlLossSums(await rows(renderKeyedLossSumsSql('duckdb', src, 'seed-1', losses, { count: 64 })), 3);
    assert.deepEqual(got, engineLossSums(d, 'seed-1', losses, [...Array(64).keys()]));
  });

  it('the same sums for any row order, and added up over 1, 7 or 1,000 chunks of the rows taken in any order; redraw indices b + a·2^20 too', async () => {
    const d = data(2000, 'chunks');
    const losses: SqlLoss[] = ['brier', 'brier'];
    const indices = [0, 1, 2, 5, 2 ** 20 + 5, 3 * 2 ** 20 + 1];
    const want = engineLossSums(d, 'chunk-seed', losses, indices);
    for (const chunks of [1, 7, 1000]) {
      // Rows in a random order, dealt into chunks; the chunks are summed in another random order.
      const perm = permutation(d.keys.length, chunks);
      await load('t_all', d, perm);
      const total = indices.map((b) => ({ b, weight: 0, positiveWeight: 0, losses: [0n, 0n] }));
      for (const c of permutation(chunks, 7 * chunks)) {
        await db.run(`CREATE OR REPLACE VIEW t_chunk AS SELECT * FROM t_all WHERE k % ${chunks} = ${c}`);
        const src = { table: 't_chunk', key: 'k', label: 'y', scores: ['s0', 's1'] };
        for (const g of sqlLossSums(await rows(renderKeyedLossSumsSql('duckdb', src, 'chunk-seed', losses, indices)), 2)) {
          const t = total.find((x) => x.b === g.b)!;
          t.weight += g.weight;
          t.positiveWeight += g.positiveWeight;
          g.losses.forEach((l, m) => (t.losses[m] += BigInt(l)));
        }
      }
      assert.deepEqual(
        total.map((t) => ({ ...t, losses: t.losses.map(String) })),
        want,
        `${chunks} chunks`,
      );
    }
  });

  it('log loss: the SQL computes the engine clip and renormalisation; DuckDB ln (the C library) is within one fixed-point unit of V8 on every row', async () => {
    const d = data(3000, 'logloss');
    // Extremes: clipped probabilities 0 and 1, and exact halves.
    for (const [i, p] of [
      [0, 0],
      [1, 1],
      [2, 0.5],
      [3, 2 ** -60],
      [4, 1 - 2 ** -53],
    ] as const)
      (d.scores[0] as Float64Array)[i] = p;
    const src = await load('t_ll', d, [...Array(3000).keys()]);
    const got = await rows(renderRowLossesSql('duckdb', src, ['log_loss', 'log_loss']));
    const order = [...Array(3000).keys()].sort((a, b) => d.keys[a] - d.keys[b]);
    let differ = 0;
    for (let m = 0; m < 2; m++) {
      const q = fixedPointLosses(rowLosses('log_loss', d.labels, d.scores[m]));
      got.forEach((r, j) => {
        const diff = Number(r[`q${m}`]) - q[order[j]];
        assert.ok(Math.abs(diff) <= 1, `row ${order[j]}: ${String(r[`q${m}`])} vs ${q[order[j]]}`);
        if (diff !== 0) differ++;
      });
    }
    // The clipped rows are exact: −ln(2^-52) and −ln(1 − 2^-52) are the same wherever ln is correctly rounded there.
    assert.ok(differ < 60, `${differ} of 6,000 fixed-point log losses differ by one unit`);
  });

  it('DeLong sums (3 actions) equal the engine on continuous scores, 3 models, whatever the bucketing (1, 7, 1,000 buckets) and row order', async () => {
    const d = data(4000, 'delong', { models: 3 });
    const want = asText(delongSumsOf(d.labels, d.scores));
    const src = await load('t_dl', d, permutation(4000, 3));
    assert.deepEqual(asText(await delongOnDuckdb(src, [[], [], []])), want);
    assert.deepEqual(asText(await delongOnDuckdb(src, 7)), want);
    assert.deepEqual(asText(await delongOnDuckdb(src, 1000)), want);
    // Arbitrary cut points (they only split the work): outside the range, duplicated, on tie values.
    assert.deepEqual(asText(await delongOnDuckdb(src, [[-1, 0.2, 0.2, 0.5, 2], [0.5], [0.1, 0.9]])), want);
    const src2 = await load('t_dl2', d, permutation(4000, 99));
    assert.deepEqual(asText(await delongOnDuckdb(src2, 7)), want);
  });

  it('DeLong sums equal the engine on ties only, float32 scores, one positive and near-identical models, and finish to the local test', async () => {
    const base = data(3000, 'dl-ties', { float32: true });
    const tied: Data = { ...base, scores: base.scores.map((s) => Float32Array.from(s, (x) => Math.round(x * 4) / 4)) };
    const near: Data = { ...base, scores: [base.scores[0], Float32Array.from(base.scores[0], (x, i) => (i === 17 ? x + 0.125 : x))] };
    const onePos: Data = { ...base, labels: Uint8Array.from(base.labels, (_, i) => (i === 5 ? 1 : 0)) };
    for (const [name, d] of Object.entries({ tied, float32: base, near, onePos })) {
      const src = await load(`t_${name}`, d, permutation(3000, 5));
      const sums = await delongOnDuckdb(src, 7);
      assert.deepEqual(asText(sums), asText(delongSumsOf(d.labels, d.scores)), name);
      assert.deepEqual(delongDifferenceFromSums(sums, 1, 0), delongDifference(delongCovariance(d.labels, d.scores), 1, 0), name);
    }
  });

  it('the fingerprint (n, Σy, Σk, Σk·y, Σ⌊s·2^40⌋ per model) equals the values computed in TypeScript, in any row order, float32 and negative scores included', async () => {
    const d = data(3000, 'fingerprint', { float32: true, models: 3 });
    // Keys near the largest allowed (2^40 − 1), and one negative score (the floor goes down).
    d.keys.forEach((_, i) => (d.keys[i] = 2 ** 40 - 1 - i * 7919));
    (d.scores[2] as Float32Array)[11] = -3.25;
    let keySum = 0n;
    let positiveKeySum = 0n;
    let positives = 0;
    const scoreSums = d.scores.map(() => 0n);
    for (let i = 0; i < 3000; i++) {
      keySum += BigInt(d.keys[i]);
      if (d.labels[i] === 1) {
        positives++;
        positiveKeySum += BigInt(d.keys[i]);
      }
      d.scores.forEach((s, m) => (scoreSums[m] += BigInt(Math.floor(s[i] * 2 ** 40))));
    }
    const want = {
      n: 3000,
      positives,
      key_sum: keySum.toString(),
      positive_key_sum: positiveKeySum.toString(),
      score_sum0: scoreSums[0].toString(),
      score_sum1: scoreSums[1].toString(),
      score_sum2: scoreSums[2].toString(),
    };
    for (const seed of [1, 2]) {
      const src = await load(`t_fp${seed}`, d, permutation(3000, seed));
      const [row] = await rows(renderFingerprintSql('duckdb', src));
      assert.deepEqual({ ...row, n: Number(row.n), positives: Number(row.positives) }, want);
    }
  });

  it('the unweighted loss totals (weight, Σy, Σq per model) equal the engine: the keyed bootstrap full-data estimate', async () => {
    const d = data(2500, 'totals', { models: 2 });
    const src = await load('t_tot', d, permutation(2500, 4));
    const losses: SqlLoss[] = ['brier', 'brier'];
    const [row] = await rows(renderLossTotalsSql('duckdb', src, losses));
    const q = d.scores.map((s, m) => fixedPointLosses(rowLosses(losses[m], d.labels, s)));
    const ones = new Uint8Array(2500).fill(1);
    assert.deepEqual(
      { weight: Number(row.weight), positive_weight: Number(row.positive_weight), loss0: row.loss0, loss1: row.loss1 },
      {
        weight: 2500,
        positive_weight: d.labels.reduce((a, y) => a + y, 0),
        loss0: exactWeightedSum(ones, q[0]).toString(),
        loss1: exactWeightedSum(ones, q[1]).toString(),
      },
    );
  });

  it('DECIMAL sums are exact past 2^64 at 10^9-row magnitudes: components near 2^31, products near 2^62', async () => {
    // 2^31 − 1 is the largest component at 10^9 rows (2·max(P, N) < 2^31); a million such products sum to ~2^82.
    const c = 2 ** 31 - 1;
    const got = await rows(
      `SELECT SUM(CAST(CAST(${c} AS BIGINT) * CAST(${c} AS BIGINT) AS DECIMAL(20,0))) AS p, typeof(SUM(CAST(1 AS DECIMAL(20,0)))) AS t FROM range(1000000)`,
    );
    assert.equal(got[0].p, (1_000_000n * BigInt(c) * BigInt(c)).toString());
    assert.equal(got[0].t, 'DECIMAL(38,0)');
    // The generator's limb products stay below 2^49: a BIGINT overflow would raise an error in DuckDB, as under Spark's ANSI mode.
    await assert.rejects(db.run('SELECT CAST(4294967296 AS BIGINT) * CAST(4294967296 AS BIGINT)'), /Overflow/);
  });

  it('renders the Spark dialect: ^ for XOR, div, range id, backticks, VALUES … AS, approx_percentile', () => {
    const src: SqlSource = { table: 'main.eval.preds', key: 'row_id', label: 'label', scores: ['prod', 'cand'] };
    const spark = renderKeyedLossSumsSql('spark', src, 42, ['log_loss', 'brier'], { count: 1000 });
    assert.match(spark, /\(hi \^ \(hi div 1073741824\)\)/);
    assert.match(spark, /CROSS JOIN \(SELECT id AS b FROM range\(1000\)\) AS kp_i/);
    assert.match(spark, /CAST\(`row_id` AS BIGINT\)/);
    assert.doesNotMatch(spark, /xor\(|\/\/|"|>>|<</);
    const duck = renderKeyedLossSumsSql('duckdb', src, 42, ['log_loss', 'brier'], { count: 1000 });
    assert.match(duck, /xor\(hi, \(hi \/\/ 1073741824\)\)/);
    assert.doesNotMatch(duck, /\^|\bdiv\b|`/);
    const redraw = renderKeyedLossSumsSql('spark', src, 42, ['brier', 'brier'], [3, 2 ** 20 + 3]);
    assert.match(redraw, /FROM VALUES \(CAST\(3 AS BIGINT\)\), \(CAST\(1048579 AS BIGINT\)\) AS kp_idx\(b\)/);
    assert.match(renderDelongCutPointsSql('spark', src, 4), /approx_percentile\(s, array\(0.25, 0.5, 0.75\), 10000\)/);
    const offsets = delongBucketOffsets(
      [
        { m: 0, bk: 0, pos: 1, neg: 2 },
        { m: 1, bk: 0, pos: 1, neg: 2 },
      ],
      2,
    );
    assert.match(
      renderDelongSumsSql('spark', src, [[], []], offsets),
      /dl_off AS \(SELECT \* FROM VALUES \(0, 0, 0, 0\), \(1, 0, 0, 0\) AS o\(om, obk, pos_below, neg_below\)\)/,
    );
    assert.throws(
      () => renderKeyedLossSumsSql('spark', { ...src, table: 'x; DROP TABLE y' }, 1, ['brier', 'brier'], { count: 1 }),
      /table name 'x; DROP TABLE y'/,
    );
    assert.throws(() => renderKeyedLossSumsSql('spark', { ...src, key: 'a`b' }, 1, ['brier', 'brier'], { count: 1 }), /column name 'a`b'/);
    assert.throws(() => renderKeyedLossSumsSql('spark', src, 1, ['brier', 'brier'], [2 ** 24]), /generator indices must be/);
  });
});
