/**
 * Evaluate & Promote: find the candidates, score them and the production model on the same rows, let the
 * engine decide, promote fail-closed, record the decision, then reset the candidate tags.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  finishFromSums,
  finishRegressionFromSums,
  isHigherBetter,
  type AnyMetric,
  type AnyPredictions,
  type CompareOptions,
  type Decision,
  type ReadAnyOptions,
  type ReadAnyResult,
} from '../../engine';
import type { ChunkedFile } from '../../io/predictions-file';
import { filter } from '../../mlflow/filter';
import type { MlflowTracking, RunModel } from '../../mlflow/tracking';
import type { RunInfo } from '../../mlflow/types';
import { tagValue } from '../../mlflow/types';
import type { TaskHost } from '../../pipeline/host';
import { inertJson, inertMarkdown } from '../../pipeline/output';
import type { Clock } from '../../databricks/clock';
import type { ClaimOptions } from './claim';
import type { EvaluateInputs } from './inputs';
import type { ProductionRef, ProductionRegistry } from './registry';
import { publishRecord, readTarget } from './challenger';
import {
  ATTACHMENT_NAME,
  ATTACHMENT_TYPE,
  type ChallengerRecord,
  DecisionRecord,
  type TargetRecord,
  Outcome,
  RECORD_SCHEMA,
  RecordModel,
  renderSummary,
  serializeRecord,
} from './report';
import { trimmedMessage } from './notebook-run';
import { applyDecision } from './promote-decision';
import type { PredictionsProvider, ScoredPredictions } from './scoring';
import { checkLines, comparisonLines } from './log-lines';
import { agentMethod, sparkMethod } from './scale-inputs';

export const PRODUCTION_KEY = 'production';

export interface EvaluateEngine {
  /** Reads the predictions file (CSV streamed from its chunks; Arrow IPC and Parquet whole). */
  readPredictions(file: ChunkedFile, opts: ReadAnyOptions, fileName?: string): ReadAnyResult | Promise<ReadAnyResult>;
  compare(predictions: AnyPredictions, opts: CompareOptions<AnyMetric>): Decision<AnyMetric> | Promise<Decision<AnyMetric>>;
}

export interface EvaluateDeps {
  host: Pick<TaskHost, 'log' | 'setOutput' | 'uploadSummary' | 'addAttachment' | 'uploadArtifact' | 'tempDir' | 'signal' | 'setProgress'>;
  /** Workspace base URL, for links. */
  workspaceUrl: string;
  tracking: Pick<MlflowTracking, 'resolveExperiment' | 'searchRuns' | 'findRunModel' | 'setTag'>;
  registry: ProductionRegistry;
  /** Action evaluate with targetModelName: the model of another catalog the promote action copies into. */
  target?: ProductionRegistry;
  predictions: PredictionsProvider;
  engine: EvaluateEngine;
  /** Wall time for the record's startedAt and finishedAt. */
  clock: Pick<Clock, 'now'>;
  /** The promotion claim's settle interval and TTL (claim.ts); defaults when absent. */
  claim?: ClaimOptions;
}

export interface EvaluateResult {
  outcome: Outcome;
  promoted: boolean;
  modelVersion?: string;
  record: DecisionRecord;
  recordPath: string;
  summaryPath: string;
  message: string;
  /** Problems after the decision was applied (the step succeeds with issues). */
  issues: string[];
}

export interface Candidate {
  key: string;
  runId: string;
  runName?: string;
  experimentId: string;
  info: RunInfo;
  /** Set once the run's model was found (MLflow 2 run artifacts or an MLflow 3 logged model). */
  model?: RunModel;
}

/** Column name of a candidate in the predictions: `run_<run id>` (run ids are hex, so always a valid name). */
export function candidateKey(runId: string): string {
  return `run_${runId}`;
}

export function runUrl(workspaceUrl: string, experimentId: string, runId: string): string {
  return `${workspaceUrl}/#mlflow/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}`;
}

export async function run(inputs: EvaluateInputs, deps: EvaluateDeps): Promise<EvaluateResult> {
  const startedAt = new Date(deps.clock.now()).toISOString();
  // 1. Candidates: finished runs tagged <candidateTag>=true with a logged model, in run-id order (listing order never matters).
  deps.host.setProgress(5, 'Finding candidates');
  const { withModel, skipped } = await findCandidates(inputs, deps);
  // 2. Production (fail closed: only "does not exist" / an empty stage or alias means there is none).
  deps.host.setProgress(10, 'Reading the production model');
  const { production, target } = await readProduction(inputs, deps);
  const { candidates, alreadyProduction } = setAsideProduction(withModel, production, skipped, deps);
  const base = { startedAt, production, skipped };
  if (candidates.length === 0) return noCandidates(inputs, deps, base, target, alreadyProduction);
  // 3. Scoring: every candidate and production on the same rows; the engine decides.
  const { scored, decision } = await scoreAndCompare(inputs, deps, candidates, production);
  // 4. Promotion (promote-decision.ts).
  const best = decision.best ? candidates.find((c) => c.key === decision.best) : undefined;
  if (decision.best && !best) throw new Error(`The engine chose ${decision.best}, which is not a candidate.`);
  const applied = await applyDecision(inputs, deps, decision, best, production);
  // 5. Record, then (only then) reset the candidate tags.
  deps.host.setProgress(90, 'Recording the decision');
  const { outcome, promotion, challenger, issues, sentence } = applied;
  const record = buildRecord(inputs, deps, {
    ...base,
    outcome,
    sentence,
    candidates,
    decision,
    best: best ? { key: best.key, runId: best.runId, runUrl: runUrl(deps.workspaceUrl, best.experimentId, best.runId) } : null,
    promotion,
    scored,
    finishedAt: new Date(deps.clock.now()).toISOString(),
  });
  const paths = await writeRecord(withHandoff(record, inputs, target, challenger), deps, inputs);
  const promoted = outcome === 'promoted' && !inputs.dryRun;
  const resetProblem = await resetTags(
    inputs,
    deps,
    [...candidates, ...alreadyProduction],
    promoted ? `version ${promotion?.version} was promoted and the decision recorded` : 'the decision was recorded',
  );
  if (resetProblem) issues.push(resetProblem);
  setOutputs(deps, {
    outcome,
    promoted,
    production,
    record,
    recordPath: paths.recordPath,
    modelVersion: promotion?.version ?? challenger?.version,
    best: best?.runId,
    decision,
  });
  return { outcome, promoted, modelVersion: promotion?.version, record, ...paths, message: withIssues(sentence, issues), issues };
}

/** Finished runs tagged as candidates, in run-id order; those without a model are skipped (and say why). */
async function findCandidates(inputs: EvaluateInputs, deps: EvaluateDeps): Promise<{ withModel: Candidate[]; skipped: DecisionRecord['skippedCandidates'] }> {
  const { tracking, host } = deps;
  const { log, signal } = host;
  const experimentIds: string[] = [];
  for (const ref of inputs.experiments) {
    const exp = await tracking.resolveExperiment(ref, signal);
    if (!experimentIds.includes(exp.experiment_id)) experimentIds.push(exp.experiment_id);
  }
  const found = new Map<string, Candidate>();
  const runFilter = filter().tag(inputs.candidateTag, '=', 'true').attribute('status', '=', 'FINISHED');
  for await (const r of tracking.searchRuns({ experimentIds, filter: runFilter, runViewType: 'ACTIVE_ONLY', signal })) {
    const runId = r.info.run_id;
    if (!found.has(runId))
      found.set(runId, {
        key: candidateKey(runId),
        runId,
        runName: r.info.run_name ?? tagValue(r, 'mlflow.runName'),
        experimentId: r.info.experiment_id,
        info: r.info,
      });
  }
  const listed = [...found.values()].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
  log.info(`Found ${listed.length} candidate run(s) tagged ${inputs.candidateTag}=true in ${experimentIds.length} experiment(s).`);
  const skipped: DecisionRecord['skippedCandidates'] = [];
  const withModel: Candidate[] = [];
  for (const c of listed) {
    // MLflow 2 (run artifacts <path>/MLmodel) or MLflow 3 (a logged model named <path> from this run): both count.
    const model = await tracking.findRunModel({ info: c.info }, inputs.modelArtifactPath, signal);
    if (model) {
      withModel.push({ ...c, model });
    } else {
      const reason = `no model at '${inputs.modelArtifactPath}': neither run artifacts ${inputs.modelArtifactPath}/MLmodel (MLflow 2) nor a ready MLflow 3 logged model named '${inputs.modelArtifactPath}' from this run`;
      log.warn(`Candidate run ${c.runId}${c.runName ? ` (${c.runName})` : ''} in experiment ${c.experimentId} has ${reason}; skipped.`);
      skipped.push({ runId: c.runId, experimentId: c.experimentId, reason });
    }
  }
  return { withModel, skipped };
}

/** The production model, and with action evaluate and a target model, the target's production (handoff.ts). */
async function readProduction(
  inputs: EvaluateInputs,
  deps: EvaluateDeps,
): Promise<{ production: ProductionRef | undefined; target: TargetRecord | undefined }> {
  const { registry, host } = deps;
  const production = await registry.getProduction(host.signal);
  host.log.info(
    production
      ? `Production: ${registry.modelName} version ${production.version} (${registry.targetDescription}).`
      : `No production model (${registry.modelName}, ${registry.targetDescription}).`,
  );
  // Read with production: the promote action refuses if the target's production moved since (handoff.ts).
  const target = inputs.action === 'evaluate' && deps.target ? await readTarget(deps.target, host.signal) : undefined;
  if (target) host.log.info(`Target ${target.modelName}: ${target.target} is ${target.productionVersion ? `version ${target.productionVersion}` : 'not set'}.`);
  return { production, target };
}

/** A candidate that already is production is not compared with itself (skipped, but its tag is reset). */
function setAsideProduction(
  withModel: Candidate[],
  production: ProductionRef | undefined,
  skipped: DecisionRecord['skippedCandidates'],
  deps: EvaluateDeps,
): { candidates: Candidate[]; alreadyProduction: Candidate[] } {
  const candidates: Candidate[] = [];
  const alreadyProduction: Candidate[] = [];
  for (const c of withModel) {
    if (production?.runId === c.runId) {
      deps.host.log.info(`Candidate run ${c.runId} is already production version ${production.version}; not compared with itself.`);
      skipped.push({ runId: c.runId, experimentId: c.experimentId, reason: `already production version ${production.version}` });
      alreadyProduction.push(c);
    } else {
      candidates.push(c);
    }
  }
  return { candidates, alreadyProduction };
}

interface BaseParts {
  startedAt: string;
  production: ProductionRef | undefined;
  skipped: DecisionRecord['skippedCandidates'];
}

/** Nothing to compare: the decision is recorded, nothing else changes. */
async function noCandidates(
  inputs: EvaluateInputs,
  deps: EvaluateDeps,
  base: BaseParts,
  target: TargetRecord | undefined,
  alreadyProduction: Candidate[],
): Promise<EvaluateResult> {
  const sentence = `No candidates: no finished run tagged ${inputs.candidateTag}=true with a logged model; nothing was changed.`;
  deps.host.log.info(sentence);
  const record = buildRecord(inputs, deps, {
    ...base,
    outcome: 'noCandidates',
    sentence,
    candidates: [],
    decision: null,
    best: null,
    promotion: null,
    scored: undefined,
    finishedAt: new Date(deps.clock.now()).toISOString(),
  });
  const paths = await writeRecord(withHandoff(record, inputs, target, undefined), deps, inputs);
  const resetProblem = await resetTags(inputs, deps, alreadyProduction, 'the decision was recorded');
  setOutputs(deps, { outcome: 'noCandidates', promoted: false, production: base.production, record, recordPath: paths.recordPath });
  const issues = resetProblem ? [resetProblem] : [];
  return { outcome: 'noCandidates', promoted: false, record, ...paths, message: withIssues(sentence, issues), issues };
}

/** Scores every candidate and production on the same rows, checks the file, and lets the engine decide. */
async function scoreAndCompare(
  inputs: EvaluateInputs,
  deps: EvaluateDeps,
  candidates: Candidate[],
  production: ProductionRef | undefined,
): Promise<{ scored: ScoredPredictions; decision: Decision<AnyMetric> }> {
  const { host, registry } = deps;
  host.setProgress(20, 'Scoring');
  // MLflow 2: runs:/<run>/<path>; MLflow 3: models:/<model_id> (the logged model's files are not run artifacts).
  const models = candidates.map((c) => ({ key: c.key, uri: c.model!.uri }));
  if (production) models.push({ key: PRODUCTION_KEY, uri: registry.versionUri(production.version) });
  host.log.info(`Scoring ${models.length} model(s) with the ${deps.predictions.description}.`);
  const scored: ScoredPredictions = await deps.predictions.produce(models, host.signal);
  const d = inputs.decision;
  const opts: CompareOptions<AnyMetric> = {
    baseline: production ? PRODUCTION_KEY : undefined,
    candidates: candidates.map((c) => c.key),
    metric: d.metric,
    // method auto is the paired bootstrap on the agent; on Spark finishOnSpark takes the method the notebook was sent.
    method: agentMethod(d.method),
    resamples: d.resamples,
    seed: d.seed,
    winRate: d.winRate,
    minDelta: d.minDelta,
    minMetric: d.minMetric,
    confidence: d.confidence,
    // Only what is used, so a binary evaluation without guardrails or slices takes the engine's binary path as before.
    ...(d.problemType !== 'binaryClassification' ? { problemType: d.problemType } : {}),
    ...(d.guardrails.length > 0 ? { guardrails: d.guardrails } : {}),
    ...(d.bootstrap !== undefined ? { bootstrap: d.bootstrap } : {}),
  };
  let decision: Decision<AnyMetric>;
  try {
    host.setProgress(60, 'Comparing');
    if (scored.sparkSums !== undefined) {
      decision = finishOnSpark(scored, models, sparkOptions(opts, sparkMethod(d)));
    } else {
      const { predictions, slices } = await deps.engine.readPredictions(
        scored.file!,
        {
          labelColumn: inputs.labelColumn,
          scoreColumns: models.map((m) => m.key),
          ...(d.problemType !== 'binaryClassification' ? { problemType: d.problemType } : {}),
          ...(d.sliceColumns.length > 0 ? { sliceColumns: d.sliceColumns } : {}),
          // The keyed bootstrap's row keys; without it the key column is not read (it need not be in the file).
          ...(d.bootstrap === 'keyedPoisson' ? { rowKeyColumn: d.rowKeyColumn } : {}),
        },
        scored.fileName,
      );
      checkPredictions(predictions, scored, models);
      decision = await deps.engine.compare(predictions, {
        ...opts,
        ...(slices.length > 0 ? { slices, minSliceRows: d.minSliceRows, sliceTolerance: d.sliceTolerance } : {}),
      });
    }
  } finally {
    await scored.cleanup().catch((e: Error) => host.log.warn(`Could not delete the predictions file: ${e.message}`));
  }
  for (const line of comparisonLines(decision, candidates, production?.version)) host.log.info(line);
  for (const line of checkLines(decision, candidates)) host.log[line.level](line.text);
  return { scored, decision };
}

/** The failed guardrails and slices, `guardrail:<metric>` and `slice:<column>=<value>`, for the failedChecks output. */
export function failedChecks(decision: Decision<AnyMetric> | undefined): string[] {
  if (!decision) return [];
  const out = (decision.guardrails ?? []).filter((g) => !g.passed).map((g) => `guardrail:${g.metric}`);
  for (const r of decision.slices ?? []) for (const s of r.slices) if (s.judged && s.passed === false) out.push(`slice:${r.column}=${s.name}`);
  return out;
}

/**
 * The options the Spark sums are finished with: the method sent to the notebook as `comparison.method`
 * (scale-inputs.ts `sparkMethod`: DeLong for ROC AUC with method auto). DeLong takes no bootstrap scheme.
 */
function sparkOptions(opts: CompareOptions<AnyMetric>, method: CompareOptions['method']): CompareOptions<AnyMetric> {
  const { bootstrap: _scheme, ...rest } = opts;
  return method === 'delong' ? { ...rest, method } : { ...opts, method };
}

/**
 * The comparison on Spark: the engine finishes it from the integer sums (spark-sums.ts), which it validates
 * against the models sent and the options (fail closed: a mismatch fails the task before any promotion).
 */
function finishOnSpark(scored: ScoredPredictions, models: Array<{ key: string }>, opts: CompareOptions<AnyMetric>): Decision<AnyMetric> {
  let decision: Decision<AnyMetric>;
  const keys = models.map((m) => m.key);
  try {
    // Regression's sums carry per-model scales and no classes (spark-sums-regression.ts); binary's are spark-sums.ts'.
    decision =
      opts.problemType === 'regression'
        ? finishRegressionFromSums(scored.sparkSums, keys, opts)
        : finishFromSums(scored.sparkSums, keys, opts as CompareOptions);
  } catch (err) {
    throw new Error(`The comparison on Spark cannot be finished: ${(err as Error).message}`);
  }
  const reported = scored.context.rowsReported;
  if (reported !== undefined && reported !== decision.n) {
    throw new Error(`The scoring run reported ${reported} rows but its Spark sums count ${decision.n}; the sums are from another run or incomplete.`);
  }
  return decision;
}

/** The predictions hold as many rows as the scoring run reported and a score column for every model. */
function checkPredictions(predictions: AnyPredictions, scored: ScoredPredictions, models: Array<{ key: string }>): void {
  const reported = scored.context.rowsReported;
  if (reported !== undefined && reported >= 0 && reported !== predictions.n) {
    throw new Error(`The scoring run reported ${reported} rows but the predictions file holds ${predictions.n}; the file is incomplete or from another run.`);
  }
  const present = new Set((predictions.columns as Array<{ name: string }>).map((c) => c.name));
  const missing = models.map((m) => m.key).filter((k) => !present.has(k));
  if (missing.length > 0) {
    throw new Error(
      `The predictions have no score column for ${missing.join(', ')} (columns: ${[...present].join(', ') || 'none'}). Candidates are named run_<run id>, the production model ${PRODUCTION_KEY}.`,
    );
  }
}

/** `<sentence> Issues: a; b.` as Train words its SucceededWithIssues message. */
function withIssues(sentence: string, issues: string[]): string {
  return issues.length > 0 ? `${sentence} Issues: ${issues.join('; ')}.` : sentence;
}

/**
 * Sets `<candidateTag>=false` on the evaluated runs. This runs after the decision was applied and recorded,
 * so a failure is reported (a warning and the returned issue, naming the runs left tagged and what was
 * done) rather than failing a step whose promotion stands; a pipeline cancel still propagates.
 */
async function resetTags(inputs: EvaluateInputs, deps: EvaluateDeps, candidates: Candidate[], done: string): Promise<string | undefined> {
  if (!inputs.resetCandidateTags || inputs.dryRun || candidates.length === 0) return undefined;
  const failed: string[] = [];
  let cause = '';
  for (const c of candidates) {
    try {
      await deps.tracking.setTag(c.runId, inputs.candidateTag, 'false', deps.host.signal);
    } catch (err) {
      if (deps.host.signal.aborted) throw err;
      failed.push(c.runId);
      cause ||= trimmedMessage(err);
    }
  }
  if (failed.length === 0) {
    deps.host.log.info(`Set ${inputs.candidateTag}=false on ${candidates.length} evaluated candidate run(s).`);
    return undefined;
  }
  const issue =
    `${done}, but ${inputs.candidateTag}=true could not be reset on run(s) ${failed.join(', ')} (${cause}); ` +
    `set it to false by hand, or the next evaluation picks them up again`;
  deps.host.log.warn(`${issue[0].toUpperCase()}${issue.slice(1)}.`);
  return issue;
}

interface RecordParts {
  outcome: Outcome;
  sentence: string;
  startedAt: string;
  finishedAt: string;
  production: ProductionRef | undefined;
  candidates: Candidate[];
  skipped: DecisionRecord['skippedCandidates'];
  decision: Decision<AnyMetric> | null;
  best: DecisionRecord['best'];
  promotion: DecisionRecord['promotion'];
  scored: ScoredPredictions | undefined;
}

function buildRecord(inputs: EvaluateInputs, deps: EvaluateDeps, p: RecordParts): DecisionRecord {
  const { registry, workspaceUrl } = deps;
  const models: RecordModel[] = p.candidates.map((c) => ({
    key: c.key,
    role: 'candidate',
    runId: c.runId,
    runName: c.runName,
    experimentId: c.experimentId,
    runUrl: runUrl(workspaceUrl, c.experimentId, c.runId),
    uri: c.model?.uri ?? `runs:/${c.runId}/${inputs.modelArtifactPath}`,
  }));
  if (p.production && p.decision) {
    models.push({
      key: PRODUCTION_KEY,
      role: 'production',
      runId: p.production.runId,
      version: p.production.version,
      versionUrl: registry.versionUrl(workspaceUrl, p.production.version),
      uri: registry.versionUri(p.production.version),
    });
  }
  return {
    schema: RECORD_SCHEMA,
    outcome: p.outcome,
    sentence: p.sentence,
    dryRun: inputs.dryRun,
    registry: { kind: registry.kind, modelName: registry.modelName, target: registry.targetDescription },
    production: p.production
      ? { version: p.production.version, runId: p.production.runId, versionUrl: registry.versionUrl(workspaceUrl, p.production.version) }
      : null,
    best: p.best,
    promotion: p.promotion,
    models,
    skippedCandidates: p.skipped,
    inputs: recordInputs(inputs),
    data: { rows: p.decision?.n ?? 0, positives: p.decision?.positives ?? 0, ...comparedOn(p.scored) },
    // Stored unchanged; typed as the record's (binary) Decision until the record type names every metric.
    decision: (p.decision ?? noCandidateDecision(inputs, p.sentence)) as DecisionRecord['decision'],
    context: {
      modelName: registry.modelName,
      registry: registry.kind === 'unityCatalog' ? 'unity-catalog' : 'workspace',
      productionVersion: p.production?.version ?? null,
      promotedVersion: p.promotion?.applied ? (p.promotion.version ?? null) : null,
      bestCandidateRunId: p.best?.runId ?? null,
      buildId: inputs.build.buildId,
      runs: Object.fromEntries(models.map((m) => [m.key, { runId: m.runId, url: m.role === 'production' ? m.versionUrl : m.runUrl, version: m.version }])),
      links: recordLinks(inputs, deps, p),
      startedAt: p.startedAt,
      finishedAt: p.finishedAt,
      workspaceUrl,
      buildNumber: inputs.build.buildNumber ?? null,
      jobAttempt: inputs.build.jobAttempt,
      sourceVersion: inputs.build.sourceVersion ?? null,
      sourceBranch: inputs.build.sourceBranch ?? null,
      scoringRunId: p.scored?.context.scoringRunId ?? null,
      scoringRunUrl: p.scored?.context.scoringRunUrl ?? null,
      predictionsPath: p.scored?.context.predictionsPath ?? null,
    },
  };
}

/** Issue 23: where the comparison ran, in the record's `data` (absent without the bundled notebook's switch). */
function comparedOn(scored: ScoredPredictions | undefined): Partial<DecisionRecord['data']> {
  const c = scored?.comparison;
  return c ? { comparedOn: c.on, localRowLimit: c.localRowLimit, comparedOnReason: c.sentence } : {};
}

/** The inputs the decision was made with (issue 20's included: problem type, guardrails as `<metric> <max worsening>`, slices). */
function recordInputs(inputs: EvaluateInputs): DecisionRecord['inputs'] {
  const d = inputs.decision;
  const s = inputs.scoring;
  return {
    metric: d.metric,
    method: d.method,
    resamples: d.resamples,
    seed: d.seed,
    winRate: d.winRate,
    minDelta: d.minDelta,
    minMetric: d.minMetric ?? null,
    confidence: d.confidence,
    problemType: d.problemType,
    guardrails: d.guardrails.map((g) => `${g.metric} ${g.maxWorsening}`),
    sliceColumns: d.sliceColumns,
    minSliceRows: d.minSliceRows,
    sliceTolerance: d.sliceTolerance,
    // Issue 23's inputs, only when set (records without them read as before).
    ...(d.bootstrap !== undefined ? { bootstrap: d.bootstrap } : {}),
    ...(d.rowKeyColumn !== undefined ? { rowKeyColumn: d.rowKeyColumn } : {}),
    ...(s?.localRowLimit !== undefined ? { localRowLimit: s.localRowLimit } : {}),
    experiments: inputs.experiments,
    candidateTag: inputs.candidateTag,
    modelArtifactPath: inputs.modelArtifactPath,
    predictionsSource: inputs.predictionsSource,
    evaluationTable: s?.evaluationTable ?? null,
    evaluationQuery: s?.evaluationQuery ?? null,
    labelColumn: inputs.labelColumn,
    maxRows: s?.maxRows ?? null,
    dryRun: inputs.dryRun,
    resetCandidateTags: inputs.resetCandidateTags,
  };
}

function recordLinks(inputs: EvaluateInputs, deps: EvaluateDeps, p: RecordParts): Record<string, string> {
  const links: Record<string, string> = {};
  const b = inputs.build;
  if (b.collectionUri && b.teamProject && /^\d+$/.test(b.buildId)) {
    links.build = `${b.collectionUri.replace(/\/+$/, '')}/${encodeURIComponent(b.teamProject)}/_build/results?buildId=${b.buildId}`;
  }
  if (p.production) links.productionModel = deps.registry.versionUrl(deps.workspaceUrl, p.production.version);
  if (p.promotion?.applied && p.promotion.versionUrl) links.promotedModel = p.promotion.versionUrl;
  if (p.best?.runUrl) links.bestCandidateRun = p.best.runUrl;
  if (p.scored?.context.scoringRunUrl) links.scoringRun = p.scored.context.scoringRunUrl;
  return links;
}

/** The decision record of an evaluation that found no candidate (the engine was not called). */
function noCandidateDecision(inputs: EvaluateInputs, reason: string): Decision<AnyMetric> {
  const d = inputs.decision;
  return {
    decision: 'none',
    reason,
    metric: d.metric,
    ...(d.problemType !== 'binaryClassification' ? { problemType: d.problemType } : {}),
    higherIsBetter: isHigherBetter(d.metric),
    // Nothing ran: the method the agent would have run (auto: the bootstrap).
    method: agentMethod(d.method),
    seed: d.seed,
    resamples: d.method === 'delong' ? 0 : d.resamples,
    confidence: d.confidence,
    winRateThreshold: d.winRate,
    minDelta: d.minDelta,
    ...(d.minMetric !== undefined ? { minMetric: d.minMetric } : {}),
    models: [],
    degenerateResamples: 0,
    n: 0,
    positives: 0,
  };
}

/** Action evaluate: the record says so and carries what the promote action checks (handoff.ts). */
function withHandoff(
  record: DecisionRecord,
  inputs: EvaluateInputs,
  target: TargetRecord | undefined,
  challenger: ChallengerRecord | undefined,
): DecisionRecord {
  if (inputs.action !== 'evaluate') return record;
  return { ...record, action: 'evaluate', challenger: challenger ?? null, target: target ?? null };
}

async function writeRecord(record: DecisionRecord, deps: EvaluateDeps, inputs: EvaluateInputs): Promise<{ recordPath: string; summaryPath: string }> {
  const dir = path.join(deps.host.tempDir, 'mlops-evaluation');
  await fsp.mkdir(dir, { recursive: true });
  const stamp = record.context.buildId.replace(/[^A-Za-z0-9_.-]/g, '_');
  const recordPath = path.join(dir, `evaluation-${stamp}-${process.pid}.json`);
  // Azure DevOps titles the summary section with the file's name, so it is named after what it shows; the
  // per-step folder keeps two Evaluate steps of one job from overwriting each other's file.
  const summaryDir = path.join(dir, `${stamp}-${process.pid}`);
  await fsp.mkdir(summaryDir, { recursive: true });
  const summaryPath = path.join(summaryDir, summaryFileName(record.registry.modelName));
  // Run and model names come from the workspace: the files hold no logging command a later `cat` could run.
  await fsp.writeFile(recordPath, inertJson(serializeRecord(record)), 'utf8');
  await fsp.writeFile(summaryPath, inertMarkdown(renderSummary(record)), 'utf8');
  deps.host.addAttachment(ATTACHMENT_TYPE, ATTACHMENT_NAME, recordPath);
  deps.host.uploadSummary(summaryPath);
  if (inputs.action === 'evaluate') {
    const host = deps.host;
    if (!host.uploadArtifact) throw new Error('This host cannot publish pipeline artifacts, which action evaluate needs.');
    await publishRecord({ tempDir: host.tempDir, log: host.log, uploadArtifact: (name, p) => host.uploadArtifact!(name, p) }, inputs.handoff!.artifactName, {
      recordPath,
      summaryPath,
    });
  }
  return { recordPath, summaryPath };
}

/**
 * `Model evaluation - <model name>.md`, with the characters a file name cannot hold on Windows or Linux replaced by
 * `_`, and `#`, `[` and `]` too: the name travels in the task.uploadsummary command's message, where a model name
 * such as `x ##vso[...]` must not read as a second command. Control characters: U+0000-001F (\p{Cc} without DEL and C1).
 */
export function summaryFileName(modelName: string): string {
  const safe = modelName.replace(/[\\/:*?"<>|#[\]]|(?![\u007f-\u009f])\p{Cc}/gu, '_').trim();
  return `Model evaluation - ${safe || 'model'}.md`;
}

function setOutputs(
  deps: EvaluateDeps,
  o: {
    outcome: Outcome;
    promoted: boolean;
    production: ProductionRef | undefined;
    record: DecisionRecord;
    recordPath: string;
    modelVersion?: string;
    best?: string;
    decision?: Decision<AnyMetric>;
  },
): void {
  const set = deps.host.setOutput;
  set('decision', o.outcome);
  set('promoted', o.promoted ? 'true' : 'false');
  set('modelVersion', o.modelVersion ?? '');
  set('bestCandidateRunId', o.best ?? '');
  set('productionVersion', o.production?.version ?? '');
  const vs = o.decision?.models.find((m) => m.name === o.decision?.best)?.vsBaseline;
  set('winRate', vs ? String(vs.winRate) : '');
  set('metricDelta', vs ? String(vs.meanDelta) : '');
  set('reportPath', o.recordPath);
  set('decisionRecordPath', o.recordPath);
  set('failedChecks', failedChecks(o.decision).join(','));
}
