/**
 * The bundled Evaluate & Promote task cancelled (SIGINT) while one of its Databricks runs is starting or
 * running: the scoring run (one-time run of the bundled notebook) and the Unity Catalog registration run.
 * During the start the emulator answers runs/submit late ('slow' fault) and the signal is sent as soon as the
 * emulator has received it: the run the late answer names must still be cancelled, once, within the agent's
 * window, and nothing is promoted.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import type { Emulator } from '../../../emulator';
import type { NotebookContext } from '../../../emulator/routes/jobs';
import { DEFAULT_NOTEBOOK_PATH } from '../../../src/tasks/evaluate/inputs';
import type { AgentRunResult } from '../../helpers/agent';
import { TaskHarness, until } from '../../helpers/task-harness';
import { DEFAULT_REGISTER_NOTEBOOK_PATH, registerModelNotebook } from './register-notebook';

const CONN = '6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c';
const UC_MODEL = 'main.ml.churn';
const OUT = '/Volumes/main/ml/scratch/eval';
const SUBMIT = '/api/2.2/jobs/runs/submit';
const CANCEL = '/api/2.2/jobs/runs/cancel';
/** The agent's window between SIGINT and SIGTERM. */
const AGENT_WINDOW_MS = 7_500;
const COMPLETE_CANCELLED = '##vso[task.complete result=Cancelled;done=true;]Cancelled by SIGINT.';
const ROWS = 400;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Labels 1 on every third row; a candidate that scores them perfectly, a production model that does not. */
function predictions(keys: string[]): Uint8Array {
  const label = new Int8Array(ROWS);
  for (let i = 0; i < ROWS; i++) label[i] = i % 3 === 0 ? 1 : 0;
  const cols: Record<string, Float64Array | Int8Array> = { label };
  for (const k of keys) {
    const s = new Float64Array(ROWS);
    for (let i = 0; i < ROWS; i++) s[i] = k === 'production' ? ((i * 7919) % 101) / 101 : label[i] === 1 ? 0.9 : 0.1;
    cols[k] = s;
  }
  return tableToIPC(tableFromArrays(cols as Record<string, Float64Array>), 'file');
}

describe('Evaluate & Promote task (bundled): SIGINT while a Databricks run starts or runs', function () {
  this.timeout(90_000);
  let emu: Emulator;
  let candidateRun: string;
  const harness = new TaskHarness({
    task: 'DatabricksEvaluatePromoteV1',
    connection: CONN,
    env: { DATABRICKS_MLOPS_POLL_INTERVAL_MS: '20' },
    killAfterMs: 45_000,
  });

  beforeEach(async () => {
    emu = await harness.start();
    emu.jobs.durations = { queuedMs: 0, pendingMs: 10, runningMs: 10, terminatingMs: 10 };
    emu.mlflow.setVersionReadyDelayMs(30);
    const expId = emu.mlflow.createExperiment('/Shared/churn');
    const prod = emu.mlflow.createRun({ experimentId: expId, runName: 'prod', artifacts: ['model/MLmodel'] }).info.run_id as string;
    const version = emu.mlflow.createModelVersion(UC_MODEL, { source: `runs:/${prod}/model`, runId: prod, uc: true });
    emu.mlflow.ucRegistry.models.get(UC_MODEL)!.aliases.set('champion', Number(version));
    candidateRun = emu.mlflow.createRun({
      experimentId: expId,
      runName: 'better',
      tags: { candidate: 'true' },
      artifacts: ['model/MLmodel', 'model/model.pkl'],
    }).info.run_id as string;
    emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, scoringNotebook);
    emu.jobs.notebooks.register(DEFAULT_REGISTER_NOTEBOOK_PATH, registerModelNotebook(emu).handler);
  });
  afterEach(() => harness.stop());

  function scoringNotebook(ctx: NotebookContext): { exitValue: string } {
    const keys = (JSON.parse(ctx.params.models) as Array<{ key: string }>).map((m) => m.key);
    const file = `${ctx.params.output_path}/predictions.arrow`;
    emu.files.write(file, Buffer.from(predictions(keys)));
    return { exitValue: JSON.stringify({ output_path: file, rows: ROWS }) };
  }

  /** Runs the task (Unity Catalog); `signalWhen` decides, per log line or once per 5 ms, when to send SIGINT. */
  async function evaluateCancelled(signalWhen: {
    line?: (line: string) => boolean;
    poll?: () => boolean;
  }): Promise<{ r: AgentRunResult; exitedAfterMs: number }> {
    let child: ChildProcess | undefined;
    let sentAt = 0;
    const send = () => {
      if (sentAt > 0) return;
      sentAt = Date.now();
      child!.kill('SIGINT');
    };
    const running = harness.run({
      inputs: {
        registry: 'unityCatalog',
        modelName: UC_MODEL,
        experiments: '/Shared/churn',
        evaluationTable: 't',
        outputPath: OUT,
        resamples: '200',
        seed: '7',
      },
      onSpawn: (c) => (child = c),
      onLine: (line) => {
        if (signalWhen.line?.(line)) send();
      },
    });
    let exited = false;
    void running.finally(() => (exited = true));
    if (signalWhen.poll) {
      await until('the moment to send SIGINT', () => exited || signalWhen.poll!(), 20_000);
      assert.ok(!exited, 'the task ended before the moment to cancel it');
      send();
    }
    const r = await running;
    assert.ok(sentAt > 0, `SIGINT was never sent:\n${r.stdout}`);
    return { r, exitedAfterMs: Date.now() - sentAt };
  }

  function vsoLines(r: AgentRunResult, command: string): string[] {
    return r.stdout.split(/\r?\n/).filter((l) => l.includes(`##vso[${command}`));
  }

  /**
   * Exactly one cancel, naming the run `nth` of the step's runs (0 scoring, 1 registration); that run ends
   * CANCELED; the step ends Cancelled within the agent's window with no warning, no output and nothing promoted.
   */
  async function assertCancelled(r: AgentRunResult, exitedAfterMs: number, nth: number, runs: number): Promise<void> {
    assert.equal(emu.jobs.runs.size, runs, r.stdout);
    const runId = [...emu.jobs.runs.keys()][nth];
    assert.deepEqual(
      emu.callsTo('POST', CANCEL).map((c) => c.body),
      [{ run_id: runId }],
    );
    assert.deepEqual(
      emu.jobs.cancels.map((c) => c.runId),
      [runId],
    );
    assert.ok(exitedAfterMs < AGENT_WINDOW_MS, `exited ${exitedAfterMs} ms after SIGINT`);
    assert.ok(r.logLines.includes('Cancellation requested (SIGINT).'), r.stdout);
    assert.ok(r.logLines.includes(`Cancelling Databricks run ${runId} (the pipeline was cancelled).`), r.stdout);
    assert.ok(r.logLines.includes(`Cancel requested for run ${runId}; Databricks stops it asynchronously.`), r.stdout);
    assert.deepEqual(vsoLines(r, 'task.logissue'), []);
    assert.deepEqual(vsoLines(r, 'task.setvariable'), []);
    assert.deepEqual(vsoLines(r, 'task.complete'), [COMPLETE_CANCELLED]);
    assert.deepEqual(r.complete, { result: 'Cancelled', message: 'Cancelled by SIGINT.' });
    await sleep(100); // past terminatingMs
    const state = (await emu.jobs.getRun(runId))!.state!;
    assert.deepEqual(
      { life_cycle_state: state.life_cycle_state, result_state: state.result_state },
      { life_cycle_state: 'TERMINATED', result_state: 'CANCELED' },
    );
    // Nothing promoted, the candidate still tagged.
    assert.deepEqual(emu.mlflow.aliases(UC_MODEL), { champion: '1' });
    assert.equal(emu.mlflow.runTags(candidateRun).candidate, 'true');
  }

  it('scoring run, SIGINT while runs/submit is in flight (answered 1.5 s later): the run it creates is cancelled once', async () => {
    emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, scoringNotebook, { runningMs: 600_000 });
    emu.faults.add({ method: 'POST', path: SUBMIT, kind: 'slow', delayMs: 1_500 });
    const { r, exitedAfterMs } = await evaluateCancelled({ poll: () => emu.callsTo('POST', SUBMIT).length > 0 });
    await assertCancelled(r, exitedAfterMs, 0, 1);
    assert.ok(exitedAfterMs >= 1_300, `exited ${exitedAfterMs} ms after SIGINT, before runs/submit answered`);
    const [submit] = emu.callsTo('POST', SUBMIT);
    assert.equal(submit.fault, 'slow');
    assert.equal(submit.status, 200);
    assert.deepEqual(
      emu.writes().map((w) => `${w.method} ${w.path}`),
      ['POST /api/2.0/workspace/mkdirs', 'POST /api/2.0/workspace/import', `POST ${SUBMIT}`, `POST ${CANCEL}`],
    );
    // The late answer still names the run in the log, then it is cancelled.
    const runId = [...emu.jobs.runs.keys()][0];
    assert.deepEqual(
      r.logLines.filter((l) => l.startsWith('Started scoring run')),
      [`Started scoring run ${runId}.`],
    );
    assert.ok(r.logLines.indexOf('Cancellation requested (SIGINT).') < r.logLines.indexOf(`Started scoring run ${runId}.`), r.stdout);
  });

  it('scoring run, SIGINT while the task waits for it: the run is cancelled once', async () => {
    emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, scoringNotebook, { runningMs: 600_000 });
    const { r, exitedAfterMs } = await evaluateCancelled({ line: (l) => /^Scoring run \d+: RUNNING$/.test(l) });
    await assertCancelled(r, exitedAfterMs, 0, 1);
    assert.deepEqual(
      emu.writes().map((w) => `${w.method} ${w.path}`),
      ['POST /api/2.0/workspace/mkdirs', 'POST /api/2.0/workspace/import', `POST ${SUBMIT}`, `POST ${CANCEL}`],
    );
  });

  it('registration run, SIGINT while its runs/submit is in flight (answered 1.5 s later): that run is cancelled once, nothing promoted', async () => {
    emu.jobs.notebooks.register(DEFAULT_REGISTER_NOTEBOOK_PATH, registerModelNotebook(emu).handler, { runningMs: 600_000 });
    // The scoring run's submit goes through; the registration run's is answered late.
    emu.faults.add({ method: 'POST', path: SUBMIT, kind: 'slow', delayMs: 1_500, afterCalls: 1 });
    const { r, exitedAfterMs } = await evaluateCancelled({ poll: () => emu.callsTo('POST', SUBMIT).length > 1 });
    await assertCancelled(r, exitedAfterMs, 1, 2);
    assert.ok(exitedAfterMs >= 1_300, `exited ${exitedAfterMs} ms after SIGINT, before runs/submit answered`);
    const submits = emu.callsTo('POST', SUBMIT);
    assert.deepEqual(
      submits.map((s) => s.fault),
      [undefined, 'slow'],
    );
    assert.deepEqual(
      submits.map((s) => s.body.tasks[0].task_key),
      ['score', 'register'],
    );
    const runId = [...emu.jobs.runs.keys()][1];
    const started = r.logLines.filter((l) => l.startsWith('Started registration run'));
    assert.deepEqual(started, [`Started registration run ${runId} (${UC_MODEL} from runs:/${candidateRun}/model, run ${candidateRun}).`]);
    assert.ok(r.logLines.indexOf('Cancellation requested (SIGINT).') < r.logLines.indexOf(started[0]), r.stdout);
  });

  it('registration run, SIGINT while the task waits for it: that run is cancelled once, nothing promoted', async () => {
    emu.jobs.notebooks.register(DEFAULT_REGISTER_NOTEBOOK_PATH, registerModelNotebook(emu).handler, { runningMs: 600_000 });
    const { r, exitedAfterMs } = await evaluateCancelled({ line: (l) => /^Registration run \d+: RUNNING$/.test(l) });
    await assertCancelled(r, exitedAfterMs, 1, 2);
    assert.deepEqual(
      emu.callsTo('POST', SUBMIT).map((s) => s.body.tasks[0].task_key),
      ['score', 'register'],
    );
  });
});
