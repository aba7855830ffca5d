/**
 * `npm run demo` end to end against the emulator: the bundled tasks run as the agent runs them, and the
 * flow concludes what it must (deploy to the tag, three training runs, promote, keep production against a
 * candidate that a guardrail and a slice stop, then serve).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { agentLogView, REPO_ROOT } from '../helpers/agent';
import { checksInWords, describeEvaluation, nextSteps } from '../../demo/run-demo';

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

describe('the demo shows task output as the agent log view does (agentLogView)', () => {
  const output = [
    '##vso[task.debug]agent.TempDirectory=/tmp/x',
    'Workspace: https://adb-1.azuredatabricks.net (personal access token)',
    '##vso[task.setprogress value=0;]PENDING, 0s elapsed',
    '##vso[task.setsecret]s3cr;et',
    'token s3cr;et and dapi-connection-token',
    '##vso[task.issue type=warning;]Could not read run 1 yet: 503',
    '##vso[task.logissue type=error;]Boom%0Aline two',
    '##vso[task.setvariable variable=runId;isOutput=true;issecret=false;]42',
    '##vso[task.complete result=Succeeded;done=true;]Done.',
  ];

  it('hides debug lines, progress and other commands; shows warnings and errors as ##[warning]/##[error]; masks secrets', () => {
    const view = agentLogView({ secrets: ['dapi-connection-token'] });
    assert.deepEqual(
      output.map(view).filter((l) => l !== undefined),
      [
        'Workspace: https://adb-1.azuredatabricks.net (personal access token)',
        'token *** and ***',
        '##[warning]Could not read run 1 yet: 503',
        '##[error]Boom\nline two',
      ],
    );
  });

  it('with debug (npm run demo -- --verbose, System.Debug true) shows the debug lines as ##[debug]', () => {
    const view = agentLogView({ debug: true });
    assert.deepEqual(output.slice(0, 2).map(view), [
      '##[debug]agent.TempDirectory=/tmp/x',
      'Workspace: https://adb-1.azuredatabricks.net (personal access token)',
    ]);
  });
});

describe("the demo's last lines (nextSteps)", () => {
  it('against a real workspace: the report, the CLI on your own predictions (the task deleted its file), the pipeline section', () => {
    const evaluation = {
      title: 'Evaluate & Promote: main.ml.churn (dry run)',
      record: '/o/evaluation-1.json',
      report: '/o/report-1.html',
      seed: '',
      resamples: '1000',
    };
    assert.deepEqual(nextSteps({ mode: 'workspace', evaluations: [evaluation] }), [
      'What next:',
      '  Open the report:',
      '    /o/report-1.html',
      '  Compare your own predictions with the CLI: npx mlops-eval compare predictions.parquet --baseline production',
      '  Put the tasks in a pipeline: README.md#a-first-pipeline',
    ]);
  });

  it('a report whose candidate failed checks says which, in words (failedChecks output)', () => {
    const evaluation = { title: 'Evaluate & Promote', record: '/o/evaluation-2.json', report: '/o/report-2.html', seed: '', resamples: '1000' };
    assert.deepEqual(nextSteps({ mode: 'workspace', evaluations: [{ ...evaluation, failedChecks: 'guardrail:brier,slice:region=south' }] }).slice(0, 3), [
      'What next:',
      '  Open the report:',
      "    /o/report-2.html (kept: the brier guardrail and the slice region=south failed; the report's guardrail and slice tables say by how much)",
    ]);
  });
});

describe('the outcome line of an evaluation (describeEvaluation, checksInWords)', () => {
  it('names every failed check: one, two, three', () => {
    assert.equal(checksInWords('guardrail:brier'), 'the brier guardrail');
    assert.equal(checksInWords('guardrail:brier,slice:region=south'), 'the brier guardrail and the slice region=south');
    assert.equal(
      checksInWords('guardrail:brier,guardrail:log_loss,slice:region=south'),
      'the brier guardrail, the log_loss guardrail and the slice region=south',
    );
  });

  it('adds them to the outcome, after the figures; without failed checks the line is as before', () => {
    const o = { decision: 'kept', promoted: 'false', winRate: '1', metricDelta: '0.01366', failedChecks: 'guardrail:brier,slice:region=south' };
    assert.equal(describeEvaluation(o), 'kept (win rate 100.0%, delta +0.0137; stopped by the brier guardrail and the slice region=south)');
    assert.equal(describeEvaluation({ ...o, failedChecks: '' }), 'kept (win rate 100.0%, delta +0.0137)');
  });
});

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
    assert.ok(lines.some((l) => l.trimStart().startsWith('--verbose ')));
    assert.ok(!/^\s+at /m.test(bad.stderr), bad.stderr);
    const help = await runDemoScript(['--help'], process.env);
    assert.equal(help.code, 0);
    assert.equal(help.stderr, '');
    assert.equal(help.stdout.split('\n')[0], 'Usage: npm run demo [-- options]');
  });

  it('deploys the release tag, trains three candidates, promotes the better one, keeps production against one a guardrail and a slice stop, then serves it', async () => {
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
    // Better overall on ROC AUC, stopped by its calibration (Brier score guardrail) and by the southern region.
    assert.ok(Number(evaluate2.outputs.metricDelta) > 0.001, evaluate2.outputs.metricDelta);
    assert.equal(evaluate2.outputs.failedChecks, 'guardrail:brier,slice:region=south');
    assertWritesOnlyScoring(evaluate1, evaluate2);
    // Every evaluation has its record and its own report, which names the models as the terminal does.
    assert.deepEqual(
      summary.evaluations.map((e: any) => [path.basename(e.record), path.basename(e.report), path.basename(e.predictions)]),
      [
        ['evaluation-1.json', 'report-1.html', 'predictions-1.arrow'],
        ['evaluation-2.json', 'report-2.html', 'predictions-2.arrow'],
      ],
    );
    const record1 = JSON.parse(readFileSync(summary.records[0], 'utf8'));
    const record2 = JSON.parse(readFileSync(summary.records[1], 'utf8'));
    assert.equal(record1.outcome, 'promoted');
    assert.equal(record2.outcome, 'kept');
    const names = (record: any) => record.models.filter((m: any) => m.role === 'candidate').map((m: any) => m.runName);
    assert.deepEqual([...names(record1)].sort(), ['logreg-012345', 'logreg-02']);
    assert.deepEqual(names(record2), ['logreg-012345-region']);
    assertChecksRecorded(record2);
    const report1 = readFileSync(summary.evaluations[0].report, 'utf8');
    const report2 = readFileSync(summary.evaluations[1].report, 'utf8');
    assert.match(report1, /<svg/);
    for (const name of ['logreg-02', 'logreg-012345']) assert.ok(report1.includes(name), name);
    assert.ok(report2.includes('logreg-012345-region') && !report2.includes('logreg-02'));
    // Its report shows the guardrail table and the slice table.
    assert.ok(report2.includes('<h2>Guardrail: Brier score (lower is better)</h2>'), 'guardrail table');
    assert.ok(report2.includes('<h2>Slices of region: fails</h2>'), 'slice table');

    assertCleanTerminal(r.stdout, outDir, summary, [record1, record2]);
    await assertCliReproduces(r.stdout, record1);
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

const CONNECTION_ID = '0d6e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a';
const D4 = '\\d\\.\\d{4}';

/** The terminal a new user reads: agent log view, words for the sign-in, one number format, names as in the report. */
function assertCleanTerminal(stdout: string, outDir: string, summary: any, [record1, record2]: any[]): void {
  const lines = stdout.split('\n');
  assert.deepEqual(
    lines.filter((l) => l.includes('##vso[') || l.includes('##[debug]')),
    [],
  );
  assert.ok(!stdout.includes(CONNECTION_ID));
  const workspaceLines = lines.filter((l) => l.trimStart().startsWith('Workspace: '));
  assert.equal(workspaceLines.length, 7);
  for (const l of workspaceLines) assert.match(l, /^ {6}Workspace: http:\/\/127\.0\.0\.1:\d+ \(personal access token\)$/);
  // Deploy created the folder and checked the tag out: it does not also say nothing changed.
  assert.ok(lines.includes('      Checked out the tag v1.0.0 in the new Git folder: it is at 7c3e1a9b5d2f4e6a8c0b1d3f5e7a9c2b4d6f8e0a.'));
  assert.ok(!stdout.includes('it already was'));
  // No progress lines ("0% 0s elapsed"): Train logs each state with the time spent.
  assert.deepEqual(
    lines.filter((l) => /\d+% .*elapsed/.test(l)),
    [],
  );
  assert.ok(lines.some((l) => /^ {6}Run \d+: RUNNING after \d+s\.$/.test(l)));
  // Step titles use the run names the report shows.
  const titles = summary.steps.map((s: any) => s.title);
  assert.deepEqual(titles.slice(1, 6), [
    'Train: logreg-02 (features 0 and 2)',
    'Train: logreg-012345 (all six features)',
    'Evaluate & Promote: logreg-02 and logreg-012345 against production (logreg-0)',
    'Train: logreg-012345-region (all six features and the region, on a class-balanced extract without the south)',
    'Evaluate & Promote: logreg-012345-region against the new production model (logreg-012345), with a Brier score guardrail and the region slices',
  ]);
  // Evaluate: one line per model with its metric and interval (4 decimals), names as in the report.
  const runOf = (record: any, name: string) => record.models.find((m: any) => m.runName === name).runId;
  const expectLine = (pattern: string) =>
    assert.ok(
      lines.some((l) => new RegExp(`^ {8}${pattern}$`).test(l)),
      pattern,
    );
  expectLine(`production \\(version 1\\): ${D4} \\[${D4}, ${D4}\\]`);
  expectLine(
    `logreg-012345 \\(MLflow run ${runOf(record1, 'logreg-012345')}\\): ${D4} \\[${D4}, ${D4}\\]; against production: \\+${D4} \\[\\+${D4}, \\+${D4}\\], better by more than 0\\.0010 in 100\\.0% of the resamples, promoted`,
  );
  expectLine(
    `logreg-02 \\(MLflow run ${runOf(record1, 'logreg-02')}\\): ${D4} \\[${D4}, ${D4}\\]; against production: \\+${D4} \\[\\+${D4}, \\+${D4}\\], better by more than 0\\.0010 in 100\\.0% of the resamples`,
  );
  expectLine(`production \\(version 2\\): ${D4} \\[${D4}, ${D4}\\]`);
  expectLine(
    `logreg-012345-region \\(MLflow run ${runOf(record2, 'logreg-012345-region')}\\): ${D4} \\[${D4}, ${D4}\\]; against production: \\+${D4} \\[\\+${D4}, \\+${D4}\\], better by more than 0\\.0010 in 100\\.0% of the resamples, best candidate`,
  );
  assertChecksExplained(lines);
  assert.ok(lines.includes(`      Promoted logreg-012345 (MLflow run ${runOf(record1, 'logreg-012345')}) as churn-demo version 2 to stage Production.`));
  assert.ok(!stdout.includes("'run_"), 'no internal column key in quotes');
  // The outcome lines: the observed win rate as a percentage with one decimal, the delta signed with 4 decimals.
  assert.ok(lines.some((l) => /^ {2}OK {2}Succeeded in \d+\.\d s: promoted version 2 \(win rate 100\.0%, delta \+0\.1\d{3}\)$/.test(l)));
  assert.ok(
    lines.some((l) =>
      /^ {2}OK {2}Succeeded in \d+\.\d s: kept \(win rate 100\.0%, delta \+0\.0\d{3}; stopped by the brier guardrail and the slice region=south\)$/.test(l),
    ),
  );
  // The last lines say what to do next.
  const next = lines.slice(lines.lastIndexOf('What next:'));
  assert.deepEqual(next, [
    'What next:',
    '  Open the reports (one per evaluation):',
    `    ${path.join(outDir, 'report-1.html')}`,
    `    ${path.join(outDir, 'report-2.html')} (kept: the brier guardrail and the slice region=south failed; the report's guardrail and slice tables say by how much)`,
    "  Compare the same predictions with the CLI (the task's seed and resamples give the task's decision):",
    `    npx mlops-eval compare ${path.join(outDir, 'predictions-1.arrow')} --baseline production --seed 20261127 --resamples 1000 --html ${path.join(outDir, 'cli-report.html')}`,
    '  Set up a real workspace: README.md#create-the-service-connection, then README.md#a-first-pipeline',
    '',
  ]);
  // Those anchors are the README's headings as GitHub names them.
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes('\n## Create the service connection\n') && readme.includes('\n## A first pipeline\n'));
}

/**
 * The terminal says why the third candidate was kept, naming the guardrail and the slice. The numbers inside
 * the engine's sentences are matched loosely (their format is the engine's), the words exactly.
 */
function assertChecksExplained(lines: string[]): void {
  const N = '[\\d.,]+';
  const expectLine = (pattern: string) =>
    assert.ok(
      lines.some((l) => new RegExp(`^ {6}${pattern}$`).test(l)),
      pattern,
    );
  expectLine(
    `Keep production: the best candidate logreg-012345-region passes the ROC AUC gate but fails the guardrail on Brier score: it worsens by more than 0\\.002\\d* in 100\\.0% of ${N} paired resamples \\(.*\\) ` +
      `and fails on slice 'south' of 'region' \\(3,?061 rows\\): its ROC AUC worsens by more than 0(\\.0+)? in 100\\.0% of that slice's ${N} resamples \\(.*\\)\\.`,
  );
  expectLine(`##\\[warning\\]Guardrail brier \\(max worsening 0\\.002\\d*\\): failed; .* in 100\\.0% of the resamples .*`);
  expectLine(`Slices of region: 4 judged \\(at least 1,?000 rows, tolerance 0(\\.0+)?\\), 0 not judged, 1 failed\\.`);
  expectLine(`##\\[warning\\]Slice region=south \\(3,?061 rows\\) failed: .* worsens roc_auc by more than 0(\\.0+)? in 100\\.0% of the slice's resamples.*`);
}

/** The record of the stopped evaluation: the guardrail and the four regions, the south worst and failed. */
function assertChecksRecorded(record: any): void {
  assert.equal(record.outcome, 'kept');
  assert.deepEqual(record.inputs.guardrails, ['brier 0.002']);
  const candidate = record.models.find((m: any) => m.role === 'candidate').key;
  assert.deepEqual(
    record.decision.guardrails.map((g: any) => [g.metric, g.maxWorsening, g.candidate, g.passed]),
    [['brier', 0.002, candidate, false]],
  );
  assert.ok(record.decision.guardrails[0].meanDelta < -0.002, String(record.decision.guardrails[0].meanDelta));
  const [regions] = record.decision.slices;
  assert.equal(record.decision.slices.length, 1);
  assert.equal(regions.column, 'region');
  assert.equal(regions.judged, 4);
  // 20,000 rows (maxRows): every region over minSliceRows 1,000; the south first (worst mean delta), the only failure.
  assert.deepEqual(
    regions.slices.map((s: any) => [s.name, s.rows, s.judged, s.passed]),
    [['south', 3061, true, false], ...regions.slices.slice(1).map((s: any) => [s.name, s.rows, true, true])],
  );
  assert.deepEqual(regions.slices.map((s: any) => s.name).sort(), ['east', 'north', 'south', 'west']);
  assert.equal(
    regions.slices.reduce((t: number, s: any) => t + s.rows, 0),
    20000,
  );
  assert.equal(record.decision.n, 20000);
}

/**
 * The stopped evaluation changed nothing in the registry: its writes are the scoring run's and the candidate
 * tag's only, while the first evaluation's include the promotion (so the comparison can fail).
 */
function assertWritesOnlyScoring(evaluate1: any, evaluate2: any): void {
  const PROMOTION = /model-versions\/create|transition-stage|registered-models\/alias|model-versions\/set-tag|registered-models\/set-tag/;
  assert.ok(
    evaluate1.writes.some((w: string) => w === 'POST /api/2.0/mlflow/databricks/model-versions/transition-stage'),
    evaluate1.writes.join('\n'),
  );
  assert.deepEqual(
    evaluate2.writes.filter((w: string) => PROMOTION.test(w)),
    [],
  );
  assert.deepEqual(
    evaluate2.writes.map((w: string) => w.replace(/\/evaluate-[^/]+\//, '/evaluate-<id>/')),
    [
      'POST /api/2.0/workspace/mkdirs',
      'POST /api/2.0/workspace/import',
      'POST /api/2.2/jobs/runs/submit',
      'DELETE /api/2.0/fs/files/Volumes/main/demo/scratch/evaluations/evaluate-<id>/predictions.arrow',
      'POST /api/2.0/mlflow/runs/set-tag',
    ],
  );
}

/** The printed CLI command runs as printed (npx resolves the workspace's mlops-eval) and reaches the task's decision. */
async function assertCliReproduces(stdout: string, record1: any): Promise<void> {
  const command = stdout
    .split('\n')
    .find((l) => l.startsWith('    npx mlops-eval compare '))!
    .trim();
  const args = command.split(' ').slice(2);
  const html = args[args.indexOf('--html') + 1];
  const json = JSON.parse(execFileSync(path.join(REPO_ROOT, 'node_modules/.bin/mlops-eval'), [...args, '--json', '--no-distributions'], { encoding: 'utf8' }));
  assert.equal(json.decision, 'promote');
  assert.equal(json.best, record1.decision.best);
  assert.equal(json.reason, record1.decision.reason);
  assert.deepEqual(
    json.models.map((m: any) => [m.name, m.estimate, m.ci]),
    record1.decision.models.map((m: any) => [m.name, m.estimate, m.ci]),
  );
  assert.ok(existsSync(html));
}
