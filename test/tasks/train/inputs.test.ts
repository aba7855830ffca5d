import assert from 'node:assert/strict';
import { InputError, Inputs, mapInputSource } from '../../../src/pipeline/inputs';
import { parseJobParameters, parseTrainInputs, readPipelineContext } from '../../../src/tasks/train/inputs';

function parse(inputs: Record<string, string | undefined>) {
  return parseTrainInputs(new Inputs(mapInputSource(inputs)));
}

function rejects(inputs: Record<string, string | undefined>, input: string, message: RegExp): void {
  assert.throws(
    () => parse(inputs),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
      assert.equal(e.input, input);
      assert.match(e.message, message);
      return true;
    },
  );
}

describe('train: parseTrainInputs', () => {
  it('defaults: existing job by id, wait 120 min, cancel on abort, tag "candidate", no experiments', () => {
    assert.deepEqual(parse({ jobId: '123' }), {
      target: { kind: 'existingJob', jobId: 123 },
      parameters: {},
      waitForCompletion: true,
      timeoutMs: 120 * 60_000,
      cancelRunOnAbort: true,
      tagCandidates: true,
      candidateTag: 'candidate',
      experiments: [],
    });
  });

  it('existing job by name, with every option set', () => {
    assert.deepEqual(
      parse({
        runType: 'existingJob',
        jobName: ' churn-train ',
        jobParameters: 'epochs=10\n# comment\n\nquery=a=b',
        waitForCompletion: 'false',
        timeoutMinutes: '0.5',
        cancelRunOnAbort: 'false',
        tagCandidates: 'false',
        candidateTag: 'mlops.candidate',
        experiments: '/Shared/churn\n42\n/Shared/churn',
      }),
      {
        target: { kind: 'existingJob', jobName: 'churn-train' },
        parameters: { epochs: '10', query: 'a=b' },
        waitForCompletion: false,
        timeoutMs: 30_000,
        cancelRunOnAbort: false,
        tagCandidates: false,
        candidateTag: 'mlops.candidate',
        experiments: ['/Shared/churn', '42'],
      },
    );
  });

  it('notebook runs for each cluster mode', () => {
    assert.deepEqual(parse({ runType: 'notebook', notebookPath: '/Repos/a/b/train' }).target, {
      kind: 'notebook',
      notebookPath: '/Repos/a/b/train',
      cluster: { mode: 'serverless' },
    });
    assert.deepEqual(parse({ runType: 'notebook', notebookPath: '/n', clusterMode: 'existing', existingClusterId: '0101-abc-x1' }).target, {
      kind: 'notebook',
      notebookPath: '/n',
      cluster: { mode: 'existing', clusterId: '0101-abc-x1' },
    });
    const spec = { spark_version: '15.4.x-cpu-ml-scala2.12', node_type_id: 'Standard_DS3_v2', num_workers: 2 };
    assert.deepEqual(parse({ runType: 'notebook', notebookPath: '/n', clusterMode: 'new', newClusterJson: JSON.stringify(spec) }).target, {
      kind: 'notebook',
      notebookPath: '/n',
      cluster: { mode: 'new', newCluster: spec },
    });
  });

  it('rejects jobId and jobName together or neither', () => {
    rejects({ jobId: '1', jobName: 'x' }, 'jobId', /either jobId or jobName, not both/);
    rejects({}, 'jobId', /set jobId .* or jobName/);
  });

  it('rejects a non-numeric, zero or unsafe jobId', () => {
    rejects({ jobId: 'abc' }, 'jobId', /numeric Databricks job id .* got "abc"/);
    rejects({ jobId: '12.5' }, 'jobId', /numeric/);
    rejects({ jobId: '0' }, 'jobId', /numeric/);
    rejects({ jobId: '99999999999999999999' }, 'jobId', /numeric/);
  });

  it('rejects timeoutMinutes <= 0 or not a number', () => {
    rejects({ jobId: '1', timeoutMinutes: '0' }, 'timeoutMinutes', /must be > 0/);
    rejects({ jobId: '1', timeoutMinutes: '-5' }, 'timeoutMinutes', /must be > 0/);
    rejects({ jobId: '1', timeoutMinutes: 'soon' }, 'timeoutMinutes', /must be a number/);
  });

  it('rejects malformed jobParameters (bad JSON, non-object JSON, nested values, bad lines, duplicates)', () => {
    rejects({ jobId: '1', jobParameters: '{"a": 1,' }, 'jobParameters', /looks like JSON but does not parse/);
    rejects({ jobId: '1', jobParameters: '{"a": {"b": 1}}' }, 'jobParameters', /value of "a" must be a string, number or boolean/);
    rejects({ jobId: '1', jobParameters: 'a=1\nnot a pair' }, 'jobParameters', /Line 2 of jobParameters is not key=value/);
    rejects({ jobId: '1', jobParameters: 'a=1\na=2' }, 'jobParameters', /given twice/);
    // JSON.parse keeps the last of two equal keys silently: refused like two lines, also when escaped differently.
    rejects(
      { jobId: '1', jobParameters: '{"epochs": "1", "lr": "0.1", "epochs": "2"}' },
      'jobParameters',
      /^Parameter "epochs" is given twice in jobParameters\.$/,
    );
    rejects({ jobId: '1', jobParameters: '{"a": "1", "\\u0061": "2"}' }, 'jobParameters', /^Parameter "a" is given twice in jobParameters\.$/);
    assert.deepEqual(parseJobParameters('{"a": "{\\"a\\": 1}", "b": "a"}'), { a: '{"a": 1}', b: 'a' });
    rejects({ jobId: '1', jobParameters: 'a b=1' }, 'jobParameters', /Parameter name "a b"/);
    rejects({ jobId: '1', jobParameters: '=1' }, 'jobParameters', /not key=value/);
  });

  it('parseJobParameters accepts one JSON object and stringifies numbers and booleans', () => {
    assert.deepEqual(parseJobParameters('{"epochs": 10, "full": true, "table": "main.ml.t"}'), { epochs: '10', full: 'true', table: 'main.ml.t' });
    assert.deepEqual(parseJobParameters('  \n '), {});
  });

  it('rejects bad notebook inputs: relative path, missing cluster id, bad newClusterJson', () => {
    rejects({ runType: 'notebook' }, 'notebookPath', /Input required: notebookPath/);
    rejects({ runType: 'notebook', notebookPath: 'Repos/x' }, 'notebookPath', /absolute workspace path/);
    // Same checks and wording as repoPath (Deploy), before any request.
    rejects(
      { runType: 'notebook', notebookPath: '/Repos/Staging/../../Users/someone/train' },
      'notebookPath',
      /^notebookPath must not contain "\." or "\.\." segments; got "\/Repos\/Staging\/\.\.\/\.\.\/Users\/someone\/train"\.$/,
    );
    rejects({ runType: 'notebook', notebookPath: '/Repos/./train' }, 'notebookPath', /must not contain "\." or "\.\." segments/);
    rejects({ runType: 'notebook', notebookPath: '/Repos/x\ttrain' }, 'notebookPath', /^notebookPath must not contain control characters\.$/);
    rejects({ runType: 'notebook', notebookPath: '/Repos//train' }, 'notebookPath', /empty segments/);
    rejects({ runType: 'notebook', notebookPath: '/n', clusterMode: 'existing' }, 'existingClusterId', /Input required/);
    rejects({ runType: 'notebook', notebookPath: '/n', clusterMode: 'existing', existingClusterId: 'a b' }, 'existingClusterId', /cluster id/);
    rejects({ runType: 'notebook', notebookPath: '/n', clusterMode: 'new' }, 'newClusterJson', /Input required/);
    rejects({ runType: 'notebook', notebookPath: '/n', clusterMode: 'new', newClusterJson: '{spark' }, 'newClusterJson', /not valid JSON/);
    rejects({ runType: 'notebook', notebookPath: '/n', clusterMode: 'new', newClusterJson: '[1]' }, 'newClusterJson', /one JSON object/);
    rejects(
      { runType: 'notebook', notebookPath: '/n', clusterMode: 'new', newClusterJson: '{"node_type_id": "x"}' },
      'newClusterJson',
      /missing spark_version, num_workers \(or autoscale\)/,
    );
    rejects(
      { runType: 'notebook', notebookPath: '/n', clusterMode: 'new', newClusterJson: '{"spark_version": "s", "node_type_id": "x", "num_workers": -1}' },
      'newClusterJson',
      /num_workers must be a whole number/,
    );
    rejects({ runType: 'notebook', notebookPath: '/n', clusterMode: 'gpu' }, 'clusterMode', /must be one of existing, new, serverless/);
  });

  it('rejects bad candidateTag and experiments lines, and unknown runType', () => {
    rejects({ jobId: '1', candidateTag: 'bad`tag' }, 'candidateTag', /MLflow tag key/);
    rejects({ jobId: '1', experiments: '/Shared/../Users/admin/churn' }, 'experiments', /^experiments must not contain "\." or "\.\." segments/);
    rejects(
      { jobName: 'x'.repeat(10_240) },
      'jobName',
      new RegExp(
        `^jobName is 10240 bytes; a Databricks job name is at most 4096 bytes \\(UTF-8\\), so no job has this name\\. Got "x{200}…\\(10040 more\\)"\\.$`,
      ),
    );
    rejects({ jobName: 'train\u0000' }, 'jobName', /^jobName must not contain control characters\.$/);
    rejects({ jobId: '1', experiments: 'churn' }, 'experiments', /workspace path .* or a numeric experiment id; got "churn"/);
    rejects({ runType: 'pipeline', jobId: '1' }, 'runType', /must be one of existingJob, notebook/);
    rejects({ jobId: '1', waitForCompletion: 'yes' }, 'waitForCompletion', /true or false/);
  });

  it('readPipelineContext reads the predefined variables (System.CollectionUri falling back to TeamFoundationCollectionUri)', () => {
    const ctx = readPipelineContext(
      new Inputs(
        mapInputSource(
          {},
          {
            'System.TeamFoundationCollectionUri': 'https://dev.azure.com/c/',
            'System.TeamProject': 'p',
            'Build.BuildId': '7',
            'Build.BuildNumber': '2024.1',
            'Build.SourceVersion': 'abc',
            'System.TaskInstanceId': 'tid',
            'System.JobAttempt': '2',
          },
        ),
      ),
    );
    assert.equal(ctx.collectionUri, 'https://dev.azure.com/c/');
    assert.equal(ctx.buildId, '7');
    assert.equal(ctx.jobAttempt, '2');
    assert.equal(ctx.taskInstanceId, 'tid');
    assert.equal(ctx.jobId, undefined);
  });
});
