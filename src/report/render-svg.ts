/**
 * Server-side rendering of a chart (charts.ts) to an SVG string with ECharts' SVG renderer. Kept apart
 * from the option builders so that what only builds options (the tab, the record reader) does not load
 * ECharts, and the Evaluate task loads it only when it writes its summary.
 */
import { escapeXml, FONT, type ChartSpec } from './charts';
import { echarts } from './echarts';

/**
 * The chart rendered server-side by ECharts to one `<svg>` string, marked with `data-chart` (and
 * `data-model` for a delta chart) and an accessible title. No script and no animation.
 */
export function renderChartSvg(spec: ChartSpec): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: spec.width, height: spec.height });
  try {
    chart.setOption(spec.option);
    const svg = chart.renderToSVGString();
    // The font family is set once on the root (SVG inherits it) instead of on every text element.
    const marks = `role="img" aria-label="${escapeXml(spec.title)}" data-chart="${spec.kind}"${spec.model !== undefined ? ` data-model="${escapeXml(spec.model)}"` : ''} font-family="${FONT}"`;
    // Drop what ECharts writes for hover effects and its own hit-testing (a `<style>` of :hover rules, the
    // classes they target, event metadata): a static picture has no pointer, and the markdown summary
    // has a size budget.
    return (
      svg
        .replace(/^<svg /, `<svg ${marks} `)
        .replace(/<style[^>]*>[\s\S]*?<\/style>/g, '')
        .replace(/font-family:[^;"]*;/g, '')
        .replace(/ class="zr\d+-cls-\d+"| pointer-events="visible"| ecmeta_[a-z_]+="[^"]*"/g, '')
        // Invisible hit areas of the legend entries and titles.
        .replace(/<path d="[^"]*"(?: transform="[^"]*")? fill="none"><\/path>|<path [^>]*fill-opacity="0" stroke="[^"]*" stroke-width="0"><\/path>/g, '')
        .replace(/\n/g, '')
    );
  } finally {
    chart.dispose();
  }
}
