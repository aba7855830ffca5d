/**
 * Issue 10, cancellation: the agent cancels a step with SIGINT, waits 7.5 s, then SIGTERM. Each bundled
 * task, signalled while it waits, must cancel the Databricks run it started (within that window), exit, and
 * leave nothing promoted; SIGTERM alone (an agent killed without the polite signal) likewise.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { DEFAULT_NOTEBOOK_PATH } from '../../src/tasks/evaluate/inputs';
import type { AgentRunResult } from '../helpers/agent';
import { deployWorld, evaluateWorld, runWorld, SHA_MAIN, trainWorld, withEmulator } from './harness';

/** The agent's window between SIGINT and SIGTERM. */
const AGENT_WINDOW_MS = 7_500;

interface Signalled {
  r: AgentRunResult;
  sentAt: number;
  exitedAfterMs: number;
}

/** Sends `signal` once, the first time a stdout line matches `when`; records when the process exited. */
function signalOn(when: RegExp, signal: NodeJS.Signals) {
  const s = { sentAt: 0 };
  return {
    s,
    onLine: (line: string, child: ChildProcess) => {
      if (s.sentAt === 0 && when.test(line)) {
        s.sentAt = Date.now();
        child.kill(signal);
      }
    },
  };
}

async function finish(p: Promise<AgentRunResult>, s: { sentAt: number }): Promise<Signalled> {
  const r = await p;
  const exitedAt = Date.now();
  assert.ok(s.sentAt > 0, `the signal was never sent:\n${r.stdout}`);
  return { r, sentAt: s.sentAt, exitedAfterMs: exitedAt - s.sentAt };
}

describe('reliability: cancellation (SIGINT / SIGTERM while the task waits)', function () {
  this.timeout(60_000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`Train, ${signal} while the run is RUNNING: the run is cancelled within the window, the step ends Cancelled`, () =>
      withEmulator(async (emu) => {
        const w = await trainWorld(emu);
        emu.jobs.durations.runningMs = 600_000;
        const sig = signalOn(/^Run \d+: RUNNING after /, signal);
        const { r, sentAt, exitedAfterMs } = await finish(runWorld(`train ${signal}`, w, { onLine: sig.onLine }), sig.s);
        const runId = [...emu.jobs.runs.keys()][0];
        assert.equal(emu.jobs.runs.size, 1);
        const cancels = emu.callsTo('POST', '/api/2.2/jobs/runs/cancel');
        assert.deepEqual(
          cancels.map((c) => c.body),
          [{ run_id: runId }],
        );
        assert.ok(cancels[0].at - sentAt < AGENT_WINDOW_MS, `cancel arrived ${cancels[0].at - sentAt} ms after ${signal}`);
        assert.deepEqual(
          emu.jobs.cancels.map((c) => c.runId),
          [runId],
        );
        assert.ok(exitedAfterMs < AGENT_WINDOW_MS, `exited ${exitedAfterMs} ms after ${signal}`);
        assert.ok(r.logLines.includes(`Cancellation requested (${signal}).`), r.stdout);
        assert.deepEqual(r.complete, { result: 'Cancelled', message: `Cancelled by ${signal}.` });
        // Nothing after the cancel: no candidate was tagged.
        assert.equal(emu.callsTo('POST', '/api/2.0/mlflow/runs/set-tag').length, 0);
      }));

    it(`Evaluate, ${signal} while the scoring run is RUNNING: the scoring run is cancelled, nothing registered or promoted`, () =>
      withEmulator(async (emu) => {
        const w = await evaluateWorld(emu);
        emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, () => ({ exitValue: '{}' }), { runningMs: 600_000 });
        const sig = signalOn(/^Scoring run \d+: RUNNING/, signal);
        const { r, sentAt, exitedAfterMs } = await finish(runWorld(`evaluate ${signal}`, w, { onLine: sig.onLine }), sig.s);
        const runId = [...emu.jobs.runs.keys()][0];
        const cancels = emu.callsTo('POST', '/api/2.2/jobs/runs/cancel');
        assert.deepEqual(
          cancels.map((c) => c.body),
          [{ run_id: runId }],
        );
        assert.ok(cancels[0].at - sentAt < AGENT_WINDOW_MS, `cancel arrived ${cancels[0].at - sentAt} ms after ${signal}`);
        assert.ok(exitedAfterMs < AGENT_WINDOW_MS, `exited ${exitedAfterMs} ms after ${signal}`);
        assert.deepEqual(r.complete, { result: 'Cancelled', message: `Cancelled by ${signal}.` });
        assert.deepEqual(w.state(), { versions: 1, production: w.productionVersion, promotions: 0, scoringRuns: 1, candidatesLeft: 1 });
      }));

    it(`Deploy, ${signal} during a slow checkout: the process exits within the window, the step ends Cancelled`, () =>
      withEmulator(async (emu) => {
        const w = await deployWorld(emu);
        emu.repos.addRepo({ path: w.inputs.repoPath!, url: w.inputs.repoUrl!, provider: 'azureDevOpsServices' });
        // The checkout answers after 9 s (within the normal per-request timeout); the agent cancels meanwhile.
        emu.faults.add({ method: 'PATCH', path: /^\/api\/2\.0\/repos\/\d+$/, kind: 'slow', delayMs: 9_000 });
        const sig = signalOn(/^Found Git folder /, signal);
        const { r, exitedAfterMs } = await finish(
          runWorld(`deploy ${signal}`, w, { env: { DATABRICKS_MLOPS_REQUEST_TIMEOUT_MS: '60000' }, onLine: (l, c) => setTimeout(() => sig.onLine(l, c), 300) }),
          sig.s,
        );
        assert.ok(exitedAfterMs < AGENT_WINDOW_MS, `exited ${exitedAfterMs} ms after ${signal}`);
        assert.deepEqual(r.complete, { result: 'Cancelled', message: `Cancelled by ${signal}.` });
        assert.equal(emu.repos.list().length, 1);
        assert.equal(emu.callsTo('PATCH', /^\/api\/2\.0\/repos\/\d+$/).length, 1);
        // The checkout was in flight: the folder may or may not have moved yet, but it was never created twice.
        assert.equal(emu.repos.findByPath(w.inputs.repoPath!)?.headCommitId, SHA_MAIN);
      }));
  }

  it('Evaluate, SIGINT while waiting for the new version to become READY: nothing is promoted', () =>
    withEmulator(async (emu) => {
      const w = await evaluateWorld(emu);
      emu.mlflow.setVersionStuck('churn', 'PENDING_REGISTRATION');
      const sig = signalOn(/^Registered run [0-9a-f]+ as churn version 2\.$/, 'SIGINT');
      const { r, exitedAfterMs } = await finish(
        runWorld('evaluate SIGINT at READY wait', w, { inputs: { readyTimeoutSeconds: '60' }, onLine: sig.onLine }),
        sig.s,
      );
      assert.ok(exitedAfterMs < AGENT_WINDOW_MS, `exited ${exitedAfterMs} ms after SIGINT`);
      assert.deepEqual(r.complete, { result: 'Cancelled', message: 'Cancelled by SIGINT.' });
      assert.deepEqual(w.state(), { versions: 2, production: w.productionVersion, promotions: 0, scoringRuns: 1, candidatesLeft: 1 });
      assert.equal(emu.callsTo('POST', /transition-stage$/).length, 0);
    }));

  it('Train, SIGINT when the cancel call itself hangs: the process still exits within the window (the cleanup budget ends the wait)', () =>
    withEmulator(async (emu) => {
      const w = await trainWorld(emu);
      emu.jobs.durations.runningMs = 600_000;
      emu.faults.add({ method: 'POST', path: '/api/2.2/jobs/runs/cancel', kind: 'slow', delayMs: 9_000, times: Infinity });
      const sig = signalOn(/^Run \d+: RUNNING after /, 'SIGINT');
      const { r, exitedAfterMs } = await finish(
        runWorld('train SIGINT hanging cancel', w, { env: { DATABRICKS_MLOPS_REQUEST_TIMEOUT_MS: '60000' }, onLine: sig.onLine }),
        sig.s,
      );
      assert.ok(exitedAfterMs < AGENT_WINDOW_MS, `exited ${exitedAfterMs} ms after SIGINT`);
      assert.equal(r.complete?.result, 'Cancelled');
      assert.equal(emu.callsTo('POST', '/api/2.2/jobs/runs/cancel').length >= 1, true);
    }));
});
