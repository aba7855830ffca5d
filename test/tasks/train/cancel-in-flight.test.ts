/**
 * The bundled Train task cancelled (SIGINT) while its start request (jobs/run-now or jobs/runs/submit) is
 * still in flight: the emulator answers that request late ('slow' fault), and the signal is sent as soon
 * as the emulator has received it. The run the late answer names must still be cancelled.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { Emulator } from '../../../emulator';
import { runIdempotencyToken, START_WAIT_ON_CANCEL_MS } from '../../../src/tasks/train/run';
import { DEFAULT_VARIABLES, type AgentRunResult } from '../../helpers/agent';
import { TaskHarness, until } from '../../helpers/task-harness';

const CONN = '3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const NOTEBOOK = '/Repos/Staging/churn-model/notebooks/train';
const RUN_NOW = '/api/2.2/jobs/run-now';
const SUBMIT = '/api/2.2/jobs/runs/submit';
const CANCEL = '/api/2.2/jobs/runs/cancel';
/** The agent's window between SIGINT and SIGTERM. */
const AGENT_WINDOW_MS = 7_500;
const COMPLETE_CANCELLED = '##vso[task.complete result=Cancelled;done=true;]Cancelled by SIGINT.';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Train task (bundled): SIGINT while the start request is in flight', function () {
  this.timeout(60_000);
  let emu: Emulator;
  let jobId: number;

  const harness = new TaskHarness({ task: 'DatabricksTrainV1', connection: CONN, env: { DATABRICKS_MLOPS_POLL_INTERVAL_MS: '50' }, killAfterMs: 30_000 });

  beforeEach(async () => {
    emu = await harness.start();
    emu.jobs.durations = { queuedMs: 0, pendingMs: 100, runningMs: 600_000, terminatingMs: 100 };
    emu.jobs.notebooks.register(NOTEBOOK, () => ({ exitValue: 'trained' }));
    jobId = emu.jobs.createJob({ name: 'churn-train', tasks: [{ task_key: 'train', notebook_task: { notebook_path: NOTEBOOK } }] });
  });
  afterEach(() => harness.stop());

  /** Runs the task; sends SIGINT once the emulator has received the start request at `startPath`. */
  async function trainCancelledDuringStart(
    startPath: string,
    inputs: Record<string, string>,
  ): Promise<{ r: AgentRunResult; sentAt: number; exitedAfterMs: number }> {
    let child: ChildProcess | undefined;
    const running = harness.run({
      inputs: { tagCandidates: 'false', ...inputs },
      onSpawn: (c) => (child = c),
    });
    let exited = false;
    void running.finally(() => (exited = true));
    await until(`the emulator to receive ${startPath}`, () => exited || emu.callsTo('POST', startPath).length > 0);
    assert.ok(!exited, 'the task ended before its start request reached the emulator');
    const sentAt = Date.now();
    child!.kill('SIGINT');
    const r = await running;
    return { r, sentAt, exitedAfterMs: Date.now() - sentAt };
  }

  function stdoutLines(r: AgentRunResult): string[] {
    return r.stdout.split(/\r?\n/);
  }

  function requestPaths(): string[] {
    return emu.requests.filter((q) => q.method === 'POST').map((q) => q.path);
  }

  /** The run's state as runs/get would report it now. */
  async function stateOf(runId: number): Promise<{ life_cycle_state: string; result_state?: string }> {
    const state = (await emu.jobs.getRun(runId))!.state!;
    return { life_cycle_state: state.life_cycle_state!, result_state: state.result_state };
  }

  async function assertCancelledRun(startPath: string, r: AgentRunResult, sentAt: number, exitedAfterMs: number): Promise<number> {
    assert.equal(emu.jobs.runs.size, 1, r.stdout);
    const runId = [...emu.jobs.runs.keys()][0];
    // Exactly one start, then exactly one cancel naming the run the start created; nothing else written.
    assert.deepEqual(requestPaths(), [startPath, CANCEL]);
    assert.deepEqual(
      emu.callsTo('POST', CANCEL).map((c) => c.body),
      [{ run_id: runId }],
    );
    assert.deepEqual(
      emu.jobs.cancels.map((c) => c.runId),
      [runId],
    );
    // The start was answered after the signal, and the cancel followed within the agent's window.
    const startCall = emu.callsTo('POST', startPath)[0];
    assert.equal(startCall.status, 200);
    assert.equal(startCall.fault, 'slow');
    assert.ok(exitedAfterMs < AGENT_WINDOW_MS, `exited ${exitedAfterMs} ms after SIGINT`);
    assert.ok(r.logLines.includes('Cancellation requested (SIGINT).'), r.stdout);
    assert.ok(r.logLines.includes(`Cancelling Databricks run ${runId} (the pipeline was cancelled).`), r.stdout);
    assert.ok(r.logLines.includes(`Cancel requested for run ${runId}; Databricks stops it asynchronously.`), r.stdout);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.outputs.runId, String(runId));
    assert.deepEqual(r.complete, { result: 'Cancelled', message: 'Cancelled by SIGINT.' });
    assert.equal(
      stdoutLines(r)
        .filter((l) => l.includes('##vso[task.complete'))
        .join('\n'),
      COMPLETE_CANCELLED,
    );
    await sleep(150); // past terminatingMs
    assert.deepEqual(await stateOf(runId), { life_cycle_state: 'TERMINATED', result_state: 'CANCELED' });
    assert.ok(sentAt > 0);
    return runId;
  }

  it('jobs/run-now answered 1.5 s after SIGINT: the run it created is cancelled once, the step ends Cancelled', async () => {
    emu.faults.add({ method: 'POST', path: RUN_NOW, kind: 'slow', delayMs: 1_500 });
    const { r, sentAt, exitedAfterMs } = await trainCancelledDuringStart(RUN_NOW, { jobId: String(jobId) });
    await assertCancelledRun(RUN_NOW, r, sentAt, exitedAfterMs);
    // The signal did not cut the start off: it arrived while run-now was being answered.
    assert.ok(exitedAfterMs >= 1_300, `exited ${exitedAfterMs} ms after SIGINT, before run-now answered`);
  });

  it('jobs/runs/submit (one-time notebook run) answered 1.5 s after SIGINT: the run is cancelled once', async () => {
    emu.faults.add({ method: 'POST', path: SUBMIT, kind: 'slow', delayMs: 1_500 });
    const { r, sentAt, exitedAfterMs } = await trainCancelledDuringStart(SUBMIT, { runType: 'notebook', notebookPath: NOTEBOOK, clusterMode: 'serverless' });
    const runId = await assertCancelledRun(SUBMIT, r, sentAt, exitedAfterMs);
    assert.equal(emu.jobs.runs.get(runId)!.runType, 'SUBMIT_RUN');
  });

  it('cancelRunOnAbort false: SIGINT during run-now leaves the run it creates alone', async () => {
    emu.faults.add({ method: 'POST', path: RUN_NOW, kind: 'slow', delayMs: 1_000 });
    const { r, exitedAfterMs } = await trainCancelledDuringStart(RUN_NOW, { jobId: String(jobId), cancelRunOnAbort: 'false' });
    assert.ok(exitedAfterMs < AGENT_WINDOW_MS, `exited ${exitedAfterMs} ms after SIGINT`);
    assert.deepEqual(r.complete, { result: 'Cancelled', message: 'Cancelled by SIGINT.' });
    assert.equal(
      stdoutLines(r)
        .filter((l) => l.includes('##vso[task.complete'))
        .join('\n'),
      COMPLETE_CANCELLED,
    );
    // The emulator still creates the run when its late answer comes; nobody cancels it.
    await until('the delayed run-now to be handled', () => emu.jobs.runs.size === 1);
    await sleep(300);
    assert.deepEqual(requestPaths(), [RUN_NOW]);
    assert.deepEqual(emu.jobs.cancels, []);
    const runId = [...emu.jobs.runs.keys()][0];
    assert.deepEqual(await stateOf(runId), { life_cycle_state: 'RUNNING', result_state: undefined });
    assert.ok(!r.logLines.some((l) => l.startsWith('Cancelling Databricks run')), r.stdout);
  });

  it('run-now answers after the cleanup budget: nothing is cancelled, the warning names the idempotency token, the step ends Cancelled in time', async () => {
    // Answered 1 s after the task stops waiting for it (the signal follows the request by a few ms).
    emu.faults.add({ method: 'POST', path: RUN_NOW, kind: 'slow', delayMs: START_WAIT_ON_CANCEL_MS + 1_000 });
    const { r, exitedAfterMs } = await trainCancelledDuringStart(RUN_NOW, { jobId: String(jobId) });
    assert.ok(exitedAfterMs < AGENT_WINDOW_MS, `exited ${exitedAfterMs} ms after SIGINT`);
    assert.ok(exitedAfterMs >= START_WAIT_ON_CANCEL_MS - 100, `exited ${exitedAfterMs} ms after SIGINT: it did not wait for run-now`);
    assert.deepEqual(r.complete, { result: 'Cancelled', message: 'Cancelled by SIGINT.' });
    assert.equal(
      stdoutLines(r)
        .filter((l) => l.includes('##vso[task.complete'))
        .join('\n'),
      COMPLETE_CANCELLED,
    );
    const { token } = runIdempotencyToken(
      {
        collectionUri: DEFAULT_VARIABLES['System.TeamFoundationCollectionUri'],
        teamProject: DEFAULT_VARIABLES['System.TeamProject'],
        buildId: DEFAULT_VARIABLES['Build.BuildId'],
        taskInstanceId: DEFAULT_VARIABLES['System.TaskInstanceId'],
        jobId: DEFAULT_VARIABLES['System.JobId'],
        jobAttempt: DEFAULT_VARIABLES['System.JobAttempt'],
      },
      { job_id: jobId },
    );
    assert.deepEqual(r.warnings, [
      `The pipeline was cancelled while jobs/run-now was in flight and did not answer within ${START_WAIT_ON_CANCEL_MS / 1000} s, so the Databricks run it may have started is not known and was not cancelled. ` +
        `If it started, it is a run of job ${jobId} created with idempotency token ${token}: check the workspace and cancel it there.`,
    ]);
    assert.equal(r.outputs.runId, undefined);
    // The late answer still creates the run on the emulator; no cancel was ever sent.
    await until('the delayed run-now to be handled', () => emu.jobs.runs.size === 1);
    await sleep(200);
    assert.equal(emu.callsTo('POST', RUN_NOW)[0].body.idempotency_token, token);
    assert.equal([...emu.jobs.runs.values()][0].idempotencyToken, token);
    assert.deepEqual(requestPaths(), [RUN_NOW]);
    assert.deepEqual(emu.jobs.cancels, []);
  });
});
