/**
 * `npm run demo` end to end against the emulator: the bundled tasks run as the agent runs them, and the
 * flow concludes what it must (deploy to the tag, three training runs, promote, then keep).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/agent';

function runDemoScript(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts/demo.mjs'), ...args], { cwd: REPO_ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo (local workspace emulator)', function () {
  this.timeout(240_000);

  it('a mistyped flag gets the usage and exit code 2, no stack trace; --help prints the usage', async () => {
    const bad = await runDemoScript(['--no-build', '--bogus'], process.env);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    const lines = bad.stderr.split('\n');
    assert.equal(lines[0], "npm run demo: Unknown option '--bogus'");
    assert.equal(lines[2], 'Usage: npm run demo [-- options]');
    assert.ok(lines.some((l) => l.trimStart().startsWith('--local ')));
    assert.ok(!/^\s+at /m.test(bad.stderr), bad.stderr);
    const help = await runDemoScript(['--help'], process.env);
    assert.equal(help.code, 0);
    assert.equal(help.stderr, '');
    assert.equal(help.stdout.split('\n')[0], 'Usage: npm run demo [-- options]');
  });

  it('deploys the release tag, trains three candidates, promotes the better one, keeps production against a weaker one, then serves it', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'demo-'));
    // A Databricks CLI user has these exported: --local keeps the demo on the emulator anyway.
    const env = { ...process.env, DATABRICKS_HOST: 'https://adb-1234567890123456.7.azuredatabricks.net', DATABRICKS_TOKEN: 'dapi-not-a-real-token' };
    const r = await runDemoScript(['--no-build', '--local', '--out-dir', outDir], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(
      r.stdout.startsWith('--local: DATABRICKS_HOST and DATABRICKS_TOKEN are set but not used; the demo runs against the local emulator.\n'),
      r.stdout.slice(0, 300),
    );
    assert.ok(!(r.stdout + r.stderr).includes('dapi-not-a-real-token'));
    const summary = JSON.parse(readFileSync(path.join(outDir, 'summary.json'), 'utf8'));
    assert.equal(summary.mode, 'emulator');
    assert.equal(summary.ok, true);
    assert.deepEqual(
      summary.steps.map((s: any) => [s.task, s.result]),
      [
        ['DatabricksReposDeployV1', 'Succeeded'],
        ['DatabricksTrainV1', 'Succeeded'],
        ['DatabricksTrainV1', 'Succeeded'],
        ['DatabricksEvaluatePromoteV1', 'Succeeded'],
        ['DatabricksTrainV1', 'Succeeded'],
        ['DatabricksEvaluatePromoteV1', 'Succeeded'],
        ['DatabricksServingDeployV1', 'Succeeded'],
      ],
    );
    const [deploy, trainA, trainB, evaluate1, trainC, evaluate2, serve] = summary.steps;
    assert.equal(deploy.outputs.tag, 'v1.0.0');
    assert.equal(deploy.outputs.headCommitId, '7c3e1a9b5d2f4e6a8c0b1d3f5e7a9c2b4d6f8e0a');
    // The better candidate (all six informative features) wins for a real reason.
    assert.equal(evaluate1.outputs.decision, 'promoted');
    assert.equal(evaluate1.outputs.bestCandidateRunId, trainB.outputs.candidateRunIds);
    assert.notEqual(evaluate1.outputs.bestCandidateRunId, trainA.outputs.candidateRunIds);
    assert.equal(evaluate1.outputs.productionVersion, '1');
    assert.equal(evaluate1.outputs.modelVersion, '2');
    assert.equal(evaluate2.outputs.decision, 'kept');
    assert.equal(evaluate2.outputs.promoted, 'false');
    assert.equal(evaluate2.outputs.productionVersion, '2');
    assert.equal(evaluate2.outputs.bestCandidateRunId, trainC.outputs.candidateRunIds);
    // The records and the HTML report exist and agree with the outputs.
    const record1 = JSON.parse(readFileSync(summary.records[0], 'utf8'));
    assert.equal(record1.outcome, 'promoted');
    const html = readFileSync(summary.reportPath, 'utf8');
    assert.match(html, /<svg/);
    // The promoted model is served and answers the one smoke request with one prediction per record.
    assert.equal(serve.outputs.servedVersion, '2');
    assert.equal(serve.outputs.trafficPercent, '100');
    assert.equal(serve.outputs.previousVersion, '');
    assert.match(serve.outputs.endpointUrl, /^http:\/\/127\.0\.0\.1:\d+\/serving-endpoints\/churn-demo\/invocations$/);
    assert.equal(serve.message, 'Endpoint churn-demo serves churn-demo version 2 with 100% of the traffic; the smoke test passed.');
    assert.match(r.stdout, /Smoke test passed: 3 prediction\(s\), e\.g\. 0\.\d+\./);
    assert.match(r.stdout, /Demo finished in \d+\.\d s\./);
  });
});
