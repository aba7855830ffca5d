/**
 * Issue 23's inputs (scale-inputs.ts) and the scoring run's exit with the switch (scoring.ts parseScoringExit):
 * defaults, every refusal with the input it names, the `comparison` parameter's `unsupported` reasons, and the
 * Spark exits that must fail closed.
 */
import assert from 'node:assert/strict';
import { agentMethod, autoMethodNote, comparisonParameter, localRowLimitOf, sparkMethod, sparkUnsupported } from '../../../src/tasks/evaluate/scale-inputs';
import { groupDigits, parseScoringExit } from '../../../src/tasks/evaluate/scoring';
import { evaluateInputsParser } from '../../helpers/evaluate-inputs';

const VARS = { 'Build.BuildId': '4242', 'System.JobAttempt': '1', 'System.TaskInstanceId': 'task-1', 'System.DefaultWorkingDirectory': '/agent/s' };
const BASE = {
  registry: 'workspace',
  modelName: 'churn',
  experiments: '/Shared/churn',
  evaluationTable: 'main.ml.churn_eval',
  outputPath: '/Volumes/main/ml/scratch/eval',
};

const { parse, rejects } = evaluateInputsParser(BASE, VARS);

describe('evaluate: localRowLimit, rowKeyColumn and bootstrap (issue 23)', () => {
  it('defaults: auto limit (absent), no row key, the multinomial bootstrap (absent); nothing else changes', () => {
    const got = parse();
    assert.equal(got.scoring!.localRowLimit, undefined);
    assert.equal('bootstrap' in got.decision, false);
    assert.equal('rowKeyColumn' in got.decision, false);
    assert.deepEqual(localRowLimitOf(undefined, 3), { limit: 50_000_000, how: 'auto: 1.5e8 / 3 models' });
    assert.deepEqual(localRowLimitOf(undefined, 1), { limit: 150_000_000, how: 'auto: 1.5e8 / 1 model' });
    assert.deepEqual(localRowLimitOf(undefined, 7), { limit: 21_428_571, how: 'auto: 1.5e8 / 7 models' });
    assert.deepEqual(localRowLimitOf(1000, 3), { limit: 1000, how: 'localRowLimit' });
    assert.equal(groupDigits(180_000_000), '180,000,000');
    assert.equal(groupDigits(999), '999');
  });

  it('reads a limit, a key and the keyed bootstrap', () => {
    const got = parse({ localRowLimit: '50000000', rowKeyColumn: 'customer_id', bootstrap: 'keyedPoisson', metric: 'brier' });
    assert.equal(got.scoring!.localRowLimit, 50_000_000);
    assert.equal(got.decision.bootstrap, 'keyedPoisson');
    assert.equal(got.decision.rowKeyColumn, 'customer_id');
    assert.equal(parse({ localRowLimit: 'AUTO' }).scoring!.localRowLimit, undefined);
    // With DeLong the bootstrap scheme has no use and is dropped.
    assert.equal('bootstrap' in parse({ method: 'delong', bootstrap: 'keyedPoisson' }).decision, false);
  });

  it('refuses bad values and combinations before any request, naming the input', () => {
    for (const v of ['0', '-5', '1.5', 'lots', '1e6']) {
      rejects({ localRowLimit: v }, 'localRowLimit', `localRowLimit must be auto or a positive whole number of rows (e.g. 50000000); got "${v}".`);
    }
    rejects(
      { bootstrap: 'keyedPoisson' },
      'rowKeyColumn',
      "bootstrap keyedPoisson keys every row's resample weights by its row key: set rowKeyColumn to a column of distinct whole numbers from 0 to 1099511627775.",
    );
    rejects(
      { bootstrap: 'keyedPoisson', rowKeyColumn: 'id', guardrails: 'brier 0.01' },
      'bootstrap',
      'bootstrap keyedPoisson supports binary classification, and regression on rmse or mae, without guardrails or slices; use bootstrap multinomial for those.',
    );
    rejects(
      { bootstrap: 'keyedPoisson', rowKeyColumn: 'id', problemType: 'regression', metric: 'mape' },
      'bootstrap',
      'bootstrap keyedPoisson supports binary classification, and regression on rmse or mae, without guardrails or slices; use bootstrap multinomial for those.',
    );
    rejects(
      { bootstrap: 'keyedPoisson', rowKeyColumn: 'id', problemType: 'multiclass', metric: 'log_loss' },
      'bootstrap',
      'bootstrap keyedPoisson supports binary classification, and regression on rmse or mae, without guardrails or slices; use bootstrap multinomial for those.',
    );
    rejects(
      { rowKeyColumn: 'label' },
      'rowKeyColumn',
      'rowKeyColumn label is the label column (labelColumn); the row key is a column of its own, such as an id.',
    );
    rejects(
      { rowKeyColumn: 'id', sliceColumns: 'id' },
      'rowKeyColumn',
      'rowKeyColumn id is also a slice column (sliceColumns); the row key is a column of its own.',
    );
    rejects(
      { rowKeyColumn: 'run_1' },
      'rowKeyColumn',
      "rowKeyColumn run_1 is the name of a model's column in the predictions (production, run_<run id>); rename the key column.",
    );
    rejects({ rowKeyColumn: 'a-b' }, 'rowKeyColumn', 'rowKeyColumn must be a column name of letters, digits and _; got "a-b".');
    rejects({ bootstrap: 'poisson' }, 'bootstrap', 'Input bootstrap must be one of multinomial, keyedPoisson; got "poisson".');
  });

  it('the comparison parameter: null when Spark can do it, else every reason in plain words', () => {
    const d = (over: Record<string, string>) => parse(over).decision;
    assert.equal(
      comparisonParameter(d({ method: 'delong', seed: '9', resamples: '10' })),
      '{"metric":"roc_auc","method":"delong","seed":"9","resamples":10,"unsupported":null}',
    );
    assert.equal(sparkUnsupported(d({ metric: 'log_loss', bootstrap: 'keyedPoisson', rowKeyColumn: 'id' })), null);
    assert.equal(
      sparkUnsupported(d({ method: 'bootstrap' })),
      'ROC AUC by the multinomial bootstrap (method auto, the default, or delong computes ROC AUC on Spark by exact DeLong; bootstrap keyedPoisson with rowKeyColumn by the keyed bootstrap)',
    );
    assert.equal(
      sparkUnsupported(d({ metric: 'average_precision' })),
      'the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes average_precision on Spark)',
    );
    assert.equal(sparkUnsupported(d({ metric: 'average_precision', bootstrap: 'keyedPoisson', rowKeyColumn: 'id' })), null);
    assert.equal(sparkUnsupported(d({ metric: 'brier' })), 'the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes brier on Spark)');
    assert.equal(sparkUnsupported(d({ method: 'delong', guardrails: 'brier 0.01', sliceColumns: 'region' })), 'guardrails; slices (sliceColumns)');
    assert.equal(sparkUnsupported(d({ problemType: 'multiclass', metric: 'log_loss' })), 'multiclass classification (problemType multiclass)');
    assert.equal(
      sparkUnsupported(d({ problemType: 'regression', metric: 'rmse' })),
      'the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes rmse on Spark)',
    );
    assert.equal(sparkUnsupported(d({ problemType: 'regression', metric: 'mae', bootstrap: 'keyedPoisson', rowKeyColumn: 'id' })), null);
    assert.equal(sparkUnsupported(d({ problemType: 'regression', metric: 'r2' })), 'r2 (regression on Spark computes rmse or mae by the keyed bootstrap)');
  });
});

describe('evaluate: method auto, the bootstrap on the agent and DeLong for ROC AUC on Spark (issue 23)', () => {
  const d = (over: Record<string, string>) => parse(over).decision;

  it('the method each path runs: auto is the bootstrap on the agent, DeLong on Spark for binary ROC AUC only; explicit methods everywhere', () => {
    assert.equal(agentMethod('auto'), 'bootstrap');
    assert.equal(agentMethod('bootstrap'), 'bootstrap');
    assert.equal(agentMethod('delong'), 'delong');
    assert.equal(sparkMethod(d({})), 'delong');
    assert.equal(sparkMethod(d({ method: 'auto', metric: 'roc_auc' })), 'delong');
    assert.equal(sparkMethod(d({ method: 'bootstrap' })), 'bootstrap');
    assert.equal(sparkMethod(d({ method: 'delong' })), 'delong');
    for (const metric of ['average_precision', 'log_loss', 'brier']) assert.equal(sparkMethod(d({ metric })), 'bootstrap', metric);
    assert.equal(sparkMethod(d({ problemType: 'regression', metric: 'rmse' })), 'bootstrap');
    assert.equal(sparkMethod(d({ problemType: 'multiclass', metric: 'roc_auc_ovr' })), 'bootstrap');
  });

  it('the comparison parameter with auto (the default): ROC AUC goes to Spark as delong, supported; the other metrics as the bootstrap', () => {
    assert.equal(comparisonParameter(d({ seed: '9', resamples: '10' })), '{"metric":"roc_auc","method":"delong","seed":"9","resamples":10,"unsupported":null}');
    assert.equal(
      comparisonParameter(d({ method: 'bootstrap', seed: '9', resamples: '10' })),
      '{"metric":"roc_auc","method":"bootstrap","seed":"9","resamples":10,"unsupported":"ROC AUC by the multinomial bootstrap (method auto, the default, or delong computes ROC AUC on Spark by exact DeLong; bootstrap keyedPoisson with rowKeyColumn by the keyed bootstrap)"}',
    );
    assert.equal(
      comparisonParameter(d({ metric: 'log_loss', bootstrap: 'keyedPoisson', rowKeyColumn: 'id', seed: '9', resamples: '10' })),
      '{"metric":"log_loss","method":"bootstrap","seed":"9","resamples":10,"unsupported":null}',
    );
    // log loss and Brier need the keyed bootstrap on Spark: the refusal says so.
    assert.equal(
      sparkUnsupported(d({ metric: 'log_loss' })),
      'the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes log_loss on Spark)',
    );
    assert.equal(
      sparkUnsupported(d({ metric: 'average_precision' })),
      'the multinomial bootstrap (bootstrap keyedPoisson with rowKeyColumn computes average_precision on Spark)',
    );
    assert.equal(
      comparisonParameter(d({ metric: 'average_precision', bootstrap: 'keyedPoisson', rowKeyColumn: 'id', seed: '9', resamples: '10' })),
      '{"metric":"average_precision","method":"bootstrap","seed":"9","resamples":10,"unsupported":null}',
    );
    // ROC AUC with the keyed scheme: the agent runs the keyed bootstrap, Spark runs DeLong (the scheme does not apply).
    assert.equal(sparkUnsupported(d({ bootstrap: 'keyedPoisson', rowKeyColumn: 'id' })), null);
    assert.equal(sparkUnsupported(d({ guardrails: 'brier 0.01', winRate: '0.9' })), 'guardrails');
    assert.equal(sparkUnsupported(d({ sliceColumns: 'region' })), 'slices (sliceColumns)');
    assert.equal(sparkUnsupported(d({ problemType: 'regression', metric: 'rmse', bootstrap: 'keyedPoisson', rowKeyColumn: 'id' })), null);
  });

  it('what auto runs on each path, in words for the log line; nothing for an explicit method', () => {
    assert.deepEqual(autoMethodNote(d({})), { agent: 'ROC AUC by the paired bootstrap (method auto)', spark: 'ROC AUC by exact DeLong (method auto)' });
    assert.deepEqual(autoMethodNote(d({ bootstrap: 'keyedPoisson', rowKeyColumn: 'id' })), {
      agent: 'ROC AUC by the keyed Poisson bootstrap (method auto)',
      spark: 'ROC AUC by exact DeLong (method auto)',
    });
    assert.deepEqual(autoMethodNote(d({ metric: 'brier', bootstrap: 'keyedPoisson', rowKeyColumn: 'id' })), {
      agent: 'Brier score by the keyed Poisson bootstrap (method auto)',
      spark: 'Brier score by the keyed Poisson bootstrap (method auto)',
    });
    assert.equal(autoMethodNote(d({ method: 'bootstrap' })), undefined);
    assert.equal(autoMethodNote(d({ method: 'delong' })), undefined);
  });
});

describe('evaluate: the scoring exit with the switch (parseScoringExit)', () => {
  const F = '/Volumes/c/s/v/evaluate-1';
  const W = 'Scoring run 5';
  const exit = (o: unknown, limit: number | undefined) => parseScoringExit(JSON.stringify(o), F, W, limit);

  it('local (or no comparison field) is the scoring contract; spark carries the sums inline or a path in the folder', () => {
    assert.deepEqual(exit({ output_path: `${F}/p.arrow`, rows: 10, comparison: 'local', local_row_limit: 1000 }, 1000), {
      path: 'local',
      outputPath: `${F}/p.arrow`,
      rows: 10,
    });
    assert.deepEqual(exit({ output_path: `${F}/p.arrow`, rows: 10 }, undefined), { path: 'local', outputPath: `${F}/p.arrow`, rows: 10 });
    assert.deepEqual(exit({ comparison: 'spark', rows: 1001, local_row_limit: 1000, result: { a: 1 } }, 1000), {
      path: 'spark',
      rows: 1001,
      localRowLimit: 1000,
      result: { a: 1 },
    });
    assert.deepEqual(exit({ comparison: 'spark', rows: 1001, local_row_limit: 1000, result_path: `${F}/spark-sums.json` }, 1000), {
      path: 'spark',
      rows: 1001,
      localRowLimit: 1000,
      resultPath: `${F}/spark-sums.json`,
    });
  });

  it('fails closed on a Spark exit that was not asked for or does not add up', () => {
    const cases: Array<[unknown, number | undefined, string]> = [
      [
        { comparison: 'spark', rows: 1001, local_row_limit: 1000, result: {} },
        undefined,
        `${W} says it compared on Spark, which the task did not ask for (no local_row_limit was sent); the decision is not taken from it.`,
      ],
      [
        { comparison: 'spark', rows: 1000, local_row_limit: 1000, result: {} },
        1000,
        `${W} compared on Spark but reported rows 1000, not a whole number above the local row limit 1000.`,
      ],
      [{ comparison: 'spark', rows: 1001, local_row_limit: 999, result: {} }, 1000, `${W} compared on Spark with local_row_limit 999, but the task sent 1000.`],
      [
        { comparison: 'spark', rows: 1001, local_row_limit: 1000 },
        1000,
        `${W} compared on Spark but exited with neither result nor result_path; expected exactly one.`,
      ],
      [
        { comparison: 'spark', rows: 1001, local_row_limit: 1000, result: {}, result_path: `${F}/x` },
        1000,
        `${W} compared on Spark but exited with both result and result_path; expected exactly one.`,
      ],
      [
        { comparison: 'spark', rows: 1001, local_row_limit: 1000, result_path: '/Volumes/c/s/v/other/spark-sums.json' },
        1000,
        `${W} reported result_path /Volumes/c/s/v/other/spark-sums.json, which is not inside the folder it was given (${F}); the task reads and deletes only files there.`,
      ],
      [{ comparison: 'cluster', rows: 1 }, 1000, `${W} exited with comparison "cluster"; expected "local" or "spark".`],
    ];
    for (const [o, limit, message] of cases) assert.throws(() => exit(o, limit), { message });
  });
});
