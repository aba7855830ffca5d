/**
 * The keyed Poisson bootstrap of regression RMSE or MAE finished from integer sums computed on Spark (issue 23):
 * the regression form of the sums JSON `mlopspipelines.spark-sums/v1` (docs/scale-out.md, "Regression sums"),
 * `finishRegressionFromSums` (the same `Decision` as the local keyed compare, deep-equal) and
 * `sparkRegressionSumsOf` (the same JSON from local predictions, with the engine's own functions).
 *
 * A regression JSON says `"problem": "regression"`. It has no `positives` and no `positiveWeight` (there are
 * no classes) and no top-level `lossScaleBits`: each model's scale is data-derived (keyed-regression.ts) and
 * travels in `bootstrap.lossScaleBits`, with `bootstrap.maxLosses` = ⌊L_m · 2^s_m⌋, which lets the finisher
 * check that the notebook applied the scale rule (the largest fixed-point loss lies in [2^52, 2^53), or below
 * at the cap) and bound every sum. The fingerprint holds n, Σk and, for the label and each prediction column,
 * a scale t from the exact maximum of |v| by the same rule and Σ trunc(v · 2^t) (signed; every term below 2^53
 * in magnitude). Any mismatch throws `SparkSumsError` naming the field, before any decision.
 */
import { decisionFromBootstrap, type RulePlan } from './compare';
import { otherBase } from './compare-more';
import { InvalidOptionsError } from './errors';
import {
  KEYED_POISSON_VERSION,
  keyedBase,
  keyedResampleIndex,
  keyedSeed64,
  keyedSeed64Decimal,
  MAX_KEYED_ATTEMPTS,
  MAX_KEYED_RESAMPLES,
  rowKeysOf,
} from './keyed-poisson';
import {
  exactWeightedSum53,
  keyedRegressionSums,
  meanFromScaledSum,
  pow2,
  REGRESSION_FIXED_POINT_LIMIT,
  REGRESSION_MAX_SCALE_BITS,
  regressionFixedPoint,
  regressionMetricFromMean,
  regressionScaleBits,
  type KeyedRegressionMetric,
} from './keyed-regression';
import { SPARK_SUMS_FORMAT } from './spark-sums';
import { bad, count, decimal, list, object, SparkSumsError } from './sums-json';
import type { AnyMetric, CompareOptions, Decision, RegressionPredictions, ScoreArray } from './types';

/** One draw of the regression sums (generator index `b`): Σw and per model Σw·q. */
export interface RegressionSparkDraw {
  b: number;
  weight: string;
  losses: string[];
}

/** The regression sums JSON (every big integer a decimal string). */
export interface RegressionSparkSums {
  format: typeof SPARK_SUMS_FORMAT;
  generator: number;
  problem: 'regression';
  rows: string;
  models: string[];
  fingerprint: {
    rows: string;
    keySum: string;
    targetScaleBits: number;
    targetSum: string;
    predictionScaleBits: number[];
    predictionSums: string[];
  };
  delong: null;
  bootstrap: {
    metric: KeyedRegressionMetric;
    seed: string;
    seed64: string;
    resamples: number;
    lossScaleBits: number[];
    maxLosses: string[];
    full: { weight: string; losses: string[] };
    draws: RegressionSparkDraw[];
  };
}

function scale(x: unknown, what: string): number {
  if (!(typeof x === 'number' && Number.isInteger(x) && x >= 52 - 1023 && x <= REGRESSION_MAX_SCALE_BITS)) {
    bad(`${what} must be an integer scale from ${52 - 1023} to ${REGRESSION_MAX_SCALE_BITS}, got ${JSON.stringify(x)?.slice(0, 40)}`);
  }
  return x;
}

function absent(s: Record<string, unknown>, keys: string[], what: string): void {
  for (const k of keys) if (k in s) bad(`${what}${k} has no meaning for regression and must be absent`);
}

/** The options a regression comparison on Spark can be finished with, checked as the local path checks them. */
function checkOptions(opts: CompareOptions<AnyMetric>): KeyedRegressionMetric {
  const fail = (msg: string): never => {
    throw new InvalidOptionsError(msg);
  };
  if (opts === null || typeof opts !== 'object') fail('options are required');
  if (opts.problemType !== 'regression') fail(`the regression sums finish a regression comparison; problemType is ${String(opts.problemType)}`);
  if (opts.metric !== 'rmse' && opts.metric !== 'mae')
    fail(`the keyed bootstrap on Spark compares regression models on rmse or mae, not ${String(opts.metric)}`);
  if (opts.method !== 'bootstrap' || opts.bootstrap !== 'keyedPoisson')
    fail("the regression sums are the keyed Poisson bootstrap's: set method 'bootstrap' and bootstrap 'keyedPoisson'");
  if ((opts.guardrails ?? []).length > 0 || (opts.slices ?? []).length > 0) fail("bootstrap 'keyedPoisson' takes no guardrails or slices");
  if (!(Number.isInteger(opts.resamples) && opts.resamples >= 1 && opts.resamples <= MAX_KEYED_RESAMPLES))
    fail(`resamples must be an integer from 1 to ${MAX_KEYED_RESAMPLES} with bootstrap 'keyedPoisson', got ${String(opts.resamples)}`);
  if (!(typeof opts.seed === 'string' || (typeof opts.seed === 'number' && Number.isFinite(opts.seed))))
    fail(`seed must be a string or a finite number, got ${String(opts.seed)}`);
  if (!(typeof opts.winRate === 'number' && opts.winRate > 0 && opts.winRate <= 1)) fail(`winRate must be in (0, 1], got ${String(opts.winRate)}`);
  if (!(typeof opts.confidence === 'number' && opts.confidence > 0 && opts.confidence < 1))
    fail(`confidence must be in (0, 1), got ${String(opts.confidence)}`);
  if (!(typeof opts.minDelta === 'number' && Number.isFinite(opts.minDelta))) fail(`minDelta must be a finite number, got ${String(opts.minDelta)}`);
  if (opts.minMetric !== undefined && !(typeof opts.minMetric === 'number' && Number.isFinite(opts.minMetric)))
    fail(`minMetric must be a finite number, got ${String(opts.minMetric)}`);
  return opts.metric as KeyedRegressionMetric;
}

/** Header and fingerprint: format, generator, problem, rows, models; returns n. */
function checkHeader(s: Record<string, unknown>, models: string[]): number {
  if (s.format !== SPARK_SUMS_FORMAT) bad(`format must be '${SPARK_SUMS_FORMAT}', got ${JSON.stringify(s.format)?.slice(0, 60)}`);
  if (s.generator !== KEYED_POISSON_VERSION)
    bad(`generator must be ${KEYED_POISSON_VERSION} (the keyed Poisson generator's version), got ${String(s.generator)}`);
  if (s.problem !== 'regression') bad(`problem must be 'regression' for a regression comparison, got ${JSON.stringify(s.problem)?.slice(0, 40)}`);
  absent(s, ['positives', 'lossScaleBits'], '');
  const n = count(s.rows, 'rows');
  if (n < 2) bad(`rows is ${n}; a regression comparison needs at least 2 rows`);
  if (!Array.isArray(s.models) || s.models.length !== models.length || s.models.some((m, i) => m !== models[i])) {
    bad(`models must be ${JSON.stringify(models)} (the keys sent, in their order), got ${JSON.stringify(s.models)?.slice(0, 200)}`);
  }
  const f = object(s.fingerprint, 'fingerprint');
  if (f.rows !== s.rows) bad('fingerprint.rows must equal rows');
  decimal(f.keySum, 'fingerprint.keySum');
  scale(f.targetScaleBits, 'fingerprint.targetScaleBits');
  decimal(f.targetSum, 'fingerprint.targetSum', true);
  list(f.predictionScaleBits, models.length, 'fingerprint.predictionScaleBits').forEach((x, m) => scale(x, `fingerprint.predictionScaleBits[${m}]`));
  list(f.predictionSums, models.length, 'fingerprint.predictionSums').forEach((x, m) => decimal(x, `fingerprint.predictionSums[${m}]`, true));
  if (s.delong !== null) bad('delong must be null for a regression comparison');
  return n;
}

interface Draw {
  weight: number;
  losses: bigint[];
}

/** A draw's sums, each model's loss sum at most weight · its largest fixed-point loss. */
function drawOf(raw: unknown, maxFixed: bigint[], what: string): Draw {
  const d = object(raw, what);
  absent(d, ['positiveWeight'], `${what}.`);
  const weight = count(d.weight, `${what}.weight`);
  const losses = list(d.losses, maxFixed.length, `${what}.losses`).map((x, m) => decimal(x, `${what}.losses[${m}]`));
  losses.forEach((l, m) => {
    if (l > BigInt(weight) * maxFixed[m]) bad(`${what}.losses[${m}] is ${l}, above weight ${weight} times the largest loss ${maxFixed[m]}`);
  });
  return { weight, losses };
}

/** The scales and largest losses, checked against the scale rule. */
function scalesOf(s: Record<string, unknown>, M: number): { scaleBits: number[]; maxFixed: bigint[] } {
  const scaleBits = list(s.lossScaleBits, M, 'bootstrap.lossScaleBits').map((x, m) => scale(x, `bootstrap.lossScaleBits[${m}]`));
  const maxFixed = list(s.maxLosses, M, 'bootstrap.maxLosses').map((x, m) => decimal(x, `bootstrap.maxLosses[${m}]`));
  const low = BigInt(REGRESSION_FIXED_POINT_LIMIT / 2);
  maxFixed.forEach((q, m) => {
    const capped = scaleBits[m] === REGRESSION_MAX_SCALE_BITS;
    if (q >= BigInt(REGRESSION_FIXED_POINT_LIMIT) || (!capped && q < low)) {
      bad(
        `bootstrap.maxLosses[${m}] is ${q}: at scale ${scaleBits[m]} the largest fixed-point loss must lie in ${capped ? '[0, 2^53) at the cap' : '[2^52, 2^53)'} (s = min(1022, 52 - floor(log2 max loss)); docs/keyed-poisson.md)`,
      );
    }
  });
  return { scaleBits, maxFixed };
}

/** The run (estimates and per-resample statistics in `names` order) from the bootstrap's sums. */
function regressionRunFor(raw: unknown, opts: CompareOptions<AnyMetric>, metric: KeyedRegressionMetric, models: string[], names: string[], n: number) {
  const s = object(raw, 'bootstrap');
  const M = models.length;
  if (s.metric !== metric) bad(`bootstrap.metric is ${JSON.stringify(s.metric)}, but the comparison is on ${metric}`);
  if (s.seed !== String(opts.seed)) bad(`bootstrap.seed is ${JSON.stringify(s.seed)}, but the comparison's seed is "${String(opts.seed)}"`);
  if (s.seed64 !== keyedSeed64Decimal(opts.seed))
    bad(`bootstrap.seed64 is ${JSON.stringify(s.seed64)}, not the generator's ${keyedSeed64Decimal(opts.seed)} for seed "${String(opts.seed)}"`);
  const B = opts.resamples;
  if (s.resamples !== B) bad(`bootstrap.resamples is ${String(s.resamples)}, but the comparison asks for ${B}`);
  const { scaleBits, maxFixed } = scalesOf(s, M);
  const full = drawOf(s.full, maxFixed, 'bootstrap.full');
  if (full.weight !== n) bad(`bootstrap.full must have weight ${n} (every row once)`);
  if (!Array.isArray(s.draws)) bad('bootstrap.draws must be a list');
  const draws = new Map<number, Draw>();
  s.draws.forEach((rawDraw, i) => {
    const b = object(rawDraw, `bootstrap.draws[${i}]`).b;
    if (!(Number.isInteger(b) && (b as number) >= 0 && (b as number) < MAX_KEYED_RESAMPLES * MAX_KEYED_ATTEMPTS))
      bad(`bootstrap.draws[${i}].b must be a generator index, got ${String(b)}`);
    if (draws.has(b as number)) bad(`bootstrap.draws holds the generator index ${String(b)} twice`);
    draws.set(b as number, drawOf(rawDraw, maxFixed, `bootstrap.draws[${i}]`));
  });
  const at = names.map((name) => models.indexOf(name));
  const value = (sum: bigint, weight: number, m: number): number => regressionMetricFromMean(metric, meanFromScaledSum(sum, weight, scaleBits[m]));
  const stats = new Float64Array(names.length * B);
  const redraws = new Uint32Array(B);
  for (let b = 0; b < B; b++) {
    for (let attempt = 0; ; attempt++) {
      if (attempt === MAX_KEYED_ATTEMPTS) bad(`keyed Poisson resample ${b} drew weight 0 for every row in ${MAX_KEYED_ATTEMPTS} draws`);
      const index = keyedResampleIndex(b, attempt);
      const d = draws.get(index);
      if (d === undefined) bad(`bootstrap.draws has no draw ${index} (resample ${b}, attempt ${attempt})`);
      draws.delete(index);
      if (d.weight > 0) {
        at.forEach((m, k) => (stats[k * B + b] = value(d.losses[m], d.weight, m)));
        break;
      }
      redraws[b]++;
    }
  }
  if (draws.size > 0) bad(`bootstrap.draws holds ${draws.size} draw(s) no resample uses (first index ${[...draws.keys()][0]})`);
  return { estimates: at.map((m) => value(full.losses[m], n, m)), run: { resamples: B, stats, redraws } };
}

/**
 * The decision from the regression sums JSON, for the comparison `opts` (problemType regression, bootstrap
 * keyedPoisson, rmse or mae) of the models sent as `models` (the notebook's order). `opts.baseline` and
 * `opts.candidates` name keys of `models`. Deep-equal to `compareModels` on the same rows.
 *
 * @throws SparkSumsError when the JSON is malformed or does not match `models` and `opts`; InvalidOptionsError for
 *   options the Spark path cannot finish.
 * @example
 * const decision = finishRegressionFromSums(JSON.parse(text), ['run_a', 'production'], { ...opts, baseline: 'production' });
 */
export function finishRegressionFromSums(json: unknown, models: string[], opts: CompareOptions<AnyMetric>): Decision<AnyMetric> {
  const metric = checkOptions(opts);
  const s = object(json, 'the sums');
  const n = checkHeader(s, models);
  const candidates = opts.candidates ?? models.filter((m) => m !== opts.baseline);
  for (const name of [...(opts.baseline !== undefined ? [opts.baseline] : []), ...candidates]) {
    if (!models.includes(name)) bad(`the model '${name}' is not among the models sent (${models.join(', ')})`);
  }
  if (candidates.length === 0) bad('there is no candidate to compare');
  const names = opts.baseline === undefined ? [...candidates].sort() : [opts.baseline, ...candidates];
  const plan: RulePlan & { scheme: 'keyedPoisson' } = { opts, metric, baseline: opts.baseline, candidates, scheme: 'keyedPoisson' };
  const keyed = regressionRunFor(s.bootstrap, opts, metric, models, names, n);
  // The decision's other fields depend on the row count only (no weights, no classes): an empty frame of n rows.
  const base = otherBase(plan, { n, target: new Float64Array(0), columns: [] }, 'regression');
  return decisionFromBootstrap(plan, base, names, keyed.estimates, keyed.run);
}

/** Σ trunc(v · 2^t) with t from the exact maximum of |v| (the fingerprint's term; signed, each below 2^53). */
function fingerprintSum(values: ArrayLike<number>): { scaleBits: number; sum: string } {
  let max = 0;
  for (let r = 0; r < values.length; r++) max = Math.max(max, Math.abs(values[r]));
  const t = regressionScaleBits(max);
  const f = pow2(t);
  let sum = 0n;
  for (let r = 0; r < values.length; r++) {
    const v = values[r];
    sum += BigInt(v < 0 ? -Math.floor(-v * f) : Math.floor(v * f));
  }
  return { scaleBits: t, sum: sum.toString() };
}

/**
 * The regression sums JSON of a keyed comparison computed locally with the engine's own functions: what the
 * notebook must return for the same rows. `models` in the notebook's order; `preds.rowKey` required.
 */
export function sparkRegressionSumsOf(
  preds: RegressionPredictions,
  models: string[],
  opts: { metric: KeyedRegressionMetric; seed: string | number; resamples: number },
): RegressionSparkSums {
  const keys = rowKeysOf(preds);
  const columns: ScoreArray[] = models.map((name) => {
    const col = preds.columns.find((c) => c.name === name);
    if (col === undefined) throw new SparkSumsError(`no column '${name}' in the predictions`);
    return col.scores;
  });
  let keySum = 0n;
  for (let r = 0; r < preds.n; r++) keySum += BigInt(keys[r]);
  const target = fingerprintSum(preds.target);
  const predictions = columns.map(fingerprintSum);
  const fixed = regressionFixedPoint(preds, models, opts.metric);
  const base = keyedBase(keyedSeed64(opts.seed), keys);
  const w = new Uint8Array(preds.n);
  const draws: RegressionSparkDraw[] = [];
  for (let b = 0; b < opts.resamples; b++) {
    for (let attempt = 0; attempt < MAX_KEYED_ATTEMPTS; attempt++) {
      const index = keyedResampleIndex(b, attempt);
      const sums = keyedRegressionSums(base, fixed.q, index, w);
      draws.push({ b: index, weight: String(sums.weight), losses: sums.losses.map(String) });
      if (sums.weight > 0) break;
    }
  }
  const ones = new Uint8Array(preds.n).fill(1);
  const rows = String(preds.n);
  return {
    format: SPARK_SUMS_FORMAT,
    generator: KEYED_POISSON_VERSION,
    problem: 'regression',
    rows,
    models,
    fingerprint: {
      rows,
      keySum: keySum.toString(),
      targetScaleBits: target.scaleBits,
      targetSum: target.sum,
      predictionScaleBits: predictions.map((p) => p.scaleBits),
      predictionSums: predictions.map((p) => p.sum),
    },
    delong: null,
    bootstrap: {
      metric: opts.metric,
      seed: String(opts.seed),
      seed64: keyedSeed64Decimal(opts.seed),
      resamples: opts.resamples,
      lossScaleBits: fixed.scaleBits,
      maxLosses: fixed.maxFixed.map(String),
      full: { weight: rows, losses: fixed.q.map((col) => exactWeightedSum53(ones, col).toString()) },
      draws,
    },
  };
}
