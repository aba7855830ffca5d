/**
 * The comparison engine: exact metrics, a paired seeded bootstrap, DeLong's test, the promotion
 * decision and an Arrow reader. Pure (no I/O, clock or ambient randomness) except `parallel.ts`, which
 * starts worker threads. See README.md in this folder for the conventions and the design.
 *
 * @example
 * import { readPredictions, compareModels } from './engine';
 * const preds = readPredictions(bytes);
 * const decision = compareModels(preds, {
 *   baseline: 'prod', metric: 'roc_auc', method: 'bootstrap', resamples: 1000, seed: 42,
 *   winRate: 0.95, minDelta: 0.001, confidence: 0.95,
 * });
 */
export * from './types';
export { InvalidOptionsError, PredictionsError } from './errors';
export { readPredictions, readPredictionsFromTable, type ReadPredictionsOptions } from './arrow';
export { CLASSES_METADATA_KEY, readAnyPredictions, readAnyPredictionsFromTable, type ReadAnyOptions, type ReadAnyResult } from './arrow-layouts';
export { METRIC_LABEL, compareModels, winsNeeded } from './compare';
export {
  DEFAULT_MIN_SLICE_ROWS,
  MAX_JUDGED_SLICES,
  PROBABILITY_SUM_TOLERANCE,
  metricsOf,
  subsetPredictions,
  validateMulticlass,
  validateRegression,
} from './compare-more';
export {
  MAPE_EPS,
  MULTICLASS_METRICS,
  REGRESSION_METRICS,
  accuracy,
  argmaxRows,
  f1Macro,
  logLossMulticlass,
  mae,
  mape,
  multiclassMetricValue,
  pairwiseSum,
  r2,
  regressionMetricValue,
  rmse,
  rocAucOvr,
  rocAucOvrWeighted,
} from './metrics-more';
export { prepareResampling, runResampling, type PreparedResampling, type ResamplingRun } from './resample';
export { PARALLEL_MIN_WORK, compareModelsParallel, runBootstrapParallel, suggestedThreads, type ParallelCompareOptions } from './parallel';
export {
  LOG_LOSS_EPS,
  apSums,
  aucSums,
  averagePrecision,
  brierScore,
  isHigherBetter,
  logLoss,
  metricValue,
  rocAuc,
  rowLosses,
  type LabelInput,
  type ScoreInput,
} from './metrics';
export { prepareBootstrap, runBootstrap, type BootstrapRun, type PreparedBootstrap } from './bootstrap';
export {
  KEYED_POISSON_VERSION,
  KEY_LIMIT,
  LOSS_SCALE_BITS,
  MAX_KEYED_ATTEMPTS,
  MAX_KEYED_RESAMPLES,
  POISSON1_THRESHOLDS,
  RESAMPLE_INDEX_LIMIT,
  AP_SCALE_BITS,
  AP_WEIGHT_LIMIT,
  apFromFixedPoint,
  exactApSum,
  exactWeightedSum,
  fixedPointLosses,
  keyedBase,
  keyedHash,
  keyedLossSums,
  keyedResampleIndex,
  keyedSeed64,
  keyedSeed64Decimal,
  keyedSeedText,
  keyedWeight,
  keyedWeights,
  keyedWeightsFromBase,
  meanFromFixedPoint,
  poissonOfU53,
  rowKeysOf,
  runKeyedPoisson,
  type KeyedBase,
  type KeyedLossSums,
  type KeyedPoissonRun,
  type U64,
} from './keyed-poisson';
export {
  REGRESSION_FIXED_POINT_LIMIT,
  REGRESSION_MAX_SCALE_BITS,
  exactWeightedSum53,
  floorLog2,
  keyedRegressionLosses,
  keyedRegressionSums,
  maxLoss,
  meanFromScaledSum,
  pow2,
  regressionFixedPoint,
  regressionMetricFromMean,
  regressionScaleBits,
  runKeyedRegression,
  scaledFixedPoint,
  type KeyedRegressionMetric,
  type KeyedRegressionRun,
  type KeyedRegressionSums,
  type RegressionFixedPoint,
} from './keyed-regression';
export { delongComponents, delongDifferenceFromSums, delongResultFromSums, delongSumsOf, type DelongSums } from './delong-sums';
export { delongCovariance, delongDifference, normalShareAbove, type DelongDifference, type DelongResult } from './delong';
export { XOR4096_STATE_WORDS, Xor4096, resampleKey, resampleStates, writeXor4096State } from './rng';
export { LABEL_BIT, ROW_MASK, TIE_WITH_NEXT, sortOrder } from './sort';
export { erfc, mean, normalCdf, normalPdf, normalQuantile, normalSf, percentileInterval, quantileSorted } from './stats';
export { finishRegressionFromSums, sparkRegressionSumsOf, type RegressionSparkDraw, type RegressionSparkSums } from './spark-sums-regression';
export {
  aucFromRankSum,
  exactRankSum,
  finishFromSums,
  sparkMethodOf,
  sparkSumsOf,
  SparkSumsError,
  SPARK_SUMS_FORMAT,
  type SparkBootstrapMetric,
  type SparkDraw,
  type SparkSums,
} from './spark-sums';
