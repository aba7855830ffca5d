import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkPipeline, checkStepInputs, isVisible, loadTasks, parseYaml, type TaskDef } from './pipeline-check';

const ROOT = path.resolve(__dirname, '..', '..', '..');
type Json = Record<string, any>;
const SAMPLE = 'samples/azure-pipelines.mlops.yml';
const sampleText = () => readFileSync(path.join(ROOT, SAMPLE), 'utf8');

describe('samples/azure-pipelines.mlops.yml', () => {
  const doc = parseYaml(sampleText()) as Json;
  const result = checkPipeline(doc);

  it('uses every input, value and output variable of the tasks correctly', () => {
    assert.deepEqual(result.problems, []);
  });

  it('runs the four tasks where the pipeline says: CI, staging (evaluate), production (promote, deploy) and serving', () => {
    assert.deepEqual(
      result.steps.map((s) => `${s.job} ${s.task} ${s.name}`),
      [
        'CI/NotebookTests DatabricksReposDeploy@1 ciRepo',
        'CI/NotebookTests DatabricksTrain@1 tests',
        'Staging/EvaluateStaging DatabricksReposDeploy@1 deploy',
        'Staging/EvaluateStaging DatabricksTrain@1 train',
        'Staging/EvaluateStaging DatabricksEvaluatePromote@1 evaluate',
        'Production/ReleaseProduction DatabricksEvaluatePromote@1 promote',
        'Production/ReleaseProduction DatabricksReposDeploy@1 deploy',
        'Serving/Canary DatabricksServingDeploy@1 canary',
        'Serving/PromoteCanary DatabricksServingDeploy@1 serve',
      ],
    );
  });

  it('checks these output variable references', () => {
    assert.deepEqual([...new Set(result.outputRefs)].sort(), [
      'CI/NotebookTests -> ciRepo.repoId',
      'Production/ReleaseProduction -> deploy.headCommitId',
      'Production/ReleaseProduction -> promote.modelVersion',
      'Production/ReleaseProduction -> promote.productionVersion',
      'Production/ReleaseProduction -> promote.promoted',
      'Serving/Canary -> canary.endpointUrl',
      'Serving/Canary -> canary.previousVersion',
      'Serving/Canary -> canary.servedVersion',
      'Serving/Canary -> canary.trafficPercent',
      'Serving/PromoteCanary -> serve.endpointUrl',
      'Serving/PromoteCanary -> serve.rolledBack',
      'Serving/PromoteCanary -> serve.servedVersion',
      'Serving/PromoteCanary -> serve.trafficPercent',
      'Staging/EvaluateStaging -> deploy.headCommitId',
      'Staging/EvaluateStaging -> evaluate.decision',
      'Staging/EvaluateStaging -> evaluate.decisionRecordPath',
      'Staging/EvaluateStaging -> evaluate.modelVersion',
      'Staging/EvaluateStaging -> evaluate.winRate',
    ]);
  });

  it('CI tests on a throwaway Git folder /Repos/CI/<repository>-<build id> and always deletes it', () => {
    assert.equal(doc.variables.ciFolder, '/Repos/CI/$(Build.Repository.Name)-$(Build.BuildId)');
    const steps = doc.stages[0].jobs[0].steps as Json[];
    const deploy = steps.find((s) => s.name === 'ciRepo')!;
    assert.equal(deploy.inputs.repoPath, '$(ciFolder)');
    assert.equal(deploy.inputs.createIfMissing, true);
    const tests = steps.find((s) => s.name === 'tests')!;
    assert.equal(tests.inputs.runType, 'notebook');
    assert.ok(tests.inputs.notebookPath.startsWith('/Workspace$(ciFolder)/'));
    const cleanup = steps[steps.length - 1];
    assert.equal(cleanup.task, 'AzureCLI@2');
    assert.equal(cleanup.condition, 'always()');
    assert.match(cleanup.inputs.inlineScript, /-X DELETE [\s\S]*\/api\/2\.0\/repos\/\$repo_id"/);
    assert.match(cleanup.inputs.inlineScript, /repo_id='\$\(ciRepo\.repoId\)'/);
  });

  /** A stage by name, so a stage added later (e.g. serving) does not move these checks. */
  const stage = (name: string): Json => (doc.stages as Json[]).find((s) => s.stage === name)!;
  const deploySteps = (stageName: string): Json[] => stage(stageName).jobs[0].strategy.runOnce.deploy.steps;

  it('CD runs as deployment jobs: staging evaluates, then production (the environment with the approval) promotes', () => {
    assert.deepEqual(
      ['Staging', 'Production', 'Serving'].map((n) => stage(n)).map((s) => [s.stage, s.dependsOn, s.jobs.map((j: Json) => [j.deployment, j.environment])]),
      [
        ['Staging', 'CI', [['EvaluateStaging', 'mlops-staging']]],
        ['Production', 'Staging', [['ReleaseProduction', 'production']]],
        [
          'Serving',
          'Production',
          [
            ['Canary', 'mlops-serving-canary'],
            ['PromoteCanary', 'mlops-serving'],
          ],
        ],
      ],
    );
    assert.match(doc.stages[0].stage, /^CI$/);
  });

  it('staging deploys the Git folder, trains on it and evaluates without promoting (action evaluate, dev.ml.churn for prod.ml.churn)', () => {
    const steps = deploySteps('Staging');
    assert.deepEqual(
      steps.filter((s) => s.task?.startsWith('Databricks')).map((s) => s.name),
      ['deploy', 'train', 'evaluate'],
    );
    const evaluate = steps.find((s) => s.name === 'evaluate')!;
    assert.equal(evaluate.inputs.action, 'evaluate');
    assert.equal(evaluate.inputs.registry, 'unityCatalog');
    assert.equal(evaluate.inputs.modelName, 'dev.ml.churn');
    assert.equal(evaluate.inputs.targetModelName, 'prod.ml.churn');
    assert.equal(steps.find((s) => s.name === 'train')!.inputs.jobParameters.trim(), 'git_commit=$(deploy.headCommitId)');
  });

  it("production consumes the evaluate stage's record: downloads its artifact, promotes exactly what it names into prod.ml.churn, then deploys the same commit", () => {
    const tasks = loadTasks();
    const evalDef = tasks.get('DatabricksEvaluatePromote@1')!.json;
    const artifactDefault = evalDef.inputs.find((i: Json) => i.name === 'artifactName').defaultValue;
    const evaluate = deploySteps('Staging').find((s) => s.name === 'evaluate')!;
    const published = evaluate.inputs.artifactName ?? artifactDefault;
    assert.equal(published, 'model-evaluation');

    const steps = deploySteps('Production');
    const downloadAt = steps.findIndex((s) => s.download === 'current');
    assert.ok(downloadAt >= 0, 'no download step');
    assert.equal(steps[downloadAt].artifact, published);
    const promoteAt = steps.findIndex((s) => s.name === 'promote');
    assert.ok(downloadAt < promoteAt, 'the record is downloaded before the promote step');
    const promote = steps[promoteAt];
    // Where `download: current` puts the artifact, and the file name the evaluate step publishes it under.
    assert.equal(promote.inputs.decisionRecord, `$(Pipeline.Workspace)/${published}/decision.json`);
    assert.equal(promote.inputs.action, 'promote');
    for (const k of ['registry', 'modelName', 'targetModelName']) assert.equal(promote.inputs[k], evaluate.inputs[k], k);
    assert.ok(steps.findIndex((s) => s.name === 'deploy') > promoteAt, 'production deploys after promoting');
    assert.equal(steps.find((s) => s.name === 'deploy')!.inputs.verifyCommit, true);

    // The job runs only for a challenger, read from the evaluate step's output.
    const prod = stage('Production');
    assert.equal(prod.variables.evaluateDecision, "$[ stageDependencies.Staging.EvaluateStaging.outputs['EvaluateStaging.evaluate.decision'] ]");
    assert.equal(prod.jobs[0].condition, "and(succeeded(), eq(variables['evaluateDecision'], 'challenger'))");
  });
});

describe('samples/azure-pipelines.mlops.yml: serving', () => {
  const doc = parseYaml(sampleText()) as Json;

  it('serves only a version Production promoted: canary first, then all traffic after the mlops-serving approval', () => {
    const stage = (doc.stages as Json[]).find((s) => s.stage === 'Serving')!;
    assert.equal(stage.variables.promoted, "$[ stageDependencies.Production.ReleaseProduction.outputs['ReleaseProduction.promote.promoted'] ]");
    assert.equal(stage.variables.championVersion, "$[ stageDependencies.Production.ReleaseProduction.outputs['ReleaseProduction.promote.modelVersion'] ]");
    const [canary, promote] = stage.jobs as Json[];
    for (const j of [canary, promote]) assert.equal(j.condition, "and(succeeded(), eq(variables['promoted'], 'true'))");
    assert.equal(promote.dependsOn, 'Canary');
    const step = (j: Json) => (j.strategy.runOnce.deploy.steps as Json[]).find((s) => s.task === 'DatabricksServingDeploy@1')!.inputs;
    assert.deepEqual([step(canary).trafficMode, step(canary).canaryPercent, step(canary).modelVersion], ['canary', '10', '$(championVersion)']);
    assert.deepEqual([step(promote).trafficMode, step(promote).modelVersion], ['promoteCanary', '$(championVersion)']);
    for (const j of [canary, promote]) assert.equal(step(j).createIfMissing, false);
  });
});

describe('pipeline check (the validator the sample and doc tests rely on)', () => {
  const tasks = loadTasks();
  const problemsOf = (yaml: string) => checkPipeline(parseYaml(yaml), tasks).problems;

  it('flags an unknown input, naming step and input', () => {
    assert.deepEqual(problemsOf('- task: DatabricksTrain@1\n  name: train\n  inputs:\n    databricksConnection: c\n    jobIdd: "1"\n'), [
      'DatabricksTrain@1 (train): unknown input jobIdd',
    ]);
  });

  it('flags a missing required input, but not one its visibleRule hides or its default fills', () => {
    assert.deepEqual(problemsOf('- task: DatabricksEvaluatePromote@1\n  inputs:\n    databricksConnection: c\n    experiments: /Shared/x\n'), [
      'DatabricksEvaluatePromote@1: required input modelName is missing',
    ]);
    // azureSubscription and workspaceUrl are required but hidden with connectionType databricks (the default).
    assert.deepEqual(problemsOf('- task: DatabricksReposDeploy@1\n  inputs:\n    databricksConnection: c\n    repoPath: /Repos/A/b\n'), []);
    assert.deepEqual(
      problemsOf(
        '- task: DatabricksReposDeploy@1\n  inputs:\n    connectionType: azureResourceManager\n    azureSubscription: arm\n    repoPath: /Repos/A/b\n',
      ),
      ['DatabricksReposDeploy@1: required input workspaceUrl is missing'],
    );
    assert.deepEqual(
      problemsOf('- task: DatabricksReposDeploy@1\n  inputs:\n    databricksConnection: c\n    mode: workspaceImport\n    workspaceFolder: /Shared/x\n'),
      ['DatabricksReposDeploy@1: required input sourceFolder is missing'],
    );
  });

  it('flags pickList, radio and boolean values that are not options, and accepts macros and editable pickers', () => {
    assert.deepEqual(
      problemsOf(
        '- task: DatabricksEvaluatePromote@1\n  inputs:\n    databricksConnection: c\n    modelName: m\n    experiments: /S/x\n    metric: f1\n    registry: hive\n    dryRun: maybe\n',
      ),
      [
        'DatabricksEvaluatePromote@1: registry: "hive" is not one of workspace, unityCatalog',
        'DatabricksEvaluatePromote@1: metric: "f1" is not one of roc_auc, average_precision, log_loss, brier, rmse, mae, r2, mape, roc_auc_ovr, roc_auc_ovr_weighted, accuracy, f1_macro',
        'DatabricksEvaluatePromote@1: dryRun: "maybe" is not true or false',
      ],
    );
    assert.deepEqual(
      problemsOf(
        '- task: DatabricksEvaluatePromote@1\n  inputs:\n    databricksConnection: c\n    modelName: any-typed-name\n    experiments: /S/x\n    metric: $(metric)\n    dryRun: true\n',
      ),
      [],
    );
  });

  it('flags an output variable a task does not declare, and a reference to an unknown step', () => {
    const steps = '- task: DatabricksTrain@1\n  name: train\n  inputs:\n    databricksConnection: c\n    jobId: "1"\n';
    assert.deepEqual(problemsOf(`${steps}- script: echo $(train.modelVersion) $(trian.runId) $(Build.BuildId) $(train.runId)\n`), [
      ': "$(train.modelVersion)": DatabricksTrain declares no output variable modelVersion',
      ': "$(trian.runId)" refers to step trian, which is not a named step of this extension in job ',
    ]);
  });

  it('follows stageDependencies references to the job and step they name', () => {
    const yaml = [
      'stages:',
      '  - stage: A',
      '    jobs:',
      '      - job: J',
      '        steps:',
      '          - task: DatabricksTrain@1',
      '            name: train',
      '            inputs: { databricksConnection: c, jobId: "1" }',
      '  - stage: B',
      '    variables:',
      "      ok: $[ stageDependencies.A.J.outputs['train.runId'] ]",
      "      bad: $[ stageDependencies.A.J.outputs['train.nope'] ]",
      "      gone: $[ stageDependencies.A.K.outputs['train.runId'] ]",
      '    jobs:',
      '      - job: K',
      '        steps: [{ script: echo }]',
    ].join('\n');
    assert.deepEqual(problemsOf(yaml), [
      `A/J: "stageDependencies.A.J.outputs['train.nope']": DatabricksTrain declares no output variable nope`,
      `"stageDependencies.A.K.outputs['train.runId']" refers to job A/K, which does not exist`,
    ]);
  });

  it('accepts an alias of an input', () => {
    const def: TaskDef = { folder: 'X', json: { name: 'X', inputs: [{ name: 'jobId', aliases: ['job'], type: 'string', required: true }] } };
    assert.deepEqual(checkStepInputs({ task: 'X@1', inputs: { job: '1' }, job: '' }, def), []);
    assert.deepEqual(checkStepInputs({ task: 'X@1', inputs: {}, job: '' }, def), ['X@1: required input jobId is missing']);
  });

  it('evaluates visibleRules with =, !=, && and ||, case-insensitively', () => {
    assert.equal(isVisible('a = x && b != y', { a: 'X', b: 'z' }), true);
    assert.equal(isVisible('a = x && b != y', { a: 'x', b: 'Y' }), false);
    assert.equal(isVisible('a = x || b = y', { a: 'q', b: 'y' }), true);
    assert.equal(isVisible(undefined, {}), true);
  });
});
