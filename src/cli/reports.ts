/**
 * The files `mlops-eval compare --html <file> --markdown <file>` writes: the same self-contained HTML report
 * as the Evaluate & Promote task's Model evaluation tab and the demo (src/report `renderReportHtml`: inline
 * CSS and SVG charts in both palettes, no external resource), and a Markdown summary of the decision whose
 * guardrail and slice tables are the task's build summary's (src/report/markdown.ts `checksMarkdown`).
 */
import { METRIC_LABEL, type AnyMetric, type Decision } from '../engine';
import { metricDecimals } from '../engine/format';
import { checksMarkdown, readEvaluationRecord, renderReportHtml } from '../report';

/** The metric's name at the start of a sentence. */
function metricName(m: AnyMetric): string {
  const label = METRIC_LABEL[m];
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** Plain ASCII numbers with the report's decimals (`metricDecimals`), as the task's build summary and `checksMarkdown` write them. */
function fmt(x: number | undefined, digits: number): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

function signed(x: number | undefined, digits: number): string {
  return x === undefined || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
}

function pct(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`;
}

/** Escapes text for a Markdown table cell (and neutralises HTML). */
function cell(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The HTML report of a decision, titled after the predictions file. */
export function htmlReport(decision: Decision<AnyMetric>, predictionsFile: string): string {
  return renderReportHtml({ decision }, { title: `Model evaluation – ${predictionsFile}` });
}

/** The rows: positives for binary, classes for multiclass. */
function rowsText(d: Decision<AnyMetric>): string {
  if (d.problemType === 'regression') return `${d.n} rows`;
  if (d.problemType === 'multiclass') return `${d.n} rows, ${d.classes} classes${d.classNames ? ` (${d.classNames.map(cell).join(', ')})` : ''}`;
  return `${d.n} rows (${d.positives} positive)`;
}

/** A Markdown summary: the decision, how it was reached, one table row per model, then the guardrails and slices. */
export function markdownSummary(d: Decision<AnyMetric>, predictionsFile: string): string {
  const level = `${Math.round(d.confidence * 1000) / 10}%`;
  const metric = metricName(d.metric);
  const how = d.method === 'bootstrap' ? `paired bootstrap (${d.bootstrap}), ${d.resamples} resamples, seed ${JSON.stringify(d.seed)}` : "DeLong's test";
  const lines = [`### mlops-eval compare: ${cell(predictionsFile)}`, ''];
  lines.push(`**Decision: ${d.decision.toUpperCase()}${d.decision === 'promote' ? ` ${cell(String(d.best))}` : ''}.** ${cell(d.reason)}`, '');
  lines.push(`${metric} (${d.higherIsBetter ? 'higher' : 'lower'} is better) on ${rowsText(d)}, ${how}; ${level} intervals.`, '');
  lines.push(
    `| Model | Role | ${metric} | ${level} interval | Improvement (positive = better) | ${level} interval of improvement | Lower ${pct(d.winRateThreshold)} bound (gate) | Win rate |`,
  );
  lines.push('|---|---|---|---|---|---|---|---|');
  // One number of decimals per column: 4, or by magnitude for RMSE, MAE and MAPE (src/engine/format.ts).
  const dec = metricDecimals(
    d.metric,
    d.models.flatMap((m) => [m.estimate, ...(m.ci ?? [])]),
    d.models.flatMap((m) => (m.vsBaseline ? [m.vsBaseline.meanDelta, ...m.vsBaseline.deltaCi, m.vsBaseline.gateBound ?? 0] : [])),
  );
  for (const m of d.models) {
    const v = m.vsBaseline;
    const role = m.isBaseline ? 'baseline' : m.name === d.best ? 'best' : 'candidate';
    const ci = m.ci ? `[${fmt(m.ci[0], dec.value)}, ${fmt(m.ci[1], dec.value)}]` : '–';
    const dci = v?.deltaCi ? `[${signed(v.deltaCi[0], dec.delta)}, ${signed(v.deltaCi[1], dec.delta)}]` : '–';
    lines.push(
      `| ${cell(m.name)} | ${role} | ${fmt(m.estimate, dec.value)} | ${ci} | ${signed(v?.meanDelta, dec.delta)} | ${dci} | ${signed(v?.gateBound, dec.delta)} | ${pct(v?.winRate)} |`,
    );
  }
  // The guardrails and slices as the task's build summary writes them (src/report/markdown.ts): one renderer.
  lines.push('', ...checksMarkdown(readEvaluationRecord(d), level));
  return `${lines.join('\n')}\n`;
}
