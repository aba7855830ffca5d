import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import {
  ROW_MASK,
  Xor4096,
  compareModels,
  metricValue,
  prepareBootstrap,
  resampleKey,
  resampleStates,
  runBootstrap,
  sortOrder,
  type BootstrapScheme,
  type CompareOptions,
  type Metric,
  type Predictions,
} from '../../src/engine';
import { simulatePair } from './simulate';

/**
 * Test oracle: resample b's multiplicities, by reference position, written as plainly as possible
 * (BigInt for the exact high word, a linear CDF search for Poisson) — the kernel must agree exactly.
 */
function oracleCounts(n: number, labelsRef: Uint8Array, seed: string | number, b: number, scheme: BootstrapScheme): { counts: Uint32Array; redraws: number } {
  const gen = new Xor4096(resampleStates(seed, b, 1));
  const u32 = (): number => gen.next() >>> 0;
  const thresholds: number[] = [];
  let pmf = Math.exp(-1);
  let cdf = pmf;
  for (let c = 1; c < 64; c++) {
    const t = Math.round(cdf * 2 ** 32);
    if (t >= 2 ** 32) break;
    thresholds.push(t);
    pmf /= c;
    cdf += pmf;
  }
  for (let redraws = 0; ; redraws++) {
    const counts = new Uint32Array(n);
    if (scheme === 'multinomial') {
      const reject = 2 ** 32 % n;
      for (let r = 0; r < n; r++) {
        for (;;) {
          const x = u32();
          const product = BigInt(x) * BigInt(n);
          if (Number(product & 0xffffffffn) < reject) continue;
          counts[Number(product >> 32n)]++;
          break;
        }
      }
    } else {
      for (let r = 0; r < n; r++) {
        const x = u32();
        counts[r] = thresholds.filter((t) => t <= x).length;
      }
    }
    let pos = 0;
    let tot = 0;
    for (let k = 0; k < n; k++) {
      tot += counts[k];
      pos += counts[k] * labelsRef[k];
    }
    if (pos > 0 && pos < tot) return { counts, redraws };
  }
}

function predsOf(labels: number[], cols: Record<string, number[]>): Predictions {
  return {
    n: labels.length,
    labels: Uint8Array.from(labels),
    columns: Object.entries(cols).map(([name, s]) => ({ name, scores: Float64Array.from(s) })),
  };
}

const OPTS: CompareOptions = { metric: 'roc_auc', method: 'bootstrap', resamples: 200, seed: 42, winRate: 0.9, minDelta: 0, confidence: 0.95 };

describe('random streams (rng.ts)', () => {
  it('Xor4096 from resampleStates(seed, b) replays seedrandom.xor4096(resampleKey(seed, b)).int32() word for word', () => {
    for (const [seed, b] of [[42, 0], ['abc', 7], [0, 123456]] as const) {
      const ours = new Xor4096(resampleStates(seed, b, 1));
      const theirs = seedrandom.xor4096(resampleKey(seed, b));
      for (let i = 0; i < 5000; i++) assert.equal(ours.next(), theirs.int32(), `seed ${seed} resample ${b} output ${i}`);
    }
  });

  it('resampleKey(seed, b) treats 42 and "42" alike and differs between resamples', () => {
    assert.equal(resampleKey(42, 3), resampleKey('42', 3));
    assert.notEqual(resampleKey(42, 3), resampleKey(42, 4));
  });
});

describe('bootstrap kernel against a plain oracle', () => {
  const sim = simulatePair({ n: 157, auc: [0.7, 0.75], rho: 0.5, prevalence: 0.3, seed: 'kernel-oracle', roundTo: 2 });
  const preds: Predictions = { n: sim.n, labels: sim.labels, columns: [{ name: 'a', scores: sim.a }, { name: 'b', scores: sim.b }] };
  const probs: Predictions = {
    n: sim.n,
    labels: sim.labels,
    columns: [
      { name: 'a', scores: sim.a.map((x) => 1 / (1 + Math.exp(-x))) },
      { name: 'b', scores: sim.b.map((x) => 1 / (1 + Math.exp(-x))) },
    ],
  };
  const B = 37; // not a multiple of 4: exercises the partial lane group
  for (const scheme of ['multinomial', 'poisson'] as const) {
    for (const metric of ['roc_auc', 'average_precision', 'log_loss', 'brier'] as Metric[]) {
      it(`runBootstrap(${metric}, ${scheme}) equals the metric functions on the oracle's multiplicities, exactly`, () => {
        const data = metric === 'log_loss' || metric === 'brier' ? probs : preds;
        const prep = prepareBootstrap(data, ['a', 'b'], metric, scheme);
        const run = runBootstrap(prep, 'oracle', B);
        // Reference positions: model a's sorted order for ranking metrics, row order for losses.
        const refRows = metric === 'roc_auc' || metric === 'average_precision' ? Array.from(sortOrder(data.columns[0].scores), (e) => e & ROW_MASK) : [...Array(sim.n).keys()];
        const labelsRef = Uint8Array.from(refRows, (r) => data.labels[r]);
        for (let b = 0; b < B; b++) {
          const { counts, redraws } = oracleCounts(sim.n, labelsRef, 'oracle', b, scheme);
          const weights = new Float64Array(sim.n);
          refRows.forEach((row, k) => (weights[row] = counts[k]));
          assert.equal(run.redraws[b], redraws, `redraws of resample ${b}`);
          for (let m = 0; m < 2; m++) {
            const expected = metricValue(metric, data.labels, data.columns[m].scores, weights);
            assert.equal(run.stats[m * B + b], expected, `${metric} model ${m} resample ${b}`);
          }
        }
        assert.equal(prep.estimates[0], metricValue(metric, data.labels, data.columns[0].scores));
      });
    }
  }
});

describe('bucketed increments (large-n path of the multinomial draw)', () => {
  const sim = simulatePair({ n: 5003, auc: [0.7, 0.72], rho: 0.5, prevalence: 0.3, seed: 'buckets' });
  const preds: Predictions = { n: sim.n, labels: sim.labels, columns: [{ name: 'a', scores: sim.a }, { name: 'b', scores: sim.b }] };
  const prep = prepareBootstrap(preds, ['a', 'b'], 'roc_auc', 'multinomial');
  const direct = runBootstrap({ ...prep, bucketBits: 0 }, 3, 21);

  it('give exactly the results of direct increments, for several bucket sizes', () => {
    for (const bits of [13, 9, 2, 1]) assert.deepEqual(runBootstrap({ ...prep, bucketBits: bits }, 3, 21).stats, direct.stats, `bucketBits ${bits}`);
  });

  it('a full bucket falls back to direct increments with the same result', () => {
    // 4-position buckets without slack hold 4 draws; they receive about Poisson(4) draws, so many overflow.
    assert.deepEqual(runBootstrap({ ...prep, bucketBits: 2, bucketSlack: 0 }, 3, 21).stats, direct.stats);
  });
});

describe('bootstrap kernel against the oracle on tiny, imbalanced data (redraws)', () => {
  const tiny: Predictions = predsOf([0, 1, 0, 0, 0], { a: [0.1, 0.9, 0.3, 0.3, 0.2], b: [0.5, 0.6, 0.7, 0.1, 0.2] });
  for (const scheme of ['multinomial', 'poisson'] as const) {
    it(`runBootstrap(roc_auc, ${scheme}) redraws single-class resamples exactly as the oracle does`, () => {
      const prep = prepareBootstrap(tiny, ['a', 'b'], 'roc_auc', scheme);
      const B = 50;
      const run = runBootstrap(prep, 's', B);
      const refRows = Array.from(sortOrder(tiny.columns[0].scores), (e) => e & ROW_MASK);
      const labelsRef = Uint8Array.from(refRows, (r) => tiny.labels[r]);
      let total = 0;
      for (let b = 0; b < B; b++) {
        const { counts, redraws } = oracleCounts(5, labelsRef, 's', b, scheme);
        const weights = new Float64Array(5);
        refRows.forEach((row, k) => (weights[row] = counts[k]));
        assert.equal(run.redraws[b], redraws);
        assert.equal(run.stats[B + b], metricValue('roc_auc', tiny.labels, tiny.columns[1].scores, weights));
        total += redraws;
      }
      assert.ok(total > 10, `only ${total} redraws: the case does not exercise them`);
    });
  }
});

describe('bootstrap reproducibility and degenerate resamples', () => {
  const sim = simulatePair({ n: 300, auc: [0.75, 0.78], rho: 0.6, prevalence: 0.2, seed: 'repro' });
  const preds: Predictions = { n: sim.n, labels: sim.labels, columns: [{ name: 'prod', scores: sim.a }, { name: 'cand', scores: sim.b }] };

  it('compareModels with the same inputs and seed gives byte-identical JSON', () => {
    const a = JSON.stringify(compareModels(preds, { ...OPTS, baseline: 'prod' }));
    const b = JSON.stringify(compareModels(preds, { ...OPTS, baseline: 'prod' }));
    assert.equal(a, b);
    assert.ok(a.length > 1000);
  });

  it('different seeds give different resamples (and the seed reaches the result)', () => {
    const d1 = compareModels(preds, { ...OPTS, baseline: 'prod', seed: 1 });
    const d2 = compareModels(preds, { ...OPTS, baseline: 'prod', seed: 2 });
    const same = d1.distributions!.cand.filter((v, i) => v === d2.distributions!.cand[i]).length;
    assert.ok(same < 5, `${same} of 200 resamples coincide`);
    assert.notDeepEqual(d1.models[1].ci, d2.models[1].ci);
    assert.equal(d1.models[1].estimate, d2.models[1].estimate);
  });

  it('resample b is the same whatever the number of resamples (a prefix of a longer run)', () => {
    const prep = prepareBootstrap(preds, ['prod', 'cand'], 'roc_auc', 'multinomial');
    const short = runBootstrap(prep, 9, 10);
    const long = runBootstrap(prep, 9, 2000); // crosses the 1024-resample chunk boundary
    for (let b = 0; b < 10; b++) assert.equal(short.stats[b], long.stats[b]);
    assert.equal(short.stats[10 + 3], long.stats[2000 + 3]);
  });

  it('the order of the input columns does not change any number (no baseline: reference = smallest name)', () => {
    const swapped: Predictions = { ...preds, columns: [...preds.columns].reverse() };
    const d1 = compareModels(preds, OPTS);
    const d2 = compareModels(swapped, OPTS);
    assert.equal(d1.best, d2.best);
    assert.deepEqual(d1.distributions!.cand, d2.distributions!.cand);
    assert.deepEqual(d1.distributions!.prod, d2.distributions!.prod);
  });

  it('single-class resamples are redrawn and counted (n = 4, one positive)', () => {
    const tiny = predsOf([0, 0, 0, 1], { a: [0.1, 0.2, 0.3, 0.4], b: [0.4, 0.3, 0.2, 0.1] });
    const d = compareModels(tiny, { ...OPTS, baseline: 'a', resamples: 400 });
    // P(no positive among 4 draws) = (3/4)^4 ≈ 0.32; P(all positive) ≈ 0.004: about 0.47 redraws per resample.
    assert.ok(d.degenerateResamples > 120 && d.degenerateResamples < 280, `degenerateResamples = ${d.degenerateResamples}`);
    for (const v of d.distributions!.a) assert.equal(v, 1, 'model a ranks the single positive first in every valid resample');
    for (const v of d.distributions!.b) assert.equal(v, 0);
    assert.equal(d.models[1].vsBaseline!.winRate, 0);
  });

  it('the Poisson scheme is opt-in, reported, and gives different but reproducible resamples', () => {
    const m = compareModels(preds, { ...OPTS, baseline: 'prod' });
    const p = compareModels(preds, { ...OPTS, baseline: 'prod', bootstrap: 'poisson' });
    assert.equal(m.bootstrap, 'multinomial');
    assert.equal(p.bootstrap, 'poisson');
    assert.notDeepEqual(m.distributions, p.distributions);
    assert.equal(JSON.stringify(p), JSON.stringify(compareModels(preds, { ...OPTS, baseline: 'prod', bootstrap: 'poisson' })));
  });

  it('compareModels does not modify the predictions (frozen containers, typed arrays compared)', () => {
    const labels = Uint8Array.from(sim.labels);
    const a = Float64Array.from(sim.a);
    const frozen: Predictions = Object.freeze({
      n: sim.n,
      labels,
      columns: Object.freeze([Object.freeze({ name: 'prod', scores: a }), Object.freeze({ name: 'cand', scores: Float64Array.from(sim.b) })]),
    }) as Predictions;
    const opts = Object.freeze({ ...OPTS, baseline: 'prod', candidates: Object.freeze(['cand']) as string[] });
    compareModels(frozen, opts);
    compareModels(frozen, { ...opts, method: 'delong' });
    assert.deepEqual(labels, sim.labels);
    assert.deepEqual(a, sim.a);
  });
});
