/**
 * A small SVG of a decision record for the Evaluate & Promote task's build summary, rendered server-side
 * by ECharts from the same options as the tab's charts: no script, no external reference, fixed colours;
 * under 20 KB so the markdown summary stays light.
 */
import { DARK_PALETTE, deltaChart, LIGHT_PALETTE, metricDistributionChart } from './charts';
import { renderChartSvg } from './render-svg';
import { readEvaluationRecord } from './record';

/** Upper bound of `renderDistributionSvg`'s output, in UTF-16 code units (the text is ASCII but for Δ and a few symbols). */
export const MARKDOWN_SVG_MAX_CHARS = 20_000;

export interface DistributionSvgOptions {
  /** Colours for a light (default) or dark page. */
  theme?: 'light' | 'dark';
  /** Width in px (default 640). */
  width?: number;
}

/**
 * The metric distribution of every model and, when there is a production model, the paired difference of
 * the best candidate against it (with the min Δ line and the win rate), stacked in one `<svg>`.
 * Returns '' when the record holds nothing to draw (no distributions and no intervals).
 * @throws RecordError when the record cannot be read (see `readEvaluationRecord`).
 */
export function renderDistributionSvg(record: unknown, opts: DistributionSvgOptions = {}): string {
  const view = readEvaluationRecord(record);
  const palette = opts.theme === 'dark' ? DARK_PALETTE : LIGHT_PALETTE;
  const width = opts.width ?? 640;
  // Fewer bins, then unshaded curves, when the picture would not fit the budget (many models).
  for (const [bins, areas] of [
    [32, true],
    [24, true],
    [16, true],
    [16, false],
    [10, false],
  ] as const) {
    const metric = metricDistributionChart(view, palette, { width, height: 240, bins, areas });
    if (!metric) return '';
    const focus = view.models.find((m) => m.isBest && m.vsBaseline) ?? view.models.find((m) => m.vsBaseline);
    const delta = focus ? deltaChart(view, focus, palette, { width, height: 200, bins }) : undefined;
    let y = 0;
    let inner = '';
    for (const spec of [metric, delta]) {
      if (!spec) continue;
      inner += renderChartSvg(spec).replace('<svg ', `<svg x="0" y="${y}" `);
      y += spec.height + 8;
    }
    const height = y - 8;
    const out = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="${width}" height="${height}" fill="${palette.surface}"/>${inner}</svg>`;
    if (out.length <= MARKDOWN_SVG_MAX_CHARS) return out;
  }
  // Even 10 unshaded bins per model did not fit (dozens of models): keep the summary small rather than complete.
  return '';
}
