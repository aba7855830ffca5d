/**
 * The keyed Poisson bootstrap: resample b gives row r the weight w(r, b) = Pois1(H(seed, key_r, b)),
 * a Poisson(1) draw from a counter-based generator keyed by the row's integer key. A row's weight
 * depends on nothing but (seed, key, b), so the resamples — and, because every sum is an integer, every
 * statistic — are the same whatever the row order, the partitioning or the machine. Spark computes the
 * same weights in SQL (spark/sql.ts) and the notebook in numpy (spark_compare.py); the published test
 * vectors (docs/keyed-poisson.md, test/fixtures/engine/keyed-poisson-vectors.json) pin all three.
 *
 * Generator (version 1, `KEYED_POISSON_VERSION`):
 * - seed64 = mix64(FNV-1a 64 of the UTF-8 bytes of `mlops-eval:keyed-poisson:v1:` + String(seed));
 * - H(seed, key, b) = mix64(seed64 + (key + b·2^40)·φ mod 2^64), with φ = 0x9E3779B97F4A7C15 and mix64
 *   the finaliser of SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
 *   OOPSLA 2014; the constants of Java's `SplittableRandom.mix64`). For key < 2^40 and b < 2^24 the
 *   counter key + b·2^40 is injective and φ is odd, so every (key, b) gets a distinct input to mix64,
 *   itself a bijection;
 * - the weight is the number of thresholds T_k ≤ u, where u = H >>> 11 (the top 53 bits) and
 *   T_k = ⌊F(k)·2^53⌋ with F the Poisson(1) CDF (`POISSON1_THRESHOLDS`): P(w = k) is exact to 2^-53.
 *
 * Chamandy et al. (2012), "Estimating uncertainty for massive data streams" (Google), built the Poisson
 * bootstrap for data split over machines, where every shard must weigh a row alike; this is that scheme
 * with a stateless generator. The weights are Poisson, not multinomial: the resample size varies around
 * n, which for the statistics compared here differs from the default multinomial bootstrap by Monte
 * Carlo noise only (docs/keyed-poisson.md).
 *
 * Everything is exact integer arithmetic on 32-bit limbs (no BigInt in the per-row loop).
 */
import { aucSums, rowLosses } from './metrics';
import { LABEL_BIT, ROW_MASK, TIE_WITH_NEXT, sortOrder, sortScratchBytes } from './sort';
import { InvalidOptionsError, PredictionsError } from './errors';
import type { Metric, Predictions, ScoreArray } from './types';

/** Version of the generator and of the fixed-point losses; recorded by every Spark evaluation. */
export const KEYED_POISSON_VERSION = 1;

/** Row keys are integers in [0, 2^40). */
export const KEY_LIMIT = 2 ** 40;

/** The generator's resample index is below 2^24; see `keyedResampleIndex`. */
export const RESAMPLE_INDEX_LIMIT = 2 ** 24;

/** Largest B of the keyed bootstrap: resample b's redraws use the indices b + a·2^20 (a < 16). */
export const MAX_KEYED_RESAMPLES = 2 ** 20;

/** Attempts per resample (the first draw and 15 redraws) before the data are declared too small. */
export const MAX_KEYED_ATTEMPTS = 16;

/** Losses are summed in fixed point: q = ⌊loss · 2^40⌋, so Σ w·q is an exact integer on every platform. */
export const LOSS_SCALE_BITS = 40;

/**
 * T_k = ⌊F(k)·2^53⌋ for k = 0..17, F the Poisson(1) CDF e^-1·Σ_{j≤k} 1/j!; T_17 = 2^53 − 1. The weight is
 * #{k : T_k ≤ u} for the 53-bit u, so w = 18 has probability 2^-53 (test/engine/keyed-poisson.test.ts
 * recomputes the table with BigInt rationals).
 */
export const POISSON1_THRESHOLDS: readonly number[] = Object.freeze([
  3313563428353947, 6627126856707895, 8283908570884869, 8836169142277194, 8974234285125275, 9001847313694891, 9006449485123161, 9007106938184342,
  9007189119816990, 9007198251109506, 9007199164238758, 9007199247250508, 9007199254168154, 9007199254700280, 9007199254738289, 9007199254740823,
  9007199254740982, 9007199254740991,
]);

const T = POISSON1_THRESHOLDS;
const TWO32 = 4294967296;

/** φ = 0x9E3779B97F4A7C15 and SplitMix64's two multipliers, as 32-bit halves. */
const PHI_HI = 0x9e3779b9;
const PHI_LO = 0x7f4a7c15;
const M1_HI = 0xbf58476d;
const M1_LO = 0x1ce4e5b9;
const M2_HI = 0x94d049bb;
const M2_LO = 0x133111eb;

/** A 64-bit value as two unsigned 32-bit halves. */
export interface U64 {
  hi: number;
  lo: number;
}

/** The high half of (aHi:aLo)·(cHi:cLo) mod 2^64 (the low half is Math.imul(aLo, cLo) >>> 0); partial products below 2^34. */
function mulHi(aHi: number, aLo: number, cHi: number, cLo: number): number {
  const al = aLo & 0xffff;
  const ah = aLo >>> 16;
  const cl = cLo & 0xffff;
  const ch = cLo >>> 16;
  const lh = al * ch;
  const hl = ah * cl;
  const mid = ((al * cl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  const carry = ah * ch + (lh >>> 16) + (hl >>> 16) + (mid >>> 16);
  return (carry + (Math.imul(aLo, cHi) >>> 0) + (Math.imul(aHi, cLo) >>> 0)) >>> 0;
}

/** SplitMix64's finaliser of (h:l). */
function mix64(h: number, l: number): U64 {
  l = (l ^ ((l >>> 30) | (h << 2))) >>> 0;
  h = (h ^ (h >>> 30)) >>> 0;
  let nh = mulHi(h, l, M1_HI, M1_LO);
  l = Math.imul(l, M1_LO) >>> 0;
  h = nh;
  l = (l ^ ((l >>> 27) | (h << 5))) >>> 0;
  h = (h ^ (h >>> 27)) >>> 0;
  nh = mulHi(h, l, M2_HI, M2_LO);
  l = Math.imul(l, M2_LO) >>> 0;
  h = nh;
  return { hi: (h ^ (h >>> 31)) >>> 0, lo: (l ^ ((l >>> 31) | (h << 1))) >>> 0 };
}

/** The top 53 bits of mix64(h:l), as an integer below 2^53 (the per-row hot path: no allocation). */
function mixU53(h: number, l: number): number {
  l = (l ^ ((l >>> 30) | (h << 2))) >>> 0;
  h = (h ^ (h >>> 30)) >>> 0;
  let nh = mulHi(h, l, M1_HI, M1_LO);
  l = Math.imul(l, M1_LO) >>> 0;
  h = nh;
  l = (l ^ ((l >>> 27) | (h << 5))) >>> 0;
  h = (h ^ (h >>> 27)) >>> 0;
  nh = mulHi(h, l, M2_HI, M2_LO);
  l = Math.imul(l, M2_LO) >>> 0;
  h = nh;
  return ((h ^ (h >>> 31)) >>> 0) * 2097152 + (((l ^ ((l >>> 31) | (h << 1))) >>> 0) >>> 11);
}

/** The text whose FNV-1a hash seeds the generator. */
export function keyedSeedText(seed: string | number): string {
  return `mlops-eval:keyed-poisson:v1:${String(seed)}`;
}

/**
 * seed64 of a seed: mix64(FNV-1a 64 of the UTF-8 bytes of `keyedSeedText(seed)`) (FNV: offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3; Fowler, Noll & Vo, IETF draft-eastlake-fnv).
 */
export function keyedSeed64(seed: string | number): U64 {
  const bytes = new TextEncoder().encode(keyedSeedText(seed));
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const byte of bytes) {
    lo = (lo ^ byte) >>> 0;
    const nh = mulHi(hi, lo, 0x00000100, 0x000001b3);
    lo = Math.imul(lo, 0x000001b3) >>> 0;
    hi = nh;
  }
  return mix64(hi, lo);
}

/** seed64 as an unsigned decimal string (what the SQL and the notebook are given). */
export function keyedSeed64Decimal(seed: string | number): string {
  const s = keyedSeed64(seed);
  return ((BigInt(s.hi) << 32n) | BigInt(s.lo)).toString();
}

/**
 * The per-row part of the generator's input, seed64 + (key mod 2^32)·φ + ((⌊key / 2^32⌋·φ) mod 2^32)·2^32
 * (mod 2^64): resample b then only adds ((256·b·φ) mod 2^32)·2^32, i.e. a 32-bit add to the high half,
 * since (c·2^32)·φ ≡ ((c·φ_lo) mod 2^32)·2^32 (mod 2^64).
 */
export interface KeyedBase {
  hi: Uint32Array;
  lo: Uint32Array;
}

/** `KeyedBase` of every key (keys: integers in [0, 2^40)). */
export function keyedBase(s: U64, keys: Float64Array): KeyedBase {
  const n = keys.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let r = 0; r < n; r++) {
    const kHi = Math.floor(keys[r] / TWO32);
    const kLo = keys[r] - kHi * TWO32;
    const yLo = Math.imul(kLo, PHI_LO) >>> 0;
    const sum = s.lo + yLo;
    lo[r] = sum >>> 0;
    hi[r] = (s.hi + mulHi(0, kLo, PHI_HI, PHI_LO) + (Math.imul(kHi, PHI_LO) >>> 0) + (sum >= TWO32 ? 1 : 0)) >>> 0;
  }
  return { hi, lo };
}

/** The high-half increment of resample index b: (256·b·φ_lo) mod 2^32. */
function resampleStep(b: number): number {
  return Math.imul(b * 256, PHI_LO) >>> 0;
}

/** H(seed64, key, b), the generator's 64-bit output, as halves (key an integer in [0, 2^40), b in [0, 2^24)). */
export function keyedHash(s: U64, key: number, b: number): U64 {
  const base = keyedBase(s, Float64Array.of(key));
  return mix64((base.hi[0] + resampleStep(b)) >>> 0, base.lo[0]);
}

/** The Poisson(1) weight of a 53-bit uniform integer u: #{k : T_k ≤ u}. */
export function poissonOfU53(u: number): number {
  let k = 0;
  while (k < T.length && u >= T[k]) k++;
  return k;
}

/** w(r, b) for one row key. */
export function keyedWeight(s: U64, key: number, b: number): number {
  const h = keyedHash(s, key, b);
  return poissonOfU53(h.hi * 2097152 + (h.lo >>> 11));
}

/** The weights of resample index `b` for every row, into `out` (row order); `base` from `keyedBase`. */
export function keyedWeightsFromBase(base: KeyedBase, b: number, out: Uint8Array): Uint8Array {
  const t0 = T[0];
  const step = resampleStep(b);
  const { hi, lo } = base;
  for (let r = 0; r < hi.length; r++) {
    const u = mixU53((hi[r] + step) >>> 0, lo[r]);
    out[r] = u < t0 ? 0 : poissonOfU53(u);
  }
  return out;
}

/** The weights of resample index `b` for every row, into `out` (row order). */
export function keyedWeights(s: U64, keys: Float64Array, b: number, out: Uint8Array): Uint8Array {
  return keyedWeightsFromBase(keyedBase(s, keys), b, out);
}

/** The generator index of resample b's attempt a (0 = the first draw): b + a·2^20. */
export function keyedResampleIndex(b: number, attempt: number): number {
  return b + attempt * MAX_KEYED_RESAMPLES;
}

/**
 * The row keys as doubles, checked: integers in [0, 2^40), one per row, all distinct (a repeated key
 * would give its rows the same weight in every resample, which is not a bootstrap of rows).
 *
 * @throws PredictionsError naming the column and the first offending row.
 */
export function rowKeysOf(preds: Pick<Predictions, 'n' | 'rowKey'> & { columns: { name: string }[] }): Float64Array {
  const col = preds.rowKey;
  if (col === undefined) throw new InvalidOptionsError("bootstrap 'keyedPoisson' needs a row key column (Predictions.rowKey; --row-key in the CLI)");
  const n = preds.n;
  if (col.values.length !== n)
    throw new PredictionsError(`the row key column '${col.name}' has ${col.values.length} rows but the label column has ${n}`, col.name);
  const keys = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const v = col.values[r];
    const x = typeof v === 'bigint' ? (v >= 0n && v < BigInt(KEY_LIMIT) ? Number(v) : -1) : v;
    if (!(Number.isInteger(x) && x >= 0 && x < KEY_LIMIT)) {
      throw new PredictionsError(`the row key column '${col.name}' has ${String(v)} at row ${r}; row keys must be integers from 0 to 2^40 - 1`, col.name);
    }
    keys[r] = x;
  }
  const sorted = Float64Array.from(keys).sort();
  for (let k = 1; k < n; k++) {
    if (sorted[k] === sorted[k - 1])
      throw new PredictionsError(`the row key column '${col.name}' has the key ${sorted[k]} more than once; row keys must be distinct`, col.name);
  }
  for (const c of preds.columns) {
    if (c.name === col.name) throw new PredictionsError(`column '${c.name}' is the row key column; it cannot also be a model`, c.name);
  }
  return keys;
}

/** The fixed-point losses q = ⌊loss · 2^40⌋ (exact integers below 2^46: a loss is at most −ln 2^-52 ≈ 36.04). */
export function fixedPointLosses(losses: Float64Array): Float64Array {
  const q = new Float64Array(losses.length);
  for (let r = 0; r < losses.length; r++) q[r] = Math.floor(losses[r] * 2 ** LOSS_SCALE_BITS);
  return q;
}

/** Rows summed in doubles before a flush into BigInt: w·q_lo and w·q_hi are below 18·2^24 < 2^29. */
const FLUSH_ROWS = 2 ** 23;

/** Σ_r w_r·q_r exactly (q < 2^48 split into 24-bit halves, each partial sum kept below 2^53). */
export function exactWeightedSum(w: ArrayLike<number>, q: Float64Array): bigint {
  let total = 0n;
  let hiSum = 0;
  let loSum = 0;
  for (let start = 0; start < q.length; start += FLUSH_ROWS) {
    const end = Math.min(q.length, start + FLUSH_ROWS);
    for (let r = start; r < end; r++) {
      const wr = w[r];
      if (wr === 0) continue;
      const qh = Math.floor(q[r] / 16777216);
      hiSum += wr * qh;
      loSum += wr * (q[r] - qh * 16777216);
    }
    total += (BigInt(hiSum) << 24n) + BigInt(loSum);
    hiSum = 0;
    loSum = 0;
  }
  return total;
}

/** The integer sums of one keyed resample for the mean-type metrics: Σw, Σw·y and per model Σw·q. */
export interface KeyedLossSums {
  weight: number;
  positiveWeight: number;
  losses: bigint[];
}

/** The sums of resample index `b` (what the Spark SQL returns per resample; see spark/sql.ts). */
export function keyedLossSums(s: U64 | KeyedBase, keys: Float64Array, labels: Uint8Array, q: Float64Array[], b: number, scratch?: Uint8Array): KeyedLossSums {
  const base = s.hi instanceof Uint32Array ? (s as KeyedBase) : keyedBase(s as U64, keys);
  const w = keyedWeightsFromBase(base, b, scratch ?? new Uint8Array(keys.length));
  let weight = 0;
  let positiveWeight = 0;
  for (let r = 0; r < w.length; r++) {
    weight += w[r];
    positiveWeight += w[r] * labels[r];
  }
  return { weight, positiveWeight, losses: q.map((col) => exactWeightedSum(w, col)) };
}

/** A mean-type metric from its integer sums: Number(Σw·q) / (Σw · 2^40) (two roundings, the same on every path). */
export function meanFromFixedPoint(sum: bigint, weight: number): number {
  return Number(sum) / (weight * 2 ** LOSS_SCALE_BITS);
}

/**
 * Average precision under keyed weights is an exact integer sum in fixed point (docs/keyed-poisson.md): per tie
 * group g in descending score order, with pw_g its positive weight and TP_g, FP_g the cumulative positive and
 * negative weight including the group, the term pw_g · ⌊TP_g · 2^56 / (TP_g + FP_g)⌋; AP = Σ / (2^56 · P_w).
 * Each floor loses less than pw_g · 2^-56 / P_w, and Σ pw_g = P_w, so 0 ≤ AP − Σ / (2^56 · P_w) < 2^-56.
 */
export const AP_SCALE_BITS = 56;

/**
 * Total weight limit of the fixed-point AP: below 2^35 (10^9 rows at the largest weight 18 weigh 1.8·10^10 < 2^34.1),
 * the Spark SQL's long division in two 28-bit steps keeps every BIGINT below 2^63 (r · 2^28 < 2^35 · 2^28) and
 * each term pw_g · q_g < 2^35 · 2^56 = 2^91 fits DECIMAL(38,0) with the sum (≤ P_w · 2^56 < 2^91).
 */
export const AP_WEIGHT_LIMIT = 2 ** 35;

const TWO14 = 16384;
const TWO28 = 268435456;
const TWO52 = 2 ** 52;

/**
 * Σ_g pw_g · ⌊TP_g · 2^56 / (TP_g + FP_g)⌋ exactly (see `AP_SCALE_BITS`) over an ascending order with tie marks and
 * label bits (`sortOrder`), walked backwards like `apSums`, and the positive weight total. Weights: integers
 * (bootstrap multiplicities), every row 1 when omitted. The quotient is formed by long division in four 14-bit
 * digits: each dividend r · 2^14 < 2^35 · 2^14 < 2^53, and for integers a, d below 2^53 Math.floor(a / d) is the
 * exact quotient (the true quotient is at least 1/d below the next integer, more than half an ulp). The two
 * 28-bit halves times pw_g (< 2^24, else BigInt) are summed in doubles below 2^53, flushed into a BigInt.
 *
 * @throws RangeError when the total weight reaches `AP_WEIGHT_LIMIT`.
 */
export function exactApSum(order: Uint32Array, weights?: ArrayLike<number>): { sum: bigint; pos: number } {
  let tp = 0;
  let fp = 0;
  let gp = 0;
  let gn = 0;
  let sumHi = 0;
  let sumLo = 0;
  let total = 0n;
  for (let k = order.length - 1; k >= 0; k--) {
    const e = order[k];
    const w = weights === undefined ? 1 : weights[e & ROW_MASK];
    if (e & LABEL_BIT) gp += w;
    else gn += w;
    if (k > 0 && (order[k - 1] & TIE_WITH_NEXT) !== 0) continue;
    tp += gp;
    fp += gn;
    if (gp > 0) {
      const d = tp + fp;
      let r = tp;
      let hi = 0;
      let lo = 0;
      for (let digit = 0; digit < 4; digit++) {
        const a = r * TWO14;
        const q = Math.floor(a / d);
        r = a - q * d;
        if (digit < 2) hi = hi * TWO14 + q;
        else lo = lo * TWO14 + q;
      }
      if (gp < 2 ** 24) {
        sumHi += gp * hi;
        sumLo += gp * lo;
        if (sumHi >= TWO52 || sumLo >= TWO52) {
          total += BigInt(sumHi) * BigInt(TWO28) + BigInt(sumLo);
          sumHi = 0;
          sumLo = 0;
        }
      } else {
        total += BigInt(gp) * (BigInt(hi) * BigInt(TWO28) + BigInt(lo));
      }
    }
    gp = 0;
    gn = 0;
  }
  if (tp + fp >= AP_WEIGHT_LIMIT)
    throw new RangeError(`exactApSum: total weight ${tp + fp} reaches 2^35; the fixed-point average precision is defined below it`);
  return { sum: total + BigInt(sumHi) * BigInt(TWO28) + BigInt(sumLo), pos: tp };
}

/** Average precision from its fixed-point sum: Number(Σ) / (P_w · 2^56) (two roundings, the same on every path). */
export function apFromFixedPoint(sum: bigint, pos: number): number {
  return Number(sum) / (pos * 2 ** AP_SCALE_BITS);
}

/** Full-data estimates and per-resample statistics of a keyed run, in the layout of `BootstrapRun`. */
export interface KeyedPoissonRun {
  estimates: number[];
  run: { resamples: number; stats: Float64Array; redraws: Uint32Array };
}

/**
 * The keyed Poisson bootstrap of `metric` for `models` (paired: one weight vector per resample, shared
 * by every model). A resample with no positive or no negative weight is drawn again at the next index
 * b + a·2^20 and counted in `redraws`. Loss metrics are the fixed-point means and average precision the
 * fixed-point sum of `exactApSum`, also on the full data, so no floating sum depends on row order and a Spark
 * evaluation's integer sums give the same statistics.
 *
 * @throws InvalidOptionsError for B above 2^20; PredictionsError when 16 draws of one resample all
 *   miss a class (far too little data).
 * @example
 * const { estimates, run } = runKeyedPoisson(preds, ['prod', 'cand'], 'roc_auc', 42, 1000);
 */
export function runKeyedPoisson(preds: Predictions, models: string[], metric: Metric, seed: string | number, resamples: number): KeyedPoissonRun {
  if (!(Number.isInteger(resamples) && resamples >= 1 && resamples <= MAX_KEYED_RESAMPLES)) {
    throw new InvalidOptionsError(`resamples must be an integer from 1 to ${MAX_KEYED_RESAMPLES} with bootstrap 'keyedPoisson', got ${String(resamples)}`);
  }
  const keys = rowKeysOf(preds);
  const n = preds.n;
  const labels = preds.labels;
  const base = keyedBase(keyedSeed64(seed), keys);
  const scoresOf = (name: string): ScoreArray => preds.columns.find((c) => c.name === name)!.scores;
  const ranking = metric === 'roc_auc' || metric === 'average_precision';
  const scratch = ranking ? new ArrayBuffer(sortScratchBytes(n)) : undefined;
  const orders = ranking ? models.map((name) => sortOrder(scoresOf(name), labels, { scratch })) : [];
  const q = ranking ? [] : models.map((name) => fixedPointLosses(rowLosses(metric as 'log_loss' | 'brier', labels, scoresOf(name), name)));
  const valueOf = (m: number, w: Uint8Array | undefined, sums: KeyedLossSums | undefined): number => {
    if (metric === 'roc_auc') {
      const a = aucSums(orders[m], null, w);
      return a.u2 / (2 * a.pos * a.neg);
    }
    if (metric === 'average_precision') {
      const a = exactApSum(orders[m], w);
      return apFromFixedPoint(a.sum, a.pos);
    }
    return sums === undefined ? meanFromFixedPoint(exactWeightedSum(new Uint8Array(n).fill(1), q[m]), n) : meanFromFixedPoint(sums.losses[m], sums.weight);
  };
  const estimates = models.map((_, m) => valueOf(m, undefined, undefined));
  const M = models.length;
  const stats = new Float64Array(M * resamples);
  const redraws = new Uint32Array(resamples);
  const w = new Uint8Array(n);
  for (let b = 0; b < resamples; b++) {
    let sums: KeyedLossSums | undefined;
    for (let attempt = 0; ; attempt++) {
      if (attempt === MAX_KEYED_ATTEMPTS) {
        throw new PredictionsError(`keyed Poisson resample ${b} missed a class in ${MAX_KEYED_ATTEMPTS} draws; the data are too small to bootstrap`);
      }
      sums = keyedLossSums(base, keys, labels, q, keyedResampleIndex(b, attempt), w);
      if (sums.positiveWeight > 0 && sums.positiveWeight < sums.weight) break;
      redraws[b]++;
    }
    for (let m = 0; m < M; m++) stats[m * resamples + b] = valueOf(m, w, sums);
  }
  return { estimates, run: { resamples, stats, redraws } };
}
