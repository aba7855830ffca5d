/**
 * Types shared by the comparison engine: the predictions it reads, the options it takes and the plain,
 * JSON-serialisable decision it returns.
 *
 * Conventions used everywhere in the engine:
 * - A **label** is 0 (negative) or 1 (positive).
 * - A **score** is any finite number; higher means "more likely positive". `log_loss` and `brier` also
 *   require scores to be probabilities in [0, 1].
 * - A **delta** (`meanDelta`, `deltaCi`, `deltaDistributions`) is always oriented so that **positive means
 *   the candidate is better**: `candidate − baseline` for metrics where higher is better (`roc_auc`,
 *   `average_precision`), `baseline − candidate` for metrics where lower is better (`log_loss`, `brier`).
 */

/** Metrics the engine computes. `roc_auc` and `average_precision` are higher-is-better, the others lower-is-better. */
export type Metric = 'roc_auc' | 'average_precision' | 'log_loss' | 'brier';

/** All metric names, in a fixed order (used to validate user input). */
export const METRICS: readonly Metric[] = Object.freeze(['roc_auc', 'average_precision', 'log_loss', 'brier'] as Metric[]);

/** How the comparison is made: a paired bootstrap, or DeLong's analytic test (ROC AUC only). */
export type Method = 'bootstrap' | 'delong';

/** All method names. */
export const METHODS: readonly Method[] = Object.freeze(['bootstrap', 'delong'] as Method[]);

/**
 * Resampling scheme of the bootstrap.
 * - `multinomial` (default): the classical bootstrap, n rows drawn uniformly with replacement, so every
 *   resample has exactly n rows (this is what the seed design did with `randint`).
 * - `poisson`: every row gets an independent Poisson(1) multiplicity. Asymptotically equivalent and a
 *   little faster, but the resample size varies around n. Opt-in only.
 */
export type BootstrapScheme = 'multinomial' | 'poisson';

/** Typed arrays the engine accepts as a score column (read without copying from Arrow where possible). */
export type ScoreArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array;

/** One model's scores, one per row, in the same row order as the labels. */
export interface ScoreColumn {
  name: string;
  scores: ScoreArray;
}

/** Labels and one score column per model, as read from Arrow (see `readPredictions`). */
export interface Predictions {
  /** Number of rows. */
  n: number;
  /** 0/1 labels, one per row. */
  labels: Uint8Array;
  columns: ScoreColumn[];
}

/** Options of `compareModels`. */
export interface CompareOptions {
  /** Column of the production model. Without it there is no production model and nothing to beat. */
  baseline?: string;
  /** Columns of the candidates; default every column except the baseline, in input order. */
  candidates?: string[];
  metric: Metric;
  method: Method;
  /** Number of bootstrap resamples B (ignored by `delong`). */
  resamples: number;
  /** Seed of every random draw; numbers and strings are both accepted and used through `String(seed)`. */
  seed: string | number;
  /** Promote only if the candidate is at least as good as the baseline in this share of resamples, in (0, 1]. */
  winRate: number;
  /** Promote only if the mean oriented delta (positive = better) reaches this value. */
  minDelta: number;
  /**
   * Quality floor on the best candidate's metric over the full data: `estimate >= minMetric` for
   * higher-is-better metrics, `estimate <= minMetric` (a ceiling) for `log_loss` and `brier`.
   */
  minMetric?: number;
  /** Level of the percentile confidence intervals, in (0, 1); e.g. 0.95. */
  confidence: number;
  /** Resampling scheme; default `multinomial`. */
  bootstrap?: BootstrapScheme;
  /** Keep the per-resample distributions in the result (default true; they feed the histograms). */
  includeDistributions?: boolean;
}

/** Comparison of one candidate against the baseline. Every delta is oriented: positive = candidate better. */
export interface VersusBaseline {
  /**
   * Bootstrap: share of resamples in which the candidate is at least as good as the baseline (delta ≥ 0).
   * DeLong: the normal-approximation analogue Φ(Δ / sd), the probability that delta ≥ 0.
   */
  winRate: number;
  /** Bootstrap: mean of the paired deltas. DeLong: the full-data delta. */
  meanDelta: number;
  /** Percentile (bootstrap) or normal (DeLong) interval of the delta at the requested confidence. */
  deltaCi: [number, number];
  /** Share of resamples with delta strictly above `minDelta` (DeLong: Φ((Δ − minDelta) / sd)). */
  shareAboveMinDelta: number;
  /** DeLong only: two-sided p-value of H0: AUC_candidate = AUC_baseline. */
  pValue?: number;
  /** DeLong only: Δ / sd (absent when the variance is 0). */
  z?: number;
  /** DeLong only: the estimated variance of the AUC difference. */
  variance?: number;
}

/** Per-model entry of a decision. */
export interface ModelResult {
  name: string;
  /** The metric on the full data. */
  estimate: number;
  /** Bootstrap only: the mean of the metric over the resamples. */
  mean?: number;
  /** Interval of the metric at the requested confidence (bootstrap percentile, or DeLong normal interval). */
  ci?: [number, number];
  isBaseline: boolean;
  /** Candidates only, when a baseline is given. */
  vsBaseline?: VersusBaseline;
}

/** The engine's answer: a plain object; the same inputs and seed always give byte-identical JSON. */
export interface Decision {
  /** `promote` the best candidate, `keep` the current state, or `none` when there is no candidate. */
  decision: 'promote' | 'keep' | 'none';
  /** One sentence explaining the decision with the numbers that drove it. */
  reason: string;
  metric: Metric;
  /** True for `roc_auc` and `average_precision`. Deltas are oriented by this, so positive is always better. */
  higherIsBetter: boolean;
  method: Method;
  /** Resampling scheme (bootstrap only). */
  bootstrap?: BootstrapScheme;
  seed: string | number;
  /** Number of resamples used (0 for DeLong). */
  resamples: number;
  confidence: number;
  winRateThreshold: number;
  minDelta: number;
  minMetric?: number;
  baseline?: string;
  /** The best candidate (present whenever there is at least one candidate). */
  best?: string;
  models: ModelResult[];
  /** Resamples drawn with a single class, redrawn and counted here (never silently replaced). */
  degenerateResamples: number;
  n: number;
  positives: number;
  /** Per-resample metric for each model (bootstrap, unless `includeDistributions: false`). */
  distributions?: { [model: string]: number[] };
  /** Per-resample oriented delta (positive = better) of each candidate against the baseline. */
  deltaDistributions?: { [model: string]: number[] };
}
