/**
 * The Evaluate & Promote inputs, parsed once into a typed, validated object. Every error names the input
 * and says what to change; nothing remote has happened when one is thrown.
 */
import { closeSync, constants as fsConstants, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { checkWorkspacePath, CONTROL_CHARS, InputError, Inputs, truncate } from '../../pipeline/inputs';
import { parseCluster, type ClusterConfig } from '../common/cluster';
import { parseAction, parseHandoff, type EvaluateAction, type HandoffConfig } from './handoff';
import { DEFAULT_WIN_RATE, defaultMinDelta, type AnyMetric, type ProblemType } from '../../engine/types';
import {
  checkGuardrailWinRate,
  checkMinMetric,
  parseGuardrails,
  parseMetric,
  parseProblemType,
  parseSlices,
  PROBLEM_LABEL,
  type ChecksConfig,
} from './problem-inputs';
import { parseLocalRowLimit, parseScaleDecision, type MethodInput, type ScaleDecisionConfig } from './scale-inputs';

/** A metric of the chosen problem type (problem-inputs.ts). */
export type MetricName = AnyMetric;
/** `auto` (the default): the paired bootstrap on the agent, exact DeLong for ROC AUC on Spark (scale-inputs.ts). */
export type MethodName = MethodInput;
export type PredictionsSource = 'scoringNotebook' | 'scoringJob' | 'file';

export type RegistryConfig = { kind: 'workspace'; stage: 'Production' | 'Staging' } | { kind: 'unityCatalog'; alias: string };

export type { ClusterConfig };

export interface ScoringConfig {
  evaluationTable?: string;
  evaluationQuery?: string;
  /** 0 = every row. */
  maxRows: number;
  /** The folder the user chose; the task writes into a unique subfolder of it. */
  outputPath: string;
  /** Where the bundled notebook is imported (scoringNotebook only). */
  notebookPath: string;
  /** Compute for the one-time run (scoringNotebook only). */
  cluster?: ClusterConfig;
  /** The user's scoring job (scoringJob only). */
  jobId?: number;
  /** scoringNotebook only: rows above which the comparison runs on Spark; absent = auto (scale-inputs.ts). */
  localRowLimit?: number;
  timeoutMs: number;
}

/**
 * Unity Catalog only: where and how the bundled registration notebook runs. A UC version is registered
 * client-side (MLflow uploads the files to the version's storage location, then finalizes), so the task
 * runs MLflow's own `register_model` on Databricks instead of calling `model-versions/create` itself.
 */
export interface RegistrationConfig {
  /** Workspace path of the bundled registration notebook: next to the scoring notebook. */
  notebookPath: string;
  /** The same compute inputs as the scoring notebook. */
  cluster: ClusterConfig;
  /** Bound of the registration run (scoringTimeoutMinutes). */
  timeoutMs: number;
}

export interface DecisionConfig extends ChecksConfig, ScaleDecisionConfig {
  /** binaryClassification (the default), regression or multiclass. */
  problemType: ProblemType;
  metric: MetricName;
  method: MethodName;
  resamples: number;
  seed: number;
  winRate: number;
  minDelta: number;
  minMetric?: number;
  confidence: number;
}

export interface EvaluateInputs {
  modelName: string;
  registry: RegistryConfig;
  experiments: string[];
  candidateTag: string;
  /** The artifact path of the candidate's logged model inside its run (`model`). */
  modelArtifactPath: string;
  predictionsSource: PredictionsSource;
  labelColumn: string;
  /** Set for scoringNotebook and scoringJob. */
  scoring?: ScoringConfig;
  /** Absolute path on the agent (file source only). */
  predictionsFile?: string;
  /** Set when registry is unityCatalog. */
  registration?: RegistrationConfig;
  decision: DecisionConfig;
  dryRun: boolean;
  resetCandidateTags: boolean;
  readyTimeoutMs: number;
  /** Pipeline context used for idempotency tokens, tags and the decision record. */
  build: BuildContext;
  /** Absent: evaluateAndPromote. */
  action?: EvaluateAction;
  /** action evaluate: how the winner is handed to the promote action (handoff.ts). */
  handoff?: HandoffConfig;
}

export interface BuildContext {
  buildId: string;
  buildNumber?: string;
  jobAttempt: string;
  /** Distinguishes two Evaluate steps of one job (System.TaskInstanceId). */
  taskInstanceId: string;
  collectionUri?: string;
  teamProject?: string;
  definitionId?: string;
  sourceVersion?: string;
  sourceBranch?: string;
  repositoryName?: string;
}

export const DEFAULT_NOTEBOOK_PATH = '/Shared/mlops-pipelines/evaluate_models';
/** Name of the registration notebook, imported into the scoring notebook's folder. */
export const REGISTER_NOTEBOOK_NAME = 'register_model';
const THREE_LEVEL = /^[^.\s`'"/]+\.[^.\s`'"/]+\.[^.\s`'"/]+$/;
const TAG_KEY = /^[A-Za-z0-9_.\-/ ]{1,250}$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

function fail(name: string, message: string): never {
  throw new InputError(name, message);
}

/** Parses and validates every Evaluate & Promote input except the connection inputs. */
export function parseEvaluateInputs(inputs: Inputs): EvaluateInputs {
  const build = parseBuildContext(inputs);
  const { modelName, registry } = parseRegistryConfig(inputs);
  const action = parseAction(inputs);

  const experiments = inputs.lines('experiments');
  if (experiments.length === 0) fail('experiments', 'Input required: experiments (one experiment path such as /Shared/churn or experiment id per line).');
  for (const e of experiments) {
    if (!/^\d+$/.test(e) && !e.startsWith('/')) {
      fail(
        'experiments',
        `Each line of experiments must be an experiment id (digits) or an absolute workspace path such as /Shared/churn; got "${truncate(e)}".`,
      );
    }
    if (e.startsWith('/')) checkWorkspacePath('experiments', e, '/Shared/churn');
  }
  if (new Set(experiments).size !== experiments.length) fail('experiments', 'experiments lists the same experiment twice.');

  const candidateTag = inputs.optional('candidateTag') ?? 'candidate';
  if (!TAG_KEY.test(candidateTag)) {
    fail('candidateTag', `candidateTag must be an MLflow tag key of letters, digits, _ . - / or space (at most 250); got "${truncate(candidateTag)}".`);
  }
  const modelArtifactPath = inputs.optional('modelArtifactPath') ?? 'model';
  if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(modelArtifactPath)) {
    fail('modelArtifactPath', `modelArtifactPath must be a relative artifact path such as model; got "${truncate(modelArtifactPath)}".`);
  }

  const labelColumn = inputs.optional('labelColumn') ?? 'label';
  if (!COLUMN.test(labelColumn)) fail('labelColumn', `labelColumn must be a column name of letters, digits and _; got "${truncate(labelColumn)}".`);

  const predictionsSource = inputs.oneOf('predictionsSource', ['scoringNotebook', 'scoringJob', 'file'] as const, 'scoringNotebook');
  let scoring: ScoringConfig | undefined;
  let predictionsFile: string | undefined;
  if (predictionsSource === 'file') {
    const raw = inputs.required('predictionsFile', 'a predictions file on the agent (Parquet, Arrow IPC or CSV) with the label and one score column per model');
    const base = inputs.variable('System.DefaultWorkingDirectory') ?? process.cwd();
    predictionsFile = path.resolve(base, raw);
  } else {
    scoring = parseScoring(inputs, predictionsSource);
  }

  const registration = registry.kind === 'unityCatalog' ? parseRegistration(inputs, scoring) : undefined;
  const decision = parseDecision(inputs, build, labelColumn);
  const readyTimeoutMs = inputs.number('readyTimeoutSeconds', { default: 300, min: 1, max: 3600, integer: true })! * 1000;
  return {
    modelName,
    registry,
    experiments,
    candidateTag,
    modelArtifactPath,
    predictionsSource,
    labelColumn,
    scoring,
    predictionsFile,
    registration,
    decision,
    dryRun: inputs.bool('dryRun', false),
    resetCandidateTags: inputs.bool('resetCandidateTags', true),
    readyTimeoutMs,
    build,
    // Only the hand-off actions carry these (evaluateAndPromote parses exactly what it did before).
    ...(action === 'evaluateAndPromote' ? {} : { action, handoff: parseHandoff(inputs, registry) }),
  };
}

/** modelName with registry, championAlias or productionStage (shared by every action). */
export function parseRegistryConfig(inputs: Inputs): { modelName: string; registry: RegistryConfig } {
  const registryKind = inputs.oneOf('registry', ['workspace', 'unityCatalog'] as const, 'unityCatalog');
  const modelName = inputs.required('modelName', 'the registered model to promote into');
  let registry: RegistryConfig;
  if (registryKind === 'unityCatalog') {
    if (!THREE_LEVEL.test(modelName)) {
      fail(
        'modelName',
        `modelName must be a three-level Unity Catalog name <catalog>.<schema>.<model> when registry is unityCatalog; got "${truncate(modelName)}".`,
      );
    }
    const alias = inputs.optional('championAlias') ?? 'champion';
    if (!/^[A-Za-z_][A-Za-z0-9_-]{0,254}$/.test(alias)) {
      fail('championAlias', `championAlias must start with a letter or _ and contain only letters, digits, _ and -; got "${truncate(alias)}".`);
    }
    if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
      fail('championAlias', `championAlias "${alias}" is reserved by MLflow (latest and v<number> are not allowed).`);
    }
    registry = { kind: 'unityCatalog', alias };
  } else {
    if (THREE_LEVEL.test(modelName)) {
      fail(
        'modelName',
        `modelName "${truncate(modelName)}" looks like a Unity Catalog name (catalog.schema.model); set registry to unityCatalog, or use a workspace registry model name.`,
      );
    }
    if (/[`'"\n\r]/.test(modelName) || CONTROL_CHARS.test(modelName) || modelName.length > 256) {
      fail('modelName', 'modelName must not contain quotes or line breaks and must be at most 256 characters.');
    }
    registry = { kind: 'workspace', stage: inputs.oneOf('productionStage', ['Production', 'Staging'] as const, 'Production') };
  }
  return { modelName, registry };
}

function parseScoring(inputs: Inputs, source: 'scoringNotebook' | 'scoringJob'): ScoringConfig {
  const evaluationTable = inputs.optional('evaluationTable');
  const evaluationQuery = inputs.optional('evaluationQuery');
  if ((evaluationTable === undefined) === (evaluationQuery === undefined)) {
    fail(
      evaluationTable === undefined ? 'evaluationTable' : 'evaluationQuery',
      'Set exactly one of evaluationTable and evaluationQuery: the data both the candidates and the production model are scored on.',
    );
  }
  if (evaluationTable !== undefined && !/^[A-Za-z0-9_`-]+(\.[A-Za-z0-9_`-]+){0,2}$/.test(evaluationTable)) {
    fail(
      'evaluationTable',
      `evaluationTable must be a table name such as main.ml.churn_eval; got "${truncate(evaluationTable)}". Use evaluationQuery for anything else.`,
    );
  }
  const maxRows = inputs.number('maxRows', { default: 0, min: 0, max: 1e9, integer: true })!;
  const outputPath = inputs
    .required('outputPath', 'a /Volumes/<catalog>/<schema>/<volume>/... or dbfs:/... folder the scoring run writes its predictions to')
    .replace(/\/+$/, '');
  if (!/^\/Volumes\/[^/\s]+\/[^/\s]+\/[^/\s]+(\/[^\s]*)?$/.test(outputPath) && !/^dbfs:\/[^\s]+$/.test(outputPath)) {
    fail(
      'outputPath',
      `outputPath must be a Unity Catalog volume folder (/Volumes/<catalog>/<schema>/<volume>/...) or a dbfs:/ folder; got "${truncate(outputPath)}".`,
    );
  }
  if (CONTROL_CHARS.test(outputPath)) fail('outputPath', 'outputPath must not contain control characters.');
  if (outputPath.split('/').includes('..') || outputPath.split('/').includes('.'))
    fail('outputPath', `outputPath must not contain "." or ".." segments; got "${truncate(outputPath)}".`);
  const timeoutMs = parseRunTimeoutMs(inputs);
  const notebookPath = source === 'scoringNotebook' ? parseNotebookPath(inputs) : (inputs.optional('scoringNotebookPath') ?? DEFAULT_NOTEBOOK_PATH);
  const base = { evaluationTable, evaluationQuery, maxRows, outputPath, notebookPath, timeoutMs };
  if (source === 'scoringJob') {
    const jobId = inputs.number('scoringJobId', { min: 1, integer: true, max: Number.MAX_SAFE_INTEGER });
    if (jobId === undefined) fail('scoringJobId', 'Input required: scoringJobId (the id of your scoring job) when predictionsSource is scoringJob.');
    return { ...base, jobId };
  }
  const cluster = parseCluster(inputs);
  // Serverless compute has only limited DBFS access (Databricks, "Serverless compute limitations"), so the
  // scoring run could not write a dbfs:/ folder there: refused here, before any request.
  if (cluster.mode === 'serverless' && outputPath.startsWith('dbfs:/')) {
    fail(
      'outputPath',
      `outputPath ${truncate(outputPath)} is a dbfs:/ folder, which serverless compute (clusterMode serverless, the default) cannot write to: ` +
        'use a Unity Catalog volume folder (/Volumes/<catalog>/<schema>/<volume>/...) for outputPath, or set clusterMode to existing or new.',
    );
  }
  const localRowLimit = parseLocalRowLimit(inputs);
  return { ...base, cluster, ...(localRowLimit !== undefined ? { localRowLimit } : {}) };
}

/** fs.readFile reads at most 2 GiB - 1 into one buffer (Node's kIoMaxLength); a larger file cannot be read at all. */
export const MAX_PREDICTIONS_FILE_BYTES = 2 ** 31 - 1;

/**
 * The predictions file is on the agent: it must exist, be a regular file, open for reading and hold
 * between 1 byte and MAX_PREDICTIONS_FILE_BYTES, checked before the first request (parseEvaluateInputs
 * stays free of I/O; main calls this right after it).
 */
export function checkPredictionsFile(file: string): void {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st)
    fail(
      'predictionsFile',
      `predictionsFile ${truncate(file)} does not exist on the agent. Check the path; relative paths are resolved against System.DefaultWorkingDirectory.`,
    );
  if (!st.isFile())
    fail(
      'predictionsFile',
      `predictionsFile ${truncate(file)} is not a file${st.isDirectory() ? ' (it is a folder)' : ''}. Give the path of the predictions file itself.`,
    );
  try {
    closeSync(openSync(file, fsConstants.O_RDONLY));
  } catch (e) {
    fail(
      'predictionsFile',
      `predictionsFile ${truncate(file)} cannot be opened for reading (${(e as NodeJS.ErrnoException).code ?? 'error'}). Check the agent user's permissions.`,
    );
  }
  if (st.size === 0) fail('predictionsFile', `predictionsFile ${truncate(file)} is empty (0 bytes).`);
  if (st.size > MAX_PREDICTIONS_FILE_BYTES)
    fail(
      'predictionsFile',
      `predictionsFile ${truncate(file)} is ${st.size} bytes; at most ${MAX_PREDICTIONS_FILE_BYTES} can be read. Reduce the evaluation set.`,
    );
}

export function parseRunTimeoutMs(inputs: Inputs): number {
  return inputs.number('scoringTimeoutMinutes', { default: 60, min: 1, max: 1440, integer: true })! * 60_000;
}

function parseNotebookPath(inputs: Inputs): string {
  const notebookPath = inputs.optional('scoringNotebookPath') ?? DEFAULT_NOTEBOOK_PATH;
  checkWorkspacePath('scoringNotebookPath', notebookPath, DEFAULT_NOTEBOOK_PATH);
  if (!notebookPath.startsWith('/') || notebookPath.split('/').includes('..') || /\.py$/i.test(notebookPath) || notebookPath.endsWith('/')) {
    fail(
      'scoringNotebookPath',
      `scoringNotebookPath must be an absolute workspace path without .. or extension, e.g. ${DEFAULT_NOTEBOOK_PATH}; got "${truncate(notebookPath)}".`,
    );
  }
  return notebookPath;
}

/** Unity Catalog registration runs on the scoring notebook's compute, in its folder, bounded by its timeout. */
export function parseRegistration(inputs: Inputs, scoring: ScoringConfig | undefined): RegistrationConfig {
  const scoringPath = parseNotebookPath(inputs);
  const folder = path.posix.dirname(scoringPath);
  if (path.posix.basename(scoringPath) === REGISTER_NOTEBOOK_NAME) {
    fail(
      'scoringNotebookPath',
      `scoringNotebookPath must not be named ${REGISTER_NOTEBOOK_NAME}: with Unity Catalog the registration notebook is imported under that name in the same folder.`,
    );
  }
  return {
    notebookPath: `${folder === '/' ? '' : folder}/${REGISTER_NOTEBOOK_NAME}`,
    cluster: scoring?.cluster ?? parseCluster(inputs),
    timeoutMs: scoring?.timeoutMs ?? parseRunTimeoutMs(inputs),
  };
}

function parseDecision(inputs: Inputs, build: BuildContext, labelColumn: string): DecisionConfig {
  const problemType = parseProblemType(inputs);
  const metric = parseMetric(inputs, problemType);
  const method = inputs.oneOf('method', ['auto', 'bootstrap', 'delong'] as const, 'auto');
  if (method === 'delong' && problemType !== 'binaryClassification') {
    fail('method', `method delong is a test for binary classification (ROC AUC); use method bootstrap for ${PROBLEM_LABEL[problemType]}.`);
  }
  if (method === 'delong' && metric !== 'roc_auc') {
    fail('method', `method delong compares ROC AUC only; use method bootstrap for metric ${metric}.`);
  }
  const resamples = inputs.number('resamples', { default: 1000, min: 1, max: 100_000, integer: true })!;
  let seed = inputs.number('seed', { min: 0, max: 2 ** 32 - 1, integer: true });
  if (seed === undefined) {
    const fromBuild = build.buildId;
    if (!/^\d+$/.test(fromBuild)) fail('seed', 'seed is not set and Build.BuildId is not a number; set seed to a whole number.');
    seed = Number(fromBuild) % 2 ** 32;
  }
  const winRate = inputs.number('winRate', { default: DEFAULT_WIN_RATE, min: 0, minExclusive: true, max: 1 })!;
  const confidence = inputs.number('confidence', { default: 0.95, min: 0, minExclusive: true, max: 1 })!;
  if (confidence >= 1) fail('confidence', `Input confidence must be below 1 (e.g. 0.95); got ${confidence}.`);
  // Empty: the metric's default (0.001 ROC AUC; see defaultMinDelta in the engine).
  const minDelta = inputs.number('minDelta', { min: 0 }) ?? defaultMinDelta(metric);
  const minMetric = inputs.number('minMetric');
  checkMinMetric(metric, minMetric);
  const guardrails = parseGuardrails(inputs, problemType, metric);
  checkGuardrailWinRate(guardrails, winRate);
  const slices = parseSlices(inputs, labelColumn);
  const scale = parseScaleDecision(inputs, labelColumn, { problemType, metric, method, guardrails, ...slices });
  return { problemType, metric, method, resamples, seed, winRate, minDelta, minMetric, confidence, guardrails, ...slices, ...scale };
}

export function parseBuildContext(inputs: Inputs): BuildContext {
  const v = (n: string) => inputs.variable(n);
  return {
    buildId: v('Build.BuildId') ?? 'local',
    buildNumber: v('Build.BuildNumber'),
    jobAttempt: v('System.JobAttempt') ?? '1',
    taskInstanceId: v('System.TaskInstanceId') ?? 'local',
    collectionUri: v('System.TeamFoundationCollectionUri'),
    teamProject: v('System.TeamProject'),
    definitionId: v('System.DefinitionId'),
    sourceVersion: v('Build.SourceVersion'),
    sourceBranch: v('Build.SourceBranch'),
    repositoryName: v('Build.Repository.Name'),
  };
}
