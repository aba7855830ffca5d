/**
 * Regression and multiclass metrics against scikit-learn 1.2.1 (test/fixtures/engine/metrics-golden-more.json):
 * every value within 1e-12, weighted cases included.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { accuracy, f1Macro, logLossMulticlass, mae, mape, r2, rmse, rocAucOvr, rocAucOvrWeighted } from '../../src/engine';

interface RegressionCase {
  name: string;
  y: number[];
  pred: number[];
  weights?: number[];
  rmse: number;
  mae: number;
  r2: number;
  mape: number;
}

interface MulticlassCase {
  name: string;
  classes: number;
  labels: number[];
  proba: number[][];
  weights?: number[];
  log_loss: number;
  roc_auc_ovr: number;
  roc_auc_ovr_weighted: number;
  accuracy: number;
  f1_macro: number;
}

const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/engine/metrics-golden-more.json');
const golden: { generator: string; regression: RegressionCase[]; multiclass: MulticlassCase[] } = JSON.parse(readFileSync(FIXTURE, 'utf8'));
const TOL = 1e-12;

const REGRESSION = { rmse, mae, r2, mape } as const;
const MULTICLASS = {
  log_loss: logLossMulticlass,
  roc_auc_ovr: rocAucOvr,
  roc_auc_ovr_weighted: rocAucOvrWeighted,
  accuracy,
  f1_macro: f1Macro,
} as const;

describe('regression and multiclass metrics against scikit-learn golden values (test/fixtures/engine/metrics-golden-more.json)', () => {
  it('the fixture holds the expected cases, including weighted ones', () => {
    assert.match(golden.generator, /scikit-learn 1\.2\.1/);
    assert.equal(golden.regression.length, 18);
    assert.equal(golden.multiclass.length, 18);
    assert.equal(golden.regression.filter((c) => c.weights).length, 6);
    assert.equal(golden.multiclass.filter((c) => c.weights).length, 4);
    assert.deepEqual([...new Set(golden.multiclass.map((c) => c.classes))].sort(), [3, 4, 5]);
  });

  for (const c of golden.regression) {
    for (const metric of Object.keys(REGRESSION) as (keyof typeof REGRESSION)[]) {
      const expected = c[metric];
      it(`${metric}(y, pred${c.weights ? ', weights' : ''}) of case ${c.name} is ${expected} within ${TOL}`, () => {
        const got = REGRESSION[metric](c.y, c.pred, c.weights);
        assert.ok(Math.abs(got - expected) <= TOL, `${metric} ${c.name}: got ${got}, expected ${expected}, diff ${got - expected}`);
      });
    }
  }

  for (const c of golden.multiclass) {
    const flat = Float64Array.from(c.proba.flat());
    for (const metric of Object.keys(MULTICLASS) as (keyof typeof MULTICLASS)[]) {
      const expected = c[metric];
      it(`${metric}(labels, proba${c.weights ? ', weights' : ''}) of case ${c.name} (K = ${c.classes}) is ${expected} within ${TOL}`, () => {
        const got = MULTICLASS[metric](c.labels, flat, c.classes, c.weights);
        assert.ok(Math.abs(got - expected) <= TOL, `${metric} ${c.name}: got ${got}, expected ${expected}, diff ${got - expected}`);
      });
    }
  }
});
