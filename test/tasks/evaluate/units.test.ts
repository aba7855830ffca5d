/** Unit tests of the pure pieces: exit-value parsing, folders, cluster fields, record rendering, registry adapters. */
import assert from 'node:assert/strict';
import { createApiClient } from '../../../src/databricks/http';
import type { Decision } from '../../../src/engine';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../../../src/emulator';
import { WorkspaceModelRegistry } from '../../../src/mlflow/registry';
import { UnityCatalogModelRegistry } from '../../../src/mlflow/unity-catalog';
import type { BuildContext } from '../../../src/tasks/evaluate/inputs';
import { AliasRegistry, StageRegistry } from '../../../src/tasks/evaluate/registry';
import { DecisionRecord, mdCell, renderSummary, serializeRecord } from '../../../src/tasks/evaluate/report';
import { clusterFields, evaluationFolder, parseExitValue } from '../../../src/tasks/evaluate/scoring';

const BUILD: BuildContext = { buildId: '4242', jobAttempt: '2', taskInstanceId: 't1', collectionUri: 'https://dev.azure.com/c/', teamProject: 'p' };
const FOLDER = '/Volumes/main/ml/v/evaluate-4242-2-abcdef0123';

describe('evaluate: scoring helpers', () => {
  it('evaluationFolder(outputPath, build) is unique per attempt and stable within one', () => {
    const a = evaluationFolder('/Volumes/main/ml/v/', BUILD);
    assert.match(a, /^\/Volumes\/main\/ml\/v\/evaluate-4242-2-[0-9a-f]{10}$/);
    assert.equal(evaluationFolder('/Volumes/main/ml/v', BUILD), a);
    assert.notEqual(evaluationFolder('/Volumes/main/ml/v', { ...BUILD, jobAttempt: '3' }), a);
    assert.notEqual(evaluationFolder('/Volumes/main/ml/v', { ...BUILD, taskInstanceId: 't2' }), a);
  });

  it('parseExitValue(raw, folder) accepts the contract and rejects anything else', () => {
    assert.deepEqual(parseExitValue(`{"output_path": "${FOLDER}/predictions.arrow", "rows": 12}`, FOLDER, 'run 1'), { outputPath: `${FOLDER}/predictions.arrow`, rows: 12 });
    assert.deepEqual(parseExitValue(`{"output_path": "${FOLDER}/p.arrow"}`, FOLDER, 'run 1'), { outputPath: `${FOLDER}/p.arrow`, rows: -1 });
    assert.throws(() => parseExitValue(undefined, FOLDER, 'run 1'), /^Error: run 1 finished without an exit value; the scoring notebook must end with dbutils\.notebook\.exit/);
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
      { name: 'run_a', estimate: 0.81, mean: 0.81, ci: [0.76, 0.86], isBaseline: false, vsBaseline: { winRate: 0.6, meanDelta: 0.01, deltaCi: [-0.01, 0.03], shareAboveMinDelta: 0.6 } },
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
      { key: 'run_a', role: 'candidate', runId: 'a', runName: 'gbm|deep', experimentId: '1', runUrl: 'https://h/#mlflow/experiments/1/runs/a', uri: 'runs:/a/model' },
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
  it('shows the sentence, a row per model with estimate, interval, win rate and improvement, the rule and the chart', () => {
    const md = renderSummary(rec());
    const lines = md.split('\n');
    assert.equal(lines[0], '### Evaluate & Promote: churn');
    assert.equal(lines[2], '**Kept production version 3: because \\| pipes &lt;b&gt;**');
    assert.ok(lines.includes('ROC AUC on 200 rows (60 positive), paired bootstrap, 10 resamples, seed 7; 95% intervals.'));
    assert.ok(lines.includes('| [gbm\\|deep (a)](https://h/#mlflow/experiments/1/runs/a) **best** | 0.8100 | [0.7600, 0.8600] | 60.0% | +0.0100 |'), md);
    assert.ok(lines.includes('| [production (version 3)](https://h/#mlflow/models/churn/versions/3) | 0.8000 | [0.7500, 0.8500] | – | – |'), md);
    assert.ok(lines.includes('Rule: promote when the best candidate is at least as good as production on ≥ 90.0% of resamples and improves the mean by ≥ 0.0000.'));
    assert.ok(lines.some((l) => l.startsWith('![Bootstrap distributions](data:image/svg+xml;base64,')));
    const svg = Buffer.from(/base64,([^)]+)\)/.exec(md)![1], 'base64').toString('utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.length < 20_000);
    assert.ok(!/<script/i.test(svg));
    assert.ok(lines.includes("- z: no logged model at artifact path 'model'"));
  });

  it('names the promoted version with its link, and says a dry run applied nothing', () => {
    const promoted = renderSummary(rec({ outcome: 'promoted', promotion: { version: '4', versionUrl: 'https://h/#mlflow/models/churn/versions/4', reusedExistingVersion: false, applied: true } }));
    assert.ok(promoted.includes('Promoted: [churn version 4](https://h/#mlflow/models/churn/versions/4) → stage Production.'));
    const dry = renderSummary(rec({ dryRun: true, outcome: 'promoted', promotion: { version: '4', versionUrl: 'https://h/v/4', reusedExistingVersion: true, applied: false } }));
    assert.ok(dry.startsWith('### Evaluate & Promote (dry run): churn'));
    assert.ok(dry.includes('Not applied (dry run): [churn version 4](https://h/v/4).'));
  });

  it('with DeLong (no distributions) still charts the intervals; with no candidates only the sentence', () => {
    const md = renderSummary(rec({ decision: decision({ method: 'delong', resamples: 0, distributions: undefined, deltaDistributions: undefined }) }));
    assert.ok(md.includes('ROC AUC on 200 rows (60 positive), DeLong; 95% intervals.'));
    assert.ok(md.includes('![Bootstrap distributions](data:image/svg+xml;base64,'));
    const none = renderSummary(rec({ outcome: 'noCandidates', sentence: 'No candidates.', decision: decision({ decision: 'none', models: [], best: undefined }), models: [], skippedCandidates: [] }));
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
  beforeEach(async () => {
    emu = await startEmulator();
    emu.mlflow.setVersionReadyDelayMs(0);
  });
  afterEach(() => emu.close());

  function api() {
    return createApiClient({ host: emu.url, tokenProvider: { getToken: async () => EMULATOR_DEFAULTS.pat }, retry: { maxAttempts: 1 } });
  }

  it('StageRegistry: no model or an empty stage is "no production"; a FAILED version is never reused; the run and source must match', async () => {
    const reg = new StageRegistry(new WorkspaceModelRegistry(api()), 'churn', 'Production');
    assert.equal(await reg.getProduction(), undefined);
    const exp = emu.mlflow.createExperiment('/Shared/x');
    const run = emu.mlflow.createRun({ experimentId: exp, artifacts: ['model/MLmodel'] }).info.run_id as string;
    const v1 = emu.mlflow.createModelVersion('churn', { source: `runs:/${run}/model`, runId: run });
    assert.equal(await reg.getProduction(), undefined);
    const v2 = emu.mlflow.createModelVersion('churn', { source: `runs:/${run}/other_model`, runId: run });
    assert.equal((await reg.findVersionForRun(run, 'model'))?.version, v1);
    assert.equal((await reg.findVersionForRun(run, 'other_model'))?.version, v2);
    emu.mlflow.setVersionStuck('churn', 'FAILED_REGISTRATION', { version: v1 });
    assert.equal(await reg.findVersionForRun(run, 'model'), undefined);
    await reg.promote(v2, 'because');
    assert.deepEqual(await reg.getProduction(), { version: v2, runId: run, source: `runs:/${run}/other_model` });
  });

  it('StageRegistry: any error other than RESOURCE_DOES_NOT_EXIST propagates (fail closed)', async () => {
    const reg = new StageRegistry(new WorkspaceModelRegistry(api()), 'churn', 'Production');
    emu.faults.add({ kind: 'status', status: 403, path: '/api/2.0/mlflow/registered-models/get-latest-versions', errorCode: 'PERMISSION_DENIED', message: 'no access' });
    await assert.rejects(reg.getProduction(), /no access/);
    emu.faults.add({ kind: 'status', status: 404, path: '/api/2.0/mlflow/registered-models/get-latest-versions', errorCode: 'FEATURE_DISABLED', message: 'registry disabled' });
    await assert.rejects(reg.getProduction(), /registry disabled/);
  });

  it('AliasRegistry: a missing alias is "no production"; promote moves the alias; register creates the model once', async () => {
    const reg = new AliasRegistry(new UnityCatalogModelRegistry(api()), 'main.ml.churn', 'champion');
    assert.equal(await reg.getProduction(), undefined);
    const exp = emu.mlflow.createExperiment('/Shared/x');
    const run = emu.mlflow.createRun({ experimentId: exp, artifacts: ['model/MLmodel'] }).info.run_id as string;
    const v = await reg.register(run, 'model', 'why');
    await reg.waitReady(v, 5000);
    assert.equal((await reg.findVersionForRun(run, 'model'))?.version, v);
    await reg.promote(v);
    assert.deepEqual(emu.mlflow.aliases('main.ml.churn'), { champion: v });
    assert.equal((await reg.getProduction())?.version, v);
    const again = await reg.register(run, 'model', 'why');
    assert.notEqual(again, v);
    assert.equal(reg.versionUrl('https://h', v), `https://h/explore/data/models/main/ml/churn/version/${v}`);
    assert.equal(reg.versionUri(v), `models:/main.ml.churn/${v}`);
  });
});
