/**
 * Reads the decision record that the Evaluate & Promote task attaches to a build
 * (`##vso[task.addattachment type=mlopspipelines.evaluation;name=evaluation.json;]`) into a normalised view.
 *
 * The record crosses a process and version boundary (an older or newer task may have written it), so it is
 * read defensively: every field is checked, optional fields that are malformed are dropped with a warning,
 * and only what a page cannot be drawn without (the decision kind and the models) makes it fail.
 * Nothing here touches the DOM, so the same code runs in the tab, in the static report and in Node tests.
 */

/**
 * The schema tag the Evaluate & Promote task writes into the record (evaluation.json). v2 adds the problem
 * type, class names, guardrails and slices (docs/decision-record.md); a v2 record of a binary comparison
 * without guardrails or slices holds nothing v1 did not.
 */
export const DECISION_RECORD_SCHEMA = 'mlopspipelines.evaluation/v2';
/** The schema of records written before guardrails and slices; still read, and drawn exactly as before. */
export const DECISION_RECORD_SCHEMA_V1 = 'mlopspipelines.evaluation/v1';
/** Every schema tag a reader accepts (the build tab, the promote action, Deploy Model to Serving). */
export const READABLE_RECORD_SCHEMAS: readonly string[] = Object.freeze([DECISION_RECORD_SCHEMA_V1, DECISION_RECORD_SCHEMA]);
/** A schema tag of the decision record that this version reads. */
export type DecisionRecordSchema = typeof DECISION_RECORD_SCHEMA_V1 | typeof DECISION_RECORD_SCHEMA;

/** True when `schema` is a decision record schema this version reads (v1 or v2). */
export function isDecisionRecordSchema(schema: unknown): schema is DecisionRecordSchema {
  return typeof schema === 'string' && READABLE_RECORD_SCHEMAS.includes(schema);
}
/** Attachment type the Evaluate & Promote task uses for its decision record. */
export const EVALUATION_ATTACHMENT_TYPE = 'mlopspipelines.evaluation';
/** Attachment name of the decision record. */
export const EVALUATION_ATTACHMENT_NAME = 'evaluation.json';

export type DecisionKind = 'promote' | 'keep' | 'none';

/** A candidate compared with production; every delta is oriented so that positive means "candidate better". */
export interface VersusBaselineView {
  winRate: number;
  meanDelta: number;
  deltaCi?: [number, number];
  shareAboveMinDelta?: number;
  /** The interval the gate used: the one-sided lower bound of Δ at the win-rate level (records from older tasks lack it). */
  gateBound?: number;
  /** DeLong could not weigh the difference (undefined or zero variance): why. */
  undetermined?: string;
  pValue?: number;
  z?: number;
  variance?: number;
}

export interface ModelView {
  /** Column name in the predictions and in the engine's decision (`production`, `run_<id>`). */
  name: string;
  /** What people call it: the MLflow run name when the task recorded one, else `name`. */
  label: string;
  estimate: number;
  mean?: number;
  ci?: [number, number];
  isBaseline: boolean;
  isBest: boolean;
  vsBaseline?: VersusBaselineView;
  /** MLflow run that produced this model's scores, when the task recorded it. */
  runId?: string;
  /** http(s) link to that run (never any other scheme). */
  runUrl?: string;
  /** Registered model version, when known (production, or the version created by a promotion). */
  version?: string;
  /** http(s) link to that version. */
  versionUrl?: string;
  /** Per-resample metric (bootstrap only). */
  distribution?: number[];
  /** Per-resample oriented delta against production (candidates, bootstrap only). */
  deltaDistribution?: number[];
}

export interface LinkView {
  label: string;
  url: string;
}

export interface ContextView {
  modelName?: string;
  registry?: string;
  /** What promotion moves, in the task's words: "alias champion", "stage Production". */
  target?: string;
  productionVersion?: string;
  promotedVersion?: string;
  bestCandidateRunId?: string;
  buildId?: string;
  buildNumber?: string;
  links: LinkView[];
}

export interface SkippedCandidateView {
  runId: string;
  reason: string;
}

export type ProblemTypeView = 'binaryClassification' | 'regression' | 'multiclass';

/** One guardrail's verdict for the best candidate (a v2 record's `decision.guardrails[]`). Deltas are oriented: positive = better. */
export interface GuardrailView {
  metric: string;
  higherIsBetter: boolean;
  /** Largest allowed worsening, in the metric's units. */
  maxWorsening: number;
  candidate?: string;
  baselineEstimate: number;
  candidateEstimate: number;
  meanDelta: number;
  deltaCi?: [number, number];
  /** Resamples in which the worsening exceeded `maxWorsening`, and their share. */
  exceeded?: number;
  exceedShare: number;
  /** The share must stay below this (1 − win rate). */
  allowedShare: number;
  passed: boolean;
}

/** One slice of a slice column (primary metric, bootstrapped within the slice). */
export interface SliceView {
  name: string;
  rows: number;
  judged: boolean;
  /** Why the slice is not judged (too small, beyond the cap, cannot be bootstrapped). */
  note?: string;
  baselineEstimate?: number;
  candidateEstimate?: number;
  meanDelta?: number;
  deltaCi?: [number, number];
  /** Share of the slice's resamples in which the worsening exceeded the tolerance. */
  worseShare?: number;
  passed?: boolean;
}

/** The slice check of one column (a v2 record's `decision.slices[]`). */
export interface SliceReportView {
  column: string;
  candidate?: string;
  minRows?: number;
  tolerance?: number;
  /** The most slices judged; `capped` says whether more slices were large enough. */
  maxJudged?: number;
  capped: boolean;
  passed: boolean;
  /** Judged slices first, worst mean delta first; then the others, largest first. */
  slices: SliceView[];
}

/** Everything the report draws, already validated. */
export interface EvaluationView {
  decision: DecisionKind;
  /** The engine's reason. */
  reason: string;
  /** The task's one-sentence account of what it did (includes the reason), when the record has it. */
  sentence?: string;
  /** The task only reported what it would do. */
  dryRun: boolean;
  /** The task's outcome when it differs from the engine's decision: `challenger` (marked, not promoted). */
  outcome?: string;
  /** Candidates the task could not evaluate, with why. */
  skipped: SkippedCandidateView[];
  metric: string;
  /** Deltas are oriented anyway; this only decides the words used ("higher"/"lower" is better). */
  higherIsBetter: boolean;
  method: string;
  seed?: string;
  resamples?: number;
  confidence?: number;
  winRateThreshold?: number;
  minDelta?: number;
  minMetric?: number;
  baseline?: string;
  best?: string;
  models: ModelView[];
  degenerateResamples?: number;
  n?: number;
  positives?: number;
  /** Absent for binary classification (and in every v1 record). */
  problemType?: ProblemTypeView;
  /** Multiclass: K, the rows of each class and, when the predictions file named them, the class values. */
  classes?: number;
  classCounts?: number[];
  classNames?: string[];
  /** The guardrails' verdicts (empty without guardrails). */
  guardrails: GuardrailView[];
  /** One slice check per slice column, in the order given (empty without slices). */
  sliceReports: SliceReportView[];
  context: ContextView;
  /** Problems found while reading optional fields; shown under the report so nothing is hidden. */
  warnings: string[];
}

/** The record cannot be shown at all (not JSON, no decision, no models...). */
export class RecordError extends Error {
  override name = 'RecordError';
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function pair(v: unknown): [number, number] | undefined {
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const a = finite(v[0]);
  const b = finite(v[1]);
  return a !== undefined && b !== undefined && a <= b ? [a, b] : undefined;
}

/** Only http(s) links reach an href: a record is data, and a `javascript:` URL in it must not become code. */
export function safeUrl(v: unknown): string | undefined {
  const s = text(v);
  if (s === undefined) return undefined;
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

function numberArray(v: unknown): number[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const out: number[] = [];
  for (const x of v) {
    const n = finite(x);
    if (n !== undefined) out.push(n);
  }
  return out.length > 0 ? out : undefined;
}

const LINK_LABELS: Record<string, string> = {
  build: 'Build',
  experiment: 'MLflow experiment',
  registeredModel: 'Registered model',
  productionModel: 'Production model version',
  promotedModel: 'Promoted model version',
  bestCandidateRun: 'Best candidate run',
  scoringRun: 'Scoring run',
  predictions: 'Predictions',
};

function readContext(raw: unknown, warnings: string[]): { ctx: ContextView; runs: Map<string, { id?: string; url?: string; version?: string }> } {
  const ctx: ContextView = { links: [] };
  const runs = new Map<string, { id?: string; url?: string; version?: string }>();
  if (raw === undefined) return { ctx, runs };
  if (!isObj(raw)) {
    warnings.push('context is not an object; task details are not shown');
    return { ctx, runs };
  }
  ctx.modelName = text(raw.modelName);
  ctx.registry = text(raw.registry);
  ctx.productionVersion = text(raw.productionVersion);
  ctx.promotedVersion = text(raw.promotedVersion);
  ctx.bestCandidateRunId = text(raw.bestCandidateRunId);
  ctx.buildId = text(raw.buildId);
  ctx.buildNumber = text(raw.buildNumber);
  // Per-model runs: `runs: { [model]: { runId, url, version } }` (a bare run id string is accepted too).
  if (isObj(raw.runs)) {
    for (const [name, r] of Object.entries(raw.runs)) {
      if (typeof r === 'string') runs.set(name, { id: text(r) });
      else if (isObj(r)) runs.set(name, { id: text(r.runId), url: safeUrl(r.url), version: text(r.version) });
    }
  }
  if (isObj(raw.links)) {
    for (const [key, value] of Object.entries(raw.links)) {
      if (key === 'runs') continue;
      const url = safeUrl(value);
      if (url) ctx.links.push({ label: LINK_LABELS[key] ?? key, url });
      else if (value !== undefined && value !== null) warnings.push(`link '${key}' is not an http(s) URL and is not shown`);
    }
    if (isObj(raw.links.runs)) {
      for (const [name, value] of Object.entries(raw.links.runs)) {
        const url = safeUrl(value);
        const prev = runs.get(name) ?? {};
        if (url) runs.set(name, { ...prev, url: prev.url ?? url });
      }
    }
  }
  return { ctx, runs };
}

function readSkipped(raw: unknown): SkippedCandidateView[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObj).map((s) => ({ runId: text(s.runId) ?? '?', reason: text(s.reason) ?? 'no reason given' }));
}

/** The task's per-model entries by key; entries without a key are left out. */
function readModelEntries(raw: unknown): Map<string, Obj> {
  const entries = new Map<string, Obj>();
  if (Array.isArray(raw)) {
    for (const e of raw) if (isObj(e) && text(e.key) !== undefined) entries.set(text(e.key) as string, e);
  }
  return entries;
}

/** A model's comparison with production; undefined (with a warning) without a win rate or mean delta. */
function readVsBaseline(vb: Obj, name: string, warnings: string[]): ModelView['vsBaseline'] {
  const winRate = finite(vb.winRate);
  const meanDelta = finite(vb.meanDelta);
  if (winRate === undefined || meanDelta === undefined) {
    warnings.push(`model '${name}': comparison with production has no win rate or mean delta`);
    return undefined;
  }
  return {
    winRate,
    meanDelta,
    deltaCi: pair(vb.deltaCi),
    shareAboveMinDelta: finite(vb.shareAboveMinDelta),
    gateBound: finite(vb.gateBound),
    undetermined: text(vb.undetermined),
    pValue: finite(vb.pValue),
    z: finite(vb.z),
    variance: finite(vb.variance),
  };
}

const PROBLEM_TYPES: readonly string[] = ['binaryClassification', 'regression', 'multiclass'];

/** Metrics where a lower value is better, for records that do not say (the engine's always do). */
const LOWER_IS_BETTER = new Set(['log_loss', 'brier', 'rmse', 'mae', 'mape']);

/** Orientation of a metric when the record does not give it: the engine's table first, then the name's words. */
export function defaultHigherIsBetter(metric: string): boolean {
  return !LOWER_IS_BETTER.has(metric) && !/loss|brier|error/i.test(metric);
}

function readGuardrail(g: unknown, i: number, warnings: string[]): GuardrailView | undefined {
  const metric = isObj(g) ? text(g.metric) : undefined;
  if (!isObj(g) || metric === undefined) {
    warnings.push(`guardrail #${i + 1} names no metric and is not shown`);
    return undefined;
  }
  const view = {
    metric,
    higherIsBetter: typeof g.higherIsBetter === 'boolean' ? g.higherIsBetter : defaultHigherIsBetter(metric),
    maxWorsening: finite(g.maxWorsening),
    candidate: text(g.candidate),
    baselineEstimate: finite(g.baselineEstimate),
    candidateEstimate: finite(g.candidateEstimate),
    meanDelta: finite(g.meanDelta),
    deltaCi: pair(g.deltaCi),
    exceeded: finite(g.exceeded),
    exceedShare: finite(g.exceedShare),
    allowedShare: finite(g.allowedShare),
    passed: typeof g.passed === 'boolean' ? g.passed : undefined,
  };
  const missing = (['maxWorsening', 'baselineEstimate', 'candidateEstimate', 'meanDelta', 'exceedShare', 'allowedShare', 'passed'] as const).filter(
    (k) => view[k] === undefined,
  );
  if (missing.length > 0) {
    warnings.push(`guardrail on ${metric}: ${missing.join(', ')} missing or not valid; the guardrail is not shown`);
    return undefined;
  }
  if (g.deltaCi !== undefined && view.deltaCi === undefined) warnings.push(`guardrail on ${metric}: deltaCi is not a [low, high] pair`);
  return view as GuardrailView;
}

function readSlice(s: unknown, i: number, column: string, warnings: string[]): SliceView | undefined {
  const name = isObj(s) ? text(s.name) : undefined;
  const rows = isObj(s) ? finite(s.rows) : undefined;
  if (!isObj(s) || name === undefined || rows === undefined || typeof s.judged !== 'boolean') {
    warnings.push(`slice #${i + 1} of '${column}' has no name, row count or judged flag and is not shown`);
    return undefined;
  }
  const view: SliceView = { name, rows, judged: s.judged, note: text(s.note) };
  if (!s.judged) return view;
  view.baselineEstimate = finite(s.baselineEstimate);
  view.candidateEstimate = finite(s.candidateEstimate);
  view.meanDelta = finite(s.meanDelta);
  view.deltaCi = pair(s.deltaCi);
  view.worseShare = finite(s.worseShare);
  view.passed = typeof s.passed === 'boolean' ? s.passed : undefined;
  if (view.meanDelta === undefined || view.passed === undefined) {
    warnings.push(`slice '${name}' of '${column}' is judged but has no mean delta or verdict and is not shown`);
    return undefined;
  }
  return view;
}

/** Judged slices worst mean delta first (ties by name), then the others largest first: the order the engine writes, enforced. */
function sliceOrder(a: SliceView, b: SliceView): number {
  if (a.judged !== b.judged) return a.judged ? -1 : 1;
  if (a.judged) return (a.meanDelta as number) - (b.meanDelta as number) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return b.rows - a.rows;
}

function readSliceReport(r: unknown, i: number, warnings: string[]): SliceReportView | undefined {
  const column = isObj(r) ? text(r.column) : undefined;
  if (!isObj(r) || column === undefined || !Array.isArray(r.slices)) {
    warnings.push(`slice check #${i + 1} has no column or no slices list and is not shown`);
    return undefined;
  }
  const slices = r.slices.map((s, j) => readSlice(s, j, column, warnings)).filter((s): s is SliceView => s !== undefined);
  // The column's verdict is the slices' (the engine's rule): a record must not pass a column whose slices it shows failing.
  const passed = slices.every((s) => s.passed !== false);
  if (typeof r.passed === 'boolean' && r.passed !== passed)
    warnings.push(`slices of '${column}': the recorded verdict does not match its slices; the slices' verdict is shown`);
  return {
    column,
    candidate: text(r.candidate),
    minRows: finite(r.minRows),
    tolerance: finite(r.tolerance),
    maxJudged: finite(r.maxJudged),
    capped: r.capped === true,
    passed,
    slices: slices.sort(sliceOrder),
  };
}

function listOf(raw: unknown, field: string, warnings: string[]): unknown[] {
  if (raw === undefined) return [];
  if (Array.isArray(raw)) return raw;
  warnings.push(`${field} is not a list and is not shown`);
  return [];
}

type ProblemFields = Pick<EvaluationView, 'problemType' | 'classes' | 'classCounts' | 'classNames' | 'guardrails' | 'sliceReports'>;

/** The fields of a v2 record: problem type, classes, guardrails and slices. All optional; a v1 record has none. */
function readProblemFields(d: Obj, warnings: string[]): ProblemFields {
  const out: ProblemFields = { guardrails: [], sliceReports: [] };
  if (d.problemType !== undefined) {
    if (typeof d.problemType === 'string' && PROBLEM_TYPES.includes(d.problemType)) out.problemType = d.problemType as ProblemTypeView;
    else warnings.push('problemType is not binaryClassification, regression or multiclass; the problem type is not shown');
  }
  out.classes = finite(d.classes);
  if (d.classCounts !== undefined) {
    const counts = Array.isArray(d.classCounts) ? d.classCounts.map(finite) : [];
    if (counts.length > 0 && counts.every((c) => c !== undefined)) out.classCounts = counts as number[];
    else warnings.push('classCounts is not a list of numbers and is not shown');
  }
  if (d.classNames !== undefined) {
    const names = Array.isArray(d.classNames) ? d.classNames.map(text) : [];
    const fits = out.classes === undefined || names.length === out.classes;
    if (names.length > 0 && fits && names.every((n) => n !== undefined)) out.classNames = names as string[];
    else warnings.push('classNames is not a list of one name per class and is not shown');
  }
  out.guardrails = listOf(d.guardrails, 'guardrails', warnings)
    .map((g, i) => readGuardrail(g, i, warnings))
    .filter((g): g is GuardrailView => g !== undefined);
  // One report per slice column; a single report (one column, as the first engine with slices wrote it) is read as a list of one.
  const rawSlices = isObj(d.slices) ? [d.slices] : listOf(d.slices, 'slices', warnings);
  out.sliceReports = rawSlices.map((r, i) => readSliceReport(r, i, warnings)).filter((r): r is SliceReportView => r !== undefined);
  return out;
}

/** What the task adds around the engine's decision: its sentence, dry run, outcome, skipped candidates; and a word on an unknown schema. */
function taskFields(input: Obj, warnings: string[]): Pick<EvaluationView, 'sentence' | 'dryRun' | 'outcome' | 'skipped'> {
  if (input.schema !== undefined && !isDecisionRecordSchema(input.schema)) {
    warnings.push(
      `the record's schema ${JSON.stringify(input.schema)} is not one this version reads (${READABLE_RECORD_SCHEMAS.join(', ')}); it is shown as far as it is understood`,
    );
  }
  return { sentence: text(input.sentence), dryRun: input.dryRun === true, outcome: text(input.outcome), skipped: readSkipped(input.skippedCandidates) };
}

/**
 * Normalises a decision record: either `{ decision: Decision, context }` as the Evaluate & Promote task
 * writes it, or a bare engine `Decision` (what `mlops-eval --json` prints).
 * @throws RecordError when the decision or the models cannot be read.
 */
export function readEvaluationRecord(input: unknown): EvaluationView {
  if (!isObj(input)) throw new RecordError('The evaluation record is not a JSON object.');
  const warnings: string[] = [];
  const d: unknown = isObj(input.decision) ? input.decision : input;
  if (!isObj(d)) throw new RecordError('The evaluation record has no decision.');
  const kind = d.decision;
  if (kind !== 'promote' && kind !== 'keep' && kind !== 'none') {
    throw new RecordError(`The evaluation record has no valid decision (expected promote, keep or none, got ${JSON.stringify(kind) ?? 'nothing'}).`);
  }
  if (!Array.isArray(d.models)) throw new RecordError('The evaluation record has no models list.');

  const task = d !== input ? taskFields(input, warnings) : { dryRun: false, skipped: [] };
  const { ctx, runs } = readContext(input.context, warnings);
  // The task's per-model entries (`models: [{ key, role, runId, runName, runUrl, version, versionUrl }]`).
  const entries = d !== input ? readModelEntries(input.models) : new Map<string, Obj>();
  const promotion = isObj(input.promotion) ? input.promotion : undefined;
  if (d !== input && isObj(input.registry)) ctx.target = text(input.registry.target);
  const baseline = text(d.baseline);
  const best = text(d.best);
  const distributions = isObj(d.distributions) ? d.distributions : {};
  const deltaDistributions = isObj(d.deltaDistributions) ? d.deltaDistributions : {};

  const models: ModelView[] = [];
  d.models.forEach((m, i) => {
    if (!isObj(m) || text(m.name) === undefined || finite(m.estimate) === undefined) {
      warnings.push(`model #${i + 1} has no name or no finite estimate and is not shown`);
      return;
    }
    const name = text(m.name) as string;
    const isBaseline = m.isBaseline === true || (baseline !== undefined && name === baseline);
    const entry = entries.get(name);
    const view: ModelView = { name, label: text(entry?.runName) ?? name, estimate: m.estimate as number, isBaseline, isBest: best === name };
    view.mean = finite(m.mean);
    view.ci = pair(m.ci);
    if (m.ci !== undefined && view.ci === undefined) warnings.push(`model '${name}': ci is not a [low, high] pair`);
    if (isObj(m.vsBaseline)) {
      const vsBaseline = readVsBaseline(m.vsBaseline, name, warnings);
      if (vsBaseline !== undefined) view.vsBaseline = vsBaseline;
    }
    view.distribution = numberArray(distributions[name]);
    view.deltaDistribution = numberArray(deltaDistributions[name]);
    const run = runs.get(name);
    view.runId = text(entry?.runId) ?? run?.id;
    view.version = text(entry?.version) ?? run?.version;
    view.versionUrl = safeUrl(entry?.versionUrl);
    // context.runs[production].url is the version page; a run link must lead to a run.
    view.runUrl = safeUrl(entry?.runUrl) ?? (entry?.role === 'production' ? undefined : run?.url);
    if (isBaseline && view.version === undefined) view.version = ctx.productionVersion;
    if (view.isBest && d.decision === 'promote' && view.version === undefined) {
      view.version = ctx.promotedVersion ?? (promotion?.applied === true ? text(promotion.version) : undefined);
      view.versionUrl = view.versionUrl ?? (promotion?.applied === true ? safeUrl(promotion.versionUrl) : undefined);
    }
    if (view.isBest && view.runId === undefined) view.runId = ctx.bestCandidateRunId;
    models.push(view);
  });
  if (models.length === 0 && d.decision !== 'none') throw new RecordError('The evaluation record lists no readable model.');

  const metric = text(d.metric) ?? 'metric';
  const higherIsBetter = typeof d.higherIsBetter === 'boolean' ? d.higherIsBetter : defaultHigherIsBetter(metric);
  const problem = readProblemFields(d, warnings);
  return {
    decision: kind,
    reason: text(d.reason) ?? '',
    ...task,
    metric,
    higherIsBetter,
    method: text(d.method) ?? 'bootstrap',
    seed: text(d.seed),
    resamples: finite(d.resamples),
    confidence: finite(d.confidence),
    winRateThreshold: finite(d.winRateThreshold),
    minDelta: finite(d.minDelta),
    minMetric: finite(d.minMetric),
    baseline,
    best,
    models,
    degenerateResamples: finite(d.degenerateResamples),
    n: finite(d.n),
    positives: finite(d.positives),
    ...problem,
    context: ctx,
    warnings,
  };
}
