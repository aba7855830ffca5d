/**
 * The text output of `mlops-eval compare`: the decision as readable tables (models, then guardrails and
 * slices when asked for), ending with the decision and its reason.
 */
import { METRIC_LABEL, type AnyMetric, type Decision, type GuardrailResult, type SliceReport } from '../engine';
import { formatInteger, formatInterval, formatPercent as pct, formatPValue, metricFormat, type MetricFormat } from '../engine/format';

// Numbers as the report, the task's log and the engine's reasons write them (src/engine/format.ts): metric values
// and changes with 4 decimals (RMSE, MAE and MAPE by magnitude, one number of decimals per table), U+2212 for
// negatives, shares as percentages with one decimal, counts with thousands separators.

/** The format of `metric` over every value and change a table shows. */
function tableFormat(metric: string, values: (number | undefined)[], deltas: (number | undefined)[]): MetricFormat {
  const finite = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return metricFormat(metric, finite(values), finite(deltas));
}

function interval(ci: [number, number] | undefined, format: (v: number) => string): string {
  return ci ? formatInterval(ci, format) : '';
}

function value(x: number | undefined, f: MetricFormat): string {
  return x === undefined ? '' : f.value(x);
}

/** Columns padded to their widest cell, two spaces apart. */
function render(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The size of the data: rows, and positives (binary) or the rows of each class (multiclass). */
function dataSize(d: Decision<AnyMetric>): string {
  if (d.problemType === 'regression') return `${formatInteger(d.n)} rows`;
  if (d.problemType === 'multiclass') {
    const counts = (d.classCounts ?? []).map((c, k) => `${d.classNames?.[k] ?? k} ${formatInteger(c)}`).join(', ');
    return `${formatInteger(d.n)} rows, ${d.classes} classes (${counts})`;
  }
  return `${formatInteger(d.n)} rows, ${formatInteger(d.positives)} positive`;
}

/**
 * The decision as a readable table: one header line (metric, method, data size), the compared columns,
 * one row per model with its estimate and interval and — against the baseline — the improvement
 * (positive = better for every metric), its interval, the gate's one-sided bound and the win rate; the
 * guardrails and the slices when given; then the decision and its reason.
 */
export function formatTable(d: Decision<AnyMetric>): string {
  const level = `${Math.round(d.confidence * 1000) / 10}%`;
  const how =
    d.method === 'bootstrap' ? `paired bootstrap (${d.bootstrap}), ${formatInteger(d.resamples)} resamples, seed ${JSON.stringify(d.seed)}` : "DeLong's test";
  const lines = [`${METRIC_LABEL[d.metric]} (${d.higherIsBetter ? 'higher' : 'lower'} is better), ${how}; ${dataSize(d)}`];
  const positive = d.problemType === undefined ? `, positive ${d.weight?.positive}` : '';
  lines.push(
    `Compared columns: ${d.models.map((m) => (m.isBaseline ? `${m.name} (baseline)` : m.name)).join(', ')}${
      d.weight !== undefined ? `; weight: ${d.weight.column} (total ${d.weight.total}${positive})` : ''
    }`,
  );
  if (d.baseline !== undefined) {
    lines.push(
      `Improvement = ${d.higherIsBetter ? 'candidate − baseline' : 'baseline − candidate'} (positive = better); a win is an improvement above ${primaryFormat(d).amount(d.minDelta)} (ties are not wins)`,
    );
  }
  if (d.degenerateResamples > 0) lines.push(`${d.degenerateResamples} ${d.problemType === undefined ? 'single-class' : 'degenerate'} resample(s) were redrawn`);
  lines.push('', ...modelTable(d, level), '');
  if (d.guardrails !== undefined && d.guardrails.length > 0) lines.push(...guardrailTable(d, d.guardrails, level), '');
  for (const report of d.slices ?? []) lines.push(...sliceTable(d, report, level), '');
  lines.push(`Decision: ${d.decision.toUpperCase()}${d.decision === 'promote' ? ` '${d.best}'` : ''}. ${d.reason}`);
  return `${lines.join('\n')}\n`;
}

/** The primary metric's format over the model table (estimates, means, intervals, changes and minDelta). */
function primaryFormat(d: Decision<AnyMetric>): MetricFormat {
  const values = d.models.flatMap((m) => [m.estimate, m.mean, ...(m.ci ?? [])]);
  const deltas = [d.minDelta, ...d.models.flatMap((m) => (m.vsBaseline ? [m.vsBaseline.meanDelta, m.vsBaseline.gateBound, ...m.vsBaseline.deltaCi] : []))];
  return tableFormat(d.metric, values, deltas);
}

function modelTable(d: Decision<AnyMetric>, level: string): string[] {
  const f = primaryFormat(d);
  const header = ['model', 'role', 'estimate'];
  if (d.method === 'bootstrap') header.push('mean');
  header.push(`${level} CI`);
  const hasBaseline = d.baseline !== undefined;
  if (hasBaseline) {
    header.push(
      'improvement (positive = better)',
      `${level} CI of improvement`,
      `lower ${pct(d.winRateThreshold)} bound (gate)`,
      d.method === 'bootstrap' ? 'win rate' : 'P(win)',
    );
    if (d.method === 'delong') header.push('p-value');
  }
  const rows = d.models.map((m) => {
    const row = [m.name, m.isBaseline ? 'baseline' : m.name === d.best ? 'best' : 'candidate', value(m.estimate, f)];
    if (d.method === 'bootstrap') row.push(value(m.mean, f));
    row.push(interval(m.ci, f.value));
    if (hasBaseline) {
      const v = m.vsBaseline;
      row.push(
        v ? f.delta(v.meanDelta) : '',
        v ? interval(v.deltaCi, f.delta) : '',
        v?.gateBound !== undefined ? f.delta(v.gateBound) : '',
        v ? pct(v.winRate) : '',
      );
      if (d.method === 'delong') row.push(v?.pValue !== undefined ? formatPValue(v.pValue) : v?.undetermined !== undefined ? 'undetermined' : '');
    }
    return row;
  });
  return render(header, rows);
}

/** One row per guardrail: the allowance, both values, the paired change and the share of resamples over the allowance. */
function guardrailTable(d: Decision<AnyMetric>, guardrails: GuardrailResult[], level: string): string[] {
  const rows = guardrails.map((g) => {
    const f = tableFormat(g.metric, [g.baselineEstimate, g.candidateEstimate], [g.maxWorsening, g.meanDelta, ...g.deltaCi]);
    return [
      `${METRIC_LABEL[g.metric]} (${g.higherIsBetter ? 'higher' : 'lower'} is better)`,
      f.amount(g.maxWorsening),
      value(g.baselineEstimate, f),
      value(g.candidateEstimate, f),
      f.delta(g.meanDelta),
      interval(g.deltaCi, f.delta),
      `${pct(g.exceedShare)} (${formatInteger(g.exceeded)})`,
      `< ${pct(g.allowedShare)}`,
      g.passed ? 'pass' : 'FAIL',
    ];
  });
  return [
    `Guardrails: '${guardrails[0].candidate}' against '${d.baseline}' on the same ${formatInteger(d.resamples)} resamples (change: positive = better)`,
    ...render(['guardrail', 'max worsening', 'baseline', 'candidate', 'mean change', `${level} CI of change`, 'resamples over it', 'allowed', 'verdict'], rows),
  ];
}

/** One row per slice of a column: judged slices worst first, then those not judged with the reason. */
function sliceTable(d: Decision<AnyMetric>, r: SliceReport, level: string): string[] {
  const f = tableFormat(
    d.metric,
    r.slices.flatMap((s) => [s.baselineEstimate, s.candidateEstimate]),
    [r.tolerance, ...r.slices.flatMap((s) => [s.meanDelta, ...(s.deltaCi ?? [])])],
  );
  const rows = r.slices.map((s) =>
    s.judged
      ? [
          s.name,
          formatInteger(s.rows),
          value(s.baselineEstimate, f),
          value(s.candidateEstimate, f),
          f.delta(s.meanDelta!),
          interval(s.deltaCi, f.delta),
          pct(s.worseShare!),
          s.passed ? 'pass' : 'FAIL',
        ]
      : [s.name, formatInteger(s.rows), '', '', '', '', '', `not judged: ${s.note}`],
  );
  const capped = r.capped ? `; capped: only the ${r.maxJudged} largest slices are judged` : '';
  return [
    `Slices of '${r.column}': '${r.candidate}' against '${d.baseline}' on ${METRIC_LABEL[d.metric]}, ${r.judged} judged (at least ${formatInteger(r.minRows)} rows${capped}); a slice fails when its worsening exceeds ${f.amount(r.tolerance)} in at least ${pct(d.winRateThreshold)} of its resamples`,
    ...render(['slice', 'rows', 'baseline', 'candidate', 'mean change', `${level} CI of change`, 'share worse', 'verdict'], rows),
  ];
}
