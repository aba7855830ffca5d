import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AP_SCALE_BITS,
  AP_WEIGHT_LIMIT,
  apFromFixedPoint,
  apSums,
  averagePrecision,
  exactApSum,
  runKeyedPoisson,
  sortOrder,
  type Predictions,
} from '../../src/engine';

interface GoldenCase {
  name: string;
  labels: number[];
  scores: number[];
  weights?: number[];
  average_precision: number;
}

const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/engine/metrics-golden.json');
const golden: { cases: GoldenCase[] } = JSON.parse(readFileSync(FIXTURE, 'utf8'));
const SCALE = 2n ** BigInt(AP_SCALE_BITS);

/** The tie groups in descending score order, by a plain sort (independent of the engine's packed order). */
function groupsRef(labels: ArrayLike<number>, scores: ArrayLike<number>, weights?: ArrayLike<number>): { gp: bigint; tp: bigint; d: bigint }[] {
  const rows = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const out: { gp: bigint; tp: bigint; d: bigint }[] = [];
  let tp = 0n;
  let d = 0n;
  for (let k = 0; k < rows.length;) {
    let gp = 0n;
    let gw = 0n;
    const s = scores[rows[k]];
    for (; k < rows.length && scores[rows[k]] === s; k++) {
      const w = BigInt(weights === undefined ? 1 : weights[rows[k]]);
      gw += w;
      if (labels[rows[k]] === 1) gp += w;
    }
    tp += gp;
    d += gw;
    out.push({ gp, tp, d });
  }
  return out;
}

/** Σ_g pw_g · ⌊TP_g · 2^56 / (TP_g + FP_g)⌋ in BigInt, straight from the definition. */
function fixedSumRef(labels: ArrayLike<number>, scores: ArrayLike<number>, weights?: ArrayLike<number>): bigint {
  return groupsRef(labels, scores, weights).reduce((acc, g) => (g.gp === 0n ? acc : acc + g.gp * ((g.tp * SCALE) / g.d)), 0n);
}

/** Each group's term t satisfies t·d ≤ gp·tp·2^56 < (t + gp)·d, so 0 ≤ AP − Σ/(2^56·P) < 2^-56 (Σ gp = P). */
function assertWithinBound(labels: ArrayLike<number>, scores: ArrayLike<number>, weights?: ArrayLike<number>): void {
  for (const g of groupsRef(labels, scores, weights)) {
    if (g.gp === 0n) continue;
    const t = g.gp * ((g.tp * SCALE) / g.d);
    assert.ok(t * g.d <= g.gp * g.tp * SCALE && g.gp * g.tp * SCALE < (t + g.gp) * g.d);
  }
}

function check(labels: number[], scores: number[], weights?: number[]): { fixed: number; plain: number } {
  const order = sortOrder(Float64Array.from(scores), Uint8Array.from(labels));
  const got = exactApSum(order, weights);
  assert.equal(got.sum, fixedSumRef(labels, scores, weights));
  assertWithinBound(labels, scores, weights);
  const plain = apSums(order, null, weights);
  assert.equal(got.pos, plain.pos);
  const fixed = apFromFixedPoint(got.sum, got.pos);
  // apSums adds one rounded term per group; the fixed point is below the exact AP by less than 2^-56.
  assert.ok(Math.abs(fixed - plain.sum / plain.pos) <= 2 ** -AP_SCALE_BITS + (labels.length + 2) * 2 ** -52, `${fixed} vs ${plain.sum / plain.pos}`);
  return { fixed, plain: plain.sum / plain.pos };
}

describe('keyed Poisson bootstrap: average precision in fixed point (exactApSum)', () => {
  it('equals the BigInt definition on every golden set, within 2^-56 of the exact AP and 1e-12 of scikit-learn', () => {
    const cases = golden.cases.filter((c) => c.weights === undefined || c.weights.every(Number.isInteger));
    assert.equal(cases.length, 38);
    for (const c of cases) {
      const { fixed } = check(c.labels, c.scores, c.weights);
      assert.ok(Math.abs(fixed - c.average_precision) <= 1e-12, `${c.name}: ${fixed} vs ${c.average_precision}`);
    }
  });

  it('ties only: one group, P·⌊P·2^56/n⌋', () => {
    const labels = [1, 0, 0, 1, 0, 1, 0];
    const scores = labels.map(() => 0.5);
    const order = sortOrder(Float64Array.from(scores), Uint8Array.from(labels));
    assert.deepEqual(exactApSum(order), { sum: 3n * ((3n * SCALE) / 7n), pos: 3 });
    assert.equal(check(labels, scores).fixed, Number(3n * ((3n * SCALE) / 7n)) / (3 * 2 ** 56));
    assert.ok(Math.abs(averagePrecision(labels, scores) - 3 / 7) <= 2 ** -53);
  });

  it('one positive: ⌊2^56 / rank⌋ exactly, and exactly 1 when it ranks first', () => {
    const labels = [0, 0, 1, 0, 0];
    const scores = [0.9, 0.8, 0.7, 0.2, 0.1];
    const order = sortOrder(Float64Array.from(scores), Uint8Array.from(labels));
    assert.deepEqual(exactApSum(order), { sum: SCALE / 3n, pos: 1 });
    assert.deepEqual(exactApSum(sortOrder(Float64Array.of(0.1, 0.9, 0.2), Uint8Array.of(0, 1, 0))), { sum: SCALE, pos: 1 });
    check(labels, scores);
  });

  it('is exact past 2^53 with large weights (BigInt terms and flushes) and refuses a total weight of 2^35', () => {
    const labels = [1, 0, 1, 1, 0, 1, 0, 1];
    const scores = [0.9, 0.85, 0.8, 0.8, 0.5, 0.4, 0.3, 0.1];
    const weights = [2 ** 33 - 1, 3, 2 ** 24, 2 ** 23 + 7, 2 ** 32, 5, 2 ** 24 - 1, 2 ** 30 + 11];
    check(labels, scores, weights);
    const many = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    check(
      many,
      many.map((_, i) => 1 - i / 3000),
      many.map((_, i) => 2 ** 23 - 1 - (i % 17)),
    );
    const order = sortOrder(Float64Array.of(0.2, 0.1), Uint8Array.of(1, 0));
    assert.throws(() => exactApSum(order, [AP_WEIGHT_LIMIT / 2, AP_WEIGHT_LIMIT / 2]), /total weight 34359738368 reaches 2\^35/);
    check([1, 0], [0.2, 0.1], [AP_WEIGHT_LIMIT / 2, AP_WEIGHT_LIMIT / 2 - 1]);
  });

  it('runKeyedPoisson: estimates and every resample are the fixed-point AP, identical after a shuffle', () => {
    const n = 700;
    const labels = new Uint8Array(n);
    const a = new Float64Array(n);
    const b = new Float32Array(n);
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = (i * 7) % 10 < 3 ? 1 : 0;
      a[i] = Math.round(((i * 37) % 101) / 4 + 10 * labels[i]) / 40;
      b[i] = ((i * 53) % 97) / 97 + 0.2 * labels[i];
      keys[i] = (2654435761 * i + 99) % 2 ** 40;
    }
    const p: Predictions = {
      n,
      labels,
      columns: [
        { name: 'prod', scores: a },
        { name: 'cand', scores: b },
      ],
      rowKey: { name: 'id', values: keys },
    };
    const run = runKeyedPoisson(p, ['prod', 'cand'], 'average_precision', 5, 40);
    const perm = Array.from({ length: n }, (_, i) => (i * 263) % n);
    const q: Predictions = {
      n,
      labels: Uint8Array.from(perm, (i) => labels[i]),
      columns: [
        { name: 'prod', scores: Float64Array.from(perm, (i) => a[i]) },
        { name: 'cand', scores: Float32Array.from(perm, (i) => b[i]) },
      ],
      rowKey: { name: 'id', values: Float64Array.from(perm, (i) => keys[i]) },
    };
    assert.deepEqual(runKeyedPoisson(q, ['prod', 'cand'], 'average_precision', 5, 40), run);
    assert.deepEqual(run.estimates, [apFromFixedPoint(fixedSumRef(labels, a), 210), apFromFixedPoint(fixedSumRef(labels, Array.from(b)), 210)]);
    assert.notEqual(run.estimates[0], averagePrecision(labels, a));
  });
});
