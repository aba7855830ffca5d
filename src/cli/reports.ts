/**
 * The files `mlops-eval compare --html <file> --markdown <file>` writes: the same self-contained HTML report
 * as the Evaluate & Promote task's Model evaluation tab and the demo (src/report `renderReportHtml`: inline
 * CSS and SVG charts in both palettes, no external resource), and a Markdown summary of the decision.
 */
import type { Decision } from '../engine';
import { renderReportHtml } from '../report';

const METRIC_NAME: Record<Decision['metric'], string> = {
  roc_auc: 'ROC AUC',
  average_precision: 'Average precision',
  log_loss: 'Log loss',
  brier: 'Brier score',
};

function fmt(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(4);
}

function signed(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
}

function pct(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`;
}

/** Escapes text for a Markdown table cell (and neutralises HTML). */
function cell(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The HTML report of a decision, titled after the predictions file. */
export function htmlReport(decision: Decision, predictionsFile: string): string {
  return renderReportHtml({ decision }, { title: `Model evaluation – ${predictionsFile}` });
}

/** A Markdown summary: the decision, how it was reached, and one table row per model. */
export function markdownSummary(d: Decision, predictionsFile: string): string {
  const level = `${Math.round(d.confidence * 1000) / 10}%`;
  const metric = METRIC_NAME[d.metric];
  const how = d.method === 'bootstrap' ? `paired bootstrap (${d.bootstrap}), ${d.resamples} resamples, seed ${JSON.stringify(d.seed)}` : "DeLong's test";
  const lines = [`### mlops-eval compare: ${cell(predictionsFile)}`, ''];
  lines.push(`**Decision: ${d.decision.toUpperCase()}${d.decision === 'promote' ? ` ${cell(String(d.best))}` : ''}.** ${cell(d.reason)}`, '');
  lines.push(`${metric} (${d.higherIsBetter ? 'higher' : 'lower'} is better) on ${d.n} rows (${d.positives} positive), ${how}; ${level} intervals.`, '');
  lines.push(
    `| Model | Role | ${metric} | ${level} interval | Improvement (positive = better) | ${level} interval of improvement | Lower ${pct(d.winRateThreshold)} bound (gate) | Win rate |`,
  );
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const m of d.models) {
    const v = m.vsBaseline;
    const role = m.isBaseline ? 'baseline' : m.name === d.best ? 'best' : 'candidate';
    const ci = m.ci ? `[${fmt(m.ci[0])}, ${fmt(m.ci[1])}]` : '–';
    const dci = v?.deltaCi ? `[${signed(v.deltaCi[0])}, ${signed(v.deltaCi[1])}]` : '–';
    lines.push(`| ${cell(m.name)} | ${role} | ${fmt(m.estimate)} | ${ci} | ${signed(v?.meanDelta)} | ${dci} | ${signed(v?.gateBound)} | ${pct(v?.winRate)} |`);
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}
