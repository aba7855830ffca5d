import assert from 'node:assert/strict';
import { CancelledError } from '../../../src/databricks/errors';
import { JobsClient } from '../../../src/databricks/jobs';
import type { Emulator } from '../../../emulator';
import { NotebookError } from '../../../emulator/routes/jobs';
import type { PipelineContext, TrainInputs } from '../../../src/tasks/train/inputs';
import { run, runIdempotencyToken, truncateTrace } from '../../../src/tasks/train/run';
import { InProcessHarness } from '../../helpers/task-harness';
import { recordingHost } from './fakes';

const PIPELINE: PipelineContext = {
  collectionUri: 'https://dev.azure.com/contoso/',
  teamProject: 'mlops',
  buildId: '4242',
  buildNumber: '20261126.3',
  sourceVersion: '0123456789abcdef0123456789abcdef01234567',
  repositoryName: 'churn-model',
  jobAttempt: '1',
  taskInstanceId: '0c1d2e3f-4a5b-4c6d-8e7f-8a9b0c1d2e3f',
  jobId: '5d3e8d4c-1c7b-5b8f-9a1c-2f3b4c5d6e7f',
};

function inputs(over: Partial<TrainInputs> = {}): TrainInputs {
  return {
    target: { kind: 'existingJob', jobId: 0 },
    parameters: {},
    waitForCompletion: true,
    timeoutMs: 120 * 60_000,
    cancelRunOnAbort: true,
    tagCandidates: false,
    candidateTag: 'candidate',
    experiments: [],
    ...over,
  };
}

describe('train: run(inputs, deps) in process against the emulator with emulated time', () => {
  let emu: Emulator;
  let clock: ReturnType<Emulator['linkedClock']>;
  let jobs: JobsClient;
  let jobId: number;
  const harness = new InProcessHarness({ retry: { random: () => 0.5 } });

  beforeEach(async () => {
    emu = await harness.start();
    clock = harness.clock;
    jobs = new JobsClient(harness.api(), { clock });
    emu.jobs.notebooks.register('/Repos/ml/churn/train', () => ({ exitValue: 'model=churn v7' }));
    jobId = emu.jobs.createJob({ name: 'churn-train', tasks: [{ task_key: 'train', notebook_task: { notebook_path: '/Repos/ml/churn/train' } }] });
  });
  afterEach(() => harness.stop());

  it('an hour-long run: polls 2 s, x1.5, capped at 30 s; < 150 requests; each state logged once; outputs set', async () => {
    emu.jobs.durations = { queuedMs: 0, pendingMs: 60_000, runningMs: 3_480_000, terminatingMs: 60_000 };
    const host = recordingHost();
    const outcome = await run(inputs({ target: { kind: 'existingJob', jobId } }), { jobs, host, clock, pipeline: PIPELINE });
    assert.equal(outcome.result, 'Succeeded');
    assert.deepEqual(clock.sleeps.slice(0, 9), [2000, 3000, 4500, 6750, 10125, 15187.5, 22781.25, 30000, 30000]);
    assert.ok(clock.sleeps.every((s) => s <= 30_000));
    const total = emu.requests.length;
    assert.ok(total < 150, `${total} requests for one emulated hour`);
    const runId = Number(host.outputs.runId);
    // The run page link comes first, then one line per state change.
    const runLines = host.lines.filter((l) => l.startsWith('Run page:') || l.startsWith(`Run ${runId}:`));
    assert.equal(runLines[0], `Run page: ${emu.url}/?o=${emu.workspaceId}#job/${jobId}/run/${runId}`);
    assert.deepEqual(
      runLines.slice(1).map((l) => l.replace(/ after .*$/, '')),
      [`Run ${runId}: PENDING - Waiting for cluster`, `Run ${runId}: RUNNING`, `Run ${runId}: TERMINATING`, `Run ${runId}: TERMINATED/SUCCESS`],
    );
    assert.deepEqual(host.outputs, {
      runId: String(runId),
      runPageUrl: `${emu.url}/?o=${emu.workspaceId}#job/${jobId}/run/${runId}`,
      resultState: 'SUCCESS',
      notebookOutput: 'model=churn v7',
    });
    assert.equal(host.progress.at(-1)?.percent, 100);
    assert.deepEqual(
      emu.callsTo('POST', '/api/2.2/jobs/run-now').map((c) => Object.keys(c.body).sort()),
      [['idempotency_token', 'job_id']],
    );
  });

  it('is idempotent per step and job attempt: a retry reattaches, a new JobAttempt or changed inputs start a fresh run', async () => {
    emu.jobs.durations = { queuedMs: 0, pendingMs: 1_000, runningMs: 1_000, terminatingMs: 1_000 };
    const i = inputs({ target: { kind: 'existingJob', jobId } });
    const first = recordingHost();
    await run(i, { jobs, host: first, clock, pipeline: PIPELINE });
    const retry = recordingHost();
    await run(i, { jobs, host: retry, clock, pipeline: PIPELINE });
    assert.equal(retry.outputs.runId, first.outputs.runId);
    assert.equal(emu.jobs.runs.size, 1);
    const attempt2 = recordingHost();
    await run(i, { jobs, host: attempt2, clock, pipeline: { ...PIPELINE, jobAttempt: '2' } });
    assert.notEqual(attempt2.outputs.runId, first.outputs.runId);
    const otherParams = recordingHost();
    await run({ ...i, parameters: { epochs: '3' } }, { jobs, host: otherParams, clock, pipeline: PIPELINE });
    assert.equal(emu.jobs.runs.size, 3);
    const tokens = emu.callsTo('POST', '/api/2.2/jobs/run-now').map((c) => c.body.idempotency_token);
    assert.equal(tokens[0], tokens[1]);
    assert.equal(new Set(tokens).size, 3);
    assert.equal(tokens[0], runIdempotencyToken(PIPELINE, { job_id: jobId }).token);
    assert.match(tokens[0], /^[0-9a-f]{64}$/);
  });

  it('without pipeline identity the token is random (never reused across invocations)', () => {
    const a = runIdempotencyToken({}, { job_id: 1 });
    const b = runIdempotencyToken({}, { job_id: 1 });
    assert.equal(a.stable, false);
    assert.notEqual(a.token, b.token);
    const s = runIdempotencyToken({ buildId: '1', jobId: 'j' }, { job_id: 1 });
    assert.equal(s.stable, true);
    assert.equal(s.token, runIdempotencyToken({ buildId: '1', jobId: 'j' }, { job_id: 1 }).token);
  });

  it('timeout: cancels the run and fails with the last state seen; resultState TIMEDOUT', async () => {
    emu.jobs.durations = { queuedMs: 0, pendingMs: 1_000, runningMs: 10_000_000, terminatingMs: 1_000 };
    const host = recordingHost();
    const outcome = await run(inputs({ target: { kind: 'existingJob', jobId }, timeoutMs: 10 * 60_000 }), { jobs, host, clock, pipeline: PIPELINE });
    const runId = Number(host.outputs.runId);
    assert.deepEqual(outcome, {
      result: 'Failed',
      message: `Databricks run ${runId} did not finish within 10m 0s; last state RUNNING. The run was cancelled.`,
    });
    assert.equal(host.outputs.resultState, 'TIMEDOUT');
    assert.deepEqual(
      emu.jobs.cancels.map((c) => c.runId),
      [runId],
    );
    assert.ok(host.lines.includes(`Cancelling Databricks run ${runId} (timeoutMinutes (10 min) elapsed).`));
  });

  it('failure: shows the failing task error and the end of its trace; outputs still set', async () => {
    const trace = Array.from({ length: 200 }, (_, n) => `  frame ${n}`).join('\n') + '\nValueError: label column "churned" missing';
    emu.jobs.notebooks.register('/Repos/ml/churn/train', () => {
      throw new NotebookError('ValueError: label column "churned" missing', trace);
    });
    emu.jobs.durations = { queuedMs: 0, pendingMs: 1_000, runningMs: 1_000, terminatingMs: 1_000 };
    const host = recordingHost();
    const outcome = await run(inputs({ target: { kind: 'existingJob', jobId } }), { jobs, host, clock, pipeline: PIPELINE });
    const runId = Number(host.outputs.runId);
    assert.equal(outcome.result, 'Failed');
    assert.equal(
      outcome.message,
      `Databricks run ${runId} ended TERMINATED/FAILED (task train: ValueError: label column "churned" missing). ${emu.url}/?o=${emu.workspaceId}#job/${jobId}/run/${runId}`,
    );
    const taskRunId = emu.jobs.runs.get(runId)!.tasks[0].runId;
    assert.ok(host.lines.includes(`ERROR Task train (run ${taskRunId}) TERMINATED/FAILED: ValueError: label column "churned" missing`));
    assert.ok(host.lines.includes('  ... (141 earlier lines omitted)'));
    assert.ok(host.lines.includes('    frame 199'));
    assert.ok(!host.lines.includes('    frame 0'));
    assert.equal(host.outputs.resultState, 'FAILED');
    assert.equal(host.outputs.notebookOutput, undefined);
  });

  it('truncateTrace keeps short traces whole and cuts long ones from the start', () => {
    assert.equal(truncateTrace('a\nb'), 'a\nb');
    const long = 'x'.repeat(20_000);
    const cut = truncateTrace(long);
    assert.ok(cut.length <= 8_000);
  });

  it('job parameters not defined on the job fail before any write', async () => {
    const withParams = emu.jobs.createJob({
      name: 'p',
      parameters: [{ name: 'epochs', default: '1' }],
      tasks: [{ task_key: 't', notebook_task: { notebook_path: '/x' } }],
    });
    const host = recordingHost();
    await assert.rejects(
      run(inputs({ target: { kind: 'existingJob', jobId: withParams }, parameters: { epoch: '2' } }), { jobs, host, clock, pipeline: PIPELINE }),
      new RegExp(`jobParameters has "epoch", which job ${withParams} does not define. Its job parameters are: epochs.`),
    );
    assert.deepEqual(emu.writes(), []);
  });

  it('pipeline cancel: the registered cleanup cancels the Databricks run', async () => {
    emu.jobs.durations = { queuedMs: 0, pendingMs: 1_000, runningMs: 10_000_000, terminatingMs: 1_000 };
    const host = recordingHost();
    const p = run(inputs({ target: { kind: 'existingJob', jobId } }), { jobs, host, clock, pipeline: PIPELINE });
    while (emu.callsTo('GET', '/api/2.2/jobs/runs/get').length < 3) await new Promise((r) => setImmediate(r));
    host.controller.abort(new Error('cancelled by SIGINT'));
    const settled = p.then(
      () => assert.fail('run() should have been cancelled'),
      (e: unknown) => e,
    );
    for (const c of host.cancelCleanups) await c();
    assert.ok((await settled) instanceof CancelledError);
    const runId = Number(host.outputs.runId);
    assert.deepEqual(
      emu.jobs.cancels.map((c) => c.runId),
      [runId],
    );
    assert.ok(host.lines.includes(`Cancelling Databricks run ${runId} (the pipeline was cancelled).`));
  });

  describe('pipeline cancel around the start request', () => {
    const notebookRun = (over: Partial<TrainInputs> = {}) =>
      inputs({ target: { kind: 'notebook', notebookPath: '/Repos/ml/churn/train', cluster: { mode: 'serverless' } }, ...over });

    it('already cancelled before the start: nothing is sent and no cleanup is registered', async () => {
      const host = recordingHost();
      host.controller.abort(new Error('cancelled by SIGINT'));
      await assert.rejects(run(notebookRun(), { jobs, host, clock, pipeline: PIPELINE }), CancelledError);
      assert.deepEqual(emu.requests, []);
      assert.deepEqual(host.cancelCleanups, []);
    });

    it('cancelled while runs/submit is in flight and the submit fails: no cancel, the warning names the run and the token', async () => {
      emu.faults.add({
        method: 'POST',
        path: '/api/2.2/jobs/runs/submit',
        kind: 'status',
        status: 400,
        errorCode: 'INVALID_PARAMETER_VALUE',
        message: 'Notebook not found.',
      });
      const host = recordingHost();
      const p = run(notebookRun(), { jobs, host, clock, pipeline: PIPELINE });
      const failed = p.then(
        () => assert.fail('run() should have failed'),
        (e: unknown) => e,
      );
      host.controller.abort(new Error('cancelled by SIGINT'));
      assert.equal(host.cancelCleanups.length, 1);
      for (const c of host.cancelCleanups) await c();
      assert.match(String(await failed), /Notebook not found\./);
      const submit = emu.callsTo('POST', '/api/2.2/jobs/runs/submit');
      assert.equal(submit.length, 1);
      const token = submit[0].body.idempotency_token;
      assert.match(token, /^[0-9a-f]{64}$/);
      assert.deepEqual(
        host.lines.filter((l) => l.startsWith('WARN ')),
        [
          'WARN The pipeline was cancelled while jobs/runs/submit was in flight and failed (Notebook not found.), so the Databricks run it may have started is not known and was not cancelled. ' +
            `If it started, it is the one-time run "Train churn-model 20261126.3" created with idempotency token ${token}: check the workspace and cancel it there.`,
        ],
      );
      assert.deepEqual(emu.callsTo('POST', '/api/2.2/jobs/runs/cancel'), []);
    });

    it('waitForCompletion false: the start stops with the pipeline and no cleanup is registered (the task does not own the run)', async () => {
      const host = recordingHost();
      const p = run(notebookRun({ waitForCompletion: false }), { jobs, host, clock, pipeline: PIPELINE });
      host.controller.abort(new Error('cancelled by SIGINT'));
      await assert.rejects(p, CancelledError);
      assert.deepEqual(host.cancelCleanups, []);
      assert.deepEqual(emu.callsTo('POST', '/api/2.2/jobs/runs/cancel'), []);
    });
  });

  it('multi-task job: logs the current task with each state change, reports task progress, returns the leaf task output', async () => {
    emu.jobs.durations = { queuedMs: 0, pendingMs: 10_000, runningMs: 60_000, terminatingMs: 10_000 };
    emu.jobs.notebooks.register('/p/prep', () => ({ exitValue: 'prepared' }));
    emu.jobs.notebooks.register('/p/fit', () => ({ exitValue: 'fitted' }));
    const multi = emu.jobs.createJob({
      name: 'two-step',
      tasks: [
        { task_key: 'prep', notebook_task: { notebook_path: '/p/prep' } },
        { task_key: 'fit', depends_on: [{ task_key: 'prep' }], notebook_task: { notebook_path: '/p/fit' } },
      ],
    });
    const host = recordingHost();
    const outcome = await run(inputs({ target: { kind: 'existingJob', jobId: multi } }), {
      jobs,
      host,
      clock,
      pipeline: PIPELINE,
      poll: { initialIntervalMs: 5_000, maxIntervalMs: 5_000 },
    });
    assert.equal(outcome.result, 'Succeeded');
    const runId = Number(host.outputs.runId);
    const states = host.lines.filter((l) => l.startsWith(`Run ${runId}:`)).map((l) => l.replace(/^Run \d+: /, '').replace(/ after .*$/, ''));
    assert.deepEqual(states, [
      'PENDING (task prep: PENDING) - Waiting for cluster',
      'RUNNING (task prep: RUNNING)',
      'RUNNING (task prep: TERMINATING)',
      'RUNNING (task fit: PENDING)',
      'RUNNING (task fit: RUNNING)',
      'TERMINATING (task fit: TERMINATING)',
      'TERMINATED/SUCCESS',
    ]);
    assert.equal(host.outputs.notebookOutput, 'fitted');
    assert.ok(host.lines.includes('Notebook output of task fit: fitted'));
    // The percent counts finished tasks (never a share of timeoutMinutes); the operation says the state and the time spent.
    const distinct = [...new Set(host.progress.map((p) => `${p.percent}% ${p.operation.replace(/, [\dm ]+s elapsed$/, '')}`))];
    assert.deepEqual(distinct, [
      '0% PENDING, 0 of 2 tasks done',
      '0% RUNNING, 0 of 2 tasks done',
      '50% RUNNING, 1 of 2 tasks done',
      '50% TERMINATING, 1 of 2 tasks done',
      '100% TERMINATED/SUCCESS, 2 of 2 tasks done',
    ]);
    assert.match(host.progress.at(-1)!.operation, /^TERMINATED\/SUCCESS, 2 of 2 tasks done, 2m 4\ds elapsed$/);
    const fitRunId = emu.jobs.runs.get(runId)!.tasks[1].runId;
    assert.deepEqual(
      emu.callsTo('GET', '/api/2.2/jobs/runs/get-output').map((c) => c.query.run_id),
      [String(fitRunId)],
    );
  });

  it('waitForCompletion false: starts the run, sets runId, runPageUrl and the current state, and returns', async () => {
    const host = recordingHost();
    const outcome = await run(inputs({ target: { kind: 'existingJob', jobId }, waitForCompletion: false }), { jobs, host, clock, pipeline: PIPELINE });
    const runId = Number(host.outputs.runId);
    assert.deepEqual(outcome, { result: 'Succeeded', message: `Started Databricks run ${runId} (not waiting for it).` });
    assert.deepEqual(host.outputs, { runId: String(runId), runPageUrl: `${emu.url}/?o=${emu.workspaceId}#job/${jobId}/run/${runId}`, resultState: 'PENDING' });
    assert.equal(emu.callsTo('GET', '/api/2.2/jobs/runs/get').length, 1);
    assert.deepEqual(host.cancelCleanups, []);
  });

  it('an unknown jobId fails with a clear message before any write', async () => {
    const host = recordingHost();
    await assert.rejects(
      run(inputs({ target: { kind: 'existingJob', jobId: 777 } }), { jobs, host, clock, pipeline: PIPELINE }),
      /^Error: Job 777 does not exist in this workspace or this identity cannot see it \(Job 777 does not exist\.\)\. Check jobId\.$/,
    );
    assert.deepEqual(emu.writes(), []);
  });
});
