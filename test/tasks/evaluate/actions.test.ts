/**
 * The bundled Evaluate & Promote task with action evaluate, then action promote (handoff.ts), as two stages of a
 * pipeline run them against the workspace emulator: the evaluate step marks the challenger and publishes its
 * decision record as an artifact; the promote step (after an approval) promotes exactly that version, or
 * refuses and writes nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import type { Emulator } from '../../../emulator';
import type { NotebookContext } from '../../../emulator/routes/jobs';
import { DEFAULT_NOTEBOOK_PATH } from '../../../src/tasks/evaluate/inputs';
import type { AgentRunResult } from '../../helpers/agent';
import { TaskHarness } from '../../helpers/task-harness';
import { DEFAULT_REGISTER_NOTEBOOK_PATH, registerModelNotebook, type RegisterNotebookCall } from './register-notebook';
import seedrandom from 'seedrandom';

const CONN = '6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c';
const MODEL = 'churn';
const UC_MODEL = 'dev.ml.churn';
const PROD_MODEL = 'prod.ml.churn';
const OUT = '/Volumes/dev/ml/scratch/eval';
const ROWS = 1500;

/**
 * Seeded labels and scores: score = sigmoid(2·label − 1 + noise·N(0,1)) with each key's noise (smaller is
 * better); as task.test.ts does, without importing it (mocha would run its suite again).
 */
function predictionsTable(keys: string[], quality: Record<string, number>): Record<string, Float64Array | Int8Array> {
  const rng = seedrandom('labels:actions');
  const label = new Int8Array(ROWS);
  for (let i = 0; i < ROWS; i++) label[i] = rng() < 0.3 ? 1 : 0;
  const cols: Record<string, Float64Array | Int8Array> = { label };
  for (const k of keys) {
    if (quality[k] === undefined) throw new Error(`no quality for ${k}`);
    const r = seedrandom(`noise:${quality[k]}:${k.startsWith('run_') ? 'cand' : k}`);
    const s = new Float64Array(ROWS);
    for (let i = 0; i < ROWS; i++)
      s[i] = 1 / (1 + Math.exp(-(2 * label[i] - 1 + quality[k] * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()))));
    cols[k] = s;
  }
  return cols;
}

describe('Evaluate & Promote actions evaluate -> promote (bundled, against the emulator)', function () {
  this.timeout(90_000);
  let emu: Emulator;
  let expId: string;
  let quality: Record<string, number>;
  let registerCalls: RegisterNotebookCall[];
  let attempt = 0;

  const harness = new TaskHarness({
    task: 'DatabricksEvaluatePromoteV1',
    connection: CONN,
    env: { DATABRICKS_MLOPS_POLL_INTERVAL_MS: '20', DATABRICKS_MLOPS_PROMOTION_SETTLE_MS: '200' },
    killAfterMs: 60_000,
  });

  beforeEach(async () => {
    emu = await harness.start();
    emu.jobs.durations = { queuedMs: 0, pendingMs: 10, runningMs: 10, terminatingMs: 10 };
    emu.mlflow.setVersionReadyDelayMs(30);
    expId = emu.mlflow.createExperiment('/Shared/churn');
    quality = {};
    emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, (ctx: NotebookContext) => {
      const keys = (JSON.parse(ctx.params.models) as Array<{ key: string }>).map((m) => m.key);
      const file = `${ctx.params.output_path}/predictions.arrow`;
      emu.files.write(file, Buffer.from(tableToIPC(tableFromArrays(predictionsTable(keys, quality) as Record<string, Float64Array>), 'file')));
      return { exitValue: JSON.stringify({ output_path: file, rows: ROWS }) };
    });
    const reg = registerModelNotebook(emu);
    registerCalls = reg.calls;
    emu.jobs.notebooks.register(DEFAULT_REGISTER_NOTEBOOK_PATH, (ctx: NotebookContext) =>
      /^models:\//.test(ctx.params.model_uri ?? '') ? copyVersion(ctx) : reg.handler(ctx),
    );
  });
  afterEach(() => harness.stop());

  /**
   * Plays register_model.py's copy mode (model_uri models:/<model>/<version>): reuses a copy with that source
   * (not FAILED), or does what MlflowClient.copy_model_version does: a new version of model_name with source
   * models:/<model>/<version> and the source's run id (finalized, as MLflow uploads the files).
   */
  function copyVersion(ctx: NotebookContext): { exitValue: string } {
    const { model_name: name, model_uri: uri } = ctx.params;
    const [, srcModel, srcVersion] = /^models:\/([^/]+)\/(\d+)$/.exec(uri)!;
    const store = emu.mlflow.ucRegistry;
    const src = store.models.get(srcModel)!.versions.find((v) => String(v.version) === srcVersion)!;
    const existing = (store.models.get(name)?.versions ?? [])
      .filter((v) => v.source === uri && store.status(v).status !== 'FAILED_REGISTRATION')
      .sort((x, y) => y.version - x.version)[0];
    let result: RegisterNotebookCall['result'];
    if (existing) {
      result = { version: String(existing.version), reused: true };
    } else {
      if (!store.models.has(name)) store.createModel(name);
      const v = store.createVersion(name, { source: uri, runId: src.runId, tags: Object.fromEntries(src.tags) });
      v.finalized = true;
      result = { version: String(v.version), reused: false };
    }
    registerCalls.push({ params: { ...ctx.params }, result });
    return { exitValue: JSON.stringify(result) };
  }

  function candidate(name: string, noise: number): string {
    const run = emu.mlflow.createRun({ experimentId: expId, runName: name, tags: { candidate: 'true' }, artifacts: ['model/MLmodel', 'model/model.pkl'] });
    const id = run.info.run_id as string;
    quality[`run_${id}`] = noise;
    return id;
  }

  /** The production model: workspace stage Production, or alias champion of `uc`. */
  function production(noise: number, uc?: string): { runId: string; version: string } {
    const run = emu.mlflow.createRun({ experimentId: expId, runName: 'prod', artifacts: ['model/MLmodel'] });
    const runId = run.info.run_id as string;
    const name = uc ?? MODEL;
    const version = emu.mlflow.createModelVersion(name, { source: `runs:/${runId}/model`, runId, uc: !!uc, stage: uc ? undefined : 'Production' });
    if (uc) emu.mlflow.ucRegistry.models.get(name)!.aliases.set('champion', Number(version));
    quality.production = noise;
    return { runId, version };
  }

  function task(inputs: Record<string, string | undefined>, variables: Record<string, string> = {}): Promise<AgentRunResult> {
    return harness.run({ inputs, variables: { 'System.TaskInstanceId': `0c1d2e3f-4a5b-4c6d-8e7f-${String(++attempt).padStart(12, '0')}`, ...variables } });
  }

  const evaluateInputs = (over: Record<string, string> = {}) => ({
    action: 'evaluate',
    registry: 'workspace',
    modelName: MODEL,
    experiments: '/Shared/churn',
    evaluationTable: 'dev.ml.churn_eval',
    outputPath: OUT,
    resamples: '300',
    seed: '7',
    ...over,
  });

  /** The promote stage: another build step (a deployment job), reading the downloaded record. */
  function promote(record: string, over: Record<string, string> = {}): Promise<AgentRunResult> {
    return task(
      { action: 'promote', registry: 'workspace', modelName: MODEL, decisionRecord: record, ...over },
      { 'Build.BuildId': '4243', 'Build.BuildNumber': '20261126.4' },
    );
  }

  function upload(r: AgentRunResult) {
    return r.commands.filter((c) => c.name === 'artifact.upload');
  }

  /** The folder the evaluate step published (what `- download: current` puts in $(Pipeline.Workspace)/model-evaluation). */
  function published(r: AgentRunResult): string {
    const [u] = upload(r);
    assert.ok(u, 'no artifact.upload command');
    return u.message;
  }

  /** Runs `fn` and returns the requests that changed something while it ran. */
  async function writesDuring<T>(fn: () => Promise<T>): Promise<{ result: T; writes: string[] }> {
    const before = emu.requests.length;
    const result = await fn();
    const writes = emu.requests
      .slice(before)
      .filter((q) => emu.writes().includes(q))
      .map((q) => `${q.method} ${q.path}`);
    return { result, writes };
  }

  function assertRefused(r: AgentRunResult, writes: string[], reason: RegExp): void {
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(r.complete!.message, /^Not promoted, nothing was changed: /);
    assert.match(r.complete!.message, reason);
    assert.deepEqual(writes, []);
    assert.equal(r.outputs.promoted, undefined);
  }

  /** Evaluate (workspace registry) with a better candidate: returns the published record folder and the versions. */
  async function evaluatedWorkspace(): Promise<{ folder: string; v1: string; v2: string; better: string; r: AgentRunResult }> {
    const prod = production(1.4);
    const better = candidate('better', 0.7);
    const r = await task(evaluateInputs());
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    const v2 = emu.mlflow.versions(MODEL)[1].version as string;
    return { folder: published(r), v1: prod.version, v2, better, r };
  }

  it('workspace registry: evaluate registers the winner, tags it mlops_challenger=true without a stage change and publishes the record; promote moves exactly that version to Production; a second promote changes nothing', async () => {
    const { folder, v1, v2, better, r } = await evaluatedWorkspace();
    assert.match(
      r.complete!.message,
      new RegExp(
        `^Run ${better} is the challenger: churn version ${v2} \\(tag mlops_challenger=true\\); stage Production is unchanged until the promote action\\. `,
      ),
    );
    assert.equal(emu.mlflow.stageOf(MODEL, v1), 'Production');
    assert.equal(emu.mlflow.stageOf(MODEL, v2), 'None');
    assert.deepEqual(emu.mlflow.versionTags(MODEL, v2), { mlops_challenger: 'true' });
    assert.equal(emu.mlflow.versions(MODEL)[1].run_id, better);
    assert.deepEqual(emu.callsTo('POST', /transition-stage$/), []);
    assert.deepEqual(emu.callsTo('POST', '/api/2.0/mlflow/registered-models/set-tag'), []);
    assert.deepEqual(
      {
        decision: r.outputs.decision,
        promoted: r.outputs.promoted,
        modelVersion: r.outputs.modelVersion,
        productionVersion: r.outputs.productionVersion,
        bestCandidateRunId: r.outputs.bestCandidateRunId,
      },
      { decision: 'challenger', promoted: 'false', modelVersion: v2, productionVersion: v1, bestCandidateRunId: better },
    );
    // The artifact: artifact.upload of a folder holding exactly the record (the same bytes) and its summary.
    assert.deepEqual(
      upload(r).map((c) => c.props),
      [{ containerfolder: 'model-evaluation', artifactname: 'model-evaluation' }],
    );
    assert.equal(readFileSync(path.join(folder, 'decision.json'), 'utf8'), readFileSync(r.outputs.decisionRecordPath, 'utf8'));
    assert.equal(r.outputs.decisionRecordPath, r.outputs.reportPath);
    const rec = JSON.parse(readFileSync(r.outputs.decisionRecordPath, 'utf8'));
    assert.equal(rec.outcome, 'challenger');
    assert.equal(rec.action, 'evaluate');
    assert.deepEqual(rec.challenger, {
      version: v2,
      versionUrl: `${emu.url}/#mlflow/models/churn/versions/${v2}`,
      runId: better,
      marker: 'tag mlops_challenger=true',
      reusedExistingVersion: false,
    });
    assert.equal(rec.production.version, v1);
    assert.equal(rec.target, null);
    assert.equal(rec.promotion, null);

    const p = await promote(folder);
    assert.equal(p.complete?.result, 'Succeeded', `${p.complete?.message}\n${p.stdout}`);
    assert.equal(p.complete!.message, `Promoted churn version ${v2} to stage Production, as approved (decision of build 4242).`);
    assert.equal(emu.mlflow.stageOf(MODEL, v2), 'Production');
    assert.equal(emu.mlflow.stageOf(MODEL, v1), 'Archived');
    const transitions = emu.callsTo('POST', '/api/2.0/mlflow/databricks/model-versions/transition-stage');
    assert.equal(transitions.length, 1);
    assert.equal(transitions[0].body.version, v2);
    assert.equal(transitions[0].body.archive_existing_versions, true);
    assert.match(
      transitions[0].body.comment,
      /^Promoted by Evaluate & Promote \(action promote, build 4243, 20261126\.4\) after approval of the decision of build 4242 over version 1: Promote/,
    );
    const tags = emu.mlflow.versionTags(MODEL, v2);
    assert.equal(tags['mlops.evaluation.build_id'], '4242');
    assert.equal(tags['mlops.evaluation.seed'], '7');
    assert.equal(tags['mlops.evaluation.win_rate'], '1');
    // The same claim protocol as evaluateAndPromote: written once, released.
    assert.equal(emu.callsTo('POST', '/api/2.0/mlflow/registered-models/set-tag').length, 1);
    assert.equal(emu.callsTo('DELETE', '/api/2.0/mlflow/registered-models/delete-tag').length, 1);
    assert.deepEqual(
      {
        decision: p.outputs.decision,
        promoted: p.outputs.promoted,
        modelVersion: p.outputs.modelVersion,
        productionVersion: p.outputs.productionVersion,
        bestCandidateRunId: p.outputs.bestCandidateRunId,
      },
      { decision: 'promoted', promoted: 'true', modelVersion: v2, productionVersion: v1, bestCandidateRunId: better },
    );
    // The promote record links the evaluation's record, run and report; the summary links them too.
    const pr = JSON.parse(readFileSync(p.outputs.decisionRecordPath, 'utf8'));
    assert.equal(pr.schema, 'mlopspipelines.promotion/v1');
    assert.equal(pr.outcome, 'promoted');
    assert.equal(pr.evaluation.recordPath, path.join(folder, 'decision.json'));
    assert.match(pr.evaluation.sha256, /^[0-9a-f]{64}$/);
    assert.equal(pr.evaluation.links.build, 'https://dev.azure.com/contoso/mlops/_build/results?buildId=4242');
    assert.equal(
      pr.evaluation.links.report,
      'https://dev.azure.com/contoso/mlops/_build/results?buildId=4242&view=mlops-pipelines.databricks-mlops.evaluation-results-tab',
    );
    const [summary] = p.commands.filter((c) => c.name === 'task.uploadsummary');
    const md = readFileSync(summary.message, 'utf8');
    assert.ok(md.includes('[evaluation run (build 20261126.3)](https://dev.azure.com/contoso/mlops/_build/results?buildId=4242)'), md);
    assert.ok(
      md.includes(
        '[evaluation report](https://dev.azure.com/contoso/mlops/_build/results?buildId=4242&view=mlops-pipelines.databricks-mlops.evaluation-results-tab)',
      ),
      md,
    );
    assert.ok(md.includes(`[winning MLflow run](${emu.url}/#mlflow/experiments/${expId}/runs/${better})`), md);

    // Idempotent: the same promote again (a re-run of the job) finds the version in production and writes nothing.
    const again = await writesDuring(() => promote(folder));
    assert.equal(again.result.complete?.result, 'Succeeded', again.result.stdout);
    assert.equal(again.result.complete!.message, `churn version ${v2} is already stage Production, as approved (decision of build 4242); nothing was changed.`);
    assert.deepEqual(again.writes, []);
    assert.equal(again.result.outputs.modelVersion, v2);
    assert.equal(emu.mlflow.transitions(MODEL).length, 1);
  });

  it('Unity Catalog: evaluate moves alias challenger (champion unchanged); promote moves champion to exactly that version', async () => {
    const prod = production(1.4, UC_MODEL);
    const better = candidate('better', 0.7);
    const r = await task(evaluateInputs({ registry: 'unityCatalog', modelName: UC_MODEL }));
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.equal(registerCalls.length, 1);
    const v2 = registerCalls[0].result.version;
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: prod.version, challenger: v2 });
    assert.match(
      r.complete!.message,
      new RegExp(`^Run ${better} is the challenger: dev\\.ml\\.churn version ${v2} \\(alias challenger\\); alias champion is unchanged`),
    );
    assert.deepEqual(
      emu.callsTo('POST', /\/registered-models\/alias$/).map((c) => c.body),
      [{ name: UC_MODEL, alias: 'challenger', version: v2 }],
    );

    const p = await promote(published(r), { registry: 'unityCatalog', modelName: UC_MODEL });
    assert.equal(p.complete?.result, 'Succeeded', `${p.complete?.message}\n${p.stdout}`);
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: v2, challenger: v2 });
    assert.deepEqual(
      emu.callsTo('POST', /\/registered-models\/alias$/).map((c) => c.body.alias),
      ['challenger', 'champion'],
    );
    assert.equal(p.outputs.modelVersion, v2);
    assert.equal(registerCalls.length, 1, 'promote registers nothing');
  });

  it('refuses, writing nothing, when the decision was not promote', async () => {
    production(0.7);
    candidate('worse', 1.8);
    const r = await task(evaluateInputs());
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.equal(r.outputs.decision, 'kept');
    assert.equal(upload(r).length, 1, 'a kept decision is published too, so the promote stage can say why it stops');
    const { result, writes } = await writesDuring(() => promote(published(r)));
    assertRefused(result, writes, /the decision was kept, not promote/);
  });

  it('refuses, writing nothing, a record of another model or another registry', async () => {
    const { folder } = await evaluatedWorkspace();
    const other = await writesDuring(() => promote(folder, { modelName: 'churn-v2' }));
    assertRefused(other.result, other.writes, /the record is about churn \(workspace, stage Production\), not churn-v2 \(workspace, stage Production\)/);
    const uc = await writesDuring(() => promote(folder, { registry: 'unityCatalog', modelName: UC_MODEL }));
    assertRefused(uc.result, uc.writes, /not dev\.ml\.churn \(unityCatalog, alias champion\)/);
    const stage = await writesDuring(() => promote(folder, { productionStage: 'Staging' }));
    assertRefused(stage.result, stage.writes, /not churn \(workspace, stage Staging\)/);
  });

  it('race: production moved between evaluate and promote -> refuses, writing nothing, naming both versions', async () => {
    const { folder, v1 } = await evaluatedWorkspace();
    // Someone promotes another version while the approval waits.
    const run = emu.mlflow.createRun({ experimentId: expId, runName: 'hotfix', artifacts: ['model/MLmodel'] });
    const hotfix = emu.mlflow.createModelVersion(MODEL, { source: `runs:/${run.info.run_id}/model`, runId: run.info.run_id as string, stage: 'Production' });
    emu.mlflow.workspaceRegistry.models.get(MODEL)!.versions.find((v) => String(v.version) === v1)!.stage = 'Archived';
    const { result, writes } = await writesDuring(() => promote(folder));
    assertRefused(
      result,
      writes,
      new RegExp(
        `churn stage Production changed since the evaluation: it was version ${v1} when the models were compared and is now version ${hotfix}\\. Run the evaluation again`,
      ),
    );
    assert.equal(emu.mlflow.stageOf(MODEL, hotfix), 'Production');
  });

  it('refuses, writing nothing, when the version is gone, not READY, or not from the recorded run', async () => {
    const { folder, v2, better } = await evaluatedWorkspace();
    const file = path.join(folder, 'decision.json');
    const original = readFileSync(file, 'utf8');
    const edit = (f: (rec: any) => void) => {
      const rec = JSON.parse(original);
      f(rec);
      writeFileSync(file, JSON.stringify(rec));
    };

    edit((rec) => (rec.challenger.version = '99'));
    const gone = await writesDuring(() => promote(file));
    assertRefused(gone.result, gone.writes, /churn version 99 no longer exists/);

    edit((rec) => (rec.challenger.runId = 'ffff0000000000000000000000000000'));
    const otherRun = await writesDuring(() => promote(file));
    assertRefused(
      otherRun.result,
      otherRun.writes,
      new RegExp(`churn version ${v2} is now from run ${better}, not from the evaluated run ffff0000000000000000000000000000`),
    );

    writeFileSync(file, original);
    emu.mlflow.setVersionStuck(MODEL, 'FAILED_REGISTRATION', { version: v2 });
    const failed = await writesDuring(() => promote(file));
    assertRefused(failed.result, failed.writes, new RegExp(`churn version ${v2} is FAILED_REGISTRATION, not READY`));
  });

  it('refuses, writing nothing, a record older than maxDecisionAgeHours, a dry run, and a file that is not a record', async () => {
    const { folder } = await evaluatedWorkspace();
    const file = path.join(folder, 'decision.json');
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    rec.context.finishedAt = new Date(Date.now() - 73 * 3_600_000).toISOString();
    writeFileSync(file, JSON.stringify(rec));
    const old = await writesDuring(() => promote(folder));
    assertRefused(old.result, old.writes, /the decision is 73\.0 hours old \(made at .*\), older than maxDecisionAgeHours 72; run the evaluation again/);
    // A longer window accepts it (the check is the input, not a constant).
    const tooShort = await writesDuring(() => promote(folder, { maxDecisionAgeHours: '1' }));
    assertRefused(tooShort.result, tooShort.writes, /older than maxDecisionAgeHours 1;/);

    rec.context.finishedAt = new Date(Date.now() + 3_600_000).toISOString();
    writeFileSync(file, JSON.stringify(rec));
    const future = await writesDuring(() => promote(folder));
    assertRefused(future.result, future.writes, /in the future of this agent's clock/);

    rec.context.finishedAt = new Date().toISOString();
    rec.dryRun = true;
    writeFileSync(file, JSON.stringify(rec));
    const dry = await writesDuring(() => promote(folder));
    assertRefused(dry.result, dry.writes, /the record is from a dry run/);

    writeFileSync(file, JSON.stringify({ schema: 'something/else' }));
    const foreign = await writesDuring(() => promote(folder));
    assertRefused(
      foreign.result,
      foreign.writes,
      /is not an Evaluate & Promote decision record \(schema mlopspipelines\.evaluation\/v1 or mlopspipelines\.evaluation\/v2\)/,
    );
    const missing = await writesDuring(() => promote(path.join(folder, 'nope.json')));
    assertRefused(missing.result, missing.writes, /nope\.json does not exist\. Download the evaluate stage's artifact first/);
  });

  it('refuses, writing nothing, a record of action evaluateAndPromote', async () => {
    production(1.4);
    candidate('better', 0.7);
    const r = await task({ ...evaluateInputs(), action: 'evaluateAndPromote' });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.equal(upload(r).length, 0);
    const { result, writes } = await writesDuring(() => promote(r.outputs.decisionRecordPath));
    assertRefused(result, writes, /the record was written by action evaluateAndPromote, not evaluate/);
  });

  /** Evaluate dev.ml.churn with targetModelName prod.ml.churn: both have a champion; returns the published folder. */
  async function evaluatedAcrossCatalogs(): Promise<{ folder: string; v2: string; better: string; prodV1: string; devV1: string }> {
    const dev = production(1.4, UC_MODEL);
    const prod = production(1.4, PROD_MODEL);
    const better = candidate('better', 0.7);
    const r = await task(evaluateInputs({ registry: 'unityCatalog', modelName: UC_MODEL, targetModelName: PROD_MODEL }));
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    const rec = JSON.parse(readFileSync(r.outputs.decisionRecordPath, 'utf8'));
    assert.deepEqual(rec.target, { modelName: PROD_MODEL, target: 'alias champion', productionVersion: prod.version });
    assert.deepEqual(emu.mlflow.aliases(PROD_MODEL), { champion: prod.version }, 'evaluate does not touch the target');
    return { folder: published(r), v2: rec.challenger.version, better, prodV1: prod.version, devV1: dev.version };
  }

  it('across catalogs: promote copies dev.ml.churn version N into prod.ml.churn with the registration notebook (MLflow copy) and moves prod champion; a second promote changes nothing', async () => {
    const { folder, v2, better, prodV1, devV1 } = await evaluatedAcrossCatalogs();
    const before = registerCalls.length;
    const p = await promote(folder, { registry: 'unityCatalog', modelName: UC_MODEL, targetModelName: PROD_MODEL });
    assert.equal(p.complete?.result, 'Succeeded', `${p.complete?.message}\n${p.stdout}`);
    const copies = registerCalls.slice(before);
    assert.deepEqual(
      copies.map((c) => c.params),
      [{ model_name: PROD_MODEL, model_uri: `models:/${UC_MODEL}/${v2}`, tags: '' }],
    );
    assert.equal(copies[0].result.reused, false);
    const copy = copies[0].result.version;
    const copied = emu.mlflow.versions(PROD_MODEL).find((v) => v.version === copy)!;
    assert.equal(copied.source, `models:/${UC_MODEL}/${v2}`);
    assert.equal(copied.run_id, better);
    assert.deepEqual(emu.mlflow.aliases(PROD_MODEL), { champion: copy });
    assert.equal(emu.mlflow.aliases(UC_MODEL).champion, devV1, 'the evaluated model keeps its champion');
    assert.equal(
      p.complete!.message,
      `Promoted ${PROD_MODEL} version ${copy} (copy of models:/${UC_MODEL}/${v2}) to alias champion, as approved (decision of build 4242).`,
    );
    assert.deepEqual(
      { modelVersion: p.outputs.modelVersion, productionVersion: p.outputs.productionVersion },
      { modelVersion: copy, productionVersion: prodV1 },
    );

    const again = await writesDuring(() => promote(folder, { registry: 'unityCatalog', modelName: UC_MODEL, targetModelName: PROD_MODEL }));
    assert.equal(again.result.complete?.result, 'Succeeded', again.result.stdout);
    assert.match(again.result.complete!.message, /is already alias champion, as approved .*nothing was changed\.$/);
    assert.deepEqual(again.writes, []);
    assert.equal(registerCalls.length, before + 1, 'no second copy run');
  });

  it('across catalogs: a copy left by an earlier attempt is reused (no second version); a record without the target is refused', async () => {
    const { folder, v2, better } = await evaluatedAcrossCatalogs();
    // An earlier promote attempt copied the version and was killed before moving the alias.
    const earlier = emu.mlflow.createModelVersion(PROD_MODEL, { source: `models:/${UC_MODEL}/${v2}`, runId: better, uc: true });
    const count = emu.mlflow.versions(PROD_MODEL).length;
    const p = await promote(folder, { registry: 'unityCatalog', modelName: UC_MODEL, targetModelName: PROD_MODEL });
    assert.equal(p.complete?.result, 'Succeeded', `${p.complete?.message}\n${p.stdout}`);
    assert.deepEqual(registerCalls[registerCalls.length - 1].result, { version: earlier, reused: true });
    assert.equal(emu.mlflow.versions(PROD_MODEL).length, count);
    assert.equal(emu.mlflow.aliases(PROD_MODEL).champion, earlier);

    // The same record promoted without targetModelName: it was evaluated for prod.ml.churn, so it is refused.
    const within = await writesDuring(() => promote(folder, { registry: 'unityCatalog', modelName: UC_MODEL }));
    assertRefused(within.result, within.writes, /the evaluation was for target prod\.ml\.churn; set targetModelName prod\.ml\.churn on this step/);
  });
});
