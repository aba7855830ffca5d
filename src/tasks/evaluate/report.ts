/**
 * The decision record (evaluation.json, attached to the build and read by the "Model evaluation" build
 * tab) and the build summary rendered from it: a table of every model and a small inline SVG of the
 * bootstrap distributions. Everything that changes from run to run with the same seed and data
 * (timestamps, build and scoring run ids) lives in `context`, so the rest is byte-for-byte reproducible.
 */
import type { Decision, ModelResult } from '../../engine';

export const RECORD_SCHEMA = 'mlopspipelines.evaluation/v1';
export const ATTACHMENT_TYPE = 'mlopspipelines.evaluation';
export const ATTACHMENT_NAME = 'evaluation.json';

export type Outcome = 'promoted' | 'kept' | 'noCandidates';

export interface RecordModel {
  /** Column name in the predictions (`run_<id>` or `production`). */
  key: string;
  role: 'candidate' | 'production';
  runId?: string;
  runName?: string;
  experimentId?: string;
  /** MLflow run page, when the run is known. */
  runUrl?: string;
  /** Production only. */
  version?: string;
  versionUrl?: string;
  /** Where the scoring loaded it from. */
  uri: string;
}

export interface DecisionRecord {
  schema: typeof RECORD_SCHEMA;
  outcome: Outcome;
  /** The decision in one sentence. */
  sentence: string;
  dryRun: boolean;
  registry: { kind: 'workspace' | 'unityCatalog'; modelName: string; target: string };
  production: { version: string; runId?: string; versionUrl: string } | null;
  best: { key: string; runId: string; runUrl?: string } | null;
  /** The version promoted (or, in a dry run, the existing version that would be). */
  promotion: { version?: string; versionUrl?: string; reusedExistingVersion: boolean; applied: boolean } | null;
  models: RecordModel[];
  skippedCandidates: Array<{ runId: string; experimentId?: string; reason: string }>;
  inputs: Record<string, string | number | boolean | string[] | null>;
  data: { rows: number; positives: number };
  /** The engine's result, unchanged (every number, distributions included). */
  comparison: Decision | null;
  context: Record<string, string | number | null>;
}

/** Serialises with stable key order (insertion order of the builders) and a trailing newline. */
export function serializeRecord(record: DecisionRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

function fmt(x: number | undefined, digits = 4): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(digits);
}

function pct(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(1)}%`;
}

/** Escapes text for a Markdown table cell (also neutralises HTML). */
export function mdCell(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function link(text: string, url: string | undefined): string {
  const t = mdCell(text).replace(/[[\]]/g, (c) => `\\${c}`);
  return url ? `[${t}](${url.replace(/[()\s]/g, encodeURIComponent)})` : t;
}

function label(m: RecordModel): string {
  if (m.role === 'production') return `production (version ${m.version})`;
  return m.runName ? `${m.runName} (${m.runId?.slice(0, 8)})` : `run ${m.runId}`;
}

/** Markdown for task.uploadsummary. */
export function renderSummary(record: DecisionRecord): string {
  const lines: string[] = [];
  const title = record.dryRun ? 'Evaluate & Promote (dry run)' : 'Evaluate & Promote';
  lines.push(`### ${title}: ${mdCell(record.registry.modelName)}`, '');
  lines.push(`**${mdCell(record.sentence)}**`, '');
  const c = record.comparison;
  if (c) {
    const metricName = { roc_auc: 'ROC AUC', average_precision: 'Average precision', log_loss: 'Log loss', brier: 'Brier score' }[c.metric];
    const method = c.method === 'delong' ? 'DeLong' : `paired bootstrap, ${c.resamples} resamples, seed ${c.seed}`;
    lines.push(`${metricName} on ${c.n} rows (${c.positives} positive), ${method}; ${Math.round(c.confidence * 100)}% intervals.`, '');
    lines.push(`| Model | ${metricName} | ${Math.round(c.confidence * 100)}% interval | Win rate vs production | Mean improvement |`);
    lines.push('|---|---|---|---|---|');
    const byKey = new Map<string, ModelResult>(c.models.map((m) => [m.name, m]));
    for (const m of record.models) {
      const r = byKey.get(m.key);
      if (!r) continue;
      const name = m.role === 'production' ? link(label(m), m.versionUrl) : link(label(m), m.runUrl);
      const best = record.best?.key === m.key ? ' **best**' : '';
      const ci = r.ci ? `[${fmt(r.ci[0])}, ${fmt(r.ci[1])}]` : '–';
      const win = r.vsBaseline ? pct(r.vsBaseline.winRate) : '–';
      const delta = r.vsBaseline ? `${r.vsBaseline.meanDelta >= 0 ? '+' : ''}${fmt(r.vsBaseline.meanDelta)}` : '–';
      lines.push(`| ${name}${best} | ${fmt(r.estimate)} | ${ci} | ${win} | ${delta} |`);
    }
    lines.push('');
    lines.push(
      `Rule: promote when the best candidate is at least as good as production on ≥ ${pct(c.winRateThreshold)} of resamples and improves the mean by ≥ ${fmt(c.minDelta)}` +
        (c.minMetric !== undefined ? `, with ${metricName} ${c.higherIsBetter ? '≥' : '≤'} ${fmt(c.minMetric)}` : '') +
        '.',
      '',
    );
    const svg = renderDistributionsSvg(c, record.models);
    if (svg) lines.push(`![Bootstrap distributions](data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')})`, '');
  }
  if (record.promotion?.version) {
    const v = link(`${record.registry.modelName} version ${record.promotion.version}`, record.promotion.versionUrl);
    lines.push(record.promotion.applied ? `Promoted: ${v} → ${mdCell(record.registry.target)}.` : `Not applied (dry run): ${v}.`, '');
  }
  if (record.skippedCandidates.length > 0) {
    lines.push('Skipped candidates:', '');
    for (const s of record.skippedCandidates) lines.push(`- ${mdCell(s.runId)}: ${mdCell(s.reason)}`);
    lines.push('');
  }
  return lines.join('\n');
}

const PALETTE = ['#0078d4', '#d83b01', '#107c10', '#8764b8', '#e3008c', '#00b7c3', '#986f0b', '#4f6bed'];
const MAX_SERIES = 8;
const BINS = 32;

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A small SVG (≈ 480×190) of the per-resample metric of each model as outlined histograms on a shared
 * axis, production dashed. Undefined when the engine kept no distributions (DeLong).
 */
export function renderDistributionsSvg(decision: Decision, models: RecordModel[]): string | undefined {
  const dists = decision.distributions;
  if (!dists) return undefined;
  const keys = models.map((m) => m.key).filter((k) => (dists[k]?.length ?? 0) > 0).slice(0, MAX_SERIES);
  if (keys.length === 0) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const k of keys) for (const v of dists[k]) if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  if (!Number.isFinite(lo)) return undefined;
  if (hi - lo < 1e-12) (lo -= 0.001), (hi += 0.001);
  const W = 480;
  const H = 150;
  const left = 10;
  const plotW = W - 2 * left;
  const top = 8;
  const legendH = 16 * Math.ceil(keys.length / 2);
  const counts = keys.map((k) => {
    const c = new Array<number>(BINS).fill(0);
    for (const v of dists[k]) {
      if (!Number.isFinite(v)) continue;
      c[Math.min(BINS - 1, Math.floor(((v - lo) / (hi - lo)) * BINS))]++;
    }
    return c.map((x) => x / dists[k].length);
  });
  const peak = Math.max(...counts.flat(), 1e-12);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 22 + legendH}" viewBox="0 0 ${W} ${H + 22 + legendH}" font-family="Segoe UI,sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<line x1="${left}" y1="${H}" x2="${W - left}" y2="${H}" stroke="#999"/>`);
  keys.forEach((k, i) => {
    const model = models.find((m) => m.key === k)!;
    const color = PALETTE[i % PALETTE.length];
    const pts: string[] = [];
    const base = H;
    counts[i].forEach((c, b) => {
      const x0 = left + (b / BINS) * plotW;
      const x1 = left + ((b + 1) / BINS) * plotW;
      const y = base - (c / peak) * (H - top * 2);
      pts.push(`${x0.toFixed(1)},${y.toFixed(1)}`, `${x1.toFixed(1)},${y.toFixed(1)}`);
    });
    const dash = model.role === 'production' ? ' stroke-dasharray="4 3"' : '';
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5"${dash} points="${left},${base} ${pts.join(' ')} ${W - left},${base}"/>`);
    const lx = left + (i % 2) * (plotW / 2);
    const ly = H + 22 + 16 * Math.floor(i / 2) - 4;
    parts.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="3" fill="${color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${ly - 3}">${escapeXml(label(model))}</text>`);
  });
  parts.push(`<text x="${left}" y="${H + 13}">${lo.toFixed(4)}</text>`);
  parts.push(`<text x="${W - left}" y="${H + 13}" text-anchor="end">${hi.toFixed(4)}</text>`);
  parts.push(`<text x="${W / 2}" y="${H + 13}" text-anchor="middle">${escapeXml(decision.metric)} per resample</text>`);
  parts.push('</svg>');
  return parts.join('');
}
