import os from 'node:os';
import { systemClock } from '../../databricks/clock';
import { FilesClient } from '../../databricks/files';
import { JobsClient } from '../../databricks/jobs';
import { WorkspaceClient } from '../../databricks/workspace';
import { compareModels, compareModelsParallel, type CompareOptions, type Predictions } from '../../engine';
import { readAnyPredictionsChunked } from '../../io/predictions-file';
import { WorkspaceModelRegistry } from '../../mlflow/registry';
import { MlflowTracking } from '../../mlflow/tracking';
import { UnityCatalogModelRegistry } from '../../mlflow/unity-catalog';
import { connectFromInputs } from '../../pipeline/client';
import type { TaskHost, TaskOutcome } from '../../pipeline/host';
import { Inputs } from '../../pipeline/inputs';
import { taskLibInputSource } from '../../pipeline/task-lib-inputs';
import { parseAction } from './handoff';
import { checkPredictionsFile, parseEvaluateInputs, type EvaluateInputs } from './inputs';
import { autoMethodNote, comparisonParameter } from './scale-inputs';
import { mainPromote } from './promote-main';
import { REGISTER_NOTEBOOK_SOURCE, SCORING_NOTEBOOK_SOURCE } from './notebook-source';
import { AliasRegistry, ProductionRegistry, StageRegistry } from './registry';
import { run, type EvaluateEngine } from './run';
import { pollOverride as sharedPollOverride } from '../common/poll-override';
import { DatabricksScoring, registryUriOf, FilePredictions, PredictionsProvider, type ScoringFeatures } from './scoring';
import { NotebookRegistrar } from './uc-registration';
import { workspaceLine } from '../common/workspace-line';

/** The shared test hook (shared/poll-override.ts) in the run waits' shape. */
function pollOverride(): { initial: number; max: number } | undefined {
  const poll = sharedPollOverride();
  return poll && { initial: poll.initialIntervalMs!, max: poll.maxIntervalMs! };
}

function readyPollOverride(): { initialIntervalMs?: number; maxIntervalMs?: number } {
  return sharedPollOverride() ?? {};
}

/**
 * The promotion claim's settle interval (claim.ts), in ms: DATABRICKS_MLOPS_PROMOTION_SETTLE_MS, a pipeline
 * variable, for registries that answer slowly (longer) or tests (shorter). Default 5 s.
 */
function settleOverride(): number | undefined {
  const raw = process.env.DATABRICKS_MLOPS_PROMOTION_SETTLE_MS;
  if (!raw || !/^\d+$/.test(raw.trim())) return undefined;
  // Below the 60 s per-request timeout: the claim's guarantee needs a timed-out write to void its round.
  return Math.min(30_000, Math.max(50, Number(raw)));
}

/**
 * The engine as the task uses it: the reader of every problem type (CSV streamed from the file's chunks),
 * and the comparison, binary bootstraps on worker threads.
 */
function evaluateEngine(): EvaluateEngine {
  return {
    readPredictions: (file, opts, fileName) => readAnyPredictionsChunked(file, opts, fileName),
    // Regression, multiclass, guardrails and slices run on the calling thread (the engine's parallel path is binary only).
    compare: (preds, opts) =>
      opts.problemType === undefined && opts.guardrails === undefined && opts.slices === undefined
        ? compareModelsParallel(preds as Predictions, { ...(opts as CompareOptions), threads: Math.max(1, Math.min(8, os.cpus().length)) })
        : compareModels(preds, opts),
  };
}

/** Issue 23's switch between the agent and Spark: the bundled notebook only (a user's scoring job keeps the local path). */
function scaleFeatures(parsed: EvaluateInputs): Pick<ScoringFeatures, 'scale'> {
  if (parsed.predictionsSource !== 'scoringNotebook') return {};
  const d = parsed.decision;
  const autoMethod = autoMethodNote(d);
  return {
    scale: {
      localRowLimit: parsed.scoring!.localRowLimit,
      rowKeyColumn: d.rowKeyColumn,
      comparison: comparisonParameter(d),
      ...(autoMethod ? { autoMethod } : {}),
    },
  };
}

/** Evaluate & Promote: every input is parsed before the first remote call. */
export async function main(host: TaskHost): Promise<TaskOutcome> {
  const inputs = new Inputs(taskLibInputSource());
  if (parseAction(inputs) === 'promote') return mainPromote(host, inputs, { readyPoll: readyPollOverride(), poll: pollOverride(), settleMs: settleOverride() });
  const parsed = parseEvaluateInputs(inputs);
  if (parsed.predictionsFile !== undefined) checkPredictionsFile(parsed.predictionsFile);
  const { api, connection } = connectFromInputs(inputs, host, { taskName: 'DatabricksEvaluatePromote' });
  host.log.info(workspaceLine(connection));
  const poll = pollOverride();
  const readyPoll = readyPollOverride();

  const runLabel = `${parsed.modelName} (build ${parsed.build.buildNumber ?? parsed.build.buildId})`;
  let registry: ProductionRegistry;
  if (parsed.registry.kind === 'workspace') {
    registry = new StageRegistry(new WorkspaceModelRegistry(api, { clock: systemClock }), parsed.modelName, parsed.registry.stage, readyPoll);
  } else {
    // Unity Catalog: new versions are registered by MLflow on Databricks (the bundled registration notebook).
    const registrar = new NotebookRegistrar(
      {
        jobs: new JobsClient(api, { clock: systemClock }),
        workspace: new WorkspaceClient(api),
        log: host.log,
        onCancel: (c) => host.onCancel(c),
        notebookSource: REGISTER_NOTEBOOK_SOURCE,
        pollIntervalMs: poll,
      },
      parsed.registration!,
      parsed.build,
      `Evaluate & Promote: register ${runLabel}`,
    );
    registry = new AliasRegistry(new UnityCatalogModelRegistry(api, { clock: systemClock }), parsed.modelName, parsed.registry.alias, readyPoll, registrar, {
      'mlops.evaluation.build_id': parsed.build.buildId,
    });
  }

  // Action evaluate with targetModelName: the target's production is recorded for the promote action's check.
  const targetName = parsed.action === 'evaluate' ? parsed.handoff?.targetModelName : undefined;
  const target =
    targetName && parsed.registry.kind === 'unityCatalog'
      ? new AliasRegistry(new UnityCatalogModelRegistry(api, { clock: systemClock }), targetName, parsed.registry.alias, readyPoll)
      : undefined;

  let predictions: PredictionsProvider;
  if (parsed.predictionsSource === 'file') {
    predictions = new FilePredictions(parsed.predictionsFile!);
  } else {
    predictions = new DatabricksScoring(
      {
        jobs: new JobsClient(api, { clock: systemClock }),
        workspace: new WorkspaceClient(api),
        files: new FilesClient(api),
        log: host.log,
        tempDir: host.tempDir,
        onCancel: (c) => host.onCancel(c),
        notebookSource: SCORING_NOTEBOOK_SOURCE,
        pollIntervalMs: poll,
      },
      parsed.scoring!,
      parsed.labelColumn,
      parsed.build,
      `Evaluate & Promote ${runLabel}`,
      registryUriOf(parsed.registry.kind),
      {
        problemType: parsed.decision.problemType,
        sliceColumns: parsed.decision.sliceColumns,
        ...scaleFeatures(parsed),
      },
    );
  }

  const result = await run(parsed, {
    host,
    workspaceUrl: connection.host,
    tracking: new MlflowTracking(api, { clock: systemClock }),
    registry,
    target,
    predictions,
    engine: evaluateEngine(),
    clock: systemClock,
    claim: { settleMs: settleOverride() },
  });
  return { result: result.issues.length > 0 ? 'SucceededWithIssues' : 'Succeeded', message: result.message };
}
