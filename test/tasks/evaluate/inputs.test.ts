import assert from 'node:assert/strict';
import path from 'node:path';
import { DEFAULT_NOTEBOOK_PATH } from '../../../src/tasks/evaluate/inputs';
import { evaluateInputsParser } from '../../helpers/evaluate-inputs';

const VARS = {
  'Build.BuildId': '4242',
  'Build.BuildNumber': '20261126.3',
  'System.JobAttempt': '2',
  'System.TaskInstanceId': 'task-1',
  'System.DefaultWorkingDirectory': '/agent/_work/1/s',
};

const BASE = {
  // The workspace registry, explicitly: the default registry is unityCatalog.
  registry: 'workspace',
  modelName: 'churn',
  experiments: '/Shared/churn\n# comment\n1234',
  evaluationTable: 'main.ml.churn_eval',
  outputPath: '/Volumes/main/ml/scratch/eval/',
};

const { parse, rejects } = evaluateInputsParser(BASE, VARS);

describe('evaluate: parseEvaluateInputs(inputs)', () => {
  it('applies every default for a workspace-registry, scoring-notebook evaluation', () => {
    const got = parse();
    assert.deepEqual(got, {
      modelName: 'churn',
      registry: { kind: 'workspace', stage: 'Production' },
      experiments: ['/Shared/churn', '1234'],
      candidateTag: 'candidate',
      modelArtifactPath: 'model',
      predictionsSource: 'scoringNotebook',
      labelColumn: 'label',
      scoring: {
        evaluationTable: 'main.ml.churn_eval',
        evaluationQuery: undefined,
        maxRows: 0,
        outputPath: '/Volumes/main/ml/scratch/eval',
        notebookPath: DEFAULT_NOTEBOOK_PATH,
        timeoutMs: 3_600_000,
        cluster: { mode: 'serverless' },
      },
      predictionsFile: undefined,
      registration: undefined,
      decision: {
        problemType: 'binaryClassification',
        metric: 'roc_auc',
        method: 'auto',
        resamples: 1000,
        seed: 4242,
        winRate: 0.95,
        minDelta: 0.001,
        minMetric: undefined,
        confidence: 0.95,
        guardrails: [],
        sliceColumns: [],
        minSliceRows: 1000,
        sliceTolerance: 0,
      },
      dryRun: false,
      resetCandidateTags: true,
      readyTimeoutMs: 300_000,
      build: {
        buildId: '4242',
        buildNumber: '20261126.3',
        jobAttempt: '2',
        taskInstanceId: 'task-1',
        collectionUri: undefined,
        teamProject: undefined,
        definitionId: undefined,
        sourceVersion: undefined,
        sourceBranch: undefined,
        repositoryName: undefined,
      },
    });
  });

  it('reads a Unity Catalog model with a custom alias and every decision input', () => {
    const got = parse({
      registry: 'unityCatalog',
      modelName: 'main.ml.churn',
      championAlias: 'prod_v2',
      metric: 'log_loss',
      resamples: '2000',
      seed: '7',
      winRate: '1',
      minDelta: '0.001',
      minMetric: '0.6',
      confidence: '0.9',
      dryRun: 'true',
      resetCandidateTags: 'false',
    });
    assert.deepEqual(got.registry, { kind: 'unityCatalog', alias: 'prod_v2' });
    assert.deepEqual(got.decision, {
      problemType: 'binaryClassification',
      metric: 'log_loss',
      method: 'auto',
      resamples: 2000,
      seed: 7,
      winRate: 1,
      minDelta: 0.001,
      minMetric: 0.6,
      confidence: 0.9,
      guardrails: [],
      sliceColumns: [],
      minSliceRows: 1000,
      sliceTolerance: 0,
    });
    assert.equal(got.dryRun, true);
    assert.equal(got.resetCandidateTags, false);
    // The registration notebook goes next to the scoring notebook, on its compute, bounded by its timeout.
    assert.deepEqual(got.registration, { notebookPath: '/Shared/mlops-pipelines/register_model', cluster: { mode: 'serverless' }, timeoutMs: 3_600_000 });
  });

  it('Unity Catalog registration: scoring notebook folder and compute, or the compute inputs alone for a scoring job or a file', () => {
    const uc = { registry: 'unityCatalog', modelName: 'main.ml.churn' };
    const nb = parse({
      ...uc,
      scoringNotebookPath: '/Users/me/eval/score',
      clusterMode: 'existing',
      existingClusterId: '0123-456789-abcdefgh',
      scoringTimeoutMinutes: '20',
    });
    assert.deepEqual(nb.registration, {
      notebookPath: '/Users/me/eval/register_model',
      cluster: { mode: 'existing', clusterId: '0123-456789-abcdefgh' },
      timeoutMs: 1_200_000,
    });
    assert.equal(parse({ ...uc, scoringNotebookPath: '/score' }).registration?.notebookPath, '/register_model');
    const job = parse({
      ...uc,
      predictionsSource: 'scoringJob',
      scoringJobId: '987',
      clusterMode: 'new',
      newClusterJson: '{"spark_version": "15.4.x-cpu-ml-scala2.12", "node_type_id": "Standard_DS3_v2", "num_workers": 1}',
    });
    assert.deepEqual(job.registration, {
      notebookPath: '/Shared/mlops-pipelines/register_model',
      cluster: { mode: 'new', newCluster: { spark_version: '15.4.x-cpu-ml-scala2.12', node_type_id: 'Standard_DS3_v2', num_workers: 1 } },
      timeoutMs: 3_600_000,
    });
    assert.equal(job.scoring?.cluster, undefined);
    const file = parse({
      ...uc,
      predictionsSource: 'file',
      predictionsFile: 'p.arrow',
      evaluationTable: undefined,
      outputPath: undefined,
      scoringTimeoutMinutes: '5',
    });
    assert.deepEqual(file.registration, { notebookPath: '/Shared/mlops-pipelines/register_model', cluster: { mode: 'serverless' }, timeoutMs: 300_000 });
    rejects({ ...uc, predictionsSource: 'file', predictionsFile: 'p.arrow', clusterMode: 'existing' }, 'existingClusterId', /Input required/);
    rejects({ ...uc, predictionsSource: 'scoringJob', scoringJobId: '1', scoringNotebookPath: 'x' }, 'scoringNotebookPath', /absolute workspace path/);
    rejects({ ...uc, scoringNotebookPath: '/Shared/register_model' }, 'scoringNotebookPath', /must not be named register_model/);
    // The workspace registry registers over REST: no registration notebook, no compute read for a file.
    assert.equal(parse({ predictionsSource: 'file', predictionsFile: 'p.arrow', clusterMode: 'existing' }).registration, undefined);
  });

  it('names the registry model correctly for each registry', () => {
    rejects({ registry: 'unityCatalog', modelName: 'churn' }, 'modelName', /three-level Unity Catalog name/);
    rejects({ registry: 'unityCatalog', modelName: 'main.churn' }, 'modelName', /three-level/);
    rejects({ modelName: 'main.ml.churn' }, 'modelName', /looks like a Unity Catalog name.*set registry to unityCatalog/);
    rejects({ modelName: "chu'rn" }, 'modelName', /quotes/);
    rejects({ modelName: undefined }, 'modelName', /Input required: modelName/);
    rejects({ registry: 'mlflow' }, 'registry', /must be one of workspace, unityCatalog/);
  });

  it('rejects reserved or malformed aliases and unknown stages', () => {
    rejects({ registry: 'unityCatalog', modelName: 'a.b.c', championAlias: 'latest' }, 'championAlias', /reserved/);
    rejects({ registry: 'unityCatalog', modelName: 'a.b.c', championAlias: 'v3' }, 'championAlias', /reserved/);
    rejects({ registry: 'unityCatalog', modelName: 'a.b.c', championAlias: 'my alias' }, 'championAlias', /letters, digits/);
    rejects({ productionStage: 'Archived' }, 'productionStage', /Production, Staging/);
  });

  it('requires experiments as ids or absolute paths, without duplicates', () => {
    rejects({ experiments: undefined }, 'experiments', /Input required: experiments/);
    rejects({ experiments: 'Shared/churn' }, 'experiments', /experiment id \(digits\) or an absolute workspace path/);
    rejects({ experiments: '/Shared/../x' }, 'experiments', /^experiments must not contain "\." or "\.\." segments; got "\/Shared\/\.\.\/x"\.$/);
    rejects({ experiments: '/Shared/./x' }, 'experiments', /must not contain "\." or "\.\." segments/);
    rejects({ experiments: '/Shared/churn\u0007' }, 'experiments', /^experiments must not contain control characters\.$/);
    rejects({ experiments: '12\n12' }, 'experiments', /same experiment twice/);
    rejects({ candidateTag: 'bad`tag' }, 'candidateTag', /MLflow tag key/);
    rejects({ modelArtifactPath: '../model' }, 'modelArtifactPath', /relative artifact path/);
  });

  it('validates the decision rule bounds', () => {
    rejects({ winRate: '0' }, 'winRate', /must be > 0 and <= 1/);
    rejects({ winRate: '1.01' }, 'winRate', /must be > 0 and <= 1/);
    rejects({ resamples: '0' }, 'resamples', />= 1 and <= 100000/);
    rejects({ resamples: '100001' }, 'resamples', />= 1 and <= 100000/);
    rejects({ resamples: '10.5' }, 'resamples', /whole number/);
    rejects({ confidence: '1' }, 'confidence', /below 1/);
    rejects({ confidence: '0' }, 'confidence', /> 0/);
    rejects({ minMetric: 'NaN' }, 'minMetric', /must be a number/);
    rejects({ minMetric: 'Infinity' }, 'minMetric', /must be a number/);
    rejects({ minMetric: '1.5' }, 'minMetric', /between 0 and 1/);
    rejects({ minDelta: '-0.01' }, 'minDelta', />= 0/);
    rejects({ method: 'delong', metric: 'average_precision' }, 'method', /delong compares ROC AUC only/);
    rejects({ metric: 'accuracy' }, 'metric', /roc_auc, average_precision, log_loss, brier/);
    rejects({ seed: '-1' }, 'seed', />= 0/);
    assert.equal(parse({ method: 'delong' }).decision.method, 'delong');
    assert.equal(parse({ metric: 'log_loss', minMetric: '2.5' }).decision.minMetric, 2.5);
  });

  it('method: auto by default, auto/bootstrap/delong in any case, anything else refused naming the three', () => {
    assert.equal(parse().decision.method, 'auto');
    assert.equal(parse({ method: 'AUTO' }).decision.method, 'auto');
    assert.equal(parse({ method: 'bootstrap' }).decision.method, 'bootstrap');
    assert.equal(parse({ method: 'Delong' }).decision.method, 'delong');
    rejects({ method: 'exact' }, 'method', 'Input method must be one of auto, bootstrap, delong; got "exact".');
  });

  it('method auto is accepted wherever bootstrap is (every metric and problem type, guardrails, slices), with the same decision inputs', () => {
    const cases: Array<Record<string, string>> = [
      { metric: 'average_precision' },
      { metric: 'log_loss', guardrails: 'brier 0.01', winRate: '0.9' },
      { metric: 'brier', sliceColumns: 'region', minSliceRows: '50' },
      { problemType: 'regression', metric: 'rmse', guardrails: 'mae 0.5', winRate: '0.9' },
      { problemType: 'multiclass', metric: 'accuracy' },
      { metric: 'brier', bootstrap: 'keyedPoisson', rowKeyColumn: 'id', resamples: '77', seed: '3' },
    ];
    for (const c of cases) {
      const auto = parse({ ...c, method: 'auto' }).decision;
      const bootstrap = parse({ ...c, method: 'bootstrap' }).decision;
      assert.equal(auto.method, 'auto');
      assert.deepEqual({ ...auto, method: 'bootstrap' }, bootstrap, JSON.stringify(c));
    }
    // The checks of method bootstrap apply to auto unchanged.
    rejects({ method: 'auto', bootstrap: 'keyedPoisson' }, 'rowKeyColumn', /bootstrap keyedPoisson keys every row's resample weights by its row key/);
    rejects(
      { method: 'auto', bootstrap: 'keyedPoisson', rowKeyColumn: 'id', problemType: 'regression', metric: 'r2' },
      'bootstrap',
      'bootstrap keyedPoisson supports binary classification, and regression on rmse or mae, without guardrails or slices; use bootstrap multinomial for those.',
    );
    rejects({ method: 'auto', resamples: '0' }, 'resamples', />= 1 and <= 100000/);
  });

  it('takes the seed from Build.BuildId and refuses a non-numeric build id without a seed', () => {
    assert.equal(parse({}, { ...VARS, 'Build.BuildId': '99' }).decision.seed, 99);
    assert.throws(() => parse({}, { ...VARS, 'Build.BuildId': 'abc' }), /seed is not set and Build.BuildId is not a number/);
  });

  it('requires exactly one of evaluationTable and evaluationQuery for Databricks scoring', () => {
    rejects({ evaluationTable: undefined }, 'evaluationTable', /exactly one of evaluationTable and evaluationQuery/);
    rejects({ evaluationQuery: 'select * from t' }, 'evaluationQuery', /exactly one/);
    rejects({ evaluationTable: 'main.ml.t; drop table x' }, 'evaluationTable', /table name/);
    const q = parse({ evaluationTable: undefined, evaluationQuery: 'SELECT * FROM main.ml.t WHERE d > "2026"' });
    assert.equal(q.scoring?.evaluationQuery, 'SELECT * FROM main.ml.t WHERE d > "2026"');
  });

  it('accepts only /Volumes or dbfs:/ output folders without dot segments', () => {
    assert.equal(
      parse({ outputPath: 'dbfs:/tmp/eval', clusterMode: 'existing', existingClusterId: '0123-456789-abcdefgh' }).scoring?.outputPath,
      'dbfs:/tmp/eval',
    );
    // Serverless (the default compute) has limited DBFS access: a dbfs:/ folder is refused, naming both inputs.
    rejects(
      { outputPath: 'dbfs:/tmp/eval' },
      'outputPath',
      /^outputPath dbfs:\/tmp\/eval is a dbfs:\/ folder, which serverless compute \(clusterMode serverless, the default\) cannot write to: use a Unity Catalog volume folder .* or set clusterMode to existing or new\.$/,
    );
    rejects({ outputPath: 'dbfs:/tmp/eval', clusterMode: 'serverless' }, 'outputPath', /clusterMode serverless/);
    // A user's scoring job runs on its own compute: not refused there.
    assert.equal(parse({ outputPath: 'dbfs:/tmp/eval', predictionsSource: 'scoringJob', scoringJobId: '7' }).scoring?.outputPath, 'dbfs:/tmp/eval');
    rejects({ outputPath: '/tmp/eval' }, 'outputPath', /Unity Catalog volume folder/);
    rejects({ outputPath: '/Volumes/main/ml' }, 'outputPath', /Unity Catalog volume folder/);
    rejects({ outputPath: 's3://bucket/x' }, 'outputPath', /Unity Catalog volume folder/);
    rejects(
      { outputPath: '/Volumes/main/ml/v/../../x' },
      'outputPath',
      /^outputPath must not contain "\." or "\.\." segments; got "\/Volumes\/main\/ml\/v\/\.\.\/\.\.\/x"\.$/,
    );
    rejects({ outputPath: 'dbfs:/a/./b' }, 'outputPath', /must not contain/);
    rejects({ outputPath: undefined }, 'outputPath', /Input required: outputPath/);
  });

  it('reads the compute inputs for the scoring notebook', () => {
    assert.deepEqual(parse({ clusterMode: 'existing', existingClusterId: '0123-456789-abcdefgh' }).scoring?.cluster, {
      mode: 'existing',
      clusterId: '0123-456789-abcdefgh',
    });
    const spec = { spark_version: '15.4.x-cpu-ml-scala2.12', node_type_id: 'Standard_DS3_v2', num_workers: 1 };
    assert.deepEqual(parse({ clusterMode: 'new', newClusterJson: JSON.stringify(spec) }).scoring?.cluster, { mode: 'new', newCluster: spec });
    rejects({ clusterMode: 'existing' }, 'existingClusterId', /Input required/);
    rejects({ clusterMode: 'existing', existingClusterId: 'a b' }, 'existingClusterId', /cluster id/);
    rejects({ clusterMode: 'new', newClusterJson: '{' }, 'newClusterJson', /not valid JSON/);
    rejects({ clusterMode: 'new', newClusterJson: '[]' }, 'newClusterJson', /JSON object/);
    rejects({ clusterMode: 'new', newClusterJson: '{"num_workers": 1}' }, 'newClusterJson', /spark_version/);
    rejects({ scoringNotebookPath: 'Shared/x' }, 'scoringNotebookPath', /absolute workspace path/);
    rejects({ scoringNotebookPath: '/Shared/x.py' }, 'scoringNotebookPath', /without \.\. or extension/);
  });

  it('needs a job id for scoringJob, and only the file for file', () => {
    rejects({ predictionsSource: 'scoringJob' }, 'scoringJobId', /Input required: scoringJobId/);
    rejects({ predictionsSource: 'scoringJob', scoringJobId: '12x' }, 'scoringJobId', /must be a number/);
    const job = parse({ predictionsSource: 'scoringJob', scoringJobId: '987' });
    assert.equal(job.scoring?.jobId, 987);
    assert.equal(job.scoring?.cluster, undefined);

    rejects({ predictionsSource: 'file' }, 'predictionsFile', /Input required: predictionsFile/);
    const file = parse({ predictionsSource: 'file', predictionsFile: 'out/preds.arrow', evaluationTable: undefined, outputPath: undefined });
    assert.equal(file.predictionsFile, path.resolve('/agent/_work/1/s', 'out/preds.arrow'));
    assert.equal(file.scoring, undefined);
  });

  it('rejects non-boolean switches and bad label columns', () => {
    rejects({ dryRun: 'yes' }, 'dryRun', /true or false/);
    rejects({ labelColumn: 'my label' }, 'labelColumn', /column name/);
    rejects({ readyTimeoutSeconds: '0' }, 'readyTimeoutSeconds', />= 1/);
    rejects({ scoringTimeoutMinutes: '2000' }, 'scoringTimeoutMinutes', /<= 1440/);
  });
});
