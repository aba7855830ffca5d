/**
 * Issue 10, re-runs: each task step is killed (SIGKILL, no cleanup at all, as when an agent machine dies) at
 * a chosen moment, read from its own log, and then run again as the agent re-runs a failed step (same job
 * attempt, same task instance). The second run must converge on the state a single clean run gives, with
 * no duplicate run, Git folder, model version or promotion.
 */
import assert from 'node:assert/strict';
import type { AgentRunResult } from '../helpers/agent';
import { deployWorld, DEPLOY_PATH, evaluateWorld, runWorld, sleep, trainWorld, withEmulator, World } from './harness';

/** A route the task calls next after the kill point: answered slowly once, so the SIGKILL lands exactly there. */
type Hold = [method: string, path: string | RegExp];

/**
 * Runs the world's task and SIGKILLs it right after the first stdout line matching `at`. The call that
 * follows that line (`hold`) is answered 700 ms late (inside the 1 s per-request timeout), so the process is
 * still between the two steps when the signal arrives.
 */
async function killAt<S>(w: World<S>, at: RegExp, hold: Hold, label: string): Promise<AgentRunResult> {
  w.emu.faults.add({ method: hold[0], path: hold[1], kind: 'slow', delayMs: 700, times: 1 });
  let killed = false;
  const r = await runWorld(`${label} (killed)`, w, {
    onLine: (line, child) => {
      if (!killed && at.test(line)) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  });
  assert.ok(killed, `never reached ${at}:\n${r.stdout}`);
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(r.complete, undefined);
  // The held request (and anything else the killed process had in flight) still lands.
  await sleep(900);
  w.emu.faults.clear();
  return r;
}

describe('reliability: re-runs after a kill converge without duplicates', function () {
  this.timeout(60_000);

  describe('Train', () => {
    const points: Array<[string, RegExp, Hold]> = [
      ['right after the run was submitted', /^Run page: /, ['GET', '/api/2.2/jobs/runs/get']],
      ['while the run is RUNNING', /^Run \d+: RUNNING after /, ['GET', '/api/2.2/jobs/runs/get']],
      [
        'after the run finished, before its output was read and candidates tagged',
        /^Run \d+: TERMINATED\/SUCCESS after /,
        ['GET', '/api/2.2/jobs/runs/get-output'],
      ],
    ];
    for (const [name, at, hold] of points) {
      it(`killed ${name}: the re-run reattaches to the same Databricks run and tags its candidate once`, () =>
        withEmulator(async (emu) => {
          const w = await trainWorld(emu);
          // Long enough to be seen RUNNING (the first poll is held 700 ms).
          if (name.includes('RUNNING')) emu.jobs.durations.runningMs = 2_500;
          await killAt(w, at, hold, `train ${name}`);
          const again = await runWorld(`train ${name} (re-run)`, w);
          assert.equal(again.complete?.result, 'Succeeded', again.stdout);
          assert.deepEqual(w.state(), { runsStarted: 1, cancels: 0, taggedCandidates: 1 });
          const runNow = emu.callsTo('POST', '/api/2.2/jobs/run-now');
          assert.equal(runNow.length, 2);
          assert.equal(runNow[1].body.idempotency_token, runNow[0].body.idempotency_token);
          assert.equal(again.outputs.runId, String([...emu.jobs.runs.keys()][0]));
        }));
    }
  });

  describe('Deploy', () => {
    const points: Array<[string, RegExp, Hold]> = [
      ['right after the Git folder was created', /^Created Git folder /, ['PATCH', /^\/api\/2\.0\/repos\/\d+$/]],
      ['while the checkout of an existing folder is in flight', /^Found Git folder /, ['PATCH', /^\/api\/2\.0\/repos\/\d+$/]],
    ];
    for (const [name, at, hold] of points) {
      it(`killed ${name}: the re-run finds the folder and ends at the commit, one folder`, () =>
        withEmulator(async (emu) => {
          const w = await deployWorld(emu);
          if (name.includes('existing')) emu.repos.addRepo({ path: DEPLOY_PATH, url: w.inputs.repoUrl!, provider: 'azureDevOpsServices' });
          await killAt(w, at, hold, `deploy ${name}`);
          const again = await runWorld(`deploy ${name} (re-run)`, w);
          assert.deepEqual(again.complete, { result: 'Succeeded', message: `Git folder ${DEPLOY_PATH} is at ${'2'.repeat(40)} (branch release).` });
          assert.deepEqual(w.state(), { folders: 1, branch: 'release', head: '2'.repeat(40) });
          assert.equal(emu.callsTo('POST', '/api/2.0/repos').length, name.includes('existing') ? 0 : 1);
        }));
    }
  });

  describe('Evaluate & Promote', () => {
    it('killed right after the scoring run was submitted: the re-run reuses that scoring run, one version, one promotion', () =>
      withEmulator(async (emu) => {
        const w = await evaluateWorld(emu);
        await killAt(w, /^Started scoring run \d+\.$/, ['GET', '/api/2.2/jobs/runs/get'], 'evaluate after submit');
        const again = await runWorld('evaluate after submit (re-run)', w);
        assert.equal(again.complete?.result, 'Succeeded', again.stdout);
        assert.match(again.complete!.message, /^Promoted run [0-9a-f]+ as churn version 2 to stage Production\./);
        assert.deepEqual(w.state(), { versions: 2, production: '2', promotions: 1, scoringRuns: 1, candidatesLeft: 0 });
        const submits = emu.callsTo('POST', '/api/2.2/jobs/runs/submit');
        assert.equal(submits.length, 2);
        assert.equal(submits[1].body.idempotency_token, submits[0].body.idempotency_token);
        assert.equal(w.notebookCalls, 1);
      }));

    it("killed just after 'Registered run ... as churn version 2.' (predictions already read and deleted): the re-run scores afresh once, one version, one promotion", () =>
      withEmulator(async (emu) => {
        const w = await evaluateWorld(emu);
        await killAt(w, /^Registered run [0-9a-f]+ as churn version 2\.$/, ['GET', '/api/2.0/mlflow/model-versions/get'], 'evaluate after registration');
        assert.equal(emu.mlflow.stageOf('churn', '2'), 'None');
        const again = await runWorld('evaluate after registration (re-run)', w);
        assert.equal(again.complete?.result, 'Succeeded', again.stdout);
        assert.match(again.complete!.message, new RegExp(`^Promoted run ${w.candidateRunId} as churn version 2 to stage Production\\.`));
        // The same finished scoring run came back by its token, without its file: one fresh run, then the version is reused.
        assert.deepEqual(w.state(), { versions: 2, production: '2', promotions: 1, scoringRuns: 2, candidatesLeft: 0 });
        assert.equal(w.notebookCalls, 2);
        const submits = emu.callsTo('POST', '/api/2.2/jobs/runs/submit');
        assert.equal(submits.length, 3);
        assert.equal(submits[1].body.idempotency_token, submits[0].body.idempotency_token);
        assert.notEqual(submits[2].body.idempotency_token, submits[0].body.idempotency_token);
        const [first, fresh] = [...emu.jobs.runs.keys()];
        assert.ok(
          again.logLines.some((l) =>
            new RegExp(
              `^The predictions file /Volumes/main/ml/scratch/eval/evaluate-[^ ]+/predictions\\.arrow of Scoring run ${first} \\(.*\\) no longer exists \\(an earlier attempt of this step read and deleted it`,
            ).test(l),
          ),
          again.stdout,
        );
        assert.ok(again.logLines.includes(`Started scoring run ${fresh}.`), again.stdout);
        assert.ok(again.logLines.includes(`Run ${w.candidateRunId} is already registered as churn version 2; reusing it.`), again.stdout);
        assert.equal(emu.callsTo('POST', '/api/2.0/mlflow/model-versions/create').length, 1);
        assert.equal(emu.callsTo('POST', '/api/2.0/mlflow/databricks/model-versions/transition-stage').length, 1);
        // A third attempt (another kill) would walk the same token sequence: the fresh run's token is fixed.
        assert.equal(emu.mlflow.workspaceRegistry.models.get('churn')!.tags.size, 0);
      }));

    it('killed while holding the promotion claim: the re-run (same step) takes its own claim over and promotes once, no claim left', () =>
      withEmulator(async (emu) => {
        const w = await evaluateWorld(emu);
        await killAt(
          w,
          /^Claimed the promotion of churn version 2 \(mlops\.promotion\.claim\)/,
          ['POST', '/api/2.0/mlflow/model-versions/set-tag'],
          'evaluate holding the claim',
        );
        // (The settle interval after that line keeps the step from its next call while the signal lands.)
        const left = emu.mlflow.workspaceRegistry.models.get('churn')!.tags.get('mlops.promotion.claim');
        assert.match(left ?? '', /^owner=build \d+, step [^;]+;version=2;/);
        const again = await runWorld('evaluate holding the claim (re-run)', w);
        assert.equal(again.complete?.result, 'Succeeded', again.stdout);
        assert.deepEqual(w.state(), { versions: 2, production: '2', promotions: 1, scoringRuns: 2, candidatesLeft: 0 });
        const claims = emu.callsTo('POST', '/api/2.0/mlflow/registered-models/set-tag').map((c) => c.body.value as string);
        assert.equal(claims.length, 2);
        assert.equal(claims[1].split(';nonce=')[0].split(';at=')[0], claims[0].split(';nonce=')[0].split(';at=')[0], 'same owner and version');
        assert.notEqual(claims[1], claims[0]);
        assert.equal(emu.mlflow.workspaceRegistry.models.get('churn')!.tags.size, 0);
      }));

    it('killed right after the transition: the re-run sees its candidate in production, promotes nothing more, resets the tag', () =>
      withEmulator(async (emu) => {
        const w = await evaluateWorld(emu);
        await killAt(w, /^Promoted .+ as churn version 2 to stage Production\.$/, ['POST', '/api/2.0/mlflow/runs/set-tag'], 'evaluate after transition');
        assert.equal(emu.mlflow.stageOf('churn', '2'), 'Production');
        const again = await runWorld('evaluate after transition (re-run)', w);
        assert.equal(again.complete?.result, 'Succeeded', again.stdout);
        assert.ok(again.logLines.includes(`Candidate run ${w.candidateRunId} is already production version 2; not compared with itself.`), again.stdout);
        assert.equal(again.outputs.decision, 'noCandidates');
        assert.deepEqual(w.state(), { versions: 2, production: '2', promotions: 1, scoringRuns: 1, candidatesLeft: 0 });
        assert.equal(emu.callsTo('POST', '/api/2.0/mlflow/model-versions/create').length, 1);
        assert.equal(emu.callsTo('POST', '/api/2.0/mlflow/databricks/model-versions/transition-stage').length, 1);
      }));
  });
});
