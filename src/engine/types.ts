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

/** Problem types: binary classification (the default), regression, multiclass classification. */
export type ProblemType = 'binaryClassification' | 'regression' | 'multiclass';

/** All problem types. */
export const PROBLEM_TYPES: readonly ProblemType[] = Object.freeze(['binaryClassification', 'regression', 'multiclass'] as ProblemType[]);

/** Regression metrics (see metrics-more.ts): `r2` is higher-is-better, the others lower-is-better. */
export type RegressionMetric = 'rmse' | 'mae' | 'r2' | 'mape';

/** Multiclass metrics (see metrics-more.ts): `log_loss` is lower-is-better, the others higher-is-better. */
export type MulticlassMetric = 'log_loss' | 'roc_auc_ovr' | 'roc_auc_ovr_weighted' | 'accuracy' | 'f1_macro';

/** Every metric of every problem type. */
export type AnyMetric = Metric | RegressionMetric | MulticlassMetric;

/** How the comparison is made: a paired bootstrap, or DeLong's analytic test (ROC AUC only). */
export type Method = 'bootstrap' | 'delong';

/**
 * Default share of wins of the task and the CLI. Chosen with `defaultMinDelta` so that two equally good
 * models are promoted in at most 5% of evaluations (measured in test/engine/statistics.test.ts).
 */
export const DEFAULT_WIN_RATE = 0.95;

/**
 * Default minimum improvement per metric: a release for a gain below about 0.001 ROC AUC is churn, not
 * progress. The other metrics get the change that matches 0.001 ROC AUC for calibrated binormal models
 * with prevalence 0.3 and AUC 0.66 to 0.92 (log loss 0.0005 to 0.0019, Brier score 0.0002 to 0.0007;
 * derivation in README.md of the engine): 0.001 average precision and log loss, 0.0003 Brier score.
 * Any other metric (regression metrics, in the label's own units) defaults to 0. Set 0 explicitly to
 * accept any significant gain.
 */
export function defaultMinDelta(metric: string): number {
  switch (metric) {
    case 'roc_auc':
    case 'average_precision':
    case 'log_loss':
      return 0.001;
    case 'brier':
      return 0.0003;
    default:
      return 0;
  }
}

/** All method names. */
export const METHODS: readonly Method[] = Object.freeze(['bootstrap', 'delong'] as Method[]);

/**
 * Resampling scheme of the bootstrap.
 * - `multinomial` (default): the classical bootstrap, n rows drawn uniformly with replacement, so every
 *   resample has exactly n rows (this is what the seed design did with `randint`).
 * - `poisson`: every row gets an independent Poisson(1) multiplicity. Asymptotically equivalent and a
 *   little faster, but the resample size varies around n. Opt-in only.
 * - `keyedPoisson`: Poisson(1) weights drawn from a counter-based generator keyed by (seed, row key,
 *   resample), so the result depends neither on row order nor on how the rows are split; the same
 *   weights can be computed on Spark (keyed-poisson.ts, docs/keyed-poisson.md). Needs `Predictions.rowKey`.
 */
export type BootstrapScheme = 'multinomial' | 'poisson' | 'keyedPoisson';

/** Typed arrays the engine accepts as a score column (read without copying from Arrow where possible). */
export type ScoreArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;

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
  /**
   * Optional integer row weights (frequency weights: a weight of k counts the row k times; 0 leaves it
   * out). Never a model. The full-data metrics use them as scikit-learn's `sample_weight`; each bootstrap
   * resample weighs row r by its multiplicity times its weight (count × weight). DeLong does not take them.
   */
  weight?: WeightColumn;
  /** Optional row key (never a model): required by the `keyedPoisson` bootstrap, ignored otherwise. */
  rowKey?: RowKeyColumn;
}

/** A column of distinct integer row keys in [0, 2^40), one per row (the `keyedPoisson` bootstrap's key). */
export interface RowKeyColumn {
  name: string;
  values: Float64Array | Uint32Array | Int32Array | BigInt64Array | BigUint64Array;
}

/**
 * Regression predictions: a float64 label (the target) and one float64 prediction column per model,
 * all finite.
 */
export interface RegressionPredictions {
  n: number;
  /** The true values, one per row. */
  target: Float64Array;
  /** One prediction per row and model (`scores` holds the predicted values). */
  columns: ScoreColumn[];
  /** Optional integer row weights, as for `Predictions`. */
  weight?: WeightColumn;
  /** Optional row key (never a model): required by the `keyedPoisson` bootstrap (RMSE and MAE), ignored otherwise. */
  rowKey?: RowKeyColumn;
}

/** One multiclass model's class probabilities: n rows × K classes, row-major (row i at i·K .. i·K + K − 1). */
export interface ProbabilityColumn {
  name: string;
  probabilities: Float64Array;
}

/**
 * Multiclass predictions: class indices 0..K−1 and, per model, n × K class probabilities (finite,
 * non-negative, each row summing to 1 within 1e-6).
 */
export interface MulticlassPredictions {
  n: number;
  /** K, the number of classes (at least 3; two classes are `binaryClassification`). */
  classes: number;
  /** The true class index of each row. */
  labels: Uint8Array | Uint16Array | Uint32Array;
  /**
   * The K original class values in class-index order, when known (from the file's `mlops.classes` schema
   * metadata; numbers as the strings the file gives). Echoed in `Decision.classNames`.
   */
  classNames?: string[];
  columns: ProbabilityColumn[];
  /** Optional integer row weights, as for `Predictions`. */
  weight?: WeightColumn;
}

/** Predictions of any problem type. */
export type AnyPredictions = Predictions | RegressionPredictions | MulticlassPredictions;

/** A column of non-negative integer row weights (see `Predictions.weight`). */
export interface WeightColumn {
  name: string;
  /** One weight per row, in row order: integers from 0 to 2^32 − 1. */
  values: Uint32Array;
}

/** A guardrail: a second metric the candidate must not worsen by more than `maxWorsening` (metric units). */
export interface Guardrail<M extends AnyMetric = AnyMetric> {
  metric: M;
  /** Largest allowed worsening (oriented: a loss going up, a score going down), >= 0. */
  maxWorsening: number;
}

/** A slice key per row: integer codes into `names` (e.g. an Arrow dictionary column). */
export interface SliceKey {
  /** The column the slices come from (for the record and the messages). */
  column: string;
  /** One code per row, an index into `names`. */
  codes: Uint32Array;
  /** The slice names, by code. */
  names: string[];
}

/** Options of `compareModels`. */
export interface CompareOptions<M extends AnyMetric = Metric> {
  /**
   * `binaryClassification` (default; the predictions are `Predictions`), `regression`
   * (`RegressionPredictions`) or `multiclass` (`MulticlassPredictions`).
   */
  problemType?: ProblemType;
  /**
   * Guardrail metrics, each computed on the same bootstrap resamples as the primary metric (also when the
   * primary method is DeLong). The candidate passes a guardrail when its worsening exceeds `maxWorsening`
   * in fewer than (1 − winRate) of the resamples; it is promoted only when the primary gate and every
   * guardrail pass.
   */
  guardrails?: Guardrail[];
  /**
   * Slices, one key per slice column (in the order given; each column judged separately): the paired
   * comparison of the primary metric on each slice with at least `minSliceRows` rows, resampled within the
   * slice; the candidate fails when in any judged slice of any column its worsening exceeds
   * `sliceTolerance` in at least `winRate` of that slice's resamples. The cap on judged slices applies per column.
   */
  slices?: SliceKey[];
  /** Smallest slice judged (default 1000 rows). */
  minSliceRows?: number;
  /** Largest allowed worsening of the primary metric in a slice (default 0). */
  sliceTolerance?: number;
  /** Column of the production model. Without it there is no production model and nothing to beat. */
  baseline?: string;
  /** Columns of the candidates; default every column except the baseline, in input order. */
  candidates?: string[];
  metric: M;
  method: Method;
  /** Number of bootstrap resamples B (ignored by `delong`). */
  resamples: number;
  /** Seed of every random draw; numbers and strings are both accepted and used through `String(seed)`. */
  seed: string | number;
  /**
   * Promote only if the candidate's improvement is strictly greater than `minDelta` in at least this share
   * of the resamples (DeLong: with at least this normal-approximation probability), in (0, 1].
   * Default of the task and the CLI: `DEFAULT_WIN_RATE`.
   */
  winRate: number;
  /**
   * The smallest improvement (oriented, positive = better, in metric units) that counts as a win; ties
   * and smaller gains do not. Default of the task and the CLI: `defaultMinDelta(metric)`.
   */
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
   * The gate's share of wins. Bootstrap: share of resamples in which the candidate's improvement is
   * strictly greater than `minDelta` (ties are not wins). DeLong: the normal-approximation analogue
   * Φ((Δ − minDelta) / sd); 0 when the comparison is undetermined.
   */
  winRate: number;
  /** Bootstrap: mean of the paired deltas. DeLong: the full-data delta. */
  meanDelta: number;
  /**
   * Percentile (bootstrap) or normal (DeLong, clipped to [−1, 1]) interval of the delta at the requested
   * confidence; [−1, 1] when DeLong is undetermined.
   */
  deltaCi: [number, number];
  /**
   * The interval the gate used: the one-sided lower bound of the improvement at the `winRate` level
   * (bootstrap: the ⌈winRate·B⌉-th largest paired delta; DeLong: Δ − z_winRate·sd, clipped to [−1, 1]).
   * The share of wins reaches `winRate` exactly when this bound exceeds `minDelta`. Set by the engine
   * whenever there is a baseline.
   */
  gateBound?: number;
  /** The same value as `winRate` since wins count only improvements above `minDelta` (kept for older readers). */
  shareAboveMinDelta: number;
  /** DeLong only: why the test cannot weigh the difference (undefined or zero variance); the decision is keep. */
  undetermined?: string;
  /** DeLong only: two-sided p-value of H0: AUC_candidate = AUC_baseline. */
  pValue?: number;
  /** DeLong only: Δ / sd (absent when the variance is 0). */
  z?: number;
  /** DeLong only: the variance of the AUC difference (exact up to rounding; absent when undefined). */
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

/** One guardrail's verdict for the best candidate against the baseline (bootstrap, shared resamples). */
export interface GuardrailResult {
  metric: AnyMetric;
  higherIsBetter: boolean;
  maxWorsening: number;
  /** The candidate judged (the best candidate of the primary metric). */
  candidate: string;
  /** The metric on the full data: baseline, candidate. */
  baselineEstimate: number;
  candidateEstimate: number;
  /** Mean and interval (at the decision's confidence) of the oriented paired delta (positive = better). */
  meanDelta: number;
  deltaCi: [number, number];
  /** Resamples in which the worsening (minus the oriented delta) exceeds `maxWorsening`, and their share. */
  exceeded: number;
  exceedShare: number;
  /** The share must stay below this: 1 − winRate. */
  allowedShare: number;
  passed: boolean;
}

/** One slice's verdict (primary metric, bootstrap within the slice). */
export interface SliceResult {
  name: string;
  rows: number;
  /** False for slices below `minSliceRows`, beyond the cap, or that cannot be bootstrapped (see `note`). */
  judged: boolean;
  /** Why a slice is not judged. */
  note?: string;
  baselineEstimate?: number;
  candidateEstimate?: number;
  /** Oriented paired delta (positive = candidate better): mean and interval at the decision's confidence. */
  meanDelta?: number;
  deltaCi?: [number, number];
  /** Share of the slice's resamples in which the worsening exceeds the tolerance. */
  worseShare?: number;
  degenerateResamples?: number;
  /** Judged slices: true unless `worseShare` reaches the win rate. */
  passed?: boolean;
}

/** The slice check of a decision. */
export interface SliceReport {
  column: string;
  candidate: string;
  minRows: number;
  tolerance: number;
  /** Most slices judged (the largest); `capped` says whether more slices were large enough. */
  maxJudged: number;
  capped: boolean;
  judged: number;
  passed: boolean;
  /** Judged slices first, worst mean delta first; then the others by size. */
  slices: SliceResult[];
}

/** The engine's answer: a plain object; the same inputs and seed always give byte-identical JSON. */
export interface Decision<M extends AnyMetric = Metric> {
  /** `promote` the best candidate, `keep` the current state, or `none` when there is no candidate. */
  decision: 'promote' | 'keep' | 'none';
  /** One sentence explaining the decision with the numbers that drove it. */
  reason: string;
  metric: M;
  /** Absent for binary classification (the default); `regression` or `multiclass` otherwise. */
  problemType?: ProblemType;
  /** Multiclass: K, and the rows of each class. */
  classes?: number;
  classCounts?: number[];
  /** Multiclass: the original class values by class index, when the predictions name them (absent otherwise). */
  classNames?: string[];
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
  /**
   * Degenerate resamples, redrawn and counted here (never silently replaced): a single class (binary), a
   * class without weight (multiclass), a single distinct label value (regression), or nothing drawn.
   */
  degenerateResamples: number;
  n: number;
  /** Binary classification: the positive rows. Regression and multiclass: 0 (see `classCounts`). */
  positives: number;
  /**
   * With a weight column: its name, the total weight and the positive rows' weight (`n` and `positives`
   * stay row counts; `positive` is 0 for regression and multiclass). Absent without weights.
   */
  weight?: { column: string; total: number; positive: number };
  /** The guardrails' verdicts, when guardrails were given and there is a baseline and a candidate. */
  guardrails?: GuardrailResult[];
  /** The slice check, one report per slice column in the order given, when slices were given and there is a baseline and a candidate. */
  slices?: SliceReport[];
  /** Per-resample metric for each model (bootstrap, unless `includeDistributions: false`). */
  distributions?: { [model: string]: number[] };
  /** Per-resample oriented delta (positive = better) of each candidate against the baseline. */
  deltaDistributions?: { [model: string]: number[] };
}
