/**
 * Several metrics of several models on the same paired, seeded bootstrap resamples, for every problem
 * type: regression and multiclass comparisons, and guardrail metrics next to a primary metric.
 *
 * Same resamples: resample b's row multiplicities come from the kernel's own draw (`runKernel.drawLane`,
 * the stream of (seed, b), see rng.ts and kernel.ts) with positions in the same reference order as the
 * primary metric's (binary ranking metrics: the reference model's sorted order; otherwise row order), and
 * a degenerate draw is redrawn from the same stream under the same rule. So for a binary comparison the
 * multiplicities here are exactly those `runBootstrap` used for the primary metric (tested), and every
 * metric evaluated here on one run sees the same resamples.
 *
 * Degenerate resamples (redrawn and counted, like the binary one-class case): binary, a single class
 * (by weight); multiclass, a class without weight (one-vs-rest AUC, log loss and macro F1 over K
 * classes are then undefined or change meaning); regression, no weight at all or a single distinct label
 * value among the drawn rows (R² undefined). The rule belongs to the problem type, not to the metric,
 * so that guardrails share the primary metric's resamples.
 *
 * Four resamples per pass, as in the kernel: counts are bytes interleaved four per position and each
 * pass reads one 32-bit word per position. Weighted data multiply each count by the row's weight.
 * Sums are sequential (not numpy's pairwise order), so a resample's value equals the full-data metric
 * on the expanded rows up to rounding (about 1e-15 relative; tested at 1e-12), exactly for ROC AUC and
 * accuracy (integer sums, one division).
 */
import { positivesFirstInTies } from './bootstrap';
import { runKernel } from './kernel';
import { metricValue, rowLosses } from './metrics';
import {
  argmaxRows,
  f1MacroFromCounts,
  multiclassMetricValue,
  multiclassRowLosses,
  pairwiseSum,
  r2FromSums,
  regressionMetricValue,
  regressionRowTerms,
} from './metrics-more';
import { resampleStates } from './rng';
import { LABEL_BIT, ROW_MASK, TIE_WITH_NEXT, sortOrder } from './sort';
import type {
  AnyMetric,
  AnyPredictions,
  BootstrapScheme,
  Metric,
  MulticlassMetric,
  MulticlassPredictions,
  Predictions,
  ProblemType,
  RegressionMetric,
  RegressionPredictions,
} from './types';

/** How one metric of one model is evaluated on a resample's counts. */
type ModelStat =
  | { kind: 'mean'; values: Float64Array; sqrt: boolean }
  | { kind: 'r2'; values: Float64Array }
  | { kind: 'auc'; order: Int32Array }
  | { kind: 'ap'; order: Int32Array }
  | { kind: 'ovr'; orders: Int32Array[]; weighted: boolean }
  | { kind: 'f1'; pred: Int32Array };

/** Data laid out for `runResampling`. */
export interface PreparedResampling {
  n: number;
  problem: ProblemType;
  /** Multiclass: K (else 2 for binary, 0 for regression). */
  classes: number;
  scheme: BootstrapScheme;
  models: string[];
  metrics: AnyMetric[];
  /** `estimates[s][m]`: metric s of model m on the full data. */
  estimates: number[][];
  /** Binary: 0/1; multiclass: the class index; regression: unused. In reference order. */
  labels: Int32Array;
  /** Regression: the target in reference order, and centred on its (weighted) full-data mean. */
  target?: Float64Array;
  centred?: Float64Array;
  /** Row weights in reference order. */
  weights?: Uint32Array;
  stats: ModelStat[][];
}

/** Per-resample values: `stats[s][m * resamples + b]` is metric s of model m on resample b. */
export interface ResamplingRun {
  resamples: number;
  stats: Float64Array[];
  redraws: Uint32Array;
}

/** True for `roc_auc` and `average_precision`, whose binary bootstrap positions follow the reference model's order. */
export function isRankingMetric(metric: AnyMetric): metric is 'roc_auc' | 'average_precision' {
  return metric === 'roc_auc' || metric === 'average_precision';
}

function problemOf(preds: AnyPredictions, problem: ProblemType): { target?: Float64Array; labels?: ArrayLike<number>; classes: number } {
  if (problem === 'regression') return { target: (preds as RegressionPredictions).target, classes: 0 };
  if (problem === 'multiclass') return { labels: (preds as MulticlassPredictions).labels, classes: (preds as MulticlassPredictions).classes };
  return { labels: (preds as Predictions).labels, classes: 2 };
}

/**
 * Lays out `metrics` of `models` for the resampling. `refMetric` fixes the positions of a binary
 * comparison: a ranking metric puts them in the sorted order of `models[0]` (as `prepareBootstrap`
 * does), any other metric in row order; regression and multiclass always use row order.
 *
 * @example
 * const prep = prepareResampling(preds, 'binaryClassification', ['prod', 'cand'], ['brier'], 'multinomial', 'roc_auc');
 * const run = runResampling(prep, 42, 1000); // Brier scores on the resamples runBootstrap draws for ROC AUC
 */
export function prepareResampling(
  preds: AnyPredictions,
  problem: ProblemType,
  models: string[],
  metrics: AnyMetric[],
  scheme: BootstrapScheme,
  refMetric: AnyMetric,
): PreparedResampling {
  const n = preds.n;
  if (n >= 2 ** 30) throw new RangeError(`${n} rows is more than the 2^30 - 1 the bootstrap supports`);
  const { target, labels: rawLabels, classes } = problemOf(preds, problem);
  const rowWeights = preds.weight?.values;
  const columnOf = (name: string): Float64Array | ArrayLike<number> => {
    const col = (preds.columns as { name: string; probabilities?: Float64Array; scores?: ArrayLike<number> }[]).find((c) => c.name === name);
    if (!col) throw new RangeError(`no column '${name}'`);
    return problem === 'multiclass' ? col.probabilities! : col.scores!;
  };
  const layout = referenceLayout(preds, problem, models, refMetric);
  const inRef = <T extends Float64Array | Int32Array | Uint32Array>(values: ArrayLike<number>, out: T): T => inReference(layout, values, out);
  const labels = new Int32Array(n);
  if (rawLabels !== undefined) inRef(rawLabels, labels);
  const weights = rowWeights === undefined ? undefined : inRef(rowWeights, new Uint32Array(n));
  let targetRef: Float64Array | undefined;
  let centred: Float64Array | undefined;
  if (target !== undefined) {
    targetRef = inRef(target, new Float64Array(n));
    centred = centredTarget(target, targetRef, rowWeights);
  }

  const estimates: number[][] = [];
  const stats: ModelStat[][] = [];
  for (const metric of metrics) {
    const est: number[] = [];
    const st: ModelStat[] = [];
    for (const name of models) {
      const col = columnOf(name);
      if (problem === 'binaryClassification') {
        const b = preds as Predictions;
        const m = metric as Metric;
        est.push(metricValue(m, b.labels, col, rowWeights));
        if (m === 'roc_auc' || m === 'average_precision') st.push({ kind: m === 'roc_auc' ? 'auc' : 'ap', order: packedOrder(layout, col, b.labels) });
        else st.push({ kind: 'mean', values: inRef(rowLosses(m, b.labels, col, name), new Float64Array(n)), sqrt: false });
      } else if (problem === 'regression') {
        const m = metric as RegressionMetric;
        est.push(regressionMetricValue(m, target!, col, rowWeights));
        const terms = inRef(regressionRowTerms(m, target!, col), new Float64Array(n));
        st.push(m === 'r2' ? { kind: 'r2', values: terms } : { kind: 'mean', values: terms, sqrt: m === 'rmse' });
      } else {
        const m = metric as MulticlassMetric;
        est.push(multiclassMetricValue(m, rawLabels!, col, classes, rowWeights));
        st.push(multiclassStat(layout, m, rawLabels!, col, classes));
      }
    }
    estimates.push(est);
    stats.push(st);
  }
  return {
    n,
    problem,
    classes,
    scheme,
    models,
    metrics,
    estimates,
    labels,
    ...(targetRef !== undefined ? { target: targetRef, centred } : {}),
    ...(weights !== undefined ? { weights } : {}),
    stats,
  };
}

/** Where each row sits in the resampling's reference order: row `ref[k]` at position k (`ref` null: row order), `posOf` the inverse. */
interface ReferenceLayout {
  n: number;
  ref: Uint32Array | null;
  posOf: Uint32Array;
}

/** The reference order: a binary ranking metric sorts by `models[0]` (as `prepareBootstrap` does); anything else keeps row order. */
function referenceLayout(preds: AnyPredictions, problem: ProblemType, models: string[], refMetric: AnyMetric): ReferenceLayout {
  const n = preds.n;
  let ref: Uint32Array | null = null;
  if (problem === 'binaryClassification' && isRankingMetric(refMetric)) {
    const order = sortOrder((preds as Predictions).columns.find((c) => c.name === models[0])!.scores, (preds as Predictions).labels);
    ref = new Uint32Array(n);
    for (let k = 0; k < n; k++) ref[k] = order[k] & ROW_MASK;
  }
  const posOf = new Uint32Array(n);
  for (let k = 0; k < n; k++) posOf[ref === null ? k : ref[k]] = k;
  return { n, ref, posOf };
}

/** Row values laid out by reference position into `out`. */
function inReference<T extends Float64Array | Int32Array | Uint32Array>(layout: ReferenceLayout, values: ArrayLike<number>, out: T): T {
  const { n, ref } = layout;
  for (let k = 0; k < n; k++) out[k] = values[ref === null ? k : ref[k]];
  return out;
}

/** The target by reference position, less its full-data (weighted) mean. */
function centredTarget(target: ArrayLike<number>, targetRef: Float64Array, rowWeights: ArrayLike<number> | undefined): Float64Array {
  const n = targetRef.length;
  // Centring at the full-data mean keeps Σc·y'² − (Σc·y')²/Σc, the resample's R² denominator, free of cancellation.
  let s = 0;
  let w = 0;
  for (let i = 0; i < n; i++) {
    const x = rowWeights === undefined ? 1 : rowWeights[i];
    s += x * target[i];
    w += x;
  }
  const mean = s / w;
  const centred = new Float64Array(n);
  for (let k = 0; k < n; k++) centred[k] = targetRef[k] - mean;
  return centred;
}

/** A packed order (refPos | label << 30 | tie << 31, positives first in ties) of `scores` against 0/1 `ys`. */
function packedOrder(layout: ReferenceLayout, scores: ArrayLike<number>, ys: Uint8Array): Int32Array {
  const { n, posOf } = layout;
  const typed = scores instanceof Float64Array ? scores : Float64Array.from(scores);
  const order = sortOrder(typed, ys);
  const packed = new Int32Array(order.buffer, order.byteOffset, n);
  for (let k = 0; k < n; k++) {
    const e = order[k];
    packed[k] = posOf[e & ROW_MASK] | (e & (LABEL_BIT | TIE_WITH_NEXT));
  }
  positivesFirstInTies(packed);
  return packed;
}

/** What the resampling sums for one multiclass metric of one model (`col`: n × classes probabilities). */
function multiclassStat(layout: ReferenceLayout, m: MulticlassMetric, ys: ArrayLike<number>, col: ArrayLike<number>, classes: number): ModelStat {
  const n = layout.n;
  if (m === 'log_loss') return { kind: 'mean', values: inReference(layout, multiclassRowLosses(ys, col, classes), new Float64Array(n)), sqrt: false };
  if (m === 'accuracy' || m === 'f1_macro') {
    const pred = argmaxRows(col, n, classes);
    if (m === 'f1_macro') return { kind: 'f1', pred: inReference(layout, pred, new Int32Array(n)) };
    const right = new Float64Array(n);
    for (let i = 0; i < n; i++) right[i] = pred[i] === ys[i] ? 1 : 0;
    return { kind: 'mean', values: inReference(layout, right, new Float64Array(n)), sqrt: false };
  }
  const orders: Int32Array[] = [];
  const y01 = new Uint8Array(n);
  const s = new Float64Array(n);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < n; i++) {
      y01[i] = ys[i] === c ? 1 : 0;
      s[i] = col[i * classes + c];
    }
    orders.push(packedOrder(layout, s, y01));
  }
  return { kind: 'ovr', orders, weighted: m === 'roc_auc_ovr_weighted' };
}

const CHUNK = 1024;
const WORDS = 130;
const MAX_REDRAWS = 100000;

/**
 * Runs `resamples` paired resamples of every prepared metric and model on the calling thread.
 * `countsOut` (tests): resample b's final multiplicities by reference position at `countsOut[b * n + pos]`.
 *
 * @example
 * const run = runResampling(prepareResampling(preds, 'regression', ['prod', 'cand'], ['rmse'], 'multinomial', 'rmse'), 42, 1000);
 */
export function runResampling(prep: PreparedResampling, seed: string | number, resamples: number, countsOut?: Uint8Array): ResamplingRun {
  const { n, problem, classes, labels, weights, centred, target } = prep;
  const M = prep.models.length;
  const run: ResamplingRun = { resamples, stats: prep.metrics.map(() => new Float64Array(M * resamples)), redraws: new Uint32Array(resamples) };
  const need = Math.ceil(n / 2) * 8;
  const c8 = new Uint8Array(need);
  const c32 = new Int32Array(c8.buffer, 0, n);
  const scheme = prep.scheme === 'poisson' ? 1 : 0;
  const drawTot = new Float64Array(4);
  const lane = new LaneSums(classes);
  const K = problem === 'multiclass' ? classes : 0;
  const scratch = new LaneScratch(K);
  const res = scratch.res;

  const ok = (k: number): boolean => {
    if (problem === 'binaryClassification') return lane.pos[k] > 0 && lane.pos[k] < lane.tot[k];
    if (problem === 'multiclass') {
      for (let c = 0; c < K; c++) if (!(lane.cls[c * 4 + k] > 0)) return false;
      return true;
    }
    return lane.tot[k] > 0 && laneVaries(c8, k, n, target!, weights);
  };

  for (let first = 0; first < resamples; first += CHUNK) {
    const count = Math.min(CHUNK, resamples - first);
    const states = resampleStates(seed, first, count);
    for (let g = 0; g < count; g += 4) {
      const lanes = Math.min(4, count - g);
      if (lanes < 4) c8.fill(0);
      for (let k = 0; k < lanes; k++) runKernel.drawLane(states, (g + k) * WORDS, k, n, c8, scheme, drawTot);
      lane.compute(problem, c32, labels, weights, centred, n);
      let redrawn = false;
      for (let k = 0; k < lanes; k++) {
        const j = first + g + k;
        run.redraws[j] = 0;
        while (!ok(k)) {
          if (++run.redraws[j] > MAX_REDRAWS) {
            throw new Error(
              `bootstrap: ${MAX_REDRAWS} consecutive draws of resample ${j} were degenerate (${degenerateText(problem)}); the data are too small or imbalanced to bootstrap`,
            );
          }
          runKernel.drawLane(states, (g + k) * WORDS, k, n, c8, scheme, drawTot);
          lane.computeLane(problem, c8, k, labels, weights, n);
          redrawn = true;
        }
      }
      if (redrawn) lane.compute(problem, c32, labels, weights, centred, n);
      if (countsOut !== undefined) {
        for (let k = 0; k < lanes; k++) for (let r = 0; r < n; r++) countsOut[(first + g + k) * n + r] = c8[r * 4 + k];
      }
      for (let s = 0; s < prep.metrics.length; s++) {
        const out = run.stats[s];
        for (let m = 0; m < M; m++) {
          statOfLanes(prep.stats[s][m], c32, n, labels, weights, K, lane, scratch);
          for (let k = 0; k < lanes; k++) out[m * resamples + first + g + k] = res[k];
        }
      }
    }
  }
  return run;
}

/** Scratch of {@link statOfLanes}, allocated once per run: `res` holds the four lanes' statistic. */
class LaneScratch {
  readonly res = new Float64Array(4);
  readonly a4 = new Float64Array(4);
  readonly b4 = new Float64Array(4);
  readonly perClass: Float64Array;
  readonly perClassAuc: Float64Array;
  readonly perClassW: Float64Array;
  readonly tp: Float64Array;
  readonly pc: Float64Array;
  readonly tpL: Float64Array;
  readonly pcL: Float64Array;
  readonly trL: Float64Array;

  constructor(K: number) {
    this.perClass = new Float64Array(Math.max(1, K) * 4);
    this.perClassAuc = new Float64Array(Math.max(1, K));
    this.perClassW = new Float64Array(Math.max(1, K));
    this.tp = new Float64Array(Math.max(1, K) * 4);
    this.pc = new Float64Array(Math.max(1, K) * 4);
    this.tpL = new Float64Array(Math.max(1, K));
    this.pcL = new Float64Array(Math.max(1, K));
    this.trL = new Float64Array(Math.max(1, K));
  }
}

/** One model's statistic on the four lanes' resamples (their counts in `c32`, their sums in `lane`), into `scratch.res`. */
function statOfLanes(
  st: ModelStat,
  c32: Int32Array,
  n: number,
  labels: Int32Array,
  weights: Uint32Array | undefined,
  K: number,
  lane: LaneSums,
  scratch: LaneScratch,
): void {
  const { res, a4, b4, perClass, perClassAuc, perClassW, tp, pc, tpL, pcL, trL } = scratch;
  const tot = lane.tot;
  switch (st.kind) {
    case 'mean':
      sumPass(st.values, c32, n, weights, res);
      for (let k = 0; k < 4; k++) res[k] = st.sqrt ? Math.sqrt(res[k] / tot[k]) : res[k] / tot[k];
      break;
    case 'r2':
      sumPass(st.values, c32, n, weights, res);
      for (let k = 0; k < 4; k++) res[k] = r2FromSums(res[k], lane.s2[k] - (lane.s1[k] * lane.s1[k]) / tot[k]);
      break;
    case 'auc':
      aucPass(st.order, c32, n, weights, a4, b4);
      for (let k = 0; k < 4; k++) res[k] = a4[k] / (2 * lane.pos[k] * (tot[k] - lane.pos[k]));
      break;
    case 'ap':
      apPass(st.order, c32, n, weights, lane.pos, res);
      break;
    case 'ovr':
      for (let c = 0; c < K; c++) {
        aucPass(st.orders[c], c32, n, weights, a4, b4);
        for (let k = 0; k < 4; k++) {
          const p = tot[k] - b4[k];
          perClass[c * 4 + k] = a4[k] / (2 * p * b4[k]);
        }
      }
      for (let k = 0; k < 4; k++) {
        for (let c = 0; c < K; c++) {
          const w = lane.cls[c * 4 + k];
          perClassW[c] = w;
          perClassAuc[c] = st.weighted ? perClass[c * 4 + k] * w : perClass[c * 4 + k];
        }
        res[k] = st.weighted ? pairwiseSum(perClassAuc) / pairwiseSum(perClassW) : pairwiseSum(perClassAuc) / K;
      }
      break;
    case 'f1':
      f1Pass(st.pred, labels, c32, n, weights, K, tp, pc);
      for (let k = 0; k < 4; k++) {
        for (let c = 0; c < K; c++) {
          tpL[c] = tp[c * 4 + k];
          pcL[c] = pc[c * 4 + k];
          trL[c] = lane.cls[c * 4 + k];
        }
        res[k] = f1MacroFromCounts(tpL, pcL, trL, K);
      }
      break;
  }
}

function degenerateText(problem: ProblemType): string {
  if (problem === 'multiclass') return 'a class without weight';
  if (problem === 'regression') return 'no weight, or a single distinct label value';
  return 'a single class';
}

/** True when lane k's drawn rows (count × weight > 0) hold at least two distinct label values. */
function laneVaries(bytes: Uint8Array, k: number, n: number, y: Float64Array, weights: Uint32Array | undefined): boolean {
  let r = 0;
  while (r < n && (bytes[r * 4 + k] === 0 || (weights !== undefined && weights[r] === 0))) r++;
  if (r === n) return false;
  const y0 = y[r];
  for (r++; r < n; r++) {
    if (bytes[r * 4 + k] !== 0 && y[r] !== y0 && (weights === undefined || weights[r] !== 0)) return true;
  }
  return false;
}

/** Label-side sums of four lanes: total weight, positive weight (binary), class weights (multiclass), Σc·y' and Σc·y'² (regression). */
class LaneSums {
  readonly tot = new Float64Array(4);
  readonly pos = new Float64Array(4);
  readonly s1 = new Float64Array(4);
  readonly s2 = new Float64Array(4);
  readonly cls: Float64Array;

  constructor(private readonly classes: number) {
    this.cls = new Float64Array(Math.max(1, classes) * 4);
  }

  compute(problem: ProblemType, c32: Int32Array, labels: Int32Array, weights: Uint32Array | undefined, centred: Float64Array | undefined, n: number): void {
    if (problem === 'regression') this.computeRegression(c32, weights, centred!, n);
    else if (problem === 'multiclass') this.computeMulticlass(c32, labels, weights, n);
    else this.computeBinary(c32, labels, weights, n);
  }

  /** Regression: total weight, Σc·y' and Σc·y'² of four lanes. */
  private computeRegression(c32: Int32Array, weights: Uint32Array | undefined, y: Float64Array, n: number): void {
    let t0 = 0,
      t1 = 0,
      t2 = 0,
      t3 = 0;
    let a0 = 0,
      a1 = 0,
      a2 = 0,
      a3 = 0;
    let q0 = 0,
      q1 = 0,
      q2 = 0,
      q3 = 0;
    for (let r = 0; r < n; r++) {
      const v = c32[r];
      const x = weights === undefined ? 1 : weights[r];
      const c0 = (v & 255) * x,
        c1 = ((v >>> 8) & 255) * x,
        c2 = ((v >>> 16) & 255) * x,
        c3 = (v >>> 24) * x;
      const yr = y[r];
      const yy = yr * yr;
      t0 += c0;
      t1 += c1;
      t2 += c2;
      t3 += c3;
      a0 += c0 * yr;
      a1 += c1 * yr;
      a2 += c2 * yr;
      a3 += c3 * yr;
      q0 += c0 * yy;
      q1 += c1 * yy;
      q2 += c2 * yy;
      q3 += c3 * yy;
    }
    this.s1[0] = a0;
    this.s1[1] = a1;
    this.s1[2] = a2;
    this.s1[3] = a3;
    this.s2[0] = q0;
    this.s2[1] = q1;
    this.s2[2] = q2;
    this.s2[3] = q3;
    this.setTotals(t0, t1, t2, t3);
  }

  /** Multiclass: per-class weights of four lanes, and their totals. */
  private computeMulticlass(c32: Int32Array, labels: Int32Array, weights: Uint32Array | undefined, n: number): void {
    let t0 = 0,
      t1 = 0,
      t2 = 0,
      t3 = 0;
    const cls = this.cls;
    cls.fill(0);
    for (let r = 0; r < n; r++) {
      const v = c32[r];
      const x = weights === undefined ? 1 : weights[r];
      const c0 = (v & 255) * x,
        c1 = ((v >>> 8) & 255) * x,
        c2 = ((v >>> 16) & 255) * x,
        c3 = (v >>> 24) * x;
      const b = labels[r] * 4;
      cls[b] += c0;
      cls[b + 1] += c1;
      cls[b + 2] += c2;
      cls[b + 3] += c3;
    }
    for (let c = 0; c < this.classes; c++) {
      t0 += cls[c * 4];
      t1 += cls[c * 4 + 1];
      t2 += cls[c * 4 + 2];
      t3 += cls[c * 4 + 3];
    }
    this.setTotals(t0, t1, t2, t3);
  }

  /** Binary: total and positive weight of four lanes. */
  private computeBinary(c32: Int32Array, labels: Int32Array, weights: Uint32Array | undefined, n: number): void {
    let t0 = 0,
      t1 = 0,
      t2 = 0,
      t3 = 0;
    let p0 = 0,
      p1 = 0,
      p2 = 0,
      p3 = 0;
    for (let r = 0; r < n; r++) {
      const v = c32[r];
      const x = weights === undefined ? 1 : weights[r];
      const c0 = (v & 255) * x,
        c1 = ((v >>> 8) & 255) * x,
        c2 = ((v >>> 16) & 255) * x,
        c3 = (v >>> 24) * x;
      t0 += c0;
      t1 += c1;
      t2 += c2;
      t3 += c3;
      if (labels[r] === 1) {
        p0 += c0;
        p1 += c1;
        p2 += c2;
        p3 += c3;
      }
    }
    this.pos[0] = p0;
    this.pos[1] = p1;
    this.pos[2] = p2;
    this.pos[3] = p3;
    this.setTotals(t0, t1, t2, t3);
  }

  private setTotals(t0: number, t1: number, t2: number, t3: number): void {
    this.tot[0] = t0;
    this.tot[1] = t1;
    this.tot[2] = t2;
    this.tot[3] = t3;
  }

  /** Total, positive and class weights of lane k only (the degeneracy check after a redraw). */
  computeLane(problem: ProblemType, bytes: Uint8Array, k: number, labels: Int32Array, weights: Uint32Array | undefined, n: number): void {
    let t = 0;
    let p = 0;
    if (problem === 'multiclass') for (let c = 0; c < this.classes; c++) this.cls[c * 4 + k] = 0;
    for (let r = 0; r < n; r++) {
      const c = bytes[r * 4 + k] * (weights === undefined ? 1 : weights[r]);
      t += c;
      if (problem === 'multiclass') this.cls[labels[r] * 4 + k] += c;
      else if (labels[r] === 1) p += c;
    }
    this.tot[k] = t;
    this.pos[k] = p;
  }
}

/** Σ count (× weight) × value of four lanes. */
function sumPass(vals: Float64Array, c32: Int32Array, n: number, weights: Uint32Array | undefined, out: Float64Array): void {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  if (weights === undefined) {
    for (let r = 0; r < n; r++) {
      const v = c32[r];
      const l = vals[r];
      s0 += (v & 255) * l;
      s1 += ((v >>> 8) & 255) * l;
      s2 += ((v >>> 16) & 255) * l;
      s3 += (v >>> 24) * l;
    }
  } else {
    for (let r = 0; r < n; r++) {
      const v = c32[r];
      const l = vals[r];
      const x = weights[r];
      s0 += (v & 255) * x * l;
      s1 += ((v >>> 8) & 255) * x * l;
      s2 += ((v >>> 16) & 255) * x * l;
      s3 += (v >>> 24) * x * l;
    }
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

/**
 * Weighted Mann–Whitney 2U of four lanes over a packed order (positives first in ties), and each lane's
 * negative weight, as the kernel's `aucPass`: 2U = 2·Σ_pos c·below + Σ_neg c·groupPositives.
 */
function aucPass(ord: Int32Array, c32: Int32Array, n: number, weights: Uint32Array | undefined, twoU: Float64Array, neg: Float64Array): void {
  let u0 = 0,
    u1 = 0,
    u2 = 0,
    u3 = 0;
  let b0 = 0,
    b1 = 0,
    b2 = 0,
    b3 = 0;
  let t0 = 0,
    t1 = 0,
    t2 = 0,
    t3 = 0;
  let g0 = 0,
    g1 = 0,
    g2 = 0,
    g3 = 0;
  for (let k = 0; k < n; k++) {
    const e = ord[k];
    const p = e & 0x3fffffff;
    const v = c32[p];
    const x = weights === undefined ? 1 : weights[p];
    const c0 = (v & 255) * x,
      c1 = ((v >>> 8) & 255) * x,
      c2 = ((v >>> 16) & 255) * x,
      c3 = (v >>> 24) * x;
    if (e & 0x40000000) {
      u0 += c0 * b0;
      u1 += c1 * b1;
      u2 += c2 * b2;
      u3 += c3 * b3;
      g0 += c0;
      g1 += c1;
      g2 += c2;
      g3 += c3;
    } else {
      b0 += c0;
      b1 += c1;
      b2 += c2;
      b3 += c3;
      t0 += c0 * g0;
      t1 += c1 * g1;
      t2 += c2 * g2;
      t3 += c3 * g3;
    }
    if (e >= 0) {
      g0 = 0;
      g1 = 0;
      g2 = 0;
      g3 = 0;
    }
  }
  twoU[0] = 2 * u0 + t0;
  twoU[1] = 2 * u1 + t1;
  twoU[2] = 2 * u2 + t2;
  twoU[3] = 2 * u3 + t3;
  neg[0] = b0;
  neg[1] = b1;
  neg[2] = b2;
  neg[3] = b3;
}

/** Average precision of four lanes over a packed order, as the kernel's `apPass` (tied form). */
function apPass(ord: Int32Array, c32: Int32Array, n: number, weights: Uint32Array | undefined, pos: Float64Array, res: Float64Array): void {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let tp0 = 0,
    tp1 = 0,
    tp2 = 0,
    tp3 = 0;
  let fp0 = 0,
    fp1 = 0,
    fp2 = 0,
    fp3 = 0;
  let p0 = 0,
    p1 = 0,
    p2 = 0,
    p3 = 0;
  let q0 = 0,
    q1 = 0,
    q2 = 0,
    q3 = 0;
  for (let k = n - 1; k >= 0; k--) {
    const e = ord[k];
    const p = e & 0x3fffffff;
    const v = c32[p];
    const x = weights === undefined ? 1 : weights[p];
    const c0 = (v & 255) * x,
      c1 = ((v >>> 8) & 255) * x,
      c2 = ((v >>> 16) & 255) * x,
      c3 = (v >>> 24) * x;
    if (e & 0x40000000) {
      p0 += c0;
      p1 += c1;
      p2 += c2;
      p3 += c3;
    } else {
      q0 += c0;
      q1 += c1;
      q2 += c2;
      q3 += c3;
    }
    if (k === 0 || ord[k - 1] >= 0) {
      tp0 += p0;
      tp1 += p1;
      tp2 += p2;
      tp3 += p3;
      fp0 += q0;
      fp1 += q1;
      fp2 += q2;
      fp3 += q3;
      s0 += (p0 * tp0) / (tp0 + fp0 || 1);
      s1 += (p1 * tp1) / (tp1 + fp1 || 1);
      s2 += (p2 * tp2) / (tp2 + fp2 || 1);
      s3 += (p3 * tp3) / (tp3 + fp3 || 1);
      p0 = 0;
      p1 = 0;
      p2 = 0;
      p3 = 0;
      q0 = 0;
      q1 = 0;
      q2 = 0;
      q3 = 0;
    }
  }
  res[0] = s0 / pos[0];
  res[1] = s1 / pos[1];
  res[2] = s2 / pos[2];
  res[3] = s3 / pos[3];
}

/** Per-class true positives and predicted weight of four lanes (argmax class `pred`, true class `labels`). */
function f1Pass(
  pred: Int32Array,
  labels: Int32Array,
  c32: Int32Array,
  n: number,
  weights: Uint32Array | undefined,
  K: number,
  tp: Float64Array,
  pc: Float64Array,
): void {
  tp.fill(0, 0, K * 4);
  pc.fill(0, 0, K * 4);
  for (let r = 0; r < n; r++) {
    const v = c32[r];
    const x = weights === undefined ? 1 : weights[r];
    const c0 = (v & 255) * x,
      c1 = ((v >>> 8) & 255) * x,
      c2 = ((v >>> 16) & 255) * x,
      c3 = (v >>> 24) * x;
    const b = pred[r] * 4;
    pc[b] += c0;
    pc[b + 1] += c1;
    pc[b + 2] += c2;
    pc[b + 3] += c3;
    if (pred[r] === labels[r]) {
      tp[b] += c0;
      tp[b + 1] += c1;
      tp[b + 2] += c2;
      tp[b + 3] += c3;
    }
  }
}
