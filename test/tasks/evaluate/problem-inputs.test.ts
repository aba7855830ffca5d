/**
 * Issue 20's inputs of Evaluate & Promote: problemType, the metric it allows, guardrails, slice columns,
 * minSliceRows and sliceTolerance. Every bad value or combination is an InputError naming the input, with
 * the exact message (the bundled test in problem-task.test.ts shows it fails before any request).
 */
import assert from 'node:assert/strict';
import { evaluateInputsParser } from '../../helpers/evaluate-inputs';

const VARS = { 'Build.BuildId': '4242', 'System.TaskInstanceId': 'task-1' };
const BASE = {
  registry: 'workspace',
  modelName: 'churn',
  experiments: '/Shared/churn',
  evaluationTable: 'main.ml.churn_eval',
  outputPath: '/Volumes/main/ml/scratch/eval',
};

const { parse, rejects } = evaluateInputsParser(BASE, VARS);

describe('evaluate: problemType, metric, guardrails and slices inputs (issue 20)', () => {
  it('reads a regression evaluation with guardrails and slices', () => {
    const got = parse({
      problemType: 'regression',
      metric: 'rmse',
      guardrails: '# keep the bias in check\nmae 0.5\n\n  mape   0.02  \n',
      sliceColumns: 'region, plan\ncountry',
      minSliceRows: '200',
      sliceTolerance: '0.1',
    });
    assert.deepEqual(got.decision, {
      problemType: 'regression',
      metric: 'rmse',
      method: 'auto',
      resamples: 1000,
      seed: 4242,
      winRate: 0.95,
      // Regression metrics are in the label's units: no default minimum improvement.
      minDelta: 0,
      minMetric: undefined,
      confidence: 0.95,
      guardrails: [
        { metric: 'mae', maxWorsening: 0.5 },
        { metric: 'mape', maxWorsening: 0.02 },
      ],
      sliceColumns: ['region', 'plan', 'country'],
      minSliceRows: 200,
      sliceTolerance: 0.1,
    });
  });

  it('reads a multiclass evaluation; log_loss belongs to binary and multiclass alike', () => {
    const got = parse({ problemType: 'multiclass', metric: 'f1_macro', guardrails: 'log_loss 0.01\naccuracy 0' });
    assert.equal(got.decision.problemType, 'multiclass');
    assert.equal(got.decision.metric, 'f1_macro');
    assert.deepEqual(got.decision.guardrails, [
      { metric: 'log_loss', maxWorsening: 0.01 },
      { metric: 'accuracy', maxWorsening: 0 },
    ]);
    assert.equal(parse({ problemType: 'multiclass', metric: 'log_loss' }).decision.minDelta, 0.001);
    assert.equal(parse({ metric: 'log_loss', guardrails: 'roc_auc 0.002' }).decision.guardrails[0].metric, 'roc_auc');
  });

  it('refuses a metric of another problem type, naming the allowed ones', () => {
    rejects(
      { problemType: 'regression' },
      'metric',
      'metric roc_auc is not a regression metric (roc_auc is a binary classification metric); with problemType regression set metric to one of rmse, mae, r2, mape.',
    );
    rejects(
      { problemType: 'multiclass', metric: 'brier' },
      'metric',
      'metric brier is not a multiclass classification metric (brier is a binary classification metric); with problemType multiclass set metric to one of log_loss, roc_auc_ovr, roc_auc_ovr_weighted, accuracy, f1_macro.',
    );
    rejects(
      { metric: 'rmse' },
      'metric',
      'metric rmse is not a binary classification metric (rmse is a regression metric); with problemType binaryClassification set metric to one of roc_auc, average_precision, log_loss, brier.',
    );
    rejects(
      { metric: 'auc' },
      'metric',
      'metric auc is not a binary classification metric; with problemType binaryClassification set metric to one of roc_auc, average_precision, log_loss, brier.',
    );
    rejects({ problemType: 'ranking' }, 'problemType', 'Input problemType must be one of binaryClassification, regression, multiclass; got "ranking".');
  });

  it('refuses DeLong outside binary classification and minMetric outside the metric range', () => {
    rejects(
      { problemType: 'regression', metric: 'rmse', method: 'delong' },
      'method',
      'method delong is a test for binary classification (ROC AUC); use method bootstrap for regression.',
    );
    rejects({ problemType: 'regression', metric: 'rmse', minMetric: '-1' }, 'minMetric', 'minMetric for rmse must be at least 0; got -1.');
    rejects({ problemType: 'regression', metric: 'r2', minMetric: '1.5' }, 'minMetric', 'minMetric for r2 must be at most 1; got 1.5.');
    rejects({ problemType: 'multiclass', metric: 'accuracy', minMetric: '2' }, 'minMetric', 'minMetric for accuracy must be between 0 and 1; got 2.');
    assert.equal(parse({ problemType: 'regression', metric: 'r2', minMetric: '-0.5' }).decision.minMetric, -0.5);
    assert.equal(parse({ problemType: 'regression', metric: 'mae', minMetric: '12.5' }).decision.minMetric, 12.5);
  });

  it('refuses malformed guardrail lines, naming the line', () => {
    const syntax = (line: string, n = 1) =>
      `Each line of guardrails must be "<metric> <max worsening>", e.g. "log_loss 0.01"; guardrails line ${n} is "${line}".`;
    rejects({ guardrails: 'brier' }, 'guardrails', syntax('brier'));
    rejects({ guardrails: 'brier 0.1 0.2' }, 'guardrails', syntax('brier 0.1 0.2'));
    rejects({ guardrails: '\nbrier=0.1' }, 'guardrails', syntax('brier=0.1', 2));
    rejects({ guardrails: 'brier ten' }, 'guardrails', syntax('brier ten'));
  });

  it('refuses a guardrail on the primary metric, of another problem type, negative, or twice', () => {
    rejects(
      { guardrails: 'roc_auc 0.01' },
      'guardrails',
      'guardrails line 1: roc_auc is the primary metric (input metric), which the gate already judges; a guardrail is another metric: average_precision, log_loss, brier.',
    );
    rejects(
      { guardrails: 'brier 0.01\nrmse 0.5' },
      'guardrails',
      'guardrails line 2: rmse is not a binary classification metric (rmse is a regression metric); use one of roc_auc, average_precision, log_loss, brier.',
    );
    rejects(
      { problemType: 'multiclass', metric: 'accuracy', guardrails: 'brier 0.01' },
      'guardrails',
      'guardrails line 1: brier is not a multiclass classification metric (brier is a binary classification metric); use one of log_loss, roc_auc_ovr, roc_auc_ovr_weighted, accuracy, f1_macro.',
    );
    rejects(
      { guardrails: 'brier -0.01' },
      'guardrails',
      'guardrails line 1: the max worsening of brier must be a finite number, 0 or more (in brier units); got -0.01.',
    );
    rejects({ guardrails: 'brier 0.01\n# again\nbrier 0.02' }, 'guardrails', 'guardrails lists brier twice (lines 1 and 3); keep one line per metric.');
  });

  it('refuses guardrails with winRate 1 (no candidate could pass them)', () => {
    rejects(
      { guardrails: 'brier 0.01', winRate: '1' },
      'guardrails',
      'guardrails need winRate below 1: a guardrail passes only when fewer than (1 - winRate) of the resamples worsen its metric by more than its allowance, ' +
        'which no candidate can do at winRate 1. Lower winRate (e.g. 0.95) or remove the guardrails.',
    );
    assert.equal(parse({ winRate: '1' }).decision.winRate, 1);
  });

  it('refuses bad slice columns and slice bounds', () => {
    rejects({ sliceColumns: 'region,region' }, 'sliceColumns', 'sliceColumns lists region twice.');
    rejects({ sliceColumns: 'region\nplan, region' }, 'sliceColumns', 'sliceColumns lists region twice.');
    rejects(
      { sliceColumns: 'label' },
      'sliceColumns',
      'sliceColumns: label is the label column (labelColumn); a slice column is another column of the evaluation data, such as region.',
    );
    rejects(
      { sliceColumns: 'churned', labelColumn: 'churned' },
      'sliceColumns',
      'sliceColumns: churned is the label column (labelColumn); a slice column is another column of the evaluation data, such as region.',
    );
    rejects(
      { sliceColumns: 'production' },
      'sliceColumns',
      "sliceColumns: production is the name of a model's column in the predictions (production, run_<run id>); rename the slice column.",
    );
    rejects(
      { sliceColumns: 'my region' },
      'sliceColumns',
      'Each slice column in sliceColumns must be a column name of letters, digits and _; got "my region".',
    );
    rejects({ minSliceRows: '0' }, 'minSliceRows', 'Input minSliceRows must be >= 1 and <= 1000000000; got 0.');
    rejects({ minSliceRows: '10.5' }, 'minSliceRows', 'Input minSliceRows must be a whole number, got "10.5".');
    rejects({ sliceTolerance: '-0.001' }, 'sliceTolerance', 'Input sliceTolerance must be >= 0; got -0.001.');
    assert.deepEqual(parse({ sliceColumns: ' , \n' }).decision.sliceColumns, []);
    // Not a comment: a name that cannot be a column.
    rejects({ sliceColumns: '# region' }, 'sliceColumns', 'Each slice column in sliceColumns must be a column name of letters, digits and _; got "# region".');
  });
});
