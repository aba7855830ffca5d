/**
 * The bundled Train task run as the agent runs it (child process, INPUT_/ENDPOINT_ environment, ##vso
 * commands), against the workspace emulator in this process. Runs last well under a second of real time:
 * short emulated durations and the DATABRICKS_MLOPS_POLL_INTERVAL_MS test hook.
 */
import assert from 'node:assert/strict';
import type { Emulator } from '../../../emulator';
import { NotebookError, type NotebookContext } from '../../../emulator/routes/jobs';
import { DEFAULT_VARIABLES, type AgentRunResult } from '../../helpers/agent';
import { assertSecretNotShown, TaskHarness, type TaskRunOptions } from '../../helpers/task-harness';

const CONN = '3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const NOTEBOOK = '/Repos/Staging/churn-model/notebooks/train';
const FAST = { DATABRICKS_MLOPS_POLL_INTERVAL_MS: '50' };

describe('Train task (bundled, as the agent runs it) against the emulator', function () {
  this.timeout(60_000);
  let emu: Emulator;
  let jobId: number;
  const harness = new TaskHarness({ task: 'DatabricksTrainV1', connection: CONN, env: FAST, killAfterMs: 30_000 });

  beforeEach(async () => {
    emu = await harness.start();
    emu.jobs.durations = { queuedMs: 0, pendingMs: 100, runningMs: 300, terminatingMs: 100 };
    emu.jobs.notebooks.register(NOTEBOOK, (ctx) => ({ exitValue: `trained epochs=${ctx.params.epochs ?? '-'}` }));
    jobId = emu.jobs.createJob({ name: 'churn-train', tasks: [{ task_key: 'train', notebook_task: { notebook_path: NOTEBOOK } }] });
  });
  afterEach(() => harness.stop());

  function train(inputs: Record<string, string | undefined>, extra: TaskRunOptions = {}): Promise<AgentRunResult> {
    return harness.run({ ...extra, inputs });
  }

  function runPage(runId: number, job = jobId): string {
    return `${emu.url}/?o=${emu.workspaceId}#job/${job}/run/${runId}`;
  }

  function onlyRunId(): number {
    assert.equal(emu.jobs.runs.size, 1);
    return [...emu.jobs.runs.keys()][0];
  }

  const assertClean = (r: AgentRunResult) => assertSecretNotShown(r);

  it('runs an existing job by id: run page first, each state once, notebook output, exact outputs', async () => {
    const r = await train({ jobId: String(jobId), jobParameters: 'epochs=12', tagCandidates: 'false' });
    const runId = onlyRunId();
    assert.match(r.complete!.message, new RegExp(`^Databricks run ${runId} succeeded in \\d+s\\.$`));
    assert.equal(r.complete!.result, 'Succeeded');
    assert.deepEqual(r.outputs, { runId: String(runId), runPageUrl: runPage(runId), resultState: 'SUCCESS', notebookOutput: 'trained epochs=12' });
    const mine = r.logLines.filter((l) => l.startsWith('Run page:') || l.startsWith(`Run ${runId}:`)).map((l) => l.replace(/ after \d+s\.$/, ''));
    assert.equal(mine[0], `Run page: ${runPage(runId)}`);
    // Every state is logged once, in order (a fast poll may or may not catch the short TERMINATING).
    const states = mine.slice(1);
    assert.equal(new Set(states).size, states.length);
    assert.equal(states[0], `Run ${runId}: PENDING - Waiting for cluster`);
    assert.ok(states.includes(`Run ${runId}: RUNNING`));
    assert.equal(states.at(-1), `Run ${runId}: TERMINATED/SUCCESS`);
    assert.deepEqual(
      emu.callsTo('POST', '/api/2.2/jobs/run-now').map((c) => ({ ...c.body, idempotency_token: typeof c.body.idempotency_token })),
      [{ job_id: jobId, notebook_params: { epochs: '12' }, idempotency_token: 'string' }],
    );
    // The timeline shows the state and the time spent; the percent counts finished tasks, never a share of timeoutMinutes.
    const progress = r.commands.filter((c) => c.name === 'task.setprogress');
    assert.ok(progress.length >= 2);
    const shown = progress.map((c) => `${c.props.value}% ${c.message.replace(/\d+s elapsed$/, 'Ns elapsed')}`);
    assert.equal(shown.at(-1), '100% TERMINATED/SUCCESS, Ns elapsed');
    for (const line of shown) assert.match(line, /^(0% (QUEUED|PENDING|RUNNING|TERMINATING)|100% TERMINATED\/SUCCESS), Ns elapsed$/);
    assert.equal(r.logLines[0], `Workspace: ${emu.url} (personal access token)`);
    assert.deepEqual(r.errors, []);
    assertClean(r);
  });

  it('resolves jobName through jobs/list and sends job_parameters to a job that defines them', async () => {
    const named = emu.jobs.createJob({
      name: 'Churn Nightly',
      parameters: [{ name: 'epochs', default: '1' }],
      tasks: [{ task_key: 'train', notebook_task: { notebook_path: NOTEBOOK } }],
    });
    const r = await train({ jobName: 'churn nightly', jobParameters: '{"epochs": 7}', tagCandidates: 'false' });
    assert.equal(r.complete!.result, 'Succeeded', r.stdout);
    assert.deepEqual(
      emu.callsTo('GET', '/api/2.2/jobs/list').map((c) => c.query),
      [{ limit: '100', name: 'churn nightly' }],
    );
    const body = emu.callsTo('POST', '/api/2.2/jobs/run-now')[0].body;
    assert.equal(body.job_id, named);
    assert.deepEqual(body.job_parameters, { epochs: '7' });
    assert.equal(body.notebook_params, undefined);
    assert.equal(r.outputs.notebookOutput, 'trained epochs=7');
    assert.ok(r.logLines.includes(`Job "churn nightly" is job ${named}.`));
  });

  it('an ambiguous jobName fails listing the matches, and starts nothing', async () => {
    const twin = emu.jobs.createJob({ name: 'CHURN-TRAIN', tasks: [{ task_key: 'train', notebook_task: { notebook_path: NOTEBOOK } }] });
    const r = await train({ jobName: 'churn-train' });
    assert.deepEqual(r.complete, {
      result: 'Failed',
      message: `jobName "churn-train" matches 2 jobs: ${jobId} ("churn-train"), ${twin} ("CHURN-TRAIN"). Set jobId to pick one.`,
    });
    assert.deepEqual(emu.writes(), []);
  });

  it('an unknown jobName fails listing similar names', async () => {
    emu.jobs.createJob({ name: 'churn-train-gpu', tasks: [] });
    const r = await train({ jobName: 'churn' });
    assert.equal(r.complete!.result, 'Failed');
    assert.match(r.complete!.message, /^No job is named "churn"\. Similar job names: "churn-train" \(\d+\), "churn-train-gpu" \(\d+\)\. Check jobName/);
    assert.deepEqual(emu.writes(), []);
  });

  describe('one-time notebook runs send the exact runs/submit body', () => {
    const cases: Array<[string, Record<string, string>, Record<string, unknown>]> = [
      ['serverless', { clusterMode: 'serverless' }, {}],
      ['existing', { clusterMode: 'existing', existingClusterId: '0101-123456-abcdefgh' }, { existing_cluster_id: '0101-123456-abcdefgh' }],
      [
        'new',
        { clusterMode: 'new', newClusterJson: '{"spark_version": "15.4.x-cpu-ml-scala2.12", "node_type_id": "Standard_DS3_v2", "num_workers": 2}' },
        { new_cluster: { spark_version: '15.4.x-cpu-ml-scala2.12', node_type_id: 'Standard_DS3_v2', num_workers: 2 } },
      ],
    ];
    for (const [mode, extra, compute] of cases) {
      it(`clusterMode ${mode}`, async () => {
        const r = await train({ runType: 'notebook', notebookPath: NOTEBOOK, jobParameters: 'epochs=3', tagCandidates: 'false', ...extra });
        assert.equal(r.complete!.result, 'Succeeded', r.stdout);
        const submits = emu.callsTo('POST', '/api/2.2/jobs/runs/submit');
        assert.equal(submits.length, 1);
        const { idempotency_token, ...body } = submits[0].body;
        assert.match(idempotency_token, /^[0-9a-f]{64}$/);
        assert.deepEqual(body, {
          run_name: `Train ${DEFAULT_VARIABLES['Build.Repository.Name']} ${DEFAULT_VARIABLES['Build.BuildNumber']}`,
          tasks: [{ task_key: 'train', notebook_task: { notebook_path: NOTEBOOK, source: 'WORKSPACE', base_parameters: { epochs: '3' } }, ...compute }],
        });
        const runId = onlyRunId();
        const hiddenJob = emu.jobs.runs.get(runId)!.jobId;
        assert.deepEqual(r.outputs, {
          runId: String(runId),
          runPageUrl: runPage(runId, hiddenJob),
          resultState: 'SUCCESS',
          notebookOutput: 'trained epochs=3',
        });
      });
    }
  });

  it('a failing notebook: error and trace shown, outputs set, step failed', async () => {
    emu.jobs.notebooks.register(NOTEBOOK, () => {
      throw new NotebookError(
        'KeyError: churned',
        'Traceback (most recent call last):\n  File "train.py", line 12, in <module>\n    y = df["churned"]\nKeyError: churned',
      );
    });
    const r = await train({ jobId: String(jobId) });
    const runId = onlyRunId();
    const taskRunId = emu.jobs.runs.get(runId)!.tasks[0].runId;
    assert.deepEqual(r.complete, {
      result: 'Failed',
      message: `Databricks run ${runId} ended TERMINATED/FAILED (task train: KeyError: churned). ${runPage(runId)}`,
    });
    assert.ok(r.errors.includes(`Task train (run ${taskRunId}) TERMINATED/FAILED: KeyError: churned`), r.errors.join('\n'));
    assert.ok(r.logLines.includes('  Traceback (most recent call last):'));
    assert.ok(r.logLines.includes('      y = df["churned"]'));
    assert.deepEqual(r.outputs, { runId: String(runId), runPageUrl: runPage(runId), resultState: 'FAILED' });
    assert.deepEqual(
      emu.callsTo('GET', '/api/2.2/jobs/runs/get-output').map((c) => c.query.run_id),
      [String(taskRunId)],
    );
  });

  it('timeout: the run is cancelled and the step fails with the last state seen', async () => {
    emu.jobs.durations.runningMs = 600_000;
    const r = await train({ jobId: String(jobId), timeoutMinutes: '0.02' });
    const runId = onlyRunId();
    assert.deepEqual(r.complete, { result: 'Failed', message: `Databricks run ${runId} did not finish within 1s; last state RUNNING. The run was cancelled.` });
    assert.deepEqual(
      emu.jobs.cancels.map((c) => c.runId),
      [runId],
    );
    assert.deepEqual(
      emu.callsTo('POST', '/api/2.2/jobs/runs/cancel').map((c) => c.body),
      [{ run_id: runId }],
    );
    assert.equal(r.outputs.resultState, 'TIMEDOUT');
    assert.equal(r.outputs.runId, String(runId));
  });

  it('SIGINT from the agent: the Databricks run is cancelled within the 7.5 s window and the step reports Canceled', async () => {
    emu.jobs.durations.runningMs = 600_000;
    let sentAt = 0;
    let sent = false;
    const r = await train(
      { jobId: String(jobId) },
      {
        onLine: (line, child) => {
          if (!sent && / RUNNING after /.test(line)) {
            sent = true;
            sentAt = Date.now();
            child.kill('SIGINT');
          }
        },
      },
    );
    assert.ok(sent, r.stdout);
    const runId = onlyRunId();
    assert.deepEqual(
      emu.jobs.cancels.map((c) => c.runId),
      [runId],
    );
    const cancelReq = emu.callsTo('POST', '/api/2.2/jobs/runs/cancel');
    assert.equal(cancelReq.length, 1);
    assert.ok(cancelReq[0].at - sentAt < 7_500, `cancel arrived ${cancelReq[0].at - sentAt} ms after SIGINT`);
    assert.ok(r.logLines.includes('Cancellation requested (SIGINT).'), r.stdout);
    assert.ok(r.logLines.includes(`Cancelling Databricks run ${runId} (the pipeline was cancelled).`));
    assert.ok(r.logLines.includes(`Cancel requested for run ${runId}; Databricks stops it asynchronously.`));
    assert.equal(r.complete?.result, 'Cancelled');
  });

  it('with cancelRunOnAbort false, SIGINT leaves the Databricks run alone', async () => {
    emu.jobs.durations.runningMs = 600_000;
    let sent = false;
    const r = await train(
      { jobId: String(jobId), cancelRunOnAbort: 'false' },
      {
        onLine: (line, child) => {
          if (!sent && / RUNNING after /.test(line)) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      },
    );
    assert.ok(sent);
    assert.deepEqual(emu.jobs.cancels, []);
    assert.equal(r.complete?.result, 'Cancelled');
  });

  it('survives a 429/503 storm while polling', async () => {
    emu.jobs.durations.runningMs = 1_000;
    emu.faults.add({ method: 'GET', path: '/api/2.2/jobs/runs/get', kind: 'status', status: 503, times: 6, afterCalls: 2 });
    emu.faults.add({ method: 'GET', path: '/api/2.2/jobs/runs/get', kind: 'status', status: 429, retryAfterSeconds: 0, times: 6, afterCalls: 8 });
    const r = await train({ jobId: String(jobId), tagCandidates: 'false' });
    assert.equal(r.complete!.result, 'Succeeded', r.stdout);
    assert.equal(emu.callsTo('GET', '/api/2.2/jobs/runs/get').filter((c) => c.fault).length, 12);
    assert.equal(r.outputs.resultState, 'SUCCESS');
    assert.equal(emu.callsTo('POST', '/api/2.2/jobs/run-now').length, 1);
  });

  it('a retry of the same step reattaches to the same Databricks run; a new job attempt starts a fresh one', async () => {
    const first = await train({ jobId: String(jobId), tagCandidates: 'false' });
    const again = await train({ jobId: String(jobId), tagCandidates: 'false' });
    assert.equal(again.outputs.runId, first.outputs.runId);
    assert.equal(emu.jobs.runs.size, 1);
    const attempt2 = await train({ jobId: String(jobId), tagCandidates: 'false' }, { variables: { 'System.JobAttempt': '2' } });
    assert.notEqual(attempt2.outputs.runId, first.outputs.runId);
    assert.equal(emu.jobs.runs.size, 2);
  });

  describe('candidate tagging', () => {
    let expId: string;
    let otherRunId: string;
    let untaggedRunId: string;

    beforeEach(() => {
      expId = emu.mlflow.createExperiment('/Shared/churn');
      // A run from an earlier job run and a run logged by hand: neither may be touched.
      otherRunId = emu.mlflow.createRun({ experimentId: expId, tags: { 'mlflow.databricks.jobID': String(jobId), 'mlflow.databricks.jobRunID': '12345' } }).info
        .run_id;
      untaggedRunId = emu.mlflow.createRun({ experimentId: expId, tags: { note: 'manual' } }).info.run_id;
    });

    function logRunsFromNotebook(perTask: (ctx: NotebookContext) => Array<Record<string, string>>): string[] {
      const created: string[] = [];
      emu.jobs.notebooks.register(NOTEBOOK, (ctx) => {
        for (const tags of perTask(ctx)) created.push(emu.mlflow.createRun({ experimentId: expId, tags }).info.run_id);
        return { exitValue: 'ok' };
      });
      return created;
    }

    it('tags exactly the MLflow runs this job run created, with the build trace tags', async () => {
      const created = logRunsFromNotebook((ctx) => [
        { 'mlflow.databricks.jobID': String(ctx.jobId), 'mlflow.databricks.jobRunID': String(ctx.taskRunId) },
        { 'mlflow.databricks.jobID': String(ctx.jobId), 'mlflow.databricks.jobRunID': String(ctx.runId) },
      ]);
      const r = await train({ jobId: String(jobId), experiments: '/Shared/churn' });
      assert.equal(r.complete!.result, 'Succeeded', r.stdout);
      const runId = onlyRunId();
      assert.equal(created.length, 2);
      assert.deepEqual(r.outputs.candidateRunIds.split(',').sort(), [...created].sort());
      for (const id of created) {
        const tags = emu.mlflow.runTags(id);
        assert.deepEqual(Object.fromEntries(Object.entries(tags).filter(([k]) => !k.startsWith('mlflow.'))), {
          candidate: 'true',
          'azureDevOps.buildId': DEFAULT_VARIABLES['Build.BuildId'],
          'azureDevOps.buildNumber': DEFAULT_VARIABLES['Build.BuildNumber'],
          'azureDevOps.sourceVersion': DEFAULT_VARIABLES['Build.SourceVersion'],
          'azureDevOps.sourceBranch': DEFAULT_VARIABLES['Build.SourceBranch'],
          'azureDevOps.repository': DEFAULT_VARIABLES['Build.Repository.Name'],
          'azureDevOps.collectionUri': DEFAULT_VARIABLES['System.TeamFoundationCollectionUri'],
          'azureDevOps.teamProject': DEFAULT_VARIABLES['System.TeamProject'],
          'azureDevOps.definitionId': DEFAULT_VARIABLES['System.DefinitionId'],
          'databricks.jobRunId': String(runId),
        });
      }
      assert.deepEqual(emu.mlflow.runTags(otherRunId), { 'mlflow.databricks.jobID': String(jobId), 'mlflow.databricks.jobRunID': '12345' });
      assert.deepEqual(emu.mlflow.runTags(untaggedRunId), { note: 'manual' });
      const setTags = emu.callsTo('POST', '/api/2.0/mlflow/runs/set-tag');
      assert.equal(setTags.length, 20);
      assert.ok(setTags.every((c) => created.includes(c.body.run_id)));
    });

    it('finding no candidate is a warning and SucceededWithIssues, not a silent pass', async () => {
      logRunsFromNotebook(() => []);
      const r = await train({ jobId: String(jobId), experiments: '/Shared/churn', candidateTag: 'cand' });
      const runId = onlyRunId();
      assert.equal(r.complete!.result, 'SucceededWithIssues');
      assert.match(r.complete!.message, /Issues: no candidate runs found\.$/);
      // Ours, then the one task-lib's setResult(SucceededWithIssues) adds with the completion message.
      assert.deepEqual(r.warnings.slice(1), [r.complete!.message]);
      assert.match(r.warnings[0], new RegExp(`^No MLflow run created by Databricks run ${runId} was found in /Shared/churn`));
      assert.equal(r.outputs.candidateRunIds, '');
      assert.deepEqual(emu.callsTo('POST', '/api/2.0/mlflow/runs/set-tag'), []);
    });

    it('a missing experiment fails before the run starts', async () => {
      const r = await train({ jobId: String(jobId), experiments: '/Shared/nope' });
      assert.equal(r.complete!.result, 'Failed');
      assert.match(r.complete!.message, /MLflow experiment "\/Shared\/nope" does not exist/);
      assert.deepEqual(emu.writes(), []);
    });
  });

  describe('bad inputs fail before any request', () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['jobId and jobName both', { jobId: '1', jobName: 'x' }, /^Set either jobId or jobName, not both/],
      ['neither jobId nor jobName', {}, /^With runType existingJob, set jobId/],
      ['non-numeric jobId', { jobId: 'churn' }, /^Input jobId must be the numeric Databricks job id/],
      ['malformed jobParameters JSON', { jobId: '1', jobParameters: '{"epochs": }' }, /^Input jobParameters looks like JSON but does not parse/],
      [
        'bad newClusterJson',
        { runType: 'notebook', notebookPath: NOTEBOOK, clusterMode: 'new', newClusterJson: '{"num_workers": 1}' },
        /^Input newClusterJson is missing spark_version/,
      ],
      ['timeoutMinutes 0', { jobId: '1', timeoutMinutes: '0' }, /^Input timeoutMinutes must be > 0/],
      ['timeoutMinutes negative', { jobId: '1', timeoutMinutes: '-1' }, /^Input timeoutMinutes must be > 0/],
    ];
    for (const [name, inputs, message] of cases) {
      it(name, async () => {
        const r = await train(inputs);
        assert.equal(r.complete?.result, 'Failed');
        assert.match(r.complete!.message, message);
        assert.deepEqual(emu.requests, []);
        assert.deepEqual(emu.writes(), []);
        assert.deepEqual(r.outputs, {});
      });
    }
  });
});
