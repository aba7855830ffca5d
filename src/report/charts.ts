/**
 * Charts of a decision record as plain SVG strings.
 *
 * Why hand-written SVG and not a charting library (Chart.js, uPlot): the same two charts must appear in
 * three places: the build results tab, a static HTML report, and the Evaluate task's markdown summary,
 * which allows no script at all. A canvas library covers only the first two and would need a second,
 * different drawing of the same data for the third; SVG strings cover all three with one code path, cost
 * no bundle weight, need no runtime, render identically in headless Chromium, and are plain text that
 * tests can read. Two histograms with threshold lines need no more than a scale, bins and ticks.
 *
 * Colours come from a `Painter`: in the tab and the report they are CSS classes (so the host theme, light
 * or dark, applies); in markdown they are fixed hex values written as attributes, since a markdown
 * renderer strips styles and classes.
 */
import { formatDelta, formatMetric, formatPercent, metricLabel } from './format';
import type { EvaluationView, ModelView } from './record';

export type PaintRole =
  | 'text'
  | 'muted'
  | 'axis'
  | 'grid'
  | 'baseline'
  | 'win'
  | 'loss'
  | 'neutral'
  | 'threshold'
  | 'surface'
  | `series${number}`;

/** Number of distinct candidate colours; further candidates reuse them in order. */
export const SERIES_COLOURS = 6;

export interface Painter {
  /** Attributes (one `class` or `fill`/`stroke` pair) colouring an element. */
  paint(p: { fill?: PaintRole; stroke?: PaintRole }): string;
  /** Attributes set once on the root `<svg>` (fonts). */
  rootAttrs: string;
}

/** Colours through CSS classes `eval-f-<role>` / `eval-s-<role>` defined in the report stylesheet. */
export const cssPainter: Painter = {
  paint({ fill, stroke }) {
    const cls: string[] = [];
    cls.push(fill ? `eval-f-${fill}` : 'eval-f-none');
    if (stroke) cls.push(`eval-s-${stroke}`);
    return `class="${cls.join(' ')}"`;
  },
  rootAttrs: 'class="eval-chart"',
};

export type FixedPalette = Record<'text' | 'muted' | 'axis' | 'grid' | 'baseline' | 'win' | 'loss' | 'neutral' | 'threshold' | 'surface', string> & {
  series: string[];
};

/** Azure DevOps colours (communication blue first), for backgrounds where no stylesheet applies. */
export const LIGHT_PALETTE: FixedPalette = {
  text: '#323130',
  muted: '#605e5c',
  axis: '#8a8886',
  grid: '#edebe9',
  baseline: '#605e5c',
  win: '#107c10',
  loss: '#c4314b',
  neutral: '#a19f9d',
  threshold: '#ca5010',
  surface: '#ffffff',
  series: ['#0078d4', '#8764b8', '#038387', '#c239b3', '#986f0b', '#4f6bed'],
};

export const DARK_PALETTE: FixedPalette = {
  text: '#f3f2f1',
  muted: '#c8c6c4',
  axis: '#a19f9d',
  grid: '#3b3a39',
  baseline: '#c8c6c4',
  win: '#54b054',
  loss: '#f1707b',
  neutral: '#797775',
  threshold: '#f7894a',
  surface: '#252423',
  series: ['#2899f5', '#b696ff', '#4bc2c5', '#ee7ed7', '#e8c05a', '#8ea2ff'],
};

export function fixedPainter(palette: FixedPalette): Painter {
  const colour = (role: PaintRole): string => {
    const m = /^series(\d+)$/.exec(role);
    if (m) return palette.series[Number(m[1]) % palette.series.length];
    return palette[role as keyof Omit<FixedPalette, 'series'>];
  };
  return {
    paint({ fill, stroke }) {
      return `fill="${fill ? colour(fill) : 'none'}"${stroke ? ` stroke="${colour(stroke)}"` : ''}`;
    },
    rootAttrs: `font-family="Segoe UI, -apple-system, BlinkMacSystemFont, Roboto, Helvetica Neue, Arial, sans-serif"`,
  };
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Coordinates rounded to 0.1 px keep the SVG small (the markdown summary has a size budget). */
function r(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** Counts of `values` in `bins` equal bins over [lo, hi]; values outside are clamped into the end bins. */
export function histogram(values: readonly number[], lo: number, hi: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins;
  for (const v of values) {
    let i = w > 0 ? Math.floor((v - lo) / w) : 0;
    if (i < 0) i = 0;
    if (i >= bins) i = bins - 1;
    counts[i]++;
  }
  return counts;
}

/** "Nice" tick values (1, 2, 2.5, 5 × 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): { ticks: number[]; step: number } {
  const span = hi - lo;
  if (!(span > 0)) return { ticks: [lo], step: 0 };
  const raw = span / target;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  // k × step, trimmed to 12 significant digits, so ticks are 0.82 and not 0.8200000000000001.
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return { ticks, step };
}

function tickLabel(v: number, step: number, signed: boolean): string {
  const exp = Math.floor(Math.log10(step) + 1e-9);
  const mantissa = step / Math.pow(10, exp);
  // A 2.5 step needs one more decimal than its exponent says (0.025 -> 3 decimals).
  const decimals = Math.min(8, Math.max(0, -exp + (Math.abs(mantissa - 2.5) < 1e-9 ? 1 : 0)));
  const s = Math.abs(v).toFixed(decimals);
  if (Number(s) === 0) return s;
  if (v < 0) return `\u2212${s}`;
  return signed ? `+${s}` : s;
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

function normalPdf(x: number, mu: number, sd: number): number {
  const z = (x - mu) / sd;
  return Math.exp(-0.5 * z * z) / (sd * Math.sqrt(2 * Math.PI));
}

/** z such that the central `confidence` share of N(0,1) lies in [−z, z] (Acklam's rational approximation). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const rr = q * q;
  return ((((((a[0] * rr + a[1]) * rr + a[2]) * rr + a[3]) * rr + a[4]) * rr + a[5]) * q) / (((((b[0] * rr + b[1]) * rr + b[2]) * rr + b[3]) * rr + b[4]) * rr + 1);
}

/** A model's sampling distribution: the resamples, or a normal curve recovered from its interval. */
type Shape = { kind: 'samples'; values: number[] } | { kind: 'normal'; mean: number; sd: number };

function intervalSd(ci: [number, number], confidence: number | undefined): number {
  const z = normalQuantile(1 - (1 - (confidence ?? 0.95)) / 2);
  return (ci[1] - ci[0]) / (2 * z);
}

function metricShape(m: ModelView, view: EvaluationView): Shape | undefined {
  if (m.distribution && m.distribution.length >= 2) return { kind: 'samples', values: m.distribution };
  if (m.ci && m.ci[1] > m.ci[0]) return { kind: 'normal', mean: m.estimate, sd: intervalSd(m.ci, view.confidence) };
  return undefined;
}

function deltaShape(m: ModelView, view: EvaluationView): Shape | undefined {
  if (m.deltaDistribution && m.deltaDistribution.length >= 2) return { kind: 'samples', values: m.deltaDistribution };
  const vb = m.vsBaseline;
  if (!vb) return undefined;
  if (vb.variance !== undefined && vb.variance > 0) return { kind: 'normal', mean: vb.meanDelta, sd: Math.sqrt(vb.variance) };
  if (vb.deltaCi && vb.deltaCi[1] > vb.deltaCi[0]) return { kind: 'normal', mean: vb.meanDelta, sd: intervalSd(vb.deltaCi, view.confidence) };
  return undefined;
}

function shapeRange(s: Shape): [number, number] {
  if (s.kind === 'normal') return [s.mean - 4 * s.sd, s.mean + 4 * s.sd];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of s.values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Density curve of a shape over [lo, hi] as (x, density) points: histogram steps or a sampled normal. */
function densityPoints(s: Shape, lo: number, hi: number, bins: number): Array<[number, number]> {
  const w = (hi - lo) / bins;
  if (s.kind === 'samples') {
    const counts = histogram(s.values, lo, hi, bins);
    const pts: Array<[number, number]> = [];
    counts.forEach((c, i) => {
      const dens = c / (s.values.length * w);
      pts.push([lo + i * w, dens], [lo + (i + 1) * w, dens]);
    });
    return pts;
  }
  const pts: Array<[number, number]> = [];
  for (let i = 0; i <= bins * 2; i++) {
    const x = lo + (i * (hi - lo)) / (bins * 2);
    pts.push([x, normalPdf(x, s.mean, s.sd)]);
  }
  return pts;
}

function xAxis(f: Frame, x: (v: number) => number, lo: number, hi: number, painter: Painter, signed: boolean, title: string): string {
  const { ticks, step } = niceTicks(lo, hi, Math.max(3, Math.round((f.width - f.left - f.right) / 110)));
  const y0 = f.height - f.bottom;
  let out = `<line x1="${r(f.left)}" y1="${r(y0)}" x2="${r(f.width - f.right)}" y2="${r(y0)}" ${painter.paint({ stroke: 'axis' })} stroke-width="1"/>`;
  for (const t of ticks) {
    const xt = x(t);
    out += `<line x1="${r(xt)}" y1="${r(f.top)}" x2="${r(xt)}" y2="${r(y0)}" ${painter.paint({ stroke: 'grid' })} stroke-width="1"/>`;
    out += `<text x="${r(xt)}" y="${r(y0 + 16)}" text-anchor="middle" font-size="11" ${painter.paint({ fill: 'muted' })}>${tickLabel(t, step, signed)}</text>`;
  }
  out += `<text x="${r((f.left + f.width - f.right) / 2)}" y="${r(f.height - 6)}" text-anchor="middle" font-size="12" ${painter.paint({ fill: 'muted' })}>${escapeXml(title)}</text>`;
  return out;
}

function seriesRole(m: ModelView, candidateIndex: number): PaintRole {
  return m.isBaseline ? 'baseline' : `series${candidateIndex % SERIES_COLOURS}`;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  bins?: number;
}

/**
 * Overlaid densities of each model's metric over the bootstrap resamples (production dashed), or normal
 * curves recovered from the intervals when the record has no resamples (DeLong). Empty string when no
 * model has either.
 */
export function renderMetricDistributionChart(view: EvaluationView, painter: Painter, opts: ChartOptions = {}): string {
  const series: Array<{ m: ModelView; shape: Shape; role: PaintRole }> = [];
  let candidateIndex = 0;
  for (const m of view.models) {
    const shape = metricShape(m, view);
    const role = seriesRole(m, candidateIndex);
    if (!m.isBaseline) candidateIndex++;
    if (shape) series.push({ m, shape, role });
  }
  if (series.length === 0) return '';
  // Production is drawn first so candidates sit on top of it.
  series.sort((a, b) => Number(b.m.isBaseline) - Number(a.m.isBaseline));

  const width = opts.width ?? 720;
  const height = opts.height ?? 300;
  const bins = opts.bins ?? 40;
  // Up to four legend entries per row (the usual production + three candidates fit on one line).
  const perRow = Math.min(4, series.length);
  const legendRows = Math.ceil(series.length / perRow);
  const f: Frame = { width, height, left: 16, right: 16, top: 14 + legendRows * 20, bottom: 44 };
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    const [a, b] = shapeRange(s.shape);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  if (!(hi > lo)) {
    lo -= 0.005;
    hi += 0.005;
  }
  const pad = (hi - lo) * 0.04;
  lo -= pad;
  hi += pad;
  const curves = series.map((s) => ({ ...s, pts: densityPoints(s.shape, lo, hi, bins) }));
  const yMax = Math.max(...curves.flatMap((c) => c.pts.map((p) => p[1]))) * 1.08 || 1;
  const x = scale(lo, hi, f.left, width - f.right);
  const y = scale(0, yMax, height - f.bottom, f.top);
  const label = metricLabel(view.metric);
  const approx = series.some((s) => s.shape.kind === 'normal');

  let body = xAxis(f, x, lo, hi, painter, false, approx ? `${label} (normal approximation from the intervals)` : `${label} over ${view.resamples ?? ''} bootstrap resamples`.replace('  ', ' '));
  for (const c of curves) {
    const line = c.pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${r(x(p[0]))} ${r(y(p[1]))}`).join('');
    const area = `${line}L${r(x(c.pts[c.pts.length - 1][0]))} ${r(y(0))}L${r(x(c.pts[0][0]))} ${r(y(0))}Z`;
    const dash = c.m.isBaseline ? ' stroke-dasharray="5 3"' : '';
    body += `<g data-model="${escapeXml(c.m.name)}"><title>${escapeXml(`${c.m.label}: ${label} ${formatMetric(c.m.estimate)}`)}</title>`;
    body += `<path d="${area}" ${painter.paint({ fill: c.role })} fill-opacity="${c.m.isBaseline ? 0.12 : 0.2}" stroke="none"/>`;
    body += `<path d="${line}" ${painter.paint({ stroke: c.role })} stroke-width="1.6"${dash}/>`;
    // The full-data estimate, where the model actually stands.
    body += `<line x1="${r(x(c.m.estimate))}" y1="${r(y(0))}" x2="${r(x(c.m.estimate))}" y2="${r(y(0) + 6)}" ${painter.paint({ stroke: c.role })} stroke-width="2"/>`;
    body += `</g>`;
  }
  const colW = (width - f.left - f.right) / perRow;
  // Characters that fit beside the swatch at 12px (about 6.6 px per character).
  const maxChars = Math.floor((colW - 36) / 6.6);
  series.forEach((s, i) => {
    const lx = f.left + (i % perRow) * colW;
    const ly = 12 + Math.floor(i / perRow) * 20;
    const dash = s.m.isBaseline ? ' stroke-dasharray="5 3"' : '';
    body += `<line x1="${r(lx)}" y1="${r(ly)}" x2="${r(lx + 22)}" y2="${r(ly)}" ${painter.paint({ stroke: s.role })} stroke-width="3"${dash}/>`;
    const role = s.m.isBaseline ? (/production/i.test(s.m.label) ? '' : ' (production)') : s.m.isBest ? ' (best)' : '';
    body += `<text x="${r(lx + 28)}" y="${r(ly + 4)}" font-size="12" ${painter.paint({ fill: 'text' })}>${escapeXml(truncate(s.m.label, Math.max(6, maxChars - role.length)) + role)}</text>`;
  });
  const title = `Distribution of ${label} for ${series.map((s) => s.m.label).join(', ')}`;
  return svgRoot(width, height, painter, title, body, 'metric-distribution');
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}\u2026` : s;
}

function svgRoot(width: number, height: number, painter: Painter, title: string, body: string, chart: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}" data-chart="${chart}" ${painter.rootAttrs}><title>${escapeXml(title)}</title>${body}</svg>`;
}

/**
 * Histogram of one candidate's paired difference against production (positive = candidate better), bars
 * coloured by where they fall (worse, better but under min Δ, better by at least min Δ), with the zero
 * and min Δ lines, and the win rate written on the chart. Empty string when the candidate has no
 * comparison.
 */
export function renderDeltaChart(view: EvaluationView, m: ModelView, painter: Painter, opts: ChartOptions = {}): string {
  const vb = m.vsBaseline;
  const shape = deltaShape(m, view);
  if (!vb || !shape) return '';
  const width = opts.width ?? 720;
  const height = opts.height ?? 230;
  const bins = opts.bins ?? 40;
  const minDelta = view.minDelta ?? 0;
  const f: Frame = { width, height, left: 16, right: 16, top: 64, bottom: 44 };
  let [lo, hi] = shapeRange(shape);
  lo = Math.min(lo, 0, minDelta);
  hi = Math.max(hi, 0, minDelta);
  if (!(hi > lo)) {
    lo -= 0.005;
    hi += 0.005;
  }
  const pad = (hi - lo) * 0.04;
  lo -= pad;
  hi += pad;
  const x = scale(lo, hi, f.left, width - f.right);
  const zone = (v: number): PaintRole => (v < 0 ? 'loss' : v > minDelta || (minDelta === 0 && v >= 0) ? 'win' : 'neutral');
  let body = xAxis(f, x, lo, hi, painter, true, `${metricLabel(view.metric)} difference vs production (positive = candidate better)`);

  if (shape.kind === 'samples') {
    const counts = histogram(shape.values, lo, hi, bins);
    const w = (hi - lo) / bins;
    const yMax = Math.max(...counts) * 1.08 || 1;
    const y = scale(0, yMax, height - f.bottom, f.top);
    counts.forEach((c, i) => {
      if (c === 0) return;
      const x0 = x(lo + i * w);
      const x1 = x(lo + (i + 1) * w);
      body += `<rect x="${r(x0 + 0.5)}" y="${r(y(c))}" width="${r(Math.max(0.5, x1 - x0 - 1))}" height="${r(y(0) - y(c))}" ${painter.paint({ fill: zone(lo + (i + 0.5) * w) })} fill-opacity="0.85"/>`;
    });
  } else {
    // Normal curve (DeLong): shade each zone under the curve.
    const pts = densityPoints(shape, lo, hi, bins);
    const yMax = Math.max(...pts.map((p) => p[1])) * 1.08 || 1;
    const y = scale(0, yMax, height - f.bottom, f.top);
    for (const [a, b, role] of [[lo, 0, 'loss'], [0, Math.max(0, minDelta), 'neutral'], [Math.max(0, minDelta), hi, 'win']] as Array<[number, number, PaintRole]>) {
      const seg = pts.filter((p) => p[0] >= a && p[0] <= b);
      if (seg.length < 2) continue;
      const d = `M${r(x(seg[0][0]))} ${r(y(0))}${seg.map((p) => `L${r(x(p[0]))} ${r(y(p[1]))}`).join('')}L${r(x(seg[seg.length - 1][0]))} ${r(y(0))}Z`;
      body += `<path d="${d}" ${painter.paint({ fill: role })} fill-opacity="0.7"/>`;
    }
  }
  const y0 = height - f.bottom;
  body += `<line x1="${r(x(0))}" y1="${r(f.top - 6)}" x2="${r(x(0))}" y2="${r(y0)}" ${painter.paint({ stroke: 'text' })} stroke-width="1.2" data-line="zero"/>`;
  if (minDelta !== 0) {
    body += `<line x1="${r(x(minDelta))}" y1="${r(f.top - 6)}" x2="${r(x(minDelta))}" y2="${r(y0)}" ${painter.paint({ stroke: 'threshold' })} stroke-width="1.6" stroke-dasharray="4 3" data-line="min-delta"/>`;
  }
  const anchorRight = x(minDelta) > width / 2;
  body += `<text x="${r(x(minDelta) + (anchorRight ? -4 : 4))}" y="${r(f.top - 10)}" text-anchor="${anchorRight ? 'end' : 'start'}" font-size="11" ${painter.paint({ fill: 'threshold' })} data-label="min-delta">min \u0394 ${formatDelta(minDelta)}</text>`;
  body += `<line x1="${r(x(vb.meanDelta))}" y1="${r(y0)}" x2="${r(x(vb.meanDelta))}" y2="${r(y0 + 6)}" ${painter.paint({ stroke: 'text' })} stroke-width="2.5"/>`;

  // Annotation: the numbers the decision used, written where the eye already is.
  const threshold = view.winRateThreshold !== undefined ? ` (needs \u2265 ${formatPercent(view.winRateThreshold)})` : '';
  body += `<text x="${r(f.left)}" y="18" font-size="13" font-weight="600" ${painter.paint({ fill: 'text' })}>${escapeXml(truncate(m.label, 40))}</text>`;
  body += `<text x="${r(f.left)}" y="36" font-size="12" ${painter.paint({ fill: 'text' })} data-label="win-rate">Win rate ${formatPercent(vb.winRate)}${escapeXml(threshold)}</text>`;
  const above = vb.shareAboveMinDelta !== undefined ? ` \u00b7 \u0394 > min \u0394 in ${formatPercent(vb.shareAboveMinDelta)}` : '';
  body += `<text x="${r(width - f.right)}" y="36" text-anchor="end" font-size="12" ${painter.paint({ fill: 'muted' })} data-label="mean-delta">mean \u0394 ${formatDelta(vb.meanDelta)}${above}</text>`;
  const title = `Paired difference of ${metricLabel(view.metric)}, ${m.label} minus production: win rate ${formatPercent(vb.winRate)}, mean ${formatDelta(vb.meanDelta)}`;
  return svgRoot(width, height, painter, title, body, 'delta-distribution');
}
