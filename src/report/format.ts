/**
 * Number and sentence formatting shared by the tab, the static report and the markdown SVG, so the three
 * always show the same strings for the same record (the UI tests assert these exact strings).
 */
import { metricFormat, type MetricFormat } from '../engine/format';
import type { EvaluationView, ModelView } from './record';

// The numbers' formats are the engine's (its reason sentences use them too): one module, re-exported here for the report's modules.
export {
  decimalsFor,
  formatDelta,
  formatInteger,
  formatInterval,
  formatMetric,
  formatPercent,
  formatPValue,
  metricDecimals,
  metricFormat,
  type MetricFormat,
} from '../engine/format';

const METRIC_LABELS: Record<string, string> = {
  roc_auc: 'ROC AUC',
  average_precision: 'Average precision',
  log_loss: 'Log loss',
  brier: 'Brier score',
  rmse: 'RMSE',
  mae: 'MAE',
  r2: 'R\u00b2',
  mape: 'MAPE',
  roc_auc_ovr: 'One-vs-rest ROC AUC',
  roc_auc_ovr_weighted: 'Weighted one-vs-rest ROC AUC',
  accuracy: 'Accuracy',
  f1_macro: 'Macro F1',
};

const PROBLEM_LABELS: Record<string, string> = {
  binaryClassification: 'Binary classification',
  regression: 'Regression',
  multiclass: 'Multiclass classification',
};

/** The problem type in words ("Regression"); a record without one is binary classification. */
export function problemLabel(problemType: string | undefined): string {
  return PROBLEM_LABELS[problemType ?? 'binaryClassification'] ?? problemType ?? '';
}

export function metricLabel(metric: string): string {
  return METRIC_LABELS[metric] ?? metric;
}

/** The primary metric's format for a whole report: the models', the slices' and the thresholds' numbers. */
export function viewFormat(view: EvaluationView): MetricFormat {
  const values: number[] = [];
  const deltas: number[] = [];
  for (const m of view.models) {
    values.push(m.estimate, ...(m.ci ?? []));
    if (m.vsBaseline) deltas.push(m.vsBaseline.meanDelta, ...(m.vsBaseline.deltaCi ?? []), m.vsBaseline.gateBound ?? 0);
  }
  if (view.minMetric !== undefined) values.push(view.minMetric);
  if (view.minDelta !== undefined) deltas.push(view.minDelta);
  for (const r of view.sliceReports) {
    for (const s of r.slices) {
      for (const v of [s.baselineEstimate, s.candidateEstimate]) if (v !== undefined) values.push(v);
      for (const v of [s.meanDelta, ...(s.deltaCi ?? [])]) if (v !== undefined) deltas.push(v);
    }
  }
  return metricFormat(view.metric, values, deltas);
}

/** The metric with its orientation in words: "RMSE (lower is better)". */
export function metricWithOrientation(metric: string, higherIsBetter: boolean): string {
  return `${metricLabel(metric)} (${higherIsBetter ? 'higher' : 'lower'} is better${metric === 'mape' ? '; a fraction, 0.1 = 10%' : ''})`;
}

function sentence(s: string): string {
  const t = s.trim();
  if (t === '') return '';
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** A model of the record as people call it: its MLflow run name when the task recorded one. */
function modelLabel(view: EvaluationView, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  return view.models.find((m) => m.name === name)?.label ?? name;
}

/** The run behind the headline's model, for "(MLflow run <id>)" after its name. */
export function headlineModel(view: EvaluationView): ModelView | undefined {
  if (view.decision !== 'promote') return undefined;
  return view.models.find((m) => m.isBest);
}

/**
 * The headline at the top of the report, in plain words, naming models by their run names. `run` is
 * what follows the promoted model's name (the caller links it); by default its run id in parentheses.
 * The reason comes separately (`decisionReason`), so nothing is said twice.
 */
export function decisionSentence(view: EvaluationView, run: (id: string) => string = (id) => ` (MLflow run ${id})`): string {
  const ctx = view.context;
  const model = ctx.modelName ?? 'the registered model';
  // A bare engine decision (mlops-eval) has no registry: it says what to do, with the column names.
  const bare = ctx.modelName === undefined && view.sentence === undefined;
  const baseline = modelLabel(view, view.baseline);
  switch (view.decision) {
    case 'promote': {
      const best = headlineModel(view);
      const who = best ? `${best.label}${best.runId ? run(best.runId) : ''}` : 'the best candidate';
      if (bare) return `Promote ${who}${baseline ? ` over ${baseline}` : ''}.`;
      const version = best?.version ?? ctx.promotedVersion;
      if (view.outcome === 'challenger') {
        return `${who} is the challenger${version ? `: ${model} version ${version}` : ''}. Production is unchanged until an approved promote step.`;
      }
      const target = ctx.target ? ` (${ctx.target})` : '';
      if (view.dryRun) return `Dry run: would promote ${who} to ${model}${target}. Nothing was changed.`;
      return `Promoted ${who} to ${model}${version ? ` version ${version}` : ''}${target}.`;
    }
    case 'keep': {
      if (bare) return baseline ? `Keep ${baseline}.` : 'Keep: no candidate is promoted.';
      if (!view.baseline) return `Kept ${model} as it was: no candidate was promoted.`;
      return `Kept production${ctx.productionVersion ? ` (${model} version ${ctx.productionVersion})` : ''}.`;
    }
    default:
      return view.sentence ? sentence(view.sentence) : 'No model was promoted.';
  }
}

/**
 * Why, in the engine's words with the internal column names (`run_<id>`) replaced by the models' names
 * and the leading "Promote '<model>':" or "Keep '<model>':" left out (the headline says that already).
 * Empty when the decision has no reason beyond the headline.
 */
export function decisionReason(view: EvaluationView): string {
  if (view.decision === 'none') return '';
  let r = view.reason.trim().replace(/^(?:Promote|Keep)(?: '[^']*')?: /, '');
  for (const m of view.models) r = r.split(`'${m.name}'`).join(m.label);
  r = r.charAt(0).toUpperCase() + r.slice(1);
  return sentence(r);
}

/** Role shown beside a model's name. */
export function modelRole(m: ModelView, view: EvaluationView): string {
  if (m.isBaseline) return 'production';
  if (m.isBest) return view.decision === 'promote' ? 'promoted' : 'best candidate';
  return 'candidate';
}

/** Most slices not judged that the report lists in a slice table (they come largest first; judged slices are always listed). */
export const MAX_UNJUDGED_ROWS = 200;

/**
 * The guardrails' and slice columns' verdicts in words: "the guardrail on MAE passes, the guardrail on R² fails,
 * slices of region fail (north, south), slices of channel pass". Empty without guardrails or slices.
 */
export function checksVerdict(view: EvaluationView): string {
  const parts = view.guardrails.map((g) => `the guardrail on ${metricLabel(g.metric)} ${g.passed ? 'passes' : 'fails'}`);
  for (const r of view.sliceReports) {
    const failing = r.slices.filter((s) => s.judged && s.passed === false).map((s) => s.name);
    const judged = r.slices.filter((s) => s.judged).length;
    if (judged === 0) parts.push(`no slice of ${r.column} is judged`);
    else parts.push(failing.length > 0 ? `slices of ${r.column} fail (${failing.join(', ')})` : `slices of ${r.column} pass`);
  }
  return parts.join(', ');
}
