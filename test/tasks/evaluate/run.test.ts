import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabricksApiError } from '../../../src/databricks/errors';
import type { AnyMetric, CompareOptions, Decision, Predictions, ReadAnyOptions, SliceKey } from '../../../src/engine';
import type { MlflowRun, ModelVersion } from '../../../src/mlflow/types';
import type { EvaluateInputs } from '../../../src/tasks/evaluate/inputs';
import type { ProductionRef, ProductionRegistry } from '../../../src/tasks/evaluate/registry';
import { EvaluateDeps, run, summaryFileName } from '../../../src/tasks/evaluate/run';
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
    scoring: {
      evaluationTable: 'main.ml.eval',
      maxRows: 0,
      outputPath: '/Volumes/main/ml/v',
      notebookPath: '/Shared/nb',
      timeoutMs: 60000,
      cluster: { mode: 'serverless' },
    },
    decision: {
      problemType: 'binaryClassification',
      metric: 'roc_auc',
      method: 'bootstrap',
      resamples: 200,
      seed: 42,
      winRate: 0.9,
      minDelta: 0,
      confidence: 0.95,
      guardrails: [],
      sliceColumns: [],
      minSliceRows: 1000,
      sliceTolerance: 0,
    },
    dryRun: false,
    resetCandidateTags: true,
    readyTimeoutMs: 5000,
    build: {
      buildId: '4242',
      buildNumber: '20261126.3',
      jobAttempt: '1',
      taskInstanceId: 't1',
      collectionUri: 'https://dev.azure.com/contoso/',
      teamProject: 'mlops',
    },
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
    vsBaseline: opts.baseline
      ? { winRate: k === best ? winRate : 0.1, meanDelta: k === best ? delta : -0.01, deltaCi: [0.01, 0.03] as [number, number], shareAboveMinDelta: 0.9 }
      : undefined,
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

/** An async iterable that reads `items()` when it is first iterated (as an async generator does), not when it is made. */
async function* lazily<T>(items: () => Iterable<T>): AsyncGenerator<T> {
  yield* items();
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
  readOpts?: ReadAnyOptions;
  /** What the reader returns for the slice columns. */
  slices: SliceKey[] = [];
  scoredModels?: ScoringModel[];
  outputs: Record<string, string> = {};
  attachments: Array<[string, string, string]> = [];
  summaries: string[] = [];
  warnings: string[] = [];
  infos: string[] = [];
  tempDir = mkdtempSync(path.join(tmpdir(), 'eval-run-'));
  clockTicks = 0;
  /** Registered-model tags (the promotion claim). */
  modelTags = new Map<string, string>();
  /** What production reads return once the transition was made (default: the promoted version). */
  afterPromotion?: ProductionRef;
  promoted?: string;
  /** Hooks on the claim's calls (another step's write, a failure). */
  onGetModelTag?: (n: number) => void;
  onSetModelTag?: () => void;
  setTagFails?: Error;
  deleteTagFails?: Error;
  /** The claim's monotonic clock (ms) and how much each tag write advances it. */
  mono = 0;
  writeTakesMs = 0;

  registry(): ProductionRegistry {
    let reads = 0;
    let tagReads = 0;
    return {
      kind: 'workspace',
      modelName: 'churn',
      targetDescription: 'stage Production',
      tagKey: (k: string) => k,
      getProduction: async () => {
        const p =
          this.promoted !== undefined ? (this.afterPromotion ?? { version: this.promoted }) : this.production[Math.min(reads++, this.production.length - 1)];
        this.events.push(`getProduction -> ${p instanceof Error ? 'error' : (p?.version ?? 'none')}`);
        if (p instanceof Error) throw p;
        return p;
      },
      findVersionForRun: async (runId) => {
        this.events.push(`findVersionForRun ${runId}`);
        return this.existingVersion;
      },
      register: async (runId) => {
        this.events.push(`register ${runId}`);
        return '4';
      },
      waitReady: async (version) => {
        this.events.push(`waitReady ${version}`);
      },
      promote: async (version, comment) => {
        this.events.push(`promote ${version}: ${comment}`);
        this.promoted = version;
      },
      getModelTag: async (key) => {
        this.onGetModelTag?.(tagReads++);
        const v = this.modelTags.get(key);
        this.events.push(`getModelTag ${key} -> ${v ?? 'none'}`);
        return v;
      },
      setModelTag: async (key, value) => {
        this.events.push(`setModelTag ${key}=${value}`);
        this.mono += this.writeTakesMs;
        if (this.setTagFails) throw this.setTagFails;
        this.modelTags.set(key, value);
        this.onSetModelTag?.();
      },
      deleteModelTag: async (key) => {
        this.events.push(`deleteModelTag ${key}`);
        if (this.deleteTagFails) throw this.deleteTagFails;
        this.modelTags.delete(key);
      },
      tag: async (version, tags) => {
        this.events.push(`tag ${version} ${JSON.stringify(tags)}`);
      },
      getVersion: async (version) => {
        this.events.push(`getVersion ${version}`);
        return undefined;
      },
      markChallenger: async (version, alias) => {
        this.events.push(`markChallenger ${version} ${alias}`);
      },
      versionUrl: (host, v) => `${host}/#mlflow/models/churn/versions/${v}`,
      versionUri: (v) => `models:/churn/${v}`,
    };
  }

  deps(): EvaluateDeps {
    const predictions: PredictionsProvider = {
      description: 'fake scoring',
      produce: async (models) => {
        this.scoredModels = models;
        this.events.push(`score ${models.map((m) => m.key).join(',')}`);
        const bytes = new Uint8Array([1]);
        return {
          file: { size: 1, head: bytes, chunks: () => [bytes], whole: () => bytes },
          fileName: 'p.arrow',
          context: { scoringRunId: 77, scoringRunUrl: `${HOST}/#job/1/run/77`, predictionsPath: '/Volumes/x/p.arrow' },
          cleanup: async () => void this.events.push('cleanup'),
        };
      },
    };
    return {
      host: {
        log: { info: (m) => void this.infos.push(m), debug: () => {}, error: () => {}, warn: (m) => void this.warnings.push(m) },
        setOutput: (n, v) => void (this.outputs[n] = String(v)),
        uploadSummary: (p) => void (this.events.push('summary'), this.summaries.push(p)),
        addAttachment: (t, n, p) => void (this.events.push('attachment'), this.attachments.push([t, n, p])),
        tempDir: this.tempDir,
        signal: new AbortController().signal,
        setProgress: () => {},
      },
      workspaceUrl: HOST,
      tracking: {
        resolveExperiment: async (ref) => ({ experiment_id: '11', name: ref }),
        searchRuns: (opts) => {
          this.events.push(`searchRuns ${opts.experimentIds.join(',')} ${String(opts.filter)}`);
          return lazily(() => this.runs);
        },
        findRunModel: async (run, path = 'model') =>
          this.withModel.has(run.info.run_id)
            ? { generation: 2 as const, artifactPath: path, uri: `runs:/${run.info.run_id}/${path}`, source: `runs:/${run.info.run_id}/${path}` }
            : undefined,
        setTag: async (runId, key, value) => void this.events.push(`setTag ${runId} ${key}=${value}`),
      },
      registry: this.registry(),
      predictions,
      engine: {
        readPredictions: (_file, opts, fileName) => {
          assert.equal(opts.labelColumn, 'label');
          assert.equal(fileName, 'p.arrow');
          this.readOpts = opts;
          const names = this.columns ?? (this.scoredModels ?? []).map((m) => m.key);
          const predictions = { n: 100, labels: new Uint8Array(100), columns: names.map((name) => ({ name, scores: new Float64Array(100) })) } as Predictions;
          return { predictions, slices: this.slices };
        },
        compare: (_p, opts) => {
          this.compareOpts = opts as CompareOptions;
          this.events.push('compare');
          return this.decide(opts as CompareOptions);
        },
      },
      clock: { now: () => Date.UTC(2026, 10, 26, 12, 0, this.clockTicks++) },
      claim: {
        settleMs: 5000,
        clock: {
          now: () => Date.UTC(2026, 10, 26, 12, 30, 0),
          monotonic: () => this.mono,
          sleep: async (ms) => {
            this.events.push(`sleep ${ms}`);
            this.mono += ms;
          },
        },
        nonce: () => 'n1',
      },
    };
  }
}

const CLAIM_4 = 'owner=build 4242, step t1;version=4;at=2026-11-26T12:30:00.000Z;nonce=n1';

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
      // The promotion claim: free, written, stood for the settle interval, production unchanged.
      'getModelTag mlops.promotion.claim -> none',
      `setModelTag mlops.promotion.claim=${CLAIM_4}`,
      'sleep 5000',
      `getModelTag mlops.promotion.claim -> ${CLAIM_4}`,
      'getProduction -> 3',
      `tag 4 {"mlops.evaluation.build_id":"4242","mlops.evaluation.metric":"roc_auc","mlops.evaluation.method":"bootstrap","mlops.evaluation.seed":"42","mlops.evaluation.resamples":"200","mlops.evaluation.win_rate":"0.97","mlops.evaluation.metric_delta":"0.02","mlops.evaluation.metric_value":"0.8"}`,
      'promote 4: Promoted by Evaluate & Promote (build 4242, 20261126.3) over version 3: promote: because',
      // Production re-read after the transition, then the claim released (still ours).
      'getProduction -> 4',
      `getModelTag mlops.promotion.claim -> ${CLAIM_4}`,
      'deleteModelTag mlops.promotion.claim',
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
      decisionRecordPath: result.recordPath,
      failedChecks: '',
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
    // Azure DevOps titles the summary section with the file name: it says what it shows.
    assert.equal(path.basename(w.summaries[0]), 'Model evaluation - churn.md');
    const summary = readFileSync(w.summaries[0], 'utf8');
    assert.match(summary, /\*\*Promoted run bbbb0000000000000000000000000002 as churn version 4 to stage Production\. promote: because\*\*/);
    assert.match(
      summary,
      /\| \[gbm \(bbbb0000\)\]\(https:\/\/adb-1\.7\.azuredatabricks\.net\/#mlflow\/experiments\/11\/runs\/bbbb0000000000000000000000000002\) \*\*best\*\* \| 0\.8000 \| \[0\.7000, 0\.9000\] \| 97\.0% \| \+0\.0200 \|/,
    );
  });

  it('issue 20: problemType, guardrails and slices reach the reader and the engine; failed checks are logged, output and recorded', async () => {
    const w = new World();
    const region: SliceKey = { column: 'region', codes: new Uint32Array(100), names: ['north', 'south'] };
    w.slices = [region];
    const decision: Decision<AnyMetric> = {
      ...decisionFor('keep', `run_${RUN_B}`, {
        ...(inputs().decision as CompareOptions),
        baseline: 'production',
        candidates: [`run_${RUN_A}`, `run_${RUN_B}`],
      }),
      metric: 'rmse',
      problemType: 'regression',
      higherIsBetter: false,
      reason: "Keep 'production': the best candidate fails the guardrail on MAE and on slice 'south' of 'region'.",
      guardrails: [
        {
          metric: 'mae',
          higherIsBetter: false,
          maxWorsening: 0.5,
          candidate: `run_${RUN_B}`,
          baselineEstimate: 3,
          candidateEstimate: 3.9,
          meanDelta: -0.9,
          deltaCi: [-1.2, -0.6],
          exceeded: 180,
          exceedShare: 0.9,
          allowedShare: 0.1,
          passed: false,
        },
        {
          metric: 'r2',
          higherIsBetter: true,
          maxWorsening: 0,
          candidate: `run_${RUN_B}`,
          baselineEstimate: 0.5,
          candidateEstimate: 0.6,
          meanDelta: 0.1,
          deltaCi: [0.05, 0.15],
          exceeded: 0,
          exceedShare: 0,
          allowedShare: 0.1,
          passed: true,
        },
      ],
      slices: [
        {
          column: 'region',
          candidate: `run_${RUN_B}`,
          minRows: 10,
          tolerance: 0.25,
          maxJudged: 50,
          capped: false,
          judged: 2,
          passed: false,
          slices: [
            { name: 'south', rows: 40, judged: true, meanDelta: -0.5, deltaCi: [-0.8, -0.2], worseShare: 0.95, passed: false },
            { name: 'north', rows: 60, judged: true, meanDelta: 0.2, deltaCi: [0.1, 0.3], worseShare: 0, passed: true },
          ],
        },
      ],
    };
    w.decide = () => decision as Decision;
    const over = {
      decision: {
        ...inputs().decision,
        problemType: 'regression' as const,
        metric: 'rmse' as const,
        guardrails: [
          { metric: 'mae' as const, maxWorsening: 0.5 },
          { metric: 'r2' as const, maxWorsening: 0 },
        ],
        sliceColumns: ['region'],
        minSliceRows: 10,
        sliceTolerance: 0.25,
      },
    };
    const result = await run(inputs(over), w.deps());
    assert.deepEqual(w.readOpts, {
      labelColumn: 'label',
      scoreColumns: [`run_${RUN_A}`, `run_${RUN_B}`, 'production'],
      problemType: 'regression',
      sliceColumns: ['region'],
    });
    assert.deepEqual(w.compareOpts, {
      baseline: 'production',
      candidates: [`run_${RUN_A}`, `run_${RUN_B}`],
      metric: 'rmse',
      method: 'bootstrap',
      resamples: 200,
      seed: 42,
      winRate: 0.9,
      minDelta: 0,
      minMetric: undefined,
      confidence: 0.95,
      problemType: 'regression',
      guardrails: [
        { metric: 'mae', maxWorsening: 0.5 },
        { metric: 'r2', maxWorsening: 0 },
      ],
      slices: [region],
      minSliceRows: 10,
      sliceTolerance: 0.25,
    });
    assert.equal(result.outcome, 'kept');
    assert.equal(w.outputs.failedChecks, 'guardrail:mae,slice:region=south');
    assert.equal(w.outputs.decision, 'kept');
    assert.deepEqual(w.warnings, [
      `Guardrail mae (max worsening 0.5000): failed; gbm worsens it by more than that in 90.0% of the resamples (allowed: fewer than 10.0%); mean change \u22120.9000.`,
      `Slice region=south (40 rows) failed: gbm worsens rmse by more than 0.2500 in 95.0% of the slice's resamples; mean change \u22120.5000.`,
    ]);
    assert.ok(
      w.infos.includes(
        `Guardrail r2 (max worsening 0.0000): passed; gbm worsens it by more than that in 0.0% of the resamples (allowed: fewer than 10.0%); mean change +0.1000.`,
      ),
      w.infos.join('\n'),
    );
    assert.ok(w.infos.includes('Slices of region: 2 judged (at least 10 rows, tolerance 0.2500), 0 not judged, 1 failed.'), w.infos.join('\n'));
    const record = JSON.parse(readFileSync(result.recordPath, 'utf8'));
    // The engine's decision is stored unchanged, guardrails and slices included.
    assert.deepEqual(record.decision, JSON.parse(JSON.stringify(decision)));
    assert.deepEqual(
      [
        record.inputs.problemType,
        record.inputs.metric,
        record.inputs.guardrails,
        record.inputs.sliceColumns,
        record.inputs.minSliceRows,
        record.inputs.sliceTolerance,
      ],
      ['regression', 'rmse', ['mae 0.5', 'r2 0'], ['region'], 10, 0.25],
    );
  });

  it('binary without guardrails or slices: the reader and the engine get exactly the options they always did', async () => {
    const w = new World();
    await run(inputs(), w.deps());
    assert.deepEqual(w.readOpts, { labelColumn: 'label', scoreColumns: [`run_${RUN_A}`, `run_${RUN_B}`, 'production'] });
    assert.equal(
      Object.keys(w.compareOpts!).some((k) => ['problemType', 'guardrails', 'slices', 'minSliceRows', 'sliceTolerance'].includes(k)),
      false,
    );
  });

  it('summary file name: Model evaluation - <model name>.md, characters a file name cannot hold replaced', () => {
    assert.equal(summaryFileName('main.ml.churn'), 'Model evaluation - main.ml.churn.md');
    assert.equal(summaryFileName('team/churn: v2*'), 'Model evaluation - team_churn_ v2_.md');
    assert.equal(summaryFileName('  '), 'Model evaluation - model.md');
    assert.equal(summaryFileName('churn ##vso[task.complete result=Failed]x'), 'Model evaluation - churn __vso_task.complete result=Failed_x.md');
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
    await assert.rejects(
      run(inputs(), w.deps()),
      /was version 3 when the models were compared and is now version 5\. Nothing was promoted \(version 4 stays registered\)/,
    );
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
      decisionRecordPath: result.recordPath,
      failedChecks: '',
    });
    assert.equal(result.message, 'Kept production version 3: keep: because');
  });

  it('with no production model compares without a baseline and promotes on the engine decision', async () => {
    const w = new World();
    w.production = [undefined];
    await run(inputs(), w.deps());
    assert.equal(w.compareOpts?.baseline, undefined);
    assert.deepEqual(
      w.scoredModels?.map((m) => m.key),
      [`run_${RUN_A}`, `run_${RUN_B}`],
    );
    assert.ok(w.events.includes('getProduction -> none'));
    assert.ok(w.events.some((e) => e.startsWith('promote 4: Promoted by Evaluate & Promote (build 4242, 20261126.3) over no production model')));
    assert.equal(w.outputs.productionVersion, '');
  });

  it('with no candidates changes nothing and scores nothing', async () => {
    const w = new World();
    w.runs = [];
    const result = await run(inputs(), w.deps());
    assert.equal(result.outcome, 'noCandidates');
    assert.deepEqual(w.events, ["searchRuns 11 tags.`candidate` = 'true' AND attributes.status = 'FINISHED'", 'getProduction -> 3', 'attachment', 'summary']);
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
    assert.deepEqual(w.warnings, [
      `Candidate run ${RUN_C} (broken) in experiment 11 has no model at 'model': neither run artifacts model/MLmodel (MLflow 2) nor a ready MLflow 3 logged model named 'model' from this run; skipped.`,
    ]);
    assert.deepEqual(w.compareOpts?.candidates, [`run_${RUN_A}`, `run_${RUN_B}`]);
    assert.deepEqual(result.record.skippedCandidates, [
      {
        runId: RUN_C,
        experimentId: '11',
        reason: "no model at 'model': neither run artifacts model/MLmodel (MLflow 2) nor a ready MLflow 3 logged model named 'model' from this run",
      },
    ]);
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

  describe('the promotion claim (two steps racing on one model)', () => {
    const OTHER = 'owner=build 4243, step t9;version=5;at=2026-11-26T12:29:58.000Z;nonce=ab12';
    const writes = (w: World) => w.events.filter((e) => /^(tag |promote|setModelTag|deleteModelTag)/.test(e));

    it("another step's live claim: fails naming that step and the version it promotes; writes nothing", async () => {
      const w = new World();
      w.modelTags.set('mlops.promotion.claim', OTHER);
      await assert.rejects(
        run(inputs(), w.deps()),
        /^Error: Another Evaluate & Promote step \(build 4243, step t9\) is promoting churn version 5 \(claimed at 2026-11-26T12:29:58\.000Z\)\. Nothing was promoted \(version 4 stays registered\); run the evaluation again once it has finished, so that it compares against the new production model\.$/,
      );
      assert.deepEqual(writes(w), []);
      assert.equal(w.modelTags.get('mlops.promotion.claim'), OTHER);
      assert.ok(!w.events.some((e) => e.startsWith('setTag')), 'candidates stay tagged');
    });

    it('a claim written over ours while we settle: fails naming the other step and its version, leaves its claim', async () => {
      const w = new World();
      w.onGetModelTag = (n) => {
        if (n === 1) w.modelTags.set('mlops.promotion.claim', OTHER);
      };
      await assert.rejects(
        run(inputs(), w.deps()),
        /^Error: Another Evaluate & Promote step \(build 4243, step t9\) claimed the promotion of churn version 5 at the same time \(at 2026-11-26T12:29:58\.000Z\), after this step\. Nothing was promoted \(version 4 stays registered\); run the evaluation again\.$/,
      );
      assert.deepEqual(writes(w), [`setModelTag mlops.promotion.claim=${CLAIM_4}`]);
      assert.equal(w.modelTags.get('mlops.promotion.claim'), OTHER);
    });

    it('an earlier write of ours that lands late (same step, other nonce) still counts as our claim', async () => {
      const w = new World();
      w.onGetModelTag = (n) => {
        if (n === 1) w.modelTags.set('mlops.promotion.claim', CLAIM_4.replace('nonce=n1', 'nonce=0e1'));
      };
      const result = await run(inputs(), w.deps());
      assert.equal(result.outcome, 'promoted');
      assert.equal(w.modelTags.size, 0, 'released');
    });

    it('production moved while we settle: fails naming the new version and releases our claim', async () => {
      const w = new World();
      w.production = [{ version: '3' }, { version: '3' }, { version: '5' }];
      await assert.rejects(
        run(inputs(), w.deps()),
        /^Error: The production model changed during the evaluation: it was version 3 when the models were compared and is now version 5\. Nothing was promoted \(version 4 stays registered\); run the evaluation again\.$/,
      );
      assert.deepEqual(writes(w), [`setModelTag mlops.promotion.claim=${CLAIM_4}`, 'deleteModelTag mlops.promotion.claim']);
      assert.equal(w.modelTags.size, 0);
    });

    it('a claim round slower than the settle interval proves nothing: claimed again; three slow rounds fail and release', async () => {
      const w = new World();
      w.writeTakesMs = 6000;
      await assert.rejects(
        run(inputs(), w.deps()),
        /^Error: Could not claim the promotion of churn: each of 3 attempts took longer than the 5000 ms settle interval \(the registry is answering slowly\)\. Nothing was promoted \(version 4 stays registered\); run the evaluation again\.$/,
      );
      assert.deepEqual(writes(w), [...Array(3).fill(`setModelTag mlops.promotion.claim=${CLAIM_4}`), 'deleteModelTag mlops.promotion.claim']);
      assert.ok(!w.events.some((e) => e.startsWith('sleep')));

      const once = new World();
      once.writeTakesMs = 6000;
      once.onSetModelTag = () => void (once.writeTakesMs = 0);
      const result = await run(inputs(), once.deps());
      assert.equal(result.outcome, 'promoted');
      assert.deepEqual(writes(once).filter((e) => e.startsWith('setModelTag')).length, 2);
    });

    it('an abandoned claim (older than the TTL) and one this step left before a kill are taken over', async () => {
      for (const left of [
        'owner=build 4000, step t0;version=2;at=2026-11-26T12:00:00.000Z;nonce=dead',
        'owner=build 4242, step t1;version=4;at=2026-11-26T12:29:00.000Z;nonce=01d1',
      ]) {
        const w = new World();
        w.modelTags.set('mlops.promotion.claim', left);
        const result = await run(inputs(), w.deps());
        assert.equal(result.outcome, 'promoted', left);
        assert.equal(w.modelTags.size, 0);
      }
      // An unreadable value is held by someone unknown: fail closed.
      const w = new World();
      w.modelTags.set('mlops.promotion.claim', 'locked by ops');
      await assert.rejects(
        run(inputs(), w.deps()),
        /^Error: The promotion of churn is claimed by a value this task cannot read \(mlops\.promotion\.claim=locked by ops\)\. Nothing was promoted/,
      );
    });

    it('production is not our version after the transition: fails naming the version now in production', async () => {
      const w = new World();
      w.afterPromotion = { version: '5' };
      await assert.rejects(
        run(inputs(), w.deps()),
        /^Error: churn version 4 was moved to stage Production, but stage Production is now version 5: another step or person changed it after this step's promotion\./,
      );
      assert.equal(w.modelTags.size, 0, 'claim released');
      assert.deepEqual(w.attachments, []);
      assert.ok(!w.events.some((e) => e.startsWith('setTag')), 'candidates stay tagged');
    });

    it('the claim cannot be cleared after promoting: succeeds with an issue naming the tag', async () => {
      const w = new World();
      w.deleteTagFails = new DatabricksApiError({ status: 503, errorCode: 'TEMPORARILY_UNAVAILABLE', message: 'try later' });
      const result = await run(inputs(), w.deps());
      assert.equal(result.outcome, 'promoted');
      const issue =
        'the promotion claim on churn (registered-model tag mlops.promotion.claim) could not be cleared (try later); other Evaluate & Promote steps of this model fail until it expires after 15 minutes or the tag is deleted';
      assert.deepEqual(result.issues, [issue]);
      assert.equal(result.message, `Promoted run ${RUN_B} as churn version 4 to stage Production. promote: because Issues: ${issue}.`);
      assert.deepEqual(w.warnings, [`Version 4 was promoted, but ${issue}.`]);
    });
  });

  describe('resetting the candidate tags fails after the decision was applied', () => {
    const err = () =>
      new DatabricksApiError({ status: 503, errorCode: 'TEMPORARILY_UNAVAILABLE', message: 'The service is temporarily unavailable. Please try again later.' });

    it('after a promotion: succeeds with an issue naming the promoted version and every run left tagged', async () => {
      const w = new World();
      const deps = w.deps();
      deps.tracking.setTag = async (runId) => {
        w.events.push(`setTag ${runId} failed`);
        throw err();
      };
      const result = await run(inputs(), deps);
      const issue = `version 4 was promoted and the decision recorded, but candidate=true could not be reset on run(s) ${RUN_A}, ${RUN_B} (The service is temporarily unavailable. Please try again later); set it to false by hand, or the next evaluation picks them up again`;
      assert.deepEqual(result.issues, [issue]);
      assert.equal(result.message, `Promoted run ${RUN_B} as churn version 4 to stage Production. promote: because Issues: ${issue}.`);
      assert.deepEqual(w.warnings, [`V${issue.slice(1)}.`]);
      assert.equal(w.outputs.promoted, 'true');
      assert.deepEqual(w.events.slice(-2), [`setTag ${RUN_A} failed`, `setTag ${RUN_B} failed`]);
    });

    it('after keeping production: the issue says the decision was recorded; a cancel still fails the step', async () => {
      const w = new World();
      w.decide = (o) => decisionFor('keep', `run_${RUN_B}`, o, 0.6, 0.001);
      const deps = w.deps();
      let n = 0;
      deps.tracking.setTag = async () => {
        if (n++ === 0) throw err();
      };
      const result = await run(inputs(), deps);
      assert.deepEqual(result.issues, [
        `the decision was recorded, but candidate=true could not be reset on run(s) ${RUN_A} (The service is temporarily unavailable. Please try again later); set it to false by hand, or the next evaluation picks them up again`,
      ]);

      const c = new World();
      const ac = new AbortController();
      const cdeps = c.deps();
      cdeps.host = { ...cdeps.host, signal: ac.signal };
      cdeps.tracking.setTag = async () => {
        ac.abort(new Error('cancelled by SIGINT'));
        throw new Error('aborted');
      };
      cdeps.claim = { ...cdeps.claim, clock: { ...cdeps.claim!.clock!, sleep: async () => undefined } };
      await assert.rejects(run(inputs(), cdeps), /^Error: aborted$/);
    });
  });
});
