/**
 * The decision record (evaluation.json, attached to the build and read by the "Model evaluation" build
 * tab) and the build summary rendered from it: a table of every model and a small inline SVG of the
 * bootstrap distributions. Everything that changes from run to run with the same seed and data
 * (timestamps, build and scoring run ids) lives in `context`, so the rest is byte-for-byte reproducible.
 */
import type { AnyMetric, Decision, ModelResult } from '../../engine';
import { metricDecimals, metricLabel, metricWithOrientation, problemLabel } from '../../report/format';
import { checksMarkdown, mdCell } from '../../report/markdown';
import { readEvaluationRecord, type DecisionRecordSchema, type EvaluationView } from '../../report/record';

export { mdCell } from '../../report/markdown';

export { ATTACHMENT_NAME, ATTACHMENT_TYPE, DECISION_RECORD_SCHEMA as RECORD_SCHEMA } from '../common/decision-record';

/** `challenger`: action evaluate registered and marked the winner; production waits for the promote action. */
export type Outcome = 'promoted' | 'kept' | 'noCandidates' | 'challenger';

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
  /** The task writes `RECORD_SCHEMA` (v2); records of older tasks say v1 and are read alike (see docs/decision-record.md). */
  schema: DecisionRecordSchema;
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
  /**
   * `comparedOn` (issue 23, optional): `agent` or `spark`, with the row limit and the logged reason; absent in
   * records of evaluations without the bundled notebook's switch (and in older records).
   */
  data: { rows: number; positives: number; comparedOn?: 'agent' | 'spark'; localRowLimit?: number; comparedOnReason?: string };
  /**
   * The engine's result, unchanged (every number, distributions included); with no candidates a `none`
   * decision without models. Named `decision` because the build tab's reader (src/report/record.ts) reads it there.
   */
  decision: Decision<AnyMetric>;
  /** What differs between two runs with the same seed and data (ids, timestamps), plus the tab's links. */
  context: RecordContext;
  /** The action that wrote the record (handoff.ts); absent means evaluateAndPromote. */
  action?: 'evaluateAndPromote' | 'evaluate';
  /** Action evaluate with a promote decision: the version marked as the challenger, which the promote action promotes. */
  challenger?: ChallengerRecord | null;
  /** With targetModelName: the model the promote action copies into, and its production when the models were compared. */
  target?: TargetRecord | null;
}

export interface ChallengerRecord {
  version: string;
  versionUrl: string;
  runId: string;
  /** `alias challenger` or `tag mlops_challenger=true`. */
  marker: string;
  reusedExistingVersion: boolean;
}

export interface TargetRecord {
  modelName: string;
  /** `alias champion`. */
  target: string;
  productionVersion: string | null;
}

export interface RecordContext {
  modelName: string;
  registry: 'workspace' | 'unity-catalog';
  productionVersion: string | null;
  promotedVersion: string | null;
  bestCandidateRunId: string | null;
  buildId: string;
  /** Per predictions column: the MLflow run, its link and (production) the version. */
  runs: Record<string, { runId?: string; url?: string; version?: string }>;
  links: Record<string, string>;
  startedAt: string;
  finishedAt: string;
  workspaceUrl: string;
  buildNumber: string | null;
  jobAttempt: string;
  sourceVersion: string | null;
  sourceBranch: string | null;
  scoringRunId: number | null;
  scoringRunUrl: string | null;
  predictionsPath: string | null;
}

/** Serialises with stable key order (insertion order of the builders) and a trailing newline. */
export function serializeRecord(record: DecisionRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

function fmt(x: number | undefined, digits = 4): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(digits);
}

function signedDigits(x: number, digits: number): string {
  return `${x >= 0 ? '+' : ''}${fmt(x, digits)}`;
}

function pct(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(1)}%`;
}

function link(text: string, url: string | undefined): string {
  const t = mdCell(text).replace(/[[\]]/g, (c) => `\\${c}`);
  return url ? `[${t}](${url.replace(/[()\s]/g, encodeURIComponent)})` : t;
}

function label(m: RecordModel): string {
  if (m.role === 'production') return `production (version ${m.version})`;
  return m.runName ? `${m.runName} (${m.runId?.slice(0, 8)})` : `run ${m.runId}`;
}

/** The summary's first line of numbers: the metric, the rows and what they are (positives, or classes). */
function dataLine(c: Decision<AnyMetric>, view: EvaluationView, method: string): string {
  const metricName = metricLabel(c.metric);
  const ci = `${Math.round(c.confidence * 100)}% intervals.`;
  // A binary record keeps the words it always had; other problem types say what they are, with the orientation.
  if (c.problemType === undefined || c.problemType === 'binaryClassification')
    return `${metricName} on ${c.n} rows (${c.positives} positive), ${method}; ${ci}`;
  const classes =
    view.classes !== undefined
      ? ` in ${view.classes} classes (${(view.classNames ?? view.classCounts?.map((_, i) => `class ${i}`) ?? []).map((n, i) => `${mdCell(n)}${view.classCounts ? `: ${view.classCounts[i]} rows` : ''}`).join(', ')})`
      : '';
  return `${problemLabel(c.problemType)}: ${mdCell(metricWithOrientation(c.metric, c.higherIsBetter))} on ${c.n} rows${classes}, ${method}; ${ci}`;
}

/** Guardrail and slice tables, after the verdict of each check in words (the sentence above holds the engine's reason). */
function checksLines(record: DecisionRecord, view: EvaluationView): string[] {
  return checksMarkdown(view, `${Math.round(record.decision.confidence * 100)}%`);
}

/** Markdown for task.uploadsummary. */
export function renderSummary(record: DecisionRecord): string {
  const lines: string[] = [];
  const title = record.dryRun ? 'Evaluate & Promote (dry run)' : 'Evaluate & Promote';
  lines.push(`### ${title}: ${mdCell(record.registry.modelName)}`, '');
  lines.push(`**${mdCell(record.sentence)}**`, '');
  const c = record.decision;
  if (c.decision !== 'none') {
    const view = readEvaluationRecord(record);
    const metricName = metricLabel(c.metric);
    const method = c.method === 'delong' ? 'DeLong' : `paired bootstrap, ${c.resamples} resamples, seed ${c.seed}`;
    lines.push(dataLine(c, view, method), '');
    // Issue 23: where the comparison ran and why (records without the switch show nothing here).
    if (record.data.comparedOnReason !== undefined) lines.push(mdCell(record.data.comparedOnReason), '');
    const d = metricDecimals(
      c.metric,
      view.models.flatMap((m) => [m.estimate, ...(m.ci ?? [])]),
      view.models.flatMap((m) => (m.vsBaseline ? [m.vsBaseline.meanDelta, ...(m.vsBaseline.deltaCi ?? [])] : [])),
    );
    const gateHead = `Improvement: lower ${pct(c.winRateThreshold)} bound (gate)`;
    lines.push(
      `| Model | ${metricName} | ${Math.round(c.confidence * 100)}% interval | Win rate vs production | Mean improvement | Improvement ${Math.round(c.confidence * 100)}% interval | ${gateHead} |`,
    );
    lines.push('|---|---|---|---|---|---|---|');
    const byKey = new Map<string, ModelResult>(c.models.map((m) => [m.name, m]));
    for (const m of record.models) {
      const r = byKey.get(m.key);
      if (!r) continue;
      const name = m.role === 'production' ? link(label(m), m.versionUrl) : link(label(m), m.runUrl);
      const best = record.best?.key === m.key ? ' **best**' : '';
      const ci = r.ci ? `[${fmt(r.ci[0], d.value)}, ${fmt(r.ci[1], d.value)}]` : '–';
      const win = r.vsBaseline ? pct(r.vsBaseline.winRate) : '–';
      const vb = r.vsBaseline;
      const signedFmt = (x: number): string => signedDigits(x, d.delta);
      const delta = vb ? signedFmt(vb.meanDelta) : '–';
      const deltaCi = vb ? `[${signedFmt(vb.deltaCi[0])}, ${signedFmt(vb.deltaCi[1])}]` : '–';
      const gate = vb?.gateBound !== undefined ? `${signedFmt(vb.gateBound)} ${vb.gateBound > c.minDelta ? '>' : '≤'} ${fmt(c.minDelta, d.delta)}` : '–';
      lines.push(`| ${name}${best} | ${fmt(r.estimate, d.value)} | ${ci} | ${win} | ${delta} | ${deltaCi} | ${gate} |`);
    }
    lines.push('');
    lines.push(
      `Rule: promote when the best candidate improves on production by more than ${fmt(c.minDelta, d.delta)} on ≥ ${pct(c.winRateThreshold)} of ${c.method === 'delong' ? "DeLong's normal approximation" : 'resamples'} (ties are not wins), i.e. when the lower ${pct(c.winRateThreshold)} bound of the improvement is above ${fmt(c.minDelta, d.delta)}` +
        (c.minMetric !== undefined ? `, with ${metricName} ${c.higherIsBetter ? '≥' : '≤'} ${fmt(c.minMetric, d.value)}` : '') +
        '.',
      '',
    );
    lines.push(...checksLines(record, view));
    const svg = summarySvg(record);
    if (svg) lines.push(`![Bootstrap distributions](data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')})`, '');
    // Where a summary renderer drops data: images (or the chart could not be drawn), the tab still has
    // every chart and number.
    const tab = resultsTabUrl(record);
    if (tab) lines.push(`All charts and numbers: the [Model evaluation tab](${tab}) of this run.`, '');
  }
  if (record.promotion?.version) {
    const v = link(`${record.registry.modelName} version ${record.promotion.version}`, record.promotion.versionUrl);
    lines.push(record.promotion.applied ? `Promoted: ${v} → ${mdCell(record.registry.target)}.` : `Not applied (dry run): ${v}.`, '');
  }
  if (record.challenger) {
    const v = link(`${record.registry.modelName} version ${record.challenger.version}`, record.challenger.versionUrl);
    const into = record.target ? ` into ${mdCell(record.target.modelName)}` : '';
    lines.push(`Challenger: ${v} (${mdCell(record.challenger.marker)}). Production is unchanged until the promote action promotes it${into}.`, '');
  }
  if (record.skippedCandidates.length > 0) {
    lines.push('Skipped candidates:', '');
    for (const s of record.skippedCandidates) lines.push(`- ${mdCell(s.runId)}: ${mdCell(s.reason)}`);
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * Contribution id of the extension's build results tab (publisher.extension.contribution, as Azure DevOps
 * names it in `view=`). The private dev variant has another extension id; its link opens the run's
 * summary instead, which is where the user already is.
 */
export const RESULTS_TAB_VIEW = 'mlops-pipelines.databricks-mlops.evaluation-results-tab';

/** The build results page opened on the Model evaluation tab, when the record knows the build's link. */
function resultsTabUrl(record: DecisionRecord): string | undefined {
  const build = record.context.links.build;
  return build ? `${build}&view=${RESULTS_TAB_VIEW}` : undefined;
}

/** The build tab's markdown-safe chart of the distributions; omitted (never fatal) if it cannot be drawn. */
function summarySvg(record: DecisionRecord): string {
  try {
    // Required here, not imported: the bundle then initialises ECharts only when a summary is written,
    // which keeps it off the start-up path of every run (and of every bad-input failure). A dynamic import()
    // would make renderSummary async for every caller.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous lazy load, on purpose (above)
    const { renderDistributionSvg } = require('../../report/svg') as typeof import('../../report/svg');
    return renderDistributionSvg(record);
  } catch {
    return '';
  }
}
