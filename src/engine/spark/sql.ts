/**
 * The comparison's cluster side as SQL: one template rendered for Spark SQL and for DuckDB, so the
 * test suite runs the very statements a Spark job would (on DuckDB, through `@duckdb/node-api`) and
 * checks their integers against the engine (docs/scale-out.md).
 *
 * Two computations, both returning integers only (no floating sum, no `rand`, nothing that depends on
 * partitioning or row order):
 * - **Keyed Poisson resample sums** for the mean-type metrics: per generator index b, Σw, Σw·y and per
 *   model Σw·q, with w the keyed Poisson weight (keyed-poisson.ts) and q the fixed-point loss. The
 *   64-bit generator is computed on 32-bit limbs held in BIGINT, with every product below 2^49, because
 *   Spark has no unsigned 64-bit type and a BIGINT overflow throws under ANSI mode (the serverless
 *   default) or wraps without it.
 * - **DeLong's sums** (delong-sums.ts): per model the integer components of every row, from a tie
 *   table with prefix sums per score bucket (bucket totals collected first, so no window spans a whole
 *   model), joined back to the rows, then summed per class as DECIMAL(20,0) (product sums need ~92 bits
 *   at 10^9 rows; Spark types the sum DECIMAL(30,0), DuckDB DECIMAL(38,0)).
 *
 * Dialect differences handled here (Spark SQL reference: spark.apache.org/docs/latest/sql-ref-*.html and
 * Databricks' SQL function reference; DuckDB: duckdb.org/docs/sql): XOR is `a ^ b` in Spark but `xor(a, b)`
 * in DuckDB (where `^` is a power); integer division `a div b` vs `a // b`; the `range(n)` column is `id`
 * vs `range`; identifiers are quoted with backticks vs double quotes; an inline table is `VALUES … AS t(…)`
 * vs `(VALUES …) AS t(…)`; quantiles `approx_percentile` vs `quantile_disc`. Shifts are not used (Spark
 * names them `shiftright`, DuckDB `>>`): multiplications and divisions by powers of two stand in.
 * `floor` of a DOUBLE is BIGINT in Spark but DOUBLE in DuckDB, so it is always cast.
 */
import { KEY_LIMIT, POISSON1_THRESHOLDS, keyedSeed64 } from '../keyed-poisson';
import type { DelongSums } from '../delong-sums';

export type SqlDialect = 'spark' | 'duckdb';

/** The table the SQL reads: one row per evaluation row, a row key, a 0/1 label and one score column per model. */
export interface SqlSource {
  /** Table or view name, inserted as written (`catalog.schema.table` or a temporary view). */
  table: string;
  key: string;
  label: string;
  scores: string[];
}

/** The per-row loss whose fixed-point value is summed. */
export type SqlLoss = 'log_loss' | 'brier';

export interface Dialect {
  xor(a: string, b: string): string;
  div(a: string, b: string | number): string;
  ident(name: string): string;
  /** A table of one BIGINT column `b` holding 0 .. count − 1. */
  range(count: number): string;
  inline(alias: string, columns: string[], rows: (string | number)[][]): string;
  quantiles(expr: string, levels: number[]): string;
}

const SPARK: Dialect = {
  xor: (a, b) => `(${a} ^ ${b})`,
  div: (a, b) => `(${a} div ${b})`,
  ident: (name) => `\`${name}\``,
  range: (count) => `(SELECT id AS b FROM range(${count}))`,
  inline: (alias, columns, rows) => `(SELECT * FROM VALUES ${rows.map((r) => `(${r.join(', ')})`).join(', ')} AS ${alias}(${columns.join(', ')}))`,
  quantiles: (expr, levels) => `approx_percentile(${expr}, array(${levels.join(', ')}), 10000)`,
};

const DUCKDB: Dialect = {
  xor: (a, b) => `xor(${a}, ${b})`,
  div: (a, b) => `(${a} // ${b})`,
  ident: (name) => `"${name}"`,
  range: (count) => `(SELECT range AS b FROM range(${count}))`,
  inline: (alias, columns, rows) => `(SELECT * FROM (VALUES ${rows.map((r) => `(${r.join(', ')})`).join(', ')}) AS ${alias}(${columns.join(', ')}))`,
  quantiles: (expr, levels) => `quantile_disc(${expr}, [${levels.join(', ')}])`,
};

export function dialectOf(d: SqlDialect): Dialect {
  if (d === 'spark') return SPARK;
  if (d === 'duckdb') return DUCKDB;
  throw new RangeError(`unknown SQL dialect '${String(d)}' (expected spark or duckdb)`);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$/;

export function checkSource(src: SqlSource): void {
  if (!TABLE.test(src.table)) throw new RangeError(`table name '${src.table}' must be letters, digits and underscores, up to catalog.schema.table`);
  for (const c of [src.key, src.label, ...src.scores]) {
    if (!IDENT.test(c)) throw new RangeError(`column name '${c}' must be letters, digits and underscores`);
  }
  if (src.scores.length === 0) throw new RangeError('at least one score column is needed');
}

const M32 = 4294967295;
const TWO32 = 4294967296;

/** One CTE: `name AS (SELECT <carry>, <defs> FROM <from>)`. */
function cte(name: string, from: string, carry: string[], defs: [string, string][]): string {
  const cols = [...carry, ...defs.map(([alias, expr]) => `${expr} AS ${alias}`)];
  return `${name} AS (SELECT ${cols.join(', ')} FROM ${from})`;
}

/** x·c mod 2^32 for a 32-bit x and a 32-bit constant c, with products below 2^48. */
function mulmod32(x: string, c: number): string {
  return `(((${x} * ${c & 0xffff}) + ((${x} * ${c >>> 16}) & 65535) * 65536) & ${M32})`;
}

/** CTEs multiplying (hi, lo) of `from` by the 64-bit constant (cHi, cLo) mod 2^64; the last CTE is `${name}b`. */
function mulStages(D: Dialect, name: string, from: string, carry: string[], cHi: number, cLo: number): string[] {
  const al = '(lo & 65535)';
  const ah = D.div('lo', 65536);
  const cl = cLo & 0xffff;
  const ch = cLo >>> 16;
  const a = cte(`${name}a`, from, carry, [
    ['p_ll', `(${al} * ${cl})`],
    ['p_lh', `(${al} * ${ch})`],
    ['p_hl', `(${ah} * ${cl})`],
    ['p_hh', `(${ah} * ${ch})`],
    ['p_m1', mulmod32('lo', cHi)],
    ['p_m2', mulmod32('hi', cLo)],
  ]);
  const mid = `(${D.div('p_ll', 65536)} + (p_lh & 65535) + (p_hl & 65535))`;
  const b = cte(`${name}b`, `${name}a`, carry, [
    ['lo', `((p_ll + ((p_lh + p_hl) & 65535) * 65536) & ${M32})`],
    ['hi', `((p_hh + ${D.div('p_lh', 65536)} + ${D.div('p_hl', 65536)} + ${D.div(mid, 65536)} + p_m1 + p_m2) & ${M32})`],
  ]);
  return [a, b];
}

/** z ^= z >> s on (hi, lo), 0 < s < 32. */
function xorShift(D: Dialect, name: string, from: string, carry: string[], s: number): string {
  return cte(name, from, carry, [
    ['hi', D.xor('hi', D.div('hi', 2 ** s))],
    ['lo', D.xor('lo', `(((hi * ${2 ** (32 - s)}) & ${M32}) + ${D.div('lo', 2 ** s)})`)],
  ]);
}

/**
 * CTEs turning `from` (columns `carry`, which include the BIGINT key `k`) crossed with `indices` (a table
 * of one BIGINT column `b`; without it `from` has its own column `b`) into `kp_w` with columns carry, b,
 * hi, lo (the halves of H), u53 and w, the keyed Poisson weight (keyed-poisson.ts).
 */
export function keyedWeightCtes(dialect: SqlDialect, seed: string | number, from: string, carry: string[], indices?: string): string[] {
  const D = dialectOf(dialect);
  const s = keyedSeed64(seed);
  const c = [...carry, 'b'];
  const b = indices === undefined ? 'b' : 'kp_i.b';
  const out: string[] = [
    cte('kp_x', indices === undefined ? from : `${from} CROSS JOIN ${indices} AS kp_i`, carry, [
      ['b', b],
      ['lo', `(k & ${M32})`],
      ['hi', `(${D.div('k', TWO32)} + ${b} * 256)`],
    ]),
    ...mulStages(D, 'kp_phi', 'kp_x', c, 0x9e3779b9, 0x7f4a7c15),
    cte('kp_add', 'kp_phib', c, [
      ['lo', `((lo + ${s.lo}) & ${M32})`],
      ['hi', `((hi + ${s.hi} + ${D.div(`(lo + ${s.lo})`, TWO32)}) & ${M32})`],
    ]),
    xorShift(D, 'kp_s30', 'kp_add', c, 30),
    ...mulStages(D, 'kp_m1', 'kp_s30', c, 0xbf58476d, 0x1ce4e5b9),
    xorShift(D, 'kp_s27', 'kp_m1b', c, 27),
    ...mulStages(D, 'kp_m2', 'kp_s27', c, 0x94d049bb, 0x133111eb),
    xorShift(D, 'kp_h', 'kp_m2b', c, 31),
  ];
  const cases = POISSON1_THRESHOLDS.map((t, k) => `WHEN u53 < ${t} THEN ${k}`).join(' ');
  out.push(cte('kp_u', 'kp_h', [...c, 'hi', 'lo'], [['u53', `(hi * 2097152 + ${D.div('lo', 2048)})`]]));
  out.push(cte('kp_w', 'kp_u', [...c, 'hi', 'lo', 'u53'], [['w', `CASE ${cases} ELSE ${POISSON1_THRESHOLDS.length} END`]]));
  return out;
}

/** The generator indices to compute: 0 .. count − 1, or an explicit list (redraws use b + a·2^20). */
export type GeneratorIndices = { count: number } | number[];

export function indicesTable(D: Dialect, indices: GeneratorIndices): string {
  if (!Array.isArray(indices)) {
    if (!(Number.isInteger(indices.count) && indices.count >= 1 && indices.count <= 2 ** 24))
      throw new RangeError(`count must be from 1 to 2^24, got ${indices.count}`);
    return D.range(indices.count);
  }
  if (indices.length === 0 || indices.some((b) => !(Number.isInteger(b) && b >= 0 && b < 2 ** 24))) {
    throw new RangeError('generator indices must be a non-empty list of integers from 0 to 2^24 - 1');
  }
  return D.inline(
    'kp_idx',
    ['b'],
    indices.map((b) => [`CAST(${b} AS BIGINT)`]),
  );
}

/**
 * For test vectors: H and the weight of every row of `table` (integer columns k and b), as columns k,
 * b, hi, lo (the 32-bit halves of H), u53 and w, ordered by k and b.
 */
export function renderKeyedHashSql(dialect: SqlDialect, seed: string | number, table: string): string {
  if (!TABLE.test(table)) throw new RangeError(`table name '${table}' must be letters, digits and underscores, up to catalog.schema.table`);
  const ctes = keyedWeightCtes(dialect, seed, `(SELECT CAST(k AS BIGINT) AS k, CAST(b AS BIGINT) AS b FROM ${table}) AS kp_v`, ['k']);
  return `WITH ${ctes.join(',\n')}\nSELECT k, b, hi, lo, u53, w FROM kp_w ORDER BY k, b`;
}

/** The engine's fixed-point loss of one score column, q = ⌊loss · 2^40⌋, as a BIGINT expression (metrics.ts `rowLosses`). */
export function fixedPointLossSql(dialect: SqlDialect, loss: SqlLoss, score: string, label: string): string {
  const D = dialectOf(dialect);
  const p = `CAST(${D.ident(score)} AS DOUBLE)`;
  const y = `CAST(${D.ident(label)} AS DOUBLE)`;
  const one = 'CAST(1 AS DOUBLE)';
  let l: string;
  if (loss === 'brier') l = `((${y} - ${p}) * (${y} - ${p}))`;
  else if (loss === 'log_loss') {
    // The engine's clip at 2^-52 (LOG_LOSS_EPS) and renormalisation, in its order of operations.
    const eps = `(${one} / CAST(4503599627370496 AS DOUBLE))`;
    const pc = `least(greatest(${p}, ${eps}), ${one} - ${eps})`;
    l = `(-ln(CASE WHEN ${y} = ${one} THEN ${pc} ELSE ${one} - ${pc} END / ((${one} - ${pc}) + ${pc})))`;
  } else throw new RangeError(`unknown loss '${String(loss)}' (expected log_loss or brier)`);
  return `CAST(floor(${l} * CAST(1099511627776 AS DOUBLE)) AS BIGINT)`;
}

/** Per row: the key and each model's fixed-point loss (columns k, q0, q1, …), ordered by key. */
export function renderRowLossesSql(dialect: SqlDialect, src: SqlSource, losses: SqlLoss[]): string {
  checkSource(src);
  const D = dialectOf(dialect);
  const qs = src.scores.map((s, m) => `${fixedPointLossSql(dialect, losses[m], s, src.label)} AS q${m}`);
  return `SELECT CAST(${D.ident(src.key)} AS BIGINT) AS k, ${qs.join(', ')} FROM ${src.table} ORDER BY k`;
}

/**
 * The keyed Poisson resample sums of the mean-type metrics, one row per generator index b: columns b,
 * weight (Σw), positive_weight (Σw·y) and loss0, loss1, … (Σw·q per model, DECIMAL). `losses[m]` is the
 * loss of `src.scores[m]`. Finish with `meanFromFixedPoint` (keyed-poisson.ts).
 */
export function renderKeyedLossSumsSql(dialect: SqlDialect, src: SqlSource, seed: string | number, losses: SqlLoss[], indices: GeneratorIndices): string {
  checkSource(src);
  if (losses.length !== src.scores.length) throw new RangeError(`${src.scores.length} score columns need ${src.scores.length} losses, got ${losses.length}`);
  const D = dialectOf(dialect);
  const qs = src.scores.map((_, m) => `q${m}`);
  const rows = `kp_rows AS (SELECT CAST(${D.ident(src.key)} AS BIGINT) AS k, CAST(${D.ident(src.label)} AS BIGINT) AS y, ${src.scores
    .map((s, m) => `${fixedPointLossSql(dialect, losses[m], s, src.label)} AS q${m}`)
    .join(', ')} FROM ${src.table})`;
  const ctes = [rows, ...keyedWeightCtes(dialect, seed, 'kp_rows', ['k', 'y', ...qs], indicesTable(D, indices))];
  const sums = qs.map((q, m) => `SUM(CAST(w * ${q} AS DECIMAL(20,0))) AS loss${m}`);
  return `WITH ${ctes.join(',\n')}\nSELECT b, SUM(w) AS weight, SUM(w * y) AS positive_weight, ${sums.join(', ')} FROM kp_w GROUP BY b ORDER BY b`;
}

/** A key check the SQL cannot express cheaply elsewhere: keys in [0, 2^40) and distinct (one row per violation kind). */
export function renderRowKeyCheckSql(dialect: SqlDialect, src: SqlSource): string {
  checkSource(src);
  const D = dialectOf(dialect);
  const k = D.ident(src.key);
  return `SELECT COUNT(*) AS n, COUNT(DISTINCT ${k}) AS distinct_keys, SUM(CASE WHEN ${k} < 0 OR ${k} >= ${KEY_LIMIT} OR ${k} IS NULL THEN 1 ELSE 0 END) AS out_of_range FROM ${src.table}`;
}

/** The long format (k, y, m, s) of the source, as a CTE named `dl_long`. */
function longCte(D: Dialect, src: SqlSource): string {
  const parts = src.scores.map(
    (s, m) =>
      `SELECT CAST(${D.ident(src.key)} AS BIGINT) AS k, CAST(${D.ident(src.label)} AS BIGINT) AS y, ${m} AS m, CAST(${D.ident(s)} AS DOUBLE) AS s FROM ${src.table}`,
  );
  return `dl_long AS (${parts.join(' UNION ALL ')})`;
}

/** Score cut points per model (at most 1,000 per model): bucket j of model m holds cuts[m][j − 1] ≤ s < cuts[m][j]. */
export type CutPoints = number[][];

function bucketExpr(cuts: CutPoints): string {
  const perModel = cuts.map((c, m) => {
    if (c.length > 1000) throw new RangeError(`model ${m} has ${c.length} cut points; at most 1000`);
    const whens = c.map((x, j) => `WHEN s < CAST('${String(x)}' AS DOUBLE) THEN ${j}`).join(' ');
    return `WHEN m = ${m} THEN ${c.length === 0 ? '0' : `CASE ${whens} ELSE ${c.length} END`}`;
  });
  return `CASE ${perModel.join(' ')} END`;
}

/** Action 1 of DeLong on Spark: approximate score quantiles per model (columns m, cuts), to split the work into buckets. */
export function renderDelongCutPointsSql(dialect: SqlDialect, src: SqlSource, buckets: number): string {
  checkSource(src);
  const D = dialectOf(dialect);
  if (!(Number.isInteger(buckets) && buckets >= 2 && buckets <= 1001)) throw new RangeError(`buckets must be from 2 to 1001, got ${buckets}`);
  const levels = Array.from({ length: buckets - 1 }, (_, j) => String((j + 1) / buckets));
  return `WITH ${longCte(D, src)}\nSELECT m, ${D.quantiles('s', levels.map(Number))} AS cuts FROM dl_long GROUP BY m ORDER BY m`;
}

/** Action 2: rows of each class per (model, bucket) (columns m, bk, pos, neg). */
export function renderDelongBucketTotalsSql(dialect: SqlDialect, src: SqlSource, cuts: CutPoints): string {
  checkSource(src);
  const D = dialectOf(dialect);
  if (cuts.length !== src.scores.length) throw new RangeError(`${src.scores.length} models need ${src.scores.length} cut point lists, got ${cuts.length}`);
  return `WITH ${longCte(D, src)},\ndl_b AS (SELECT k, y, m, s, ${bucketExpr(cuts)} AS bk FROM dl_long)\nSELECT m, bk, SUM(y) AS pos, SUM(1 - y) AS neg FROM dl_b GROUP BY m, bk ORDER BY m, bk`;
}

/** Bucket offsets from action 2's totals: the positives and negatives of every earlier bucket of the same model. */
export interface BucketOffsets {
  positives: number;
  negatives: number;
  /** [m, bk, positives below, negatives below] per non-empty bucket. */
  rows: [number, number, number, number][];
}

/** Exclusive prefix sums of the bucket totals (the driver's step between actions 2 and 3). */
export function delongBucketOffsets(totals: { m: number; bk: number; pos: number; neg: number }[], models: number): BucketOffsets {
  const sorted = [...totals].sort((a, b) => a.m - b.m || a.bk - b.bk);
  const rows: [number, number, number, number][] = [];
  const classTotals = new Array<{ p: number; n: number }>(models).fill({ p: 0, n: 0 }).map(() => ({ p: 0, n: 0 }));
  for (const t of sorted) {
    const acc = classTotals[t.m];
    rows.push([t.m, t.bk, acc.p, acc.n]);
    acc.p += t.pos;
    acc.n += t.neg;
  }
  const { p, n } = classTotals[0];
  if (classTotals.some((c) => c.p !== p || c.n !== n)) throw new RangeError('the bucket totals differ between models; every model must score the same rows');
  return { positives: p, negatives: n, rows };
}

/**
 * Action 3: DeLong's integer sums (delong-sums.ts) in one statement: the tie table per (model, bucket,
 * score), prefix sums within each bucket plus the bucket's offset, each row's component joined back,
 * pivoted per row key, and summed per class. Columns: y, n, a0.. (component sums) and p_r_s (product
 * sums, r ≤ s), DECIMAL. Convert with `delongSumsFromRows`.
 */
export function renderDelongSumsSql(dialect: SqlDialect, src: SqlSource, cuts: CutPoints, offsets: BucketOffsets): string {
  checkSource(src);
  const D = dialectOf(dialect);
  const M = src.scores.length;
  const P = offsets.positives;
  const win = (col: string): string => `COALESCE(SUM(${col}) OVER (PARTITION BY m, bk ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)`;
  const ctes = [
    longCte(D, src),
    `dl_b AS (SELECT k, y, m, s, ${bucketExpr(cuts)} AS bk FROM dl_long)`,
    `dl_ties AS (SELECT m, bk, s, SUM(y) AS gp, SUM(1 - y) AS gn FROM dl_b GROUP BY m, bk, s)`,
    `dl_off AS ${D.inline('o', ['om', 'obk', 'pos_below', 'neg_below'], offsets.rows)}`,
    `dl_run AS (SELECT m, bk, s, gp, gn, ${win('gp')} AS pb, ${win('gn')} AS nb FROM dl_ties)`,
    `dl_grp AS (SELECT r.m, r.s, r.gp, r.gn, o.pos_below + r.pb AS pb, o.neg_below + r.nb AS nb FROM dl_run r JOIN dl_off o ON r.m = o.om AND r.bk = o.obk)`,
    `dl_comp AS (SELECT l.k, l.y, l.m, CASE WHEN l.y = 1 THEN 2 * g.nb + g.gn ELSE 2 * (${P} - g.pb - g.gp) + g.gp END AS c FROM dl_b l JOIN dl_grp g ON l.m = g.m AND l.s = g.s)`,
    `dl_wide AS (SELECT k, y, ${Array.from({ length: M }, (_, m) => `MAX(CASE WHEN m = ${m} THEN c END) AS c${m}`).join(', ')} FROM dl_comp GROUP BY k, y)`,
  ];
  const cols = ['COUNT(*) AS n'];
  for (let r = 0; r < M; r++) cols.push(`SUM(CAST(c${r} AS DECIMAL(20,0))) AS a${r}`);
  for (let r = 0; r < M; r++) for (let s = r; s < M; s++) cols.push(`SUM(CAST(c${r} * c${s} AS DECIMAL(20,0))) AS p_${r}_${s}`);
  return `WITH ${ctes.join(',\n')}\nSELECT y, ${cols.join(', ')} FROM dl_wide GROUP BY y ORDER BY y`;
}

/** Action 3's two rows (y = 0 and y = 1; values as bigint, number or decimal strings) as `DelongSums`. */
export function delongSumsFromRows(rows: Record<string, unknown>[], models: number): DelongSums {
  const byLabel = (y: number): Record<string, unknown> => {
    const row = rows.find((r) => String(r.y) === String(y));
    if (row === undefined) throw new RangeError(`the DeLong sums have no row for label ${y}; both classes are needed`);
    return row;
  };
  const text = (v: unknown): string => {
    const s = String(v);
    if (!/^(0|[1-9][0-9]*)$/.test(s)) throw new RangeError(`a DeLong sum is not a non-negative integer: ${s}`);
    return s;
  };
  const pos = byLabel(1);
  const neg = byLabel(0);
  const products = (row: Record<string, unknown>): string[] => {
    const out: string[] = [];
    for (let r = 0; r < models; r++) for (let s = 0; s < models; s++) out.push(r <= s ? text(row[`p_${r}_${s}`]) : '0');
    return out;
  };
  return {
    positives: Number(text(pos.n)),
    negatives: Number(text(neg.n)),
    positiveSums: Array.from({ length: models }, (_, r) => text(pos[`a${r}`])),
    negativeSums: Array.from({ length: models }, (_, r) => text(neg[`a${r}`])),
    positiveProducts: products(pos),
    negativeProducts: products(neg),
  };
}

/** Σ⌊s · 2^40⌋ of one score column, as a DECIMAL sum (the fingerprint's per-model term). */
function scoreFixedPointSumSql(D: Dialect, score: string): string {
  return `SUM(CAST(CAST(floor(CAST(${D.ident(score)} AS DOUBLE) * CAST(1099511627776 AS DOUBLE)) AS BIGINT) AS DECIMAL(20,0)))`;
}

/**
 * The data fingerprint: exact integers that do not depend on row order or partitioning, so a local replay
 * of a Spark comparison can check that its file holds the same rows. Columns n (rows), positives (Σy),
 * key_sum (Σk), positive_key_sum (Σk·y) and score_sum0, score_sum1, … (Σ⌊s_m · 2^40⌋ per model), DECIMAL
 * where a sum can pass 2^63 (Σk reaches 2^70 at 10^9 rows). Scores must lie in (−2^23, 2^23) so that
 * ⌊s · 2^40⌋ fits a BIGINT.
 */
export function renderFingerprintSql(dialect: SqlDialect, src: SqlSource): string {
  checkSource(src);
  const D = dialectOf(dialect);
  const k = `CAST(${D.ident(src.key)} AS BIGINT)`;
  const y = `CAST(${D.ident(src.label)} AS BIGINT)`;
  const cols = [
    'COUNT(*) AS n',
    `SUM(${y}) AS positives`,
    `SUM(CAST(${k} AS DECIMAL(20,0))) AS key_sum`,
    `SUM(CAST(${k} * ${y} AS DECIMAL(20,0))) AS positive_key_sum`,
    ...src.scores.map((s, m) => `${scoreFixedPointSumSql(D, s)} AS score_sum${m}`),
  ];
  return `SELECT ${cols.join(', ')} FROM ${src.table}`;
}

/**
 * The unweighted totals of the mean-type metrics (the bootstrap's full-data estimate): columns weight (rows),
 * positive_weight (Σy) and loss0, loss1, … (Σq per model, DECIMAL). Finish with `meanFromFixedPoint`.
 */
export function renderLossTotalsSql(dialect: SqlDialect, src: SqlSource, losses: SqlLoss[]): string {
  checkSource(src);
  if (losses.length !== src.scores.length) throw new RangeError(`${src.scores.length} score columns need ${src.scores.length} losses, got ${losses.length}`);
  const D = dialectOf(dialect);
  const sums = src.scores.map((s, m) => `SUM(CAST(${fixedPointLossSql(dialect, losses[m], s, src.label)} AS DECIMAL(20,0))) AS loss${m}`);
  return `SELECT COUNT(*) AS weight, SUM(CAST(${D.ident(src.label)} AS BIGINT)) AS positive_weight, ${sums.join(', ')} FROM ${src.table}`;
}

/**
 * The rank sums of ROC AUC under weights, from a CTE `au_w` of weighted long rows (m, bk, s, b, y, w with
 * w > 0), as the CTEs `au_g` … `au_bk` and a final SELECT: per (m, b) twice the weighted Mann–Whitney U,
 * u2 = Σ_pos w·(2·(negative weight scored below) + negative weight tied), which `aucSums` (metrics.ts)
 * accumulates locally. Tie groups (m, bk, s, b) first, then a running sum of the negative weight in score
 * order within each (m, bk, b) only, so no window spans a whole model; the buckets' own totals are then
 * offset by a window over the small table of (m, b, bucket) totals ordered by bucket (at most 1,001 rows
 * per partition): u2 = Σ_bk (u2 within bk + 2·(positive weight of bk)·(negative weight of earlier buckets)).
 *
 * Bounds at 10^9 rows (a keyed weight is at most 18, `POISSON1_THRESHOLDS`): every weight total is below
 * 1.8·10^10 < 2^35, so gp, gn, the running sums and 2·nb + gn stay far inside BIGINT; the products
 * gp·(2·nb + gn) reach about 6.5·10^20 > 2^63 and are therefore formed as DECIMAL(20,0) × DECIMAL(20,0),
 * typed DECIMAL(38,0) in both (Spark: p1 + p2 + 1 = 41 bounded to 38 at scale 0, `DecimalPrecision` /
 * `DecimalType.adjustPrecisionScale` in apache/spark; DuckDB caps the width at 38). Not DECIMAL(18,0): DuckDB
 * multiplies two DECIMAL(18) in 64 bits and raises an overflow (tested). Sums of DECIMAL(38,0) stay
 * DECIMAL(38,0); u2 ≤ 2·PosW·NegW < 1.7·10^20 needs 68 bits, 21 of the 38 digits.
 */
function rankSumCtes(): string[] {
  const win = (col: string, part: string, order: string): string =>
    `COALESCE(SUM(${col}) OVER (PARTITION BY ${part} ORDER BY ${order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)`;
  const dec = (x: string): string => `CAST(${x} AS DECIMAL(20,0))`;
  return [
    `au_g AS (SELECT m, bk, s, b, SUM(w * y) AS gp, SUM(w * (1 - y)) AS gn FROM au_w GROUP BY m, bk, s, b)`,
    `au_run AS (SELECT m, bk, b, gp, gn, ${win('gn', 'm, bk, b', 's')} AS nb FROM au_g)`,
    `au_in AS (SELECT m, bk, b, SUM(${dec('gp')} * ${dec('2 * nb + gn')}) AS u2, SUM(gp) AS pw, SUM(gn) AS nw FROM au_run GROUP BY m, bk, b)`,
    `au_bk AS (SELECT m, b, u2, pw, nw, ${win('nw', 'm, b', 'bk')} AS off FROM au_in)`,
  ];
}

/** The final SELECT of the rank sums: one row per b with weight, positive_weight and rank0, rank1, … (u2 per model). */
function rankSumSelect(models: number): string {
  const ranks = Array.from(
    { length: models },
    (_, m) => `SUM(CASE WHEN m = ${m} THEN u2 + CAST(pw AS DECIMAL(20,0)) * CAST(2 * off AS DECIMAL(20,0)) END) AS rank${m}`,
  );
  const totals = `SUM(CASE WHEN m = 0 THEN pw + nw ELSE 0 END) AS weight, SUM(CASE WHEN m = 0 THEN pw ELSE 0 END) AS positive_weight`;
  return `SELECT b, ${totals}, ${ranks.join(', ')} FROM au_bk GROUP BY b ORDER BY b`;
}

/** The models as a table of one column `m` (0 .. M − 1), to turn one wide row into M long rows without reading the source again. */
function modelIndexTable(D: Dialect, models: number): string {
  return D.inline(
    'au_mv',
    ['m'],
    Array.from({ length: models }, (_, m) => [m]),
  );
}

/** `au_w` from a CTE `from` with columns k, y, b, w and the score columns s0 …: one row per (row, b, model) with w > 0, bucketed. */
function weightedLongCtes(D: Dialect, from: string, cuts: CutPoints): string[] {
  const M = cuts.length;
  const pick = `CASE ${Array.from({ length: M }, (_, m) => `WHEN au_mi.m = ${m} THEN sc${m}`).join(' ')} END`;
  return [
    `au_l AS (SELECT au_mi.m AS m, b, y, w, ${pick} AS s FROM ${from} CROSS JOIN ${modelIndexTable(D, M)} AS au_mi WHERE w > 0)`,
    `au_w AS (SELECT m, b, y, w, s, ${bucketExpr(cuts)} AS bk FROM au_l)`,
  ];
}

/** The rows as (k, y, sc0 …) with scores as DOUBLE: the ranking metrics' input CTE `au_rows`. */
function rankRowsCte(D: Dialect, src: SqlSource): string {
  const scores = src.scores.map((s, m) => `CAST(${D.ident(s)} AS DOUBLE) AS sc${m}`);
  return `au_rows AS (SELECT CAST(${D.ident(src.key)} AS BIGINT) AS k, CAST(${D.ident(src.label)} AS BIGINT) AS y, ${scores.join(', ')} FROM ${src.table})`;
}

function checkCuts(src: SqlSource, cuts: CutPoints): void {
  if (cuts.length !== src.scores.length) throw new RangeError(`${src.scores.length} models need ${src.scores.length} cut point lists, got ${cuts.length}`);
}

/**
 * ROC AUC under keyed Poisson weights: per generator index b, one row with columns b, weight (Σw),
 * positive_weight (Σw·y) and rank0, rank1, … (u2 per model: twice the weighted Mann–Whitney U, DECIMAL).
 * The resample's AUC is u2 / (2·PosW·NegW), as `aucSums` gives it. `cuts` (e.g. from
 * `renderDelongCutPointsSql`) only split the work: any cut points give the same integers.
 */
export function renderKeyedRankSumsSql(dialect: SqlDialect, src: SqlSource, seed: string | number, cuts: CutPoints, indices: GeneratorIndices): string {
  checkSource(src);
  checkCuts(src, cuts);
  const D = dialectOf(dialect);
  const M = src.scores.length;
  const sc = src.scores.map((_, m) => `sc${m}`);
  const ctes = [
    rankRowsCte(D, src),
    ...keyedWeightCtes(dialect, seed, 'au_rows', ['k', 'y', ...sc], indicesTable(D, indices)),
    ...weightedLongCtes(D, 'kp_w', cuts),
    ...rankSumCtes(),
  ];
  return `WITH ${ctes.join(',\n')}\n${rankSumSelect(M)}`;
}

/**
 * The unweighted rank sums (every row once; the bootstrap's full-data estimate): one row with b = 0,
 * weight (rows), positive_weight (Σy) and rank0, rank1, … (twice each model's Mann–Whitney U).
 */
export function renderRankTotalsSql(dialect: SqlDialect, src: SqlSource, cuts: CutPoints): string {
  checkSource(src);
  checkCuts(src, cuts);
  const D = dialectOf(dialect);
  const M = src.scores.length;
  const sc = src.scores.map((_, m) => `sc${m}`);
  const ctes = [
    rankRowsCte(D, src),
    `au_one AS (SELECT k, y, ${sc.join(', ')}, CAST(0 AS BIGINT) AS b, 1 AS w FROM au_rows)`,
    ...weightedLongCtes(D, 'au_one', cuts),
    ...rankSumCtes(),
  ];
  return `WITH ${ctes.join(',\n')}\n${rankSumSelect(M)}`;
}

/**
 * The fixed-point sums of average precision under weights (keyed-poisson.ts `exactApSum`, docs/keyed-poisson.md),
 * from the CTE `au_w` of weighted long rows, as the CTEs `ap_g` … `ap_t` and a final SELECT: per (m, b)
 * Σ_g pw_g · ⌊TP_g · 2^56 / (TP_g + FP_g)⌋ over the tie groups g in DESCENDING score order, TP_g and FP_g the
 * positive and negative weight at or above the group's score. The tie groups (m, bk, s, b) are those of the
 * rank sums; the running sums run within each (m, bk, b) only (score descending, the group included); each
 * bucket is then offset by the weight of the higher buckets (a window over the small table of bucket totals,
 * bucket descending, the bucket itself excluded) and the offsets are joined back to the groups, because the
 * floor of each group's precision needs that group's own global TP and FP.
 *
 * Integer division: Spark's `a div b` ("Divide expr1 by expr2 ... The result is casted to long", Spark SQL
 * built-in functions reference, `div`; apache/spark `IntegralDivide`, the integral type's `quot`: truncating) and DuckDB's
 * `a // b` (integer division of integers, duckdb.org/docs/sql/functions/numeric) agree on non-negative BIGINT
 * operands: both are the floor. The quotient ⌊TP · 2^56 / D⌋ is formed in two 28-bit digits so that every
 * dividend stays a BIGINT below 2^63: with the total weight below 2^35 (`AP_WEIGHT_LIMIT`; 10^9 rows at the
 * largest weight 18 weigh 1.8·10^10 < 2^34.1), TP · 2^28 < 2^63 and the remainder r < D gives r · 2^28 < 2^63;
 * the quotient q = q1 · 2^28 + q2 ≤ 2^56. The term pw · q < 2^35 · 2^56 = 2^91 is formed as DECIMAL(20,0) ×
 * DECIMAL(20,0), typed DECIMAL(38,0) in both (see `rankSumCtes`), and its sum Σ ≤ P_w · 2^56 < 2^91 < 10^38.
 */
function apSumCtes(D: Dialect): string[] {
  const run = (col: string): string => `SUM(${col}) OVER (PARTITION BY m, bk, b ORDER BY s DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
  const off = (col: string): string => `COALESCE(SUM(${col}) OVER (PARTITION BY m, b ORDER BY bk DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)`;
  const TWO28 = 268435456;
  return [
    `ap_g AS (SELECT m, bk, s, b, SUM(w * y) AS gp, SUM(w * (1 - y)) AS gn FROM au_w GROUP BY m, bk, s, b)`,
    `ap_run AS (SELECT m, bk, b, gp, ${run('gp')} AS tp_in, ${run('gn')} AS fp_in FROM ap_g)`,
    `ap_in AS (SELECT m, bk, b, SUM(gp) AS pw, SUM(gn) AS nw FROM ap_g GROUP BY m, bk, b)`,
    `ap_bk AS (SELECT m, bk, b, pw, nw, ${off('pw')} AS tp_off, ${off('nw')} AS fp_off FROM ap_in)`,
    `ap_pr AS (SELECT ap_run.m AS m, ap_run.b AS b, ap_run.gp AS gp, ap_run.tp_in + ap_bk.tp_off AS tp, ap_run.tp_in + ap_bk.tp_off + ap_run.fp_in + ap_bk.fp_off AS d FROM ap_run JOIN ap_bk ON ap_run.m = ap_bk.m AND ap_run.bk = ap_bk.bk AND ap_run.b = ap_bk.b WHERE ap_run.gp > 0)`,
    `ap_q1 AS (SELECT m, b, gp, d, ${D.div(`tp * ${TWO28}`, 'd')} AS q1, tp * ${TWO28} - ${D.div(`tp * ${TWO28}`, 'd')} * d AS r1 FROM ap_pr)`,
    `ap_t AS (SELECT m, b, CAST(gp AS DECIMAL(20,0)) * CAST(q1 * ${TWO28} + ${D.div(`r1 * ${TWO28}`, 'd')} AS DECIMAL(20,0)) AS t FROM ap_q1)`,
  ];
}

/** The final SELECT of the AP sums: one row per b with weight, positive_weight (from the bucket totals) and ap0, ap1, … */
function apSumSelect(models: number): string {
  const aps = Array.from({ length: models }, (_, m) => `COALESCE(SUM(CASE WHEN ap_t.m = ${m} THEN ap_t.t END), 0) AS ap${m}`);
  const totals = `(SELECT b, SUM(pw + nw) AS weight, SUM(pw) AS positive_weight FROM ap_in WHERE m = 0 GROUP BY b) AS ap_tot`;
  return `SELECT ap_tot.b AS b, MAX(ap_tot.weight) AS weight, MAX(ap_tot.positive_weight) AS positive_weight, ${aps.join(', ')} FROM ${totals} LEFT JOIN ap_t ON ap_t.b = ap_tot.b GROUP BY ap_tot.b ORDER BY ap_tot.b`;
}

/**
 * Average precision under keyed Poisson weights: per generator index b, one row with columns b, weight (Σw),
 * positive_weight (Σw·y) and ap0, ap1, … (per model the fixed-point sum Σ_g pw_g · ⌊TP_g · 2^56 / (TP_g + FP_g)⌋,
 * DECIMAL; see `apSumCtes`). The resample's AP is ap_m / (positive_weight · 2^56), as `apFromFixedPoint` gives
 * it. A generator index whose weights are all zero has no row (as with the rank sums). `cuts` only split the work.
 */
export function renderKeyedApSumsSql(dialect: SqlDialect, src: SqlSource, seed: string | number, cuts: CutPoints, indices: GeneratorIndices): string {
  checkSource(src);
  checkCuts(src, cuts);
  const D = dialectOf(dialect);
  const sc = src.scores.map((_, m) => `sc${m}`);
  const ctes = [
    rankRowsCte(D, src),
    ...keyedWeightCtes(dialect, seed, 'au_rows', ['k', 'y', ...sc], indicesTable(D, indices)),
    ...weightedLongCtes(D, 'kp_w', cuts),
    ...apSumCtes(D),
  ];
  return `WITH ${ctes.join(',\n')}\n${apSumSelect(src.scores.length)}`;
}

/** The unweighted AP sums (every row once; the bootstrap's full-data estimate): one row with b = 0, weight, positive_weight and ap0, ap1, … */
export function renderApTotalsSql(dialect: SqlDialect, src: SqlSource, cuts: CutPoints): string {
  checkSource(src);
  checkCuts(src, cuts);
  const D = dialectOf(dialect);
  const sc = src.scores.map((_, m) => `sc${m}`);
  const ctes = [
    rankRowsCte(D, src),
    `au_one AS (SELECT k, y, ${sc.join(', ')}, CAST(0 AS BIGINT) AS b, 1 AS w FROM au_rows)`,
    ...weightedLongCtes(D, 'au_one', cuts),
    ...apSumCtes(D),
  ];
  return `WITH ${ctes.join(',\n')}\n${apSumSelect(src.scores.length)}`;
}
