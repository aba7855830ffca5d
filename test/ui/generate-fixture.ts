/**
 * Writes test/fixtures/evaluation-record.json: a decision record with the shape the Evaluate & Promote
 * task attaches (engine `Decision` + task `context`), whose summary numbers are computed from its own
 * per-resample distributions, so the fixture is internally consistent (the charts and the table agree).
 *
 * Paired resamples are simulated (a shared per-resample shift plus a small per-model term), not drawn
 * from predictions: the UI tests need a realistic, stable record, not a statistics test.
 * Run: npx tsc -p . && node out/test/ui/generate-fixture.js
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';

const RESAMPLES = 1000;
const MIN_DELTA = 0.005;
const WIN_RATE = 0.95;
const CONFIDENCE = 0.95;

function gaussian(rng: () => number): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const round = (v: number): number => Math.round(v * 1e6) / 1e6;

function quantile(sorted: number[], q: number): number {
  // Type-7 (linear interpolation), as numpy's default.
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
}

function ci(values: number[]): [number, number] {
  const s = [...values].sort((a, b) => a - b);
  return [round(quantile(s, (1 - CONFIDENCE) / 2)), round(quantile(s, 1 - (1 - CONFIDENCE) / 2))];
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

export function buildFixture(): unknown {
  const rng = seedrandom.xor4096('evaluation-record-fixture');
  const models = [
    { name: 'production', estimate: 0.8412, spread: 0.004 },
    { name: 'gbm_depth6', estimate: 0.8563, spread: 0.005 },
    { name: 'logreg_l2', estimate: 0.8398, spread: 0.003 },
    { name: 'mlp_2x64', estimate: 0.8471, spread: 0.006 },
  ];
  const shared = Array.from({ length: RESAMPLES }, () => gaussian(rng) * 0.0062);
  const distributions: Record<string, number[]> = {};
  for (const m of models) distributions[m.name] = shared.map((s) => round(m.estimate + s + gaussian(rng) * m.spread));
  const deltaDistributions: Record<string, number[]> = {};
  for (const m of models.slice(1)) {
    deltaDistributions[m.name] = distributions[m.name].map((v, i) => round(v - distributions.production[i]));
  }
  const resultModels = models.map((m) => {
    const base = { name: m.name, estimate: m.estimate, mean: round(mean(distributions[m.name])), ci: ci(distributions[m.name]), isBaseline: m.name === 'production' };
    if (m.name === 'production') return base;
    const d = deltaDistributions[m.name];
    return {
      ...base,
      vsBaseline: {
        winRate: d.filter((x) => x >= 0).length / d.length,
        meanDelta: round(mean(d)),
        deltaCi: ci(d),
        shareAboveMinDelta: d.filter((x) => x > MIN_DELTA).length / d.length,
      },
    };
  });
  const best = resultModels.find((m) => m.name === 'gbm_depth6') as (typeof resultModels)[number] & { vsBaseline: { winRate: number; meanDelta: number } };
  const reason =
    `gbm_depth6 is at least as good as production in ${(best.vsBaseline.winRate * 100).toFixed(1)}% of ${RESAMPLES} paired resamples ` +
    `(needs ${(WIN_RATE * 100).toFixed(1)}%) and improves ROC AUC by ${best.vsBaseline.meanDelta.toFixed(4)} on average (needs ${MIN_DELTA.toFixed(4)})`;
  const runs: Record<string, { runId: string; url: string; version?: string }> = {};
  const runIds: Record<string, string> = {
    production: '3f2c9a1be0d44c7f9e21b6a4c8d05e17',
    gbm_depth6: '9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8',
    logreg_l2: '5c8a2e1f9d3b47c6a0e4f7b2d1c9a8e3',
    mlp_2x64: 'e7d4a9c2b5f14e8a9c3d6b0f2a7e5c41',
  };
  const host = 'https://adb-1234567890123456.7.azuredatabricks.net';
  for (const [name, runId] of Object.entries(runIds)) {
    runs[name] = { runId, url: `${host}/#mlflow/experiments/4213/runs/${runId}` };
  }
  return {
    decision: {
      decision: 'promote',
      reason,
      metric: 'roc_auc',
      higherIsBetter: true,
      method: 'bootstrap',
      bootstrap: 'multinomial',
      seed: 20251126,
      resamples: RESAMPLES,
      confidence: CONFIDENCE,
      winRateThreshold: WIN_RATE,
      minDelta: MIN_DELTA,
      minMetric: 0.8,
      baseline: 'production',
      best: 'gbm_depth6',
      models: resultModels,
      degenerateResamples: 0,
      n: 5000,
      positives: 1187,
      distributions,
      deltaDistributions,
    },
    context: {
      modelName: 'main.ml.churn_classifier',
      registry: 'unity-catalog',
      productionVersion: '7',
      promotedVersion: '8',
      bestCandidateRunId: runIds.gbm_depth6,
      buildId: '4321',
      runs,
      links: {
        build: 'https://dev.azure.com/contoso/churn/_build/results?buildId=4321',
        experiment: `${host}/#mlflow/experiments/4213`,
        registeredModel: `${host}/explore/data/models/main/ml/churn_classifier`,
        promotedModel: `${host}/explore/data/models/main/ml/churn_classifier/version/8`,
      },
    },
  };
}

if (require.main === module) {
  const out = path.resolve(__dirname, '../../../test/fixtures/evaluation-record.json');
  writeFileSync(out, JSON.stringify(buildFixture()) + '\n');
  console.log(`wrote ${out}`);
}
