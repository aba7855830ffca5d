/**
 * The files `mlops-eval compare --html <file> --markdown <file>` writes: the same self-contained HTML report
 * as the Evaluate & Promote task's Model evaluation tab and the demo (src/report `renderReportHtml`: inline
 * CSS and SVG charts in both palettes, no external resource), and a Markdown summary of the decision.
 */
import { METRIC_LABEL, type AnyMetric, type Decision } from '../engine';
import { renderReportHtml } from '../report';

/** The metric's name at the start of a sentence. */
function metricName(m: AnyMetric): string {
  const label = METRIC_LABEL[m];
  return label.charAt(0).toUpperCase() + label.slice(1);
}

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
  for (const m of d.models) {
    const v = m.vsBaseline;
    const role = m.isBaseline ? 'baseline' : m.name === d.best ? 'best' : 'candidate';
    const ci = m.ci ? `[${fmt(m.ci[0])}, ${fmt(m.ci[1])}]` : '–';
    const dci = v?.deltaCi ? `[${signed(v.deltaCi[0])}, ${signed(v.deltaCi[1])}]` : '–';
    lines.push(`| ${cell(m.name)} | ${role} | ${fmt(m.estimate)} | ${ci} | ${signed(v?.meanDelta)} | ${dci} | ${signed(v?.gateBound)} | ${pct(v?.winRate)} |`);
  }
  lines.push('', ...guardrailLines(d, level), ...sliceLines(d, level));
  return `${lines.join('\n')}\n`;
}

const interval = (ci: [number, number] | undefined): string => (ci ? `[${signed(ci[0])}, ${signed(ci[1])}]` : '–');

function guardrailLines(d: Decision<AnyMetric>, level: string): string[] {
  if (d.guardrails === undefined || d.guardrails.length === 0) return [];
  const lines = [
    `**Guardrails** (same ${d.resamples} resamples; change: positive = better)`,
    '',
    `| Guardrail | Max worsening | Baseline | Candidate | Mean change | ${level} interval | Resamples over it | Allowed | Verdict |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const g of d.guardrails) {
    lines.push(
      `| ${metricName(g.metric)} | ${g.maxWorsening} | ${fmt(g.baselineEstimate)} | ${fmt(g.candidateEstimate)} | ${signed(g.meanDelta)} | ${interval(g.deltaCi)} | ${pct(g.exceedShare)} | < ${pct(g.allowedShare)} | ${g.passed ? 'pass' : '**fail**'} |`,
    );
  }
  return [...lines, ''];
}

function sliceLines(d: Decision<AnyMetric>, level: string): string[] {
  const lines: string[] = [];
  for (const r of d.slices ?? []) {
    lines.push(
      `**Slices of ${cell(r.column)}** (${r.judged} judged: at least ${r.minRows} rows${r.capped ? `, capped at the ${r.maxJudged} largest` : ''}; tolerance ${r.tolerance})`,
      '',
      `| Slice | Rows | Baseline | Candidate | Mean change | ${level} interval | Share worse | Verdict |`,
      '|---|---|---|---|---|---|---|---|',
    );
    for (const s of r.slices) {
      const verdict = s.judged ? (s.passed ? 'pass' : '**fail**') : `not judged: ${cell(s.note ?? '')}`;
      lines.push(
        `| ${cell(s.name)} | ${s.rows} | ${fmt(s.baselineEstimate)} | ${fmt(s.candidateEstimate)} | ${signed(s.meanDelta)} | ${s.judged ? interval(s.deltaCi) : '–'} | ${pct(s.worseShare)} | ${verdict} |`,
      );
    }
    lines.push('');
  }
  return lines;
}
