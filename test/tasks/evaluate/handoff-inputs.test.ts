import assert from 'node:assert/strict';
import { InputError, Inputs, mapInputSource } from '../../../src/pipeline/inputs';
import { parsePromoteInputs } from '../../../src/tasks/evaluate/handoff';
import { parseEvaluateInputs } from '../../../src/tasks/evaluate/inputs';

const VARS = { 'Build.BuildId': '4242', 'System.DefaultWorkingDirectory': '/agent/_work/1/s' };
const EVAL = { modelName: 'dev.ml.churn', experiments: '/Shared/churn', evaluationTable: 'dev.ml.churn_eval', outputPath: '/Volumes/dev/ml/scratch' };
const inputs = (values: Record<string, string | undefined>) => new Inputs(mapInputSource(values, VARS));

function rejects(fn: () => unknown, input: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.input, input);
    assert.match(e.message, message);
    return true;
  });
}

describe('evaluate: the action inputs (handoff.ts) and the default registry', () => {
  it('the default registry is unityCatalog: a three-level name needs no registry input; a workspace name is told to set registry', () => {
    assert.deepEqual(parseEvaluateInputs(inputs(EVAL)).registry, { kind: 'unityCatalog', alias: 'champion' });
    rejects(
      () => parseEvaluateInputs(inputs({ ...EVAL, modelName: 'churn' })),
      'modelName',
      /^modelName must be a three-level Unity Catalog name <catalog>\.<schema>\.<model> when registry is unityCatalog; got "churn"\.$/,
    );
  });

  it('evaluateAndPromote (the default) carries no hand-off; evaluate carries its defaults', () => {
    const plain = parseEvaluateInputs(inputs(EVAL));
    assert.equal(plain.action, undefined);
    assert.equal(plain.handoff, undefined);
    const ev = parseEvaluateInputs(inputs({ ...EVAL, action: 'evaluate' }));
    assert.equal(ev.action, 'evaluate');
    assert.deepEqual(ev.handoff, { challengerAlias: 'challenger', artifactName: 'model-evaluation', targetModelName: undefined });
    assert.deepEqual(
      parseEvaluateInputs(inputs({ ...EVAL, action: 'evaluate', targetModelName: 'prod.ml.churn', challengerAlias: 'next', artifactName: 'eval_1' })).handoff,
      {
        challengerAlias: 'next',
        artifactName: 'eval_1',
        targetModelName: 'prod.ml.churn',
      },
    );
  });

  it('rejects a bad action, challenger alias, artifact name or target, naming the input', () => {
    rejects(
      () => parseEvaluateInputs(inputs({ ...EVAL, action: 'deploy' })),
      'action',
      /^Input action must be one of evaluateAndPromote, evaluate, promote; got "deploy"\.$/,
    );
    rejects(
      () => parseEvaluateInputs(inputs({ ...EVAL, action: 'evaluate', challengerAlias: 'champion' })),
      'challengerAlias',
      /must differ from championAlias \(champion\)/,
    );
    rejects(() => parseEvaluateInputs(inputs({ ...EVAL, action: 'evaluate', challengerAlias: 'v2' })), 'challengerAlias', /reserved by MLflow/);
    rejects(
      () => parseEvaluateInputs(inputs({ ...EVAL, action: 'evaluate', artifactName: '../x' })),
      'artifactName',
      /^artifactName must be letters, digits, _ \. -/,
    );
    rejects(
      () => parseEvaluateInputs(inputs({ ...EVAL, action: 'evaluate', targetModelName: 'prod.churn' })),
      'targetModelName',
      /three-level Unity Catalog name/,
    );
    rejects(
      () => parseEvaluateInputs(inputs({ ...EVAL, action: 'evaluate', targetModelName: 'dev.ml.churn' })),
      'targetModelName',
      /is the model the evaluation registers into/,
    );
    rejects(
      () => parseEvaluateInputs(inputs({ ...EVAL, registry: 'workspace', modelName: 'churn', action: 'evaluate', targetModelName: 'prod.ml.churn' })),
      'targetModelName',
      /needs registry unityCatalog/,
    );
  });

  it('promote needs only the model, the record and its age (no experiments or scoring inputs)', () => {
    const p = parsePromoteInputs(inputs({ action: 'promote', modelName: 'dev.ml.churn', decisionRecord: 'model-evaluation/decision.json' }));
    assert.equal(p.decisionRecord, '/agent/_work/1/s/model-evaluation/decision.json');
    assert.equal(p.maxDecisionAgeMs, 72 * 3_600_000);
    assert.equal(p.targetModelName, undefined);
    assert.equal(p.registration, undefined);
    const cross = parsePromoteInputs(
      inputs({
        action: 'promote',
        modelName: 'dev.ml.churn',
        targetModelName: 'prod.ml.churn',
        decisionRecord: '/p/decision.json',
        maxDecisionAgeHours: '0.5',
      }),
    );
    assert.equal(cross.maxDecisionAgeMs, 1_800_000);
    assert.equal(cross.registration?.notebookPath, '/Shared/mlops-pipelines/register_model');
    rejects(() => parsePromoteInputs(inputs({ action: 'promote', modelName: 'dev.ml.churn' })), 'decisionRecord', /^Input required: decisionRecord/);
    rejects(
      () => parsePromoteInputs(inputs({ action: 'promote', modelName: 'dev.ml.churn', decisionRecord: 'x', maxDecisionAgeHours: '0' })),
      'maxDecisionAgeHours',
      /must be > 0/,
    );
  });
});
