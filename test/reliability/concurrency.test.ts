/**
 * Issue 10, concurrency: two Evaluate & Promote steps (two pipelines, each with its own candidate) racing
 * on the same registered model. At most one promotes; the other fails naming the version that changed (or
 * is being promoted) under it, keeps its candidate tagged and leaves its registered version unpromoted.
 * The steps coordinate through the promotion claim (src/tasks/evaluate/claim.ts): a registered-model tag
 * that must stand for a settle interval, with production re-read before and after the transition.
 */
import assert from 'node:assert/strict';
import type { AgentRunResult } from '../helpers/agent';
import { evaluateWorld, EvaluateWorld, runWorld, withEmulator } from './harness';

const INSTANCE_A = '0c1d2e3f-4a5b-4c6d-8e7f-00000000000a';
const INSTANCE_B = '0c1d2e3f-4a5b-4c6d-8e7f-00000000000b';
/** No client-side timeout of its own gets in the way while a scoring poll is held open on purpose. */
const PATIENT = { DATABRICKS_MLOPS_REQUEST_TIMEOUT_MS: '60000' };

function race(w: EvaluateWorld, label: string, env: Record<string, string> = {}): Promise<[AgentRunResult, AgentRunResult]> {
  const a = runWorld(`${label} A`, w, { variables: { 'System.TaskInstanceId': INSTANCE_A, 'Build.BuildId': '501' }, env: { ...PATIENT, ...env } });
  const b = runWorld(`${label} B`, w, {
    inputs: { candidateTag: 'candidateB' },
    variables: { 'System.TaskInstanceId': INSTANCE_B, 'Build.BuildId': '502' },
    env: { ...PATIENT, ...env },
  });
  return Promise.all([a, b]);
}

describe('reliability: concurrency (two Evaluate & Promote steps racing on one model)', function () {
  this.timeout(60_000);

  it('B decides while A promotes: A promotes version 2, B fails naming version 2 and promotes nothing', () =>
    withEmulator(async (emu) => {
      const w = await evaluateWorld(emu);
      const runA = w.candidateRunId;
      const runB = w.addCandidate('better-b', 0.4, 'candidateB');
      let promotedByA: () => void = () => undefined;
      const aPromoted = new Promise<void>((resolve) => (promotedByA = resolve));
      // B's scoring finishes only once A's transition has been applied: both compared against version 1.
      w.onScore = (keys) => (keys.includes(`run_${runB}`) ? aPromoted : undefined);
      const poll = setInterval(() => {
        if (emu.mlflow.versions('churn').some((v) => v.version === '2') && emu.mlflow.stageOf('churn', '2') === 'Production') promotedByA();
      }, 10);
      try {
        const [a, b] = await race(w, 'race held');
        assert.equal(a.complete?.result, 'Succeeded', a.stdout);
        assert.match(a.complete!.message, new RegExp(`^Promoted run ${runA} as churn version 2 to stage Production\\.`));
        assert.equal(b.complete?.result, 'Failed', b.stdout);
        assert.match(
          b.complete!.message,
          /^The production model changed during the evaluation: it was version 1 when the models were compared and is now version 2\. Nothing was promoted \(version 3 stays registered\); run the evaluation again\.$/,
        );
        assert.equal(emu.mlflow.stageOf('churn', '2'), 'Production');
        assert.equal(emu.mlflow.stageOf('churn', '3'), 'None');
        assert.equal(emu.mlflow.versions('churn').find((v) => v.version === '3')?.run_id, runB);
        assert.deepEqual(
          emu.mlflow.transitions('churn').map((t) => [t.version, t.to]),
          [['2', 'Production']],
        );
        assert.equal(emu.mlflow.runTags(runA).candidate, 'false');
        assert.equal(emu.mlflow.runTags(runB).candidateB, 'true');
      } finally {
        clearInterval(poll);
      }
    }));

  /**
   * Checks a finished race: exactly one step succeeded and its version is the one production holds, after
   * exactly one transition into Production; the other failed naming that version and its own version,
   * which stays registered and unpromoted, with its candidate still tagged.
   */
  function assertOneWinner(w: EvaluateWorld, a: AgentRunResult, b: AgentRunResult, runB: string): void {
    const results = [a, b].map((r) => r.complete?.result);
    const detail = `A: ${a.complete?.result} ${a.complete?.message}\nB: ${b.complete?.result} ${b.complete?.message}`;
    const promotions = w.emu.mlflow.transitions('churn').filter((t) => t.to === 'Production');
    assert.equal(promotions.length, 1, `transitions into Production: ${JSON.stringify(promotions.map((t) => t.version))}\n${detail}`);
    assert.deepEqual([...results].sort(), ['Failed', 'Succeeded'], detail);
    const [winner, loser] = a.complete?.result === 'Succeeded' ? [a, b] : [b, a];
    const won = winner.outputs.modelVersion;
    assert.match(won, /^[23]$/);
    const lost = won === '2' ? '3' : '2';
    assert.equal(promotions[0].version, won);
    assert.equal(w.state().production, won);
    assert.equal(w.emu.mlflow.stageOf('churn', lost), 'None');
    assert.match(winner.complete!.message, new RegExp(`^Promoted run [0-9a-f]{32} as churn version ${won} to stage Production\\.`));
    // The loser names the version that changed (or is being promoted) under it, and its own version.
    const names = [
      `^Another Evaluate & Promote step \\(build 50[12], step ${'[0-9a-f-]{36}'}\\) is promoting churn version ${won} \\(claimed at [^)]+\\)\\.`,
      `^Another Evaluate & Promote step \\(build 50[12], step ${'[0-9a-f-]{36}'}\\) claimed the promotion of churn version ${won} at the same time \\(at [^)]+\\), after this step\\.`,
      `^The production model changed during the evaluation: it was version 1 when the models were compared and is now version ${won}\\.`,
    ];
    assert.ok(
      names.some((n) => new RegExp(n).test(loser.complete!.message)),
      `loser message: ${loser.complete!.message}`,
    );
    assert.ok(loser.complete!.message.includes(` Nothing was promoted (version ${lost} stays registered); run the evaluation again`), loser.complete!.message);
    const loserRun = loser === b ? runB : w.candidateRunId;
    const loserTag = loser === b ? 'candidateB' : 'candidate';
    assert.equal(w.emu.mlflow.runTags(loserRun)[loserTag], 'true', 'the loser keeps its candidate tagged');
    assert.equal(w.emu.mlflow.versions('churn').find((v) => v.version === lost)?.run_id, loserRun);
    assert.equal(w.emu.mlflow.workspaceRegistry.models.get('churn')!.tags.get('mlops.promotion.claim'), undefined, 'no claim left behind');
  }

  for (let round = 1; round <= 5; round++) {
    it(`free race, round ${round}: exactly one promotes; the other names the version it lost to and its own`, () =>
      withEmulator(async (emu) => {
        const w = await evaluateWorld(emu);
        const runB = w.addCandidate('better-b', 0.4, 'candidateB');
        const [a, b] = await race(w, `race free ${round}`);
        console.log(
          `      round ${round}: A ${a.complete?.result}, B ${b.complete?.result}; loser: ${(a.complete?.result === 'Failed' ? a : b).complete?.message.slice(0, 90)}...`,
        );
        assertOneWinner(w, a, b, runB);
      }));
  }

  it('the first transition is answered 1.5 s late: the slow step still wins alone, the other names its version', () =>
    withEmulator(async (emu) => {
      const w = await evaluateWorld(emu);
      const runB = w.addCandidate('better-b', 0.4, 'candidateB');
      const slow = emu.faults.add({
        method: 'POST',
        path: '/api/2.0/mlflow/databricks/model-versions/transition-stage',
        kind: 'slow',
        delayMs: 1500,
        times: 1,
      });
      const [a, b] = await race(w, 'race slow transition');
      assert.equal(slow.hits, 1);
      assertOneWinner(w, a, b, runB);
      // The held transition was the winner's: it was in flight while the loser looked, and it is what production shows.
      const transitions = emu.callsTo('POST', '/api/2.0/mlflow/databricks/model-versions/transition-stage');
      assert.equal(transitions.length, 1);
    }));

  for (let round = 1; round <= 3; round++) {
    it(`lockstep race, round ${round}: both read the claim free and both write one; the later claim stands, exactly one promotes`, () =>
      withEmulator(async (emu) => {
        const w = await evaluateWorld(emu);
        const runB = w.addCandidate('better-b', 0.4, 'candidateB');
        let arrived = 0;
        let release: () => void = () => undefined;
        const both = new Promise<void>((resolve) => (release = resolve));
        w.onScore = () => {
          if (++arrived === 2) release();
          return both;
        };
        // Both claim writes take effect 400 ms late, so the second step reads the claim free while the first
        // write is in flight and both write theirs (inside the 1 s settle interval: both claims count, and
        // the re-read after the settle interval decides).
        const held = emu.faults.add({ method: 'POST', path: '/api/2.0/mlflow/registered-models/set-tag', kind: 'slow', delayMs: 400, times: 2 });
        const [a, b] = await race(w, `race lockstep ${round}`, { DATABRICKS_MLOPS_PROMOTION_SETTLE_MS: '1000' });
        assert.equal(arrived, 2);
        assert.equal(held.hits, 2);
        const claims = emu.callsTo('POST', '/api/2.0/mlflow/registered-models/set-tag');
        assert.equal(claims.length, 2, 'both steps wrote a claim');
        // The claim written last is the one that stood: its step won.
        const lastOwner = /^owner=build (50[12]),/.exec(claims[1].body.value)![1];
        assert.equal((lastOwner === '501' ? a : b).complete?.result, 'Succeeded');
        console.log(
          `      round ${round}: A ${a.complete?.result}, B ${b.complete?.result}; claims written ${claims.length}; loser: ${(a.complete?.result === 'Failed' ? a : b).complete?.message.slice(0, 110)}...`,
        );
        assertOneWinner(w, a, b, runB);
      }));
  }
});
