/**
 * Issue 23 end to end: the bundled Evaluate & Promote task (child process, ##vso commands) against the emulator,
 * with the scoring notebook's switch between the agent and Spark played by `playSwitchingNotebook`
 * (test/helpers/scoring-notebook.ts), which models the contract in docs/scale-out.md: below the local row limit
 * the predictions are downloaded and compared on the agent; above it the notebook returns integer sums (inline or
 * in a file) that the task finishes with the engine. Every test asserts the task.complete line; the decisions on
 * Spark are checked against the local engine's on the same rows.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Table } from 'apache-arrow';
import type { Emulator } from '../../../emulator';
import { NotebookError, type NotebookContext } from '../../../emulator/routes/jobs';
import { compareModels, defaultMinDelta, type CompareOptions, type Decision, type Predictions, type RegressionPredictions } from '../../../src/engine';
import { DEFAULT_NOTEBOOK_PATH } from '../../../src/tasks/evaluate/inputs';
import type { AgentRunResult } from '../../helpers/agent';
import { binaryTable, playSwitchingNotebook, regressionTable, ScoringNotebookError, withRowKey, type Noise } from '../../helpers/scoring-notebook';
import { assertSecretNotShown, TaskHarness } from '../../helpers/task-harness';

const CONN = '0b8e4c1d-2a3f-4e5d-8c7b-6a5f4e3d2c1b';
const MODEL = 'churn';
const OUT = '/Volumes/main/ml/scratch/eval';
/** Every promotion call over REST: registration, version tags, the stage transition, the alias, the claim. */
const PROMOTION = /model-versions\/create|transition-stage|registered-models\/alias|model-versions\/set-tag|registered-models\/set-tag/;

describe('Evaluate & Promote task: the comparison on the agent or on Spark (bundled, against the emulator)', function () {
  this.timeout(90_000);
  let emu: Emulator;
  const harness = new TaskHarness({ task: 'DatabricksEvaluatePromoteV1', connection: CONN, env: { DATABRICKS_MLOPS_POLL_INTERVAL_MS: '20' } });
  let expId: string;
  let noise: Record<string, Noise>;
  let rows: number;
  /** Changes the exit value's sums before the notebook returns them (the corrupt-sums test). */
  let tamper: ((exit: any) => void) | undefined;
  let tables: Table[];
  /** The notebook scores a regression table (target and predictions) instead of a binary one. */
  let regression: boolean;
  let attempt = 0;

  beforeEach(async () => {
    emu = await harness.start();
    emu.jobs.durations = { queuedMs: 0, pendingMs: 10, runningMs: 10, terminatingMs: 10 };
    emu.mlflow.setVersionReadyDelayMs(30);
    expId = emu.mlflow.createExperiment('/Shared/churn');
    noise = {};
    rows = 1500;
    tamper = undefined;
    tables = [];
    regression = false;
    emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, scoringNotebook);
  });
  afterEach(() => harness.stop());

  function scoringNotebook(ctx: NotebookContext): { exitValue: string } {
    const keys = (JSON.parse(ctx.params.models) as Array<{ key: string }>).map((m) => m.key);
    const spec = { rows, noise: Object.fromEntries(keys.map((k) => [k, noise[k]])), seed: 'spark-path' };
    const base = regression ? regressionTable(spec) : binaryTable(spec);
    const table = ctx.params.row_key_column ? withRowKey(base, ctx.params.row_key_column) : base;
    tables.push(table);
    try {
      const out = playSwitchingNotebook(ctx.params, table, emu.files);
      if (!tamper) return out;
      const exit = JSON.parse(out.exitValue);
      tamper(exit);
      return { exitValue: JSON.stringify(exit) };
    } catch (e) {
      if (e instanceof ScoringNotebookError) throw new NotebookError(e.message);
      throw e;
    }
  }

  function candidate(name: string, n: number): string {
    const run = emu.mlflow.createRun({ experimentId: expId, runName: name, tags: { candidate: 'true' }, artifacts: ['model/MLmodel', 'model/model.pkl'] });
    const id = run.info.run_id as string;
    noise[`run_${id}`] = n;
    return id;
  }

  function production(n: number): string {
    const run = emu.mlflow.createRun({ experimentId: expId, runName: 'prod', artifacts: ['model/MLmodel'] });
    const runId = run.info.run_id as string;
    const version = emu.mlflow.createModelVersion(MODEL, { source: `runs:/${runId}/model`, runId, stage: 'Production' });
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
        winRate: '0.9',
        ...inputs,
      },
      variables: { 'System.TaskInstanceId': `1a2b3c4d-5e6f-4a7b-8c9d-${String(++attempt).padStart(12, '0')}` },
      env: { DATABRICKS_MLOPS_PROMOTION_SETTLE_MS: '200' },
      killAfterMs: 75_000,
    });
  }

  function record(r: AgentRunResult): any {
    return JSON.parse(readFileSync(r.outputs.reportPath, 'utf8'));
  }

  /** The build summary's Markdown (the per-step folder next to the record). */
  function summary(r: AgentRunResult): string {
    const dir = path.dirname(r.outputs.reportPath);
    const step = readdirSync(dir, { withFileTypes: true }).find((e) => e.isDirectory())!;
    return readFileSync(path.join(dir, step.name, 'Model evaluation - churn.md'), 'utf8');
  }

  function scoringParameters(): Record<string, string> {
    return emu.callsTo('POST', '/api/2.2/jobs/runs/submit')[0].body.tasks[0].notebook_task.base_parameters;
  }

  function promotionCalls(): string[] {
    return emu.requests.filter((q) => q.method !== 'GET' && PROMOTION.test(q.path)).map((q) => `${q.method} ${q.path}`);
  }

  /** The local engine's decision on the rows the notebook scored, with the task's options. */
  function localDecision(opts: Omit<CompareOptions, 'baseline' | 'candidates' | 'seed' | 'winRate' | 'confidence' | 'minDelta'>): Decision {
    const table = tables[0];
    const keys = (JSON.parse(scoringParameters().models) as Array<{ key: string }>).map((m) => m.key);
    const preds: Predictions = {
      n: table.numRows,
      labels: Uint8Array.from(table.getChild('label')!.toArray() as Int8Array),
      columns: keys.map((k) => ({ name: k, scores: table.getChild(k)!.toArray() as Float64Array })),
      ...(table.getChild('id') ? { rowKey: { name: 'id', values: table.getChild('id')!.toArray() as BigInt64Array } } : {}),
    };
    const decision = compareModels(preds, {
      baseline: 'production',
      candidates: keys.filter((k) => k !== 'production'),
      seed: 7,
      winRate: 0.9,
      confidence: 0.95,
      minDelta: defaultMinDelta(opts.metric),
      ...opts,
    });
    return JSON.parse(JSON.stringify(decision)) as Decision;
  }

  function expectedBase(models: string, extra: Record<string, string>): Record<string, string> {
    const p = scoringParameters();
    assert.match(p.output_path, /^\/Volumes\/main\/ml\/scratch\/eval\/evaluate-4242-1-[0-9a-f]{10}$/);
    return {
      models,
      evaluation_table: 'main.ml.churn_eval',
      evaluation_query: '',
      label_column: 'label',
      max_rows: '0',
      output_path: p.output_path,
      registry_uri: 'databricks',
      ...extra,
    };
  }

  it('below the limit (auto limit, method auto by default): the notebook is told delong for Spark, the agent runs the paired bootstrap', async () => {
    const v1 = production(1.2);
    const better = candidate('better', 0.6);
    const r = await evaluate();
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.deepEqual(
      scoringParameters(),
      expectedBase(
        JSON.stringify([
          { key: `run_${better}`, uri: `runs:/${better}/model` },
          { key: 'production', uri: `models:/${MODEL}/${v1}` },
        ]),
        {
          local_row_limit: '75000000',
          // What Spark would run had there been more rows: ROC AUC by exact DeLong, supported.
          comparison: '{"metric":"roc_auc","method":"delong","seed":"7","resamples":300,"unsupported":null}',
        },
      ),
    );
    const line = 'Compared on the agent: 1,500 rows ≤ local row limit 75,000,000 (auto: 1.5e8 / 2 models); ROC AUC by the paired bootstrap (method auto).';
    assert.ok(r.logLines.includes(line), r.logLines.join('\n'));
    assert.ok(r.logLines.includes('ROC AUC on 1,500 rows (95.0% intervals, 300 paired resamples):'), r.logLines.join('\n'));
    const rec = record(r);
    assert.deepEqual(rec.data, { rows: 1500, positives: rec.decision.positives, comparedOn: 'agent', localRowLimit: 75000000, comparedOnReason: line });
    // What ran is the paired bootstrap, the decision the local engine takes with method bootstrap; the input was auto.
    assert.equal(rec.decision.method, 'bootstrap');
    assert.deepEqual(rec.decision, localDecision({ metric: 'roc_auc', method: 'bootstrap', resamples: 300 }));
    assert.equal(rec.inputs.method, 'auto');
    assert.ok(summary(r).includes('paired bootstrap, 300 resamples, seed 7'), summary(r));
    assert.ok(summary(r).includes(`\n${line}\n`), summary(r));
    assert.equal(emu.mlflow.versionTags(MODEL, emu.mlflow.versions(MODEL)[1].version)['mlops.evaluation.method'], 'bootstrap');
    assert.equal(r.outputs.decision, 'promoted');
    assert.deepEqual(r.errors, []);
    assertSecretNotShown(r);
  });

  it('above the limit with method auto (the default): ROC AUC by exact DeLong on Spark, the decision equal to the local DeLong, promoted', async () => {
    const v1 = production(1.2);
    const a = candidate('a', 0.6);
    const b = candidate('b', 0.9);
    const r = await evaluate({ localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    const models = [a, b].sort().map((id) => ({ key: `run_${id}`, uri: `runs:/${id}/model` }));
    assert.deepEqual(
      scoringParameters(),
      expectedBase(JSON.stringify([...models, { key: 'production', uri: `models:/${MODEL}/${v1}` }]), {
        local_row_limit: '1000',
        comparison: '{"metric":"roc_auc","method":"delong","seed":"7","resamples":300,"unsupported":null}',
        row_key_column: 'id',
      }),
    );
    const line = 'Compared on Spark: 1,500 rows is above the local row limit 1,000 (localRowLimit); ROC AUC by exact DeLong (method auto).';
    assert.ok(r.logLines.includes(line), r.logLines.join('\n'));
    assert.ok(r.logLines.includes('ROC AUC on 1,500 rows (95.0% intervals, DeLong):'), r.logLines.join('\n'));
    const rec = record(r);
    const local = localDecision({ metric: 'roc_auc', method: 'delong', resamples: 300 });
    // As with method delong: everything but the models' own intervals identical, those within 1e-12.
    const strip = (d: Decision) => ({ ...d, models: d.models.map(({ ci: _ci, ...m }) => m) });
    assert.deepEqual(strip(rec.decision), strip(local));
    for (let i = 0; i < local.models.length; i++) {
      assert.ok(Math.abs(rec.decision.models[i].ci[0] - local.models[i].ci![0]) <= 1e-12);
      assert.ok(Math.abs(rec.decision.models[i].ci[1] - local.models[i].ci![1]) <= 1e-12);
    }
    assert.equal(rec.decision.method, 'delong');
    assert.equal(rec.decision.resamples, 0);
    assert.equal(local.decision, 'promote');
    assert.equal(rec.inputs.method, 'auto');
    assert.deepEqual(rec.data, { rows: 1500, positives: local.positives, comparedOn: 'spark', localRowLimit: 1000, comparedOnReason: line });
    assert.ok(summary(r).includes(`\n${line}\n`), summary(r));
    assert.equal(r.outputs.decision, 'promoted');
    const promoted = emu.mlflow.versions(MODEL)[1].version;
    assert.equal(emu.mlflow.stageOf(MODEL, promoted), 'Production');
    assert.equal(emu.mlflow.versionTags(MODEL, promoted)['mlops.evaluation.method'], 'delong');
    assert.deepEqual(emu.callsTo('GET', /\/api\/2\.0\/fs\/files\//), []);
    assert.deepEqual(r.errors, []);
  });

  it("above the limit with method auto, ROC AUC and bootstrap keyedPoisson: Spark still runs DeLong (the scheme is the agent path's)", async () => {
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ bootstrap: 'keyedPoisson', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.equal(scoringParameters().comparison, '{"metric":"roc_auc","method":"delong","seed":"7","resamples":300,"unsupported":null}');
    assert.ok(
      r.logLines.includes('Compared on Spark: 1,500 rows is above the local row limit 1,000 (localRowLimit); ROC AUC by exact DeLong (method auto).'),
      r.logLines.join('\n'),
    );
    const rec = record(r);
    const strip = (d: Decision) => ({ ...d, models: d.models.map(({ ci: _ci, ...m }) => m) });
    assert.deepEqual(strip(rec.decision), strip(localDecision({ metric: 'roc_auc', method: 'delong', resamples: 300 })));
    assert.equal(rec.inputs.bootstrap, 'keyedPoisson');
    assert.equal(r.outputs.decision, 'promoted');
  });

  it('above the limit with an explicit method bootstrap and ROC AUC: refused in the notebook with its message; no promotion request', async () => {
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ method: 'bootstrap', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.equal(
      JSON.parse(scoringParameters().comparison).unsupported,
      'ROC AUC by the multinomial bootstrap (method auto, the default, or delong computes ROC AUC on Spark by exact DeLong; bootstrap keyedPoisson with rowKeyColumn by the keyed bootstrap)',
    );
    assert.match(
      r.complete!.message,
      /ScoringError: 1500 rows is above the local row limit 1000, and the comparison on Spark does not support ROC AUC by the multinomial bootstrap \(method auto, the default, or delong computes ROC AUC on Spark by exact DeLong; bootstrap keyedPoisson with rowKeyColumn by the keyed bootstrap\); set maxRows to at most 1000 to compare on the agent, or raise localRowLimit \(the agent needs about 1 MB for 1500 rows\)/,
    );
    assert.deepEqual(promotionCalls(), []);
    assert.equal(emu.mlflow.versions(MODEL).length, 1);
  });

  it('below the limit with an explicit method bootstrap: the log line as before method auto existed', async () => {
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ method: 'bootstrap' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.ok(r.logLines.includes('Compared on the agent: 1,500 rows ≤ local row limit 75,000,000 (auto: 1.5e8 / 2 models).'), r.logLines.join('\n'));
    const rec = record(r);
    assert.equal(rec.inputs.method, 'bootstrap');
    assert.deepEqual(rec.decision, localDecision({ metric: 'roc_auc', method: 'bootstrap', resamples: 300 }));
  });

  it('below the limit with the keyed bootstrap: the row key column read from the Arrow file, the decision equal to the local keyed path', async () => {
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ metric: 'brier', bootstrap: 'keyedPoisson', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.equal(scoringParameters().row_key_column, 'id');
    assert.ok(
      r.logLines.includes(
        'Compared on the agent: 1,500 rows ≤ local row limit 75,000,000 (auto: 1.5e8 / 2 models); Brier score by the keyed Poisson bootstrap (method auto).',
      ),
      r.logLines.join('\n'),
    );
    const rec = record(r);
    assert.deepEqual(rec.decision, localDecision({ metric: 'brier', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: 300 }));
    assert.equal(rec.inputs.bootstrap, 'keyedPoisson');
    assert.equal(rec.data.comparedOn, 'agent');
  });

  it('above the limit with DeLong: compared on Spark, the decision equal to the local DeLong on the same rows, promoted', async () => {
    const v1 = production(1.2);
    const a = candidate('a', 0.6);
    const b = candidate('b', 0.9);
    const r = await evaluate({ method: 'delong', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    const models = [a, b].sort().map((id) => ({ key: `run_${id}`, uri: `runs:/${id}/model` }));
    assert.deepEqual(
      scoringParameters(),
      expectedBase(JSON.stringify([...models, { key: 'production', uri: `models:/${MODEL}/${v1}` }]), {
        local_row_limit: '1000',
        comparison: '{"metric":"roc_auc","method":"delong","seed":"7","resamples":300,"unsupported":null}',
        row_key_column: 'id',
      }),
    );
    const line = 'Compared on Spark: 1,500 rows is above the local row limit 1,000 (localRowLimit).';
    assert.ok(r.logLines.includes(line), r.logLines.join('\n'));
    const rec = record(r);
    const local = localDecision({ metric: 'roc_auc', method: 'delong', resamples: 300 });
    // Everything but the models' own intervals (covariances rounded once vs centred double sums): identical.
    const strip = (d: Decision) => ({ ...d, models: d.models.map(({ ci: _ci, ...m }) => m) });
    assert.deepEqual(strip(rec.decision), strip(local));
    for (let i = 0; i < local.models.length; i++) {
      assert.ok(Math.abs(rec.decision.models[i].ci[0] - local.models[i].ci![0]) <= 1e-12);
      assert.ok(Math.abs(rec.decision.models[i].ci[1] - local.models[i].ci![1]) <= 1e-12);
    }
    assert.equal(local.decision, 'promote');
    assert.equal(local.best, `run_${a}`);
    assert.equal(rec.data.comparedOn, 'spark');
    assert.equal(rec.data.comparedOnReason, line);
    assert.ok(summary(r).includes(`\n${line}\n`), summary(r));
    assert.equal(rec.inputs.rowKeyColumn, 'id');
    assert.equal(rec.inputs.localRowLimit, 1000);
    assert.equal(r.outputs.decision, 'promoted');
    assert.equal(emu.mlflow.stageOf(MODEL, emu.mlflow.versions(MODEL)[1].version), 'Production');
    assert.ok(
      promotionCalls().some((c) => c.endsWith('transition-stage')),
      promotionCalls().join('\n'),
    );
    // Nothing was downloaded: the sums came inline in the exit value.
    assert.deepEqual(emu.callsTo('GET', /\/api\/2\.0\/fs\/files\//), []);
  });

  it('above the limit with the keyed bootstrap of the Brier score: the whole decision equal to the local keyed path', async () => {
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ metric: 'brier', bootstrap: 'keyedPoisson', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.equal(scoringParameters().comparison, '{"metric":"brier","method":"bootstrap","seed":"7","resamples":300,"unsupported":null}');
    assert.ok(
      r.logLines.includes(
        'Compared on Spark: 1,500 rows is above the local row limit 1,000 (localRowLimit); Brier score by the keyed Poisson bootstrap (method auto).',
      ),
      r.logLines.join('\n'),
    );
    const rec = record(r);
    assert.deepEqual(rec.decision, localDecision({ metric: 'brier', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: 300 }));
    assert.equal(rec.decision.bootstrap, 'keyedPoisson');
    assert.equal(r.outputs.decision, 'promoted');
  });

  it('above the limit with regression RMSE by the keyed bootstrap: finished from the regression sums, the whole decision equal to the local keyed path', async () => {
    regression = true;
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ problemType: 'regression', metric: 'rmse', bootstrap: 'keyedPoisson', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.equal(scoringParameters().problem_type, 'regression');
    assert.equal(scoringParameters().comparison, '{"metric":"rmse","method":"bootstrap","seed":"7","resamples":300,"unsupported":null}');
    assert.ok(
      r.logLines.includes(
        'Compared on Spark: 1,500 rows is above the local row limit 1,000 (localRowLimit); RMSE by the keyed Poisson bootstrap (method auto).',
      ),
      r.logLines.join('\n'),
    );
    const table = tables[0];
    const keys = (JSON.parse(scoringParameters().models) as Array<{ key: string }>).map((m) => m.key);
    const preds: RegressionPredictions = {
      n: table.numRows,
      target: Float64Array.from(table.getChild('label')!.toArray() as Float64Array),
      columns: keys.map((k) => ({ name: k, scores: table.getChild(k)!.toArray() as Float64Array })),
      rowKey: { name: 'id', values: table.getChild('id')!.toArray() as BigInt64Array },
    };
    const local = compareModels(preds, {
      problemType: 'regression',
      metric: 'rmse',
      method: 'bootstrap',
      bootstrap: 'keyedPoisson',
      resamples: 300,
      baseline: 'production',
      candidates: keys.filter((k) => k !== 'production'),
      seed: 7,
      winRate: 0.9,
      confidence: 0.95,
      minDelta: defaultMinDelta('rmse'),
    });
    const rec = record(r);
    assert.deepEqual(rec.decision, JSON.parse(JSON.stringify(local)));
    assert.equal(rec.decision.bootstrap, 'keyedPoisson');
    assert.equal(r.outputs.decision, 'promoted');
    // Nothing was downloaded: the sums came inline in the exit value.
    assert.deepEqual(emu.callsTo('GET', /\/api\/2\.0\/fs\/files\//), []);
  });

  it('above the limit with regression R² fails in the notebook: Spark computes rmse or mae only; no promotion request', async () => {
    regression = true;
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ problemType: 'regression', metric: 'r2', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.equal(JSON.parse(scoringParameters().comparison).unsupported, 'r2 (regression on Spark computes rmse or mae by the keyed bootstrap)');
    assert.match(
      r.complete!.message,
      /1500 rows is above the local row limit 1000, and the comparison on Spark does not support r2 \(regression on Spark computes rmse or mae by the keyed bootstrap\); set maxRows to at most 1000/,
    );
    assert.deepEqual(promotionCalls(), []);
  });

  it('above the limit with the keyed bootstrap of ROC AUC (method bootstrap): rank sums from Spark, the whole decision equal to the local keyed path', async () => {
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ method: 'bootstrap', bootstrap: 'keyedPoisson', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.equal(scoringParameters().comparison, '{"metric":"roc_auc","method":"bootstrap","seed":"7","resamples":300,"unsupported":null}');
    assert.ok(r.logLines.includes('Compared on Spark: 1,500 rows is above the local row limit 1,000 (localRowLimit).'), r.logLines.join('\n'));
    const rec = record(r);
    assert.deepEqual(rec.decision, localDecision({ metric: 'roc_auc', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: 300 }));
    assert.equal(rec.decision.bootstrap, 'keyedPoisson');
    assert.equal(r.outputs.decision, 'promoted');
    assert.deepEqual(emu.callsTo('GET', /\/api\/2\.0\/fs\/files\//), []);
  });

  it('above the limit with the keyed bootstrap of average precision: fixed-point AP sums from Spark, the whole decision equal to the local keyed path', async () => {
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ metric: 'average_precision', bootstrap: 'keyedPoisson', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    assert.equal(scoringParameters().comparison, '{"metric":"average_precision","method":"bootstrap","seed":"7","resamples":300,"unsupported":null}');
    assert.ok(
      r.logLines.includes(
        'Compared on Spark: 1,500 rows is above the local row limit 1,000 (localRowLimit); Average precision by the keyed Poisson bootstrap (method auto).',
      ),
      r.logLines.join('\n'),
    );
    const rec = record(r);
    assert.deepEqual(rec.decision, localDecision({ metric: 'average_precision', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: 300 }));
    assert.equal(rec.decision.bootstrap, 'keyedPoisson');
    assert.equal(rec.decision.metric, 'average_precision');
    assert.equal(r.outputs.decision, 'promoted');
    assert.deepEqual(emu.callsTo('GET', /\/api\/2\.0\/fs\/files\//), []);
  });

  it('above the limit, average precision with the multinomial bootstrap fails in the notebook naming bootstrap keyedPoisson; no promotion request', async () => {
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ metric: 'average_precision', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(
      r.complete!.message,
      /ScoringError: 1500 rows is above the local row limit 1000, and the comparison on Spark does not support the multinomial bootstrap \(bootstrap keyedPoisson with rowKeyColumn computes average_precision on Spark\); set maxRows to at most 1000/,
    );
    assert.deepEqual(promotionCalls(), []);
  });

  it('sums above 1,000,000 bytes: written to the volume, downloaded with the Files API, deleted, then finished', async () => {
    production(1.2);
    candidate('better', 0.6);
    rows = 400;
    // An explicit method bootstrap: the log line without the method (as before method auto existed).
    const r = await evaluate({
      method: 'bootstrap',
      metric: 'log_loss',
      bootstrap: 'keyedPoisson',
      localRowLimit: '100',
      rowKeyColumn: 'id',
      resamples: '15000',
    });
    assert.equal(r.complete?.result, 'Succeeded', `${r.complete?.message}\n${r.stdout}`);
    const file = `${scoringParameters().output_path}/spark-sums.json`;
    const url = `/api/2.0/fs/files${file}`;
    assert.equal(emu.callsTo('GET', url).length, 1);
    assert.equal(emu.callsTo('DELETE', url).length, 1);
    assert.equal(emu.files.read(file), undefined);
    assert.ok(
      r.logLines.some((l) => l.startsWith(`Downloaded ${file} (`)),
      r.logLines.join('\n'),
    );
    assert.ok(r.logLines.includes('Compared on Spark: 400 rows is above the local row limit 100 (localRowLimit).'), r.logLines.join('\n'));
    const rec = record(r);
    assert.deepEqual(rec.decision, localDecision({ metric: 'log_loss', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: 15000 }));
    assert.equal(rec.context.predictionsPath, file);
  });

  it('an option the Spark path cannot do (slices) fails in the notebook with its message; no promotion request', async () => {
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ method: 'delong', sliceColumns: 'region', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(
      r.complete!.message,
      /ScoringError: 1500 rows is above the local row limit 1000, and the comparison on Spark does not support slices \(sliceColumns\); set maxRows to at most 1000 to compare on the agent, or raise localRowLimit \(the agent needs about 1 MB for 1500 rows\)/,
    );
    assert.match(JSON.parse(scoringParameters().comparison).unsupported, /^slices \(sliceColumns\)$/);
    assert.deepEqual(promotionCalls(), []);
  });

  it('above the limit without rowKeyColumn fails in the notebook naming rowKeyColumn; no promotion request', async () => {
    production(1.2);
    candidate('better', 0.6);
    const r = await evaluate({ method: 'delong', localRowLimit: '1000' });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.equal(scoringParameters().row_key_column, undefined);
    assert.match(
      r.complete!.message,
      /the comparison on Spark needs a row key: set rowKeyColumn to a column holding a distinct whole number from 0 to 2\^40 - 1/,
    );
    assert.deepEqual(promotionCalls(), []);
  });

  it('corrupt sums (models in another order) fail closed: no promotion request', async () => {
    production(1.2);
    candidate('better', 0.6);
    tamper = (exit) => exit.result.models.reverse();
    const r = await evaluate({ method: 'delong', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(
      r.complete!.message,
      /The comparison on Spark cannot be finished: The Spark sums are not usable: models must be \["run_[0-9a-f]+","production"\]/,
    );
    assert.deepEqual(promotionCalls(), []);
  });

  it('a Spark exit whose row count disagrees with the sums fails closed', async () => {
    production(1.2);
    candidate('better', 0.6);
    tamper = (exit) => (exit.rows = 1501);
    const r = await evaluate({ method: 'delong', localRowLimit: '1000', rowKeyColumn: 'id' });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(r.complete!.message, /The scoring run reported 1501 rows but its Spark sums count 1500/);
    assert.deepEqual(promotionCalls(), []);
  });

  it('bootstrap keyedPoisson without rowKeyColumn fails before any request', async () => {
    const r = await evaluate({ metric: 'brier', bootstrap: 'keyedPoisson' });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(r.complete!.message, /bootstrap keyedPoisson keys every row's resample weights by its row key: set rowKeyColumn/);
    assert.deepEqual(emu.requests, []);
  });
});
