import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { averagePrecision, brierScore, logLoss, rocAuc } from '../../src/engine';

interface GoldenCase {
  name: string;
  labels: number[];
  scores: number[];
  weights?: number[];
  roc_auc?: number;
  average_precision?: number;
  log_loss?: number;
  brier?: number;
}

const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/engine/metrics-golden.json');
const golden: { generator: string; cases: GoldenCase[] } = JSON.parse(readFileSync(FIXTURE, 'utf8'));
const TOL = 1e-12;

const FNS = {
  roc_auc: rocAuc,
  average_precision: averagePrecision,
  log_loss: logLoss,
  brier: brierScore,
} as const;

describe('metrics against scikit-learn golden values (test/fixtures/engine/metrics-golden.json)', () => {
  it('the fixture holds the expected cases, including weighted ones', () => {
    assert.match(golden.generator, /scikit-learn 1\.2\.1/);
    assert.ok(golden.cases.length >= 38, `only ${golden.cases.length} cases`);
    assert.ok(golden.cases.filter((c) => c.weights).length >= 9);
  });

  for (const c of golden.cases) {
    for (const metric of Object.keys(FNS) as (keyof typeof FNS)[]) {
      const expected = c[metric];
      if (expected === undefined) continue;
      it(`${metric}(labels, scores${c.weights ? ', weights' : ''}) of case ${c.name} is ${expected} within ${TOL}`, () => {
        const got = FNS[metric](c.labels, c.scores, c.weights);
        assert.ok(Math.abs(got - expected) <= TOL, `${metric} ${c.name}: got ${got}, expected ${expected}, diff ${got - expected}`);
      });
    }
  }
});
