/**
 * The two charts of a decision record, as Apache ECharts options (see echarts.ts), and their server-side
 * rendering to SVG strings.
 *
 * One option builder per chart serves three places: the build results tab draws the options live with
 * ECharts (tooltips, resizing, the host's theme); the static HTML report and the Evaluate task's markdown
 * summary embed the same options rendered server-side to SVG (`renderChartSvg` in render-svg.ts), since a
 * markdown summary allows no script. The builders are pure (view + palette in, plain option object out), so tests check
 * the plotted numbers on the option itself and the rendering in a browser.
 */
import type { ChartOption } from './echarts';
import { formatPercent, metricLabel, viewFormat } from './format';
import type { EvaluationView, ModelView } from './record';

/** Number of distinct candidate colours; further candidates reuse them in order. */
export const SERIES_COLOURS = 6;

export type PaletteRole = 'text' | 'muted' | 'axis' | 'grid' | 'baseline' | 'win' | 'loss' | 'neutral' | 'threshold' | 'surface';

export type FixedPalette = Record<PaletteRole, string> & { series: string[] };

/** Azure DevOps colours (communication blue first). */
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

// Kept short: a rendered SVG carries it on its root.
export const FONT = 'Segoe UI, Roboto, Helvetica, Arial, sans-serif';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
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
  return (
    ((((((a[0] * rr + a[1]) * rr + a[2]) * rr + a[3]) * rr + a[4]) * rr + a[5]) * q) / (((((b[0] * rr + b[1]) * rr + b[2]) * rr + b[3]) * rr + b[4]) * rr + 1)
  );
}

/**
 * An axis tick value as text: at most 6 decimals, trailing zeros dropped (ECharts picks "nice" ticks, so
 * 0.825 stays 0.825), a true minus sign, and a plus sign on the signed (difference) axis.
 */
export function tickLabel(v: number, signed: boolean): string {
  const s = Number(Math.abs(v).toFixed(6)).toString();
  if (Number(s) === 0) return '0';
  if (v < 0) return `\u2212${s}`;
  return signed ? `+${s}` : s;
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

/** [lo, hi] widened by 4% each side (and to a small span when empty), so nothing sits on the frame. */
function padded(lo: number, hi: number): [number, number] {
  if (!(hi > lo)) {
    lo -= 0.005;
    hi += 0.005;
  }
  const pad = (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

function normalPdf(x: number, mu: number, sd: number): number {
  const z = (x - mu) / sd;
  return Math.exp(-0.5 * z * z) / (sd * Math.sqrt(2 * Math.PI));
}

/** Coordinates rounded to 7 significant digits keep the rendered SVG and the record-sized options small. */
function q7(v: number): number {
  return Number(v.toPrecision(7));
}

/** Density curve of a shape over [lo, hi] as (x, density) points: histogram steps or a sampled normal. */
function densityPoints(s: Shape, lo: number, hi: number, bins: number): Array<[number, number]> {
  const w = (hi - lo) / bins;
  const pts: Array<[number, number]> = [];
  if (s.kind === 'samples') {
    histogram(s.values, lo, hi, bins).forEach((c, i) => {
      const dens = q7(c / (s.values.length * w));
      pts.push([q7(lo + i * w), dens], [q7(lo + (i + 1) * w), dens]);
    });
    return pts;
  }
  for (let i = 0; i <= bins * 2; i++) {
    const x = lo + (i * (hi - lo)) / (bins * 2);
    pts.push([q7(x), q7(normalPdf(x, s.mean, s.sd))]);
  }
  return pts;
}

/** A histogram of `values` in `bins` equal bins over [lo, hi] as a step curve of counts (two points a bin). */
function countPoints(values: readonly number[], lo: number, hi: number, bins: number): Array<[number, number]> {
  const w = (hi - lo) / bins;
  const pts: Array<[number, number]> = [];
  histogram(values, lo, hi, bins).forEach((c, i) => pts.push([q7(lo + i * w), c], [q7(lo + (i + 1) * w), c]));
  return pts;
}

/**
 * The x range every paired-difference panel of a record shares: all candidates' differences, 0 and
 * min Δ, padded. One scale for all panels, so a narrow distribution near 0 is not drawn as wide as a
 * broad one far from it. Undefined when no candidate has a comparison to draw.
 */
export function deltaAxisRange(view: EvaluationView): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of view.models) {
    const shape = m.vsBaseline ? deltaShape(m, view) : undefined;
    if (!shape) continue;
    const [a, b] = shapeRange(shape);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  if (lo === Infinity) return undefined;
  const minDelta = view.minDelta ?? 0;
  return padded(Math.min(lo, 0, minDelta), Math.max(hi, 0, minDelta));
}

/** Which colour zones the paired-difference charts of a record actually show (the legend lists only those). */
export function deltaZonesShown(view: EvaluationView): { worse: boolean; notWin: boolean; win: boolean } {
  const minDelta = view.minDelta ?? 0;
  const zones = { worse: false, notWin: false, win: false };
  for (const m of view.models) {
    const shape = m.vsBaseline ? deltaShape(m, view) : undefined;
    if (!shape) continue;
    if (shape.kind === 'samples') {
      for (const v of shape.values) {
        if (v > minDelta) zones.win = true;
        else if (v < 0) zones.worse = true;
        else zones.notWin = true;
      }
    } else {
      const [a, b] = shapeRange(shape);
      zones.worse ||= a < 0;
      zones.win ||= b > minDelta;
      // A continuous curve has mass between 0 and min Δ only when that zone has a width.
      zones.notWin ||= minDelta > 0 && a < minDelta && b > 0;
    }
  }
  return zones;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}\u2026` : s;
}

/** A chart ready to draw: the ECharts option and the size it was laid out for. */
export interface ChartSpec {
  kind: 'metric-distribution' | 'delta-distribution';
  /** The model a delta chart belongs to (its record name); undefined for the metric chart. */
  model?: string;
  width: number;
  height: number;
  /** One sentence describing the chart (ARIA label, SVG title). */
  title: string;
  option: ChartOption;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  bins?: number;
  /** Shade the area under each metric curve and mark each estimate (default true; the markdown summary drops both for many models to stay small). */
  areas?: boolean;
}

function baseOption(palette: FixedPalette, title: string): ChartOption {
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { fontFamily: FONT, color: palette.text },
    aria: { enabled: true, label: { description: title } },
    tooltip: { trigger: 'item', confine: true, textStyle: { fontFamily: FONT, fontSize: 12 } },
  };
}

function valueAxis(palette: FixedPalette, lo: number, hi: number, name: string, signed: boolean, width: number): object {
  return {
    type: 'value',
    min: lo,
    max: hi,
    scale: true,
    splitNumber: Math.max(3, Math.round(width / 110)),
    name,
    nameLocation: 'middle',
    nameGap: 26,
    nameTextStyle: { color: palette.muted, fontSize: 12 },
    axisLine: { show: true, lineStyle: { color: palette.axis } },
    axisTick: { show: false },
    splitLine: { show: true, lineStyle: { color: palette.grid } },
    // ECharts also labels the padded ends (min/max); only its "nice" ticks are meaningful.
    axisLabel: { color: palette.muted, fontSize: 11, showMinLabel: false, showMaxLabel: false, formatter: (v: number) => tickLabel(v, signed) },
  };
}

/** The count axis on the left of a histogram (the number of resamples in each bin), or the density of a normal curve. */
function countAxis(palette: FixedPalette, max: number, name: string): object {
  return {
    type: 'value',
    min: 0,
    max,
    splitNumber: 4,
    name,
    nameLocation: 'middle',
    nameGap: 40,
    nameRotate: 90,
    nameTextStyle: { color: palette.muted, fontSize: 11 },
    axisLine: { show: true, lineStyle: { color: palette.axis } },
    axisTick: { show: false },
    splitLine: { show: false },
    // The padded top (max) is not a "nice" tick.
    axisLabel: { color: palette.muted, fontSize: 11, showMaxLabel: false, formatter: (v: number) => tickLabel(v, false) },
  };
}

/** Left margin that leaves room for the count axis' labels and its name. */
const COUNT_AXIS_MARGIN = 56;

/** Bins over [lo, hi] in which the narrowest (padded) distribution spans about half of `bins`; between `bins` and twice `bins`. */
function sharedBinCount(series: Array<{ shape: Shape }>, lo: number, hi: number, bins: number): number {
  let narrowest = hi - lo;
  for (const s of series) {
    const [a, b] = padded(...shapeRange(s.shape));
    narrowest = Math.min(narrowest, b - a);
  }
  return Math.min(bins * 2, Math.max(bins, Math.ceil((bins * (hi - lo)) / (2 * narrowest))));
}

/** Names a model's legend entry with its role; a name given before gets ` #2`, ` #3`…: legend entries must be unique, and two runs may carry the same run name. */
function uniqueLegendNames(): (m: ModelView) => string {
  const seen = new Map<string, number>();
  return (m) => {
    const role = m.isBaseline ? (/production/i.test(m.label) ? '' : ' (production)') : m.isBest ? ' (best)' : '';
    const base = truncate(m.label, 40) + role;
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    return k === 1 ? base : `${base} #${k}`;
  };
}

/**
 * Overlaid densities of each model's metric over the bootstrap resamples (production dashed), or normal
 * curves recovered from the intervals when the record has no resamples (DeLong), with a short mark at
 * each model's full-data estimate. Undefined when no model has either.
 */
/** Each model with a drawable metric distribution and its colour, production first so candidates sit on top of it. */
function metricSeries(view: EvaluationView, palette: FixedPalette): Array<{ m: ModelView; shape: Shape; colour: string }> {
  const series: Array<{ m: ModelView; shape: Shape; colour: string }> = [];
  let candidateIndex = 0;
  for (const m of view.models) {
    const shape = metricShape(m, view);
    const colour = m.isBaseline ? palette.baseline : palette.series[candidateIndex % SERIES_COLOURS];
    if (!m.isBaseline) candidateIndex++;
    if (shape) series.push({ m, shape, colour });
  }
  series.sort((a, b) => Number(b.m.isBaseline) - Number(a.m.isBaseline));
  return series;
}

export function metricDistributionChart(view: EvaluationView, palette: FixedPalette, opts: ChartOptions = {}): ChartSpec | undefined {
  const series = metricSeries(view, palette);
  if (series.length === 0) return undefined;

  const width = opts.width ?? 720;
  const height = opts.height ?? 300;
  const bins = opts.bins ?? 40;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    const [a, b] = shapeRange(s.shape);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  [lo, hi] = padded(lo, hi);
  const label = metricLabel(view.metric);
  const formatValue = viewFormat(view).value;
  const approx = series.some((s) => s.shape.kind === 'normal');
  // Resamples are counted in bins shared by every model, so the count axis means the same for all of
  // them. The bins are made fine enough that the narrowest distribution still spans about half of `bins`
  // (models far apart on the axis would otherwise show as spikes), between `bins` and twice `bins` in all.
  const sharedBins = sharedBinCount(series, lo, hi, bins);
  const binWidth = (hi - lo) / sharedBins;
  // Without resamples (DeLong) the curves are normal densities, each drawn over its own range; a record
  // that mixes both is drawn as densities throughout, so one axis holds one kind of number.
  const curves = series.map((s) => ({
    ...s,
    pts: approx ? densityPoints(s.shape, ...padded(...shapeRange(s.shape)), bins) : countPoints((s.shape as { values: number[] }).values, lo, hi, sharedBins),
  }));
  const yMax = Math.max(...curves.flatMap((c) => c.pts.map((p) => p[1]))) * 1.08 || 1;
  const yName = approx ? 'density' : `resamples per ${tickLabel(Number(binWidth.toPrecision(2)), false)}`;
  const axisName = approx
    ? `${label} (normal approximation from the intervals)`
    : `${label} over ${view.resamples !== undefined ? `${view.resamples} ` : ''}bootstrap resamples`;

  const legendName = uniqueLegendNames();
  const perRow = Math.min(4, series.length);
  const legendRows = Math.ceil(series.length / perRow);
  const title = `Distribution of ${label} for ${series.map((s) => s.m.label).join(', ')}`;

  const option: ChartOption = {
    ...baseOption(palette, title),
    legend: {
      top: 6,
      left: 16,
      right: 16,
      icon: 'rect',
      itemWidth: 18,
      itemHeight: 8,
      itemGap: 18,
      textStyle: { color: palette.text, fontSize: 12 },
      // Clicking a name hides that model: useful when several candidates overlap.
      selectedMode: true,
    },
    grid: { left: COUNT_AXIS_MARGIN, right: 16, top: 16 + legendRows * 22, bottom: 44, containLabel: false },
    xAxis: valueAxis(palette, lo, hi, axisName, false, width - COUNT_AXIS_MARGIN),
    yAxis: countAxis(palette, yMax, yName),
    series: curves.map((c) => ({
      type: 'line',
      id: c.m.name,
      name: legendName(c.m),
      data: c.pts,
      showSymbol: false,
      symbol: 'none',
      color: c.colour,
      lineStyle: { color: c.colour, width: 1.6, type: c.m.isBaseline ? [5, 3] : 'solid' },
      areaStyle: opts.areas === false ? undefined : { color: c.colour, opacity: c.m.isBaseline ? 0.12 : 0.2 },
      tooltip: { formatter: `${escapeXml(c.m.label)}<br/>${escapeXml(label)} ${formatValue(c.m.estimate)} on the full data` },
      // The full-data estimate, where the model actually stands: a line from the axis to near the top,
      // ending in a dot, in the model's colour.
      markLine:
        opts.areas === false
          ? undefined
          : {
              silent: true,
              symbol: ['none', 'circle'],
              symbolSize: 7,
              label: { show: false },
              lineStyle: { color: c.colour, width: 2, type: 'solid', opacity: 0.95 },
              data: [[{ coord: [c.m.estimate, 0] }, { coord: [c.m.estimate, yMax * 0.92] }]],
            },
    })),
  };
  return { kind: 'metric-distribution', width, height, title, option };
}

/**
 * The zero and min Δ lines, and a tick at the mean difference, on an invisible carrier series so they
 * exist whatever the shape. (Explicit coordinate pairs: the `{ xAxis: v }` shorthand placed lines off
 * their value on a line series over two value axes.)
 */
function deltaMarks(palette: FixedPalette, meanDelta: number, minDelta: number, yMax: number, formatDelta: (v: number) => string): object {
  const vertical = (x: number, top: number, lineStyle: object, label: object = { show: false }): object[] => [
    { coord: [x, 0], lineStyle, label },
    { coord: [x, top] },
  ];
  const lines: object[] = [
    vertical(0, yMax, { color: palette.text, width: 1.2, type: 'solid' }),
    vertical(
      meanDelta,
      yMax * 0.55,
      { color: palette.text, width: 2.5, type: 'solid' },
      { show: true, position: 'end', formatter: 'mean', color: palette.text, fontSize: 11, backgroundColor: palette.surface, padding: [1, 3] },
    ),
  ];
  if (minDelta !== 0) {
    lines.push(
      vertical(
        minDelta,
        yMax,
        { color: palette.threshold, width: 1.6, type: [4, 3] },
        {
          show: true,
          position: 'end',
          formatter: `min \u0394 ${formatDelta(minDelta)}`,
          color: palette.threshold,
          fontSize: 11,
        },
      ),
    );
  }
  return { type: 'line', id: 'marks', name: 'marks', data: [], silent: true, color: palette.text, markLine: { silent: true, symbol: 'none', data: lines } };
}

/** The normal curve of a DeLong record, each zone (worse, not a win, a win) shaded under it; returns the y-axis top. */
function densityZones(shape: Shape, lo: number, hi: number, bins: number, minDelta: number, palette: FixedPalette, series: object[]): number {
  const pts = densityPoints(shape, lo, hi, bins);
  const zones: Array<[number, number, string, string]> = [
    [lo, 0, palette.loss, 'worse'],
    [0, Math.max(0, minDelta), palette.neutral, 'not a win (at most min \u0394)'],
    [Math.max(0, minDelta), hi, palette.win, 'a win (above min \u0394)'],
  ];
  for (const [a, b, colour, name] of zones) {
    const seg = pts.filter((p) => p[0] >= a && p[0] <= b);
    if (seg.length < 2) continue;
    series.push({
      type: 'line',
      name,
      data: seg,
      showSymbol: false,
      symbol: 'none',
      silent: true,
      lineStyle: { width: 0 },
      areaStyle: { color: colour, opacity: 0.7 },
    });
  }
  return Math.max(...pts.map((p) => p[1])) * 1.08 || 1;
}

/**
 * Histogram of one candidate's paired difference against production (positive = candidate better), bars
 * coloured by where they fall (worse, better but under min Δ, better by at least min Δ), with the zero
 * and min Δ lines, and the win rate written above. Undefined when the candidate has no comparison.
 */
export function deltaChart(view: EvaluationView, m: ModelView, palette: FixedPalette, opts: ChartOptions = {}): ChartSpec | undefined {
  const vb = m.vsBaseline;
  const shape = deltaShape(m, view);
  if (!vb || !shape) return undefined;
  const width = opts.width ?? 720;
  const height = opts.height ?? 230;
  const bins = opts.bins ?? 40;
  const minDelta = view.minDelta ?? 0;
  const formatDelta = viewFormat(view).delta;
  const [min, max] = shapeRange(shape);
  // The axis is the one all panels of the record share (always showing 0 and min Δ); the bins cover the
  // differences themselves, so a distribution far from 0 keeps its shape instead of falling into a few
  // wide bars (bars at least ~3 px wide, and at least 8 of them).
  const [lo, hi] = deltaAxisRange(view) ?? padded(Math.min(min, 0, minDelta), Math.max(max, 0, minDelta));
  const [binLo, binHi] = padded(min, max);
  const plotWidth = width - COUNT_AXIS_MARGIN - 16;
  const binsShown = Math.min(bins, Math.max(8, Math.floor((plotWidth * (binHi - binLo)) / (hi - lo) / 3)));
  const w = (binHi - binLo) / binsShown;
  // A win is an improvement strictly above min Δ (ties are not wins): only those bars are green.
  const zoneColour = (v: number): string => (v > minDelta ? palette.win : v < 0 ? palette.loss : palette.neutral);

  const series: object[] = [];
  let yMax: number;
  let yName = 'resamples';
  if (shape.kind === 'samples') {
    const counts = histogram(shape.values, binLo, binHi, binsShown);
    yMax = Math.max(...counts) * 1.08 || 1;
    const total = shape.values.length;
    series.push({
      type: 'bar',
      id: 'delta',
      name: 'paired difference',
      barWidth: Math.max(0.5, (plotWidth * w) / (hi - lo) - 1),
      // Empty bins are left out: a zero-height bar still costs an element.
      data: counts.flatMap((c, i) => {
        if (c === 0) return [];
        const centre = binLo + (i + 0.5) * w;
        return [{ value: [q7(centre), c], itemStyle: { color: zoneColour(centre), opacity: 0.85 } }];
      }),
      tooltip: {
        formatter: (p: { value: [number, number] }) =>
          `\u0394 ${formatDelta(p.value[0] - w / 2)} to ${formatDelta(p.value[0] + w / 2)}: ${p.value[1]} of ${total} resamples`,
      },
    });
  } else {
    yMax = densityZones(shape, lo, hi, bins, minDelta, palette, series);
    yName = 'density';
  }
  series.push(deltaMarks(palette, vb.meanDelta, minDelta, yMax, formatDelta));

  const threshold = view.winRateThreshold !== undefined ? ` (needs \u2265 ${formatPercent(view.winRateThreshold)})` : '';
  // The gate's interval: the one-sided lower bound at the win-rate level (promotion needs it above min Δ).
  const gate =
    vb.gateBound !== undefined && view.winRateThreshold !== undefined
      ? ` \u00b7 lower ${formatPercent(view.winRateThreshold)} bound ${formatDelta(vb.gateBound)}`
      : '';
  // Oriented so that positive is better: for a lower-is-better metric the difference is production's value minus the candidate's.
  const difference = view.higherIsBetter ? `${m.label} minus production` : `production minus ${m.label}`;
  const title = `Paired difference of ${metricLabel(view.metric)}, ${difference}: win rate ${formatPercent(vb.winRate)}, mean ${formatDelta(vb.meanDelta)}`;
  const option: ChartOption = {
    ...baseOption(palette, title),
    title: [
      { text: truncate(m.label, 40), left: 16, top: 4, textStyle: { color: palette.text, fontSize: 13, fontWeight: 600 } },
      { text: `Win rate ${formatPercent(vb.winRate)}${threshold}`, left: 16, top: 24, textStyle: { color: palette.text, fontSize: 12, fontWeight: 'normal' } },
      { text: `mean \u0394 ${formatDelta(vb.meanDelta)}${gate}`, right: 16, top: 24, textStyle: { color: palette.muted, fontSize: 12, fontWeight: 'normal' } },
    ],
    grid: { left: COUNT_AXIS_MARGIN, right: 16, top: 64, bottom: 44, containLabel: false },
    xAxis: valueAxis(palette, lo, hi, `${metricLabel(view.metric)} difference vs production (positive = candidate better)`, true, width - COUNT_AXIS_MARGIN),
    yAxis: countAxis(palette, yMax, yName),
    series,
  };
  return { kind: 'delta-distribution', model: m.name, width, height, title, option };
}
