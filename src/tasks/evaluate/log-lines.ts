/**
 * What Evaluate & Promote logs about the comparison: one line per model with its metric and interval, the
 * candidates' difference to production, then the engine's reason. Numbers use the formats of the engine's
 * reason and of the report (src/engine/format.ts: metrics and differences with 4 decimals, RMSE, MAE and MAPE
 * by magnitude, shares as percentages with one decimal) and models the report's names (the MLflow run name, else the column key), so the log and the report
 * read the same.
 */
import type { AnyMetric, Decision, ModelResult } from '../../engine';
import { formatInteger, formatInterval, formatPercent, metricFormat, type MetricFormat } from '../../engine/format';
import { metricLabel } from '../../report/format';

/** A model as the log names it: the MLflow run name when the run has one, else its column key (`run_<id>`). */
export interface NamedModel {
  key: string;
  runName?: string;
  runId?: string;
}

/** The report's label for a model (src/report/record.ts: `runName ?? name`). */
export function modelName(model: Pick<NamedModel, 'key' | 'runName'>): string {
  return model.runName?.trim() || model.key;
}

/** `logreg-012345 (MLflow run ed5e…)`, or the bare key when the run has no name (the key holds the id). */
function candidateWithRun(model: NamedModel): string {
  const name = modelName(model);
  return model.runId && name !== model.key ? `${name} (MLflow run ${model.runId})` : name;
}

function intervalPart(m: ModelResult, f: MetricFormat): string {
  return `${f.value(m.estimate)}${m.ci ? ` ${formatInterval(m.ci, f.value)}` : ''}`;
}

/** The metric's format over every value and difference the lines show (one number of decimals for RMSE, MAE and MAPE). */
function linesFormat(decision: Decision<AnyMetric>): MetricFormat {
  const values: number[] = [];
  const deltas: number[] = [decision.minDelta];
  for (const m of decision.models) {
    values.push(m.estimate, ...(m.ci ?? []));
    if (m.vsBaseline) deltas.push(m.vsBaseline.meanDelta, ...m.vsBaseline.deltaCi);
  }
  return metricFormat(decision.metric, values, deltas);
}

function versusPart(m: ModelResult, decision: Decision<AnyMetric>, baselineName: string, f: MetricFormat): string {
  const vs = m.vsBaseline;
  if (!vs) return '';
  if (vs.undetermined) return `; against ${baselineName}: not determined (${vs.undetermined})`;
  const diff = `${f.delta(vs.meanDelta)} ${formatInterval(vs.deltaCi, f.delta)}`;
  const share =
    decision.method === 'bootstrap'
      ? `better by more than ${f.amount(decision.minDelta)} in ${formatPercent(vs.winRate)} of the resamples`
      : `probability of being better by more than ${f.amount(decision.minDelta)}: ${formatPercent(vs.winRate)}`;
  return `; against ${baselineName}: ${diff}, ${share}`;
}

/**
 * The comparison as log lines: a header (metric, rows, interval level and method), one line per model in the
 * engine's order, then the decision with the engine's reason in which the column keys are replaced by names.
 */
export function comparisonLines(decision: Decision<AnyMetric>, candidates: NamedModel[], productionVersion?: string): string[] {
  const byKey = new Map(candidates.map((c) => [c.key, c]));
  const name = (key: string) => (byKey.has(key) ? modelName(byKey.get(key)!) : key);
  const baselineName = decision.baseline ? name(decision.baseline) : '';
  const how = decision.method === 'bootstrap' ? `${formatInteger(decision.resamples)} paired resamples` : 'DeLong';
  const f = linesFormat(decision);
  const lines = [`${metricLabel(decision.metric)} on ${formatInteger(decision.n)} rows (${formatPercent(decision.confidence)} intervals, ${how}):`];
  for (const m of decision.models) {
    const candidate = byKey.get(m.name);
    const who = candidate ? candidateWithRun(candidate) : m.isBaseline && productionVersion ? `${name(m.name)} (version ${productionVersion})` : name(m.name);
    const role = m.name === decision.best ? (decision.decision === 'promote' ? ', promoted' : ', best candidate') : '';
    lines.push(`  ${who}: ${intervalPart(m, f)}${versusPart(m, decision, baselineName, f)}${role}`);
  }
  lines.push(namedReason(decision.reason, candidates));
  return lines;
}

/** The engine's reason with `'run_<id>'` (and `'production'`) replaced by the names the report shows. */
export function namedReason(reason: string, candidates: Array<Pick<NamedModel, 'key' | 'runName'>>): string {
  let r = reason;
  for (const c of candidates) r = r.split(`'${c.key}'`).join(modelName(c));
  return r.split("'production'").join('production');
}

/** The line Evaluate logs once production moved to the winner (the reason was logged with the comparison). */
export function promotedLine(best: NamedModel, modelNameInRegistry: string, version: string, target: string): string {
  return `Promoted ${candidateWithRun(best)} as ${modelNameInRegistry} version ${version} to ${target}.`;
}

/** The line Evaluate logs when, with action evaluate, the winner becomes the challenger. */
export function challengerLine(best: NamedModel, modelNameInRegistry: string, version: string, marker: string, target: string): string {
  return `${candidateWithRun(best)} is the challenger: ${modelNameInRegistry} version ${version} (${marker}); ${target} is unchanged until the promote action.`;
}

/** A log line at its level: failed checks are warnings. */
export interface LevelledLine {
  level: 'info' | 'warn';
  text: string;
}

/**
 * One line per guardrail and per slice column, and a warning per failed slice, in the formats and with the
 * names of the comparison lines (the guardrail's metric formats its own allowance and change; slices use the
 * primary metric's).
 */
export function checkLines(decision: Decision<AnyMetric>, candidates: NamedModel[]): LevelledLine[] {
  const byKey = new Map(candidates.map((c) => [c.key, c]));
  const name = (key: string) => (byKey.has(key) ? modelName(byKey.get(key)!) : key);
  const lines: LevelledLine[] = [];
  for (const g of decision.guardrails ?? []) {
    const f = metricFormat(g.metric, [], [g.meanDelta, g.maxWorsening]);
    lines.push({
      level: g.passed ? 'info' : 'warn',
      text:
        `Guardrail ${g.metric} (max worsening ${f.amount(g.maxWorsening)}): ${g.passed ? 'passed' : 'failed'}; ${name(g.candidate)} worsens it by more than that ` +
        `in ${formatPercent(g.exceedShare)} of the resamples (allowed: fewer than ${formatPercent(g.allowedShare)}); mean change ${f.delta(g.meanDelta)}.`,
    });
  }
  for (const r of decision.slices ?? []) {
    const failed = r.slices.filter((s) => s.judged && s.passed === false);
    const f = metricFormat(decision.metric, [], [r.tolerance, ...failed.map((s) => s.meanDelta!)]);
    lines.push({
      level: 'info',
      text:
        `Slices of ${r.column}: ${r.judged} judged (at least ${formatInteger(r.minRows)} rows, tolerance ${f.amount(r.tolerance)}${r.capped ? `, capped at the ${r.maxJudged} largest` : ''}), ` +
        `${r.slices.length - r.judged} not judged, ${failed.length} failed.`,
    });
    for (const s of failed) {
      lines.push({
        level: 'warn',
        text:
          `Slice ${r.column}=${s.name} (${formatInteger(s.rows)} rows) failed: ${name(r.candidate)} worsens ${decision.metric} by more than ${f.amount(r.tolerance)} ` +
          `in ${formatPercent(s.worseShare!)} of the slice's resamples; mean change ${f.delta(s.meanDelta!)}.`,
      });
    }
  }
  return lines;
}
