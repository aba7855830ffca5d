/**
 * Builds test/fixtures/evaluation-record.json: a decision record exactly as Evaluate & Promote attaches it
 * (typed as its `DecisionRecord`, so a change of that type breaks this build), whose `decision` is the real
 * engine's answer on the demo's synthetic data: three logistic candidates that see different features,
 * against a production model, compared with the seeded paired bootstrap.
 *
 * One candidate clearly wins, one is better on almost every resample but by more than min Δ on almost none (not a win), one is worse; so the
 * record exercises every colour of the paired-difference chart.
 * Regenerate: npx tsc -p . && node out/test/ui/generate-fixture.js
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateDataset, predictProba, trainLogistic } from '../../demo/synthetic';
import { compareModels } from '../../src/engine';
import type { DecisionRecord, RecordModel } from '../../src/tasks/evaluate/report';

export const FIXTURE_PATH = path.resolve(__dirname, '../../../test/fixtures/evaluation-record.json');

const WORKSPACE = 'https://adb-1234567890123456.7.azuredatabricks.net';
const MODEL = 'main.ml.churn_classifier';
const EXPERIMENT = '4213';

const CANDIDATES = [
  { runId: '9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8', runName: 'logreg_all_features', features: [0, 1, 2, 3, 4, 5] },
  { runId: '5c8a2e1f9d3b47c6a0e4f7b2d1c9a8e3', runName: 'logreg_plus_f5', features: [0, 1, 2, 5] },
  { runId: 'e7d4a9c2b5f14e8a9c3d6b0f2a7e5c41', runName: 'logreg_no_f2', features: [0, 1, 3, 4] },
];
const PRODUCTION = { runId: '3f2c9a1be0d44c7f9e21b6a4c8d05e17', version: '7', features: [0, 1, 2] };
const PROMOTED_VERSION = '8';

const runUrl = (runId: string): string => `${WORKSPACE}/#mlflow/experiments/${EXPERIMENT}/runs/${runId}`;
const versionUrl = (v: string): string => `${WORKSPACE}/explore/data/models/main/ml/churn_classifier/version/${v}`;

export function buildFixture(): DecisionRecord {
  const train = generateDataset(4000, 'fixture-train');
  const evaluation = generateDataset(3000, 'fixture-eval');
  const columns = [
    { name: 'production', scores: predictProba(trainLogistic(train, PRODUCTION.features), evaluation) },
    ...CANDIDATES.map((c) => ({ name: `run_${c.runId}`, scores: predictProba(trainLogistic(train, c.features), evaluation) })),
  ];
  const decision = compareModels(
    { n: evaluation.n, labels: evaluation.labels, columns },
    {
      baseline: 'production',
      metric: 'roc_auc',
      method: 'bootstrap',
      resamples: 1000,
      seed: 20251126,
      winRate: 0.95,
      minDelta: 0.005,
      confidence: 0.95,
      minMetric: 0.75,
    },
  );
  const best = CANDIDATES.find((c) => `run_${c.runId}` === decision.best);
  if (decision.decision !== 'promote' || !best) throw new Error(`the fixture expects a promotion, the engine said ${decision.decision}`);

  const models: RecordModel[] = [
    ...CANDIDATES.map((c): RecordModel => ({
      key: `run_${c.runId}`,
      role: 'candidate',
      runId: c.runId,
      runName: c.runName,
      experimentId: EXPERIMENT,
      runUrl: runUrl(c.runId),
      uri: `runs:/${c.runId}/model`,
    })),
    {
      key: 'production',
      role: 'production',
      runId: PRODUCTION.runId,
      version: PRODUCTION.version,
      versionUrl: versionUrl(PRODUCTION.version),
      uri: `models:/${MODEL}/${PRODUCTION.version}`,
    },
  ];
  const buildId = '4321';
  return {
    schema: 'mlopspipelines.evaluation/v1',
    outcome: 'promoted',
    sentence: `Promoted run ${best.runId} as ${MODEL} version ${PROMOTED_VERSION} to alias champion. ${decision.reason}`,
    dryRun: false,
    registry: { kind: 'unityCatalog', modelName: MODEL, target: 'alias champion' },
    production: { version: PRODUCTION.version, runId: PRODUCTION.runId, versionUrl: versionUrl(PRODUCTION.version) },
    best: { key: `run_${best.runId}`, runId: best.runId, runUrl: runUrl(best.runId) },
    promotion: { version: PROMOTED_VERSION, versionUrl: versionUrl(PROMOTED_VERSION), reusedExistingVersion: true, applied: true },
    models,
    skippedCandidates: [{ runId: '0a1b2c3d4e5f40718293a4b5c6d7e8f9', experimentId: EXPERIMENT, reason: "no logged model at artifact path 'model'" }],
    inputs: {
      metric: 'roc_auc',
      method: 'bootstrap',
      resamples: 1000,
      seed: '20251126',
      winRate: 0.95,
      minDelta: 0.005,
      minMetric: 0.75,
      confidence: 0.95,
      experiments: ['/Shared/churn'],
      candidateTag: 'candidate',
      modelArtifactPath: 'model',
      predictionsSource: 'file',
      evaluationTable: null,
      evaluationQuery: null,
      labelColumn: 'label',
      maxRows: null,
      dryRun: false,
      resetCandidateTags: false,
    },
    data: { rows: decision.n, positives: decision.positives },
    decision,
    context: {
      modelName: MODEL,
      registry: 'unity-catalog',
      productionVersion: PRODUCTION.version,
      promotedVersion: PROMOTED_VERSION,
      bestCandidateRunId: best.runId,
      buildId,
      runs: Object.fromEntries(models.map((m) => [m.key, { runId: m.runId, url: m.role === 'production' ? m.versionUrl : m.runUrl, version: m.version }])),
      links: {
        build: `https://dev.azure.com/contoso/churn/_build/results?buildId=${buildId}`,
        productionModel: versionUrl(PRODUCTION.version),
        promotedModel: versionUrl(PROMOTED_VERSION),
        bestCandidateRun: runUrl(best.runId),
      },
      startedAt: '2025-11-26T21:14:03.512Z',
      finishedAt: '2025-11-26T21:16:41.087Z',
      workspaceUrl: WORKSPACE,
      buildNumber: '20251126.4',
      jobAttempt: '1',
      sourceVersion: '4b8f0c2d9e1a7b3c5d6e8f0a1b2c3d4e5f6a7b8c',
      sourceBranch: 'refs/heads/main',
      scoringRunId: null,
      scoringRunUrl: null,
      predictionsPath: '/tmp/predictions.arrow',
    },
  };
}

/** The fixture file's text: the record serialised as the task serialises it (2-space JSON, trailing newline). */
/**
 * The reason as the fixture stores it: written before the engine's reasons took the report's number format
 * (src/engine/format.ts; before, 4 significant digits). The fixture stands for a record written then: its pages
 * must stay byte-identical (report-v2.test.ts), so it keeps the stored text; everything else is today's output.
 */
export const STORED_REASON =
  "Promote 'run_9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8': its ROC AUC improvement over 'production' exceeds 0.005 in 100.0% of 1000 paired resamples (required 95.0%; lower 95.0% bound +0.01986, mean +0.02593) and its ROC AUC 0.869 meets the floor 0.75.";

/** The same reason as the engine writes it today: metric values and differences with 4 decimals. */
export const TODAY_REASON =
  "Promote 'run_9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8': its ROC AUC improvement over 'production' exceeds 0.0050 in 100.0% of 1,000 paired resamples (required 95.0%; lower 95.0% bound +0.0199, mean +0.0259) and its ROC AUC 0.8690 meets the floor 0.7500.";

/** The fixture's text: today's record with the stored reason (in `decision.reason` and in the `sentence` that quotes it). */
export function fixtureText(): string {
  const text = `${JSON.stringify(buildFixture(), null, 2)}\n`;
  if (!text.includes(JSON.stringify(TODAY_REASON))) throw new Error(`the engine's reason is no longer TODAY_REASON: ${buildFixture().decision.reason}`);
  return text.split(TODAY_REASON).join(STORED_REASON);
}

if (require.main === module) {
  writeFileSync(FIXTURE_PATH, fixtureText());
  console.log(`wrote ${FIXTURE_PATH}`);
}
