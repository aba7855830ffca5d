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
  type PreparedBootstrap,
  type CompareOptions,
  type Metric,
  type Predictions,
} from '../../src/engine';
import { kernelJob } from '../../src/engine/bootstrap';
import { runKernel } from '../../src/engine/kernel';
import { simulatePair } from './simulate';

/**
 * The multinomial draw's pair outcomes (a, b) of two independent Poisson(1) counts, ordered by a + b
 * then a, with P(outcome <= j) as a double computed from the upper tail (summed from the far end),
 * cut at the first outcome where it reaches 1.
 */
function pairOutcomes(): { a: number[]; b: number[]; cdf: number[] } {
  const fact = [1];
  for (let c = 1; c < 40; c++) fact.push(fact[c - 1] * c);
  const a: number[] = [];
  const b: number[] = [];
  const p: number[] = [];
  for (let t = 0; t < 40; t++) {
    for (let x = 0; x <= t; x++) {
      a.push(x);
      b.push(t - x);
      p.push(Math.exp(-2) / (fact[x] * fact[t - x]));
    }
  }
  const cdf: number[] = [];
  for (let j = 0; j < p.length; j++) {
    let upper = 0;
    for (let i = p.length - 1; i > j; i--) upper += p[i];
    cdf.push(1 - upper);
    if (1 - upper >= 1) break;
  }
  return { a: a.slice(0, cdf.length), b: b.slice(0, cdf.length), cdf };
}
const PAIRS = pairOutcomes();

/**
 * Test oracle: resample b's multiplicities, by reference position, written as plainly as possible
 * (BigInt for Lemire's exact high word, linear searches for the inversions) — the kernel must agree
 * exactly. Multinomial: Poisson(1) counts two positions per word (inversion against the pair CDF, with
 * 21 more bits from the next word when the word is a threshold's floor), then n − s balls added at
 * uniform positions, or s − n removed (a uniform position accepted when a uniform integer below
 * M = max(8, largest count drawn) is below its count). `poissonTotal` is s of the final draw.
 */
function oracleCounts(
  n: number,
  labelsRef: Uint8Array,
  seed: string | number,
  b: number,
  scheme: BootstrapScheme,
): { counts: Uint32Array; redraws: number; poissonTotal: number } {
  const gen = new Xor4096(resampleStates(seed, b, 1));
  const u32 = (): number => gen.next() >>> 0;
  const uniformBelow = (range: number): number => {
    const reject = 2 ** 32 % range;
    for (;;) {
      const product = BigInt(u32()) * BigInt(range);
      if (Number(product & 0xffffffffn) >= reject) return Number(product >> 32n);
    }
  };
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
    const counts = new Uint32Array(n + 1);
    let poissonTotal = 0;
    if (scheme === 'multinomial') {
      let max = 8;
      for (let q = 0; 2 * q < n; q++) {
        const x = u32();
        let extra: number | undefined;
        let j = 0;
        for (; ; j++) {
          const floor = Math.floor(PAIRS.cdf[j] * 2 ** 32);
          if (x < floor) break;
          if (x === floor) {
            extra ??= u32() >>> 11;
            if (x * 2 ** 21 + extra < PAIRS.cdf[j] * 2 ** 53) break;
          }
        }
        counts[2 * q] = PAIRS.a[j];
        counts[2 * q + 1] = PAIRS.b[j];
        max = Math.max(max, PAIRS.a[j], PAIRS.b[j]);
      }
      counts[n] = 0; // an odd n's last pair has one position
      let s = counts.reduce((x, y) => x + y, 0);
      poissonTotal = s;
      while (s < n) {
        counts[uniformBelow(n)]++;
        s++;
      }
      while (s > n) {
        const at = uniformBelow(n);
        if (uniformBelow(max) < counts[at]) {
          counts[at]--;
          s--;
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
    if (pos > 0 && pos < tot) return { counts: counts.subarray(0, n), redraws, poissonTotal };
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
    for (const [seed, b] of [
      [42, 0],
      ['abc', 7],
      [0, 123456],
    ] as const) {
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
  const preds: Predictions = {
    n: sim.n,
    labels: sim.labels,
    columns: [
      { name: 'a', scores: sim.a },
      { name: 'b', scores: sim.b },
    ],
  };
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
        const refRows =
          metric === 'roc_auc' || metric === 'average_precision'
            ? Array.from(sortOrder(data.columns[0].scores), (e) => e & ROW_MASK)
            : [...Array(sim.n).keys()];
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

/** The multiplicities the kernel used for resamples 0 .. B − 1 (`countsOut[b * n + pos]`). */
function kernelCounts(prep: PreparedBootstrap, seed: string | number, B: number): { counts: Uint8Array; redraws: Uint32Array } {
  const job = kernelJob(prep, seed, 0, B);
  job.countsOut = new Uint8Array(B * prep.n);
  runKernel(job);
  return { counts: job.countsOut, redraws: job.redraws };
}

/** Labels in reference order (model 0's sorted order). */
function referenceLabels(preds: Predictions): Uint8Array {
  return Uint8Array.from(sortOrder(preds.columns[0].scores), (e) => preds.labels[e & ROW_MASK]);
}

describe('multinomial draw by Poissonization', () => {
  it("n = 5003 (odd): multiplicities and AUCs equal the oracle's, each resample sums to exactly n, both fix-ups occur", () => {
    const sim = simulatePair({ n: 5003, auc: [0.7, 0.72], rho: 0.5, prevalence: 0.3, seed: 'poissonized' });
    const preds: Predictions = {
      n: sim.n,
      labels: sim.labels,
      columns: [
        { name: 'a', scores: sim.a },
        { name: 'b', scores: sim.b },
      ],
    };
    const prep = prepareBootstrap(preds, ['a', 'b'], 'roc_auc', 'multinomial');
    const B = 41;
    const { counts, redraws } = kernelCounts(prep, 3, B);
    const run = runBootstrap(prep, 3, B);
    const labelsRef = referenceLabels(preds);
    const refRows = Array.from(sortOrder(preds.columns[0].scores), (e) => e & ROW_MASK);
    const branches = { add: 0, remove: 0 };
    for (let b = 0; b < B; b++) {
      const oracle = oracleCounts(sim.n, labelsRef, 3, b, 'multinomial');
      const mine = counts.subarray(b * sim.n, (b + 1) * sim.n);
      assert.deepEqual(Array.from(mine), Array.from(oracle.counts), `resample ${b}`);
      assert.equal(redraws[b], oracle.redraws);
      assert.equal(
        mine.reduce((x, y) => x + y, 0),
        sim.n,
        `resample ${b} total`,
      );
      // Continuous scores (no ties): the untied AUC loops, P = n − N from the reference model's pass.
      const weights = new Float64Array(sim.n);
      refRows.forEach((row, k) => (weights[row] = oracle.counts[k]));
      for (let m = 0; m < 2; m++) assert.equal(run.stats[m * B + b], metricValue('roc_auc', preds.labels, preds.columns[m].scores, weights));
      if (oracle.poissonTotal < sim.n) branches.add++;
      if (oracle.poissonTotal > sim.n) branches.remove++;
    }
    assert.ok(branches.add >= 10 && branches.remove >= 10, JSON.stringify(branches));
  });

  // Every count vector of a tiny n against the exact multinomial law, conditioned on both classes being
  // present (single-class resamples are redrawn). Pearson's chi-square with a fixed seed; the threshold
  // is the 0.999 quantile of the chi-square law with (cells − 1) degrees of freedom.
  const cases = [
    { labels: [0, 1, 0], B: 12000, critical: 18.47 }, // 5 cells, 4 df
    { labels: [0, 1, 0, 1], B: 20000, critical: 51.18 }, // 25 cells, 24 df
  ];
  for (const { labels, B, critical } of cases) {
    const n = labels.length;
    it(`n = ${n}: the frequency of every count vector matches the multinomial pmf (chi-square < ${critical}, B = ${B})`, () => {
      const preds = predsOf(labels, { a: labels.map((_, i) => i), b: labels.map((_, i) => -i) });
      const prep = prepareBootstrap(preds, ['a', 'b'], 'roc_auc', 'multinomial');
      const labelsRef = referenceLabels(preds);
      const { counts } = kernelCounts(prep, `chi2-${n}`, B);
      const seen = new Map<string, number>();
      for (let b = 0; b < B; b++) {
        const v = counts.subarray(b * n, (b + 1) * n);
        assert.equal(
          v.reduce((x, y) => x + y, 0),
          n,
        );
        const key = v.join(',');
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      // Every composition of n into n parts, its multinomial probability, kept if both classes are present.
      const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
      const cells: { key: string; p: number }[] = [];
      const walk = (prefix: number[], left: number): void => {
        if (prefix.length === n - 1) {
          const v = [...prefix, left];
          const positives = v.reduce((x, c, i) => x + c * labelsRef[i], 0);
          if (positives === 0 || positives === n) return;
          cells.push({ key: v.join(','), p: fact(n) / v.reduce((x, c) => x * fact(c), 1) / n ** n });
          return;
        }
        for (let c = 0; c <= left; c++) walk([...prefix, c], left - c);
      };
      walk([], n);
      const kept = cells.reduce((x, c) => x + c.p, 0);
      let chi2 = 0;
      for (const { key, p } of cells) {
        const expected = (B * p) / kept;
        chi2 += ((seen.get(key) ?? 0) - expected) ** 2 / expected;
        seen.delete(key);
      }
      assert.deepEqual([...seen.keys()], [], 'vectors outside the support');
      assert.ok(chi2 < critical, `chi-square ${chi2.toFixed(2)} over ${cells.length} cells`);
      // Both fix-up branches, and the kernel equal to the oracle, on these draws too.
      const branches = { add: 0, remove: 0 };
      for (let b = 0; b < 500; b++) {
        const oracle = oracleCounts(n, labelsRef, `chi2-${n}`, b, 'multinomial');
        assert.deepEqual(Array.from(counts.subarray(b * n, (b + 1) * n)), Array.from(oracle.counts));
        if (oracle.poissonTotal < n) branches.add++;
        if (oracle.poissonTotal > n) branches.remove++;
      }
      assert.ok(branches.add > 50 && branches.remove > 50, JSON.stringify(branches));
    });
  }

  it("a word equal to a threshold's floor is decided by 21 more bits of the next word (2^-53 resolution)", () => {
    // n = 2, reference labels [0, 1]: pair (1, 1) is a valid resample, (2, 0) a single-class one.
    const preds = predsOf([0, 1], { a: [0, 1] });
    const prep = prepareBootstrap(preds, ['a'], 'roc_auc', 'multinomial');
    const j = PAIRS.a.findIndex((a, i) => a === 1 && PAIRS.b[i] === 1);
    const floor = Math.floor(PAIRS.cdf[j] * 2 ** 32);
    const frac = PAIRS.cdf[j] * 2 ** 53 - floor * 2 ** 21; // U < P(outcome <= j) iff the extra 21 bits < frac
    assert.ok(frac >= 1 && frac < 2 ** 21 - 1, `frac ${frac}`);
    // A state whose first word is `floor` and whose second word's top 21 bits are `extra`: slots 34 and 35
    // feed the first two outputs, slots 1 and 2 (zeroed) their other input, and w starts one step behind 0.
    const unshift = (out: number, w: number): number => {
      let v = (out - (w ^ (w >>> 16))) | 0;
      v ^= (v >>> 15) ^ (v >>> 30);
      v ^= (v << 13) ^ (v << 26);
      return v | 0;
    };
    const run = (extra: number): { counts: number[]; redraws: number } => {
      const job = kernelJob(prep, 'crafted', 0, 1);
      const st = job.states;
      st[128] = 0;
      st[129] = -0x61c88647 | 0;
      st[1] = 0;
      st[2] = 0;
      st[34] = unshift(floor, 0);
      st[35] = unshift((extra * 2048 + 1234) >>> 0, 0x61c88647);
      const check = new Xor4096(st);
      assert.equal(check.next() >>> 0, floor);
      assert.equal(check.next() >>> 11, extra);
      job.countsOut = new Uint8Array(2);
      runKernel(job);
      return { counts: Array.from(job.countsOut), redraws: job.redraws[0] };
    };
    assert.deepEqual(run(Math.ceil(frac) - 1), { counts: [1, 1], redraws: 0 });
    // Just above: outcome (2, 0), single-class, so redrawn from the stream that follows.
    assert.ok(run(Math.ceil(frac)).redraws >= 1);
  });
});

describe('bootstrap kernel against the oracle on tiny, imbalanced data (redraws)', () => {
  const tiny: Predictions = predsOf([0, 1, 0, 0, 0], { a: [0.1, 0.9, 0.3, 0.3, 0.2], b: [0.5, 0.6, 0.7, 0.1, 0.2] });
  // ROC AUC takes a multinomial resample's positive weight from the reference model's pass, the other
  // metrics from a pass over the counts: both decide the redraws.
  const cases: [Metric, BootstrapScheme][] = [
    ['roc_auc', 'multinomial'],
    ['average_precision', 'multinomial'],
    ['brier', 'multinomial'],
    ['roc_auc', 'poisson'],
  ];
  for (const [metric, scheme] of cases) {
    it(`runBootstrap(${metric}, ${scheme}) redraws single-class resamples exactly as the oracle does`, () => {
      const prep = prepareBootstrap(tiny, ['a', 'b'], metric, scheme);
      const B = 50;
      const run = runBootstrap(prep, 's', B);
      const refRows = metric === 'brier' ? [0, 1, 2, 3, 4] : Array.from(sortOrder(tiny.columns[0].scores), (e) => e & ROW_MASK);
      const labelsRef = Uint8Array.from(refRows, (r) => tiny.labels[r]);
      let total = 0;
      for (let b = 0; b < B; b++) {
        const { counts, redraws } = oracleCounts(5, labelsRef, 's', b, scheme);
        const weights = new Float64Array(5);
        refRows.forEach((row, k) => (weights[row] = counts[k]));
        assert.equal(run.redraws[b], redraws);
        assert.equal(run.stats[B + b], metricValue(metric, tiny.labels, tiny.columns[1].scores, weights));
        total += redraws;
      }
      assert.ok(total > 10, `only ${total} redraws: the case does not exercise them`);
    });
  }
});

describe('bootstrap reproducibility and degenerate resamples', () => {
  const sim = simulatePair({ n: 300, auc: [0.75, 0.78], rho: 0.6, prevalence: 0.2, seed: 'repro' });
  const preds: Predictions = {
    n: sim.n,
    labels: sim.labels,
    columns: [
      { name: 'prod', scores: sim.a },
      { name: 'cand', scores: sim.b },
    ],
  };

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
