/**
 * What the report must show for test/fixtures/evaluation-record.json, written out by hand from the
 * record's numbers (not computed by the code under test). Regenerating the fixture means updating these.
 */
export const FIXTURE_SENTENCE =
  'Promoted candidate gbm_depth6 to main.ml.churn_classifier version 8. gbm_depth6 is at least as good as production in 99.0% of 1000 paired resamples (needs 95.0%) and improves ROC AUC by 0.0149 on average (needs 0.0050).';

export interface ExpectedRow {
  name: string;
  role: string;
  version: string;
  run: string;
  estimate: string;
  ci: string;
  winRate: string;
  meanDelta: string;
  deltaCi: string;
}

const NONE = '\u2014';

export const FIXTURE_ROWS: ExpectedRow[] = [
  { name: 'production', role: 'production', version: '7', run: '3f2c9a1b', estimate: '0.8412', ci: '[0.8265, 0.8567]', winRate: NONE, meanDelta: NONE, deltaCi: NONE },
  { name: 'gbm_depth6', role: 'promoted', version: '8', run: '9b1e4d7c', estimate: '0.8563', ci: '[0.8412, 0.8721]', winRate: '99.0%', meanDelta: '+0.0149', deltaCi: '[+0.0021, +0.0269]' },
  { name: 'logreg_l2', role: 'candidate', version: NONE, run: '5c8a2e1f', estimate: '0.8398', ci: '[0.8258, 0.8534]', winRate: '37.4%', meanDelta: '\u22120.0017', deltaCi: '[\u22120.0116, +0.0085]' },
  { name: 'mlp_2x64', role: 'candidate', version: NONE, run: 'e7d4a9c2', estimate: '0.8471', ci: '[0.8300, 0.8644]', winRate: '78.2%', meanDelta: '+0.0054', deltaCi: '[\u22120.0079, +0.0188]' },
];

/** Win-rate annotations of the paired-difference charts, candidates in record order. */
export const FIXTURE_WIN_LABELS = [
  'Win rate 99.0% (needs \u2265 95.0%)',
  'Win rate 37.4% (needs \u2265 95.0%)',
  'Win rate 78.2% (needs \u2265 95.0%)',
];

export const FIXTURE_RUN_URL_GBM = 'https://adb-1234567890123456.7.azuredatabricks.net/#mlflow/experiments/4213/runs/9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8';
