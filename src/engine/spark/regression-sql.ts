/**
 * The cluster side of the keyed Poisson bootstrap of regression RMSE and MAE, as SQL rendered for Spark SQL and
 * DuckDB (the dialect layer and the generator of sql.ts): integers equal to the engine's (keyed-regression.ts).
 *
 * Two actions:
 * 1. `renderRegressionMaxLossSql`: the exact largest per-row loss of each model (`MAX` of DOUBLE is exact in any
 *    order and partitioning). The driver derives each model's scale from it with the engine's rule
 *    (`regressionScaleBits`: s = min(1022, 52 − ⌊log2 max⌋), from the exponent bits, `math.frexp` in Python).
 * 2. `renderKeyedRegressionSumsSql` (per generator index b: Σw and per model Σw·q) and
 *    `renderRegressionLossTotalsSql` (every weight 1), with q = ⌊loss · 2^s⌋ below 2^53.
 * The fingerprint of the regression sums JSON (spark-sums-regression.ts) takes two more: the exact maxima of |y|
 * and |p| (`renderRegressionFingerprintMaxSql`), then Σ trunc(v · 2^t) per column (`renderRegressionFingerprintSql`).
 *
 * The per-row loss is (y − p)·(y − p) or abs(p − y) on DOUBLE: correctly rounded IEEE operations, the same in
 * Spark, DuckDB and V8. A squared error that overflows a double makes the model's maximum +Infinity (DuckDB,
 * tested), and the driver's `regressionScaleBits` refuses a maximum that is not finite, so no sum is computed
 * from it (whatever the engine does with the overflow, an error stops the job too). The scaling is a chain of multiplications (s > 0) or divisions (s < 0) by
 * 2^62 or less, written as BIGINT literals cast to DOUBLE (exact): each step is exact while the value stays
 * normal, and a value that leaves the normal range on the way down is below 1, so the floor is that of the
 * exact product, as in the engine. No `pow`, no decimal rendering of 2^s. `floor` of a DOUBLE is BIGINT in
 * Spark and DOUBLE in DuckDB, so it is cast; below 2^53 both casts are exact. Each w·q is below 18·2^53 < 2^58
 * (BIGINT) and is summed as DECIMAL(20,0): Spark types that sum DECIMAL(30,0), DuckDB DECIMAL(38,0), and
 * 10^9 rows stay below 2^88 < 10^27.
 */
import { REGRESSION_MAX_SCALE_BITS } from '../keyed-regression';
import { checkSource, dialectOf, indicesTable, keyedWeightCtes, type GeneratorIndices, type SqlDialect, type SqlSource } from './sql';

/** The regression losses the keyed SQL computes. */
export type SqlRegressionLoss = 'rmse' | 'mae';

/** Largest factor of one scaling step: 2^62 is still a BIGINT literal. */
const STEP_BITS = 62;

/** The per-row loss of a prediction column as a DOUBLE expression: (y − p)·(y − p) for RMSE, abs(p − y) for MAE. */
export function regressionLossSql(dialect: SqlDialect, loss: SqlRegressionLoss, pred: string, label: string): string {
  const D = dialectOf(dialect);
  const p = `CAST(${D.ident(pred)} AS DOUBLE)`;
  const y = `CAST(${D.ident(label)} AS DOUBLE)`;
  if (loss === 'rmse') return `((${y} - ${p}) * (${y} - ${p}))`;
  if (loss === 'mae') return `abs(${p} - ${y})`;
  throw new RangeError(`unknown regression loss '${String(loss)}' (expected rmse or mae)`);
}

/** ⌊x · 2^s⌋ as a BIGINT expression, by exact steps of at most 2^62 (x a non-negative DOUBLE expression). */
export function scaledFixedPointSql(x: string, s: number): string {
  if (!(Number.isInteger(s) && s >= -REGRESSION_MAX_SCALE_BITS && s <= REGRESSION_MAX_SCALE_BITS)) {
    throw new RangeError(`a scale must be an integer from -${REGRESSION_MAX_SCALE_BITS} to ${REGRESSION_MAX_SCALE_BITS}, got ${String(s)}`);
  }
  let e = x;
  for (let k = Math.abs(s); k > 0; k -= STEP_BITS) {
    e = `(${e} ${s > 0 ? '*' : '/'} CAST(${(2n ** BigInt(Math.min(k, STEP_BITS))).toString()} AS DOUBLE))`;
  }
  return `CAST(floor(${e}) AS BIGINT)`;
}

function checkScales(src: SqlSource, scaleBits: number[]): void {
  if (!Array.isArray(scaleBits) || scaleBits.length !== src.scores.length) {
    throw new RangeError(
      `${src.scores.length} prediction columns need ${src.scores.length} scales, got ${Array.isArray(scaleBits) ? scaleBits.length : 'none'}`,
    );
  }
}

/** Action 1: the row count and the exact largest loss of each model (columns n, max_loss0, max_loss1, …; DOUBLE). */
export function renderRegressionMaxLossSql(dialect: SqlDialect, src: SqlSource, loss: SqlRegressionLoss): string {
  checkSource(src);
  const cols = src.scores.map((p, m) => `MAX(${regressionLossSql(dialect, loss, p, src.label)}) AS max_loss${m}`);
  return `SELECT COUNT(*) AS n, ${cols.join(', ')} FROM ${src.table}`;
}

/** The fixed-point loss columns q0, q1, … of the source (one per model, at its scale). */
function fixedPointColumns(dialect: SqlDialect, src: SqlSource, loss: SqlRegressionLoss, scaleBits: number[]): string[] {
  return src.scores.map((p, m) => `${scaledFixedPointSql(regressionLossSql(dialect, loss, p, src.label), scaleBits[m])} AS q${m}`);
}

/** Per row: the key and each model's fixed-point loss (columns k, q0, q1, …), ordered by key. */
export function renderRegressionRowLossesSql(dialect: SqlDialect, src: SqlSource, loss: SqlRegressionLoss, scaleBits: number[]): string {
  checkSource(src);
  checkScales(src, scaleBits);
  const D = dialectOf(dialect);
  return `SELECT CAST(${D.ident(src.key)} AS BIGINT) AS k, ${fixedPointColumns(dialect, src, loss, scaleBits).join(', ')} FROM ${src.table} ORDER BY k`;
}

/**
 * Action 2: the keyed Poisson resample sums of the regression losses, one row per generator index b: columns b,
 * weight (Σw) and loss0, loss1, … (Σw·q per model, DECIMAL). Finish with `meanFromScaledSum` (keyed-regression.ts).
 */
export function renderKeyedRegressionSumsSql(
  dialect: SqlDialect,
  src: SqlSource,
  seed: string | number,
  loss: SqlRegressionLoss,
  scaleBits: number[],
  indices: GeneratorIndices,
): string {
  checkSource(src);
  checkScales(src, scaleBits);
  const D = dialectOf(dialect);
  const qs = src.scores.map((_, m) => `q${m}`);
  const rows = `kp_rows AS (SELECT CAST(${D.ident(src.key)} AS BIGINT) AS k, ${fixedPointColumns(dialect, src, loss, scaleBits).join(', ')} FROM ${src.table})`;
  const ctes = [rows, ...keyedWeightCtes(dialect, seed, 'kp_rows', ['k', ...qs], indicesTable(D, indices))];
  const sums = qs.map((q, m) => `SUM(CAST(w * ${q} AS DECIMAL(20,0))) AS loss${m}`);
  return `WITH ${ctes.join(',\n')}\nSELECT b, SUM(w) AS weight, ${sums.join(', ')} FROM kp_w GROUP BY b ORDER BY b`;
}

/** The unweighted totals (the full-data estimate): columns weight (rows) and loss0, loss1, … (Σq per model, DECIMAL). */
export function renderRegressionLossTotalsSql(dialect: SqlDialect, src: SqlSource, loss: SqlRegressionLoss, scaleBits: number[]): string {
  checkSource(src);
  checkScales(src, scaleBits);
  const sums = src.scores.map(
    (p, m) => `SUM(CAST(${scaledFixedPointSql(regressionLossSql(dialect, loss, p, src.label), scaleBits[m])} AS DECIMAL(20,0))) AS loss${m}`,
  );
  return `SELECT COUNT(*) AS weight, ${sums.join(', ')} FROM ${src.table}`;
}

/** trunc(x · 2^s) as a BIGINT expression: sign(x) · ⌊|x| · 2^s⌋, so a tiny negative value gives 0, never −1, on every path. */
export function truncatedFixedPointSql(x: string, s: number): string {
  return `CASE WHEN ${x} < 0 THEN -${scaledFixedPointSql(`abs(${x})`, s)} ELSE ${scaledFixedPointSql(x, s)} END`;
}

/**
 * Fingerprint, action 1: the row count, Σk (DECIMAL) and the exact maxima of |y| and of each |p| (columns n, key_sum,
 * max_abs_target, max_abs_prediction0, …). The driver derives each column's scale with `regressionScaleBits`.
 */
export function renderRegressionFingerprintMaxSql(dialect: SqlDialect, src: SqlSource): string {
  checkSource(src);
  const D = dialectOf(dialect);
  const abs = (c: string): string => `abs(CAST(${D.ident(c)} AS DOUBLE))`;
  const cols = [
    'COUNT(*) AS n',
    `SUM(CAST(CAST(${D.ident(src.key)} AS BIGINT) AS DECIMAL(20,0))) AS key_sum`,
    `MAX(${abs(src.label)}) AS max_abs_target`,
    ...src.scores.map((p, m) => `MAX(${abs(p)}) AS max_abs_prediction${m}`),
  ];
  return `SELECT ${cols.join(', ')} FROM ${src.table}`;
}

/** Fingerprint, action 2: Σ trunc(y · 2^t) and Σ trunc(p_m · 2^t_m) (columns target_sum, prediction_sum0, …; DECIMAL). */
export function renderRegressionFingerprintSql(dialect: SqlDialect, src: SqlSource, targetScaleBits: number, predictionScaleBits: number[]): string {
  checkSource(src);
  checkScales(src, predictionScaleBits);
  const D = dialectOf(dialect);
  const sum = (c: string, s: number): string => `SUM(CAST(${truncatedFixedPointSql(`CAST(${D.ident(c)} AS DOUBLE)`, s)} AS DECIMAL(20,0)))`;
  const cols = [`${sum(src.label, targetScaleBits)} AS target_sum`, ...src.scores.map((p, m) => `${sum(p, predictionScaleBits[m])} AS prediction_sum${m}`)];
  return `SELECT ${cols.join(', ')} FROM ${src.table}`;
}
