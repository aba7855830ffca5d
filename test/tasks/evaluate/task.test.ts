/**
 * The bundled Evaluate & Promote task run as the agent runs it (child process, INPUT_/ENDPOINT_ environment,
 * ##vso commands) against the workspace emulator in this process. The scoring notebook is played by an
 * emulator handler that writes seeded Arrow predictions of known quality.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Float64, makeVector, Table, tableFromArrays, tableToIPC, vectorFromArray } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import seedrandom from 'seedrandom';
import type { Emulator } from '../../../emulator';
import { defaultRegistryUri, NotebookError, type NotebookContext } from '../../../emulator/routes/jobs';
import { DEFAULT_NOTEBOOK_PATH } from '../../../src/tasks/evaluate/inputs';
import { composeNotebookSource } from '../../../src/tasks/evaluate/notebook-compose';
import { REPO_ROOT, type AgentRunResult } from '../../helpers/agent';
import { assertSecretNotShown, TaskHarness } from '../../helpers/task-harness';
import { DEFAULT_REGISTER_NOTEBOOK_PATH, registerModelNotebook, type RegisterNotebookCall } from './register-notebook';

const CONN = '6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c';
const MODEL = 'churn';
const UC_MODEL = 'main.ml.churn';
const OUT = '/Volumes/main/ml/scratch/eval';
const ROWS = 1500;

/** Noise of each model's scores: smaller is better. */
type Quality = Record<string, number>;

/** Seeded labels and scores: score = sigmoid(2·label − 1 + noise·N(0,1)), the noise drawn per model key. */
export function predictionsTable(keys: string[], quality: Quality, opts: { rows?: number; seed?: string } = {}): Record<string, Float64Array | Int8Array> {
  const n = opts.rows ?? ROWS;
  const rng = seedrandom(`labels:${opts.seed ?? 'data'}`);
  const label = new Int8Array(n);
  for (let i = 0; i < n; i++) label[i] = rng() < 0.3 ? 1 : 0;
  const cols: Record<string, Float64Array | Int8Array> = { label };
  for (const k of keys) {
    if (quality[k] === undefined) throw new Error(`no quality for ${k}`);
    const r = seedrandom(`noise:${quality[k]}:${opts.seed ?? 'data'}:${k.startsWith('run_') ? 'cand' : k}`);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      s[i] = 1 / (1 + Math.exp(-(2 * label[i] - 1 + quality[k] * g)));
    }
    cols[k] = s;
  }
  return cols;
}

function arrowBytes(cols: Record<string, Float64Array | Int8Array>): Uint8Array {
  return tableToIPC(tableFromArrays(cols as Record<string, Float64Array>), 'file');
}

describe('Evaluate & Promote task (bundled, as the agent runs it) against the emulator', function () {
  this.timeout(60_000);
  let emu: Emulator;
  const harness = new TaskHarness({ task: 'DatabricksEvaluatePromoteV1', connection: CONN, env: { DATABRICKS_MLOPS_POLL_INTERVAL_MS: '20' } });
  let expId: string;
  /** Quality of each predictions column the emulated notebook writes, by key (`run_<id>`, `production`). */
  let quality: Quality;
  /** Replaces the predictions the emulated notebook writes (bad-file tests). */
  let writeOverride: ((keys: string[]) => Uint8Array) | undefined;
  let notebookCalls: Array<Record<string, string>>;
  let onScore: (() => void) | undefined;
  let registerCalls: RegisterNotebookCall[];
  let attempt = 0;

  beforeEach(async () => {
    emu = await harness.start();
    emu.jobs.durations = { queuedMs: 0, pendingMs: 10, runningMs: 10, terminatingMs: 10 };
    emu.mlflow.setVersionReadyDelayMs(30);
    expId = emu.mlflow.createExperiment('/Shared/churn');
    quality = {};
    writeOverride = undefined;
    onScore = undefined;
    notebookCalls = [];
    emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, scoringNotebook);
    const reg = registerModelNotebook(emu);
    registerCalls = reg.calls;
    emu.jobs.notebooks.register(DEFAULT_REGISTER_NOTEBOOK_PATH, reg.handler);
  });
  afterEach(() => harness.stop());

  /**
   * Where the scoring notebook finds a model, as MLflow would on Databricks (or a NotebookError): `runs:/<run>/<path>`
   * needs `<path>/MLmodel` among the run's artifacts (MLflow 2; an MLflow 3 run has none), `models:/<model_id>` a
   * ready logged model, `models:/<name>/<version>` the version in the registry `registry_uri` names, else in
   * MLflow's default for the compute (Unity Catalog on serverless).
   */
  function resolveModel(uri: string, ctx: NotebookContext): void {
    const run = /^runs:\/([0-9a-f]+)\/(.+)$/.exec(uri);
    if (run) {
      if (!emu.files.exists(`${emu.mlflow.artifactUri(run[1])}/${run[2]}/MLmodel`))
        throw new NotebookError(`OSError: No such file or directory: '${run[2]}/MLmodel' in the artifacts of run ${run[1]}`);
      return;
    }
    const logged = /^models:\/(m-[0-9a-f]+)$/.exec(uri);
    if (logged) {
      if (emu.mlflow.loggedModel(logged[1])?.info.status !== 'LOGGED_MODEL_READY')
        throw new NotebookError(`RestException: RESOURCE_DOES_NOT_EXIST: Logged model '${logged[1]}' not found`);
      return;
    }
    const version = /^models:\/([^/]+)\/(\d+)$/.exec(uri);
    if (!version) throw new NotebookError(`ScoringError: unexpected model uri ${uri}`);
    const registry = ctx.params.registry_uri || defaultRegistryUri(ctx.compute, 2);
    const store = registry === 'databricks-uc' ? emu.mlflow.ucRegistry : emu.mlflow.workspaceRegistry;
    if (!store.models.get(version[1])?.versions.some((v) => String(v.version) === version[2])) {
      throw new NotebookError(`RestException: RESOURCE_DOES_NOT_EXIST: Registered Model with name=${version[1]} not found (registry ${registry})`);
    }
  }

  /** Plays the scoring notebook: writes predictions of the configured quality and exits with the contract JSON. */
  function scoringNotebook(ctx: NotebookContext): { exitValue: string } {
    notebookCalls.push(ctx.params);
    onScore?.();
    for (const m of JSON.parse(ctx.params.models) as Array<{ uri: string }>) resolveModel(m.uri, ctx);
    const keys = (JSON.parse(ctx.params.models) as Array<{ key: string }>).map((m) => m.key);
    const bytes = writeOverride ? writeOverride(keys) : arrowBytes(predictionsTable(keys, quality));
    const file = `${ctx.params.output_path}/predictions.arrow`;
    emu.files.write(file, Buffer.from(bytes));
    return { exitValue: JSON.stringify({ output_path: file, rows: ROWS }) };
  }

  /** Our own output never carries the PAT (task-lib's own debug lines are masked by the agent). */
  const assertClean = (r: AgentRunResult) => assertSecretNotShown(r);

  /**
   * A finished candidate run. `mlflow: 3` logs its model the MLflow 3 way (a logged model named `model`, nothing
   * among the run's artifacts); `linked: false` leaves it out of the run's outputs (found by logged-models/search).
   */
  function candidate(name: string, noise: number, opts: { startTime?: number; model?: boolean; mlflow?: 2 | 3; linked?: boolean } = {}): string {
    const mlflow3 = opts.mlflow === 3 && opts.model !== false;
    const run = emu.mlflow.createRun({
      experimentId: expId,
      runName: name,
      tags: { candidate: 'true' },
      artifacts: opts.model === false || mlflow3 ? ['metrics.json'] : ['model/MLmodel', 'model/model.pkl'],
      loggedModels: mlflow3 ? [{ name: 'model', linked: opts.linked }] : undefined,
      startTime: opts.startTime,
    });
    const id = run.info.run_id as string;
    quality[`run_${id}`] = noise;
    return id;
  }

  function production(noise: number, opts: { uc?: boolean } = {}): { runId: string; version: string } {
    const run = emu.mlflow.createRun({ experimentId: expId, runName: 'prod', artifacts: ['model/MLmodel'] });
    const runId = run.info.run_id as string;
    const version = emu.mlflow.createModelVersion(opts.uc ? UC_MODEL : MODEL, {
      source: `runs:/${runId}/model`,
      runId,
      uc: opts.uc,
      stage: opts.uc ? undefined : 'Production',
    });
    if (opts.uc) emu.mlflow.ucRegistry.models.get(UC_MODEL)!.aliases.set('champion', Number(version));
    quality.production = noise;
    return { runId, version };
  }

  function evaluate(inputs: Record<string, string | undefined> = {}, variables: Record<string, string> = {}): Promise<AgentRunResult> {
    return harness.run({
      inputs: {
        // The workspace registry unless a test says unityCatalog (the default registry).
        registry: 'workspace',
        modelName: MODEL,
        experiments: '/Shared/churn',
        evaluationTable: 'main.ml.churn_eval',
        outputPath: OUT,
        resamples: '300',
        seed: '7',
        ...inputs,
      },
      // A second Evaluate step of the same job has its own task instance id (and so its own scoring run).
      variables: { 'System.TaskInstanceId': `0c1d2e3f-4a5b-4c6d-8e7f-${String(++attempt).padStart(12, '0')}`, ...variables },
      // A short promotion-claim settle interval (default 5 s), as a pipeline variable would set it.
      env: { DATABRICKS_MLOPS_PROMOTION_SETTLE_MS: '200' },
      killAfterMs: 45_000,
    });
  }

  function mlflowWrites(): string[] {
    return emu
      .writes()
      .filter((r) => r.path.includes('/mlflow/'))
      .map((r) => `${r.method} ${r.path}`);
  }

  function record(r: AgentRunResult): any {
    return JSON.parse(readFileSync(r.outputs.reportPath, 'utf8'));
  }

  function attachment(r: AgentRunResult) {
    return r.commands.filter((c) => c.name === 'task.addattachment');
  }

  it('promotes a better candidate in the workspace registry: new version READY, moved to Production with archiving, tagged, tags reset', async () => {
    const prod = production(1.4);
    const better = candidate('better', 0.7);
    const worse = candidate('worse', 1.8);
    const r = await evaluate();
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    const [v1] = [prod.version];
    const versions = emu.mlflow.versions(MODEL);
    assert.equal(versions.length, 2);
    const v2 = versions[1];
    assert.equal(v2.run_id, better);
    // What MLflow 2's register_model records for runs:/<run>/model: the resolved artifact location.
    assert.equal(v2.source, `${emu.mlflow.artifactUri(better)}/model`);
    assert.equal(v2.model_id, undefined);
    assert.equal(emu.mlflow.stageOf(MODEL, v2.version), 'Production');
    assert.equal(emu.mlflow.stageOf(MODEL, v1), 'Archived');
    assert.match(
      r.complete!.message,
      new RegExp(
        `^Promoted run ${better} as churn version ${v2.version} to stage Production\\. Promote 'run_${better}': its ROC AUC improvement over 'production' exceeds 0\\.0010 in 100\\.0% of 300 paired resamples \\(required 95\\.0%; lower 95\\.0% bound \\+0\\.\\d{4}, mean \\+0\\.\\d{4}\\)\\.$`,
      ),
    );

    // The log: one line per model (run name as the report shows it, 4 decimals, interval), then the reason with names.
    const d4 = '0\\.\\d{4}';
    const from = r.logLines.findIndex((l) => l.startsWith('ROC AUC on '));
    const comparison = r.logLines.slice(from, from + 5);
    assert.equal(comparison[0], `ROC AUC on ${ROWS.toLocaleString('en-US')} rows (95.0% intervals, 300 paired resamples):`, r.logLines.join('\n'));
    const lineOf = (prefix: string) => comparison.find((l) => l.startsWith(prefix)) ?? '';
    assert.match(
      lineOf('  better'),
      new RegExp(
        `^  better \\(MLflow run ${better}\\): ${d4} \\[${d4}, ${d4}\\]; against production: \\+${d4} \\[\\+${d4}, \\+${d4}\\], better by more than 0\\.0010 in 100\\.0% of the resamples, promoted$`,
      ),
    );
    assert.match(
      lineOf('  worse'),
      new RegExp(
        `^  worse \\(MLflow run ${worse}\\): ${d4} \\[${d4}, ${d4}\\]; against production: [+\u2212]${d4} \\[[+\u2212]?${d4}, [+\u2212]?${d4}\\], better by more than 0\\.0010 in \\d+\\.\\d% of the resamples$`,
      ),
    );
    assert.match(lineOf('  production'), new RegExp(`^  production \\(version ${v1}\\): ${d4} \\[${d4}, ${d4}\\]$`));
    assert.match(
      comparison[4],
      /^Promote better: its ROC AUC improvement over production exceeds 0\.0010 in 100\.0% of 300 paired resamples \(required 95\.0%; lower 95\.0% bound \+0\.\d{4}, mean \+0\.\d{4}\)\.$/,
    );
    assert.ok(r.logLines.includes(`Promoted better (MLflow run ${better}) as churn version ${v2.version} to stage Production.`), r.logLines.join('\n'));
    assert.deepEqual(
      r.logLines.filter((l) => l.includes('run_')),
      [],
    );

    // The promotion claim: written once on the registered model before the transition, deleted after it.
    const claims = emu.callsTo('POST', '/api/2.0/mlflow/registered-models/set-tag');
    assert.equal(claims.length, 1);
    assert.deepEqual({ ...claims[0].body, value: '*' }, { name: MODEL, key: 'mlops.promotion.claim', value: '*' });
    assert.match(
      claims[0].body.value,
      new RegExp(`^owner=build 4242, step 0c1d2e3f-4a5b-4c6d-8e7f-\\d{12};version=${v2.version};at=\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z;nonce=[0-9a-f]{16}$`),
    );
    const released = emu.callsTo('DELETE', '/api/2.0/mlflow/registered-models/delete-tag');
    assert.deepEqual(
      released.map((c) => c.query),
      [{ name: MODEL, key: 'mlops.promotion.claim' }],
    );
    const seq = emu.requests.map((q) => q.seq);
    const at = (e: { seq: number }) => seq.indexOf(e.seq);
    const transitions = emu.callsTo('POST', '/api/2.0/mlflow/databricks/model-versions/transition-stage');
    assert.ok(at(claims[0]) < at(transitions[0]) && at(transitions[0]) < at(released[0]));
    assert.equal(emu.mlflow.workspaceRegistry.models.get(MODEL)!.tags.size, 0);
    assert.ok(
      r.logLines.includes(
        `Claimed the promotion of churn version ${v2.version} (mlops.promotion.claim); checking in 200 ms that no other step claimed it too.`,
      ),
      r.logLines.join('\n'),
    );
    assert.equal(transitions.length, 1);
    assert.equal(transitions[0].body.archive_existing_versions, true);
    assert.equal(transitions[0].body.stage, 'Production');
    assert.match(transitions[0].body.comment, /^Promoted by Evaluate & Promote \(build 4242, 20261126\.3\) over version 1: Promote/);
    const tags = emu.mlflow.versionTags(MODEL, v2.version);
    assert.equal(tags['mlops.evaluation.build_id'], '4242');
    assert.equal(tags['mlops.evaluation.seed'], '7');
    assert.equal(tags['mlops.evaluation.metric'], 'roc_auc');
    assert.equal(tags['mlops.evaluation.win_rate'], '1');
    assert.ok(Number(tags['mlops.evaluation.metric_delta']) > 0.02, tags['mlops.evaluation.metric_delta']);
    assert.equal(emu.mlflow.runTags(better).candidate, 'false');
    assert.equal(emu.mlflow.runTags(worse).candidate, 'false');

    // The bundled notebook was imported (overwrite) and run once with the contract parameters.
    const imp = emu.callsTo('POST', '/api/2.0/workspace/import');
    assert.equal(imp.length, 1);
    assert.deepEqual([imp[0].body.path, imp[0].body.format, imp[0].body.language, imp[0].body.overwrite], [DEFAULT_NOTEBOOK_PATH, 'SOURCE', 'PYTHON', true]);
    // The notebook as shipped: evaluate_models.py with its helper modules inlined (notebook-compose.ts).
    const notebookFile = (name: string): string => readFileSync(path.join(REPO_ROOT, 'tasks/DatabricksEvaluatePromoteV1/notebooks', name), 'utf8');
    assert.equal(
      Buffer.from(imp[0].body.content, 'base64').toString('utf8'),
      composeNotebookSource(notebookFile('evaluate_models.py'), { spark_compare: notebookFile('spark_compare.py'), spark_sql: notebookFile('spark_sql.py') }),
    );
    assert.equal(notebookCalls.length, 1);
    const params = notebookCalls[0];
    assert.deepEqual(JSON.parse(params.models), [
      ...[better, worse].sort().map((id) => ({ key: `run_${id}`, uri: `runs:/${id}/model` })),
      { key: 'production', uri: `models:/${MODEL}/${v1}` },
    ]);
    assert.deepEqual(
      [params.evaluation_table, params.evaluation_query, params.label_column, params.max_rows, params.registry_uri],
      ['main.ml.churn_eval', '', 'label', '0', 'databricks'],
    );
    assert.match(params.output_path, /^\/Volumes\/main\/ml\/scratch\/eval\/evaluate-4242-1-[0-9a-f]{10}$/);
    // The predictions file was deleted after reading.
    assert.equal(emu.files.exists(`${params.output_path}/predictions.arrow`), false);

    assert.deepEqual(r.outputs, {
      decision: 'promoted',
      promoted: 'true',
      modelVersion: v2.version,
      bestCandidateRunId: better,
      productionVersion: v1,
      winRate: r.outputs.winRate,
      metricDelta: r.outputs.metricDelta,
      reportPath: r.outputs.reportPath,
      decisionRecordPath: r.outputs.reportPath,
      failedChecks: '',
    });
    assert.equal(r.outputs.winRate, '1');
    assert.ok(r.outputs.reportPath.startsWith(r.tempDir));
    assert.deepEqual(
      attachment(r).map((c) => [c.props.type, c.props.name, c.message]),
      [['mlopspipelines.evaluation', 'evaluation.json', r.outputs.reportPath]],
    );
    const rec = record(r);
    assert.equal(rec.outcome, 'promoted');
    assert.equal(rec.decision.best, `run_${better}`);
    assert.equal(rec.decision.resamples, 300);
    assert.equal(rec.decision.distributions[`run_${better}`].length, 300);
    assert.equal(rec.context.promotedVersion, v2.version);
    assert.equal(rec.context.runs[`run_${better}`].url, `${emu.url}/#mlflow/experiments/${expId}/runs/${better}`);
    const summary = r.commands.find((c) => c.name === 'task.uploadsummary');
    assert.equal(path.basename(summary!.message), 'Model evaluation - churn.md', 'the section Azure DevOps shows is titled after the model');
    const md = readFileSync(summary!.message, 'utf8');
    assert.match(md, /!\[Bootstrap distributions\]\(data:image\/svg\+xml;base64,/);
    assert.ok(md.includes(`(${emu.url}/#mlflow/experiments/${expId}/runs/${better})`));
    assert.ok(md.includes(`[churn version ${v2.version}](${emu.url}/#mlflow/models/churn/versions/${v2.version})`));
    assert.deepEqual(r.errors, []);
    assertClean(r);
  });

  /** Every request but the polls (runs/get, model-versions/get), with the evaluation folder generalized. */
  function requestSequence(): string[] {
    return emu.requests
      .filter((q) => !/\/jobs\/runs\/get$|\/model-versions\/get$/.test(q.path))
      .map((q) => `${q.method} ${q.path.replace(/evaluate-[^/]+/, 'evaluate-*')}`);
  }

  const REGISTER_SOURCE = readFileSync(path.join(REPO_ROOT, 'tasks/DatabricksEvaluatePromoteV1/notebooks/register_model.py'), 'utf8');
  const UC_SEARCH = 'GET /api/2.0/mlflow/unity-catalog/model-versions/search';
  const SCORING = [
    'POST /api/2.0/workspace/mkdirs',
    'POST /api/2.0/workspace/import',
    'POST /api/2.2/jobs/runs/submit',
    'GET /api/2.2/jobs/runs/get-output',
    'GET /api/2.0/fs/files/Volumes/main/ml/scratch/eval/evaluate-*/predictions.arrow',
    'DELETE /api/2.0/fs/files/Volumes/main/ml/scratch/eval/evaluate-*/predictions.arrow',
  ];
  const FIND_CANDIDATES = ['GET /api/2.0/mlflow/experiments/get-by-name', 'POST /api/2.0/mlflow/runs/search', 'GET /api/2.0/mlflow/artifacts/list'];
  const UC_ALIAS = '/api/2.0/mlflow/unity-catalog/registered-models/alias';
  /** The promotion claim (claim.ts): read the tag, write ours, after the settle interval re-read it and production. */
  /** Unity Catalog reads the model once more before the write, to count its tags against the 50-tag limit. */
  const UC_CLAIM = [
    'GET /api/2.0/mlflow/unity-catalog/registered-models/get',
    'GET /api/2.0/mlflow/unity-catalog/registered-models/get',
    'POST /api/2.0/mlflow/unity-catalog/registered-models/set-tag',
    'GET /api/2.0/mlflow/unity-catalog/registered-models/get',
    `GET ${UC_ALIAS}`,
  ];
  /** After the alias moved: production re-read (must be ours), then the claim released (read, still ours, delete). */
  const UC_RELEASE = [
    `GET ${UC_ALIAS}`,
    'GET /api/2.0/mlflow/unity-catalog/registered-models/get',
    'DELETE /api/2.0/mlflow/unity-catalog/registered-models/delete-tag',
  ];

  it('promotes in Unity Catalog by moving the champion alias: the version is registered by the bundled register notebook on Databricks', async () => {
    const prod = production(1.4, { uc: true });
    const better = candidate('better', 0.7);
    const r = await evaluate({ registry: 'unityCatalog', modelName: UC_MODEL, clusterMode: 'existing', existingClusterId: '0123-456789-abcdefgh' });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    const versions = emu.mlflow.versions(UC_MODEL);
    assert.equal(versions.length, 2);
    const v2 = versions[1];
    assert.deepEqual([v2.version, v2.run_id, v2.source, v2.status], ['2', better, `runs:/${better}/model`, 'READY']);
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '2' });
    assert.match(r.complete!.message, new RegExp(`^Promoted run ${better} as ${UC_MODEL.replace(/\./g, '\\.')} version 2 to alias champion\\. `));

    // Exact requests: find, production, scoring, find the run's version (none), again inside register (none),
    // import + run register_model.py and read its exit value, re-read production, claim the promotion, tag,
    // move the alias, check production, release the claim, reset the tag.
    assert.deepEqual(requestSequence(), [
      ...FIND_CANDIDATES,
      `GET ${UC_ALIAS}`,
      ...SCORING,
      UC_SEARCH,
      UC_SEARCH,
      'POST /api/2.0/workspace/mkdirs',
      'POST /api/2.0/workspace/import',
      'POST /api/2.2/jobs/runs/submit',
      'GET /api/2.2/jobs/runs/get-output',
      `GET ${UC_ALIAS}`,
      ...UC_CLAIM,
      ...Array(8).fill('POST /api/2.0/mlflow/unity-catalog/model-versions/set-tag'),
      `POST ${UC_ALIAS}`,
      ...UC_RELEASE,
      'POST /api/2.0/mlflow/runs/set-tag',
    ]);
    // The READY wait (model-versions/get) happens between the registration run and the alias.
    const reqs = emu.requests.map((q) => `${q.method} ${q.path}`);
    const lastSubmit = reqs.lastIndexOf('POST /api/2.2/jobs/runs/submit');
    const readyPoll = reqs.indexOf('GET /api/2.0/mlflow/unity-catalog/model-versions/get', lastSubmit);
    assert.ok(readyPoll > lastSubmit && readyPoll < reqs.indexOf(`POST ${UC_ALIAS}`), reqs.join('\n'));
    assert.equal(
      emu.callsTo('POST', '/api/2.0/mlflow/unity-catalog/model-versions/create').length,
      0,
      'never created over REST (it would stay PENDING_REGISTRATION)',
    );
    assert.equal(emu.callsTo('POST', /transition-stage/).length, 0);

    const imports = emu.callsTo('POST', '/api/2.0/workspace/import');
    assert.deepEqual(
      imports.map((c) => [c.body.path, c.body.format, c.body.language, c.body.overwrite]),
      [
        [DEFAULT_NOTEBOOK_PATH, 'SOURCE', 'PYTHON', true],
        [DEFAULT_REGISTER_NOTEBOOK_PATH, 'SOURCE', 'PYTHON', true],
      ],
    );
    assert.equal(DEFAULT_REGISTER_NOTEBOOK_PATH, '/Shared/mlops-pipelines/register_model');
    assert.equal(Buffer.from(imports[1].body.content, 'base64').toString('utf8'), REGISTER_SOURCE);
    const submits = emu.callsTo('POST', '/api/2.2/jobs/runs/submit');
    assert.equal(submits.length, 2);
    const reg = submits[1].body;
    assert.match(reg.idempotency_token, /^[0-9a-f]{64}$/);
    assert.notEqual(reg.idempotency_token, submits[0].body.idempotency_token);
    assert.deepEqual(
      { ...reg, idempotency_token: '*' },
      {
        run_name: `Evaluate & Promote: register ${UC_MODEL} (build 20261126.3)`,
        timeout_seconds: 3600,
        idempotency_token: '*',
        tasks: [
          {
            task_key: 'register',
            notebook_task: {
              notebook_path: DEFAULT_REGISTER_NOTEBOOK_PATH,
              source: 'WORKSPACE',
              base_parameters: { model_name: UC_MODEL, model_uri: `runs:/${better}/model`, run_id: better, tags: '{"mlops_build_id":"4242"}' },
            },
            existing_cluster_id: '0123-456789-abcdefgh',
          },
        ],
      },
    );
    assert.equal(submits[0].body.tasks[0].existing_cluster_id, '0123-456789-abcdefgh', 'the same compute as the scoring run');
    assert.deepEqual(
      registerCalls.map((c) => c.result),
      [{ version: '2', reused: false }],
    );
    assert.deepEqual(
      emu.callsTo('POST', UC_ALIAS).map((c) => c.body),
      [{ name: UC_MODEL, alias: 'champion', version: '2' }],
    );
    // Unity Catalog tag keys: letters, digits and underscores only (no `.`), the registration tag included.
    const tags = emu.mlflow.versionTags(UC_MODEL, '2');
    assert.deepEqual(Object.keys(tags).sort(), [
      'mlops_build_id',
      'mlops_method',
      'mlops_metric',
      'mlops_metric_delta',
      'mlops_metric_value',
      'mlops_resamples',
      'mlops_seed',
      'mlops_win_rate',
    ]);
    assert.equal(tags.mlops_build_id, '4242');
    assert.equal(tags.mlops_win_rate, '1');
    assert.deepEqual(
      emu.callsTo('POST', '/api/2.0/mlflow/unity-catalog/registered-models/set-tag').map((c) => c.body.key),
      ['mlops_promotion_claim'],
    );
    assert.deepEqual(
      emu.callsTo('DELETE', '/api/2.0/mlflow/unity-catalog/registered-models/delete-tag').map((c) => c.body),
      [{ name: UC_MODEL, key: 'mlops_promotion_claim' }],
    );
    assert.ok(
      r.logLines.some((l) => /^Registration run \d+ \(.*\) registered main\.ml\.churn version 2\.$/.test(l)),
      r.logLines.join('\n'),
    );
    assert.equal(r.outputs.decision, 'promoted');
    assert.equal(r.outputs.modelVersion, '2');
    assert.equal(r.outputs.productionVersion, prod.version);
    assert.equal(emu.mlflow.runTags(better).candidate, 'false');
    assertClean(r);
  });

  it('Unity Catalog: a re-run after a crash between registration and alias finds the version by run id and registers nothing', async () => {
    production(1.4, { uc: true });
    const better = candidate('better', 0.7);
    // First attempt: registered, then the alias call fails (the step fails before moving the alias).
    emu.faults.add({ kind: 'status', status: 400, method: 'POST', path: UC_ALIAS, errorCode: 'INVALID_PARAMETER_VALUE', message: 'injected failure' });
    const first = await evaluate({ registry: 'unityCatalog', modelName: UC_MODEL });
    assert.equal(first.complete?.result, 'Failed', first.stdout);
    assert.match(first.complete!.message, /injected failure/);
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '1' });
    assert.equal(emu.mlflow.versions(UC_MODEL).length, 2);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
    emu.clearRequests();

    const r = await evaluate({ registry: 'unityCatalog', modelName: UC_MODEL });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    // Found before any registration run: only the scoring notebook was imported and run.
    assert.deepEqual(requestSequence(), [
      ...FIND_CANDIDATES,
      `GET ${UC_ALIAS}`,
      ...SCORING,
      UC_SEARCH,
      `GET ${UC_ALIAS}`,
      ...UC_CLAIM,
      ...Array(8).fill('POST /api/2.0/mlflow/unity-catalog/model-versions/set-tag'),
      `POST ${UC_ALIAS}`,
      ...UC_RELEASE,
      'POST /api/2.0/mlflow/runs/set-tag',
    ]);
    assert.deepEqual(
      emu.callsTo('POST', '/api/2.0/workspace/import').map((c) => c.body.path),
      [DEFAULT_NOTEBOOK_PATH],
    );
    assert.equal(registerCalls.length, 1, 'the register notebook ran in the first attempt only');
    assert.equal(emu.mlflow.versions(UC_MODEL).length, 2);
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '2' });
    assert.ok(r.logLines.includes(`Run ${better} is already registered as ${UC_MODEL} version 2; reusing it.`), r.logLines.join('\n'));
  });

  it('Unity Catalog: a failing registration run fails the task with its error and promotes nothing', async () => {
    production(1.4, { uc: true });
    const better = candidate('better', 0.7);
    emu.jobs.notebooks.register(DEFAULT_REGISTER_NOTEBOOK_PATH, () => {
      throw new NotebookError('MlflowException: Model passed for registration did not contain any signature metadata.', 'Traceback ...');
    });
    const r = await evaluate({ registry: 'unityCatalog', modelName: UC_MODEL });
    assert.equal(r.complete?.result, 'Failed');
    assert.match(
      r.complete!.message,
      /^Registration run \d+ \(http:\/\/127\.0\.0\.1:\d+\/.*\) ended TERMINATED\/FAILED: MlflowException: Model passed for registration did not contain any signature metadata\. Nothing was promoted\.$/,
    );
    assert.equal(emu.mlflow.versions(UC_MODEL).length, 1);
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '1' });
    assert.deepEqual(mlflowWrites(), []);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
    assert.deepEqual(r.outputs, {});
  });

  it('Unity Catalog: pipeline cancel (SIGINT) during the registration run cancels it and promotes nothing', async () => {
    production(1.4, { uc: true });
    const better = candidate('better', 0.7);
    const reg = registerModelNotebook(emu);
    emu.jobs.notebooks.register(DEFAULT_REGISTER_NOTEBOOK_PATH, reg.handler, { runningMs: 600_000 });
    const r = await harness.run({
      inputs: {
        modelName: UC_MODEL,
        registry: 'unityCatalog',
        experiments: '/Shared/churn',
        evaluationTable: 't',
        outputPath: OUT,
        resamples: '300',
        seed: '7',
      },
      killAfterMs: 30_000,
      onLine: (line, child) => {
        if (line.startsWith('Registration run ') && line.includes('RUNNING')) child.kill('SIGINT');
      },
    });
    assert.equal(r.complete?.result, 'Cancelled', r.stdout);
    const [scoringRun, registrationRun] = [...emu.jobs.runs.keys()];
    assert.equal(emu.jobs.runs.size, 2);
    assert.deepEqual(
      emu.jobs.cancels.map((c) => c.runId),
      [registrationRun],
    );
    assert.notEqual(scoringRun, registrationRun);
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '1' });
    assert.deepEqual(mlflowWrites(), []);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
  });

  it('Unity Catalog dry run: scores (import, run, scratch file written and deleted) but never registers or touches the registry or run tags', async () => {
    production(1.4, { uc: true });
    const better = candidate('better', 0.7);
    const r = await evaluate({ registry: 'unityCatalog', modelName: UC_MODEL, dryRun: 'true' });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.match(r.complete!.message, new RegExp(`^Dry run: would promote run ${better} to main\\.ml\\.churn alias champion; nothing was changed\\. `));
    assert.deepEqual(
      emu.writes().map((w) => `${w.method} ${w.path.replace(/evaluate-.*$/, 'evaluate-*')}`),
      [
        'POST /api/2.0/workspace/mkdirs',
        'POST /api/2.0/workspace/import',
        'POST /api/2.2/jobs/runs/submit',
        'DELETE /api/2.0/fs/files/Volumes/main/ml/scratch/eval/evaluate-*',
      ],
    );
    assert.deepEqual(
      emu.callsTo('POST', '/api/2.0/workspace/import').map((c) => c.body.path),
      [DEFAULT_NOTEBOOK_PATH],
    );
    assert.equal(registerCalls.length, 0);
    assert.equal(emu.mlflow.versions(UC_MODEL).length, 1);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
  });

  it('Unity Catalog with a predictions file: the registration notebook still runs on Databricks (serverless by default)', async () => {
    production(1.4, { uc: true });
    const better = candidate('better', 0.6);
    const file = path.join(tmpdir(), `preds-uc-${process.pid}-${Date.now()}.arrow`);
    writeFileSync(file, arrowBytes(predictionsTable([`run_${better}`, 'production'], quality)));
    const r = await evaluate({
      registry: 'unityCatalog',
      modelName: UC_MODEL,
      predictionsSource: 'file',
      predictionsFile: file,
      evaluationTable: undefined,
      outputPath: undefined,
    });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.equal(notebookCalls.length, 0);
    const [submit] = emu.callsTo('POST', '/api/2.2/jobs/runs/submit');
    assert.deepEqual(submit.body.tasks, [
      {
        task_key: 'register',
        notebook_task: {
          notebook_path: DEFAULT_REGISTER_NOTEBOOK_PATH,
          source: 'WORKSPACE',
          base_parameters: { model_name: UC_MODEL, model_uri: `runs:/${better}/model`, run_id: better, tags: '{"mlops_build_id":"4242"}' },
        },
      },
    ]);
    assert.equal(submit.body.timeout_seconds, 3600);
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '2' });
  });

  it('keeps production when the candidates are worse or of equal quality, changing only the candidate tags', async () => {
    const prod = production(1.0);
    const equal = candidate('equal', 1.0);
    const worse = candidate('worse', 1.6);
    const r = await evaluate();
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.match(r.complete!.message, /^Kept production version 1: Keep 'production': the best candidate/);
    assert.equal(emu.mlflow.versions(MODEL).length, 1);
    assert.equal(emu.mlflow.stageOf(MODEL, prod.version), 'Production');
    assert.deepEqual(mlflowWrites(), ['POST /api/2.0/mlflow/runs/set-tag', 'POST /api/2.0/mlflow/runs/set-tag']);
    assert.deepEqual([emu.mlflow.runTags(equal).candidate, emu.mlflow.runTags(worse).candidate], ['false', 'false']);
    assert.equal(r.outputs.decision, 'kept');
    assert.equal(r.outputs.promoted, 'false');
    assert.equal(r.outputs.bestCandidateRunId, equal);
    assert.ok(Number(r.outputs.winRate) < 0.9, r.outputs.winRate);
  });

  it('several candidates pick the same winner whatever the listing order', async () => {
    production(1.4);
    const winners: string[] = [];
    const ids: string[][] = [];
    for (const order of [
      [0.9, 0.6, 1.2],
      [1.2, 0.9, 0.6],
    ]) {
      emu.mlflow.tracking.runs.clear();
      const made = order.map((noise, i) => candidate(`c${noise}`, noise, { startTime: 1_700_000_000_000 + i * 1000 }));
      ids.push(made);
      const r = await evaluate({ dryRun: 'true' });
      assert.equal(r.complete?.result, 'Succeeded', r.stdout);
      winners.push(r.outputs.bestCandidateRunId);
    }
    assert.equal(winners[0], ids[0][1]);
    assert.equal(winners[1], ids[1][2]);
  });

  it('with no production model promotes the best candidate when it meets minMetric, and keeps when it does not', async () => {
    const a = candidate('a', 0.8);
    let r = await evaluate({ minMetric: '0.999' });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.equal(r.outputs.decision, 'kept');
    assert.deepEqual(emu.mlflow.versions(MODEL), []);
    assert.deepEqual(JSON.parse(notebookCalls[0].models), [{ key: `run_${a}`, uri: `runs:/${a}/model` }]);

    emu.mlflow.setRunTag(a, 'candidate', 'true');
    r = await evaluate({ minMetric: '0.6' });
    assert.equal(r.outputs.decision, 'promoted', r.stdout);
    assert.equal(r.outputs.productionVersion, '');
    assert.equal(emu.mlflow.stageOf(MODEL, '1'), 'Production');
    assert.match(
      r.complete!.message,
      new RegExp(
        `^Promoted run ${a} as churn version 1 to stage Production\\. Promote 'run_${a}': there is no production model to compare with, and its ROC AUC 0\\.\\d{4} meets the floor 0\\.6000\\.$`,
      ),
    );
  });

  it('with no candidates changes nothing (no writes at all)', async () => {
    production(1.0);
    candidate('unfinished', 0.5);
    emu.mlflow.setRunStatus(
      Object.keys(quality)
        .find((k) => k.startsWith('run_'))!
        .slice(4),
      'RUNNING',
    );
    const r = await evaluate();
    assert.deepEqual(r.complete, {
      result: 'Succeeded',
      message: 'No candidates: no finished run tagged candidate=true with a logged model; nothing was changed.',
    });
    assert.deepEqual(emu.writes(), []);
    assert.equal(notebookCalls.length, 0);
    assert.deepEqual(r.outputs, {
      decision: 'noCandidates',
      promoted: 'false',
      modelVersion: '',
      bestCandidateRunId: '',
      productionVersion: '1',
      winRate: '',
      metricDelta: '',
      reportPath: r.outputs.reportPath,
      decisionRecordPath: r.outputs.reportPath,
      failedChecks: '',
    });
    assert.equal(record(r).decision.decision, 'none');
  });

  it('skips a candidate whose model artifact is missing, with a warning naming it', async () => {
    production(1.4);
    const good = candidate('good', 0.7);
    const broken = candidate('broken', 0.1, { model: false });
    const r = await evaluate();
    assert.equal(r.outputs.bestCandidateRunId, good);
    assert.deepEqual(r.warnings, [
      `Candidate run ${broken} (broken) in experiment ${expId} has no model at 'model': neither run artifacts model/MLmodel (MLflow 2) nor a ready MLflow 3 logged model named 'model' from this run; skipped.`,
    ]);
    assert.equal(emu.mlflow.runTags(broken).candidate, 'true');
  });

  /** The ids of the MLflow 3 logged model `model` of a run. */
  function modelIdOf(runId: string): string {
    const [m] = emu.mlflow.loggedModels(runId);
    assert.ok(m, `run ${runId} has no logged model`);
    return m.info.model_id as string;
  }

  it('MLflow 3: a logged-model candidate is scored by models:/<model_id> and promoted in the workspace registry with source models:/<model_id> and model_id', async () => {
    const prod = production(1.4);
    const better = candidate('better', 0.7, { mlflow: 3 });
    const id = modelIdOf(better);
    assert.equal(emu.files.exists(`${emu.mlflow.artifactUri(better)}/model/MLmodel`), false, 'an MLflow 3 run has no model among its artifacts');
    const r = await evaluate();
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.deepEqual(JSON.parse(notebookCalls[0].models), [
      { key: `run_${better}`, uri: `models:/${id}` },
      { key: 'production', uri: `models:/${MODEL}/${prod.version}` },
    ]);
    // Found through the run's outputs: artifacts/list (no MLmodel), runs/get, logged-models/<id>.
    assert.deepEqual(
      emu.requests
        .filter((q) => /runs\/get$|artifacts\/list|logged-models/.test(q.path))
        .slice(0, 3)
        .map((q) => `${q.method} ${q.path}`),
      ['GET /api/2.0/mlflow/artifacts/list', 'GET /api/2.0/mlflow/runs/get', `GET /api/2.0/mlflow/logged-models/${id}`],
    );
    const [create] = emu.callsTo('POST', '/api/2.0/mlflow/model-versions/create');
    assert.deepEqual(create.body, {
      name: MODEL,
      source: `models:/${id}`,
      run_id: better,
      description: 'Registered by Evaluate & Promote, build 4242.',
      model_id: id,
    });
    const v2 = emu.mlflow.versions(MODEL)[1];
    assert.deepEqual([v2.version, v2.run_id, v2.source, v2.model_id], ['2', better, `models:/${id}`, id]);
    assert.equal(emu.mlflow.stageOf(MODEL, '2'), 'Production');
    assert.equal(record(r).context.runs[`run_${better}`].url, `${emu.url}/#mlflow/experiments/${expId}/runs/${better}`);
    assertClean(r);
  });

  it('MLflow 3: a re-run reuses the version registered from the same logged model (no second version)', async () => {
    production(1.4);
    const better = candidate('better', 0.7, { mlflow: 3 });
    const id = modelIdOf(better);
    // A version of another logged model of the same run is not this model's version.
    const other = emu.mlflow.createModelVersion(MODEL, {
      source: 'models:/m-00000000000000000000000000000000',
      runId: better,
      modelId: 'm-00000000000000000000000000000000',
    });
    const registered = emu.mlflow.createModelVersion(MODEL, { source: `models:/${id}`, runId: better, modelId: id });
    const r = await evaluate();
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.equal(emu.callsTo('POST', '/api/2.0/mlflow/model-versions/create').length, 0);
    assert.deepEqual([other, registered], ['2', '3']);
    assert.equal(r.outputs.modelVersion, '3');
    assert.equal(emu.mlflow.stageOf(MODEL, '3'), 'Production');
    assert.ok(r.logLines.includes(`Run ${better} is already registered as churn version 3; reusing it.`), r.logLines.join('\n'));
  });

  it('MLflow 2 and 3 candidates in one evaluation (one found only by logged-models/search); a run with neither is skipped with a warning', async () => {
    production(1.6);
    const v2run = candidate('mlflow2', 1.0);
    const v3run = candidate('mlflow3', 0.5, { mlflow: 3 });
    const unlinked = candidate('unlinked', 1.2, { mlflow: 3, linked: false });
    const none = candidate('none', 0.1, { model: false });
    const r = await evaluate();
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    const uris = Object.fromEntries((JSON.parse(notebookCalls[0].models) as Array<{ key: string; uri: string }>).map((m) => [m.key, m.uri]));
    assert.deepEqual(uris, {
      [`run_${v2run}`]: `runs:/${v2run}/model`,
      [`run_${v3run}`]: `models:/${modelIdOf(v3run)}`,
      [`run_${unlinked}`]: `models:/${modelIdOf(unlinked)}`,
      production: `models:/${MODEL}/1`,
    });
    assert.ok(emu.callsTo('POST', '/api/2.0/mlflow/logged-models/search').length >= 1);
    assert.deepEqual(r.warnings, [
      `Candidate run ${none} (none) in experiment ${expId} has no model at 'model': neither run artifacts model/MLmodel (MLflow 2) nor a ready MLflow 3 logged model named 'model' from this run; skipped.`,
    ]);
    assert.deepEqual(
      record(r).skippedCandidates.map((c: { runId: string }) => c.runId),
      [none],
    );
    assert.equal(r.outputs.bestCandidateRunId, v3run);
    assert.equal(emu.mlflow.versions(MODEL)[1].source, `models:/${modelIdOf(v3run)}`);
  });

  it('Unity Catalog, MLflow 3: the registration notebook gets models:/<model_id> and the run; tags and the claim use UC-safe keys; a re-run reuses the version', async () => {
    const prod = production(1.4, { uc: true });
    const better = candidate('better', 0.7, { mlflow: 3 });
    const id = modelIdOf(better);
    const r = await evaluate({ registry: 'unityCatalog', modelName: UC_MODEL });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.deepEqual(JSON.parse(notebookCalls[0].models), [
      { key: `run_${better}`, uri: `models:/${id}` },
      { key: 'production', uri: `models:/${UC_MODEL}/${prod.version}` },
    ]);
    assert.equal(notebookCalls[0].registry_uri, 'databricks-uc');
    assert.deepEqual(
      registerCalls.map((c) => c.params),
      [{ model_name: UC_MODEL, model_uri: `models:/${id}`, run_id: better, tags: '{"mlops_build_id":"4242"}' }],
    );
    const v2 = emu.mlflow.versions(UC_MODEL)[1];
    assert.deepEqual([v2.version, v2.run_id, v2.source, v2.status], ['2', better, `models:/${id}`, 'READY']);
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '2' });
    assert.ok(Object.keys(emu.mlflow.versionTags(UC_MODEL, '2')).every((k) => /^[A-Za-z0-9_]+$/.test(k)));
    assert.deepEqual(
      emu.callsTo('POST', '/api/2.0/mlflow/unity-catalog/registered-models/set-tag').map((c) => c.body.key),
      ['mlops_promotion_claim'],
    );

    // Re-run (the alias moved back by hand, the candidate tagged again): the version of this logged model is reused.
    emu.mlflow.ucRegistry.models.get(UC_MODEL)!.aliases.set('champion', 1);
    emu.mlflow.setRunTag(better, 'candidate', 'true');
    const again = await evaluate({ registry: 'unityCatalog', modelName: UC_MODEL });
    assert.equal(again.complete?.result, 'Succeeded', again.stdout);
    assert.equal(registerCalls.length, 1, 'no second registration run');
    assert.equal(emu.mlflow.versions(UC_MODEL).length, 2);
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '2' });
  });

  /**
   * The main Evaluate scenarios on both MLflow generations and both registries: promote (registration recorded
   * as MLflow's client records it), keep (only the candidate tags change), dry run (no MLflow write), a failing
   * scoring run (nothing promoted, tags kept) and production changing during the evaluation.
   */
  describe('scenarios × MLflow 2/3 × workspace/Unity Catalog', () => {
    for (const mlflow of [2, 3] as const) {
      for (const uc of [false, true]) {
        const name = uc ? UC_MODEL : MODEL;
        const regInputs = uc ? { registry: 'unityCatalog', modelName: UC_MODEL } : {};
        const label = `MLflow ${mlflow}, ${uc ? 'Unity Catalog' : 'workspace registry'}`;
        const expectedUri = (run: string) => (mlflow === 3 ? `models:/${modelIdOf(run)}` : `runs:/${run}/model`);

        it(`${label}: promotes the better candidate, scored and registered by its model's URI`, async () => {
          production(1.4, { uc });
          const better = candidate('better', 0.6, { mlflow });
          const r = await evaluate(regInputs);
          assert.equal(r.complete?.result, 'Succeeded', r.stdout);
          assert.equal(JSON.parse(notebookCalls[0].models)[0].uri, expectedUri(better));
          assert.equal(notebookCalls[0].registry_uri, uc ? 'databricks-uc' : 'databricks');
          const v2 = emu.mlflow.versions(name)[1];
          assert.equal(v2.run_id, better);
          if (uc) {
            assert.equal(v2.source, expectedUri(better));
            assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '2' });
            assert.ok(Object.keys(emu.mlflow.versionTags(UC_MODEL, '2')).every((k) => /^[A-Za-z0-9_]+$/.test(k)));
          } else {
            assert.equal(v2.source, mlflow === 3 ? `models:/${modelIdOf(better)}` : `${emu.mlflow.artifactUri(better)}/model`);
            assert.equal(v2.model_id, mlflow === 3 ? modelIdOf(better) : undefined);
            assert.equal(emu.mlflow.stageOf(MODEL, '2'), 'Production');
          }
          assert.equal(emu.mlflow.runTags(better).candidate, 'false');
        });

        it(`${label}: keeps production when the candidate is worse; only the candidate tag changes`, async () => {
          production(1.0, { uc });
          const worse = candidate('worse', 1.7, { mlflow });
          const r = await evaluate(regInputs);
          assert.equal(r.complete?.result, 'Succeeded', r.stdout);
          assert.equal(r.outputs.decision, 'kept');
          assert.equal(emu.mlflow.versions(name).length, 1);
          assert.deepEqual(mlflowWrites(), ['POST /api/2.0/mlflow/runs/set-tag']);
          assert.equal(registerCalls.length, 0);
          assert.equal(emu.mlflow.runTags(worse).candidate, 'false');
        });

        it(`${label}: dry run scores but writes nothing to MLflow`, async () => {
          production(1.4, { uc });
          const better = candidate('better', 0.6, { mlflow });
          const r = await evaluate({ ...regInputs, dryRun: 'true' });
          assert.equal(r.complete?.result, 'Succeeded', r.stdout);
          assert.match(r.complete!.message, new RegExp(`^Dry run: would promote run ${better} to `));
          assert.deepEqual(mlflowWrites(), []);
          assert.equal(registerCalls.length, 0);
          assert.equal(JSON.parse(notebookCalls[0].models)[0].uri, expectedUri(better));
        });

        it(`${label}: a failing scoring run promotes nothing and keeps the candidate tag`, async () => {
          production(1.4, { uc });
          const better = candidate('better', 0.6, { mlflow });
          emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, () => {
            throw new NotebookError('ScoringError: the evaluation data has no rows');
          });
          const r = await evaluate(regInputs);
          assert.equal(r.complete?.result, 'Failed');
          assert.match(r.complete!.message, /ScoringError: the evaluation data has no rows\. Nothing was promoted\.$/);
          assert.deepEqual(mlflowWrites(), []);
          assert.equal(emu.mlflow.runTags(better).candidate, 'true');
        });

        it(`${label}: production changing during the evaluation fails without promoting`, async () => {
          production(1.4, { uc });
          const better = candidate('better', 0.6, { mlflow });
          onScore = () => {
            const other = emu.mlflow.createRun({ experimentId: expId, runName: 'hotfix', artifacts: ['model/MLmodel'] }).info.run_id as string;
            const v = emu.mlflow.createModelVersion(name, { source: `runs:/${other}/model`, runId: other, uc, stage: uc ? undefined : 'Production' });
            if (uc) emu.mlflow.ucRegistry.models.get(UC_MODEL)!.aliases.set('champion', Number(v));
          };
          const r = await evaluate(regInputs);
          assert.equal(r.complete?.result, 'Failed');
          assert.match(
            r.complete!.message,
            /production model changed during the evaluation: it was version 1 when the models were compared and is now version 2/,
          );
          assert.equal(emu.mlflow.runTags(better).candidate, 'true');
          if (uc) assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '2' });
          else assert.equal(emu.callsTo('POST', /transition-stage/).length, 0);
        });
      }
    }
  });

  it('clusterMode serverless (the default) with a dbfs:/ outputPath is refused before any request, naming both inputs', async () => {
    production(1.4);
    candidate('better', 0.7);
    const r = await evaluate({ outputPath: 'dbfs:/mlops/evaluations' });
    assert.deepEqual(r.complete, {
      result: 'Failed',
      message:
        'outputPath dbfs:/mlops/evaluations is a dbfs:/ folder, which serverless compute (clusterMode serverless, the default) cannot write to: use a Unity Catalog volume folder (/Volumes/<catalog>/<schema>/<volume>/...) for outputPath, or set clusterMode to existing or new.',
    });
    assert.deepEqual(emu.requests, []);
    // A classic cluster may still write dbfs:/.
    const ok = await evaluate({ outputPath: 'dbfs:/mlops/evaluations', clusterMode: 'existing', existingClusterId: '0123-456789-abcdefgh', dryRun: 'true' });
    assert.equal(ok.complete?.result, 'Succeeded', ok.stdout);
  });

  it('a 503 on the production lookup fails closed: nothing scored, registered or reset', async () => {
    production(1.4);
    const better = candidate('better', 0.5);
    emu.faults.add({ kind: 'status', status: 503, path: '/api/2.0/mlflow/registered-models/get-latest-versions', times: Infinity, retryAfterSeconds: 0 });
    const r = await evaluate();
    assert.equal(r.complete?.result, 'Failed');
    assert.match(r.complete!.message, /temporarily unavailable/i);
    assert.deepEqual(emu.writes(), []);
    assert.equal(notebookCalls.length, 0);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
  });

  it('fails without promoting when production changed during the evaluation, naming both versions', async () => {
    const prod = production(1.4);
    const better = candidate('better', 0.6);
    onScore = () => {
      const other = emu.mlflow.createRun({ experimentId: expId, runName: 'hotfix', artifacts: ['model/MLmodel'] }).info.run_id as string;
      emu.mlflow.createModelVersion(MODEL, { source: `runs:/${other}/model`, runId: other, stage: 'Production' });
    };
    const r = await evaluate();
    assert.equal(r.complete?.result, 'Failed');
    assert.match(
      r.complete!.message,
      /production model changed during the evaluation: it was version 1 when the models were compared and is now version 2\. Nothing was promoted \(version 3 stays registered\)/,
    );
    assert.equal(emu.mlflow.stageOf(MODEL, prod.version), 'Production');
    assert.equal(emu.mlflow.stageOf(MODEL, '3'), 'None');
    assert.equal(emu.callsTo('POST', /transition-stage/).length, 0);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
  });

  it('a re-run after a crash between registration and transition reuses the version (no second version)', async () => {
    production(1.4);
    const better = candidate('better', 0.6);
    const registered = emu.mlflow.createModelVersion(MODEL, { source: `runs:/${better}/model`, runId: better });
    const r = await evaluate();
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.equal(emu.callsTo('POST', '/api/2.0/mlflow/model-versions/create').length, 0);
    assert.equal(emu.mlflow.versions(MODEL).length, 2);
    assert.equal(emu.mlflow.stageOf(MODEL, registered), 'Production');
    assert.equal(r.outputs.modelVersion, registered);
    assert.ok(r.logLines.includes(`Run ${better} is already registered as churn version ${registered}; reusing it.`), r.logLines.join('\n'));
  });

  it('dry run evaluates and reports but writes nothing to MLflow (only the scoring run and its file)', async () => {
    production(1.4);
    const better = candidate('better', 0.6);
    const r = await evaluate({ dryRun: 'true' });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.match(r.complete!.message, new RegExp(`^Dry run: would promote run ${better} to churn stage Production; nothing was changed\\.`));
    assert.deepEqual(mlflowWrites(), []);
    assert.deepEqual(
      emu.writes().map((w) => `${w.method} ${w.path.replace(/evaluate-.*$/, 'evaluate-*')}`),
      [
        'POST /api/2.0/workspace/mkdirs',
        'POST /api/2.0/workspace/import',
        'POST /api/2.2/jobs/runs/submit',
        'DELETE /api/2.0/fs/files/Volumes/main/ml/scratch/eval/evaluate-*',
      ],
    );
    assert.deepEqual([r.outputs.decision, r.outputs.promoted, r.outputs.modelVersion], ['promoted', 'false', '']);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
  });

  it('predictionsSource=scoringJob runs the user job with the contract as notebook_params (no notebook import)', async () => {
    production(1.4);
    const better = candidate('better', 0.6);
    emu.jobs.notebooks.register('/Users/ds@contoso.com/score', scoringNotebook);
    const jobId = emu.jobs.createJob({ name: 'score churn', tasks: [{ task_key: 'score', notebook_task: { notebook_path: '/Users/ds@contoso.com/score' } }] });
    const r = await evaluate({ predictionsSource: 'scoringJob', scoringJobId: String(jobId), dryRun: 'true' });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.equal(r.outputs.bestCandidateRunId, better);
    const [runNow] = emu.callsTo('POST', '/api/2.2/jobs/run-now');
    assert.equal(runNow.body.job_id, jobId);
    assert.match(runNow.body.idempotency_token, /^[0-9a-f]{64}$/);
    assert.deepEqual(Object.keys(runNow.body.notebook_params).sort(), [
      'evaluation_query',
      'evaluation_table',
      'label_column',
      'max_rows',
      'models',
      'output_path',
      'registry_uri',
    ]);
    assert.equal(runNow.body.notebook_params.registry_uri, 'databricks');
    assert.equal(emu.callsTo('POST', '/api/2.0/workspace/import').length, 0);
    assert.equal(notebookCalls.length, 1);
  });

  it('a scoring job with job parameters must define every contract parameter', async () => {
    production(1.4);
    candidate('better', 0.6);
    const jobId = emu.jobs.createJob({
      name: 'score',
      parameters: [{ name: 'models', default: '' }],
      tasks: [{ task_key: 'score', notebook_task: { notebook_path: '/Users/ds@contoso.com/score' } }],
    });
    const r = await evaluate({ predictionsSource: 'scoringJob', scoringJobId: String(jobId) });
    assert.equal(r.complete?.result, 'Failed');
    assert.equal(
      r.complete?.message,
      `Scoring job ${jobId} defines job parameters but not evaluation_table, evaluation_query, label_column, max_rows, output_path, registry_uri; add them (empty defaults) so the task can pass the scoring contract.`,
    );
    assert.equal(emu.callsTo('POST', '/api/2.2/jobs/run-now').length, 0);
  });

  it('a failing scoring run fails the task with the notebook error and promotes nothing', async () => {
    production(1.4);
    const better = candidate('better', 0.6);
    emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, () => {
      throw new NotebookError('ScoringError: model run_x returned hard 0/1 labels, not scores.', 'Traceback ...');
    });
    const r = await evaluate();
    assert.equal(r.complete?.result, 'Failed');
    assert.match(
      r.complete!.message,
      /^Scoring run \d+ \(http:\/\/127\.0\.0\.1:\d+\/.*\) ended TERMINATED\/FAILED: ScoringError: model run_x returned hard 0\/1 labels, not scores\. Nothing was promoted\.$/,
    );
    assert.deepEqual(mlflowWrites(), []);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
  });

  it('pipeline cancel (SIGINT) cancels the scoring run and promotes nothing', async () => {
    production(1.4);
    const better = candidate('better', 0.6);
    emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, scoringNotebook, { runningMs: 600_000 });
    const r = await harness.run({
      inputs: { registry: 'workspace', modelName: MODEL, experiments: '/Shared/churn', evaluationTable: 't', outputPath: OUT },
      killAfterMs: 30_000,
      onLine: (line, child) => {
        if (line.startsWith('Scoring run ') && line.includes('RUNNING')) child.kill('SIGINT');
      },
    });
    assert.equal(r.complete?.result, 'Cancelled', r.stdout);
    const runId = [...emu.jobs.runs.keys()][0];
    assert.deepEqual(
      emu.jobs.cancels.map((c) => c.runId),
      [runId],
    );
    assert.deepEqual(mlflowWrites(), []);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
  });

  it('rejects bad inputs before any request', async () => {
    const r = await evaluate({ winRate: '1.5' });
    assert.deepEqual(r.complete, { result: 'Failed', message: 'Input winRate must be > 0 and <= 1; got 1.5.' });
    assert.deepEqual(emu.requests, []);
  });

  describe('bad predictions fail with a clear message, promote nothing, reset no tag and delete the file', () => {
    const cases: Array<[string, (keys: string[]) => Uint8Array, RegExp]> = [
      [
        'missing label column',
        (keys) => {
          const cols = predictionsTable(keys, quality);
          delete cols.label;
          return arrowBytes(cols);
        },
        /^there is no label column 'label' \(columns: run_[0-9a-f]+, production\)$/,
      ],
      [
        'NaN scores',
        (keys) => {
          const cols = predictionsTable(keys, quality);
          (cols[keys[0]] as Float64Array)[17] = NaN;
          return arrowBytes(cols);
        },
        /^column 'run_[0-9a-f]+' has 1 NaN or infinite score \(first at row 17: NaN\)$/,
      ],
      [
        'one class',
        (keys) => {
          const cols = predictionsTable(keys, quality);
          (cols.label as Int8Array).fill(1);
          return arrowBytes(cols);
        },
        /^the label column 'label' holds only one class \(every label is 1\)$/,
      ],
      [
        'fewer rows than the scoring run reported',
        (keys) => arrowBytes(predictionsTable(keys, quality, { rows: ROWS - 10 })),
        new RegExp(`^The scoring run reported ${ROWS} rows but the predictions file holds ${ROWS - 10}; the file is incomplete or from another run\\.$`),
      ],
      [
        'columns of different lengths',
        (keys) => {
          const cols = predictionsTable(keys, quality);
          const vectors: Record<string, any> = {};
          for (const [k, v] of Object.entries(cols))
            vectors[k] = k === keys[0] ? vectorFromArray(Array.from(v).slice(0, 10), new Float64()) : makeVector(v as Float64Array);
          return tableToIPC(new Table(vectors), 'file');
        },
        new RegExp(`^column 'run_[0-9a-f]+' has 10 rows but the other columns have ${ROWS} \\(its last ${ROWS - 10} values are missing\\)$`),
      ],
    ];
    for (const [name, make, message] of cases) {
      it(name, async () => {
        production(1.4);
        const better = candidate('better', 0.6);
        writeOverride = make;
        const r = await evaluate();
        assert.equal(r.complete?.result, 'Failed', r.stdout);
        assert.match(r.complete!.message, message);
        assert.deepEqual(mlflowWrites(), []);
        assert.equal(emu.mlflow.runTags(better).candidate, 'true');
        assert.equal(emu.files.list(OUT).filter((p) => p.endsWith('.arrow')).length, 0);
      });
    }
  });

  it('the same seed gives the same decision and the same report', async () => {
    production(1.2);
    candidate('a', 1.0);
    candidate('b', 1.1);
    const first = await evaluate({ dryRun: 'true' });
    const second = await evaluate({ dryRun: 'true' });
    const strip = (rec: any) => ({ ...rec, context: undefined });
    assert.deepEqual(strip(record(second)), strip(record(first)));
    const md = (r: AgentRunResult) => readFileSync(r.commands.find((c) => c.name === 'task.uploadsummary')!.message, 'utf8');
    assert.equal(md(second), md(first));
    assert.notEqual(record(first).context.scoringRunId, record(second).context.scoringRunId);
    const third = await evaluate({ dryRun: 'true', seed: '8' });
    assert.notDeepEqual(record(third).decision.distributions, record(first).decision.distributions);
  });

  it('predictionsSource=file reads the Arrow file on the agent: no Databricks scoring at all', async () => {
    production(1.4);
    const better = candidate('better', 0.6);
    const file = path.join(tmpdir(), `preds-${process.pid}-${Date.now()}.arrow`);
    writeFileSync(file, arrowBytes(predictionsTable([`run_${better}`, 'production'], quality)));
    const r = await evaluate({ predictionsSource: 'file', predictionsFile: file, evaluationTable: undefined, outputPath: undefined });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.equal(r.outputs.decision, 'promoted');
    assert.equal(emu.callsTo('POST', /\/jobs\//).length + emu.callsTo('POST', /\/workspace\//).length + emu.callsTo('GET', /\/fs\//).length, 0);
    assert.equal(notebookCalls.length, 0);
  });

  for (const format of ['parquet', 'csv'] as const) {
    it(`predictionsSource=file reads a ${format === 'parquet' ? 'Parquet' : 'CSV'} file like the Arrow one: same decision, no Databricks scoring`, async () => {
      production(1.4);
      const better = candidate('better', 0.6);
      const cols = predictionsTable([`run_${better}`, 'production'], quality);
      const stem = path.join(tmpdir(), `preds-${format}-${process.pid}-${Date.now()}`);
      writeFileSync(`${stem}.arrow`, arrowBytes(cols));
      writeFileSync(`${stem}.${format}`, format === 'parquet' ? parquetBytes(cols) : csvBytes(cols));
      const fromArrow = await evaluate({
        predictionsSource: 'file',
        predictionsFile: `${stem}.arrow`,
        evaluationTable: undefined,
        outputPath: undefined,
        dryRun: 'true',
      });
      const r = await evaluate({
        predictionsSource: 'file',
        predictionsFile: `${stem}.${format}`,
        evaluationTable: undefined,
        outputPath: undefined,
        dryRun: 'true',
      });
      assert.equal(r.complete?.result, 'Succeeded', r.stdout);
      assert.equal(fromArrow.complete?.result, 'Succeeded', fromArrow.stdout);
      assert.equal(fromArrow.outputs.decision, 'promoted');
      assert.equal(r.outputs.decision, fromArrow.outputs.decision);
      assert.equal(r.outputs.winRate, fromArrow.outputs.winRate);
      assert.equal(emu.callsTo('POST', /\/jobs\//).length + emu.callsTo('POST', /\/workspace\//).length + emu.callsTo('GET', /\/fs\//).length, 0);
    });
  }

  it('predictionsSource=file with a CSV holding a non-numeric score fails naming the column, row and line', async () => {
    production(1.4);
    const better = candidate('better', 0.6);
    const file = path.join(tmpdir(), `preds-bad-${process.pid}-${Date.now()}.csv`);
    writeFileSync(file, `label,run_${better},production\n0,0.1,0.2\n1,0.9,oops\n`);
    const r = await evaluate({ predictionsSource: 'file', predictionsFile: file, evaluationTable: undefined, outputPath: undefined });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(r.complete!.message, /column 'production' has a value that is not a number at row 1 \(line 3 of the CSV\): 'oops'/);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
  });
});

function parquetBytes(cols: Record<string, Float64Array | Int8Array>): Uint8Array {
  const columnData = Object.entries(cols).map(([name, data]) =>
    data instanceof Int8Array ? { name, data: Int32Array.from(data), type: 'INT32' as const, nullable: false } : { name, data, type: 'DOUBLE' as const },
  );
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

function csvBytes(cols: Record<string, Float64Array | Int8Array>): string {
  const names = Object.keys(cols);
  const lines = [names.join(',')];
  for (let i = 0; i < cols.label.length; i++) lines.push(names.map((k) => String(cols[k][i])).join(','));
  return `${lines.join('\n')}\n`;
}
