import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabricksApiError } from '../../../src/databricks/errors';
import type { CompareOptions, Decision, Predictions } from '../../../src/engine';
import type { MlflowRun, ModelVersion } from '../../../src/mlflow/types';
import type { EvaluateInputs } from '../../../src/tasks/evaluate/inputs';
import type { ProductionRef, ProductionRegistry } from '../../../src/tasks/evaluate/registry';
import { EvaluateDeps, run } from '../../../src/tasks/evaluate/run';
import type { PredictionsProvider, ScoringModel } from '../../../src/tasks/evaluate/scoring';

const HOST = 'https://adb-1.7.azuredatabricks.net';
const RUN_A = 'aaaa0000000000000000000000000001';
const RUN_B = 'bbbb0000000000000000000000000002';
const RUN_C = 'cccc0000000000000000000000000003';

function inputs(over: Partial<EvaluateInputs> = {}): EvaluateInputs {
  return {
    modelName: 'churn',
    registry: { kind: 'workspace', stage: 'Production' },
    experiments: ['/Shared/churn'],
    candidateTag: 'candidate',
    modelArtifactPath: 'model',
    predictionsSource: 'scoringNotebook',
    labelColumn: 'label',
    scoring: { evaluationTable: 'main.ml.eval', maxRows: 0, outputPath: '/Volumes/main/ml/v', notebookPath: '/Shared/nb', timeoutMs: 60000, cluster: { mode: 'serverless' } },
    decision: { metric: 'roc_auc', method: 'bootstrap', resamples: 200, seed: 42, winRate: 0.9, minDelta: 0, confidence: 0.95 },
    dryRun: false,
    resetCandidateTags: true,
    readyTimeoutMs: 5000,
    build: { buildId: '4242', buildNumber: '20261126.3', jobAttempt: '1', taskInstanceId: 't1', collectionUri: 'https://dev.azure.com/contoso/', teamProject: 'mlops' },
    ...over,
  };
}

function mlflowRun(runId: string, name: string): MlflowRun {
  return { info: { run_id: runId, run_name: name, experiment_id: '11', status: 'FINISHED' } };
}

function decisionFor(kind: Decision['decision'], best: string | undefined, opts: CompareOptions, winRate = 0.97, delta = 0.02): Decision {
  const models = (opts.candidates ?? []).map((k) => ({
    name: k,
    estimate: k === best ? 0.8 : 0.7,
    ci: [0.7, 0.9] as [number, number],
    isBaseline: false,
    vsBaseline: opts.baseline ? { winRate: k === best ? winRate : 0.1, meanDelta: k === best ? delta : -0.01, deltaCi: [0.01, 0.03] as [number, number], shareAboveMinDelta: 0.9 } : undefined,
  }));
  if (opts.baseline) models.push({ name: opts.baseline, estimate: 0.78, ci: [0.7, 0.85], isBaseline: true, vsBaseline: undefined });
  return {
    decision: kind,
    reason: `${kind}: because`,
    metric: opts.metric,
    higherIsBetter: true,
    method: opts.method,
    seed: opts.seed,
    resamples: opts.resamples,
    confidence: opts.confidence,
    winRateThreshold: opts.winRate,
    minDelta: opts.minDelta,
    baseline: opts.baseline,
    best,
    models,
    degenerateResamples: 0,
    n: 100,
    positives: 30,
  };
}

class World {
  events: string[] = [];
  runs: MlflowRun[] = [mlflowRun(RUN_B, 'gbm'), mlflowRun(RUN_A, 'logreg')];
  withModel = new Set([RUN_A, RUN_B, RUN_C]);
  production: Array<ProductionRef | undefined | Error> = [{ version: '3', runId: 'prodrun' }];
  existingVersion: ModelVersion | undefined;
  decide: (opts: CompareOptions) => Decision = (o) => decisionFor('promote', `run_${RUN_B}`, o);
  columns?: string[];
  compareOpts?: CompareOptions;
  scoredModels?: ScoringModel[];
  outputs: Record<string, string> = {};
  attachments: Array<[string, string, string]> = [];
  summaries: string[] = [];
  warnings: string[] = [];
  tempDir = mkdtempSync(path.join(tmpdir(), 'eval-run-'));
  clockTicks = 0;

  registry(): ProductionRegistry {
    const w = this;
    let reads = 0;
    return {
      kind: 'workspace',
      modelName: 'churn',
      targetDescription: 'stage Production',
      async getProduction() {
        const p = w.production[Math.min(reads++, w.production.length - 1)];
        w.events.push(`getProduction -> ${p instanceof Error ? 'error' : (p?.version ?? 'none')}`);
        if (p instanceof Error) throw p;
        return p;
      },
      async findVersionForRun(runId) {
        w.events.push(`findVersionForRun ${runId}`);
        return w.existingVersion;
      },
      async register(runId) {
        w.events.push(`register ${runId}`);
        return '4';
      },
      async waitReady(version) {
        w.events.push(`waitReady ${version}`);
      },
      async promote(version, comment) {
        w.events.push(`promote ${version}: ${comment}`);
      },
      async tag(version, tags) {
        w.events.push(`tag ${version} ${JSON.stringify(tags)}`);
      },
      versionUrl: (host, v) => `${host}/#mlflow/models/churn/versions/${v}`,
      versionUri: (v) => `models:/churn/${v}`,
    };
  }

  deps(): EvaluateDeps {
    const w = this;
    const predictions: PredictionsProvider = {
      description: 'fake scoring',
      async produce(models) {
        w.scoredModels = models;
        w.events.push(`score ${models.map((m) => m.key).join(',')}`);
        return { bytes: new Uint8Array([1]), context: { scoringRunId: 77, scoringRunUrl: `${HOST}/#job/1/run/77`, predictionsPath: '/Volumes/x/p.arrow' }, cleanup: async () => void w.events.push('cleanup') };
      },
    };
    return {
      host: {
        log: { info: () => {}, debug: () => {}, error: () => {}, warn: (m) => void w.warnings.push(m) },
        setOutput: (n, v) => void (w.outputs[n] = String(v)),
        uploadSummary: (p) => void (w.events.push('summary'), w.summaries.push(p)),
        addAttachment: (t, n, p) => void (w.events.push('attachment'), w.attachments.push([t, n, p])),
        tempDir: w.tempDir,
        signal: new AbortController().signal,
        setProgress: () => {},
      },
      workspaceUrl: HOST,
      tracking: {
        resolveExperiment: async (ref) => ({ experiment_id: '11', name: ref }),
        searchRuns: (opts) => {
          w.events.push(`searchRuns ${opts.experimentIds.join(',')} ${String(opts.filter)}`);
          return (async function* () {
            yield* w.runs;
          })();
        },
        hasLoggedModel: async (runId) => w.withModel.has(runId),
        setTag: async (runId, key, value) => void w.events.push(`setTag ${runId} ${key}=${value}`),
      },
      registry: this.registry(),
      predictions,
      engine: {
        readPredictions: (_bytes, opts) => {
          assert.equal(opts.labelColumn, 'label');
          const names = w.columns ?? (w.scoredModels ?? []).map((m) => m.key);
          return { n: 100, labels: new Uint8Array(100), columns: names.map((name) => ({ name, scores: new Float64Array(100) })) } as Predictions;
        },
        compare: (_p, opts) => {
          w.compareOpts = opts;
          w.events.push('compare');
          return w.decide(opts);
        },
      },
      now: () => new Date(Date.UTC(2026, 10, 26, 12, 0, w.clockTicks++)),
    };
  }
}

describe('evaluate: run(inputs, deps) with fakes', () => {
  it('promotes the best candidate: register, wait READY, re-read production, tag, transition; record; then reset tags', async () => {
    const w = new World();
    const result = await run(inputs(), w.deps());
    assert.deepEqual(w.events, [
      "searchRuns 11 tags.`candidate` = 'true' AND attributes.status = 'FINISHED'",
      'getProduction -> 3',
      `score run_${RUN_A},run_${RUN_B},production`,
      'compare',
      'cleanup',
      `findVersionForRun ${RUN_B}`,
      `register ${RUN_B}`,
      'waitReady 4',
      'getProduction -> 3',
      `tag 4 {"mlops.evaluation.build_id":"4242","mlops.evaluation.metric":"roc_auc","mlops.evaluation.method":"bootstrap","mlops.evaluation.seed":"42","mlops.evaluation.resamples":"200","mlops.evaluation.win_rate":"0.97","mlops.evaluation.metric_delta":"0.02","mlops.evaluation.metric_value":"0.8"}`,
      'promote 4: Promoted by Evaluate & Promote (build 4242, 20261126.3) over version 3: promote: because',
      'attachment',
      'summary',
      `setTag ${RUN_A} candidate=false`,
      `setTag ${RUN_B} candidate=false`,
    ]);
    assert.deepEqual(w.scoredModels, [
      { key: `run_${RUN_A}`, uri: `runs:/${RUN_A}/model` },
      { key: `run_${RUN_B}`, uri: `runs:/${RUN_B}/model` },
      { key: 'production', uri: 'models:/churn/3' },
    ]);
    assert.deepEqual(w.compareOpts, {
      baseline: 'production',
      candidates: [`run_${RUN_A}`, `run_${RUN_B}`],
      metric: 'roc_auc',
      method: 'bootstrap',
      resamples: 200,
      seed: 42,
      winRate: 0.9,
      minDelta: 0,
      minMetric: undefined,
      confidence: 0.95,
    });
    assert.deepEqual(w.outputs, {
      decision: 'promoted',
      promoted: 'true',
      modelVersion: '4',
      bestCandidateRunId: RUN_B,
      productionVersion: '3',
      winRate: '0.97',
      metricDelta: '0.02',
      reportPath: result.recordPath,
    });
    assert.equal(result.message, `Promoted run ${RUN_B} as churn version 4 to stage Production. promote: because`);
    assert.deepEqual(w.attachments, [['mlopspipelines.evaluation', 'evaluation.json', result.recordPath]]);
    assert.ok(result.recordPath.startsWith(w.tempDir));
    const record = JSON.parse(readFileSync(result.recordPath, 'utf8'));
    assert.equal(record.outcome, 'promoted');
    assert.equal(record.decision.best, `run_${RUN_B}`);
    assert.deepEqual(record.promotion, { version: '4', versionUrl: `${HOST}/#mlflow/models/churn/versions/4`, reusedExistingVersion: false, applied: true });
    assert.deepEqual(record.context.runs[`run_${RUN_B}`], { runId: RUN_B, url: `${HOST}/#mlflow/experiments/11/runs/${RUN_B}` });
    assert.equal(record.context.promotedVersion, '4');
    assert.equal(record.context.scoringRunId, 77);
    const summary = readFileSync(w.summaries[0], 'utf8');
    assert.match(summary, /\*\*Promoted run bbbb0000000000000000000000000002 as churn version 4 to stage Production\. promote: because\*\*/);
    assert.match(summary, /\| \[gbm \(bbbb0000\)\]\(https:\/\/adb-1\.7\.azuredatabricks\.net\/#mlflow\/experiments\/11\/runs\/bbbb0000000000000000000000000002\) \*\*best\*\* \| 0\.8000 \| \[0\.7000, 0\.9000\] \| 97\.0% \| \+0\.0200 \|/);
  });

  it('reuses the version already registered from the winning run (a re-run after a crash creates no second version)', async () => {
    const w = new World();
    w.existingVersion = { name: 'churn', version: '4', run_id: RUN_B, source: `runs:/${RUN_B}/model`, status: 'READY' };
    const result = await run(inputs(), w.deps());
    assert.ok(!w.events.some((e) => e.startsWith('register')));
    assert.ok(w.events.includes('waitReady 4'));
    assert.ok(w.events.some((e) => e.startsWith('promote 4')));
    assert.equal(result.record.promotion?.reusedExistingVersion, true);
  });

  it('fails without promoting when production changed during the evaluation, naming both versions', async () => {
    const w = new World();
    w.production = [{ version: '3' }, { version: '5' }];
    await assert.rejects(run(inputs(), w.deps()), /was version 3 when the models were compared and is now version 5\. Nothing was promoted \(version 4 stays registered\)/);
    assert.ok(!w.events.some((e) => e.startsWith('promote') || e.startsWith('tag') || e.startsWith('setTag')));
    assert.deepEqual(w.attachments, []);
  });

  it('fails closed when the production lookup fails: nothing scored, registered or reset', async () => {
    const w = new World();
    w.production = [new DatabricksApiError({ status: 503, errorCode: 'TEMPORARILY_UNAVAILABLE', message: 'try later' })];
    await assert.rejects(run(inputs(), w.deps()), /try later/);
    assert.deepEqual(w.events.slice(-1), ['getProduction -> error']);
    assert.equal(w.scoredModels, undefined);
  });

  it('keeps production when the engine says keep, and still records and resets the tags', async () => {
    const w = new World();
    w.decide = (o) => decisionFor('keep', `run_${RUN_B}`, o, 0.6, 0.001);
    const result = await run(inputs(), w.deps());
    assert.equal(result.outcome, 'kept');
    assert.ok(!w.events.some((e) => /^(register|waitReady|promote|tag |findVersionForRun)/.test(e)));
    assert.deepEqual(w.events.slice(-4), ['attachment', 'summary', `setTag ${RUN_A} candidate=false`, `setTag ${RUN_B} candidate=false`]);
    assert.deepEqual(w.outputs, {
      decision: 'kept',
      promoted: 'false',
      modelVersion: '',
      bestCandidateRunId: RUN_B,
      productionVersion: '3',
      winRate: '0.6',
      metricDelta: '0.001',
      reportPath: result.recordPath,
    });
    assert.equal(result.message, 'Kept production version 3: keep: because');
  });

  it('with no production model compares without a baseline and promotes on the engine decision', async () => {
    const w = new World();
    w.production = [undefined];
    await run(inputs(), w.deps());
    assert.equal(w.compareOpts?.baseline, undefined);
    assert.deepEqual(w.scoredModels?.map((m) => m.key), [`run_${RUN_A}`, `run_${RUN_B}`]);
    assert.ok(w.events.includes('getProduction -> none'));
    assert.ok(w.events.some((e) => e.startsWith('promote 4: Promoted by Evaluate & Promote (build 4242, 20261126.3) over no production model')));
    assert.equal(w.outputs.productionVersion, '');
  });

  it('with no candidates changes nothing and scores nothing', async () => {
    const w = new World();
    w.runs = [];
    const result = await run(inputs(), w.deps());
    assert.equal(result.outcome, 'noCandidates');
    assert.deepEqual(w.events, [
      "searchRuns 11 tags.`candidate` = 'true' AND attributes.status = 'FINISHED'",
      'getProduction -> 3',
      'attachment',
      'summary',
    ]);
    assert.equal(w.outputs.decision, 'noCandidates');
    assert.equal(w.outputs.promoted, 'false');
    const record = JSON.parse(readFileSync(result.recordPath, 'utf8'));
    assert.equal(record.decision.decision, 'none');
    assert.deepEqual(record.decision.models, []);
  });

  it('skips a candidate without a logged model with a warning that names it', async () => {
    const w = new World();
    w.runs.push(mlflowRun(RUN_C, 'broken'));
    w.withModel.delete(RUN_C);
    const result = await run(inputs(), w.deps());
    assert.deepEqual(w.warnings, [`Candidate run ${RUN_C} (broken) in experiment 11 has no logged model at artifact path 'model'; skipped.`]);
    assert.deepEqual(w.compareOpts?.candidates, [`run_${RUN_A}`, `run_${RUN_B}`]);
    assert.deepEqual(result.record.skippedCandidates, [{ runId: RUN_C, experimentId: '11', reason: "no logged model at artifact path 'model'" }]);
    assert.ok(!w.events.includes(`setTag ${RUN_C} candidate=false`));
  });

  it('passes candidates in run-id order whatever the listing order', async () => {
    const orders: string[][] = [];
    for (const runs of [
      [RUN_C, RUN_A, RUN_B],
      [RUN_B, RUN_C, RUN_A],
    ]) {
      const w = new World();
      w.runs = runs.map((r) => mlflowRun(r, r));
      await run(inputs(), w.deps());
      orders.push(w.compareOpts!.candidates!);
    }
    assert.deepEqual(orders[0], [`run_${RUN_A}`, `run_${RUN_B}`, `run_${RUN_C}`]);
    assert.deepEqual(orders[1], orders[0]);
  });

  it('dry run: evaluates and reports but registers, promotes, tags and resets nothing', async () => {
    const w = new World();
    const result = await run(inputs({ dryRun: true }), w.deps());
    assert.ok(!w.events.some((e) => /^(register|waitReady|promote|tag |setTag)/.test(e)), w.events.join('\n'));
    assert.equal(w.outputs.decision, 'promoted');
    assert.equal(w.outputs.promoted, 'false');
    assert.equal(result.record.dryRun, true);
    assert.deepEqual(result.record.promotion, { version: undefined, versionUrl: undefined, reusedExistingVersion: false, applied: false });
    assert.match(result.message, /^Dry run: would promote run bbbb0000000000000000000000000002 to churn stage Production; nothing was changed\./);
  });

  it('fails naming the missing predictions column, and still deletes the predictions', async () => {
    const w = new World();
    w.columns = [`run_${RUN_A}`, 'production'];
    await assert.rejects(run(inputs(), w.deps()), new RegExp(`no score column for run_${RUN_B} \\(columns: run_${RUN_A}, production\\)`));
    assert.ok(w.events.includes('cleanup'));
    assert.ok(!w.events.includes('compare'));
  });

  it('does not compare the production run with itself', async () => {
    const w = new World();
    w.production = [{ version: '3', runId: RUN_A }];
    const result = await run(inputs(), w.deps());
    assert.deepEqual(w.compareOpts?.candidates, [`run_${RUN_B}`]);
    assert.deepEqual(result.record.skippedCandidates, [{ runId: RUN_A, experimentId: '11', reason: 'already production version 3' }]);
    assert.ok(w.events.includes(`setTag ${RUN_A} candidate=false`));
  });

  it('leaves candidate tags alone when resetCandidateTags is false', async () => {
    const w = new World();
    await run(inputs({ resetCandidateTags: false }), w.deps());
    assert.ok(!w.events.some((e) => e.startsWith('setTag')));
  });
});
