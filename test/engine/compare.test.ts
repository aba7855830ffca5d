import assert from 'node:assert/strict';
import {
  DEFAULT_WIN_RATE,
  InvalidOptionsError,
  PredictionsError,
  compareModels,
  defaultMinDelta,
  winsNeeded,
  type CompareOptions,
  type Decision,
  type Predictions,
} from '../../src/engine';
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

  it("promotes the best candidate when its share of improvements strictly above minDelta reaches winRate, and names the gate's bound", () => {
    const d = compareModels(preds, { ...OPTS, baseline: 'prod' });
    assert.equal(d.decision, 'promote');
    assert.equal(d.best, 'better');
    assert.equal(d.baseline, 'prod');
    const better = d.models.find((m) => m.name === 'better')!;
    assert.ok(better.vsBaseline!.winRate >= 0.9);
    assert.ok(better.vsBaseline!.meanDelta > 0.1, `${better.vsBaseline!.meanDelta}`);
    const deltas = Float64Array.from(d.deltaDistributions!.better).sort();
    assert.equal(better.vsBaseline!.gateBound, deltas[300 - 270]);
    // One number format (src/engine/format.ts): metric differences with 4 decimals, shares as percentages with one decimal.
    assert.equal(
      d.reason,
      "Promote 'better': its ROC AUC improvement over 'prod' exceeds 0.0000 in 100.0% of 300 paired resamples (required 90.0%; lower 90.0% bound +0.1573, mean +0.1735).",
    );
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
    assert.equal(
      d.reason,
      "Keep 'prod': the best candidate 'worse' improves on it by more than 0.0000 only in 0.0% of 300 paired resamples (required 90.0%; lower 90.0% bound \u22120.0930, mean \u22120.0760).",
    );
  });

  it('keeps the baseline when no resample improves by more than minDelta', () => {
    const d = compareModels(preds, { ...OPTS, baseline: 'prod', minDelta: 0.5 });
    assert.equal(d.decision, 'keep');
    assert.equal(d.models.find((m) => m.name === 'better')!.vsBaseline!.winRate, 0);
    assert.equal(d.models.find((m) => m.name === 'better')!.vsBaseline!.shareAboveMinDelta, 0);
    assert.equal(
      d.reason,
      "Keep 'prod': the best candidate 'better' improves on it by more than 0.5000 only in 0.0% of 300 paired resamples (required 90.0%; lower 90.0% bound +0.1573, mean +0.1735).",
    );
  });

  it('the share of wins reaches winRate exactly when the gate bound exceeds minDelta (winsNeeded agrees with wins / B >= winRate)', () => {
    for (const B of [1, 7, 100, 300, 500, 1000, 4001]) {
      for (const w of [0.01, 0.5, 0.9, 0.95, 0.975, 0.999, 1]) {
        const k = winsNeeded(B, w);
        assert.ok(k / B >= w && (k === 1 || (k - 1) / B < w), `B ${B} w ${w} k ${k}`);
      }
    }
    for (const minDelta of [0, 0.05, 0.1, 0.13, 0.2]) {
      for (const winRate of [0.5, 0.9, 0.95]) {
        const d = compareModels(preds, { ...OPTS, baseline: 'prod', candidates: ['good'], minDelta, winRate });
        const vs = d.models[1].vsBaseline!;
        assert.equal(d.decision === 'promote', vs.gateBound! > minDelta, `minDelta ${minDelta} winRate ${winRate}`);
        assert.equal(vs.winRate, d.deltaDistributions!.good.filter((x) => x > minDelta).length / 300);
      }
    }
  });

  it('defaults: win rate 0.95; minimum improvement 0.001 ROC AUC and average precision, 0.001 log loss, 0.0003 Brier score, 0 otherwise', () => {
    assert.equal(DEFAULT_WIN_RATE, 0.95);
    assert.deepEqual(['roc_auc', 'average_precision', 'log_loss', 'brier', 'rmse'].map(defaultMinDelta), [0.001, 0.001, 0.001, 0.0003, 0]);
  });

  it('keeps the baseline when the best candidate misses minMetric, and promotes when it meets it', () => {
    assert.equal(compareModels(preds, { ...OPTS, baseline: 'prod', minMetric: 0.99 }).decision, 'keep');
    const d = compareModels(preds, { ...OPTS, baseline: 'prod', minMetric: 0.8 });
    assert.equal(d.decision, 'promote');
    assert.equal(d.minMetric, 0.8);
    assert.match(d.reason, / and its ROC AUC 0\.8562 meets the floor 0\.8000\.$/);
  });

  it('without a baseline, promotes iff minMetric holds (or no floor is set), and says so', () => {
    const cands = withColumns(preds, ['good', 'better']);
    const noFloor = compareModels(cands, OPTS);
    assert.equal(noFloor.decision, 'promote');
    assert.equal(noFloor.best, 'better');
    assert.equal(noFloor.baseline, undefined);
    assert.equal(
      noFloor.reason,
      "Promote 'better': there is no production model to compare with and no metric floor is set, so the best candidate (ROC AUC 0.8562) is promoted.",
    );
    assert.ok(noFloor.models.every((m) => !m.isBaseline && m.vsBaseline === undefined));
    assert.equal(noFloor.deltaDistributions, undefined);
    const floorMet = compareModels(cands, { ...OPTS, minMetric: 0.5 });
    assert.equal(floorMet.decision, 'promote');
    const floorMissed = compareModels(cands, { ...OPTS, minMetric: 0.95 });
    assert.equal(floorMissed.decision, 'keep');
    assert.equal(
      floorMissed.reason,
      "Keep: there is no production model, but the best candidate 'better' is not promoted because its ROC AUC 0.8562 is below the floor 0.9500.",
    );
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
      'decision',
      'reason',
      'metric',
      'higherIsBetter',
      'method',
      'bootstrap',
      'seed',
      'resamples',
      'confidence',
      'winRateThreshold',
      'minDelta',
      'baseline',
      'best',
      'n',
      'positives',
      'degenerateResamples',
      'models',
      'distributions',
      'deltaDistributions',
    ]);
    assert.equal(d.n, 2000);
    assert.equal(
      d.positives,
      preds.labels.reduce((a, b) => a + b, 0),
    );
    assert.equal(d.distributions!.good.length, 300);
    const good = d.models[1];
    const deltas = d.deltaDistributions!.good;
    assert.equal(good.vsBaseline!.winRate, deltas.filter((x) => x > 0).length / 300);
    assert.equal(good.vsBaseline!.shareAboveMinDelta, good.vsBaseline!.winRate);
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
    // Ties are not wins.
    assert.equal(d.models[1].vsBaseline!.winRate, 0);
    assert.equal(d.models[1].vsBaseline!.meanDelta, 0);
    assert.ok(d.deltaDistributions!.twin.every((x) => x === 0));
    assert.equal(d.decision, 'keep');
    assert.equal(d.best, 'twin');
    assert.equal(d.reason, "Keep 'prod': the best candidate 'twin' is indistinguishable from it on every resample.");
    assert.equal(compareModels(twin, { ...OPTS, baseline: 'prod', minDelta: 1e-9 }).decision, 'keep');
    // Lower-is-better metrics and the Poisson scheme take the same exit.
    const prob = Float64Array.from(preds.columns[0].scores, (x) => 1 / (1 + Math.exp(-x)));
    const probTwin = {
      ...preds,
      columns: [
        { name: 'prod', scores: prob },
        { name: 'twin', scores: Float64Array.from(prob) },
      ],
    };
    for (const extra of [
      { metric: 'log_loss' as const },
      { metric: 'brier' as const },
      { bootstrap: 'poisson' as const },
      { metric: 'average_precision' as const },
    ]) {
      const r = compareModels(probTwin, { ...OPTS, ...extra, baseline: 'prod' });
      assert.equal(r.decision, 'keep', JSON.stringify(extra));
      assert.equal(r.reason, "Keep 'prod': the best candidate 'twin' is indistinguishable from it on every resample.");
    }
  });

  it('an exact copy with one row changed is kept: the resamples without the row tie and ties are not wins (the seed promoted it at 100%)', () => {
    const base = preds.columns[0].scores;
    const improved = Float64Array.from(base);
    // Raise the lowest-scored positive row to just above the highest score: only pairs with that row change.
    let row = -1;
    for (let i = 0; i < preds.n; i++) if (preds.labels[i] === 1 && (row < 0 || base[i] < base[row])) row = i;
    improved[row] = Math.max(...base) + 1e-6;
    const p = { ...preds, columns: [preds.columns[0], { name: 'nudged', scores: improved }] };
    const d = compareModels(p, { ...OPTS, baseline: 'prod' });
    const vs = d.models[1].vsBaseline!;
    const deltas = d.deltaDistributions!.nudged;
    // Every resample that drew the row improves; the others (about e^-1 of them) tie exactly.
    assert.ok(deltas.every((x) => x >= 0));
    const ties = deltas.filter((x) => x === 0).length;
    assert.ok(ties > 80 && ties < 140, `${ties} ties of 300`);
    assert.equal(vs.winRate, (300 - ties) / 300);
    assert.ok(vs.meanDelta > 0 && vs.meanDelta < 0.01, `${vs.meanDelta}`);
    assert.equal(vs.gateBound, 0);
    assert.equal(d.decision, 'keep');
    // A zero takes no sign ("0.0000", not "+0.0000"): the bound is exactly 0.
    assert.equal(
      d.reason,
      "Keep 'prod': the best candidate 'nudged' improves on it by more than 0.0000 only in 64.0% of 300 paired resamples (required 90.0%; lower 90.0% bound 0.0000, mean +0.0018).",
    );
    // At the defaults, both methods keep it.
    const defaults = { ...OPTS, baseline: 'prod', winRate: DEFAULT_WIN_RATE, minDelta: defaultMinDelta('roc_auc') };
    assert.equal(compareModels(p, defaults).decision, 'keep');
    const dl = compareModels(p, { ...defaults, method: 'delong' });
    assert.ok(dl.models[1].vsBaseline!.meanDelta > 0);
    assert.equal(dl.decision, 'keep');
    assert.doesNotMatch(dl.reason, /indistinguishable/);
  });

  it('a candidate whose 95% interval of the improvement includes 0 is kept at the defaults (the seed promoted one at 94.8%)', () => {
    // A small real gain on 1,000 rows: the 95% interval straddles 0 while most resamples improve.
    const { labels, scores } = simulateModels({ n: 1000, aucs: [0.75, 0.765], rho: 0.8, prevalence: 0.3, seed: 'straddle-35' });
    const p: Predictions = {
      n: 1000,
      labels,
      columns: [
        { name: 'prod', scores: scores[0] },
        { name: 'cand', scores: scores[1] },
      ],
    };
    const opts = { ...OPTS, baseline: 'prod', resamples: 1000, winRate: DEFAULT_WIN_RATE, minDelta: defaultMinDelta('roc_auc') };
    const d = compareModels(p, opts);
    const vs = d.models[1].vsBaseline!;
    assert.ok(vs.deltaCi[0] < 0 && vs.deltaCi[1] > 0, `95% interval ${vs.deltaCi}`);
    // The seed's rule (ties count, win rate above 0.9) would promote it: 93.9% of the resamples are at least as good.
    const atLeastAsGood = d.deltaDistributions!.cand.filter((x) => x >= 0).length / 1000;
    assert.equal(atLeastAsGood, 0.939);
    assert.ok(vs.winRate < 0.95, `${vs.winRate}`);
    assert.ok(vs.gateBound! <= opts.minDelta, `gate bound ${vs.gateBound}`);
    assert.equal(d.decision, 'keep');
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
      assert.throws(
        () => compareModels(preds, { ...OPTS, ...patch } as CompareOptions),
        (e: Error) => e instanceof InvalidOptionsError && message.test(e.message),
      );
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
    assert.throws(
      () => compareModels(preds, { ...OPTS, metric: 'log_loss' }),
      /column 'prod' has \d+ scores? outside \[0, 1\] \(first at row \d+: .*\); log_loss needs probabilities/,
    );
  });
});
