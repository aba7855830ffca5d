/**
 * Multi-threaded bootstrap: the same kernel, run in worker threads on chunks of resamples.
 *
 * This is the engine's only module that touches the runtime (it starts worker threads); the statistics
 * stay in the pure modules. Results are identical to the single-threaded run byte for byte, because
 * every resample's randomness derives from (seed, resample index) alone (see rng.ts) and each resample
 * is computed by the same function whatever thread runs it.
 *
 * Bundling: the worker does not load a file. Its source is `createKernel.toString()` (kernel.ts is
 * self-contained by design) wrapped in a message loop and started with `new Worker(source, { eval: true })`,
 * so it works unchanged inside the single-file esbuild bundle of the Evaluate & Promote task.
 * The prepared data live in SharedArrayBuffers and are shared with the workers, not copied.
 */
import { Worker } from 'worker_threads';
import { collectJob, kernelJob, prepareBootstrap, runBootstrap, type BootstrapRun, type PreparedBootstrap } from './bootstrap';
import { bootstrapDecision, compareModels, noCandidateDecision, planComparison } from './compare';
import { needsExtended } from './compare-more';
import { InvalidOptionsError } from './errors';
import { createKernel, type KernelJob } from './kernel';
import type { AnyMetric, AnyPredictions, CompareOptions, Decision, Metric, Predictions } from './types';

/** Options of `compareModelsParallel`: `compareModels`' options plus the number of threads. */
export interface ParallelCompareOptions<M extends AnyMetric = Metric> extends CompareOptions<M> {
  /**
   * Worker threads for the bootstrap, used as given (default 1 = the calling thread only). Callers may
   * pass the CPU count, or `suggestedThreads(...)` to skip threads for small bootstraps.
   */
  threads?: number;
}

const WORKER_SOURCE = `'use strict';
const { parentPort } = require('worker_threads');
const runKernel = (${createKernel.toString()})();
parentPort.on('message', (job) => {
  try {
    runKernel(job);
    parentPort.postMessage({ ok: true });
  } catch (e) {
    parentPort.postMessage({ ok: false, message: String((e && e.message) || e) });
  }
});
`;

/** Below this many rows × resamples × models, starting worker threads costs more than it saves. */
export const PARALLEL_MIN_WORK = 20_000_000;

/**
 * A thread count for `compareModelsParallel`: every CPU for a bootstrap large enough to gain from
 * worker threads (≥ `PARALLEL_MIN_WORK` rows × resamples × models), else 1 (the calling thread).
 *
 * @example
 * const threads = suggestedThreads(preds.n, 1000, preds.columns.length, os.availableParallelism());
 */
export function suggestedThreads(rows: number, resamples: number, models: number, cpus: number): number {
  return rows * resamples * models >= PARALLEL_MIN_WORK ? Math.max(1, Math.floor(cpus)) : 1;
}

/** Resamples per message to a worker: bounds the memory of generator states and balances the load. */
const MAX_CHUNK = 256;

/**
 * `compareModels` with the bootstrap spread over `threads` worker threads. The decision is identical,
 * byte for byte, to `compareModels` with the same options (DeLong and trivial cases run on the calling
 * thread).
 *
 * @example
 * const d = await compareModelsParallel(preds, { ...opts, threads: os.availableParallelism() });
 */
export async function compareModelsParallel(preds: Predictions, opts: ParallelCompareOptions): Promise<Decision>;
export async function compareModelsParallel(preds: AnyPredictions, opts: ParallelCompareOptions<AnyMetric>): Promise<Decision<AnyMetric>>;
export async function compareModelsParallel(anyPreds: AnyPredictions, anyOpts: ParallelCompareOptions<AnyMetric>): Promise<Decision<AnyMetric>> {
  const threads = anyOpts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new InvalidOptionsError(`threads must be an integer from 1 to 256, got ${String(threads)}`);
  }
  // Regression, multiclass, guardrails and slices run on the calling thread for now (compare-more.ts).
  // The keyed Poisson bootstrap runs on the calling thread too (keyed-poisson.ts).
  if (threads === 1 || anyOpts.method !== 'bootstrap' || anyOpts.bootstrap === 'keyedPoisson' || needsExtended(anyOpts))
    return compareModels(anyPreds, anyOpts);
  // Binary, one metric, no guardrail or slice: the options and predictions are the binary ones.
  const preds = anyPreds as Predictions;
  const opts = anyOpts as ParallelCompareOptions;
  const plan = planComparison(preds, opts);
  if (plan.candidates.length === 0) return noCandidateDecision(plan);
  const prep = prepareBootstrap(preds, plan.kernelModels, plan.metric, plan.scheme, true);
  const run = await runBootstrapParallel(prep, opts.seed, opts.resamples, threads);
  return bootstrapDecision(plan, prep, run);
}

/**
 * Runs the bootstrap on `threads` worker threads (the prepared arrays must be shared:
 * `prepareBootstrap(..., true)`). With one thread it runs on the calling thread.
 */
export function runBootstrapParallel(prep: PreparedBootstrap, seed: string | number, resamples: number, threads: number): Promise<BootstrapRun> {
  if (threads <= 1) return Promise.resolve(runBootstrap(prep, seed, resamples));
  const run: BootstrapRun = { resamples, stats: new Float64Array(prep.models.length * resamples), redraws: new Uint32Array(resamples) };
  // Chunks of a multiple of 4 resamples (the kernel's lane count), small enough to keep every thread busy.
  const chunk = Math.max(4, Math.min(MAX_CHUNK, 4 * Math.ceil(resamples / threads / 4)));
  let next = 0;
  const workerCount = Math.min(threads, Math.ceil(resamples / chunk));
  return new Promise<BootstrapRun>((resolve, reject) => {
    const workers: Worker[] = [];
    const busy = new Set<Worker>();
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(err);
    };
    const feed = (w: Worker, slot: number): void => {
      if (next >= resamples) {
        void w.terminate();
        if (busy.size === 0 && !failed) resolve(run);
        return;
      }
      const first = next;
      const count = Math.min(chunk, resamples - first);
      next += count;
      const job = kernelJob(prep, seed, first, count, true, slot, workerCount);
      busy.add(w);
      w.once('message', (msg: { ok: boolean; message?: string }) => {
        busy.delete(w);
        if (!msg.ok) return fail(new Error(msg.message));
        collectJob(job, first, run, prep.models.length);
        feed(w, slot);
      });
      w.postMessage(job satisfies KernelJob);
    };
    for (let t = 0; t < workerCount; t++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('error', fail);
      w.on('exit', (code) => {
        if (busy.has(w)) fail(new Error(`a bootstrap worker exited with code ${code} before finishing its resamples`));
      });
      workers.push(w);
      feed(w, t);
    }
  });
}
