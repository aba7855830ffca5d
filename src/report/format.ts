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

/** The one-line verdict at the top of the report. */
export function decisionSentence(view: EvaluationView): string {
  const ctx = view.context;
  const reason = sentence(view.reason);
  const tail = reason ? ` ${reason}` : '';
  switch (view.decision) {
    case 'promote': {
      const who = view.best ? `candidate ${view.best}` : 'the best candidate';
      const target = ctx.modelName
        ? ` to ${ctx.modelName}${ctx.promotedVersion ? ` version ${ctx.promotedVersion}` : ''}`
        : '';
      return `Promoted ${who}${target}.${tail}`;
    }
    case 'keep': {
      const who = view.baseline ? `production model ${view.baseline}` : 'the production model';
      const version = ctx.modelName && ctx.productionVersion ? ` (${ctx.modelName} version ${ctx.productionVersion})` : '';
      return `Kept ${who}${version}.${tail}`;
    }
    default:
      return `No model was promoted.${tail}`;
  }
}

/** Role shown beside a model's name. */
export function modelRole(m: ModelView, view: EvaluationView): string {
  if (m.isBaseline) return 'production';
  if (m.isBest) return view.decision === 'promote' ? 'promoted' : 'best candidate';
  return 'candidate';
}
