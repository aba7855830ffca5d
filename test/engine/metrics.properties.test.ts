import assert from 'node:assert/strict';
import fc from 'fast-check';
import { averagePrecision, brierScore, logLoss, rocAuc, sortOrder, ROW_MASK, TIE_WITH_NEXT } from '../../src/engine';

/** Labels with both classes, scores (with frequent ties) and integer weights of the same length. */
const dataset = fc
  .integer({ min: 2, max: 60 })
  .chain((n) =>
    fc.record({
      labels: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
      scores: fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -3, max: 3 })), { minLength: n, maxLength: n }),
      probs: fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.5, 1)), { minLength: n, maxLength: n }),
      weights: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: n, maxLength: n }),
      perm: fc.array(fc.nat(), { minLength: n, maxLength: n }),
    }),
  )
  .filter((d) => d.labels.includes(0) && d.labels.includes(1));

/** Naive O(P·N) AUC by definition: P(score_pos > score_neg) + ½ P(tie), with weights. */
function naiveAuc(labels: number[], scores: number[], weights?: number[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      const w = (weights?.[i] ?? 1) * (weights?.[j] ?? 1);
      den += w;
      num += w * (scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0);
    }
  }
  return num / den;
}

function permutation(keys: number[]): number[] {
  return keys
    .map((k, i) => [k, i])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map((p) => p[1]);
}

function repeatRows<T>(values: T[], weights: number[]): T[] {
  return values.flatMap((v, i) => Array<T>(weights[i]).fill(v));
}

const close = (a: number, b: number, tol = 1e-12): boolean => Math.abs(a - b) <= tol;

describe('metric properties (fast-check)', () => {
  it('rocAuc(labels, scores) is in [0, 1] and equals the O(P·N) definition with ties counting one half', () => {
    fc.assert(
      fc.property(dataset, (d) => {
        const auc = rocAuc(d.labels, d.scores);
        return auc >= 0 && auc <= 1 && close(auc, naiveAuc(d.labels, d.scores));
      }),
      { numRuns: 300 },
    );
  });

  it('rocAuc and averagePrecision are unchanged under strictly increasing transforms of the scores', () => {
    // Integer scores (many ties) so that every transform below is strictly increasing in floating point too.
    const ints = fc
      .integer({ min: 2, max: 60 })
      .chain((n) =>
        fc.record({
          labels: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
          scores: fc.array(fc.integer({ min: -40, max: 40 }), { minLength: n, maxLength: n }),
          steps: fc.array(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), { minLength: 81, maxLength: 81 }),
        }),
      )
      .filter((d) => d.labels.includes(0) && d.labels.includes(1));
    fc.assert(
      fc.property(ints, (d) => {
        // An arbitrary increasing map: value v -> cumulative sum of random positive steps up to v.
        const cum: number[] = [];
        d.steps.reduce((acc, step, i) => (cum[i] = acc + step), -5e5);
        const transforms = [(x: number) => Math.exp(x / 8), (x: number) => x * x * x, (x: number) => 1000 * x - 7, (x: number) => cum[x + 40]];
        const auc = rocAuc(d.labels, d.scores);
        const ap = averagePrecision(d.labels, d.scores);
        return transforms.every((f) => {
          const t = d.scores.map(f);
          return rocAuc(d.labels, t) === auc && averagePrecision(d.labels, t) === ap;
        });
      }),
      { numRuns: 300 },
    );
  });

  it('metrics are unchanged under a permutation of the rows', () => {
    fc.assert(
      fc.property(dataset, (d) => {
        const p = permutation(d.perm);
        const y = p.map((i) => d.labels[i]);
        const s = p.map((i) => d.scores[i]);
        const q = p.map((i) => d.probs[i]);
        return (
          rocAuc(y, s) === rocAuc(d.labels, d.scores) &&
          close(averagePrecision(y, s), averagePrecision(d.labels, d.scores)) &&
          close(logLoss(y, q), logLoss(d.labels, d.probs)) &&
          close(brierScore(y, q), brierScore(d.labels, d.probs))
        );
      }),
      { numRuns: 200 },
    );
  });

  it('rocAuc(1 − y, s) = 1 − rocAuc(y, s)', () => {
    fc.assert(
      fc.property(dataset, (d) =>
        close(
          rocAuc(
            d.labels.map((y) => 1 - y),
            d.scores,
          ),
          1 - rocAuc(d.labels, d.scores),
        ),
      ),
      { numRuns: 200 },
    );
  });

  it('rocAuc(labels, scores) is exactly 0.5 when every score ties', () => {
    fc.assert(
      fc.property(
        dataset,
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        (d, c) =>
          rocAuc(
            d.labels,
            d.labels.map(() => c),
          ) === 0.5,
      ),
      { numRuns: 100 },
    );
  });

  it('integer weights equal repeating rows, for all four metrics', () => {
    fc.assert(
      fc.property(dataset, (d) => {
        const yr = repeatRows(d.labels, d.weights);
        if (!yr.includes(0) || !yr.includes(1)) return true;
        const sr = repeatRows(d.scores, d.weights);
        const pr = repeatRows(d.probs, d.weights);
        return (
          rocAuc(d.labels, d.scores, d.weights) === rocAuc(yr, sr) &&
          close(averagePrecision(d.labels, d.scores, d.weights), averagePrecision(yr, sr)) &&
          close(logLoss(d.labels, d.probs, d.weights), logLoss(yr, pr)) &&
          close(brierScore(d.labels, d.probs, d.weights), brierScore(yr, pr))
        );
      }),
      { numRuns: 300 },
    );
  });

  it('metrics do not modify their inputs (frozen arrays, and typed arrays compared before/after)', () => {
    fc.assert(
      fc.property(dataset, (d) => {
        const y = Object.freeze([...d.labels]);
        const s = Object.freeze([...d.scores]);
        const w = Object.freeze([...d.weights]);
        const typed = Float64Array.from(d.probs);
        const before = Array.from(typed);
        rocAuc(y, s);
        averagePrecision(y, s, w.some((x) => x > 0) && y.some((v, i) => v === 1 && w[i] > 0) ? w : undefined);
        logLoss(y, typed);
        brierScore(y, typed, w.some((x) => x > 0) ? w : undefined);
        sortOrder(typed);
        rocAuc(y, typed);
        return Array.from(typed).every((v, i) => Object.is(v, before[i]));
      }),
      { numRuns: 100 },
    );
  });

  it('sortOrder(scores) is a stable ascending argsort with ties marked (and labels and carried row values on request), for every typed array type', () => {
    const ctors = [Float64Array, Float32Array, Int32Array, Int16Array, Int8Array, Uint32Array, Uint16Array, Uint8Array] as const;
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ noNaN: true }), fc.integer({ min: -300, max: 300 }), fc.constantFrom(0, -0, Infinity, -Infinity, 5e-324)), {
          maxLength: 300,
        }),
        fc.integer({ min: 0, max: ctors.length - 1 }),
        (values, c) => {
          const scores = ctors[c].from(values.map((v) => (c >= 2 && !Number.isFinite(v) ? 0 : v)));
          const order = sortOrder(scores);
          const expected = Array.from(scores.keys()).sort((a, b) => (scores[a] < scores[b] ? -1 : scores[a] > scores[b] ? 1 : a - b));
          for (let k = 0; k < scores.length; k++) {
            if ((order[k] & ROW_MASK) !== expected[k]) return false;
            const tie = k + 1 < scores.length && scores[expected[k]] === scores[expected[k + 1]];
            if (((order[k] & TIE_WITH_NEXT) !== 0) !== tie) return false;
          }
          // The same order carrying labels and per-row values in place of the rows.
          const labels = Uint8Array.from(scores, (_, i) => (i % 3 === 0 ? 1 : 0));
          const rowWords = Uint32Array.from(scores, (_, i) => (Math.imul(i + 1, 0x9e3779b1) >>> 2) & ROW_MASK);
          const carried = sortOrder(scores, labels, { rowWords });
          for (let k = 0; k < scores.length; k++) {
            const want = (rowWords[expected[k]] | (labels[expected[k]] << 30) | (order[k] & TIE_WITH_NEXT)) >>> 0;
            if (carried[k] !== want) return false;
          }
          return true;
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('metric input checks', () => {
  it('rocAuc throws a RangeError naming the problem for one class, bad labels, NaN scores and bad weights', () => {
    assert.throws(() => rocAuc([1, 1], [0.1, 0.2]), /only one class/);
    assert.throws(() => rocAuc([0, 2], [0.1, 0.2]), /label at row 1 is 2/);
    assert.throws(() => rocAuc([0, 1], [0.1, NaN]), /score at row 1 is NaN/);
    assert.throws(() => rocAuc([0, 1], [0.1, 0.2], [1, -1]), /weight at row 1 is -1/);
    assert.throws(() => rocAuc([0, 1], [0.1, 0.2, 0.3]), /2 labels but 3 scores/);
    assert.throws(() => rocAuc([0, 1, 1], [0.1, 0.2, 0.3], [1, 0, 0]), /only one class/);
  });

  it('logLoss and brierScore reject scores outside [0, 1]', () => {
    assert.throws(() => logLoss([0, 1], [0.1, 1.5]), /log_loss needs probabilities in \[0, 1\].*1\.5 at row 1/);
    assert.throws(() => brierScore([0, 1], [-0.1, 0.5]), /brier needs probabilities/);
  });

  it('averagePrecision(labels, scores) with worked example values', () => {
    assert.equal(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.8333333333333333);
    assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
    assert.equal(rocAuc([0, 1, 1], [0.2, 0.5, 0.9], [2, 1, 0]), 1);
  });
});
