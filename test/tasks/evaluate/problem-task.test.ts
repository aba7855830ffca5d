/**
 * Issue 20 end to end: the bundled Evaluate & Promote task run as the agent runs it (child process,
 * INPUT_/ENDPOINT_ environment, ##vso commands) against the workspace emulator, for regression and
 * multiclass in both registries, with guardrails and slices. The scoring notebook is played by an emulator
 * handler that writes the layouts of each problem type (test/helpers/scoring-notebook.ts); the parameters
 * the task sent it are asserted exactly.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Table } from 'apache-arrow';
import type { Emulator } from '../../../emulator';
import type { NotebookContext } from '../../../emulator/routes/jobs';
import { DEFAULT_NOTEBOOK_PATH } from '../../../src/tasks/evaluate/inputs';
import { formatDelta, metricFormat } from '../../../src/engine/format';
import type { AgentRunResult } from '../../helpers/agent';
import { arrowFile, binaryTable, multiclassTable, regressionTable, type Noise } from '../../helpers/scoring-notebook';
import { assertSecretNotShown, TaskHarness } from '../../helpers/task-harness';
import { DEFAULT_REGISTER_NOTEBOOK_PATH, registerModelNotebook } from './register-notebook';

const CONN = '0b8e4c1d-2a3f-4e5d-8c7b-6a5f4e3d2c1b';
const MODEL = 'churn';
const UC_MODEL = 'main.ml.churn';
const OUT = '/Volumes/main/ml/scratch/eval';
const ROWS = 1500;
const CLASSES = ['bronze', 'silver', 'gold'];
/** Every promotion call over REST: registration, version tags, the stage transition, the alias, the claim. */
const PROMOTION = /model-versions\/create|transition-stage|registered-models\/alias|model-versions\/set-tag|registered-models\/set-tag/;

describe('Evaluate & Promote task: problem types, guardrails and slices (bundled, against the emulator)', function () {
  this.timeout(60_000);
  let emu: Emulator;
  const harness = new TaskHarness({ task: 'DatabricksEvaluatePromoteV1', connection: CONN, env: { DATABRICKS_MLOPS_POLL_INTERVAL_MS: '20' } });
  let expId: string;
  let noise: Record<string, Noise>;
  /** Builds the table the emulated notebook writes from the model keys it was given. */
  let table: (keys: string[]) => Table;
  let notebookCalls: Array<Record<string, string>>;
  let attempt = 0;

  beforeEach(async () => {
    emu = await harness.start();
    emu.jobs.durations = { queuedMs: 0, pendingMs: 10, runningMs: 10, terminatingMs: 10 };
    emu.mlflow.setVersionReadyDelayMs(30);
    expId = emu.mlflow.createExperiment('/Shared/churn');
    noise = {};
    notebookCalls = [];
    table = () => {
      throw new Error('no table');
    };
    emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, scoringNotebook);
    emu.jobs.notebooks.register(DEFAULT_REGISTER_NOTEBOOK_PATH, registerModelNotebook(emu).handler);
  });
  afterEach(() => harness.stop());

  /** Plays the scoring notebook: writes the predictions of the configured layout and exits with the contract JSON. */
  function scoringNotebook(ctx: NotebookContext): { exitValue: string } {
    notebookCalls.push(ctx.params);
    const keys = (JSON.parse(ctx.params.models) as Array<{ key: string }>).map((m) => m.key);
    const file = `${ctx.params.output_path}/predictions.arrow`;
    emu.files.write(file, Buffer.from(arrowFile(table(keys))));
    return { exitValue: JSON.stringify({ output_path: file, rows: ROWS }) };
  }

  function pick(keys: string[]): Record<string, Noise> {
    return Object.fromEntries(keys.map((k) => [k, noise[k]]));
  }

  function candidate(name: string, n: Noise): string {
    const run = emu.mlflow.createRun({ experimentId: expId, runName: name, tags: { candidate: 'true' }, artifacts: ['model/MLmodel', 'model/model.pkl'] });
    const id = run.info.run_id as string;
    noise[`run_${id}`] = n;
    return id;
  }

  function production(n: Noise, opts: { uc?: boolean } = {}): string {
    const run = emu.mlflow.createRun({ experimentId: expId, runName: 'prod', artifacts: ['model/MLmodel'] });
    const runId = run.info.run_id as string;
    const version = emu.mlflow.createModelVersion(opts.uc ? UC_MODEL : MODEL, {
      source: `runs:/${runId}/model`,
      runId,
      uc: opts.uc,
      stage: opts.uc ? undefined : 'Production',
    });
    if (opts.uc) emu.mlflow.ucRegistry.models.get(UC_MODEL)!.aliases.set('champion', Number(version));
    noise.production = n;
    return version;
  }

  function evaluate(inputs: Record<string, string | undefined> = {}): Promise<AgentRunResult> {
    return harness.run({
      inputs: {
        registry: 'workspace',
        modelName: MODEL,
        experiments: '/Shared/churn',
        evaluationTable: 'main.ml.churn_eval',
        outputPath: OUT,
        resamples: '300',
        seed: '7',
        ...inputs,
      },
      variables: { 'System.TaskInstanceId': `1a2b3c4d-5e6f-4a7b-8c9d-${String(++attempt).padStart(12, '0')}` },
      env: { DATABRICKS_MLOPS_PROMOTION_SETTLE_MS: '200' },
      killAfterMs: 45_000,
    });
  }

  const uc = { registry: 'unityCatalog', modelName: UC_MODEL, clusterMode: 'existing', existingClusterId: '0123-456789-abcdefgh' };

  function record(r: AgentRunResult): any {
    return JSON.parse(readFileSync(r.outputs.reportPath, 'utf8'));
  }

  /** The base_parameters of the scoring run the task submitted (the first runs/submit). */
  function scoringParameters(): Record<string, string> {
    const submits = emu.callsTo('POST', '/api/2.2/jobs/runs/submit');
    return submits[0].body.tasks[0].notebook_task.base_parameters;
  }

  function expectedParameters(models: Array<{ key: string; uri: string }>, registryUri: string, extra: Record<string, string>): Record<string, string> {
    const p = scoringParameters();
    assert.match(p.output_path, /^\/Volumes\/main\/ml\/scratch\/eval\/evaluate-4242-1-[0-9a-f]{10}$/);
    return {
      models: JSON.stringify(models),
      evaluation_table: 'main.ml.churn_eval',
      evaluation_query: '',
      label_column: 'label',
      max_rows: '0',
      output_path: p.output_path,
      registry_uri: registryUri,
      ...extra,
    };
  }

  /** Issue 23's parameters of the bundled notebook (auto limit 1.5e8 / models), which every problem type gets. */
  function scale(metric: string, unsupported: string, models: number): Record<string, string> {
    return {
      local_row_limit: String(Math.floor(1.5e8 / models)),
      comparison: JSON.stringify({ metric, method: 'bootstrap', seed: '7', resamples: 300, unsupported }),
    };
  }

  function promotionCalls(): string[] {
    return emu.requests.filter((q) => q.method !== 'GET' && PROMOTION.test(q.path)).map((q) => `${q.method} ${q.path}`);
  }

  it('regression, workspace registry: problem_type=regression sent, RMSE decides, the better candidate moves to Production', async () => {
    const v1 = production(1.0);
    const better = candidate('better', 0.5);
    table = (keys) => regressionTable({ rows: ROWS, noise: pick(keys) });
    const r = await evaluate({ problemType: 'regression', metric: 'rmse' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.deepEqual(
      scoringParameters(),
      expectedParameters(
        [
          { key: `run_${better}`, uri: `runs:/${better}/model` },
          { key: 'production', uri: `models:/${MODEL}/${v1}` },
        ],
        'databricks',
        { problem_type: 'regression', ...scale('rmse', 'the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes rmse on Spark)', 2) },
      ),
    );
    assert.equal(r.outputs.decision, 'promoted');
    assert.equal(r.outputs.failedChecks, '');
    const versions = emu.mlflow.versions(MODEL);
    assert.equal(emu.mlflow.stageOf(MODEL, versions[1].version), 'Production');
    assert.equal(versions[1].run_id, better);
    assert.match(
      r.complete!.message,
      new RegExp(`^Promoted run ${better} as churn version 2 to stage Production\\. Promote 'run_${better}': its RMSE improvement`),
    );
    const rec = record(r);
    assert.equal(rec.decision.problemType, 'regression');
    assert.equal(rec.decision.metric, 'rmse');
    assert.equal(rec.decision.higherIsBetter, false);
    assert.equal(rec.decision.n, ROWS);
    assert.equal(rec.inputs.problemType, 'regression');
    assert.equal(emu.mlflow.versionTags(MODEL, versions[1].version)['mlops.evaluation.metric'], 'rmse');
    assert.deepEqual(r.errors, []);
    assertSecretNotShown(r);
  });

  it('regression, Unity Catalog: registered by the register notebook, the champion alias moves', async () => {
    const v1 = production(1.0, { uc: true });
    const better = candidate('better', 0.5);
    table = (keys) => regressionTable({ rows: ROWS, noise: pick(keys) });
    const r = await evaluate({ ...uc, problemType: 'regression', metric: 'mae' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.deepEqual(
      scoringParameters(),
      expectedParameters(
        [
          { key: `run_${better}`, uri: `runs:/${better}/model` },
          { key: 'production', uri: `models:/${UC_MODEL}/${v1}` },
        ],
        'databricks-uc',
        { problem_type: 'regression', ...scale('mae', 'the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes mae on Spark)', 2) },
      ),
    );
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '2' });
    assert.equal(emu.mlflow.versions(UC_MODEL)[1].run_id, better);
    assert.equal(record(r).decision.metric, 'mae');
  });

  it('multiclass, workspace registry: FixedSizeList probabilities and mlops.classes read, class names recorded, promoted', async () => {
    const v1 = production(2.0);
    const better = candidate('better', 0.8);
    table = (keys) => multiclassTable({ rows: ROWS, noise: pick(keys), classNames: CLASSES });
    const r = await evaluate({ problemType: 'multiclass', metric: 'log_loss' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.deepEqual(
      scoringParameters(),
      expectedParameters(
        [
          { key: `run_${better}`, uri: `runs:/${better}/model` },
          { key: 'production', uri: `models:/${MODEL}/${v1}` },
        ],
        'databricks',
        { problem_type: 'multiclass', ...scale('log_loss', 'multiclass classification (problemType multiclass)', 2) },
      ),
    );
    assert.equal(r.outputs.decision, 'promoted');
    const rec = record(r);
    assert.equal(rec.decision.problemType, 'multiclass');
    assert.equal(rec.decision.classes, 3);
    assert.deepEqual(rec.decision.classNames, CLASSES);
    assert.equal(
      rec.decision.classCounts.reduce((a: number, b: number) => a + b, 0),
      ROWS,
    );
    assert.equal(emu.mlflow.stageOf(MODEL, '2'), 'Production');
  });

  it('multiclass, Unity Catalog: macro F1 decides, the champion alias moves', async () => {
    production(2.0, { uc: true });
    const better = candidate('better', 0.8);
    table = (keys) => multiclassTable({ rows: ROWS, noise: pick(keys), classNames: CLASSES });
    const r = await evaluate({ ...uc, problemType: 'multiclass', metric: 'f1_macro' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.equal(scoringParameters().problem_type, 'multiclass');
    assert.equal(scoringParameters().registry_uri, 'databricks-uc');
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '2' });
    assert.equal(emu.mlflow.versions(UC_MODEL)[1].run_id, better);
    assert.deepEqual(record(r).decision.classNames, CLASSES);
  });

  it('a guardrail that blocks: better ROC AUC but a much worse Brier score keeps production, sends no promotion call and says why', async () => {
    production(1.4);
    const better = candidate('squashed', 0.7);
    // The candidate ranks better (same ROC AUC as an unsquashed 0.7 model) but its probabilities are squashed toward 0.5.
    table = (keys) => binaryTable({ rows: ROWS, noise: pick(keys), squash: { [`run_${better}`]: 0.1 } });
    const r = await evaluate({ guardrails: 'brier 0.01' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    // Binary: the default problem type is not sent, so older notebooks and user jobs keep working.
    assert.equal('problem_type' in scoringParameters(), false);
    assert.equal('slice_columns' in scoringParameters(), false);
    assert.equal(r.outputs.decision, 'kept');
    assert.equal(r.outputs.promoted, 'false');
    assert.equal(r.outputs.failedChecks, 'guardrail:brier');
    assert.match(
      r.complete!.message,
      new RegExp(
        `^Kept production version 1: Keep 'production': the best candidate 'run_${better}' passes the ROC AUC gate but fails the guardrail on Brier score`,
      ),
    );
    assert.deepEqual(promotionCalls(), []);
    assert.equal(emu.mlflow.versions(MODEL).length, 1);
    const rec = record(r);
    const g = rec.decision.guardrails[0];
    assert.ok(g.meanDelta < -0.01, String(g.meanDelta));
    assert.deepEqual(
      r.warnings.filter((m) => m.startsWith('Guardrail')),
      [
        `Guardrail brier (max worsening 0.0100): failed; squashed worsens it by more than that in 100.0% of the resamples (allowed: fewer than 5.0%); mean change ${formatDelta(g.meanDelta)}.`,
      ],
    );
    assert.deepEqual(rec.inputs.guardrails, ['brier 0.01']);
    assert.equal(rec.decision.guardrails.length, 1);
    assert.equal(rec.decision.guardrails[0].passed, false);
    // The candidate tag is still reset: the candidate was evaluated.
    assert.equal(emu.mlflow.runTags(better).candidate, 'false');
  });

  it('a guardrail that passes: the better, calibrated candidate is promoted and the guardrail recorded as passed', async () => {
    production(1.4);
    const better = candidate('better', 0.7);
    table = (keys) => binaryTable({ rows: ROWS, noise: pick(keys) });
    const r = await evaluate({ guardrails: '# calibration must not suffer\nbrier 0.01\nlog_loss 0.02' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.equal(r.outputs.decision, 'promoted');
    assert.equal(r.outputs.failedChecks, '');
    assert.equal(emu.mlflow.stageOf(MODEL, '2'), 'Production');
    const rec = record(r);
    assert.deepEqual(
      rec.decision.guardrails.map((g: any) => [g.metric, g.maxWorsening, g.candidate, g.passed]),
      [
        ['brier', 0.01, `run_${better}`, true],
        ['log_loss', 0.02, `run_${better}`, true],
      ],
    );
    assert.ok(
      r.logLines.some((l) => l.startsWith('Guardrail brier (max worsening 0.0100): passed; better worsens it')),
      r.logLines.join('\n'),
    );
  });

  it('a slice that blocks: better overall, much worse in one region, keeps production; slice_columns sent; no promotion call', async () => {
    production(1.0);
    // North: 1300 rows where the candidate is far better; south: 200 rows where it is far worse.
    const better = candidate('better', (s) => (s.region === 'south' ? 2.0 : 0.3));
    const region = (i: number) => (i % 15 < 13 ? 'north' : 'south');
    // A second column, judged on its own: both plans mix the regions, so the candidate is better in each.
    const plan = (i: number) => (i % 2 === 0 ? 'basic' : 'pro');
    table = (keys) => regressionTable({ rows: ROWS, noise: pick(keys), slices: { region, plan } });
    const r = await evaluate({ problemType: 'regression', metric: 'rmse', sliceColumns: 'region\nplan', minSliceRows: '100', sliceTolerance: '0.05' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.deepEqual(
      scoringParameters(),
      expectedParameters(
        [
          { key: `run_${better}`, uri: `runs:/${better}/model` },
          { key: 'production', uri: `models:/${MODEL}/1` },
        ],
        'databricks',
        {
          problem_type: 'regression',
          slice_columns: 'region,plan',
          ...scale('rmse', 'the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes rmse on Spark); slices (sliceColumns)', 2),
        },
      ),
    );
    assert.equal(r.outputs.decision, 'kept');
    assert.equal(r.outputs.failedChecks, 'slice:region=south');
    assert.match(r.complete!.message, /passes the RMSE gate but fails on slice 'south' of 'region' \(200 rows\)/);
    assert.deepEqual(promotionCalls(), []);
    const rec = record(r);
    // RMSE is written by magnitude: the tolerance takes the decimals of the failed slice's change it is shown with.
    const south = rec.decision.slices[0].slices.find((x: any) => x.name === 'south');
    const f = metricFormat('rmse', [], [0.05, south.meanDelta]);
    assert.ok(
      r.logLines.includes(`Slices of region: 2 judged (at least 100 rows, tolerance ${f.amount(0.05)}), 0 not judged, 1 failed.`),
      r.logLines.join('\n'),
    );
    assert.ok(
      r.warnings.includes(
        `Slice region=south (200 rows) failed: better worsens rmse by more than ${f.amount(0.05)} in 100.0% of the slice's resamples; mean change ${f.delta(south.meanDelta)}.`,
      ),
      r.warnings.join('\n'),
    );
    assert.ok(south.meanDelta < 0, String(south.meanDelta));
    // The two plans are alike, and the emulator's run ids seed the predictions, so which plan is worse differs
    // from run to run: the names are compared in name order, and the record's order is checked on its own.
    const byName = (column: string, slices: any[]) => (column === 'plan' ? [...slices].sort((a, b) => a.name.localeCompare(b.name)) : slices);
    for (const report of rec.decision.slices) {
      const deltas = report.slices.map((x: any) => x.meanDelta);
      assert.deepEqual(
        deltas,
        [...deltas].sort((a: number, b: number) => a - b),
        `${report.column}: judged slices worst mean delta first`,
      );
    }
    assert.deepEqual(
      rec.decision.slices.map((s: any) => [s.column, s.judged, s.passed, byName(s.column, s.slices).map((x: any) => [x.name, x.rows, x.passed])]),
      [
        [
          'region',
          2,
          false,
          [
            ['south', 200, false],
            ['north', 1300, true],
          ],
        ],
        [
          'plan',
          2,
          true,
          [
            ['basic', 750, true],
            ['pro', 750, true],
          ],
        ],
      ],
    );
    assert.ok(r.logLines.includes('Slices of plan: 2 judged (at least 100 rows, tolerance 0.0500), 0 not judged, 0 failed.'), r.logLines.join('\n'));
    assert.deepEqual([rec.inputs.sliceColumns, rec.inputs.minSliceRows, rec.inputs.sliceTolerance], [['region', 'plan'], 100, 0.05]);
  });

  it('scoringJob: the user job gets problem_type and slice_columns as notebook_params with the contract', async () => {
    production(1.0);
    const better = candidate('better', 0.5);
    table = (keys) => regressionTable({ rows: ROWS, noise: pick(keys), slices: { region: (i) => (i % 3 === 0 ? 'east' : 'west') } });
    emu.jobs.notebooks.register('/Users/ds@contoso.com/score', scoringNotebook);
    const jobId = emu.jobs.createJob({ name: 'score churn', tasks: [{ task_key: 'score', notebook_task: { notebook_path: '/Users/ds@contoso.com/score' } }] });
    const r = await evaluate({
      predictionsSource: 'scoringJob',
      scoringJobId: String(jobId),
      problemType: 'regression',
      metric: 'rmse',
      sliceColumns: 'region',
      minSliceRows: '100',
      dryRun: 'true',
    });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    const [runNow] = emu.callsTo('POST', '/api/2.2/jobs/run-now');
    const p = runNow.body.notebook_params;
    assert.deepEqual(p, {
      models: JSON.stringify([
        { key: `run_${better}`, uri: `runs:/${better}/model` },
        { key: 'production', uri: `models:/${MODEL}/1` },
      ]),
      evaluation_table: 'main.ml.churn_eval',
      evaluation_query: '',
      label_column: 'label',
      max_rows: '0',
      output_path: p.output_path,
      registry_uri: 'databricks',
      problem_type: 'regression',
      slice_columns: 'region',
    });
    assert.equal(r.outputs.decision, 'promoted');
    assert.deepEqual(
      record(r).decision.slices.map((s: any) => [s.column, s.judged, s.passed]),
      [['region', 2, true]],
    );
  });

  it("predictionsSource=file: a regression CSV with a slice column is read (streamed) like the notebook's Arrow file; a multiclass CSV is refused", async () => {
    production(1.0);
    const better = candidate('better', 0.5);
    const t = regressionTable({ rows: ROWS, noise: pick([`run_${better}`, 'production']) });
    const lines = [`label,run_${better},production,region`];
    const label = t.getChild('label')!.toArray() as Float64Array;
    const cand = t.getChild(`run_${better}`)!.toArray() as Float64Array;
    const prod = t.getChild('production')!.toArray() as Float64Array;
    for (let i = 0; i < ROWS; i++) lines.push(`${label[i]},${cand[i]},${prod[i]},${i % 3 === 0 ? 'east' : 'west'}`);
    const file = path.join(tmpdir(), `preds-regression-${process.pid}-${Date.now()}.csv`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const asFile = { predictionsSource: 'file', predictionsFile: file, evaluationTable: undefined, outputPath: undefined };
    const r = await evaluate({ ...asFile, problemType: 'regression', metric: 'rmse', sliceColumns: 'region', minSliceRows: '100', dryRun: 'true' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.equal(r.outputs.decision, 'promoted');
    const rec = record(r);
    assert.equal(rec.decision.n, ROWS);
    assert.deepEqual(rec.decision.slices[0].slices.map((s: any) => [s.name, s.rows]).sort(), [
      ['east', 500],
      ['west', 1000],
    ]);
    assert.equal(emu.callsTo('POST', /\/jobs\//).length + emu.callsTo('GET', /\/fs\//).length, 0);

    const m = await evaluate({ ...asFile, problemType: 'multiclass', metric: 'log_loss' });
    assert.equal(m.complete?.result, 'Failed');
    assert.match(m.complete!.message, /multiclass predictions cannot be read from CSV/);
    assert.equal(emu.mlflow.runTags(better).candidate, 'true');
  });

  describe('bad combinations fail before any request', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [
        { problemType: 'regression' },
        'metric roc_auc is not a regression metric (roc_auc is a binary classification metric); with problemType regression set metric to one of rmse, mae, r2, mape.',
      ],
      [
        { guardrails: 'roc_auc 0.01' },
        'guardrails line 1: roc_auc is the primary metric (input metric), which the gate already judges; a guardrail is another metric: average_precision, log_loss, brier.',
      ],
      [
        { problemType: 'multiclass', metric: 'accuracy', guardrails: 'rmse 1' },
        'guardrails line 1: rmse is not a multiclass classification metric (rmse is a regression metric); use one of log_loss, roc_auc_ovr, roc_auc_ovr_weighted, accuracy, f1_macro.',
      ],
      [{ guardrails: 'brier -1' }, 'guardrails line 1: the max worsening of brier must be a finite number, 0 or more (in brier units); got -1.'],
      [{ guardrails: 'brier' }, 'Each line of guardrails must be "<metric> <max worsening>", e.g. "log_loss 0.01"; guardrails line 1 is "brier".'],
      [{ sliceColumns: 'region,region' }, 'sliceColumns lists region twice.'],
      [
        { sliceColumns: 'label' },
        'sliceColumns: label is the label column (labelColumn); a slice column is another column of the evaluation data, such as region.',
      ],
      [{ minSliceRows: '0' }, 'Input minSliceRows must be >= 1 and <= 1000000000; got 0.'],
      [{ sliceTolerance: '-0.1' }, 'Input sliceTolerance must be >= 0; got -0.1.'],
      [
        { guardrails: 'brier 0.01', winRate: '1' },
        'guardrails need winRate below 1: a guardrail passes only when fewer than (1 - winRate) of the resamples worsen its metric by more than its allowance, which no candidate can do at winRate 1. Lower winRate (e.g. 0.95) or remove the guardrails.',
      ],
    ];
    for (const [inputs, message] of cases) {
      it(`${JSON.stringify(inputs)}`, async () => {
        const r = await evaluate(inputs);
        assert.deepEqual(r.complete, { result: 'Failed', message });
        assert.deepEqual(emu.requests, []);
      });
    }
  });
});
