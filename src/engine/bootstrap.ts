/**
 * Paired, seeded bootstrap of a metric for several models at once.
 *
 * "Paired": every resample is one draw of row multiplicities shared by all models, so the difference
 * between two models on a resample reflects only the models, not two unrelated draws (the seed design
 * drew each model's rows independently, which inflates the variance of the difference and makes the
 * win rate noisy). "Seeded": resample b uses its own xor4096 stream derived from (seed, b) — see rng.ts —
 * so results are reproducible and independent of how resamples are split among threads.
 *
 * This module prepares the data once (sort each model, pack the orders, compute per-row losses) and runs
 * the kernel single-threaded; parallel.ts runs the same kernel in worker threads.
 */
import { runKernel, type KernelJob } from './kernel';
import { aucSums, apSums, rowLosses } from './metrics';
import { LABEL_BIT, ROW_MASK, TIE_WITH_NEXT, sortOrder, sortScratchBytes } from './sort';
import { resampleStates } from './rng';
import type { BootstrapScheme, Metric, Predictions, ScoreArray } from './types';

const METRIC_CODE: Record<Metric, number> = { roc_auc: 0, average_precision: 1, log_loss: 2, brier: 3 };

/** Data laid out for the kernel, plus each model's metric on the full data. */
export interface PreparedBootstrap {
  n: number;
  metric: Metric;
  scheme: BootstrapScheme;
  /** Model names in kernel order (the first is the reference model). */
  models: string[];
  /** Metric of each model on the full data (the point estimate), in kernel order. */
  estimates: number[];
  /** Labels in reference order. */
  labels: Uint8Array;
  /** Ranking metrics: packed order per model (see kernel.ts). */
  orders: Int32Array[];
  /** Loss metrics: per-row loss per model, in reference (= row) order. */
  losses: Float64Array[];
  /**
   * Row weights in reference order (ranking metrics: the reference model's sorted order; loss metrics:
   * row order), when the predictions have a weight column; the kernel then weighs each row by
   * count × weight.
   */
  weights?: Uint32Array;
  /** Memory the kernel may use for its counts (split between threads); shared when the arrays are. */
  scratch?: ArrayBufferLike;
}

/** Per-resample results: `stats[m * resamples + b]` is model m's metric on resample b. */
export interface BootstrapRun {
  resamples: number;
  stats: Float64Array;
  /** Degenerate draws replaced, per resample. */
  redraws: Uint32Array;
}

function typedAlloc<T>(Ctor: new (b: ArrayBufferLike) => T, bytesPerElement: number, length: number, shared: boolean): T {
  const bytes = bytesPerElement * length;
  return new Ctor(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

/**
 * Sorts and packs the models' scores for the kernel. `models[0]` is the reference model: its sorted
 * order defines the positions counts are indexed by (ranking metrics). With `shared`, the arrays live
 * in SharedArrayBuffers so worker threads can read them without copies.
 *
 * Memory (ranking metrics): 4 bytes per row and model (packed orders), 1 per row (labels) and one
 * scratch buffer of 24 bytes per row, used by every sort and then by the kernel for its counts — so no
 * buffer is left behind for the garbage collector. Loss metrics: 8 bytes per row and model.
 *
 * @example
 * const prep = prepareBootstrap(preds, ['prod', 'cand'], 'roc_auc', 'multinomial');
 * const run = runBootstrap(prep, 42, 1000);
 */
export function prepareBootstrap(preds: Predictions, models: string[], metric: Metric, scheme: BootstrapScheme, shared = false): PreparedBootstrap {
  const n = preds.n;
  const scoresOf = (name: string): ScoreArray => {
    const col = preds.columns.find((c) => c.name === name);
    if (!col) throw new RangeError(`no column '${name}'`);
    return col.scores;
  };
  const rowWeights = preds.weight?.values;
  if (metric === 'log_loss' || metric === 'brier') {
    const labels = typedAlloc(Uint8Array, 1, n, shared);
    labels.set(preds.labels);
    const estimates: number[] = [];
    let weights: Uint32Array | undefined;
    let total = n;
    if (rowWeights !== undefined) {
      weights = typedAlloc(Uint32Array, 4, n, shared);
      weights.set(rowWeights);
      total = 0;
      for (let i = 0; i < n; i++) total += rowWeights[i];
    }
    const losses = models.map((name) => {
      const l = rowLosses(metric, preds.labels, scoresOf(name), name, typedAlloc(Float64Array, 8, n, shared));
      let s = 0;
      // Same operation order as metrics.ts's weightedMean, so the estimate equals logLoss/brierScore.
      if (weights === undefined) for (let i = 0; i < n; i++) s += l[i];
      else for (let i = 0; i < n; i++) s += weights[i] * l[i];
      estimates.push(s / total);
      return l;
    });
    return { n, metric, scheme, models, estimates, labels, orders: [], losses, ...(weights !== undefined ? { weights } : {}) };
  }
  if (n >= 2 ** 30) throw new RangeError(`${n} rows is more than the 2^30 - 1 the bootstrap supports`);
  const scratch = shared ? new SharedArrayBuffer(sortScratchBytes(n)) : new ArrayBuffer(sortScratchBytes(n));
  const sorted = models.map((name) => sortOrder(scoresOf(name), preds.labels, { scratch, into: typedAlloc(Uint32Array, 4, n, shared) }));
  const estimates = sorted.map((order) => (metric === 'roc_auc' ? aucFromSums(order, rowWeights) : apFromSums(order, rowWeights)));
  // Reference positions: the first model's sorted order. posOf borrows the (now free) sort scratch.
  const posOf = new Uint32Array(scratch, 0, n);
  const labels = typedAlloc(Uint8Array, 1, n, shared);
  const ref = sorted[0];
  const weights = rowWeights === undefined ? undefined : typedAlloc(Uint32Array, 4, n, shared);
  for (let k = 0; k < n; k++) {
    const e = ref[k];
    posOf[e & ROW_MASK] = k;
    labels[k] = e & LABEL_BIT ? 1 : 0;
    if (weights !== undefined) weights[k] = rowWeights![e & ROW_MASK];
  }
  // Pack in place: entry k becomes refPos | label bit | tie bit.
  const orders = sorted.map((order) => {
    const packed = new Int32Array(order.buffer, order.byteOffset, n);
    for (let k = 0; k < n; k++) {
      const e = order[k];
      packed[k] = posOf[e & ROW_MASK] | (e & (LABEL_BIT | TIE_WITH_NEXT));
    }
    positivesFirstInTies(packed);
    return packed;
  });
  return { n, metric, scheme, models, estimates, labels, orders, losses: [], scratch, ...(weights !== undefined ? { weights } : {}) };
}

/**
 * Reorders each tie group of a packed order so that its positives come first (stably), keeping the
 * tie marks by position. The kernel's AUC loop relies on it (see kernel.ts); the group's counts, hence
 * every metric, are unchanged.
 */
export function positivesFirstInTies(packed: Int32Array): void {
  const n = packed.length;
  const neg: number[] = [];
  let start = 0;
  while (start < n) {
    let end = start;
    while (packed[end] < 0) end++;
    if (end > start) {
      let w = start;
      neg.length = 0;
      for (let k = start; k <= end; k++) {
        const e = packed[k] & 0x7fffffff;
        if (e & 0x40000000) packed[w++] = e;
        else neg.push(e);
      }
      for (const e of neg) packed[w++] = e;
      for (let k = start; k < end; k++) packed[k] |= TIE_WITH_NEXT;
    }
    start = end + 1;
  }
}

function aucFromSums(order: Uint32Array, weights: Uint32Array | undefined): number {
  const { u2, pos, neg } = aucSums(order, null, weights);
  return u2 / (2 * pos * neg);
}

function apFromSums(order: Uint32Array, weights: Uint32Array | undefined): number {
  const { sum, pos } = apSums(order, null, weights);
  return sum / pos;
}

/**
 * Builds the kernel job for resamples `first .. first + count − 1`. `slot` of `slots` selects the part
 * of the prepared scratch memory this job's thread may use for its counts.
 */
export function kernelJob(prep: PreparedBootstrap, seed: string | number, first: number, count: number, shared = false, slot = 0, slots = 1): KernelJob {
  const job: KernelJob = {
    n: prep.n,
    metric: METRIC_CODE[prep.metric],
    scheme: prep.scheme === 'poisson' ? 1 : 0,
    labels: prep.labels,
    orders: prep.orders,
    losses: prep.losses,
    states: resampleStates(seed, first, count, shared),
    count,
    out: typedAlloc(Float64Array, 8, prep.models.length * count, shared),
    redraws: typedAlloc(Uint32Array, 4, count, shared),
  };
  if (prep.weights !== undefined) job.weights = prep.weights;
  if (prep.scratch !== undefined) {
    const part = Math.floor(prep.scratch.byteLength / slots / 8) * 8;
    job.scratch = { buffer: prep.scratch, offset: slot * part, bytes: part };
  }
  return job;
}

/** Copies a finished job's results into the run-wide arrays. */
export function collectJob(job: KernelJob, first: number, run: BootstrapRun, models: number): void {
  for (let m = 0; m < models; m++) {
    run.stats.set(job.out.subarray(m * job.count, (m + 1) * job.count), m * run.resamples + first);
  }
  run.redraws.set(job.redraws, first);
}

/** Resamples per kernel call on one thread: bounds the memory of the generator states (130 words each). */
const CHUNK = 1024;

/**
 * Runs `resamples` paired resamples on the calling thread.
 *
 * @example
 * const run = runBootstrap(prepareBootstrap(preds, ['a', 'b'], 'roc_auc', 'multinomial'), 'seed', 1000);
 * run.stats.subarray(0, 1000); // model 'a' on every resample
 */
export function runBootstrap(prep: PreparedBootstrap, seed: string | number, resamples: number): BootstrapRun {
  const run: BootstrapRun = {
    resamples,
    stats: new Float64Array(prep.models.length * resamples),
    redraws: new Uint32Array(resamples),
  };
  for (let first = 0; first < resamples; first += CHUNK) {
    const count = Math.min(CHUNK, resamples - first);
    const job = kernelJob(prep, seed, first, count);
    runKernel(job);
    collectJob(job, first, run, prep.models.length);
  }
  return run;
}
