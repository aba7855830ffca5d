/**
 * The comparison finished from integer sums computed on Spark (issue 23): the scoring notebook returns the
 * JSON `mlopspipelines.spark-sums/v1` (docs/scale-out.md, "The sums JSON"), and `finishFromSums` turns it into
 * the same `Decision` the local path gives on the same rows:
 * - DeLong (roc_auc): `delongResultFromSums` then the local rule (`delongDecisionFrom`); the AUC difference,
 *   variance, z and p are identical to the local path's, the models' own intervals may differ in the last
 *   bits (delong-sums.ts);
 * - the keyed Poisson bootstrap (log_loss, brier, roc_auc, average_precision): per resample b the first draw with
 *   both classes (the indices b + a·2^20, as `runKeyedPoisson` draws them), each model's statistic from its
 *   integer sums (`meanFromFixedPoint` of Σw·q for a loss, `aucFromRankSum` of the rank sum u2 for ROC AUC,
 *   `apFromFixedPoint` of the fixed-point sum for average precision), then the local rule
 *   (`decisionFromBootstrap`), so every number is identical.
 *
 * The JSON is validated strictly (format, generator, fixed-point scale, the models sent and their order, seed,
 * B, metric, every shape and decimal string): a mismatch throws `SparkSumsError` and nothing is decided.
 * `sparkSumsOf` computes the same JSON from local predictions with the engine's own functions: the reference
 * the notebook's output is tested against, and a way to replay a Spark evaluation from a file.
 */
import { decisionBase, decisionFromBootstrap, delongDecisionFrom, validateOptions } from './compare';
import { delongResultFromSums, delongSumsOf, type DelongSums } from './delong-sums';
import {
  AP_SCALE_BITS,
  apFromFixedPoint,
  exactApSum,
  exactWeightedSum,
  fixedPointLosses,
  KEYED_POISSON_VERSION,
  keyedBase,
  keyedLossSums,
  keyedResampleIndex,
  keyedSeed64,
  keyedSeed64Decimal,
  LOSS_SCALE_BITS,
  MAX_KEYED_ATTEMPTS,
  MAX_KEYED_RESAMPLES,
  meanFromFixedPoint,
  rowKeysOf,
} from './keyed-poisson';
import { rowLosses } from './metrics';
import { bad, count, decimal, decimals, object, SparkSumsError } from './sums-json';
import { LABEL_BIT, ROW_MASK, TIE_WITH_NEXT, sortOrder } from './sort';
import type { CompareOptions, Decision, Predictions } from './types';

/** The `format` of the sums JSON. */
export const SPARK_SUMS_FORMAT = 'mlopspipelines.spark-sums/v1';

export { SparkSumsError } from './sums-json';

/** The metrics the keyed bootstrap finishes from Spark sums. */
export type SparkBootstrapMetric = 'log_loss' | 'brier' | 'roc_auc' | 'average_precision';

/**
 * One keyed resample draw's integer sums (generator index `b`): `losses` (Σw·q per model) for log_loss and
 * brier, `rankSums` (u2 per model: twice the weighted Mann–Whitney U) for roc_auc, `apSums` (per model
 * Σ_g pw_g·⌊TP_g·2^56/(TP_g+FP_g)⌋, `exactApSum`) for average_precision; exactly one of them.
 */
export interface SparkDraw {
  b: number;
  weight: string;
  positiveWeight: string;
  losses?: string[];
  rankSums?: string[];
  apSums?: string[];
}

/** The sums JSON (every big integer a decimal string). */
export interface SparkSums {
  format: typeof SPARK_SUMS_FORMAT;
  generator: number;
  lossScaleBits: number;
  rows: string;
  positives: string;
  models: string[];
  fingerprint: { rows: string; positives: string; keySum: string; positiveKeySum: string; scoreSums: string[] };
  delong: null | {
    positives: number;
    negatives: number;
    positiveSums: string[];
    negativeSums: string[];
    positiveProducts: string[];
    negativeProducts: string[];
  };
  bootstrap: null | {
    metric: SparkBootstrapMetric;
    seed: string;
    seed64: string;
    resamples: number;
    full: Omit<SparkDraw, 'b'>;
    draws: SparkDraw[];
  };
}

/** What a comparison on Spark can do: DeLong on ROC AUC, or the keyed bootstrap of a mean-type metric, of ROC AUC or of average precision. */
export function sparkMethodOf(opts: Pick<CompareOptions, 'metric' | 'method'>): 'delong' | 'bootstrap' | undefined {
  if (opts.method === 'delong' && opts.metric === 'roc_auc') return 'delong';
  if (
    opts.method === 'bootstrap' &&
    (opts.metric === 'log_loss' || opts.metric === 'brier' || opts.metric === 'roc_auc' || opts.metric === 'average_precision')
  )
    return 'bootstrap';
  return undefined;
}

/** Checks the header (format, generator, scale, counts, models, fingerprint) and returns n, P and the model keys. */
function checkHeader(s: Record<string, unknown>, models: string[]): { n: number; P: number } {
  if (s.format !== SPARK_SUMS_FORMAT) bad(`format must be '${SPARK_SUMS_FORMAT}', got ${JSON.stringify(s.format)?.slice(0, 60)}`);
  if (s.generator !== KEYED_POISSON_VERSION)
    bad(`generator must be ${KEYED_POISSON_VERSION} (the keyed Poisson generator's version), got ${String(s.generator)}`);
  if (s.lossScaleBits !== LOSS_SCALE_BITS) bad(`lossScaleBits must be ${LOSS_SCALE_BITS}, got ${String(s.lossScaleBits)}`);
  const n = count(s.rows, 'rows');
  const P = count(s.positives, 'positives');
  if (P === 0 || P >= n) bad(`the rows hold only one class (${P} positives in ${n} rows); a comparison needs both`);
  if (!Array.isArray(s.models) || s.models.length !== models.length || s.models.some((m, i) => m !== models[i])) {
    bad(`models must be ${JSON.stringify(models)} (the keys sent, in their order), got ${JSON.stringify(s.models)?.slice(0, 200)}`);
  }
  const f = object(s.fingerprint, 'fingerprint');
  if (f.rows !== s.rows || f.positives !== s.positives) bad(`fingerprint.rows and fingerprint.positives must equal rows and positives`);
  decimal(f.keySum, 'fingerprint.keySum');
  decimal(f.positiveKeySum, 'fingerprint.positiveKeySum');
  decimals(f.scoreSums, models.length, 'fingerprint.scoreSums', true);
  return { n, P };
}

/** The DeLong sums reordered to `names` (a subset of `models`, in the kernel's order). */
function delongSumsFor(raw: unknown, models: string[], names: string[], n: number, P: number): DelongSums {
  const d = object(raw, 'delong');
  const M = models.length;
  if (d.positives !== P || d.negatives !== n - P)
    bad(`delong.positives and delong.negatives must be ${P} and ${n - P}, got ${String(d.positives)} and ${String(d.negatives)}`);
  const A = decimals(d.positiveSums, M, 'delong.positiveSums');
  const B = decimals(d.negativeSums, M, 'delong.negativeSums');
  const Q = decimals(d.positiveProducts, M * M, 'delong.positiveProducts');
  const R = decimals(d.negativeProducts, M * M, 'delong.negativeProducts');
  models.forEach((name, m) => {
    if (A[m] !== B[m]) bad(`delong: the positive and negative component sums of '${name}' differ (${A[m]} vs ${B[m]}); both must be twice its Mann-Whitney U`);
  });
  const at = names.map((name) => models.indexOf(name));
  const K = names.length;
  const pair = (x: bigint[], i: number, j: number): bigint => x[Math.min(at[i], at[j]) * M + Math.max(at[i], at[j])];
  const products = (x: bigint[]): bigint[] => Array.from({ length: K * K }, (_, k) => (Math.floor(k / K) <= k % K ? pair(x, Math.floor(k / K), k % K) : 0n));
  return {
    positives: P,
    negatives: n - P,
    positiveSums: at.map((m) => A[m]),
    negativeSums: at.map((m) => B[m]),
    positiveProducts: products(Q),
    negativeProducts: products(R),
  };
}

interface Draw {
  weight: number;
  positiveWeight: number;
  /** Σw·q per model (loss metrics), u2 per model (roc_auc) or the fixed-point AP sum per model (average_precision). */
  sums: bigint[];
}

type SumsField = 'losses' | 'rankSums' | 'apSums';

/** The field of a draw holding the metric's per-model sums, and the ones that must be absent. */
function sumsFieldOf(metric: SparkBootstrapMetric): [SumsField, SumsField[]] {
  const field: SumsField = metric === 'roc_auc' ? 'rankSums' : metric === 'average_precision' ? 'apSums' : 'losses';
  return [field, (['losses', 'rankSums', 'apSums'] as const).filter((f) => f !== field)];
}

function drawOf(raw: unknown, M: number, what: string, metric: SparkBootstrapMetric): Draw {
  const d = object(raw, what);
  const [field, others] = sumsFieldOf(metric);
  for (const other of others) if (d[other] !== undefined) bad(`${what}.${other} is not part of a ${metric} draw (its sums are ${field})`);
  const draw = {
    weight: count(d.weight, `${what}.weight`),
    positiveWeight: count(d.positiveWeight, `${what}.positiveWeight`),
    sums: decimals(d[field], M, `${what}.${field}`),
  };
  if (metric === 'roc_auc') {
    if (draw.positiveWeight > draw.weight) bad(`${what}.positiveWeight ${draw.positiveWeight} is above its weight ${draw.weight}`);
    // u2 counts positive-negative pairs twice (ties once each way): at most 2·PosW·NegW.
    const most = 2n * BigInt(draw.positiveWeight) * BigInt(draw.weight - draw.positiveWeight);
    draw.sums.forEach((u2, m) => {
      if (u2 > most) bad(`${what}.rankSums[${m}] is ${u2}, above 2·positiveWeight·negativeWeight = ${most}`);
    });
  }
  if (metric === 'average_precision') {
    if (draw.positiveWeight > draw.weight) bad(`${what}.positiveWeight ${draw.positiveWeight} is above its weight ${draw.weight}`);
    // Each group adds at most pw_g·2^56 (its precision is at most 1): the sum is at most positiveWeight·2^56.
    const most = BigInt(draw.positiveWeight) << BigInt(AP_SCALE_BITS);
    draw.sums.forEach((sum, m) => {
      if (sum > most) bad(`${what}.apSums[${m}] is ${sum}, above positiveWeight·2^${AP_SCALE_BITS} = ${most}`);
    });
  }
  return draw;
}

/** A model's statistic from a draw's sums, as the local keyed bootstrap computes it. */
function statOf(metric: SparkBootstrapMetric, d: Draw, m: number): number {
  if (metric === 'roc_auc') return aucFromRankSum(d.sums[m], d.positiveWeight, d.weight - d.positiveWeight);
  if (metric === 'average_precision') return apFromFixedPoint(d.sums[m], d.positiveWeight);
  return meanFromFixedPoint(d.sums[m], d.weight);
}

/** The keyed bootstrap's run (estimates and per-resample statistics in `names` order) from its sums. */
function keyedRunFor(raw: unknown, opts: CompareOptions, models: string[], names: string[], n: number, P: number) {
  const s = object(raw, 'bootstrap');
  const M = models.length;
  const metric = opts.metric as SparkBootstrapMetric;
  if (s.metric !== opts.metric) bad(`bootstrap.metric is ${JSON.stringify(s.metric)}, but the comparison is on ${opts.metric}`);
  if (s.seed !== String(opts.seed)) bad(`bootstrap.seed is ${JSON.stringify(s.seed)}, but the comparison's seed is "${String(opts.seed)}"`);
  if (s.seed64 !== keyedSeed64Decimal(opts.seed))
    bad(`bootstrap.seed64 is ${JSON.stringify(s.seed64)}, not the generator's ${keyedSeed64Decimal(opts.seed)} for seed "${String(opts.seed)}"`);
  const B = opts.resamples;
  if (s.resamples !== B) bad(`bootstrap.resamples is ${String(s.resamples)}, but the comparison asks for ${B}`);
  const full = drawOf(s.full, M, 'bootstrap.full', metric);
  if (full.weight !== n || full.positiveWeight !== P) bad(`bootstrap.full must have weight ${n} and positiveWeight ${P} (every row once)`);
  if (!Array.isArray(s.draws)) bad('bootstrap.draws must be a list');
  const draws = new Map<number, Draw>();
  s.draws.forEach((raw, i) => {
    const b = object(raw, `bootstrap.draws[${i}]`).b;
    if (!(Number.isInteger(b) && (b as number) >= 0 && (b as number) < MAX_KEYED_RESAMPLES * MAX_KEYED_ATTEMPTS))
      bad(`bootstrap.draws[${i}].b must be a generator index, got ${String(b)}`);
    if (draws.has(b as number)) bad(`bootstrap.draws holds the generator index ${String(b)} twice`);
    draws.set(b as number, drawOf(raw, M, `bootstrap.draws[${i}]`, metric));
  });
  const at = names.map((name) => models.indexOf(name));
  const stats = new Float64Array(names.length * B);
  const redraws = new Uint32Array(B);
  for (let b = 0; b < B; b++) {
    for (let attempt = 0; ; attempt++) {
      if (attempt === MAX_KEYED_ATTEMPTS) bad(`keyed Poisson resample ${b} missed a class in ${MAX_KEYED_ATTEMPTS} draws`);
      const index = keyedResampleIndex(b, attempt);
      const d = draws.get(index);
      if (d === undefined) bad(`bootstrap.draws has no draw ${index} (resample ${b}, attempt ${attempt})`);
      draws.delete(index);
      if (d.positiveWeight > 0 && d.positiveWeight < d.weight) {
        at.forEach((m, k) => (stats[k * B + b] = statOf(metric, d, m)));
        break;
      }
      redraws[b]++;
    }
  }
  if (draws.size > 0) bad(`bootstrap.draws holds ${draws.size} draw(s) no resample uses (first index ${[...draws.keys()][0]})`);
  return { estimates: at.map((m) => statOf(metric, full, m)), run: { resamples: B, stats, redraws } };
}

/**
 * The decision from the sums JSON, for the comparison `opts` of the models sent as `models` (the notebook's
 * `models` parameter order, s0 first). `opts.baseline` and `opts.candidates` name keys of `models`.
 *
 * @throws SparkSumsError when the JSON is malformed or does not match `models` and `opts`; InvalidOptionsError
 *   for options the Spark path cannot finish.
 * @example
 * const decision = finishFromSums(JSON.parse(text), ['run_a', 'production'], { ...opts, baseline: 'production', candidates: ['run_a'] });
 */
export function finishFromSums(json: unknown, models: string[], opts: CompareOptions): Decision {
  validateOptions(opts);
  const method = sparkMethodOf(opts);
  if (method === undefined)
    bad(
      `the comparison (${opts.method} on ${opts.metric}) cannot be finished from Spark sums; only delong on roc_auc and the bootstrap on roc_auc, average_precision, log_loss or brier can`,
    );
  if (method === 'bootstrap' && opts.bootstrap !== 'keyedPoisson')
    bad(`the bootstrap from Spark sums is the keyed Poisson bootstrap; set bootstrap 'keyedPoisson'`);
  const s = object(json, 'the sums');
  const { n, P } = checkHeader(s, models);
  const candidates = opts.candidates ?? models.filter((m) => m !== opts.baseline);
  for (const name of [...(opts.baseline !== undefined ? [opts.baseline] : []), ...candidates]) {
    if (!models.includes(name)) bad(`the model '${name}' is not among the models sent (${models.join(', ')})`);
  }
  if (candidates.length === 0) bad('there is no candidate to compare');
  const names = opts.baseline === undefined ? [...candidates].sort() : [opts.baseline, ...candidates];
  const plan = { opts, metric: opts.metric, baseline: opts.baseline, candidates };
  if (method === 'delong') {
    if (s.bootstrap !== null) bad('bootstrap must be null for a DeLong comparison');
    const delongNames = opts.baseline === undefined ? candidates : names;
    return delongDecisionFrom(plan, decisionBase(plan, 'multinomial', n, P), delongResultFromSums(delongSumsFor(s.delong, models, delongNames, n, P)));
  }
  if (s.delong !== null) bad('delong must be null for a bootstrap comparison');
  const keyed = keyedRunFor(s.bootstrap, opts, models, names, n, P);
  return decisionFromBootstrap(plan, decisionBase(plan, 'keyedPoisson', n, P), names, keyed.estimates, keyed.run) as Decision;
}

const TWO40 = 2 ** LOSS_SCALE_BITS;

/**
 * The sums JSON of a comparison computed locally with the engine's own functions (`delongSumsOf`,
 * `keyedLossSums`): what the notebook must return for the same rows. `models` in the notebook's order;
 * `preds.rowKey` required.
 */
export function sparkSumsOf(preds: Predictions, models: string[], opts: Pick<CompareOptions, 'metric' | 'method' | 'seed' | 'resamples'>): SparkSums {
  const keys = rowKeysOf(preds);
  const labels = preds.labels;
  const scores = models.map((name) => {
    const col = preds.columns.find((c) => c.name === name);
    if (col === undefined) throw new SparkSumsError(`no column '${name}' in the predictions`);
    return col.scores;
  });
  let P = 0;
  let keySum = 0n;
  let positiveKeySum = 0n;
  for (let r = 0; r < preds.n; r++) {
    P += labels[r];
    keySum += BigInt(keys[r]);
    if (labels[r] === 1) positiveKeySum += BigInt(keys[r]);
  }
  const scoreSums = scores.map((col) => {
    let sum = 0n;
    for (let r = 0; r < col.length; r++) sum += BigInt(Math.floor(col[r] * TWO40));
    return sum.toString();
  });
  const method = sparkMethodOf(opts);
  const str = (x: bigint | string | number) => String(x);
  let delong: SparkSums['delong'] = null;
  if (method === 'delong') {
    const d = delongSumsOf(labels, scores);
    delong = {
      positives: d.positives,
      negatives: d.negatives,
      positiveSums: d.positiveSums.map(str),
      negativeSums: d.negativeSums.map(str),
      positiveProducts: d.positiveProducts.map(str),
      negativeProducts: d.negativeProducts.map(str),
    };
  }
  const bootstrap = method === 'bootstrap' ? keyedSums(preds, keys, scores, opts) : null;
  const rows = String(preds.n);
  const positives = String(P);
  return {
    format: SPARK_SUMS_FORMAT,
    generator: KEYED_POISSON_VERSION,
    lossScaleBits: LOSS_SCALE_BITS,
    rows,
    positives,
    models,
    fingerprint: { rows, positives, keySum: keySum.toString(), positiveKeySum: positiveKeySum.toString(), scoreSums },
    delong,
    bootstrap,
  };
}

/** The keyed bootstrap's part of the sums: the full data and every draw `runKeyedPoisson` makes. */
function keyedSums(
  preds: Predictions,
  keys: Float64Array,
  scores: Predictions['columns'][number]['scores'][],
  opts: Pick<CompareOptions, 'metric' | 'seed' | 'resamples'>,
): SparkSums['bootstrap'] {
  const metric = opts.metric as SparkBootstrapMetric;
  const [field] = sumsFieldOf(metric);
  const perModel =
    metric === 'roc_auc'
      ? rankSumsOf(preds.labels, scores)
      : metric === 'average_precision'
        ? apSumsOf(preds.labels, scores)
        : lossSumsOf(metric, preds.labels, scores);
  const base = keyedBase(keyedSeed64(opts.seed), keys);
  let P = 0;
  for (let r = 0; r < preds.n; r++) P += preds.labels[r];
  const draws: SparkDraw[] = [];
  const w = new Uint8Array(preds.n);
  for (let b = 0; b < opts.resamples; b++) {
    for (let attempt = 0; attempt < MAX_KEYED_ATTEMPTS; attempt++) {
      const index = keyedResampleIndex(b, attempt);
      const s = keyedLossSums(base, keys, preds.labels, [], index, w);
      draws.push({ b: index, weight: String(s.weight), positiveWeight: String(s.positiveWeight), [field]: perModel(w).map(String) });
      if (s.positiveWeight > 0 && s.positiveWeight < s.weight) break;
    }
  }
  return {
    metric,
    seed: String(opts.seed),
    seed64: keyedSeed64Decimal(opts.seed),
    resamples: opts.resamples,
    full: { weight: String(preds.n), positiveWeight: String(P), [field]: perModel(new Uint8Array(preds.n).fill(1)).map(String) },
    draws,
  };
}

type ScoreColumn = Predictions['columns'][number]['scores'];

/** Per model Σw·q, q the fixed-point loss (`keyedLossSums`), for given weights. */
function lossSumsOf(metric: 'log_loss' | 'brier', labels: Uint8Array, scores: ScoreColumn[]): (w: Uint8Array) => bigint[] {
  const q = scores.map((col, m) => fixedPointLosses(rowLosses(metric, labels, col, `s${m}`)));
  return (w) => q.map((col) => exactWeightedSum(w, col));
}

/** Per model the rank sum u2 under given weights, over each model's order sorted once (as `runKeyedPoisson`). */
function rankSumsOf(labels: Uint8Array, scores: ScoreColumn[]): (w: Uint8Array) => bigint[] {
  const orders = scores.map((col) => sortOrder(col, labels));
  return (w) => orders.map((order) => exactRankSum(order, w));
}

/** Per model the fixed-point AP sum under given weights (`exactApSum`), over each model's order sorted once (as `runKeyedPoisson`). */
function apSumsOf(labels: Uint8Array, scores: ScoreColumn[]): (w: Uint8Array) => bigint[] {
  const orders = scores.map((col) => sortOrder(col, labels));
  return (w) => orders.map((order) => exactApSum(order, w).sum);
}

const TWO52 = 2 ** 52;

/**
 * u2 = Σ_tie groups gp·(2·negBelow + gn) over an ascending order, exactly: the terms `aucSums` adds in
 * doubles, here added in doubles only while the running total stays below 2^52 and in BigInt beyond, so
 * the reference is exact at any size (it equals `aucSums`' u2 whenever that is below 2^53).
 */
export function exactRankSum(order: Uint32Array, weights: ArrayLike<number>): bigint {
  let u2 = 0n;
  let acc = 0;
  let negBelow = 0;
  let gp = 0;
  let gn = 0;
  for (let k = 0; k < order.length; k++) {
    const e = order[k];
    if (e & LABEL_BIT) gp += weights[e & ROW_MASK];
    else gn += weights[e & ROW_MASK];
    if ((e & TIE_WITH_NEXT) !== 0) continue;
    const term = gp * (2 * negBelow + gn);
    if (term < TWO52 && acc + term < TWO52) acc += term;
    else {
      u2 += BigInt(acc) + BigInt(gp) * BigInt(2 * negBelow + gn);
      acc = 0;
    }
    negBelow += gn;
    gp = 0;
    gn = 0;
  }
  return u2 + BigInt(acc);
}

/**
 * ROC AUC from its integer rank sum u2 (twice the weighted Mann–Whitney U) and the class weights, computed as
 * `aucSums` (metrics.ts) finishes it locally: u2 / (2·pos·neg) in doubles. With integer weights the local u2 is
 * the same integer, accumulated exactly while it stays below 2^53, so the two agree bit for bit there; above,
 * this is the correctly rounded value (Number of the exact integer) and the local double sum may differ in the
 * last bits.
 */
export function aucFromRankSum(u2: bigint, pos: number, neg: number): number {
  return Number(u2) / (2 * pos * neg);
}
