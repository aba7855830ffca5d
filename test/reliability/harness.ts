/**
 * Shared worlds and plumbing of the reliability suite: one realistic setup per bundled task against a
 * fresh emulator, the agent's view of a run (what the log would show once the agent masked what it
 * knows), a secret scan of every run, and a small pool so independent task runs overlap in real time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import seedrandom from 'seedrandom';
import { EMULATOR_DEFAULTS, type Emulator } from '../../emulator';
import type { NotebookContext } from '../../emulator/routes/jobs';
import { DEFAULT_NOTEBOOK_PATH } from '../../src/tasks/evaluate/inputs';
import { parseVso, runTask, type AgentEndpoint, type AgentRunOptions, type AgentRunResult, type TaskFolder } from '../helpers/agent';
import { findSecrets } from '../helpers/secrets';
import { emulatorEndpoint, withEmulator } from '../helpers/task-harness';

// The emulator's start/stop and service connection come from the shared harness (test/helpers/task-harness.ts).
export { withEmulator };

/** Test hooks: short polls, a 1 s per-request timeout (so a slow reply can pass it) and a short backoff. */
export const FAST_ENV: Record<string, string> = {
  DATABRICKS_MLOPS_POLL_INTERVAL_MS: '20',
  DATABRICKS_MLOPS_REQUEST_TIMEOUT_MS: '1000',
  DATABRICKS_MLOPS_RETRY_BASE_DELAY_MS: '40',
  // The Evaluate promotion claim's settle interval (default 5 s): long enough for a claim's read and write on a loaded test machine.
  DATABRICKS_MLOPS_PROMOTION_SETTLE_MS: '400',
};
/** A slow reply waits this long: past FAST_ENV's per-request timeout. */
export const SLOW_REPLY_MS = 1600;

export const CONN = '7e2d1c0b-4a5f-4e6d-8c7b-9a0f1e2d3c4b';
export const PAT_ENDPOINT = (emu: Emulator): AgentEndpoint => emulatorEndpoint(emu);

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ------------------------------------------------------------------------------------------ secrets

/** Every access token and OIDC token the emulator issued (values, for scanning only). */
export function issuedTokens(emu: Emulator): string[] {
  const a = emu.auth as unknown as { tokens?: Map<string, unknown>; oidcTokens?: Map<string, unknown> };
  return [...(a.tokens?.keys() ?? []), ...(a.oidcTokens?.keys() ?? [])];
}

/**
 * What the agent would show: stdout and stderr with every value the agent masks replaced by `***`.
 * The agent masks the secret parameters of the endpoints from the start and each `task.setsecret` value
 * from the line after it was registered, so a secret printed before its registration stays visible here.
 * The setsecret commands themselves are consumed by the agent and not shown, and debug lines
 * (`##vso[task.debug]`) are shown only when the pipeline runs with System.Debug = true.
 */
export function agentVisibleLog(r: AgentRunResult, endpointSecrets: string[], debug = false): string {
  const masks = endpointSecrets.filter((s) => s.length > 0);
  const mask = (line: string) => masks.reduce((l, s) => l.split(s).join('***'), line);
  const shown: string[] = [];
  for (const line of r.stdout.split(/\r?\n/)) {
    const cmd = parseVso(line);
    if (cmd?.name === 'task.setsecret') {
      if (cmd.message) masks.push(cmd.message);
      continue;
    }
    if (cmd?.name === 'task.debug' && !debug) continue;
    shown.push(mask(line));
  }
  for (const line of r.stderr.split(/\r?\n/)) shown.push(mask(line));
  return shown.join('\n');
}

/** Every file the run left in its agent temp folder (attachments, summaries, decision records). */
export function runFiles(r: AgentRunResult): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
    else out.push({ file: p, text: readFileSync(p).toString('latin1') });
  };
  walk(r.tempDir);
  return out;
}

export interface ScanRecord {
  label: string;
  /** Characters of log and files scanned. */
  chars: number;
  files: number;
  hits: string[];
}

/** Every scan of this process, for the summary figure of the secrets test. */
export const scans: ScanRecord[] = [];

/**
 * Scans a finished run: the agent-visible log (including error messages and the completion message), every
 * file in its temp folder, and the attachment/summary files it registered wherever they are.
 */
export function scanRun(label: string, r: AgentRunResult, endpointSecrets: string[], extra: string[] = [], debug = false): ScanRecord {
  const log = agentVisibleLog(r, endpointSecrets, debug);
  const hits = findSecrets(log, extra).map((h) => `log: ${h}`);
  const files = runFiles(r);
  const registered = r.commands
    .filter((c) => c.name === 'task.addattachment' || c.name === 'task.uploadsummary' || c.name === 'task.uploadfile')
    .map((c) => c.message);
  for (const f of registered)
    if (!files.some((x) => x.file === f)) {
      const st = statSync(f, { throwIfNoEntry: false });
      if (st?.isFile()) files.push({ file: f, text: readFileSync(f).toString('latin1') });
    }
  let chars = log.length;
  for (const f of files) {
    chars += f.text.length;
    for (const h of findSecrets(f.text, extra)) hits.push(`${path.basename(f.file)}: ${h}`);
  }
  const rec = { label, chars, files: files.length, hits };
  scans.push(rec);
  return rec;
}

/** Runs a bundled task with the fast test hooks, then scans it for secrets (the scan fails the caller). */
export async function runScanned(label: string, emu: Emulator, opts: AgentRunOptions): Promise<AgentRunResult> {
  const endpoints = opts.endpoints ?? { [CONN]: PAT_ENDPOINT(emu) };
  const r = await runTask({ killAfterMs: 60_000, ...opts, endpoints, env: { ...FAST_ENV, ...opts.env } });
  const endpointSecrets = Object.values(endpoints).flatMap((e) =>
    Object.entries(e.params ?? {})
      .filter(([k]) => !/^(tenantid|clientid|serviceprincipalid|authenticationtype)$/i.test(k))
      .map(([, v]) => v),
  );
  const rec = scanRun(label, r, endpointSecrets, issuedTokens(emu), (opts.variables?.['System.Debug'] ?? '').toLowerCase() === 'true');
  assert.deepEqual(rec.hits, [], `${label}: secrets found in the run's output or files`);
  return r;
}

// ------------------------------------------------------------------------------------------ worlds

export interface World<S> {
  task: TaskFolder;
  emu: Emulator;
  inputs: Record<string, string | undefined>;
  variables?: Record<string, string>;
  /** The remote state that matters for this task, read from the emulator. */
  state(): S;
}

export interface TrainState {
  runsStarted: number;
  cancels: number;
  taggedCandidates: number;
}

export const TRAIN_NOTEBOOK = '/Repos/Staging/churn-model/notebooks/train';

/** Train: an existing job by id whose notebook logs one MLflow run; candidates are tagged in /Shared/churn. */
export async function trainWorld(emu: Emulator, notebook?: (ctx: NotebookContext) => { exitValue: string }): Promise<World<TrainState>> {
  emu.jobs.durations = { queuedMs: 0, pendingMs: 30, runningMs: 120, terminatingMs: 30 };
  const expId = emu.mlflow.createExperiment('/Shared/churn');
  const created: string[] = [];
  emu.jobs.notebooks.register(
    TRAIN_NOTEBOOK,
    notebook ??
      ((ctx) => {
        created.push(
          emu.mlflow.createRun({ experimentId: expId, tags: { 'mlflow.databricks.jobID': String(ctx.jobId), 'mlflow.databricks.jobRunID': String(ctx.runId) } })
            .info.run_id,
        );
        return { exitValue: 'trained' };
      }),
  );
  const jobId = emu.jobs.createJob({ name: 'churn-train', tasks: [{ task_key: 'train', notebook_task: { notebook_path: TRAIN_NOTEBOOK } }] });
  return {
    task: 'DatabricksTrainV1',
    emu,
    inputs: { connectionType: 'databricks', databricksConnection: CONN, jobId: String(jobId), experiments: '/Shared/churn' },
    state: () => ({
      runsStarted: emu.jobs.runs.size,
      cancels: emu.jobs.cancels.length,
      taggedCandidates: created.filter((id) => emu.mlflow.runTags(id).candidate === 'true').length,
    }),
  };
}

export const DEPLOY_URL = 'https://dev.azure.com/contoso/mlops/_git/churn-model';
export const DEPLOY_PATH = '/Repos/Production/churn-model';
export const SHA_MAIN = '1111111111111111111111111111111111111111';
export const SHA_RELEASE = '2222222222222222222222222222222222222222';

export interface DeployState {
  folders: number;
  branch?: string;
  head?: string;
}

/** Deploy: the Git folder does not exist yet; the task creates it, checks out release and verifies the commit. */
export async function deployWorld(emu: Emulator): Promise<World<DeployState>> {
  emu.repos.addRemote(DEPLOY_URL, { branches: { main: SHA_MAIN, release: SHA_RELEASE } });
  emu.repos.grantGitCredential(EMULATOR_DEFAULTS.patPrincipal, 'azureDevOpsServices');
  return {
    task: 'DatabricksReposDeployV1',
    emu,
    inputs: { connectionType: 'databricks', databricksConnection: CONN, repoPath: DEPLOY_PATH, repoUrl: DEPLOY_URL, ref: 'refs/heads/release' },
    variables: { 'Build.SourceVersion': SHA_RELEASE },
    state: () => {
      const repo = emu.repos.findByPath(DEPLOY_PATH);
      return { folders: emu.repos.list().length, branch: repo?.branch, head: repo?.headCommitId };
    },
  };
}

export const MODEL = 'churn';
export const EVAL_OUT = '/Volumes/main/ml/scratch/eval';
export const EVAL_ROWS = 600;

/** Seeded labels and scores: score = sigmoid(2·label − 1 + noise·N(0,1)); smaller noise is a better model. */
export function predictionColumns(keys: string[], noise: Record<string, number>, rows = EVAL_ROWS): Record<string, Float64Array | Int8Array> {
  const rng = seedrandom('labels');
  const label = new Int8Array(rows);
  for (let i = 0; i < rows; i++) label[i] = rng() < 0.3 ? 1 : 0;
  const cols: Record<string, Float64Array | Int8Array> = { label };
  for (const k of keys) {
    const r = seedrandom(`noise:${k.startsWith('run_') ? 'cand' : k}:${noise[k]}`);
    const s = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      s[i] = 1 / (1 + Math.exp(-(2 * label[i] - 1 + noise[k] * g)));
    }
    cols[k] = s;
  }
  return cols;
}

export function arrowFile(cols: Record<string, Float64Array | Int8Array | number[]>): Buffer {
  return Buffer.from(tableToIPC(tableFromArrays(cols as Record<string, Float64Array>), 'file'));
}

export interface EvaluateState {
  versions: number;
  /** The version in Production (workspace registry), or the champion alias (UC). */
  production?: string;
  /** Versions moved into Production by a transition that changed their stage (a repeated identical transition adds none). */
  promotions: number;
  scoringRuns: number;
  /** Candidate runs still tagged candidate=true. */
  candidatesLeft: number;
}

export interface EvaluateWorld extends World<EvaluateState> {
  productionVersion: string;
  candidateRunId: string;
  /** Runs the scoring notebook played (calls). */
  notebookCalls: number;
  /**
   * Called when the scoring notebook runs, with the model keys it scores (a hook for races and kills). While
   * a returned promise is pending the scoring run stays RUNNING (and the poll that started it waits).
   */
  onScore?: (keys: string[]) => void | Promise<void>;
  /** Adds another candidate (a different run) of the given noise, tagged `<tag>=true`. */
  addCandidate(name: string, noise: number, tag?: string): string;
}

/** Evaluate & Promote: production version 1 (noisy) and one clearly better candidate; scoring by the bundled notebook. */
export async function evaluateWorld(emu: Emulator, opts: { model?: string; taskInstance?: string } = {}): Promise<EvaluateWorld> {
  const model = opts.model ?? MODEL;
  emu.jobs.durations = { queuedMs: 0, pendingMs: 10, runningMs: 20, terminatingMs: 10 };
  emu.mlflow.setVersionReadyDelayMs(30);
  const expId = emu.mlflow.createExperiment('/Shared/churn');
  const noise: Record<string, number> = {};
  const prodRun = emu.mlflow.createRun({ experimentId: expId, runName: 'prod', artifacts: ['model/MLmodel'] }).info.run_id as string;
  const productionVersion = emu.mlflow.createModelVersion(model, { source: `runs:/${prodRun}/model`, runId: prodRun, stage: 'Production' });
  noise.production = 1.5;
  const candidates: Array<{ id: string; tag: string }> = [];
  const addCandidate = (name: string, n: number, tag = 'candidate') => {
    const id = emu.mlflow.createRun({ experimentId: expId, runName: name, tags: { [tag]: 'true' }, artifacts: ['model/MLmodel', 'model/model.pkl'] }).info
      .run_id as string;
    noise[`run_${id}`] = n;
    candidates.push({ id, tag });
    return id;
  };
  const candidateRunId = addCandidate('better', 0.5);
  const world: EvaluateWorld = {
    task: 'DatabricksEvaluatePromoteV1',
    emu,
    productionVersion,
    candidateRunId,
    notebookCalls: 0,
    addCandidate,
    inputs: {
      connectionType: 'databricks',
      databricksConnection: CONN,
      // evaluateWorld builds a workspace-registry model (stage Production); the default registry is unityCatalog.
      registry: 'workspace',
      modelName: model,
      experiments: '/Shared/churn',
      evaluationTable: 'main.ml.churn_eval',
      outputPath: EVAL_OUT,
      resamples: '200',
      seed: '7',
      readyTimeoutSeconds: '2',
    },
    variables: opts.taskInstance ? { 'System.TaskInstanceId': opts.taskInstance } : undefined,
    state: () => {
      const versions = emu.mlflow.versions(model);
      return {
        versions: versions.length,
        production: versions.find((v) => emu.mlflow.stageOf(model, v.version) === 'Production')?.version,
        promotions: emu.mlflow.transitions(model).filter((t) => t.to === 'Production' && t.from !== 'Production').length,
        scoringRuns: emu.jobs.runs.size,
        candidatesLeft: candidates.filter((c) => emu.mlflow.runTags(c.id)[c.tag] === 'true').length,
      };
    },
  };
  emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, async (ctx) => {
    world.notebookCalls++;
    const keys = (JSON.parse(ctx.params.models) as Array<{ key: string }>).map((m) => m.key);
    await world.onScore?.(keys);
    const file = `${ctx.params.output_path}/predictions.arrow`;
    emu.files.write(file, arrowFile(predictionColumns(keys, noise)));
    return { exitValue: JSON.stringify({ output_path: file, rows: EVAL_ROWS }) };
  });
  return world;
}

/** Runs the world's task (scanned for secrets). */
export function runWorld<S>(label: string, w: World<S>, extra: Partial<AgentRunOptions> = {}): Promise<AgentRunResult> {
  return runScanned(label, w.emu, {
    ...extra,
    task: w.task,
    inputs: { ...w.inputs, ...(extra.inputs ?? {}) },
    variables: { ...(w.variables ?? {}), ...(extra.variables ?? {}) },
  });
}

// ------------------------------------------------------------------------------------------ serving

export const SERVE_MODEL = 'main.ml.churn';
export const SERVE_ENDPOINT = 'churn';

export interface ServeState {
  /** `[model, version, traffic]` the endpoint serves (its config once any update has ended). */
  served: Array<[string, string, number]>;
  /** Config updates the endpoint accepted (PUT .../config answered 200). */
  updates: number;
  /** Endpoints that exist. */
  endpoints: number;
}

/**
 * Serve: the endpoint `churn` serves version 1 of main.ml.churn; the step serves the champion (version 2) with
 * 100% and smoke-tests it with two records. Config updates take 100 ms of emulated time.
 */
export async function serveWorld(emu: Emulator): Promise<World<ServeState>> {
  emu.serving.updateMs = 100;
  const exp = emu.mlflow.createExperiment('/Shared/churn-serving');
  for (const weights of [[1.1], [1.3, -0.9]]) {
    const model = { features: weights.map((_, i) => i), weights, bias: -0.2 };
    const run = emu.mlflow.createRun({ experimentId: exp, params: { model_json: JSON.stringify(model) }, artifacts: ['model/MLmodel'] });
    emu.mlflow.createModelVersion(SERVE_MODEL, { source: `runs:/${run.info.run_id}/model`, runId: run.info.run_id, uc: true });
  }
  emu.mlflow.ucRegistry.models.get(SERVE_MODEL)!.aliases.set('champion', 2);
  emu.serving.seedEndpoint(SERVE_ENDPOINT, [
    { name: 'main-ml-churn-1', entity_name: SERVE_MODEL, entity_version: '1', workload_size: 'Small', workload_type: 'CPU', traffic: 100 },
  ]);
  const dir = mkdtempSync(path.join(tmpdir(), 'serve-world-'));
  const smoke = path.join(dir, 'smoke.json');
  writeFileSync(
    smoke,
    JSON.stringify([
      { x0: 0.4, x1: -1.2 },
      { x0: -0.7, x1: 0.3 },
    ]),
  );
  return {
    task: 'DatabricksServingDeployV1',
    emu,
    inputs: {
      connectionType: 'databricks',
      databricksConnection: CONN,
      endpointName: SERVE_ENDPOINT,
      modelName: SERVE_MODEL,
      smokeTestFile: smoke,
      timeoutMinutes: '0.1',
    },
    state: () => ({
      served: emu.serving.servedTraffic(SERVE_ENDPOINT),
      updates: emu.requests.filter((q) => q.method === 'PUT' && q.path === `/api/2.0/serving-endpoints/${SERVE_ENDPOINT}/config` && q.status === 200).length,
      endpoints: emu.serving.endpoints.size,
    }),
  };
}
