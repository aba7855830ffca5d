/**
 * A small, markdown-safe SVG of a decision record for the Evaluate & Promote task's build summary: no
 * script, no style element, no class, no external reference, fixed colours as attributes; under 20 KB.
 */
import { DARK_PALETTE, fixedPainter, LIGHT_PALETTE, renderDeltaChart, renderMetricDistributionChart } from './charts';
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
  const painter = fixedPainter(palette);
  const width = opts.width ?? 640;
  // Fewer bins when the picture would not fit the budget (many models).
  for (const bins of [32, 24, 16, 10]) {
    const metric = renderMetricDistributionChart(view, painter, { width, height: 240, bins });
    if (metric === '') return '';
    const focus = view.models.find((m) => m.isBest && m.vsBaseline) ?? view.models.find((m) => m.vsBaseline);
    const delta = focus ? renderDeltaChart(view, focus, painter, { width, height: 200, bins }) : '';
    const parts = [metric, delta].filter((s) => s !== '');
    let y = 0;
    let inner = '';
    for (const p of parts) {
      const h = Number(/height="(\d+)"/.exec(p)?.[1] ?? 0);
      inner += p.replace('<svg ', `<svg x="0" y="${y}" `);
      y += h + 8;
    }
    const height = y - 8;
    const out = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="${width}" height="${height}" fill="${palette.surface}"/>${inner}</svg>`;
    if (out.length <= MARKDOWN_SVG_MAX_CHARS) return out;
  }
  // Even 10 bins per model did not fit (dozens of models): keep the summary small rather than complete.
  return '';
}
