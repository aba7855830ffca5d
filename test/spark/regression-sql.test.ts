/**
 * The keyed regression SQL (src/engine/spark/regression-sql.ts) on DuckDB through @duckdb/node-api: the exact
 * largest losses and hence the scales, the per-row fixed-point losses, the keyed sums per generator index and
 * the totals must equal the engine's integers (keyed-regression.ts), for any row order and any split of the
 * rows into 1, 7 or 1,000 chunks. The Spark rendering is checked for its spelling only.
 */
import assert from 'node:assert/strict';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  renderKeyedRegressionSumsSql,
  renderRegressionFingerprintMaxSql,
  renderRegressionFingerprintSql,
  renderRegressionLossTotalsSql,
  renderRegressionMaxLossSql,
  renderRegressionRowLossesSql,
  scaledFixedPointSql,
  type SqlRegressionLoss,
} from '../../src/engine/spark/regression-sql';
import type { SqlSource } from '../../src/engine/spark/sql';
import {
  KEYED_POISSON_VERSION,
  SPARK_SUMS_FORMAT,
  compareModels,
  finishRegressionFromSums,
  keyedResampleIndex,
  keyedSeed64Decimal,
  sparkRegressionSumsOf,
  exactWeightedSum53,
  keyedBase,
  keyedRegressionLosses,
  keyedRegressionSums,
  keyedSeed64,
  maxLoss,
  meanFromScaledSum,
  regressionFixedPoint,
  regressionMetricFromMean,
  regressionScaleBits,
  runKeyedRegression,
  type AnyMetric,
  type CompareOptions,
  type RegressionPredictions,
  type RegressionSparkSums,
} from '../../src/engine';
import { lcg } from '../helpers/lcg';
import { duckRows, useDuckDb } from '../helpers/duckdb';

let db: DuckDBConnection;

const rows = (sql: string): Promise<Record<string, unknown>[]> => duckRows(db, sql);

/** Three models around a target of size `scale`; model 2 has one outlier of 10^4·scale. */
function data(n: number, seed: number, scale = 1): RegressionPredictions {
  const rnd = lcg(seed);
  const target = Float64Array.from({ length: n }, () => (rnd() - 0.3) * 100 * scale);
  const col = (noise: number): Float64Array => Float64Array.from(target, (y) => y + (rnd() - 0.5) * noise * scale);
  const outlier = col(5);
  outlier[n >> 1] += 1e4 * scale;
  return {
    n,
    target,
    columns: [
      { name: 's0', scores: col(10) },
      { name: 's1', scores: col(8) },
      { name: 's2', scores: outlier },
    ],
    rowKey: { name: 'k', values: Float64Array.from({ length: n }, (_, i) => (i * 2654435761 + 977) % 2 ** 40) },
  };
}

function permutation(n: number, seed: number): number[] {
  const rnd = lcg(seed);
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Loads rows `order` of `d` into table `name` (k BIGINT, y DOUBLE, s0.. DOUBLE). */
async function load(name: string, d: RegressionPredictions, order: number[]): Promise<SqlSource> {
  await db.run(`CREATE OR REPLACE TABLE ${name} (k BIGINT, y DOUBLE, ${d.columns.map((c) => `${c.name} DOUBLE`).join(', ')})`);
  const app = await db.createAppender(name);
  const keys = d.rowKey!.values as Float64Array;
  for (const i of order) {
    app.appendBigInt(BigInt(keys[i]));
    app.appendDouble(d.target[i]);
    for (const c of d.columns) app.appendDouble(c.scores[i]);
    app.endRow();
  }
  app.closeSync();
  return { table: name, key: 'k', label: 'y', scores: d.columns.map((c) => c.name) };
}

/** The driver's step between the two actions: each model's scale from the exact maximum DuckDB returns. */
async function scalesOnDuckdb(src: SqlSource, loss: SqlRegressionLoss): Promise<{ n: number; max: number[]; scaleBits: number[] }> {
  const [r] = await rows(renderRegressionMaxLossSql('duckdb', src, loss));
  const max = src.scores.map((_, m) => Number(r[`max_loss${m}`]));
  return { n: Number(r.n), max, scaleBits: max.map(regressionScaleBits) };
}

type Sums = { b: number; weight: number; losses: string[] };

function engineSums(d: RegressionPredictions, seed: string, loss: SqlRegressionLoss, indices: number[]): Sums[] {
  const { q } = regressionFixedPoint(
    d,
    d.columns.map((c) => c.name),
    loss,
  );
  const base = keyedBase(keyedSeed64(seed), d.rowKey!.values as Float64Array);
  return indices.map((b) => {
    const s = keyedRegressionSums(base, q, b, new Uint8Array(d.n));
    return { b, weight: s.weight, losses: s.losses.map(String) };
  });
}

function sqlSums(result: Record<string, unknown>[], models: number): Sums[] {
  return result.map((r) => ({
    b: Number(r.b),
    weight: Number(r.weight),
    losses: Array.from({ length: models }, (_, m) => String(r[`loss${m}`])),
  }));
}

describe('keyed regression SQL on DuckDB: integer equality with the engine', function () {
  this.timeout(120_000);

  useDuckDb((c) => (db = c));

  it('the exact largest loss, hence the scale, and every row fixed-point loss equal the engine (sizes 1e-6 to 1e148, an outlier, a perfect model)', async () => {
    const perfect = data(500, 4);
    perfect.columns[1] = { name: 's1', scores: Float64Array.from(perfect.target) };
    const cases: [string, RegressionPredictions][] = [
      ['unit', data(2000, 1)],
      ['tiny', data(800, 2, 1e-6)],
      ['huge', data(800, 3, 1e148)],
      ['perfect', perfect],
    ];
    for (const [what, d] of cases) {
      const src = await load('t_rows', d, permutation(d.n, 9));
      for (const loss of ['rmse', 'mae'] as const) {
        const got = await scalesOnDuckdb(src, loss);
        const names = d.columns.map((c) => c.name);
        const fixed = regressionFixedPoint(d, names, loss);
        assert.equal(got.n, d.n);
        assert.deepEqual(
          got.max,
          d.columns.map((c) => maxLoss(keyedRegressionLosses(loss, d.target, c.scores, c.name))),
          `${what} ${loss}`,
        );
        assert.deepEqual(got.scaleBits, fixed.scaleBits, `${what} ${loss}`);
        const sqlRows = await rows(renderRegressionRowLossesSql('duckdb', src, loss, got.scaleBits));
        const byKey = new Map(sqlRows.map((r) => [Number(r.k), r]));
        const keys = d.rowKey!.values as Float64Array;
        fixed.q.forEach((col, m) => {
          for (let i = 0; i < d.n; i++) assert.equal(Number(byKey.get(keys[i])![`q${m}`]), col[i], `${what} ${loss} model ${m} row ${i}`);
        });
      }
    }
    // The scales span the range: positive, negative (errors of 1e149 square to 1e298) and the cap.
    const huge = regressionFixedPoint(data(800, 3, 1e148), ['s0'], 'rmse').scaleBits[0];
    assert.ok(huge < -900, String(huge));
    assert.equal(regressionFixedPoint(perfect, ['s1'], 'rmse').scaleBits[0], 1022);
  });

  it('keyed sums (Σw, Σw·q per model) equal the engine on 3,000 rows × 3 models × 64 generator indices, and finish to runKeyedRegression', async () => {
    const d = data(3000, 5);
    const src = await load('t_sums', d, [...Array(d.n).keys()]);
    for (const loss of ['rmse', 'mae'] as const) {
      const { scaleBits } = await scalesOnDuckdb(src, loss);
      const got = sqlSums(await rows(renderKeyedRegressionSumsSql('duckdb', src, 'reg-seed', loss, scaleBits, { count: 64 })), 3);
      assert.deepEqual(got, engineSums(d, 'reg-seed', loss, [...Array(64).keys()]));
      const [totals] = await rows(renderRegressionLossTotalsSql('duckdb', src, loss, scaleBits));
      const fixed = regressionFixedPoint(
        d,
        d.columns.map((c) => c.name),
        loss,
      );
      const ones = new Uint8Array(d.n).fill(1);
      assert.equal(Number(totals.weight), d.n);
      fixed.q.forEach((col, m) => assert.equal(String(totals[`loss${m}`]), exactWeightedSum53(ones, col).toString()));
      // Finished as the engine finishes: the same estimates and resample statistics, number for number.
      const run = runKeyedRegression(
        d,
        d.columns.map((c) => c.name),
        loss,
        'reg-seed',
        64,
      );
      const finish = (sum: string, weight: number, m: number): number => regressionMetricFromMean(loss, meanFromScaledSum(BigInt(sum), weight, scaleBits[m]));
      assert.deepEqual(
        d.columns.map((_, m) => finish(String(totals[`loss${m}`]), d.n, m)),
        run.estimates,
      );
      assert.equal(
        run.run.redraws.every((r) => r === 0),
        true,
      );
      got.forEach((g) => d.columns.forEach((_, m) => assert.equal(finish(g.losses[m], g.weight, m), run.run.stats[m * 64 + g.b])));
    }
  });

  it('the same sums for any row order, added up over 1, 7 or 1,000 chunks taken in any order; redraw indices b + a·2^20 too', async () => {
    const d = data(2000, 6, 1e3);
    const indices = [0, 1, 2, 5, 2 ** 20 + 5, 3 * 2 ** 20 + 1];
    const want = engineSums(d, 'chunk-seed', 'rmse', indices);
    const { scaleBits } = await scalesOnDuckdb(await load('t_scale', d, [...Array(d.n).keys()]), 'rmse');
    for (const chunks of [1, 7, 1000]) {
      await load('t_all', d, permutation(d.n, chunks));
      // The scale's maximum is an order-free MAX too: the largest of the chunks' maxima.
      let chunkMax = [0, 0, 0];
      const total = indices.map((b) => ({ b, weight: 0, losses: [0n, 0n, 0n] }));
      for (const c of permutation(chunks, 7 * chunks)) {
        await db.run(`CREATE OR REPLACE VIEW t_chunk AS SELECT * FROM t_all WHERE k % ${chunks} = ${c}`);
        const src = { table: 't_chunk', key: 'k', label: 'y', scores: ['s0', 's1', 's2'] };
        const [mx] = await rows(renderRegressionMaxLossSql('duckdb', src, 'rmse'));
        chunkMax = chunkMax.map((x, m) => (mx[`max_loss${m}`] === null ? x : Math.max(x, Number(mx[`max_loss${m}`]))));
        for (const g of sqlSums(await rows(renderKeyedRegressionSumsSql('duckdb', src, 'chunk-seed', 'rmse', scaleBits, indices)), 3)) {
          const t = total.find((x) => x.b === g.b)!;
          t.weight += g.weight;
          g.losses.forEach((l, m) => (t.losses[m] += BigInt(l)));
        }
      }
      assert.deepEqual(chunkMax.map(regressionScaleBits), scaleBits, `${chunks} chunks`);
      assert.deepEqual(
        total.map((t) => ({ ...t, losses: t.losses.map(String) })),
        want,
        `${chunks} chunks`,
      );
    }
  });

  it('a squared error that overflows a double never reaches the sums: the maximum is +Infinity, the scale refuses it, the engine names the row', async () => {
    const d = data(50, 7);
    (d.columns[0].scores as Float64Array)[3] = 1e155;
    const src = await load('t_over', d, [...Array(d.n).keys()]);
    const [r] = await rows(renderRegressionMaxLossSql('duckdb', src, 'rmse'));
    assert.equal(r.max_loss0, Infinity);
    await assert.rejects(() => scalesOnDuckdb(src, 'rmse'), /the largest loss must be a finite number >= 0, got Infinity/);
    assert.throws(() => regressionFixedPoint(d, ['s0'], 'rmse'), /column 's0' at row 3: the squared error of the prediction 1e\+155/);
    // MAE of the same row is finite and agrees.
    const got = await scalesOnDuckdb(src, 'mae');
    assert.deepEqual(got.scaleBits, regressionFixedPoint(d, ['s0', 's1', 's2'], 'mae').scaleBits);
  });

  it("end to end: the sums JSON assembled from the SQL (scales, fingerprint, draws and redraws) is the engine's, and finishes to the local decision", async () => {
    const tiny: RegressionPredictions = {
      n: 3,
      target: Float64Array.of(1e-300, -2.5, 4e6),
      columns: [
        { name: 's0', scores: Float64Array.of(0, -2, 4.1e6) },
        { name: 's1', scores: Float64Array.of(-1e-310, -2.5, 3.9e6) },
      ],
      rowKey: { name: 'k', values: Float64Array.of(3, 2 ** 40 - 1, 77) },
    };
    for (const [d, B] of [
      [data(1000, 12, 10), 100],
      [tiny, 150],
    ] as [RegressionPredictions, number][]) {
      const src = await load('t_e2e', d, permutation(d.n, 3));
      const models = src.scores;
      for (const metric of ['rmse', 'mae'] as const) {
        const opts: CompareOptions<AnyMetric> = {
          problemType: 'regression',
          metric,
          method: 'bootstrap',
          bootstrap: 'keyedPoisson',
          baseline: models[0],
          resamples: B,
          seed: 'e2e',
          winRate: 0.9,
          minDelta: 0,
          confidence: 0.95,
        };
        const { n, max, scaleBits } = await scalesOnDuckdb(src, metric);
        const [fpMax] = await rows(renderRegressionFingerprintMaxSql('duckdb', src));
        const targetScale = regressionScaleBits(Number(fpMax.max_abs_target));
        const predictionScales = models.map((_, m) => regressionScaleBits(Number(fpMax[`max_abs_prediction${m}`])));
        const [fp] = await rows(renderRegressionFingerprintSql('duckdb', src, targetScale, predictionScales));
        const first = sqlSums(await rows(renderKeyedRegressionSumsSql('duckdb', src, 'e2e', metric, scaleBits, { count: B })), models.length);
        const draws: Sums[] = [];
        for (const g of first) {
          draws.push(g);
          // The driver's redraws: b + a·2^20 until a draw has weight.
          for (let a = 1, last = g; last.weight === 0; a++) {
            [last] = sqlSums(await rows(renderKeyedRegressionSumsSql('duckdb', src, 'e2e', metric, scaleBits, [keyedResampleIndex(g.b, a)])), models.length);
            draws.push(last);
          }
        }
        const [totals] = await rows(renderRegressionLossTotalsSql('duckdb', src, metric, scaleBits));
        const sums: RegressionSparkSums = {
          format: SPARK_SUMS_FORMAT,
          generator: KEYED_POISSON_VERSION,
          problem: 'regression',
          rows: String(n),
          models,
          fingerprint: {
            rows: String(n),
            keySum: String(fpMax.key_sum),
            targetScaleBits: targetScale,
            targetSum: String(fp.target_sum),
            predictionScaleBits: predictionScales,
            predictionSums: models.map((_, m) => String(fp[`prediction_sum${m}`])),
          },
          delong: null,
          bootstrap: {
            metric,
            seed: 'e2e',
            seed64: keyedSeed64Decimal('e2e'),
            resamples: B,
            lossScaleBits: scaleBits,
            maxLosses: max.map((x, m) => String(Math.floor(x * 2 ** scaleBits[m]))),
            full: { weight: String(totals.weight), losses: models.map((_, m) => String(totals[`loss${m}`])) },
            draws: draws.map((g) => ({ b: g.b, weight: String(g.weight), losses: g.losses })),
          },
        };
        assert.deepEqual(sums, sparkRegressionSumsOf(d, models, { metric, seed: 'e2e', resamples: B }), `${d.n} rows ${metric}`);
        const local = compareModels(d, opts);
        assert.deepEqual(finishRegressionFromSums(JSON.parse(JSON.stringify(sums)), models, opts), local);
        if (d.n === 3) assert.ok(local.degenerateResamples > 0, 'the three-row case has redraws');
      }
    }
  });

  it('renders the Spark dialect and the exact scaling chain: steps of 2^62 as BIGINT literals, no pow', () => {
    const src: SqlSource = { table: 'main.eval.preds', key: 'row_id', label: 'label', scores: ['prod', 'cand'] };
    const spark = renderKeyedRegressionSumsSql('spark', src, 42, 'rmse', [-944, 130], { count: 1000 });
    assert.match(spark, /\(hi \^ \(hi div 1073741824\)\)/);
    assert.match(spark, /CROSS JOIN \(SELECT id AS b FROM range\(1000\)\) AS kp_i/);
    assert.match(spark, /\(\(CAST\(`label` AS DOUBLE\) - CAST\(`prod` AS DOUBLE\)\) \* \(CAST\(`label` AS DOUBLE\) - CAST\(`prod` AS DOUBLE\)\)\)/);
    assert.doesNotMatch(spark, /pow|xor\(|\/\/|"/);
    assert.equal(scaledFixedPointSql('x', 0), 'CAST(floor(x) AS BIGINT)');
    assert.equal(scaledFixedPointSql('x', 50), 'CAST(floor((x * CAST(1125899906842624 AS DOUBLE))) AS BIGINT)');
    assert.equal(
      scaledFixedPointSql('x', -130),
      'CAST(floor((((x / CAST(4611686018427387904 AS DOUBLE)) / CAST(4611686018427387904 AS DOUBLE)) / CAST(64 AS DOUBLE))) AS BIGINT)',
    );
    assert.throws(() => scaledFixedPointSql('x', 1023), /a scale must be an integer from -1022 to 1022, got 1023/);
    assert.match(
      renderRegressionMaxLossSql('spark', src, 'mae'),
      /^SELECT COUNT\(\*\) AS n, MAX\(abs\(CAST\(`prod` AS DOUBLE\) - CAST\(`label` AS DOUBLE\)\)\) AS max_loss0, /,
    );
    assert.throws(() => renderKeyedRegressionSumsSql('spark', src, 1, 'rmse', [1], { count: 1 }), /2 prediction columns need 2 scales, got 1/);
    assert.throws(() => renderRegressionMaxLossSql('spark', src, 'r2' as SqlRegressionLoss), /unknown regression loss 'r2' \(expected rmse or mae\)/);
  });
});
