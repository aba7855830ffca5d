/**
 * Apache ECharts, reduced to what the report draws (line and bar series, axes, legend, titles, marker
 * lines, tooltips, ARIA) with the SVG renderer only. Importing through `echarts/core` lets esbuild leave
 * the rest of the library (maps, 3-D, canvas renderer, ...) out of the task and tab bundles.
 *
 * The SVG renderer is the one both places need: in Node it renders server-side to an SVG string (the
 * static report and the task's markdown summary); in the build results tab it draws live, interactive
 * charts from the same option objects.
 */
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, AriaComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, SVGRenderer]);

export { echarts };
export type { EChartsCoreOption as ChartOption } from 'echarts/core';
