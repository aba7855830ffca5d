/**
 * Binary test data for the Spark SQL on DuckDB (test/spark): rows with a distinct sparse row key below 2^40, a 0/1
 * label and one score column per model, loaded into a table `k BIGINT, y INTEGER, s0.. DOUBLE` (or FLOAT for
 * float32 scores) in any row order, the shape the notebook's scored Parquet has.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ScoreArray } from '../../src/engine';
import type { SqlSource } from '../../src/engine/spark/sql';
import { simulateModels } from '../engine/simulate';
import { lcg } from './lcg';

export interface KeyedData {
  keys: Float64Array;
  labels: Uint8Array;
  scores: ScoreArray[];
}

/** Loads rows `order` of `d` into table `name`; the source the SQL renderers take. */
export async function loadKeyedTable(db: DuckDBConnection, name: string, d: KeyedData, order: number[]): Promise<SqlSource> {
  const float = d.scores[0] instanceof Float32Array;
  const cols = d.scores.map((_, m) => `s${m} ${float ? 'FLOAT' : 'DOUBLE'}`);
  await db.run(`CREATE OR REPLACE TABLE ${name} (k BIGINT, y INTEGER, ${cols.join(', ')})`);
  const app = await db.createAppender(name);
  for (const i of order) {
    app.appendBigInt(BigInt(d.keys[i]));
    app.appendInteger(d.labels[i]);
    for (const s of d.scores) {
      if (float) app.appendFloat(s[i]);
      else app.appendDouble(s[i]);
    }
    app.endRow();
  }
  app.closeSync();
  return { table: name, key: 'k', label: 'y', scores: d.scores.map((_, m) => `s${m}`) };
}

/** A seeded shuffle of 0 .. n − 1 (Fisher–Yates). */
export function permutation(n: number, seed: number): number[] {
  const rnd = lcg(seed);
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Distinct row keys spread over [0, 2^40): some above 2^32, none in order. */
export const sparseKeys = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => (i * 2654435761 + 977) % 2 ** 40);

/** Binormal scores of two or three correlated models (AUC 0.72, 0.75, 0.78), rounded for ties or float32 when asked. */
export function simulatedKeyedData(n: number, seed: string, opts: { roundTo?: number; float32?: boolean; models?: number } = {}): KeyedData {
  const aucs = [0.72, 0.75, 0.78].slice(0, opts.models ?? 2);
  const { labels, scores } = simulateModels({ n, aucs, rho: 0.6, prevalence: 0.3, seed, ...(opts.roundTo !== undefined ? { roundTo: opts.roundTo } : {}) });
  return { keys: sparseKeys(n), labels, scores: opts.float32 ? scores.map((s) => Float32Array.from(s)) : scores };
}
