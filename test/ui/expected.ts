/**
 * What the report must show for test/fixtures/evaluation-record.json, written out by hand from the
 * record's numbers (not computed by the code under test). Regenerating the fixture means updating these.
 */
/** The sentence the task wrote into the record (its log and summary use it; the report words its own). */
export const FIXTURE_TASK_SENTENCE =
  "Promoted run 9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8 as main.ml.churn_classifier version 8 to alias champion. Promote 'run_9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8': its ROC AUC improvement over 'production' exceeds 0.005 in 100.0% of 1000 paired resamples (required 95.0%; lower 95.0% bound +0.01986, mean +0.02593) and its ROC AUC 0.869 meets the floor 0.75.";

/** The report's headline: the run name, the MLflow run id (a link to the run), said once. */
export const FIXTURE_HEADLINE = 'Promoted logreg_all_features (MLflow run 9b1e4d7c) to main.ml.churn_classifier version 8 (alias champion).';

/** The reason under the headline: the engine's, with the run names instead of the column keys and without its "Promote '...':" prefix. */
export const FIXTURE_REASON =
  'Its ROC AUC improvement over production exceeds 0.005 in 100.0% of 1000 paired resamples (required 95.0%; lower 95.0% bound +0.01986, mean +0.02593) and its ROC AUC 0.869 meets the floor 0.75.';

export interface ExpectedRow {
  key: string;
  name: string;
  role: string;
  version: string;
  run: string;
  estimate: string;
  ci: string;
  winRate: string;
  meanDelta: string;
  deltaCi: string;
  /** The gate's interval: the one-sided lower 95% bound of Δ, and on which side of min Δ (0.005) it falls. */
  gateBound: string;
}

const NONE = '\u2014';
const MINUS = '\u2212';

export const BEST_KEY = 'run_9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8';

export const FIXTURE_ROWS: ExpectedRow[] = [
  {
    key: 'production',
    name: 'production',
    role: 'production',
    version: '7',
    run: '3f2c9a1b',
    estimate: '0.8428',
    ci: '[0.8300, 0.8557]',
    winRate: NONE,
    meanDelta: NONE,
    deltaCi: NONE,
    gateBound: NONE,
  },
  {
    key: BEST_KEY,
    name: 'logreg_all_features',
    role: 'promoted',
    version: '8',
    run: '9b1e4d7c',
    estimate: '0.8690',
    ci: '[0.8567, 0.8806]',
    winRate: '100.0%',
    meanDelta: '+0.0259',
    deltaCi: '[+0.0190, +0.0332]',
    gateBound: '+0.0199 > min \u0394',
  },
  {
    key: 'run_5c8a2e1f9d3b47c6a0e4f7b2d1c9a8e3',
    name: 'logreg_plus_f5',
    role: 'candidate',
    version: NONE,
    run: '5c8a2e1f',
    estimate: '0.8454',
    ci: '[0.8324, 0.8582]',
    winRate: '0.1%',
    meanDelta: '+0.0026',
    deltaCi: '[+0.0010, +0.0043]',
    gateBound: '+0.0013 \u2264 min \u0394',
  },
  {
    key: 'run_e7d4a9c2b5f14e8a9c3d6b0f2a7e5c41',
    name: 'logreg_no_f2',
    role: 'candidate',
    version: NONE,
    run: 'e7d4a9c2',
    estimate: '0.8355',
    ci: '[0.8222, 0.8499]',
    winRate: '1.5%',
    meanDelta: `${MINUS}0.0075`,
    deltaCi: `[${MINUS}0.0186, +0.0038]`,
    gateBound: `${MINUS}0.0170 \u2264 min \u0394`,
  },
];

/** Fewest bars each paired-difference panel must draw (candidates in record order): broad distributions many, the narrow one at least 8. */
export const FIXTURE_MIN_BARS = [16, 8, 16];

/** Win-rate annotations of the paired-difference charts, candidates in record order. */
export const FIXTURE_WIN_LABELS = ['Win rate 100.0% (needs \u2265 95.0%)', 'Win rate 0.1% (needs \u2265 95.0%)', 'Win rate 1.5% (needs \u2265 95.0%)'];

export const FIXTURE_BEST_RUN_URL = 'https://adb-1234567890123456.7.azuredatabricks.net/#mlflow/experiments/4213/runs/9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8';
export const FIXTURE_PRODUCTION_VERSION_URL = 'https://adb-1234567890123456.7.azuredatabricks.net/explore/data/models/main/ml/churn_classifier/version/7';

/** Mean-difference annotations of the paired-difference charts, with the gate's one-sided lower 95% bound. */
export const FIXTURE_MEAN_LABELS = [
  'mean \u0394 +0.0259 \u00b7 lower 95.0% bound +0.0199',
  'mean \u0394 +0.0026 \u00b7 lower 95.0% bound +0.0013',
  `mean \u0394 ${MINUS}0.0075 \u00b7 lower 95.0% bound ${MINUS}0.0170`,
];

/** The colour key under the paired-difference charts (min Δ 0.005; the fixture's differences fall in all three zones). */
export const FIXTURE_DELTA_LEGEND = [
  'worse than production',
  'better by at most min \u0394 (+0.0050): not a win',
  'better by more than min \u0394 (+0.0050): a win',
];

/** Legend of the metric chart: production first, the best candidate marked. */
export const FIXTURE_LEGEND = ['production', 'logreg_all_features (best)', 'logreg_plus_f5', 'logreg_no_f2'];
