import assert from 'node:assert/strict';
import { patTokenProvider } from '../../src/databricks/auth';
import { CancelledError, TimeoutError } from '../../src/databricks/errors';
import { createApiClient } from '../../src/databricks/http';
import { failingTaskRuns, idempotencyToken, isRunSuccessful, JobsClient, Run } from '../../src/databricks/jobs';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../../emulator';
import { NotebookError, RunInternalError } from '../../emulator/routes/jobs';
import { rejectsWith } from '../helpers/rejects';

const MULTI_TASK_MESSAGE =
  'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.';

/** The emulator clock is real time plus an offset, so instants taken in the test trail the server's by a few ms. */
function near(actual: number | undefined, expected: number, what: string, toleranceMs = 250): void {
  assert.ok(
    actual !== undefined && actual >= expected && actual - expected <= toleranceMs,
    `${what}: ${actual} not within ${toleranceMs} ms after ${expected}`,
  );
}

describe('JobsClient against the Jobs emulator', () => {
  let emu: Emulator;
  let jobs: JobsClient;
  let clock: ReturnType<Emulator['linkedClock']>;

  beforeEach(async () => {
    emu = await startEmulator();
    clock = emu.linkedClock();
    const api = createApiClient({ host: emu.url, tokenProvider: patTokenProvider(EMULATOR_DEFAULTS.pat), clock, retry: { random: () => 0.5 } });
    jobs = new JobsClient(api, { clock });
    emu.jobs.durations = { queuedMs: 0, pendingMs: 10_000, runningMs: 60_000, terminatingMs: 5_000 };
  });
  afterEach(() => emu.close());

  function trainJob(extra: Record<string, unknown> = {}): number {
    return emu.jobs.createJob({
      name: 'churn-train',
      tasks: [
        {
          task_key: 'train',
          notebook_task: { notebook_path: '/Repos/ml/churn/train', base_parameters: { epochs: '5', lr: '0.1' } },
          existing_cluster_id: '0101-abc',
        },
      ],
      ...extra,
    });
  }

  it('runNow + getRun walk PENDING -> RUNNING -> TERMINATING -> TERMINATED/SUCCESS with state, status, end_time 0 until finished', async () => {
    const seen: Array<Record<string, string>> = [];
    emu.jobs.notebooks.register('/Repos/ml/churn/train', (ctx) => {
      seen.push(ctx.params);
      return { exitValue: '{"auc": 0.91}' };
    });
    const jobId = trainJob();
    const t0 = emu.clock.now();
    const { run_id } = await jobs.runNow({ job_id: jobId, notebook_params: { lr: '0.2' }, idempotency_token: 'tok-1' });
    const r0 = await jobs.getRun(run_id);
    assert.equal(r0.state?.life_cycle_state, 'PENDING');
    assert.equal(r0.status?.state, 'PENDING');
    assert.equal(r0.end_time, 0);
    assert.equal(r0.state?.result_state, undefined);
    assert.equal(r0.run_page_url, `${emu.url}/?o=${emu.workspaceId}#job/${jobId}/run/${run_id}`);
    assert.equal(r0.run_type, 'JOB_RUN');
    assert.equal(r0.job_id, jobId);
    assert.deepEqual(r0.overriding_parameters, { notebook_params: { lr: '0.2' } });
    assert.equal(r0.job_parameters, undefined, 'empty fields are omitted');
    assert.equal(r0.tasks?.length, 1);
    const taskRunId = r0.tasks![0].run_id;
    assert.notEqual(taskRunId, run_id);
    assert.equal(r0.tasks![0].run_page_url, `${emu.url}/?o=${emu.workspaceId}#job/${jobId}/run/${taskRunId}`);
    assert.equal(seen.length, 0, 'the notebook runs only once RUNNING');

    emu.clock.advance(10_000);
    const r1 = await jobs.getRun(run_id);
    assert.equal(r1.state?.life_cycle_state, 'RUNNING');
    assert.equal(r1.status?.state, 'RUNNING');
    assert.deepEqual(seen, [{ epochs: '5', lr: '0.2' }]);

    emu.clock.advance(60_000);
    const r2 = await jobs.getRun(run_id);
    assert.equal(r2.state?.life_cycle_state, 'TERMINATING');
    assert.equal(r2.end_time, 0);

    emu.clock.advance(5_000);
    const r3 = await jobs.getRun(run_id);
    assert.deepEqual(r3.state, { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' });
    assert.deepEqual(r3.status, { state: 'TERMINATED', termination_details: { code: 'SUCCESS', type: 'SUCCESS' } });
    near(r3.start_time, t0, 'start_time');
    assert.equal(r3.end_time, r3.start_time! + 75_000);
    assert.ok(isRunSuccessful(r3));
    assert.equal(seen.length, 1, 'the notebook ran once');

    // Single-task parent: get-output answers for its only task; the task run id works too.
    assert.deepEqual((await jobs.getRunOutput(run_id)).notebook_output, { result: '{"auc": 0.91}' });
    assert.deepEqual((await jobs.getRunOutput(taskRunId)).notebook_output, { result: '{"auc": 0.91}' });
  });

  it('getJob follows Jobs 2.2 array paging: a job with 150 parameters and 120 tasks is read whole', async () => {
    const parameters = Array.from({ length: 150 }, (_, i) => ({ name: `p${i}`, default: String(i) }));
    const tasks = Array.from({ length: 120 }, (_, i) => ({ task_key: `t${i}`, notebook_task: { notebook_path: `/n/${i}` } }));
    const jobId = emu.jobs.createJob({ name: 'wide', parameters, tasks });
    emu.clearRequests();
    const job = await jobs.getJob(jobId);
    assert.equal(job.settings?.name, 'wide');
    assert.deepEqual(job.settings?.parameters, parameters);
    assert.deepEqual(
      job.settings?.tasks?.map((t) => t.task_key),
      tasks.map((t) => t.task_key),
    );
    assert.equal((job as unknown as Record<string, unknown>).next_page_token, undefined);
    const calls = emu.callsTo('GET', '/api/2.2/jobs/get');
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0].query, { job_id: String(jobId) });
    assert.equal(calls[1].query.job_id, String(jobId));
    assert.ok(typeof calls[1].query.page_token === 'string' && calls[1].query.page_token.length > 0);
  });

  it('unknown runs and jobs answer 400 INVALID_PARAMETER_VALUE, not 404, on 2.2 and 2.1 paths', async () => {
    await rejectsWith(jobs.getRun(42), 400, 'INVALID_PARAMETER_VALUE', 'Run 42 does not exist');
    await rejectsWith(jobs.getRunOutput(43), 400, 'INVALID_PARAMETER_VALUE', 'Run 43 does not exist');
    await rejectsWith(jobs.cancelRun(44), 400, 'INVALID_PARAMETER_VALUE', 'Run 44 does not exist');
    await rejectsWith(jobs.getJob(45), 400, 'INVALID_PARAMETER_VALUE', 'Job 45 does not exist.');
    await rejectsWith(jobs.runNow({ job_id: 46, idempotency_token: 't' }), 400, 'INVALID_PARAMETER_VALUE', 'Job 46 does not exist.');
    const api = createApiClient({ host: emu.url, tokenProvider: patTokenProvider(EMULATOR_DEFAULTS.pat), clock });
    await rejectsWith(
      api.request({ method: 'GET', path: '/api/2.1/jobs/runs/get', query: { run_id: 47 } }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Run 47 does not exist',
    );
    // run-now failing is not retried beyond one attempt (a 400 is final).
    assert.equal(emu.callsTo('POST', '/api/2.2/jobs/run-now').length, 1);
  });

  it('the same idempotency_token returns the same run id and starts nothing new', async () => {
    emu.jobs.notebooks.register('/Repos/ml/churn/train', () => ({}));
    const jobId = trainJob();
    const a = await jobs.runNow({ job_id: jobId, idempotency_token: 'same' });
    const b = await jobs.runNow({ job_id: jobId, idempotency_token: 'same' });
    const c = await jobs.runNow({ job_id: jobId, idempotency_token: 'other' });
    assert.equal(a.run_id, b.run_id);
    assert.notEqual(a.run_id, c.run_id);
    assert.equal(emu.jobs.runs.size, 2);
    const spec = { run_name: 'x', tasks: [{ task_key: 't', notebook_task: { notebook_path: '/n' } }], idempotency_token: 'sub' };
    const s1 = await jobs.submitRun(spec);
    const s2 = await jobs.submitRun(spec);
    assert.equal(s1.run_id, s2.run_id);
    assert.equal(emu.jobs.runs.size, 3);
    await assert.rejects(jobs.runNow({ job_id: jobId, idempotency_token: 'x'.repeat(65) }), /at most 64/);
  });

  it('idempotencyToken(parts) is 64 hex chars, stable, and sensitive to every part and to part boundaries', () => {
    const t = idempotencyToken(['a', 'b', 'c']);
    assert.match(t, /^[0-9a-f]{64}$/);
    assert.equal(idempotencyToken(['a', 'b', 'c']), t);
    assert.notEqual(idempotencyToken(['a', 'b', 'd']), t);
    assert.notEqual(idempotencyToken(['ab', 'c']), idempotencyToken(['a', 'bc']));
  });

  it('multi-task runs: dependencies run in order, per-task run ids and outputs, get-output on the parent is refused', async () => {
    const order: string[] = [];
    emu.jobs.notebooks.register('/p/prep', (ctx) => {
      order.push(`prep@${ctx.core.clock.now()}`);
      return { exitValue: 'prepared' };
    });
    emu.jobs.notebooks.register('/p/train', (ctx) => {
      order.push(`train@${ctx.core.clock.now()}`);
      return { exitValue: 'trained' };
    });
    const jobId = emu.jobs.createJob({
      name: 'two-step',
      tasks: [
        { task_key: 'train', depends_on: [{ task_key: 'prep' }], notebook_task: { notebook_path: '/p/train' } },
        { task_key: 'prep', notebook_task: { notebook_path: '/p/prep' } },
      ],
    });
    const { run_id } = await jobs.runNow({ job_id: jobId, idempotency_token: 'm' });
    let r = await jobs.getRun(run_id);
    assert.deepEqual(
      r.tasks!.map((t) => [t.task_key, t.state?.life_cycle_state]),
      [
        ['prep', 'PENDING'],
        ['train', 'BLOCKED'],
      ],
    );
    emu.clock.advance(10_000);
    r = await jobs.getRun(run_id);
    assert.deepEqual(
      r.tasks!.map((t) => [t.task_key, t.state?.life_cycle_state]),
      [
        ['prep', 'RUNNING'],
        ['train', 'BLOCKED'],
      ],
    );
    emu.clock.advance(65_000);
    r = await jobs.getRun(run_id);
    assert.equal(r.state?.life_cycle_state, 'RUNNING');
    assert.deepEqual(
      r.tasks!.map((t) => [t.task_key, t.state?.life_cycle_state]),
      [
        ['prep', 'TERMINATED'],
        ['train', 'PENDING'],
      ],
    );
    emu.clock.advance(75_000);
    r = await jobs.getRun(run_id);
    assert.deepEqual(r.state, { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' });
    assert.equal(order.length, 2);
    assert.ok(order[0].startsWith('prep@') && order[1].startsWith('train@'));
    await rejectsWith(jobs.getRunOutput(run_id), 400, 'INVALID_PARAMETER_VALUE', MULTI_TASK_MESSAGE);
    const [prep, train] = r.tasks!;
    assert.deepEqual((await jobs.getRunOutput(prep.run_id)).notebook_output, { result: 'prepared' });
    assert.deepEqual((await jobs.getRunOutput(train.run_id)).notebook_output, { result: 'trained' });
    assert.equal((await jobs.getRunOutput(train.run_id)).metadata?.run_id, train.run_id);
  });

  it('a failing notebook fails its task with error and error_trace; dependants are UPSTREAM_FAILED; failingTaskRuns picks the cause', async () => {
    emu.jobs.notebooks.register('/p/prep', () => {
      throw new NotebookError(
        'ValueError: no rows in training table',
        'Traceback (most recent call last):\n  File "<cell>", line 3\nValueError: no rows in training table',
      );
    });
    emu.jobs.notebooks.register('/p/train', () => ({ exitValue: 'never' }));
    const jobId = emu.jobs.createJob({
      name: 'two-step',
      tasks: [
        { task_key: 'prep', notebook_task: { notebook_path: '/p/prep' } },
        { task_key: 'train', depends_on: [{ task_key: 'prep' }], notebook_task: { notebook_path: '/p/train' } },
      ],
    });
    const { run_id } = await jobs.runNow({ job_id: jobId, idempotency_token: 'f' });
    await jobs.getRun(run_id);
    emu.clock.advance(200_000);
    const r = await jobs.getRun(run_id);
    assert.deepEqual(r.state, { life_cycle_state: 'TERMINATED', result_state: 'FAILED', state_message: 'Workload failed, see run output for details' });
    assert.deepEqual(r.status?.termination_details, {
      code: 'RUN_EXECUTION_ERROR',
      type: 'CLIENT_ERROR',
      message: 'Workload failed, see run output for details',
    });
    assert.deepEqual(
      r.tasks!.map((t) => t.state?.result_state),
      ['FAILED', 'UPSTREAM_FAILED'],
    );
    assert.deepEqual(
      failingTaskRuns(r).map((t) => t.task_key),
      ['prep'],
    );
    const out = await jobs.getRunOutput(r.tasks![0].run_id);
    assert.equal(out.error, 'ValueError: no rows in training table');
    assert.match(out.error_trace!, /^Traceback/);
    assert.equal(out.notebook_output, undefined);
  });

  it('INTERNAL_ERROR, an unregistered notebook, and SKIPPED at the concurrency limit', async () => {
    emu.jobs.notebooks.register('/p/boom', () => {
      throw new RunInternalError('Cluster terminated unexpectedly');
    });
    const sub = await jobs.submitRun({ tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/p/boom' } }], idempotency_token: 'ie' });
    await jobs.getRun(sub.run_id);
    emu.clock.advance(100_000);
    const r = await jobs.getRun(sub.run_id);
    assert.deepEqual(r.state, { life_cycle_state: 'INTERNAL_ERROR', result_state: 'FAILED', state_message: 'Cluster terminated unexpectedly' });
    assert.deepEqual(r.status, {
      state: 'TERMINATED',
      termination_details: { code: 'INTERNAL_ERROR', type: 'INTERNAL_ERROR', message: 'Cluster terminated unexpectedly' },
    });
    assert.equal(r.run_type, 'SUBMIT_RUN');
    assert.equal(r.run_name, 'Untitled');
    assert.equal(typeof r.job_id, 'number', 'one-time runs carry a job id too');

    const missing = await jobs.submitRun({ tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/nope' } }], idempotency_token: 'nf' });
    await jobs.getRun(missing.run_id);
    emu.clock.advance(100_000);
    assert.equal((await jobs.getRunOutput(missing.run_id)).error, 'Notebook not found: /nope');

    emu.jobs.notebooks.register('/p/slow', () => ({}));
    const jobId = emu.jobs.createJob({ name: 'single', max_concurrent_runs: 1, tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/p/slow' } }] });
    await jobs.runNow({ job_id: jobId, idempotency_token: 's1' });
    const second = await jobs.runNow({ job_id: jobId, idempotency_token: 's2' });
    const skipped = await jobs.getRun(second.run_id);
    assert.deepEqual(skipped.state, {
      life_cycle_state: 'SKIPPED',
      state_message: 'Skipping this run because the limit of 1 maximum concurrent runs has been reached.',
    });
    assert.ok(skipped.end_time! > 0);
  });

  it('runs with queueing wait in QUEUED behind the active run, then start', async () => {
    emu.jobs.notebooks.register('/p/slow', () => ({}));
    const jobId = emu.jobs.createJob({
      name: 'q',
      max_concurrent_runs: 1,
      queue: { enabled: true },
      tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/p/slow' } }],
    });
    const first = await jobs.runNow({ job_id: jobId, idempotency_token: 'q1' });
    const second = await jobs.runNow({ job_id: jobId, idempotency_token: 'q2' });
    const q = await jobs.getRun(second.run_id);
    assert.equal(q.state?.life_cycle_state, 'QUEUED');
    assert.equal(q.status?.state, 'QUEUED');
    assert.equal(q.status?.queue_details?.code, 'MAX_CONCURRENT_RUNS_REACHED');
    emu.clock.advance(75_000);
    assert.equal((await jobs.getRun(first.run_id)).state?.result_state, 'SUCCESS');
    assert.equal((await jobs.getRun(second.run_id)).state?.life_cycle_state, 'PENDING');
  });

  it('cancelRun is asynchronous: TERMINATING, then TERMINATED/CANCELED with USER_CANCELED; cancels are recorded', async () => {
    emu.jobs.notebooks.register('/Repos/ml/churn/train', () => ({}));
    const { run_id } = await jobs.runNow({ job_id: trainJob(), idempotency_token: 'c' });
    emu.clock.advance(20_000);
    assert.equal((await jobs.getRun(run_id)).state?.life_cycle_state, 'RUNNING');
    const before = emu.clock.now();
    await jobs.cancelRun(run_id);
    assert.equal(emu.jobs.cancels.length, 1);
    assert.equal(emu.jobs.cancels[0].runId, run_id);
    const at = emu.jobs.cancels[0].at;
    near(at, before, 'cancel time');
    const t1 = await jobs.getRun(run_id);
    assert.equal(t1.state?.life_cycle_state, 'TERMINATING');
    assert.equal(t1.end_time, 0);
    emu.clock.advance(5_000);
    const t2 = await jobs.getRun(run_id);
    assert.deepEqual(t2.state, { life_cycle_state: 'TERMINATED', result_state: 'CANCELED', state_message: 'Run cancelled.', user_cancelled_or_timedout: true });
    assert.equal(t2.status?.termination_details?.code, 'USER_CANCELED');
    assert.equal(t2.end_time, at + 5_000);
    // Cancelling a finished run is a no-op.
    await jobs.cancelRun(run_id);
    assert.equal((await jobs.getRun(run_id)).state?.result_state, 'CANCELED');
  });

  it('job_parameters only for jobs that define them; defaults fill in; notebook_params are refused on such jobs', async () => {
    const seen: Array<Record<string, string>> = [];
    emu.jobs.notebooks.register('/Repos/ml/churn/train', (ctx) => {
      seen.push(ctx.params);
    });
    const plain = trainJob();
    await rejectsWith(
      jobs.runNow({ job_id: plain, job_parameters: { epochs: '9' }, idempotency_token: 'p1' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /does not define job parameters/,
    );
    const withParams = trainJob({
      parameters: [
        { name: 'epochs', default: '1' },
        { name: 'table', default: 'main.ml.churn' },
      ],
    });
    await rejectsWith(
      jobs.runNow({ job_id: withParams, job_parameters: { nope: '1' }, idempotency_token: 'p2' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Job parameter nope is not defined/,
    );
    await rejectsWith(
      jobs.runNow({ job_id: withParams, notebook_params: { epochs: '1' }, idempotency_token: 'p3' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /job parameters/,
    );
    const { run_id } = await jobs.runNow({ job_id: withParams, job_parameters: { epochs: '9' }, idempotency_token: 'p4' });
    emu.clock.advance(10_000);
    const r = await jobs.getRun(run_id);
    assert.deepEqual(r.job_parameters, [
      { name: 'epochs', default: '1', value: '9' },
      { name: 'table', default: 'main.ml.churn', value: 'main.ml.churn' },
    ]);
    assert.deepEqual(seen, [{ epochs: '9', lr: '0.1', table: 'main.ml.churn' }]);
  });

  it('listJobs follows next_page_token and filters by exact, case-insensitive name', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(emu.jobs.createJob({ name: i % 2 === 0 ? 'Churn-Train' : `other-${i}`, tasks: [] }));
    const all = [];
    for await (const j of jobs.listJobs({ limit: 2 })) all.push(j.job_id);
    assert.deepEqual(all, ids);
    assert.equal(emu.callsTo('GET', '/api/2.2/jobs/list').length, 3);
    const named = [];
    for await (const j of jobs.listJobs({ name: 'churn-train' })) named.push(j.job_id);
    assert.deepEqual(named, [ids[0], ids[2], ids[4]]);
    const none = [];
    for await (const j of jobs.listJobs({ name: 'missing' })) none.push(j);
    assert.deepEqual(none, []);
    assert.equal((await jobs.getJob(ids[1])).settings?.name, 'other-1');
  });

  it('getRun follows 2.2 array paging of tasks (next_page_token) and returns every task', async () => {
    emu.jobs.runsGetPageSize = 2;
    const tasks = ['a', 'b', 'c', 'd', 'e'].map((k) => ({ task_key: k, notebook_task: { notebook_path: `/p/${k}` } }));
    const sub = await jobs.submitRun({ run_name: 'wide', tasks, idempotency_token: 'wide' });
    emu.clearRequests();
    const r = await jobs.getRun(sub.run_id);
    assert.deepEqual(
      r.tasks!.map((t) => t.task_key),
      ['a', 'b', 'c', 'd', 'e'],
    );
    assert.equal(r.run_name, 'wide');
    assert.equal((r as Record<string, unknown>).next_page_token, undefined);
    const calls = emu.callsTo('GET', '/api/2.2/jobs/runs/get');
    assert.equal(calls.length, 3);
    assert.deepEqual(
      calls.map((c) => c.query.page_token === undefined),
      [true, false, false],
    );
  });

  it('runs/submit validates its body: tasks, notebook path, one compute kind, new_cluster fields', async () => {
    const api = createApiClient({ host: emu.url, tokenProvider: patTokenProvider(EMULATOR_DEFAULTS.pat), clock });
    await rejectsWith(
      api.request({ method: 'POST', path: '/api/2.2/jobs/runs/submit', body: {}, idempotent: true }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Missing required field: tasks',
    );
    await rejectsWith(
      jobs.submitRun({
        tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/x' }, existing_cluster_id: 'c', new_cluster: {} }],
        idempotency_token: 'v1',
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /only one of/,
    );
    await rejectsWith(
      jobs.submitRun({
        tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/x' }, new_cluster: { node_type_id: 'n', num_workers: 1 } }],
        idempotency_token: 'v2',
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Missing required field: tasks[0].new_cluster.spark_version',
    );
    await rejectsWith(
      jobs.submitRun({ tasks: [{ task_key: 'a', notebook_task: { notebook_path: '' } }], idempotency_token: 'v3' }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Missing required field: tasks[0].notebook_task.notebook_path',
    );
    assert.equal(emu.jobs.runs.size, 0);
  });

  it('notebook output longer than the cap is cut and flagged truncated', async () => {
    emu.jobs.maxNotebookOutputBytes = 10;
    emu.jobs.notebooks.register('/p/long', () => ({ exitValue: 'x'.repeat(25) }));
    const sub = await jobs.submitRun({ tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/p/long' } }], idempotency_token: 'long' });
    await jobs.getRun(sub.run_id);
    emu.clock.advance(100_000);
    assert.deepEqual((await jobs.getRunOutput(sub.run_id)).notebook_output, { result: 'x'.repeat(10), truncated: true });
  });

  it('waitForRunTerminated polls 2 s growing 1.5x to a 30 s cap, reports every poll, and returns the terminal run', async () => {
    emu.jobs.notebooks.register('/Repos/ml/churn/train', () => ({ exitValue: 'ok' }));
    emu.jobs.durations = { queuedMs: 0, pendingMs: 30_000, runningMs: 100_000, terminatingMs: 5_000 };
    const { run_id } = await jobs.runNow({ job_id: trainJob(), idempotency_token: 'w' });
    const states: string[] = [];
    const final = await jobs.waitForRunTerminated(run_id, { timeoutMs: 3_600_000, onState: (r) => states.push(r.state!.life_cycle_state!) });
    assert.deepEqual(final.state, { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' });
    assert.deepEqual(clock.sleeps, [2000, 3000, 4500, 6750, 10125, 15187.5, 22781.25, 30000, 30000, 30000]);
    // Polls at 0, 2, 5, 9.5, 16.25, 26.4 s (PENDING), 41.6, 64.3, 94.3, 124.3 s (RUNNING), 154.3 s (done).
    assert.deepEqual(states, ['PENDING', 'PENDING', 'PENDING', 'PENDING', 'PENDING', 'PENDING', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'TERMINATED']);
  });

  it('waitForRunTerminated survives a 429/503 storm longer than the HTTP retries, then succeeds', async () => {
    emu.jobs.notebooks.register('/Repos/ml/churn/train', () => ({}));
    const { run_id } = await jobs.runNow({ job_id: trainJob(), idempotency_token: 'storm' });
    emu.faults.add({ method: 'GET', path: '/api/2.2/jobs/runs/get', kind: 'status', status: 503, times: 8 });
    emu.faults.add({ method: 'GET', path: '/api/2.2/jobs/runs/get', kind: 'status', status: 429, retryAfterSeconds: 1, times: 4, afterCalls: 8 });
    let transient = 0;
    const final = await jobs.waitForRunTerminated(run_id, { timeoutMs: 600_000, onTransientError: () => transient++ });
    assert.ok(isRunSuccessful(final));
    assert.ok(transient >= 1, 'the storm outlasted one call worth of HTTP retries');
    const faulted = emu.callsTo('GET', '/api/2.2/jobs/runs/get').filter((c) => c.fault);
    assert.equal(faulted.length, 12);
  });

  it('waitForRunTerminated throws TimeoutError with the last run seen at the deadline, and CancelledError on abort', async () => {
    emu.jobs.notebooks.register('/Repos/ml/churn/train', () => ({}));
    emu.jobs.durations.runningMs = 10_000_000;
    const { run_id } = await jobs.runNow({ job_id: trainJob(), idempotency_token: 't' });
    const t0 = clock.now();
    const err = await jobs.waitForRunTerminated(run_id, { timeoutMs: 60_000 }).then(
      () => assert.fail('expected a timeout'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TimeoutError);
    assert.equal((err.lastState as Run).state?.life_cycle_state, 'RUNNING');
    assert.match(err.message, /^Waiting for run \d+ to finish timed out after 60 s; last state: RUNNING\.$/);
    near(clock.now() - t0, 60_000, 'the last sleep is cut to the deadline');
    assert.equal(clock.sleeps.reduce((a, b) => a + b, 0) <= 60_000, true);
    const ac = new AbortController();
    ac.abort(new Error('pipeline cancelled'));
    await assert.rejects(jobs.waitForRunTerminated(run_id, { timeoutMs: 60_000, signal: ac.signal }), CancelledError);
  });
});
