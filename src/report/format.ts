/**
 * Number and sentence formatting shared by the tab, the static report and the markdown SVG, so the three
 * always show the same strings for the same record (the UI tests assert these exact strings).
 */
import type { EvaluationView, ModelView } from './record';

/** U+2212: a real minus sign lines up with "+" in tabular figures, unlike a hyphen. */
const MINUS = '\u2212';

const METRIC_LABELS: Record<string, string> = {
  roc_auc: 'ROC AUC',
  average_precision: 'Average precision',
  log_loss: 'Log loss',
  brier: 'Brier score',
};

export function metricLabel(metric: string): string {
  return METRIC_LABELS[metric] ?? metric;
}

/** A metric value: 4 decimals (AUC differences that matter are in the third decimal). */
export function formatMetric(v: number): string {
  return fixed(v, 4);
}

function fixed(v: number, digits: number): string {
  const s = Math.abs(v).toFixed(digits);
  // -0.00004 rounds to "0.0000": never show a sign on a zero.
  return v < 0 && Number(s) !== 0 ? MINUS + s : s;
}

/** An interval as "[0.8123, 0.8456]". */
export function formatInterval(ci: [number, number], format: (v: number) => string = formatMetric): string {
  return `[${format(ci[0])}, ${format(ci[1])}]`;
}

/** A signed difference: "+0.0123", "−0.0040", "0.0000". */
export function formatDelta(v: number): string {
  const s = fixed(v, 4);
  return v > 0 && Number(s) !== 0 ? `+${s}` : s;
}

/** A share as a percentage with one decimal: 0.9735 -> "97.4%". */
export function formatPercent(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

export function formatPValue(p: number): string {
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

export function formatInteger(v: number): string {
  return Math.round(v).toLocaleString('en-US');
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
