/**
 * `npm run demo`: the whole MLOps flow, each step run as the Azure Pipelines agent runs the bundled task.
 *
 * Locally (default) it starts the workspace emulator and gives it honest notebooks: the training notebook
 * fits a logistic regression on a generated data set using the features it is told to use, and the
 * scoring notebook scores every model on a fresh 200,000-row evaluation set; the last step serves the production
 * model on an emulated Model Serving endpoint, whose answers come from that model. The second evaluation
 * judges a candidate that ranks better overall with a Brier score guardrail and the region slices, which stop it. With DATABRICKS_HOST and
 * DATABRICKS_TOKEN set it runs the same tasks against that workspace instead (see `realWorkspaceSteps`).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Dictionary, Int32, Table, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { EMULATOR_DEFAULTS, isWrite, startEmulator, type Emulator } from '../emulator';
import { formatDelta, formatPercent, renderReportHtml } from '../src/report';
import { DEFAULT_NOTEBOOK_PATH } from '../src/tasks/evaluate/inputs';
import { agentLogView, REPO_ROOT, runTask, type AgentEndpoint, type AgentRunResult, type TaskFolder } from './agent-runner';
import { generateDataset, predictProba, regionNames, trainLogistic, type LogisticModel } from './synthetic';

export interface DemoStep {
  title: string;
  task: TaskFolder;
  inputs: Record<string, string>;
  /** What the step is expected to conclude; the demo fails loudly otherwise. */
  expect?: { result: string; outputs?: Record<string, string> };
}

export interface DemoStepResult {
  title: string;
  task: TaskFolder;
  result: string;
  message: string;
  durationMs: number;
  outputs: Record<string, string>;
  /** Emulator only: the writes the step sent (`POST /api/...`, in order), so a test can tell what changed remotely. */
  writes?: string[];
}

/** One Evaluate & Promote step's files: its decision record, its HTML report and (emulator) its predictions. */
export interface DemoEvaluation {
  title: string;
  record: string;
  report: string;
  /** A copy of the scored predictions, for `mlops-eval` (emulator only: a real workspace's stay in its volume). */
  predictions?: string;
  /** The seed and resamples the task used, so the CLI reproduces its decision. */
  seed: string;
  resamples: string;
  /** The task's failedChecks output (`guardrail:<metric>`, `slice:<column>=<value>`, comma separated), when a check failed. */
  failedChecks?: string;
}

export interface DemoSummary {
  mode: 'emulator' | 'workspace';
  steps: DemoStepResult[];
  /** Every evaluation gets its own report. */
  evaluations: DemoEvaluation[];
  records: string[];
  bundles: string[];
  ok: boolean;
}

export interface DemoOptions {
  outDir: string;
  /** Rows of the evaluation set scored by the emulated notebook. */
  evaluationRows?: number;
  resamples?: number;
  log?: (line: string) => void;
  /** Show the tasks' debug lines, as the agent does with System.Debug true. */
  verbose?: boolean;
  /** Real-workspace settings (from DATABRICKS_HOST / DATABRICKS_TOKEN and command-line options). */
  workspace?: RealWorkspaceOptions;
}

export interface RealWorkspaceOptions {
  host: string;
  token: string;
  model?: string;
  registry?: 'workspace' | 'unityCatalog';
  experiment?: string;
  jobName?: string;
  jobId?: string;
  repoPath?: string;
  repoUrl?: string;
  ref?: string;
  evaluationTable?: string;
  outputPath?: string;
  clusterId?: string;
  allowPromotion?: boolean;
}

const CONNECTION_ID = '0d6e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a';
const REMOTE = 'https://dev.azure.com/contoso/mlops/_git/churn-demo';
const RELEASE_TAG = 'v1.0.0';
const RELEASE_COMMIT = '7c3e1a9b5d2f4e6a8c0b1d3f5e7a9c2b4d6f8e0a';
const EXPERIMENT = '/Shared/churn-demo';
const MODEL = 'churn-demo';
const TRAIN_JOB = 'churn-demo-train';
const TRAIN_NOTEBOOK = '/Repos/Staging/demo/notebooks/train';
const TRAINING_ROWS = 20_000;
const SERVING_ENDPOINT = 'churn-demo';
/** The weak model in production before the first evaluation (feature 0 only). */
const PRODUCTION_RUN_NAME = 'logreg-0';

const BUILD_VARIABLES = {
  'Build.BuildId': '20261127',
  'Build.BuildNumber': '20261127.1',
  'Build.SourceVersion': RELEASE_COMMIT,
  'Build.SourceBranch': `refs/tags/${RELEASE_TAG}`,
};

/** The MLflow run name the emulated training notebook gives a model of these features (and the region): the name the report shows. */
export function demoRunName(features: string, region = false): string {
  return `logreg-${features.split(',').join('')}${region ? '-region' : ''}`;
}

/** The demo's data: the regional process of synthetic.ts (a region per row that matters, see REGIONS). */
function demoData(rows: number, seed: string) {
  return generateDataset(rows, seed, { regions: true });
}

/** The emulated training notebook: fits on the features it is given and logs an MLflow run, as mlflow.autolog would. */
function installTrainingNotebook(emu: Emulator, experimentId: string): void {
  emu.jobs.notebooks.register(TRAIN_NOTEBOOK, (ctx) => {
    const features = (ctx.params.features ?? '0').split(',').map((f) => Number(f.trim()));
    const seed = ctx.params.seed ?? '1';
    const useRegion = ctx.params.region === 'true';
    const trainingRegions = ctx.params.training_regions ? ctx.params.training_regions.split(',').map((r) => r.trim()) : undefined;
    const positiveWeight = Number(ctx.params.positive_weight ?? '1');
    const data = demoData(TRAINING_ROWS, `train:${seed}`);
    const model = trainLogistic(data, features, { useRegion, trainingRegions, positiveWeight });
    const run = emu.mlflow.createRun({
      experimentId,
      runName: demoRunName(features.join(','), useRegion),
      tags: {
        'mlflow.databricks.jobID': String(ctx.jobId ?? ''),
        'mlflow.databricks.jobRunID': String(ctx.taskRunId),
        'mlflow.source.name': ctx.notebookPath,
      },
      params: {
        features: features.join(','),
        region: String(useRegion),
        training_regions: trainingRegions?.join(',') ?? 'all',
        positive_weight: String(positiveWeight),
        training_rows: String(TRAINING_ROWS),
        model_json: JSON.stringify(model),
      },
      artifacts: { 'model/MLmodel': 'flavors:\n  python_function:\n    loader_module: demo_logreg\n', 'model/model.json': JSON.stringify(model) },
    });
    return { exitValue: JSON.stringify({ mlflow_run_id: run.info.run_id }) };
  });
}

function modelOfRun(emu: Emulator, runId: string): LogisticModel {
  const run = emu.mlflow.getRun(runId);
  const param = (run?.data.params as Array<{ key: string; value: string }> | undefined)?.find((p) => p.key === 'model_json');
  if (!param) throw new Error(`run ${runId} has no logged model`);
  return JSON.parse(param.value) as LogisticModel;
}

/** The emulated scoring notebook: the bundled notebook's contract, played with the synthetic models. */
function installScoringNotebook(emu: Emulator, rows: number, keepCopy: (bytes: Uint8Array) => void): void {
  let evaluation = 0;
  emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, (ctx) => {
    const models = JSON.parse(ctx.params.models) as Array<{ key: string; uri: string }>;
    // max_rows as the bundled notebook applies it (df.limit(max_rows); 0 or empty: every row).
    const maxRows = Number(ctx.params.max_rows || '0');
    const n = maxRows > 0 ? Math.min(rows, maxRows) : rows;
    // Fresh data for every evaluation, never the training data.
    const data = demoData(n, `evaluation:${++evaluation}`);
    const columns: Record<string, Vector> = { label: vectorFromArray(Int8Array.from(data.labels)) };
    for (const m of models) {
      let runId: string;
      const runsUri = /^runs:\/([^/]+)\//.exec(m.uri);
      const modelsUri = /^models:\/(.+)\/(\d+)$/.exec(m.uri);
      if (runsUri) runId = runsUri[1];
      else if (modelsUri) {
        const v = emu.mlflow.versions(modelsUri[1]).find((x) => String(x.version) === modelsUri[2]);
        if (!v) throw new Error(`no version ${m.uri}`);
        runId = String(v.run_id);
      } else throw new Error(`unsupported model URI ${m.uri}`);
      columns[m.key] = vectorFromArray(predictProba(modelOfRun(emu, runId), data));
    }
    // The slice columns the task asks for, passed through as the bundled notebook does (a string column as an Arrow dictionary).
    for (const column of (ctx.params.slice_columns ?? '').split(',').filter((c) => c !== '')) {
      if (column !== 'region') throw new Error(`the evaluation table has no column ${column} (its slice column is region)`);
      columns.region = vectorFromArray(regionNames(data), new Dictionary(new Utf8(), new Int32()));
    }
    const file = `${ctx.params.output_path}/predictions.arrow`;
    const bytes = tableToIPC(new Table(columns), 'file');
    emu.files.write(file, Buffer.from(bytes));
    // The task deletes the file once it has read it; the demo keeps a copy for the CLI (see nextSteps).
    keepCopy(bytes);
    return { exitValue: JSON.stringify({ output_path: file, rows: n }) };
  });
}

/** A weak model already in Production, so the first evaluation has something to beat. */
function seedProduction(emu: Emulator, experimentId: string): void {
  const model = trainLogistic(demoData(TRAINING_ROWS, 'train:production'), [0]);
  const run = emu.mlflow.createRun({
    experimentId,
    runName: PRODUCTION_RUN_NAME,
    params: { features: '0', model_json: JSON.stringify(model) },
    artifacts: { 'model/MLmodel': 'flavors: {}\n', 'model/model.json': JSON.stringify(model) },
  });
  const runId = run.info.run_id as string;
  emu.mlflow.createModelVersion(MODEL, { source: `runs:/${runId}/model`, runId, stage: 'Production' });
}

/** Three records of the evaluation data's shape (features x0..x5), for the serving step's one smoke request. */
export function smokeRecords(): Array<Record<string, number>> {
  const data = generateDataset(3, 'smoke');
  const d = data.x.length / data.n;
  return Array.from({ length: data.n }, (_, i) => Object.fromEntries(Array.from({ length: d }, (_, j) => [`x${j}`, Number(data.x[i * d + j].toFixed(4))])));
}

const FEATURES_A = '0,2';
const FEATURES_B = '0,1,2,3,4,5';
/**
 * The third candidate sees all six features and the region, so it ranks better overall; but it is fitted on a
 * class-balanced extract (positives weighted 3 to 1) that lacks the south: its probabilities are too high
 * (the Brier score guardrail) and it gets the south wrong (the region slice).
 */
const CANDIDATE_C = { features: FEATURES_B, region: 'true', training_regions: 'north,east,west', positive_weight: '3' };
/**
 * What stops the third candidate: calibration may worsen by at most 0.002 Brier, and no region may get worse.
 * 20,000 rows are enough: the smallest region (the south, 15%) has about 3,000, over the default minSliceRows
 * of 1,000, and each check's verdict is unanimous over the resamples; the guardrail and the four slices cost
 * resampling passes of their own, which at 200,000 rows would double the step's time.
 */
const CHECKS = { guardrails: 'brier 0.002', sliceColumns: 'region', maxRows: '20000' };
const FAILED_CHECKS = 'guardrail:brier,slice:region=south';

export function emulatorSteps(resamples: number, smokeTestFile?: string): DemoStep[] {
  const [A, B] = [FEATURES_A, FEATURES_B].map((f) => demoRunName(f));
  const C = demoRunName(CANDIDATE_C.features, true);
  const evaluate = {
    modelName: MODEL,
    registry: 'workspace',
    experiments: EXPERIMENT,
    evaluationTable: 'main.demo.churn_evaluation',
    outputPath: '/Volumes/main/demo/scratch/evaluations',
    clusterMode: 'serverless',
    resamples: String(resamples),
    seed: BUILD_VARIABLES['Build.BuildId'],
  };
  const train = (features: string, seed: string, more: Record<string, string> = {}) => ({
    runType: 'existingJob',
    jobName: TRAIN_JOB,
    jobParameters: [`features=${features}`, `seed=${seed}`, ...Object.entries(more).map(([k, v]) => `${k}=${v}`)].join('\n'),
    experiments: EXPERIMENT,
  });
  return [
    {
      title: `Deploy Notebooks via Repos API: /Repos/Staging/demo to tag ${RELEASE_TAG}`,
      task: 'DatabricksReposDeployV1',
      inputs: { repoPath: '/Repos/Staging/demo', repoUrl: REMOTE, ref: `refs/tags/${RELEASE_TAG}`, expectedCommit: RELEASE_COMMIT },
      expect: { result: 'Succeeded', outputs: { headCommitId: RELEASE_COMMIT, tag: RELEASE_TAG } },
    },
    {
      title: `Train: ${A} (features 0 and 2)`,
      task: 'DatabricksTrainV1',
      inputs: train(FEATURES_A, '11'),
      expect: { result: 'Succeeded', outputs: { resultState: 'SUCCESS' } },
    },
    {
      title: `Train: ${B} (all six features)`,
      task: 'DatabricksTrainV1',
      inputs: train(FEATURES_B, '12'),
      expect: { result: 'Succeeded', outputs: { resultState: 'SUCCESS' } },
    },
    {
      title: `Evaluate & Promote: ${A} and ${B} against production (${PRODUCTION_RUN_NAME})`,
      task: 'DatabricksEvaluatePromoteV1',
      inputs: evaluate,
      expect: { result: 'Succeeded', outputs: { decision: 'promoted', promoted: 'true' } },
    },
    {
      title: `Train: ${C} (all six features and the region, on a class-balanced extract without the south)`,
      task: 'DatabricksTrainV1',
      inputs: train(CANDIDATE_C.features, '13', {
        region: CANDIDATE_C.region,
        training_regions: CANDIDATE_C.training_regions,
        positive_weight: CANDIDATE_C.positive_weight,
      }),
      expect: { result: 'Succeeded', outputs: { resultState: 'SUCCESS' } },
    },
    {
      title: `Evaluate & Promote: ${C} against the new production model (${B}), with a Brier score guardrail and the region slices`,
      task: 'DatabricksEvaluatePromoteV1',
      inputs: { ...evaluate, ...CHECKS },
      expect: { result: 'Succeeded', outputs: { decision: 'kept', promoted: 'false', failedChecks: FAILED_CHECKS } },
    },
    {
      title: `Deploy Model to Serving: the production version on endpoint ${SERVING_ENDPOINT}, one smoke request`,
      task: 'DatabricksServingDeployV1',
      inputs: {
        endpointName: SERVING_ENDPOINT,
        modelName: MODEL,
        registry: 'workspace',
        versionSource: 'alias',
        ...(smokeTestFile ? { smokeTestFile } : {}),
      },
      expect: { result: 'Succeeded', outputs: { servedVersion: '2', trafficPercent: '100', rolledBack: 'false' } },
    },
  ];
}

/**
 * The same flow against a real workspace. Every name comes from the user: the demo never guesses a
 * model, job or folder, and it promotes only with --allow-promotion (otherwise Evaluate runs as a dry run).
 */
export function realWorkspaceSteps(o: RealWorkspaceOptions, resamples: number): DemoStep[] {
  const steps: DemoStep[] = [];
  if (o.repoPath) {
    if (!o.ref) throw new Error('--repo-path needs --ref (refs/heads/<branch> or refs/tags/<tag>).');
    steps.push({
      title: `Deploy Notebooks via Repos API: ${o.repoPath} to ${o.ref}`,
      task: 'DatabricksReposDeployV1',
      inputs: { repoPath: o.repoPath, ref: o.ref, verifyCommit: 'false', ...(o.repoUrl ? { repoUrl: o.repoUrl } : { createIfMissing: 'false' }) },
    });
  }
  if (o.jobName || o.jobId) {
    steps.push({
      title: `Train: job ${o.jobName ?? o.jobId}`,
      task: 'DatabricksTrainV1',
      inputs: {
        runType: 'existingJob',
        ...(o.jobId ? { jobId: o.jobId } : { jobName: o.jobName! }),
        ...(o.experiment ? { experiments: o.experiment } : { tagCandidates: 'false' }),
      },
    });
  }
  if (o.model) {
    if (!o.experiment || !o.evaluationTable || !o.outputPath) {
      throw new Error('Evaluating --model needs --experiment, --evaluation-table and --output-path.');
    }
    steps.push({
      title: `Evaluate & Promote: ${o.model}${o.allowPromotion ? '' : ' (dry run)'}`,
      task: 'DatabricksEvaluatePromoteV1',
      inputs: {
        modelName: o.model,
        registry: o.registry ?? 'workspace',
        experiments: o.experiment,
        evaluationTable: o.evaluationTable,
        outputPath: o.outputPath,
        resamples: String(resamples),
        dryRun: o.allowPromotion ? 'false' : 'true',
        ...(o.clusterId ? { clusterMode: 'existing', existingClusterId: o.clusterId } : { clusterMode: 'serverless' }),
      },
    });
  }
  if (steps.length === 0) throw new Error('Against a real workspace, name what to touch: --repo-path/--ref, --job-name or --job-id, --model.');
  return steps;
}

/**
 * Evaluate's outcome in the report's number formats: the observed win rate as a percentage with one decimal,
 * the metric difference with a sign and 4 decimals (the outputs carry full precision, for pipelines).
 */
export function describeEvaluation(o: Record<string, string>): string {
  const figures: string[] = [];
  if (o.winRate) figures.push(`win rate ${formatPercent(Number(o.winRate))}`);
  if (o.metricDelta) figures.push(`delta ${formatDelta(Number(o.metricDelta))}`);
  const stopped = o.failedChecks ? `; stopped by ${checksInWords(o.failedChecks)}` : '';
  return `${o.decision}${o.modelVersion ? ` version ${o.modelVersion}` : ''}${figures.length > 0 || stopped ? ` (${figures.join(', ')}${stopped})` : ''}`;
}

/** Evaluate's failedChecks output in words: `guardrail:brier,slice:region=south` is "the brier guardrail and the slice region=south". */
export function checksInWords(failedChecks: string): string {
  const words = failedChecks
    .split(',')
    .filter((c) => c !== '')
    .map((c) =>
      c.startsWith('guardrail:') ? `the ${c.slice('guardrail:'.length)} guardrail` : c.startsWith('slice:') ? `the slice ${c.slice('slice:'.length)}` : c,
    );
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : words.join('');
}

function describeOutcome(r: AgentRunResult, task: TaskFolder): string {
  const o = r.outputs;
  if (task === 'DatabricksReposDeployV1' && o.headCommitId)
    return `folder ${o.repoId} at ${o.headCommitId.slice(0, 12)} (${o.tag ? `tag ${o.tag}` : `branch ${o.branch}`})`;
  if (task === 'DatabricksTrainV1' && o.runId) return `run ${o.runId} ${o.resultState ?? ''}, candidates: ${o.candidateRunIds || 'none'}`;
  if (task === 'DatabricksServingDeployV1' && o.endpointUrl)
    return `${o.endpointUrl}: version ${o.servedVersion} at ${o.trafficPercent}%${o.rolledBack === 'true' ? ' (rolled back)' : ''}`;
  if (task === 'DatabricksEvaluatePromoteV1' && o.decision) return describeEvaluation(o);
  return r.complete?.message ?? '';
}

/** Where the steps run: the emulator seeded for the demo (closed by the caller), or a real workspace. */
interface DemoTarget {
  emu?: Emulator;
  endpoint: AgentEndpoint;
  steps: DemoStep[];
  env: Record<string, string>;
  /** Copies of the predictions the emulated scoring notebook wrote, in order (none against a real workspace). */
  predictionCopies: string[];
}

/** Starts the emulator with the demo's remote, job, notebooks and production model. */
async function emulatorTarget(opts: DemoOptions, resamples: number, log: (line: string) => void): Promise<DemoTarget> {
  const emu = await startEmulator();
  // Short emulated phases and polls keep the demo under a minute; the tasks' real defaults are 2 s to 30 s.
  emu.jobs.durations = { queuedMs: 200, pendingMs: 500, runningMs: 1200, terminatingMs: 200 };
  emu.mlflow.setVersionReadyDelayMs(600);
  const env = { DATABRICKS_MLOPS_POLL_INTERVAL_MS: '250' };
  emu.repos.addRemote(REMOTE, { branches: { main: RELEASE_COMMIT }, tags: { [RELEASE_TAG]: RELEASE_COMMIT } });
  emu.repos.grantGitCredential(EMULATOR_DEFAULTS.patPrincipal, 'azureDevOpsServices');
  const experimentId = emu.mlflow.createExperiment(EXPERIMENT);
  emu.jobs.createJob({
    name: TRAIN_JOB,
    tasks: [{ task_key: 'train', notebook_task: { notebook_path: TRAIN_NOTEBOOK } }],
    parameters: [
      { name: 'features', default: '0' },
      { name: 'seed', default: '1' },
      { name: 'region', default: 'false' },
      { name: 'training_regions', default: '' },
      { name: 'positive_weight', default: '1' },
    ],
  });
  installTrainingNotebook(emu, experimentId);
  const predictionCopies: string[] = [];
  installScoringNotebook(emu, opts.evaluationRows ?? 200_000, (bytes) => {
    const copy = path.join(opts.outDir, `predictions-${predictionCopies.length + 1}.arrow`);
    writeFileSync(copy, bytes);
    predictionCopies.push(copy);
  });
  seedProduction(emu, experimentId);
  const endpoint = { url: emu.url, scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } };
  const smokeFile = path.join(opts.outDir, 'smoke.json');
  writeFileSync(smokeFile, JSON.stringify(smokeRecords()));
  log(`Local workspace emulator: ${emu.url} (model ${MODEL}: version 1 in Production)`);
  return { emu, endpoint, steps: emulatorSteps(resamples, smokeFile), env, predictionCopies };
}

/** Prints what the agent's log view shows for the task's output (agentLogView), indented under the step. */
function stepLogger(log: (line: string) => void, opts: { debug?: boolean; secrets: string[] }): (line: string) => void {
  const view = agentLogView(opts);
  return (line) => {
    const shown = view(line);
    if (shown !== undefined) log(`      ${shown}`);
  };
}

/** Keeps the step's decision record and renders its own HTML report (report-<n>.html), as the build tab would show it. */
function keepEvaluation(
  recordPath: string,
  step: DemoStep,
  n: number,
  outDir: string,
  predictions: string | undefined,
  failedChecks: string | undefined,
): DemoEvaluation {
  const record = path.join(outDir, `evaluation-${n}.json`);
  copyFileSync(recordPath, record);
  const report = path.join(outDir, `report-${n}.html`);
  writeFileSync(report, renderReportHtml(JSON.parse(readFileSync(record, 'utf8'))));
  return {
    title: step.title,
    record,
    report,
    ...(predictions ? { predictions } : {}),
    seed: step.inputs.seed ?? '',
    resamples: step.inputs.resamples ?? '',
    ...(failedChecks ? { failedChecks } : {}),
  };
}

/** The README sections that set up a real workspace (anchors as GitHub renders the headings). */
export const SETUP_SECTIONS = ['README.md#create-the-service-connection', 'README.md#a-first-pipeline'];

/**
 * What the user can do next, as the demo's last lines: open each report (saying which checks stopped a
 * candidate), run `mlops-eval` on the first
 * evaluation's predictions with the task's seed and resamples (the same decision as the task), and set up a
 * real workspace.
 */
export function nextSteps(summary: Pick<DemoSummary, 'evaluations' | 'mode'>): string[] {
  const lines = ['What next:'];
  if (summary.evaluations.length > 0) {
    lines.push(`  Open the report${summary.evaluations.length > 1 ? 's (one per evaluation)' : ''}:`);
    for (const e of summary.evaluations)
      lines.push(
        `    ${e.report}${e.failedChecks ? ` (kept: ${checksInWords(e.failedChecks)} failed; the report's guardrail and slice tables say by how much)` : ''}`,
      );
  }
  const scored = summary.evaluations.find((e) => e.predictions);
  if (scored) {
    lines.push(`  Compare the same predictions with the CLI (the task's seed and resamples give the task's decision):`);
    const dir = path.dirname(scored.predictions!);
    lines.push(
      `    npx mlops-eval compare ${scored.predictions} --baseline production --seed ${scored.seed} --resamples ${scored.resamples} --html ${path.join(dir, 'cli-report.html')}`,
    );
  } else {
    lines.push('  Compare your own predictions with the CLI: npx mlops-eval compare predictions.parquet --baseline production');
  }
  if (summary.mode === 'emulator') lines.push(`  Set up a real workspace: ${SETUP_SECTIONS.join(', then ')}`);
  else lines.push(`  Put the tasks in a pipeline: ${SETUP_SECTIONS[1]}`);
  return lines;
}

/** Runs one step as the agent would and reports it; false when the demo must stop (unexpected outcome). */
async function runStep(
  target: DemoTarget,
  i: number,
  opts: DemoOptions,
  out: { results: DemoStepResult[]; evaluations: DemoEvaluation[] },
  log: (line: string) => void,
): Promise<boolean> {
  const step = target.steps[i];
  log('');
  log(`[${i + 1}/${target.steps.length}] ${step.title}`);
  const copiesBefore = target.predictionCopies.length;
  const requestsBefore = target.emu?.requests.length ?? 0;
  const r = await runTask({
    task: step.task,
    inputs: { connectionType: 'databricks', databricksConnection: CONNECTION_ID, ...step.inputs },
    endpoints: { [CONNECTION_ID]: target.endpoint },
    variables: {
      ...BUILD_VARIABLES,
      ...(opts.verbose ? { 'System.Debug': 'true' } : {}),
      'System.TaskInstanceId': `6a7b8c9d-0e1f-4a2b-8c3d-${String(i + 1).padStart(12, '0')}`,
    },
    env: target.env,
    killAfterMs: 10 * 60_000,
    onLine: stepLogger(log, { debug: opts.verbose, secrets: Object.values(target.endpoint.params ?? {}) }),
  });
  const result = r.complete?.result ?? `exited ${r.code ?? r.signal} without a result`;
  out.results.push({
    title: step.title,
    task: step.task,
    result,
    message: r.complete?.message ?? r.stderr.trim(),
    durationMs: r.durationMs,
    outputs: r.outputs,
    ...(target.emu
      ? {
          writes: target.emu.requests
            .slice(requestsBefore)
            .filter(isWrite)
            .map((q) => `${q.method} ${q.path}`),
        }
      : {}),
  });
  const mark = result === 'Succeeded' ? 'OK ' : result === 'SucceededWithIssues' ? 'OK!' : 'FAIL';
  log(`  ${mark} ${result} in ${(r.durationMs / 1000).toFixed(1)} s: ${describeOutcome(r, step.task)}`);
  // The predictions the scoring notebook wrote during this step, if it scored (a step without candidates does not).
  const predictions = target.predictionCopies.length > copiesBefore ? target.predictionCopies.at(-1) : undefined;
  if (r.outputs.reportPath)
    out.evaluations.push(keepEvaluation(r.outputs.reportPath, step, out.evaluations.length + 1, opts.outDir, predictions, r.outputs.failedChecks));
  const expected = step.expect;
  const mismatch = expected && (result !== expected.result || Object.entries(expected.outputs ?? {}).some(([k, v]) => r.outputs[k] !== v));
  if (mismatch) {
    log(`  Expected ${JSON.stringify(expected)}, got ${result} ${JSON.stringify(r.outputs)}: stopping.`);
    return false;
  }
  return !(!expected && result === 'Failed');
}

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const resamples = opts.resamples ?? 1000;
  mkdirSync(opts.outDir, { recursive: true });
  let target: DemoTarget;
  if (opts.workspace) {
    target = {
      endpoint: { url: opts.workspace.host, scheme: 'Token', params: { apitoken: opts.workspace.token } },
      steps: realWorkspaceSteps(opts.workspace, resamples),
      env: {},
      predictionCopies: [],
    };
    log(`Workspace: ${opts.workspace.host}`);
  } else {
    target = await emulatorTarget(opts, resamples, log);
  }

  const out = { results: [] as DemoStepResult[], evaluations: [] as DemoEvaluation[] };
  let ok = true;
  try {
    for (let i = 0; i < target.steps.length && ok; i++) ok = await runStep(target, i, opts, out, log);
  } finally {
    await target.emu?.close();
  }

  const bundles = (['DatabricksReposDeployV1', 'DatabricksTrainV1', 'DatabricksEvaluatePromoteV1', 'DatabricksServingDeployV1'] as const).map((t) =>
    path.join(REPO_ROOT, 'tasks', t, 'index.js'),
  );
  const summary: DemoSummary = {
    mode: opts.workspace ? 'workspace' : 'emulator',
    steps: out.results,
    evaluations: out.evaluations,
    records: out.evaluations.map((e) => e.record),
    bundles,
    ok,
  };
  writeFileSync(path.join(opts.outDir, 'summary.json'), JSON.stringify(summary, null, 2));
  return summary;
}
