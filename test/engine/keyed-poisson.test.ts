import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  KEY_LIMIT,
  POISSON1_THRESHOLDS,
  compareModels,
  compareModelsParallel,
  exactWeightedSum,
  fixedPointLosses,
  keyedHash,
  keyedResampleIndex,
  keyedSeed64,
  keyedSeed64Decimal,
  keyedWeight,
  keyedWeights,
  meanFromFixedPoint,
  poissonOfU53,
  rocAuc,
  rowLosses,
  runKeyedPoisson,
  averagePrecision,
  apFromFixedPoint,
  exactApSum,
  sortOrder,
  type CompareOptions,
  type Metric,
  type Predictions,
} from '../../src/engine';
import { hashRef, seed64Ref, thresholdsRef, weightRef } from './keyed-reference';
import { lcg } from '../helpers/lcg';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const VECTORS = path.join(ROOT, 'test', 'fixtures', 'engine', 'keyed-poisson-vectors.json');

interface VectorFile {
  version: number;
  thresholds: string[];
  seeds: { seed: string; seedText: string; seed64: string }[];
  vectors: { seed: string; key: string; b: number; hash: string; u53: string; weight: number }[];
}

/** A small deterministic generator for test data (independent of the one under test). */
function predictions(n: number, seed: number, float32 = false): Predictions {
  const rnd = lcg(seed);
  const labels = new Uint8Array(n);
  const a = float32 ? new Float32Array(n) : new Float64Array(n);
  const b = float32 ? new Float32Array(n) : new Float64Array(n);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rnd() < 0.3 ? 1 : 0;
    // Rounded scores, so there are ties; the candidate a little better than production.
    a[i] = Math.round((0.5 * rnd() + 0.25 * labels[i]) * 200) / 200;
    b[i] = Math.round((0.5 * rnd() + 0.3 * labels[i]) * 200) / 200;
    keys[i] = (2654435761 * i + 12345) % 2 ** 40; // sparse, distinct (odd multiplier mod 2^40), some above 2^32
  }
  return {
    n,
    labels,
    columns: [
      { name: 'prod', scores: a },
      { name: 'cand', scores: b },
    ],
    rowKey: { name: 'id', values: keys },
  };
}

function shuffled(p: Predictions, seed: number): Predictions {
  const rnd = lcg(seed);
  const perm = [...Array(p.n).keys()];
  for (let i = p.n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const take = <A extends { length: number; [i: number]: number }>(src: A, make: (n: number) => A): A => {
    const out = make(p.n);
    for (let i = 0; i < p.n; i++) out[i] = src[perm[i]];
    return out;
  };
  return {
    n: p.n,
    labels: take(p.labels, (n) => new Uint8Array(n)),
    columns: p.columns.map((c) => ({ name: c.name, scores: take(c.scores as Float64Array, (n) => new (c.scores.constructor as Float64ArrayConstructor)(n)) })),
    rowKey: { name: p.rowKey!.name, values: take(p.rowKey!.values as Float64Array, (n) => new Float64Array(n)) },
  };
}

const OPTS: CompareOptions = {
  baseline: 'prod',
  metric: 'roc_auc',
  method: 'bootstrap',
  bootstrap: 'keyedPoisson',
  resamples: 200,
  seed: 'keyed-test',
  winRate: 0.95,
  minDelta: 0,
  confidence: 0.95,
};

describe('keyed Poisson bootstrap: the generator', () => {
  it('has the Poisson(1) thresholds ⌊F(k)·2^53⌋ recomputed from rational bounds on e^-1', () => {
    assert.deepEqual(POISSON1_THRESHOLDS.map(BigInt), thresholdsRef());
    assert.equal(POISSON1_THRESHOLDS.length, 18);
    assert.equal(POISSON1_THRESHOLDS[17], 2 ** 53 - 1);
  });

  it('maps 53-bit integers to weights by counting thresholds at or below them', () => {
    const t = POISSON1_THRESHOLDS;
    assert.equal(poissonOfU53(0), 0);
    assert.equal(poissonOfU53(t[0] - 1), 0);
    assert.equal(poissonOfU53(t[0]), 1);
    assert.equal(poissonOfU53(t[1] - 1), 1);
    assert.equal(poissonOfU53(t[1]), 2);
    assert.equal(poissonOfU53(t[16]), 17);
    assert.equal(poissonOfU53(2 ** 53 - 2), 17);
    assert.equal(poissonOfU53(2 ** 53 - 1), 18);
  });

  it('equals the BigInt definition on 5,000 random (seed, key, b), limbs at every boundary included', () => {
    const rnd = lcg(7);
    const T = thresholdsRef();
    const edgeKeys = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 - 1];
    for (let i = 0; i < 5000; i++) {
      const seed = i % 3 === 0 ? i : `s${i % 17}`;
      const key = i < 25 ? edgeKeys[i % 5] : Math.floor(rnd() * KEY_LIMIT);
      const b = i < 25 ? [0, 1, 255, 2 ** 20, 2 ** 24 - 1][Math.floor(i / 5)] : Math.floor(rnd() * 2 ** 24);
      const s = keyedSeed64(seed);
      const s64 = seed64Ref(seed);
      assert.equal((BigInt(s.hi) << 32n) | BigInt(s.lo), s64);
      const h = keyedHash(s, key, b);
      assert.equal((BigInt(h.hi) << 32n) | BigInt(h.lo), hashRef(s64, BigInt(key), BigInt(b)), `seed ${seed} key ${key} b ${b}`);
      assert.equal(keyedWeight(s, key, b), weightRef(s64, BigInt(key), BigInt(b), T));
    }
  });

  it('reproduces the published test vectors (test/fixtures/engine/keyed-poisson-vectors.json)', () => {
    const file = JSON.parse(readFileSync(VECTORS, 'utf8')) as VectorFile;
    assert.equal(file.version, 1);
    assert.deepEqual(file.thresholds, POISSON1_THRESHOLDS.map(String));
    for (const s of file.seeds) assert.equal(keyedSeed64Decimal(s.seed), s.seed64);
    assert.equal(file.vectors.length, 140);
    for (const v of file.vectors) {
      const s = keyedSeed64(v.seed);
      const h = keyedHash(s, Number(v.key), v.b);
      assert.equal(((BigInt(h.hi) << 32n) | BigInt(h.lo)).toString(), v.hash);
      assert.equal(((BigInt(h.hi) << 21n) | BigInt(h.lo >>> 11)).toString(), v.u53);
      assert.equal(keyedWeight(s, Number(v.key), v.b), v.weight);
      // The file is the definition's output, not the implementation's.
      assert.equal(hashRef(seed64Ref(v.seed), BigInt(v.key), BigInt(v.b)).toString(), v.hash);
    }
  });

  it('draws Poisson(1) weights: chi-square over 400,000 draws below the 0.999 quantile, mean 1', () => {
    const s = keyedSeed64('chi-square');
    const keys = Float64Array.from({ length: 40_000 }, (_, i) => i);
    const w = new Uint8Array(keys.length);
    const counts = new Array<number>(7).fill(0);
    let total = 0;
    let draws = 0;
    for (let b = 0; b < 10; b++) {
      keyedWeights(s, keys, b, w);
      for (const x of w) {
        counts[Math.min(x, 6)]++;
        total += x;
        draws++;
      }
    }
    const p = [0, 1, 2, 3, 4, 5].map((k) => Math.exp(-1) / [1, 1, 2, 6, 24, 120][k]);
    p.push(1 - p.reduce((a, b) => a + b, 0));
    const chi2 = counts.reduce((acc, c, k) => acc + (c - draws * p[k]) ** 2 / (draws * p[k]), 0);
    // 0.999 quantile of chi-square with 6 degrees of freedom: 22.46.
    assert.ok(chi2 < 22.46, `chi-square ${chi2} (counts ${counts.join(', ')})`);
    // Var(w) = 1: the mean of 400,000 draws is within 4 standard errors (0.0063) of 1.
    assert.ok(Math.abs(total / draws - 1) < 0.0064, `mean ${total / draws}`);
  });

  it('has no lag-1 correlation along keys, along resamples, or between consecutive seeds', () => {
    const n = 50_000;
    const corr = (x: number[], y: number[]): number => {
      const mx = x.reduce((a, b) => a + b, 0) / x.length;
      const my = y.reduce((a, b) => a + b, 0) / y.length;
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      for (let i = 0; i < x.length; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) ** 2;
        syy += (y[i] - my) ** 2;
      }
      return sxy / Math.sqrt(sxx * syy);
    };
    const s = keyedSeed64(1);
    const keyLag = corr(
      Array.from({ length: n }, (_, k) => keyedWeight(s, k, 3)),
      Array.from({ length: n }, (_, k) => keyedWeight(s, k + 1, 3)),
    );
    const bLag = corr(
      Array.from({ length: n }, (_, b) => keyedWeight(s, 99, b)),
      Array.from({ length: n }, (_, b) => keyedWeight(s, 99, b + 1)),
    );
    // The key and b strides of the counter (1 and 2^40) are the ones a weak mixer would betray.
    const strideLag = corr(
      Array.from({ length: n }, (_, k) => keyedWeight(s, k * 2 ** 20, 0)),
      Array.from({ length: n }, (_, k) => keyedWeight(s, k * 2 ** 20, 1)),
    );
    const s2 = keyedSeed64(2);
    const seedLag = corr(
      Array.from({ length: n }, (_, k) => keyedWeight(s, k, 0)),
      Array.from({ length: n }, (_, k) => keyedWeight(s2, k, 0)),
    );
    // 4 standard errors of a correlation of independent samples: 4/√n ≈ 0.018.
    for (const [what, r] of Object.entries({ keyLag, bLag, strideLag, seedLag })) assert.ok(Math.abs(r) < 4 / Math.sqrt(n), `${what} ${r}`);
  });

  it('sums w·q exactly past 2^53 (fixed-point losses at their maximum, weights at 18)', () => {
    const n = 3000;
    const q = new Float64Array(n).fill(2 ** 46 - 1);
    const w = new Uint8Array(n).fill(18);
    assert.equal(exactWeightedSum(w, q), 18n * 3000n * (2n ** 46n - 1n));
    assert.deepEqual(Array.from(fixedPointLosses(Float64Array.from([0, 0.5, 2 ** -41, 36.04365338911715]))), [
      0,
      2 ** 39,
      0,
      Math.floor(36.04365338911715 * 2 ** 40),
    ]);
  });
});

describe('keyed Poisson bootstrap: compareModels', () => {
  const METRICS: Metric[] = ['roc_auc', 'average_precision', 'log_loss', 'brier'];
  for (const metric of METRICS) {
    it(`${metric}: byte-identical decision JSON whatever the row order (3 shuffles, float32 scores)`, () => {
      const p = predictions(1500, 11, true);
      const d = compareModels(p, { ...OPTS, metric });
      assert.equal(d.bootstrap, 'keyedPoisson');
      assert.equal(d.resamples, 200);
      const text = JSON.stringify(d);
      for (const s of [1, 2, 3]) assert.equal(JSON.stringify(compareModels(shuffled(p, s), { ...OPTS, metric })), text);
    });
  }

  it('replays every resample from the generator alone: weighted metrics of the definition, identical', () => {
    const p = predictions(800, 5);
    const keys = p.rowKey!.values as Float64Array;
    const s64 = seed64Ref(OPTS.seed);
    const T = thresholdsRef();
    const B = 30;
    const auc = runKeyedPoisson(p, ['prod', 'cand'], 'roc_auc', OPTS.seed, B);
    const ap = runKeyedPoisson(p, ['prod', 'cand'], 'average_precision', OPTS.seed, B);
    const brier = runKeyedPoisson(p, ['prod', 'cand'], 'brier', OPTS.seed, B);
    for (let b = 0; b < B; b++) {
      const w = Array.from(keys, (k) => weightRef(s64, BigInt(k), BigInt(keyedResampleIndex(b, 0)), T));
      assert.equal(auc.run.redraws[b], 0);
      for (const [m, col] of p.columns.entries()) {
        assert.equal(auc.run.stats[m * B + b], rocAuc(p.labels, col.scores, w));
        // The keyed AP is the fixed-point sum (test/engine/keyed-ap.test.ts checks it against the BigInt definition).
        const apFixed = exactApSum(sortOrder(col.scores, p.labels), w);
        assert.equal(ap.run.stats[m * B + b], apFromFixedPoint(apFixed.sum, apFixed.pos));
        assert.ok(Math.abs(ap.run.stats[m * B + b] - averagePrecision(p.labels, col.scores, w)) < 1e-15);
        const q = fixedPointLosses(rowLosses('brier', p.labels, col.scores));
        let sum = 0n;
        for (let r = 0; r < p.n; r++) sum += BigInt(w[r]) * BigInt(q[r]);
        assert.equal(
          brier.run.stats[m * B + b],
          meanFromFixedPoint(
            sum,
            w.reduce((x, y) => x + y, 0),
          ),
        );
      }
    }
    assert.deepEqual(auc.estimates, [rocAuc(p.labels, p.columns[0].scores), rocAuc(p.labels, p.columns[1].scores)]);
  });

  it('redraws a resample that misses a class at index b + a·2^20, counted, and the same after a shuffle', () => {
    // Two positives: P(no positive weight) = e^-2 ≈ 13.5% per draw.
    const p = predictions(40, 3);
    p.labels.fill(0);
    p.labels[4] = 1;
    p.labels[9] = 1;
    const d = compareModels(p, { ...OPTS, resamples: 100 });
    assert.ok(d.degenerateResamples > 5 && d.degenerateResamples < 30, String(d.degenerateResamples));
    assert.equal(JSON.stringify(compareModels(shuffled(p, 9), { ...OPTS, resamples: 100 })), JSON.stringify(d));
    const run = runKeyedPoisson(p, ['prod', 'cand'], 'roc_auc', OPTS.seed, 100);
    const b = run.run.redraws.findIndex((r) => r > 0);
    const s = keyedSeed64(OPTS.seed);
    const keys = p.rowKey!.values as Float64Array;
    const wOf = (idx: number): number[] => Array.from(keyedWeights(s, keys, idx, new Uint8Array(p.n)));
    const used = wOf(keyedResampleIndex(b, run.run.redraws[b]));
    assert.equal(run.run.stats[run.run.resamples + b], rocAuc(p.labels, p.columns[1].scores, used));
    const first = wOf(keyedResampleIndex(b, 0));
    assert.equal(first[4] * first[9], 0);
  });

  it('gives the same decision through compareModelsParallel (keyed runs on the calling thread)', async () => {
    const p = predictions(600, 8);
    assert.equal(JSON.stringify(await compareModelsParallel(p, { ...OPTS, threads: 2 })), JSON.stringify(compareModels(p, OPTS)));
  });

  it('refuses what it cannot do, with the option or column to fix', () => {
    const p = predictions(100, 1);
    const bad = (q: Predictions, o: Partial<CompareOptions>, re: RegExp): void =>
      assert.throws(() => compareModels(q, { ...OPTS, ...o } as CompareOptions), re);
    bad({ ...p, rowKey: undefined }, {}, /bootstrap 'keyedPoisson' needs a row key column/);
    const dup = Float64Array.from(p.rowKey!.values as Float64Array);
    dup[7] = dup[3];
    bad({ ...p, rowKey: { name: 'id', values: dup } }, {}, new RegExp(`row key column 'id' has the key ${dup[3]} more than once`));
    for (const v of [-1, 0.5, 2 ** 40, NaN]) {
      const keys = Float64Array.from(p.rowKey!.values as Float64Array);
      keys[2] = v;
      bad({ ...p, rowKey: { name: 'id', values: keys } }, {}, /row key column 'id' has .* at row 2; row keys must be integers from 0 to 2\^40 - 1/);
    }
    bad({ ...p, rowKey: { name: 'id', values: new Float64Array(5) } }, {}, /row key column 'id' has 5 rows but the label column has 100/);
    bad({ ...p, rowKey: { name: 'cand', values: p.rowKey!.values } }, {}, /column 'cand' is the row key column; it cannot also be a model/);
    bad({ ...p, weight: { name: 'w', values: new Uint32Array(100).fill(1) } }, {}, /'keyedPoisson' does not take row weights \(weight column 'w'\)/);
    bad(p, { guardrails: [{ metric: 'brier', maxWorsening: 0 }] }, /'keyedPoisson' supports binary classification without guardrails or slices/);
    bad(p, { resamples: 2 ** 20 + 1 }, /resamples must be an integer from 1 to 1048576 with bootstrap 'keyedPoisson', got 1048577/);
    // BigInt64 keys (an Arrow int64 column) are accepted and give the same result as doubles.
    const big = { ...p, rowKey: { name: 'id', values: BigInt64Array.from(p.rowKey!.values as Float64Array, (x) => BigInt(x)) } };
    assert.equal(JSON.stringify(compareModels(big, OPTS)), JSON.stringify(compareModels(p, OPTS)));
  });
});
