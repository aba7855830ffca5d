import assert from 'node:assert/strict';
import { InvalidOptionsError, PredictionsError, compareModels, type CompareOptions, type Decision, type Predictions } from '../../src/engine';
import { simulateModels } from './simulate';

const OPTS: CompareOptions = { metric: 'roc_auc', method: 'bootstrap', resamples: 300, seed: 7, winRate: 0.9, minDelta: 0, confidence: 0.95 };

/** prod (population AUC 0.70), good (0.80), better (0.85), worse (0.60) on the same 2,000 rows. */
function fourModels(): Predictions {
  const names = ['prod', 'good', 'better', 'worse'];
  const { labels, scores } = simulateModels({ n: 2000, aucs: [0.7, 0.8, 0.85, 0.6], rho: 0.5, prevalence: 0.3, seed: 'four' });
  return { n: 2000, labels, columns: names.map((name, i) => ({ name, scores: scores[i] })) };
}

function withColumns(p: Predictions, order: string[]): Predictions {
  return { ...p, columns: order.map((name) => p.columns.find((c) => c.name === name)!) };
}

describe('the decision (compareModels)', () => {
  const preds = fourModels();

  it("promotes the best candidate when its win rate reaches winRate and its mean delta reaches minDelta", () => {
    const d = compareModels(preds, { ...OPTS, baseline: 'prod' });
    assert.equal(d.decision, 'promote');
    assert.equal(d.best, 'better');
    assert.equal(d.baseline, 'prod');
    const better = d.models.find((m) => m.name === 'better')!;
    assert.ok(better.vsBaseline!.winRate >= 0.9);
    assert.ok(better.vsBaseline!.meanDelta > 0.1, `${better.vsBaseline!.meanDelta}`);
    assert.match(d.reason, /^Promote 'better': it is at least as good as 'prod' in 100\.0% of 300 paired resamples \(required 90\.0%\)/);
    assert.equal(d.reason.split('. ').length, 1, 'one sentence');
  });

  it('chooses the same best candidate and the same numbers whatever the order of the columns and candidates', () => {
    const ref = JSON.stringify(compareModels(preds, { ...OPTS, baseline: 'prod', candidates: ['good', 'better', 'worse'] }));
    const d2 = compareModels(withColumns(preds, ['worse', 'better', 'prod', 'good']), { ...OPTS, baseline: 'prod', candidates: ['worse', 'better', 'good'] });
    assert.equal(d2.best, 'better');
    const byName = (d: Decision) => Object.fromEntries(d.models.map((m) => [m.name, m]));
    assert.deepEqual(byName(JSON.parse(ref)), byName(JSON.parse(JSON.stringify(d2))));
  });

  it('keeps the baseline when the win rate falls short, and says which condition failed', () => {
    const d = compareModels(preds, { ...OPTS, baseline: 'prod', candidates: ['worse'] });
    assert.equal(d.decision, 'keep');
    assert.equal(d.best, 'worse');
    assert.equal(d.models[1].vsBaseline!.winRate, 0);
    assert.match(d.reason, /^Keep 'prod': the best candidate 'worse' is at least as good only in 0\.0% of 300 paired resamples \(required 90\.0%\) and has a mean ROC AUC improvement of -0\.\d+ \(minimum 0\)\.$/);
  });

  it('keeps the baseline when the mean delta does not reach minDelta', () => {
    const d = compareModels(preds, { ...OPTS, baseline: 'prod', minDelta: 0.5 });
    assert.equal(d.decision, 'keep');
    assert.ok(d.models.find((m) => m.name === 'better')!.vsBaseline!.shareAboveMinDelta === 0);
    assert.match(d.reason, /has a mean ROC AUC improvement of \+0\.1\d* \(minimum 0\.5\)\.$/);
  });

  it('keeps the baseline when the best candidate misses minMetric, and promotes when it meets it', () => {
    assert.equal(compareModels(preds, { ...OPTS, baseline: 'prod', minMetric: 0.99 }).decision, 'keep');
    const d = compareModels(preds, { ...OPTS, baseline: 'prod', minMetric: 0.8 });
    assert.equal(d.decision, 'promote');
    assert.equal(d.minMetric, 0.8);
    assert.match(d.reason, /meets the floor 0\.8\.$/);
  });

  it('without a baseline, promotes iff minMetric holds (or no floor is set), and says so', () => {
    const cands = withColumns(preds, ['good', 'better']);
    const noFloor = compareModels(cands, OPTS);
    assert.equal(noFloor.decision, 'promote');
    assert.equal(noFloor.best, 'better');
    assert.equal(noFloor.baseline, undefined);
    assert.match(noFloor.reason, /no production model to compare with and no metric floor is set/);
    assert.ok(noFloor.models.every((m) => !m.isBaseline && m.vsBaseline === undefined));
    assert.equal(noFloor.deltaDistributions, undefined);
    const floorMet = compareModels(cands, { ...OPTS, minMetric: 0.5 });
    assert.equal(floorMet.decision, 'promote');
    const floorMissed = compareModels(cands, { ...OPTS, minMetric: 0.95 });
    assert.equal(floorMissed.decision, 'keep');
    assert.match(floorMissed.reason, /^Keep: there is no production model, but the best candidate 'better' is not promoted because its ROC AUC 0\.\d+ is below the floor 0\.95\.$/);
  });

  it('with no candidates there is no decision', () => {
    const onlyProd = withColumns(preds, ['prod']);
    const d = compareModels(onlyProd, { ...OPTS, baseline: 'prod' });
    assert.equal(d.decision, 'none');
    assert.equal(d.best, undefined);
    assert.equal(d.models.length, 1);
    assert.ok(d.models[0].isBaseline && d.models[0].estimate > 0.6);
    assert.match(d.reason, /no candidate/);
    assert.equal(compareModels(preds, { ...OPTS, baseline: 'prod', candidates: [] }).decision, 'none');
  });

  it('respects the direction of lower-is-better metrics (log loss, Brier): positive delta = better', () => {
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const probs: Predictions = { ...preds, columns: preds.columns.map((c) => ({ name: c.name, scores: c.scores.map((x) => sig(1.5 * x - 1)) })) };
    for (const metric of ['log_loss', 'brier'] as const) {
      const d = compareModels(probs, { ...OPTS, metric, baseline: 'prod' });
      assert.equal(d.higherIsBetter, false);
      const prod = d.models[0];
      const better = d.models.find((m) => m.name === 'better')!;
      assert.ok(better.estimate < prod.estimate, `${metric}: better has the lower loss`);
      assert.ok(better.vsBaseline!.meanDelta > 0, `${metric}: delta oriented positive for the better model`);
      const expected = prod.mean! - better.mean!;
      assert.ok(Math.abs(better.vsBaseline!.meanDelta - expected) < 1e-12);
      assert.equal(d.best, 'better');
      const ceiling = compareModels(probs, { ...OPTS, metric, baseline: 'prod', minMetric: better.estimate / 2 });
      assert.equal(ceiling.decision, 'keep');
      assert.match(ceiling.reason, /above the ceiling/);
    }
  });

  it('reports every number the results tab needs, with distributions unless includeDistributions is false', () => {
    const d = compareModels(preds, { ...OPTS, baseline: 'prod', candidates: ['good'] });
    assert.deepEqual(Object.keys(d), [
      'decision', 'reason', 'metric', 'higherIsBetter', 'method', 'bootstrap', 'seed', 'resamples', 'confidence',
      'winRateThreshold', 'minDelta', 'baseline', 'best', 'n', 'positives', 'degenerateResamples', 'models', 'distributions', 'deltaDistributions',
    ]);
    assert.equal(d.n, 2000);
    assert.equal(d.positives, preds.labels.reduce((a, b) => a + b, 0));
    assert.equal(d.distributions!.good.length, 300);
    const good = d.models[1];
    const deltas = d.deltaDistributions!.good;
    assert.equal(good.vsBaseline!.winRate, deltas.filter((x) => x >= 0).length / 300);
    assert.equal(good.vsBaseline!.shareAboveMinDelta, deltas.filter((x) => x > 0).length / 300);
    assert.ok(good.ci![0] < good.mean! && good.mean! < good.ci![1]);
    assert.equal(deltas[5], d.distributions!.good[5] - d.distributions!.prod[5]);
    const lean = compareModels(preds, { ...OPTS, baseline: 'prod', candidates: ['good'], includeDistributions: false });
    assert.equal(lean.distributions, undefined);
    assert.equal(lean.deltaDistributions, undefined);
    assert.deepEqual(lean.models, d.models);
  });

  it('a candidate identical to the baseline (every paired delta exactly 0) is kept even at minDelta 0, with its own reason', () => {
    const twin = { ...preds, columns: [preds.columns[0], { name: 'twin', scores: Float64Array.from(preds.columns[0].scores) }] };
    const d = compareModels(twin, { ...OPTS, baseline: 'prod' });
    // The win rate keeps the seed's "at least as good" definition: ties count as wins.
    assert.equal(d.models[1].vsBaseline!.winRate, 1);
    assert.equal(d.models[1].vsBaseline!.meanDelta, 0);
    assert.ok(d.deltaDistributions!.twin.every((x) => x === 0));
    assert.equal(d.decision, 'keep');
    assert.equal(d.best, 'twin');
    assert.equal(d.reason, "Keep 'prod': the best candidate 'twin' is indistinguishable from it on every resample.");
    assert.equal(compareModels(twin, { ...OPTS, baseline: 'prod', minDelta: 1e-9 }).decision, 'keep');
    // Lower-is-better metrics and the Poisson scheme take the same exit.
    const prob = Float64Array.from(preds.columns[0].scores, (x) => 1 / (1 + Math.exp(-x)));
    const probTwin = { ...preds, columns: [{ name: 'prod', scores: prob }, { name: 'twin', scores: Float64Array.from(prob) }] };
    for (const extra of [{ metric: 'log_loss' as const }, { metric: 'brier' as const }, { bootstrap: 'poisson' as const }, { metric: 'average_precision' as const }]) {
      const r = compareModels(probTwin, { ...OPTS, ...extra, baseline: 'prod' });
      assert.equal(r.decision, 'keep', JSON.stringify(extra));
      assert.equal(r.reason, "Keep 'prod': the best candidate 'twin' is indistinguishable from it on every resample.");
    }
  });

  it('an exact copy improved on a single row is judged by the normal rule (promoted at minDelta 0, kept above its mean delta)', () => {
    const base = preds.columns[0].scores;
    const improved = Float64Array.from(base);
    // Raise the lowest-scored positive row to just above the highest score: only pairs with that row change.
    let row = -1;
    for (let i = 0; i < preds.n; i++) if (preds.labels[i] === 1 && (row < 0 || base[i] < base[row])) row = i;
    improved[row] = Math.max(...base) + 1e-6;
    const p = { ...preds, columns: [preds.columns[0], { name: 'nudged', scores: improved }] };
    const d = compareModels(p, { ...OPTS, baseline: 'prod' });
    const vs = d.models[1].vsBaseline!;
    assert.equal(vs.winRate, 1);
    assert.ok(vs.meanDelta > 0 && vs.meanDelta < 0.01, `${vs.meanDelta}`);
    assert.ok(d.deltaDistributions!.nudged.some((x) => x === 0), 'resamples without the row tie');
    assert.equal(d.decision, 'promote');
    assert.match(d.reason, /^Promote 'nudged': it is at least as good as 'prod' in 100\.0% of 300 paired resamples \(required 90\.0%\) and its mean ROC AUC improvement is \+\d/);
    const strict = compareModels(p, { ...OPTS, baseline: 'prod', minDelta: 0.01 });
    assert.equal(strict.decision, 'keep');
    assert.match(strict.reason, /^Keep 'prod': the best candidate 'nudged' has a mean ROC AUC improvement of \+[\d.e-]+ \(minimum 0\.01\)\.$/);
    // DeLong: a nonzero AUC difference with a small variance goes through the normal rule too.
    const dl = compareModels(p, { ...OPTS, method: 'delong', baseline: 'prod' });
    assert.ok(dl.models[1].vsBaseline!.meanDelta > 0);
    assert.doesNotMatch(dl.reason, /indistinguishable/);
  });
});

describe('compareModels input validation', () => {
  const preds = fourModels();
  const bad: [string, Partial<CompareOptions> & Record<string, unknown>, RegExp][] = [
    ['unknown metric', { metric: 'f1' as never }, /unknown metric 'f1'/],
    ['unknown method', { method: 'magic' as never }, /unknown method 'magic'/],
    ['delong with average precision', { method: 'delong', metric: 'average_precision' }, /'delong' applies to roc_auc only/],
    ['non-integer resamples', { resamples: 10.5 }, /resamples must be an integer/],
    ['zero resamples', { resamples: 0 }, /resamples must be an integer/],
    ['win rate 0', { winRate: 0 }, /winRate must be in \(0, 1\]/],
    ['win rate above 1', { winRate: 1.01 }, /winRate must be in \(0, 1\]/],
    ['confidence 1', { confidence: 1 }, /confidence must be in \(0, 1\)/],
    ['NaN minDelta', { minDelta: NaN }, /minDelta must be a finite number/],
    ['infinite minMetric', { minMetric: Infinity }, /minMetric must be a finite number/],
    ['unknown scheme', { bootstrap: 'jackknife' as never }, /bootstrap must be 'multinomial' or 'poisson'/],
    ['missing baseline column', { baseline: 'nope' }, /baseline column 'nope' is not in the predictions/],
    ['missing candidate column', { baseline: 'prod', candidates: ['ghost'] }, /candidate column 'ghost' is not in the predictions/],
    ['baseline as candidate', { baseline: 'prod', candidates: ['prod'] }, /cannot be both the baseline and a candidate/],
  ];
  for (const [what, patch, message] of bad) {
    it(`throws InvalidOptionsError for ${what}`, () => {
      assert.throws(() => compareModels(preds, { ...OPTS, ...patch } as CompareOptions), (e: Error) => e instanceof InvalidOptionsError && message.test(e.message));
    });
  }

  it('throws PredictionsError naming the column for NaN scores, wrong lengths, one class and non-probabilities', () => {
    const nan = Float64Array.from(preds.columns[1].scores);
    nan[17] = NaN;
    nan[40] = Infinity;
    assert.throws(
      () => compareModels({ ...preds, columns: [preds.columns[0], { name: 'good', scores: nan }] }, { ...OPTS, baseline: 'prod' }),
      (e: Error) => e instanceof PredictionsError && e.message === "column 'good' has 2 NaN or infinite scores (first at row 17)",
    );
    assert.throws(
      () => compareModels({ ...preds, columns: [preds.columns[0], { name: 'short', scores: new Float64Array(5) }] }, OPTS),
      /column 'short' has 5 rows but the label column has 2000/,
    );
    assert.throws(() => compareModels({ ...preds, labels: new Uint8Array(2000) }, OPTS), /the label column holds only one class \(0 positives in 2000 rows\)/);
    assert.throws(() => compareModels({ ...preds, n: 0, labels: new Uint8Array(0), columns: [] }, OPTS), /empty \(0 rows\)/);
    assert.throws(() => compareModels(preds, { ...OPTS, metric: 'log_loss' }), /column 'prod' has \d+ scores? outside \[0, 1\] \(first at row \d+: .*\); log_loss needs probabilities/);
  });
});
