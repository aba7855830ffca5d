/**
 * `npm run demo`: the whole MLOps flow, each step run as the Azure Pipelines agent runs the bundled task.
 *
 * Locally (default) it starts the workspace emulator and gives it honest notebooks: the training notebook
 * fits a logistic regression on a generated data set using the features it is told to use, and the
 * scoring notebook scores every model on a fresh 200,000-row evaluation set; the last step serves the production
 * model on an emulated Model Serving endpoint, whose answers come from that model. With DATABRICKS_HOST and
 * DATABRICKS_TOKEN set it runs the same tasks against that workspace instead (see `realWorkspaceSteps`).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../emulator';
import { renderReportHtml } from '../src/report';
import { DEFAULT_NOTEBOOK_PATH } from '../src/tasks/evaluate/inputs';
import { agentLogView, REPO_ROOT, runTask, type AgentEndpoint, type AgentRunResult, type TaskFolder } from './agent-runner';
import { generateDataset, predictProba, trainLogistic, type LogisticModel } from './synthetic';

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
}

export interface DemoSummary {
  mode: 'emulator' | 'workspace';
  steps: DemoStepResult[];
  reportPath?: string;
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

const BUILD_VARIABLES = {
  'Build.BuildId': '20261127',
  'Build.BuildNumber': '20261127.1',
  'Build.SourceVersion': RELEASE_COMMIT,
  'Build.SourceBranch': `refs/tags/${RELEASE_TAG}`,
};

/** The emulated training notebook: fits on the features it is given and logs an MLflow run, as mlflow.autolog would. */
function installTrainingNotebook(emu: Emulator, experimentId: string): void {
  emu.jobs.notebooks.register(TRAIN_NOTEBOOK, (ctx) => {
    const features = (ctx.params.features ?? '0').split(',').map((f) => Number(f.trim()));
    const seed = ctx.params.seed ?? '1';
    const data = generateDataset(TRAINING_ROWS, `train:${seed}`);
    const model = trainLogistic(data, features);
    const run = emu.mlflow.createRun({
      experimentId,
      runName: `logreg-${features.join('')}`,
      tags: {
        'mlflow.databricks.jobID': String(ctx.jobId ?? ''),
        'mlflow.databricks.jobRunID': String(ctx.taskRunId),
        'mlflow.source.name': ctx.notebookPath,
      },
      params: { features: features.join(','), training_rows: String(TRAINING_ROWS), model_json: JSON.stringify(model) },
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
function installScoringNotebook(emu: Emulator, rows: number): void {
  let evaluation = 0;
  emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, (ctx) => {
    const models = JSON.parse(ctx.params.models) as Array<{ key: string; uri: string }>;
    // Fresh data for every evaluation, never the training data.
    const data = generateDataset(rows, `evaluation:${++evaluation}`);
    const columns: Record<string, Float64Array | Int8Array> = { label: Int8Array.from(data.labels) };
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
      columns[m.key] = predictProba(modelOfRun(emu, runId), data);
    }
    const file = `${ctx.params.output_path}/predictions.arrow`;
    emu.files.write(file, Buffer.from(tableToIPC(tableFromArrays(columns as Record<string, Float64Array>), 'file')));
    return { exitValue: JSON.stringify({ output_path: file, rows }) };
  });
}

/** A weak model already in Production, so the first evaluation has something to beat. */
function seedProduction(emu: Emulator, experimentId: string): void {
  const model = trainLogistic(generateDataset(TRAINING_ROWS, 'train:production'), [0]);
  const run = emu.mlflow.createRun({
    experimentId,
    runName: 'logreg-0 (production)',
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

export function emulatorSteps(resamples: number, smokeTestFile?: string): DemoStep[] {
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
  const train = (features: string, seed: string) => ({
    runType: 'existingJob',
    jobName: TRAIN_JOB,
    jobParameters: `features=${features}\nseed=${seed}`,
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
      title: 'Train: candidate A (features 0, 2)',
      task: 'DatabricksTrainV1',
      inputs: train('0,2', '11'),
      expect: { result: 'Succeeded', outputs: { resultState: 'SUCCESS' } },
    },
    {
      title: 'Train: candidate B (all six features)',
      task: 'DatabricksTrainV1',
      inputs: train('0,1,2,3,4,5', '12'),
      expect: { result: 'Succeeded', outputs: { resultState: 'SUCCESS' } },
    },
    {
      title: 'Evaluate & Promote: A and B against production',
      task: 'DatabricksEvaluatePromoteV1',
      inputs: evaluate,
      expect: { result: 'Succeeded', outputs: { decision: 'promoted', promoted: 'true' } },
    },
    {
      title: 'Train: candidate C (features 0, 1)',
      task: 'DatabricksTrainV1',
      inputs: train('0,1', '13'),
      expect: { result: 'Succeeded', outputs: { resultState: 'SUCCESS' } },
    },
    {
      title: 'Evaluate & Promote: C against the new production model',
      task: 'DatabricksEvaluatePromoteV1',
      inputs: evaluate,
      expect: { result: 'Succeeded', outputs: { decision: 'kept', promoted: 'false' } },
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

function describeOutcome(r: AgentRunResult, task: TaskFolder): string {
  const o = r.outputs;
  if (task === 'DatabricksReposDeployV1' && o.headCommitId)
    return `folder ${o.repoId} at ${o.headCommitId.slice(0, 12)} (${o.tag ? `tag ${o.tag}` : `branch ${o.branch}`})`;
  if (task === 'DatabricksTrainV1' && o.runId) return `run ${o.runId} ${o.resultState ?? ''}, candidates: ${o.candidateRunIds || 'none'}`;
  if (task === 'DatabricksServingDeployV1' && o.endpointUrl)
    return `${o.endpointUrl}: version ${o.servedVersion} at ${o.trafficPercent}%${o.rolledBack === 'true' ? ' (rolled back)' : ''}`;
  if (task === 'DatabricksEvaluatePromoteV1' && o.decision) {
    return `${o.decision}${o.modelVersion ? ` version ${o.modelVersion}` : ''} (win rate ${o.winRate ?? '-'}, delta ${o.metricDelta ?? '-'})`;
  }
  return r.complete?.message ?? '';
}

/** Where the steps run: the emulator seeded for the demo (closed by the caller), or a real workspace. */
interface DemoTarget {
  emu?: Emulator;
  endpoint: AgentEndpoint;
  steps: DemoStep[];
  env: Record<string, string>;
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
    ],
  });
  installTrainingNotebook(emu, experimentId);
  installScoringNotebook(emu, opts.evaluationRows ?? 200_000);
  seedProduction(emu, experimentId);
  const endpoint = { url: emu.url, scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } };
  const smokeFile = path.join(opts.outDir, 'smoke.json');
  writeFileSync(smokeFile, JSON.stringify(smokeRecords()));
  log(`Local workspace emulator: ${emu.url} (model ${MODEL}: version 1 in Production)`);
  return { emu, endpoint, steps: emulatorSteps(resamples, smokeFile), env };
}

/** Prints what the agent's log view shows for the task's output (agentLogView), indented under the step. */
function stepLogger(log: (line: string) => void, opts: { debug?: boolean; secrets: string[] }): (line: string) => void {
  const view = agentLogView(opts);
  return (line) => {
    const shown = view(line);
    if (shown !== undefined) log(`      ${shown}`);
  };
}

/** Runs one step as the agent would and reports it; false when the demo must stop (unexpected outcome). */
async function runStep(
  target: DemoTarget,
  i: number,
  opts: DemoOptions,
  out: { results: DemoStepResult[]; records: string[] },
  log: (line: string) => void,
): Promise<boolean> {
  const step = target.steps[i];
  log('');
  log(`[${i + 1}/${target.steps.length}] ${step.title}`);
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
  });
  const mark = result === 'Succeeded' ? 'OK ' : result === 'SucceededWithIssues' ? 'OK!' : 'FAIL';
  log(`  ${mark} ${result} in ${(r.durationMs / 1000).toFixed(1)} s: ${describeOutcome(r, step.task)}`);
  if (r.outputs.reportPath) {
    const dest = path.join(opts.outDir, `evaluation-${out.records.length + 1}.json`);
    copyFileSync(r.outputs.reportPath, dest);
    out.records.push(dest);
  }
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
    };
    log(`Workspace: ${opts.workspace.host}`);
  } else {
    target = await emulatorTarget(opts, resamples, log);
  }

  const out = { results: [] as DemoStepResult[], records: [] as string[] };
  let ok = true;
  try {
    for (let i = 0; i < target.steps.length && ok; i++) ok = await runStep(target, i, opts, out, log);
  } finally {
    await target.emu?.close();
  }

  let reportPath: string | undefined;
  if (out.records.length > 0) {
    reportPath = path.join(opts.outDir, 'report.html');
    const first = JSON.parse(readFileSync(out.records[0], 'utf8'));
    writeFileSync(reportPath, renderReportHtml(first));
  }
  const bundles = (['DatabricksReposDeployV1', 'DatabricksTrainV1', 'DatabricksEvaluatePromoteV1', 'DatabricksServingDeployV1'] as const).map((t) =>
    path.join(REPO_ROOT, 'tasks', t, 'index.js'),
  );
  const summary: DemoSummary = { mode: opts.workspace ? 'workspace' : 'emulator', steps: out.results, reportPath, records: out.records, bundles, ok };
  writeFileSync(path.join(opts.outDir, 'summary.json'), JSON.stringify(summary, null, 2));
  return summary;
}
