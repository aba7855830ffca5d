/**
 * Decision records of schema v2 as Evaluate & Promote writes them (typed as its `DecisionRecord`), whose
 * `decision` is the real engine's answer (`compareModels`) on seeded synthetic data:
 * - `regressionRecord()`: house prices (RMSE in dollars, so large numbers), guardrails on MAE and R², slice
 *   columns `region` (the candidate is worse in `north`: kept) and `channel`; one region too small to judge.
 * - `multiclassRecord()`: three named classes, log loss (lower is better), guardrails on accuracy and macro F1,
 *   slice columns `country` and `store` (61 stores: capped at 50 judged, one store holds one class only).
 * Nothing is stored: the tests build the records when they run, so they always show what the engine says
 * (several slice columns, one report each; the class names echoed from the predictions).
 */
import { compareModels, type AnyMetric, type Decision, type SliceKey } from '../../src/engine';
import { RECORD_SCHEMA, type DecisionRecord, type RecordModel } from '../../src/tasks/evaluate/report';

/** mulberry32: a small seeded generator, so the data never depends on the engine's own random streams. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** A slice column from one name per row (codes in order of first appearance). */
function sliceKey(column: string, perRow: string[]): SliceKey {
  const names: string[] = [];
  const codes = new Uint32Array(perRow.length);
  perRow.forEach((name, i) => {
    let c = names.indexOf(name);
    if (c < 0) c = names.push(name) - 1;
    codes[i] = c;
  });
  return { column, codes, names };
}

const WORKSPACE = 'https://adb-1234567890123456.7.azuredatabricks.net';
const EXPERIMENT = '4213';
const runUrl = (runId: string): string => `${WORKSPACE}/#mlflow/experiments/${EXPERIMENT}/runs/${runId}`;

interface Candidate {
  runId: string;
  runName: string;
}

/** The task's record around an engine decision: models, registry, context (as in generate-fixture.ts). */
function wrap(decision: Decision<AnyMetric>, modelName: string, candidates: Candidate[], inputs: DecisionRecord['inputs'], sentence: string): DecisionRecord {
  const versionUrl = (v: string): string => `${WORKSPACE}/explore/data/models/${modelName.replace(/\./g, '/')}/version/${v}`;
  const models: RecordModel[] = [
    ...candidates.map((c): RecordModel => ({
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
      runId: 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
      version: '4',
      versionUrl: versionUrl('4'),
      uri: `models:/${modelName}/4`,
    },
  ];
  const best = candidates.find((c) => `run_${c.runId}` === decision.best)!;
  const promoted = decision.decision === 'promote';
  return {
    schema: RECORD_SCHEMA,
    outcome: promoted ? 'promoted' : 'kept',
    sentence: `${sentence} ${decision.reason}`,
    dryRun: false,
    registry: { kind: 'unityCatalog', modelName, target: 'alias champion' },
    production: { version: '4', runId: 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5', versionUrl: versionUrl('4') },
    best: { key: `run_${best.runId}`, runId: best.runId, runUrl: runUrl(best.runId) },
    promotion: promoted ? { version: '5', versionUrl: versionUrl('5'), reusedExistingVersion: false, applied: true } : null,
    models,
    skippedCandidates: [],
    inputs,
    data: { rows: decision.n, positives: decision.positives },
    decision,
    context: {
      modelName,
      registry: 'unity-catalog',
      productionVersion: '4',
      promotedVersion: promoted ? '5' : null,
      bestCandidateRunId: best.runId,
      buildId: '5150',
      runs: Object.fromEntries(models.map((m) => [m.key, { runId: m.runId, url: m.role === 'production' ? m.versionUrl : m.runUrl, version: m.version }])),
      links: { build: 'https://dev.azure.com/contoso/pricing/_build/results?buildId=5150' },
      startedAt: '2025-12-04T10:00:00.000Z',
      finishedAt: '2025-12-04T10:02:00.000Z',
      workspaceUrl: WORKSPACE,
      buildNumber: '20251204.2',
      jobAttempt: '1',
      sourceVersion: null,
      sourceBranch: 'refs/heads/main',
      scoringRunId: null,
      scoringRunUrl: null,
      predictionsPath: null,
    },
  };
}

export const REGRESSION_CANDIDATES: Candidate[] = [
  { runId: '1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6', runName: 'gbm_prices_v2' },
  { runId: '6c5b4a3f2e1d40c9b8a7f6e5d4c3b2a1', runName: 'linear_prices_v3' },
];

/** House prices: the candidate gbm_prices_v2 is better overall but worse in the north region. */
export function regressionRecord(): DecisionRecord {
  const r = rng(20251204);
  const n = 4000;
  const regionOf = (i: number): string => (i % 40 === 39 ? 'islands' : ['north', 'south', 'east', 'west'][i % 4]);
  const regions = Array.from({ length: n }, (_, i) => regionOf(i));
  const channels = Array.from({ length: n }, () => ['web', 'agent', 'auction'][Math.floor(r() * 3)]);
  const target = new Float64Array(n);
  const prod = new Float64Array(n);
  const gbm = new Float64Array(n);
  const linear = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    target[i] = 250_000 + 40_000 * normal(r) + 20_000 * normal(r);
    prod[i] = target[i] + 14_000 * normal(r);
    gbm[i] = target[i] + (regions[i] === 'north' ? 19_000 : 10_000) * normal(r);
    linear[i] = target[i] + 15_000 * normal(r);
  }
  const [best, other] = REGRESSION_CANDIDATES;
  const decision = compareModels(
    {
      n,
      target,
      columns: [
        { name: 'production', scores: prod },
        { name: `run_${best.runId}`, scores: gbm },
        { name: `run_${other.runId}`, scores: linear },
      ],
    },
    {
      problemType: 'regression',
      baseline: 'production',
      metric: 'rmse',
      method: 'bootstrap',
      resamples: 400,
      seed: 7,
      winRate: 0.95,
      minDelta: 0,
      confidence: 0.95,
      guardrails: [
        { metric: 'mae', maxWorsening: 500 },
        { metric: 'r2', maxWorsening: 0.01 },
      ],
      slices: [sliceKey('region', regions), sliceKey('channel', channels)],
      minSliceRows: 500,
      sliceTolerance: 0,
    },
  );
  const inputs = {
    problemType: 'regression',
    metric: 'rmse',
    guardrails: 'mae 500\nr2 0.01',
    sliceColumns: 'region, channel',
    minSliceRows: 500,
    sliceTolerance: 0,
  };
  return wrap(decision, 'main.pricing.house_prices', REGRESSION_CANDIDATES, inputs, 'Kept production version 4:');
}

export const MULTICLASS_CANDIDATES: Candidate[] = [
  { runId: 'b1c2d3e4f5a647b8c9d0e1f2a3b4c5d6', runName: 'mlp_species_v5' },
  { runId: 'f6e5d4c3b2a14f0e9d8c7b6a5f4e3d2c', runName: 'tree_species_v2' },
];

export const CLASS_NAMES = ['setosa', 'versicolor', 'virginica'];

/** Row-major class probabilities: softmax of a signal of strength `q` on the true class plus N(0, 1) noise. */
function probabilities(labels: Uint8Array, q: number, r: () => number): Float64Array {
  const k = CLASS_NAMES.length;
  const out = new Float64Array(labels.length * k);
  for (let i = 0; i < labels.length; i++) {
    const z = Array.from({ length: k }, (_, c) => (c === labels[i] ? q : 0) + normal(r));
    const m = Math.max(...z);
    const e = z.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    for (let c = 0; c < k; c++) out[i * k + c] = e[c] / s;
  }
  return out;
}

/** Three species, mlp_species_v5 better everywhere; 61 stores of which 60 are large enough (capped at 50). */
export function multiclassRecord(): DecisionRecord {
  const r = rng(4242);
  const stores: string[] = [];
  // Store S00 has 130 rows of setosa only (the largest: judged first, but it cannot be bootstrapped);
  // S01..S60 have 100 rows each.
  for (let i = 0; i < 130; i++) stores.push('S00');
  for (let s = 1; s <= 60; s++) for (let i = 0; i < 100; i++) stores.push(`S${String(s).padStart(2, '0')}`);
  const n = stores.length;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = stores[i] === 'S00' ? 0 : Math.floor(r() * 3);
  const countries = Array.from({ length: n }, (_, i) => ['FR', 'DE', 'NL'][i % 6 < 3 ? 0 : i % 6 < 5 ? 1 : 2]);
  const [best, other] = MULTICLASS_CANDIDATES;
  const preds = {
    n,
    classes: CLASS_NAMES.length,
    labels,
    columns: [
      { name: 'production', probabilities: probabilities(labels, 1.6, r) },
      { name: `run_${best.runId}`, probabilities: probabilities(labels, 2.2, r) },
      { name: `run_${other.runId}`, probabilities: probabilities(labels, 1.4, r) },
    ],
    classNames: CLASS_NAMES,
  };
  const decision = compareModels(preds, {
    problemType: 'multiclass',
    baseline: 'production',
    metric: 'log_loss',
    method: 'bootstrap',
    resamples: 200,
    seed: 11,
    winRate: 0.95,
    minDelta: 0.001,
    confidence: 0.95,
    guardrails: [
      { metric: 'accuracy', maxWorsening: 0.01 },
      { metric: 'f1_macro', maxWorsening: 0 },
    ],
    slices: [sliceKey('country', countries), sliceKey('store', stores)],
    minSliceRows: 50,
    sliceTolerance: 0.05,
  });
  const inputs = {
    problemType: 'multiclass',
    metric: 'log_loss',
    guardrails: 'accuracy 0.01\nf1_macro 0',
    sliceColumns: 'country\nstore',
    minSliceRows: 50,
    sliceTolerance: 0.05,
  };
  return wrap(
    decision,
    'main.botany.iris_species',
    MULTICLASS_CANDIDATES,
    inputs,
    `Promoted run ${best.runId} as main.botany.iris_species version 5 to alias champion.`,
  );
}
