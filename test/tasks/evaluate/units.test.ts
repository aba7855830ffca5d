/** Unit tests of the pure pieces: exit-value parsing, folders, cluster fields, record rendering, registry adapters. */
import type { RunModel } from '../../../src/mlflow/tracking';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { JobsClient } from '../../../src/databricks/jobs';
import { WorkspaceClient } from '../../../src/databricks/workspace';
import type { Decision } from '../../../src/engine';
import type { Emulator } from '../../../emulator';
import { NotebookError } from '../../../emulator/routes/jobs';
import { WorkspaceModelRegistry } from '../../../src/mlflow/registry';
import { UnityCatalogModelRegistry } from '../../../src/mlflow/unity-catalog';
import type { BuildContext } from '../../../src/tasks/evaluate/inputs';
import { AliasRegistry, StageRegistry } from '../../../src/tasks/evaluate/registry';
import { DecisionRecord, mdCell, renderSummary, RESULTS_TAB_VIEW, serializeRecord } from '../../../src/tasks/evaluate/report';
import { clusterFields, evaluationFolder, parseExitValue } from '../../../src/tasks/evaluate/scoring';
import { NotebookRegistrar, parseRegistrationExit } from '../../../src/tasks/evaluate/uc-registration';
import { REPO_ROOT } from '../../helpers/agent';
import { InProcessHarness } from '../../helpers/task-harness';
import { registerModelNotebook } from './register-notebook';

const BUILD: BuildContext = { buildId: '4242', jobAttempt: '2', taskInstanceId: 't1', collectionUri: 'https://dev.azure.com/c/', teamProject: 'p' };
const FOLDER = '/Volumes/main/ml/v/evaluate-4242-2-abcdef0123';

/** An MLflow 2 model of `run` at `path` (run artifacts), as MlflowTracking.findRunModel returns it. */
function m2(run: string, path = 'model'): RunModel {
  return { generation: 2, artifactPath: path, uri: `runs:/${run}/${path}`, source: `runs:/${run}/${path}` };
}

describe('evaluate: scoring helpers', () => {
  it('evaluationFolder(outputPath, build) is unique per attempt and stable within one', () => {
    const a = evaluationFolder('/Volumes/main/ml/v/', BUILD);
    assert.match(a, /^\/Volumes\/main\/ml\/v\/evaluate-4242-2-[0-9a-f]{10}$/);
    assert.equal(evaluationFolder('/Volumes/main/ml/v', BUILD), a);
    assert.notEqual(evaluationFolder('/Volumes/main/ml/v', { ...BUILD, jobAttempt: '3' }), a);
    assert.notEqual(evaluationFolder('/Volumes/main/ml/v', { ...BUILD, taskInstanceId: 't2' }), a);
  });

  it('parseExitValue(raw, folder) accepts the contract and rejects anything else', () => {
    assert.deepEqual(parseExitValue(`{"output_path": "${FOLDER}/predictions.arrow", "rows": 12}`, FOLDER, 'run 1'), {
      outputPath: `${FOLDER}/predictions.arrow`,
      rows: 12,
    });
    assert.deepEqual(parseExitValue(`{"output_path": "${FOLDER}/p.arrow"}`, FOLDER, 'run 1'), { outputPath: `${FOLDER}/p.arrow`, rows: -1 });
    assert.throws(
      () => parseExitValue(undefined, FOLDER, 'run 1'),
      /^Error: run 1 finished without an exit value; the scoring notebook must end with dbutils\.notebook\.exit/,
    );
    assert.throws(() => parseExitValue('done', FOLDER, 'run 1'), /run 1 exited with a value that is not JSON: done/);
    assert.throws(() => parseExitValue('{"rows": 3}', FOLDER, 'run 1'), /without a string output_path/);
    assert.throws(() => parseExitValue('{"output_path": "/Volumes/main/ml/v/other/p.arrow"}', FOLDER, 'run 1'), /not inside the folder it was given/);
    assert.throws(() => parseExitValue(`{"output_path": "${FOLDER}/../x.arrow"}`, FOLDER, 'run 1'), /not inside the folder/);
  });

  it('clusterFields(cluster) maps the compute modes to the task spec', () => {
    assert.deepEqual(clusterFields({ mode: 'serverless' }), {});
    assert.deepEqual(clusterFields({ mode: 'existing', clusterId: 'c-1' }), { existing_cluster_id: 'c-1' });
    assert.deepEqual(clusterFields({ mode: 'new', newCluster: { spark_version: 'x' } }), { new_cluster: { spark_version: 'x' } });
  });
});

function decision(over: Partial<Decision> = {}): Decision {
  return {
    decision: 'keep',
    reason: "Keep 'production': the best candidate 'run_a' is at least as good only in 60.0% of 10 paired resamples (required 90.0%).",
    metric: 'roc_auc',
    higherIsBetter: true,
    method: 'bootstrap',
    seed: 7,
    resamples: 10,
    confidence: 0.95,
    winRateThreshold: 0.9,
    minDelta: 0,
    baseline: 'production',
    best: 'run_a',
    models: [
      { name: 'production', estimate: 0.8, mean: 0.8, ci: [0.75, 0.85], isBaseline: true },
      {
        name: 'run_a',
        estimate: 0.81,
        mean: 0.81,
        ci: [0.76, 0.86],
        isBaseline: false,
        vsBaseline: { winRate: 0.6, meanDelta: 0.01, deltaCi: [-0.01, 0.03], gateBound: -0.005, shareAboveMinDelta: 0.6 },
      },
    ],
    degenerateResamples: 0,
    n: 200,
    positives: 60,
    distributions: { production: [0.79, 0.8, 0.81, 0.8, 0.78, 0.82, 0.8, 0.79, 0.81, 0.8], run_a: [0.8, 0.81, 0.82, 0.79, 0.8, 0.83, 0.81, 0.8, 0.82, 0.81] },
    deltaDistributions: { run_a: [0.01, 0.01, 0.01, -0.01, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01] },
    ...over,
  };
}

function rec(over: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    schema: 'mlopspipelines.evaluation/v1',
    outcome: 'kept',
    sentence: 'Kept production version 3: because | pipes <b>',
    dryRun: false,
    registry: { kind: 'workspace', modelName: 'churn', target: 'stage Production' },
    production: { version: '3', runId: 'p', versionUrl: 'https://h/#mlflow/models/churn/versions/3' },
    best: { key: 'run_a', runId: 'a', runUrl: 'https://h/#mlflow/experiments/1/runs/a' },
    promotion: null,
    models: [
      {
        key: 'run_a',
        role: 'candidate',
        runId: 'a',
        runName: 'gbm|deep',
        experimentId: '1',
        runUrl: 'https://h/#mlflow/experiments/1/runs/a',
        uri: 'runs:/a/model',
      },
      { key: 'production', role: 'production', runId: 'p', version: '3', versionUrl: 'https://h/#mlflow/models/churn/versions/3', uri: 'models:/churn/3' },
    ],
    skippedCandidates: [{ runId: 'z', reason: "no logged model at artifact path 'model'" }],
    inputs: {},
    data: { rows: 200, positives: 60 },
    decision: decision(),
    context: {
      modelName: 'churn',
      registry: 'workspace',
      productionVersion: '3',
      promotedVersion: null,
      bestCandidateRunId: 'a',
      buildId: '1',
      runs: {},
      links: {},
      startedAt: 't0',
      finishedAt: 't1',
      workspaceUrl: 'https://h',
      buildNumber: null,
      jobAttempt: '1',
      sourceVersion: null,
      sourceBranch: null,
      scoringRunId: null,
      scoringRunUrl: null,
      predictionsPath: null,
    },
    ...over,
  };
}

describe('evaluate: renderSummary(record)', () => {
  it('shows the sentence, a row per model with estimate, interval, win rate, improvement, its interval and the gate bound, the rule and the chart', () => {
    const md = renderSummary(rec());
    const lines = md.split('\n');
    assert.equal(lines[0], '### Evaluate & Promote: churn');
    assert.equal(lines[2], '**Kept production version 3: because \\| pipes &lt;b&gt;**');
    assert.ok(lines.includes('ROC AUC on 200 rows (60 positive), paired bootstrap, 10 resamples, seed 7; 95% intervals.'));
    assert.ok(
      lines.includes(
        '| [gbm\\|deep (a)](https://h/#mlflow/experiments/1/runs/a) **best** | 0.8100 | [0.7600, 0.8600] | 60.0% | +0.0100 | [-0.0100, +0.0300] | -0.0050 ≤ 0.0000 |',
      ),
      md,
    );
    assert.ok(
      lines.includes(
        '| Model | ROC AUC | 95% interval | Win rate vs production | Mean improvement | Improvement 95% interval | Improvement: lower 90.0% bound (gate) |',
      ),
      md,
    );
    assert.ok(lines.includes('| [production (version 3)](https://h/#mlflow/models/churn/versions/3) | 0.8000 | [0.7500, 0.8500] | – | – | – | – |'), md);
    assert.ok(
      lines.includes(
        'Rule: promote when the best candidate improves on production by more than 0.0000 on ≥ 90.0% of resamples (ties are not wins), i.e. when the lower 90.0% bound of the improvement is above 0.0000.',
      ),
      md,
    );
    assert.ok(lines.some((l) => l.startsWith('![Bootstrap distributions](data:image/svg+xml;base64,')));
    const svg = Buffer.from(/base64,([^)]+)\)/.exec(md)![1], 'base64').toString('utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.length < 20_000);
    assert.ok(!/<script/i.test(svg));
    assert.ok(lines.includes("- z: no logged model at artifact path 'model'"));
    // No build link in this record: no tab link either.
    assert.ok(!md.includes('Model evaluation tab'));
  });

  it('links the Model evaluation tab of the run when the record knows the build', () => {
    const r = rec();
    r.context.links = { build: 'https://dev.azure.com/org/My%20Project/_build/results?buildId=42' };
    const lines = renderSummary(r).split('\n');
    assert.ok(
      lines.includes(
        'All charts and numbers: the [Model evaluation tab](https://dev.azure.com/org/My%20Project/_build/results?buildId=42&view=mlops-pipelines.databricks-mlops.evaluation-results-tab) of this run.',
      ),
      lines.join('\n'),
    );
  });

  it('the tab link names the contribution the manifest declares', () => {
    const manifest = JSON.parse(readFileSync(path.join(__dirname, '../../../../vss-extension.json'), 'utf8'));
    const tab = manifest.contributions.find((c: { type: string }) => c.type === 'ms.vss-build-web.build-results-tab');
    assert.equal(RESULTS_TAB_VIEW, `${manifest.publisher}.${manifest.id}.${tab.id}`);
  });

  it('names the promoted version with its link, and says a dry run applied nothing', () => {
    const promoted = renderSummary(
      rec({
        outcome: 'promoted',
        promotion: { version: '4', versionUrl: 'https://h/#mlflow/models/churn/versions/4', reusedExistingVersion: false, applied: true },
      }),
    );
    assert.ok(promoted.includes('Promoted: [churn version 4](https://h/#mlflow/models/churn/versions/4) → stage Production.'));
    const dry = renderSummary(
      rec({ dryRun: true, outcome: 'promoted', promotion: { version: '4', versionUrl: 'https://h/v/4', reusedExistingVersion: true, applied: false } }),
    );
    assert.ok(dry.startsWith('### Evaluate & Promote (dry run): churn'));
    assert.ok(dry.includes('Not applied (dry run): [churn version 4](https://h/v/4).'));
  });

  it('with DeLong (no distributions) still charts the intervals; with no candidates only the sentence', () => {
    const md = renderSummary(rec({ decision: decision({ method: 'delong', resamples: 0, distributions: undefined, deltaDistributions: undefined }) }));
    assert.ok(md.includes('ROC AUC on 200 rows (60 positive), DeLong; 95% intervals.'));
    assert.ok(md.includes('![Bootstrap distributions](data:image/svg+xml;base64,'));
    const none = renderSummary(
      rec({
        outcome: 'noCandidates',
        sentence: 'No candidates.',
        decision: decision({ decision: 'none', models: [], best: undefined }),
        models: [],
        skippedCandidates: [],
      }),
    );
    assert.equal(none, '### Evaluate & Promote: churn\n\n**No candidates.**\n');
  });

  it('mdCell escapes pipes, HTML and line breaks; serializeRecord is stable JSON with a newline', () => {
    assert.equal(mdCell('a|b<c>&\nd'), 'a\\|b&lt;c&gt;&amp; d');
    const r = rec();
    assert.equal(serializeRecord(r), serializeRecord(JSON.parse(serializeRecord(r))));
    assert.ok(serializeRecord(r).endsWith('}\n'));
  });
});

describe('evaluate: registry adapters against the emulator', () => {
  let emu: Emulator;
  const harness = new InProcessHarness({ retry: { maxAttempts: 1 } });
  beforeEach(async () => {
    emu = await harness.start();
    emu.mlflow.setVersionReadyDelayMs(0);
    emu.jobs.durations = { queuedMs: 0, pendingMs: 10, runningMs: 10, terminatingMs: 10 };
  });
  afterEach(() => harness.stop());

  const api = () => harness.api();

  it('StageRegistry: no model or an empty stage is "no production"; a FAILED version is never reused; the run and source must match', async () => {
    const reg = new StageRegistry(new WorkspaceModelRegistry(api()), 'churn', 'Production');
    assert.equal(await reg.getProduction(), undefined);
    const exp = emu.mlflow.createExperiment('/Shared/x');
    const run = emu.mlflow.createRun({ experimentId: exp, artifacts: ['model/MLmodel'] }).info.run_id as string;
    const v1 = emu.mlflow.createModelVersion('churn', { source: `runs:/${run}/model`, runId: run });
    assert.equal(await reg.getProduction(), undefined);
    const v2 = emu.mlflow.createModelVersion('churn', { source: `runs:/${run}/other_model`, runId: run });
    assert.equal((await reg.findVersionForRun(run, m2(run, 'model')))?.version, v1);
    assert.equal((await reg.findVersionForRun(run, m2(run, 'other_model')))?.version, v2);
    emu.mlflow.setVersionStuck('churn', 'FAILED_REGISTRATION', { version: v1 });
    assert.equal(await reg.findVersionForRun(run, m2(run, 'model')), undefined);
    await reg.promote(v2, 'because');
    assert.deepEqual(await reg.getProduction(), { version: v2, runId: run, source: `runs:/${run}/other_model` });
  });

  it('StageRegistry: any error other than RESOURCE_DOES_NOT_EXIST propagates (fail closed)', async () => {
    const reg = new StageRegistry(new WorkspaceModelRegistry(api()), 'churn', 'Production');
    emu.faults.add({
      kind: 'status',
      status: 403,
      path: '/api/2.0/mlflow/registered-models/get-latest-versions',
      errorCode: 'PERMISSION_DENIED',
      message: 'no access',
    });
    await assert.rejects(reg.getProduction(), /no access/);
    emu.faults.add({
      kind: 'status',
      status: 404,
      path: '/api/2.0/mlflow/registered-models/get-latest-versions',
      errorCode: 'FEATURE_DISABLED',
      message: 'registry disabled',
    });
    await assert.rejects(reg.getProduction(), /registry disabled/);
  });

  const REGISTER_PATH = '/Shared/mlops/register_model';
  const REGISTER_SOURCE = readFileSync(path.join(REPO_ROOT, 'tasks/DatabricksEvaluatePromoteV1/notebooks/register_model.py'), 'utf8');
  const silent = { info() {}, warn() {}, error() {}, debug() {} };

  /** An AliasRegistry whose registrar runs register_model.py (played by the emulator) on an existing cluster. */
  function ucRegistry(cancels: Array<() => Promise<void>> = []) {
    const clock = emu.linkedClock();
    const registrar = new NotebookRegistrar(
      {
        jobs: new JobsClient(api(), { clock }),
        workspace: new WorkspaceClient(api()),
        log: silent,
        onCancel: (c) => cancels.push(c),
        notebookSource: REGISTER_SOURCE,
        pollIntervalMs: { initial: 10, max: 20 },
      },
      { notebookPath: REGISTER_PATH, cluster: { mode: 'existing', clusterId: '0123-456789-abcdefgh' }, timeoutMs: 60_000 },
      BUILD,
      'register churn',
    );
    return new AliasRegistry(
      new UnityCatalogModelRegistry(api(), { clock }),
      'main.ml.churn',
      'champion',
      { initialIntervalMs: 10, maxIntervalMs: 20 },
      registrar,
      { 'mlops.evaluation.build_id': '4242' },
    );
  }

  it('AliasRegistry: a missing alias is "no production"; promote moves the alias; register runs the registration notebook once, then reuses the version', async () => {
    const nb = registerModelNotebook(emu);
    emu.jobs.notebooks.register(REGISTER_PATH, nb.handler);
    const cancels: Array<() => Promise<void>> = [];
    const reg = ucRegistry(cancels);
    assert.equal(await reg.getProduction(), undefined);
    const exp = emu.mlflow.createExperiment('/Shared/x');
    const run = emu.mlflow.createRun({ experimentId: exp, artifacts: ['model/MLmodel'] }).info.run_id as string;
    emu.clearRequests();
    const v = await reg.register(run, m2(run, 'model'), 'why');
    assert.equal(v, '1');
    // Search (nothing yet), import the notebook, one-time run with its widgets, then its output.
    assert.deepEqual(
      emu.requests.filter((r) => !r.path.endsWith('/runs/get')).map((r) => `${r.method} ${r.path}`),
      [
        'GET /api/2.0/mlflow/unity-catalog/model-versions/search',
        'POST /api/2.0/workspace/mkdirs',
        'POST /api/2.0/workspace/import',
        'POST /api/2.2/jobs/runs/submit',
        'GET /api/2.2/jobs/runs/get-output',
      ],
    );
    assert.deepEqual(emu.callsTo('GET', '/api/2.0/mlflow/unity-catalog/model-versions/search')[0].query, { filter: "name='main.ml.churn'" });
    const [imp] = emu.callsTo('POST', '/api/2.0/workspace/import');
    assert.deepEqual([imp.body.path, imp.body.format, imp.body.language, imp.body.overwrite], [REGISTER_PATH, 'SOURCE', 'PYTHON', true]);
    assert.equal(Buffer.from(imp.body.content, 'base64').toString('utf8'), REGISTER_SOURCE);
    const [submit] = emu.callsTo('POST', '/api/2.2/jobs/runs/submit');
    assert.match(submit.body.idempotency_token, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      { ...submit.body, idempotency_token: undefined },
      {
        run_name: 'register churn',
        timeout_seconds: 60,
        idempotency_token: undefined,
        tasks: [
          {
            task_key: 'register',
            notebook_task: {
              notebook_path: REGISTER_PATH,
              source: 'WORKSPACE',
              base_parameters: { model_name: 'main.ml.churn', model_uri: `runs:/${run}/model`, run_id: run, tags: '{"mlops_build_id":"4242"}' },
            },
            existing_cluster_id: '0123-456789-abcdefgh',
          },
        ],
      },
    );
    assert.deepEqual(
      nb.calls.map((c) => c.result),
      [{ version: '1', reused: false }],
    );
    assert.equal(cancels.length, 1, 'the registration run is cancelled on pipeline cancel');
    await reg.waitReady(v, 5000, undefined, run);
    assert.equal(emu.mlflow.statusOf('main.ml.churn', v), 'READY');
    assert.equal((await reg.findVersionForRun(run, m2(run, 'model')))?.version, v);
    await reg.promote(v);
    assert.deepEqual(emu.mlflow.aliases('main.ml.churn'), { champion: v });
    assert.equal((await reg.getProduction())?.version, v);
    // Idempotent: the version of this run is found, no second notebook run, no second version.
    emu.clearRequests();
    assert.equal(await reg.register(run, m2(run, 'model'), 'why'), v);
    assert.deepEqual(
      emu.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /api/2.0/mlflow/unity-catalog/model-versions/search'],
    );
    assert.equal(nb.calls.length, 1);
    assert.equal(emu.mlflow.versions('main.ml.churn').length, 1);
    // A version from another run is never promoted as this run's.
    const other = emu.mlflow.createRun({ experimentId: exp, artifacts: ['model/MLmodel'] }).info.run_id as string;
    await assert.rejects(
      reg.waitReady(v, 5000, undefined, other),
      new RegExp(`^Error: Model version main\\.ml\\.churn 1 was registered from run ${run}, not from run ${other}; it was not promoted\\.$`),
    );
    assert.equal(reg.versionUrl('https://h', v), `https://h/explore/data/models/main/ml/churn/version/${v}`);
    assert.equal(reg.versionUri(v), `models:/main.ml.churn/${v}`);
  });

  it('AliasRegistry: Unity Catalog tag keys (letters, digits, underscores) and the 50-tag limit are checked before any tag write', async () => {
    const reg = ucRegistry();
    assert.equal(reg.tagKey('mlops.promotion.claim'), 'mlops_promotion_claim');
    assert.equal(reg.tagKey('mlops.evaluation.build_id'), 'mlops_build_id');
    assert.equal(reg.tagKey('mlops.evaluation.metric_delta'), 'mlops_metric_delta');
    const v = emu.mlflow.createModelVersion('main.ml.churn', { source: 's', uc: true });
    const store = emu.mlflow.ucRegistry;
    const stored = store.models.get('main.ml.churn')!.versions[0];
    for (let i = 0; i < 48; i++) stored.tags.set(`user_tag_${i}`, 'x');
    emu.clearRequests();
    // 48 + 2 new = 50 is allowed.
    await reg.tag(v, { 'mlops.evaluation.metric': 'roc_auc', 'mlops.evaluation.seed': '7' });
    assert.deepEqual(
      emu.requests.map((r) => `${r.method} ${r.path}`),
      [
        'GET /api/2.0/mlflow/unity-catalog/model-versions/get',
        'POST /api/2.0/mlflow/unity-catalog/model-versions/set-tag',
        'POST /api/2.0/mlflow/unity-catalog/model-versions/set-tag',
      ],
    );
    assert.deepEqual(
      emu.callsTo('POST', /set-tag$/).map((c) => c.body.key),
      ['mlops_metric', 'mlops_seed'],
    );
    // Overwriting an existing key adds nothing; one new key over 50 fails before any write.
    emu.clearRequests();
    await assert.rejects(
      reg.tag(v, { 'mlops.evaluation.metric': 'roc_auc', 'mlops.evaluation.win_rate': '1' }),
      /^Error: main\.ml\.churn version 1 has 50 tags and the decision adds 1; Unity Catalog allows at most 50 per model version\. Delete tags it no longer needs, then run the evaluation again; nothing was promoted\.$/,
    );
    assert.deepEqual(
      emu.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /api/2.0/mlflow/unity-catalog/model-versions/get'],
    );
    // The claim on the registered model: refused when the model already carries 50 other tags.
    const model = store.models.get('main.ml.churn')!;
    for (let i = 0; i < 50; i++) model.tags.set(`model_tag_${i}`, 'x');
    emu.clearRequests();
    await assert.rejects(
      reg.setModelTag('mlops.promotion.claim', 'c'),
      /already has 50 tags, the most Unity Catalog allows, so the promotion claim \(mlops_promotion_claim\) cannot be set/,
    );
    assert.equal(emu.callsTo('POST', /set-tag$/).length, 0);
    model.tags.delete('model_tag_0');
    await reg.setModelTag('mlops.promotion.claim', 'c');
    assert.equal(await reg.getModelTag('mlops.promotion.claim'), 'c');
    assert.equal(model.tags.get('mlops_promotion_claim'), 'c');
  });

  it('AliasRegistry: a failing registration run is an error with the notebook error; a version created over REST alone never turns READY', async () => {
    emu.jobs.notebooks.register(REGISTER_PATH, () => {
      throw new NotebookError('MlflowException: Model passed for registration did not contain any signature metadata.');
    });
    const reg = ucRegistry();
    const exp = emu.mlflow.createExperiment('/Shared/x');
    const run = emu.mlflow.createRun({ experimentId: exp, artifacts: ['model/MLmodel'] }).info.run_id as string;
    await assert.rejects(
      reg.register(run, m2(run, 'model'), 'why'),
      /^Error: Registration run \d+ \(http:\/\/127\.0\.0\.1:\d+\/.*\) ended TERMINATED\/FAILED: MlflowException: Model passed for registration did not contain any signature metadata\. Nothing was promoted\.$/,
    );
    assert.deepEqual(emu.mlflow.versions('main.ml.churn'), []);
    // Why the notebook exists: create over REST leaves the version PENDING_REGISTRATION (no upload, no finalize).
    const client = new UnityCatalogModelRegistry(api(), { clock: emu.linkedClock() });
    await client.createRegisteredModel('main.ml.churn');
    const mv = await client.createModelVersion({ name: 'main.ml.churn', source: `runs:/${run}/model`, runId: run });
    await assert.rejects(reg.waitReady(mv.version, 2000), /timed out after 2 s; last state: status PENDING_REGISTRATION/);
  });

  it('NotebookRegistrar: a registration run past its timeout is cancelled and named; a version it registered anyway is reused next time', async () => {
    const nb = registerModelNotebook(emu);
    emu.jobs.notebooks.register(REGISTER_PATH, nb.handler, { runningMs: 3_600_000 });
    const clock = emu.linkedClock();
    const registrar = new NotebookRegistrar(
      {
        jobs: new JobsClient(api(), { clock }),
        workspace: new WorkspaceClient(api()),
        log: silent,
        onCancel: () => {},
        notebookSource: REGISTER_SOURCE,
        pollIntervalMs: { initial: 10_000, max: 10_000 },
      },
      { notebookPath: REGISTER_PATH, cluster: { mode: 'serverless' }, timeoutMs: 60_000 },
      BUILD,
      'register churn',
    );
    const exp = emu.mlflow.createExperiment('/Shared/x');
    const run = emu.mlflow.createRun({ experimentId: exp, artifacts: ['model/MLmodel'] }).info.run_id as string;
    await assert.rejects(
      registrar.registerVersion({ modelName: 'main.ml.churn', runId: run, model: m2(run), tags: {} }),
      /^Error: Registration run (\d+) did not finish within 1 minutes \(scoringTimeoutMinutes\); it was cancelled\.$/,
    );
    const [runId] = [...emu.jobs.runs.keys()];
    assert.deepEqual(
      emu.jobs.cancels.map((c) => c.runId),
      [runId],
    );
    const [submit] = emu.callsTo('POST', '/api/2.2/jobs/runs/submit');
    assert.deepEqual(Object.keys(submit.body.tasks[0]).sort(), ['notebook_task', 'task_key'], 'serverless: no cluster fields');
    assert.equal(submit.body.timeout_seconds, 60);
    // The notebook had already registered when it was cut off: the next attempt finds that version by run id.
    assert.deepEqual(
      nb.calls.map((c) => c.result),
      [{ version: '1', reused: false }],
    );
    const reg = new AliasRegistry(new UnityCatalogModelRegistry(api(), { clock }), 'main.ml.churn', 'champion', {}, registrar);
    assert.equal(await reg.register(run, m2(run, 'model'), 'why'), '1');
    assert.equal(emu.callsTo('POST', '/api/2.2/jobs/runs/submit').length, 1);
  });

  it('parseRegistrationExit(raw) accepts {"version", "reused"} only', () => {
    assert.deepEqual(parseRegistrationExit('{"reused": false, "version": "7"}', 'run 1'), { version: '7', reused: false });
    assert.deepEqual(parseRegistrationExit('{"version": "12", "reused": true}', 'run 1'), { version: '12', reused: true });
    assert.throws(
      () => parseRegistrationExit(undefined, 'run 1'),
      /^Error: run 1 finished without an exit value; the registration notebook must end with dbutils\.notebook\.exit/,
    );
    assert.throws(() => parseRegistrationExit('ok', 'run 1'), /^Error: run 1 exited with a value that is not JSON: ok$/);
    for (const bad of [
      '{"version": 7, "reused": false}',
      '{"version": "0", "reused": false}',
      '{"version": "7"}',
      '{"version": "7", "reused": "no"}',
      '["7"]',
      'null',
    ]) {
      assert.throws(() => parseRegistrationExit(bad, 'run 1'), /expected \{"version": "<positive integer>", "reused": true\|false\}\.$/, bad);
    }
  });
});
