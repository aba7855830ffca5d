/**
 * How every number of a comparison is written: the engine's reason sentences, the report (tab, static page,
 * Markdown SVG) and Evaluate's log lines use these functions, so one decision reads the same everywhere.
 * Metric values and differences: 4 decimals (AUC differences that matter are in the third decimal), but
 * for metrics in the label's units (RMSE, MAE) or unbounded ratios (MAPE), whose decimals follow the
 * magnitude (`decimalsFor`). Shares (win rates, levels): percentages with one decimal. Negative numbers
 * take U+2212 (a real minus lines up with "+" in tabular figures, unlike a hyphen); a zero is never signed.
 * Pure: no I/O, no locale of the machine (grouping is always en-US).
 */

/** U+2212, the minus sign of every formatted negative number. */
export const MINUS = '\u2212';

/** A metric value: 4 decimals. */
export function formatMetric(v: number): string {
  return fixed(v, 4);
}

function fixed(v: number, digits: number): string {
  const s = Math.abs(v).toFixed(digits);
  // -0.00004 rounds to "0.0000": never show a sign on a zero.
  return v < 0 && Number(s) !== 0 ? MINUS + s : s;
}

/** A signed difference: "+0.0123", "−0.0040", "0.0000". */
export function formatDelta(v: number): string {
  const s = fixed(v, 4);
  return v > 0 && Number(s) !== 0 ? `+${s}` : s;
}

/** A share as a percentage with one decimal: 0.9735 -> "97.4%". */
export function formatPercent(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

/** An interval as "[0.8123, 0.8456]". */
export function formatInterval(ci: [number, number], format: (v: number) => string = formatMetric): string {
  return `[${format(ci[0])}, ${format(ci[1])}]`;
}

export function formatPValue(p: number): string {
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

export function formatInteger(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

/**
 * Metrics in the label's units (RMSE, MAE) or unbounded ratios (MAPE, a fraction: 0.1 = 10%): their values
 * may be anything from 0.001 to 10^6, so their decimals follow the magnitude (`decimalsFor`). Every other
 * metric is a score in [0, 1] or of order 1 (log loss, R²) and keeps 4 decimals.
 */
const SCALED_METRICS = new Set(['rmse', 'mae', 'mape']);

/** How the values and the (oriented, signed) differences of one metric are written. */
export interface MetricFormat {
  value: (v: number) => string;
  /** A signed difference ("+12.5", "−0.0040"). */
  delta: (v: number) => string;
  /** An unsigned amount of change (an allowance, a tolerance), with the differences' decimals. */
  amount: (v: number) => string;
}

/** 4 decimals below 1; above, about 4 significant digits (3 decimals from 1, 2 from 10, 1 from 100, none from 1000). */
export function decimalsFor(scale: number): number {
  if (!(Number.isFinite(scale) && scale >= 1)) return 4;
  return Math.max(0, 3 - Math.floor(Math.log10(scale)));
}

/** Fixed decimals with thousands separators ("12,345.6"), a true minus, never a signed zero. */
function grouped(v: number, digits: number): string {
  const s = Math.abs(v).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: true });
  return v < 0 && Number(s.replace(/,/g, '')) !== 0 ? MINUS + s : s;
}

function largestAbs(values: readonly number[]): number {
  let m = 0;
  for (const v of values) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m;
}

/** Decimals of a metric's values and differences over a table (4 and 4 but for RMSE, MAE and MAPE, see `decimalsFor`). */
export function metricDecimals(metric: string, values: readonly number[], deltas: readonly number[]): { value: number; delta: number } {
  if (!SCALED_METRICS.has(metric)) return { value: 4, delta: 4 };
  return { value: decimalsFor(largestAbs(values)), delta: decimalsFor(largestAbs(deltas)) };
}

/**
 * The format of one metric over a table or a sentence: `values` and `deltas` are every number of that metric
 * shown together, so they keep one number of decimals. Metrics other than RMSE, MAE and MAPE: `formatMetric`
 * and `formatDelta` (4 decimals).
 */
export function metricFormat(metric: string, values: readonly number[], deltas: readonly number[]): MetricFormat {
  if (!SCALED_METRICS.has(metric)) return { value: formatMetric, delta: formatDelta, amount: formatMetric };
  const { value: vd, delta: dd } = metricDecimals(metric, values, deltas);
  return {
    value: (v) => grouped(v, vd),
    amount: (v) => grouped(v, dd),
    delta: (v) => {
      const s = grouped(v, dd);
      return v > 0 && Number(s.replace(/,/g, '')) !== 0 ? `+${s}` : s;
    },
  };
}
