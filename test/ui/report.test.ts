import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { histogram, niceTicks } from '../../src/report/charts';
import { decisionSentence, formatDelta, formatInterval, formatMetric, formatPercent } from '../../src/report/format';
import { renderReportHtml } from '../../src/report/html';
import { readEvaluationRecord, RecordError } from '../../src/report/record';
import { MARKDOWN_SVG_MAX_CHARS, renderDistributionSvg } from '../../src/report/svg';
import { themeFromBackground } from '../../src/report/theme';
import { ROOT } from './browser';
import { BEST_KEY, FIXTURE_SENTENCE } from './expected';
import { FIXTURE_PATH, fixtureText } from './generate-fixture';

const FIXTURE = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/evaluation-record.json'), 'utf8'));
const clone = (): any => JSON.parse(JSON.stringify(FIXTURE));

/** A DeLong record: no resamples, intervals and variances only. */
function delongRecord(): any {
  const r = clone();
  const d = r.decision;
  d.method = 'delong';
  d.resamples = 0;
  delete d.distributions;
  delete d.deltaDistributions;
  for (const m of d.models) {
    delete m.mean;
    if (m.vsBaseline) Object.assign(m.vsBaseline, { pValue: 0.0004, z: 3.5, variance: 0.0000181 });
  }
  return r;
}

describe('report formatting', () => {
  it('formatMetric / formatDelta / formatPercent / formatInterval give the exact strings shown', () => {
    assert.equal(formatMetric(0.85634), '0.8563');
    assert.equal(formatMetric(-0.00004), '0.0000');
    assert.equal(formatDelta(0.014899), '+0.0149');
    assert.equal(formatDelta(-0.001671), '\u22120.0017');
    assert.equal(formatDelta(0.00004), '0.0000');
    assert.equal(formatPercent(0.99), '99.0%');
    assert.equal(formatPercent(0.9735), '97.4%');
    assert.equal(formatInterval([-0.011577, 0.008503], formatDelta), '[\u22120.0116, +0.0085]');
  });

  it('decisionSentence words keep and none, with the reason as a full sentence', () => {
    const keep = readEvaluationRecord({
      decision: { decision: 'keep', reason: 'No candidate reaches a 95.0% win rate', metric: 'roc_auc', baseline: 'production', models: [{ name: 'production', estimate: 0.8, isBaseline: true }] },
      context: { modelName: 'm', productionVersion: '3' },
    });
    assert.equal(decisionSentence(keep), 'Kept production model production (m version 3). No candidate reaches a 95.0% win rate.');
    const none = readEvaluationRecord({ decision: 'none', reason: 'There is no candidate.', metric: 'roc_auc', models: [] });
    assert.equal(decisionSentence(none), 'No model was promoted. There is no candidate.');
  });
});

describe('the fixture record', () => {
  it('is exactly what the engine and the Evaluate record type produce today (regenerate: node out/test/ui/generate-fixture.js)', () => {
    assert.equal(readFileSync(FIXTURE_PATH, 'utf8'), fixtureText());
  });
});

describe('readEvaluationRecord(record)', () => {
  it('reads the fixture: roles, runs, versions and distributions, with no warning', () => {
    const v = readEvaluationRecord(FIXTURE);
    assert.deepEqual(v.warnings, []);
    assert.equal(v.decision, 'promote');
    assert.deepEqual(
      v.models.map((m) => [m.name, m.label, m.isBaseline, m.isBest, m.version, m.runId?.slice(0, 8), m.runUrl !== undefined, m.distribution?.length, m.deltaDistribution?.length]),
      [
        ['production', 'production', true, false, '7', '3f2c9a1b', false, 1000, undefined],
        [BEST_KEY, 'logreg_all_features', false, true, '8', '9b1e4d7c', true, 1000, 1000],
        ['run_5c8a2e1f9d3b47c6a0e4f7b2d1c9a8e3', 'logreg_plus_f5', false, false, undefined, '5c8a2e1f', true, 1000, 1000],
        ['run_e7d4a9c2b5f14e8a9c3d6b0f2a7e5c41', 'logreg_no_f2', false, false, undefined, 'e7d4a9c2', true, 1000, 1000],
      ],
    );
    assert.equal(v.models[1].versionUrl, 'https://adb-1234567890123456.7.azuredatabricks.net/explore/data/models/main/ml/churn_classifier/version/8');
    assert.deepEqual(
      v.context.links.map((l) => l.label),
      ['Build', 'Production model version', 'Promoted model version', 'Best candidate run'],
    );
    assert.equal(v.sentence, FIXTURE_SENTENCE);
    assert.equal(v.dryRun, false);
    assert.deepEqual(v.skipped, [{ runId: '0a1b2c3d4e5f40718293a4b5c6d7e8f9', reason: "no logged model at artifact path 'model'" }]);
  });

  it('accepts a bare engine Decision (what the CLI prints), without context', () => {
    const v = readEvaluationRecord(FIXTURE.decision);
    assert.equal(v.models.length, 4);
    assert.deepEqual(v.context, { links: [] });
  });

  it('fails with a RecordError naming what is missing', () => {
    const cases: Array<[unknown, string]> = [
      [null, 'The evaluation record is not a JSON object.'],
      [[], 'The evaluation record is not a JSON object.'],
      [{ decision: { decision: 'ship', models: [] } }, 'The evaluation record has no valid decision (expected promote, keep or none, got "ship").'],
      [{ decision: { decision: 'keep' } }, 'The evaluation record has no models list.'],
      [{ decision: { decision: 'keep', models: [{ name: 'a' }] } }, 'The evaluation record lists no readable model.'],
    ];
    for (const [input, message] of cases) {
      assert.throws(() => readEvaluationRecord(input), (e: unknown) => e instanceof RecordError && e.message === message, message);
    }
  });

  it('drops malformed optional fields with a warning instead of drawing them', () => {
    const r = clone();
    r.decision.models[1].ci = [0.9, 0.1];
    r.decision.models[2].vsBaseline = { meanDelta: 0.1 };
    r.decision.models.push({ name: 'broken', estimate: 'high' });
    r.context.links.experiment = 'javascript:alert(1)';
    assert.equal(r.models[2].key, 'run_e7d4a9c2b5f14e8a9c3d6b0f2a7e5c41');
    r.models[2].runUrl = 'file:///etc/passwd';
    r.context.runs[r.models[2].key].url = 'file:///etc/passwd';
    const v = readEvaluationRecord(r);
    assert.deepEqual(v.warnings, [
      "link 'experiment' is not an http(s) URL and is not shown",
      `model '${BEST_KEY}': ci is not a [low, high] pair`,
      "model 'run_5c8a2e1f9d3b47c6a0e4f7b2d1c9a8e3': comparison with production has no win rate or mean delta",
      'model #5 has no name or no finite estimate and is not shown',
    ]);
    assert.equal(v.models[1].ci, undefined);
    assert.equal(v.models[2].vsBaseline, undefined);
    assert.equal(v.models[3].runUrl, undefined);
    assert.deepEqual(v.context.links.map((l) => l.label), ['Build', 'Production model version', 'Promoted model version', 'Best candidate run']);
  });
});

describe('chart helpers', () => {
  it('histogram(values, lo, hi, bins) counts every value once, clamping the ends', () => {
    assert.deepEqual(histogram([0, 0.1, 0.5, 0.99, 1, 2, -1], 0, 1, 4), [3, 0, 1, 3]);
  });

  it('niceTicks(lo, hi) uses 1/2/2.5/5 steps inside the range', () => {
    assert.deepEqual(niceTicks(0.8165, 0.8788, 4), { ticks: [0.82, 0.84, 0.86], step: 0.02 });
    const t = niceTicks(-0.013, 0.031, 5);
    assert.equal(t.step, 0.01);
    assert.deepEqual(t.ticks, [-0.01, 0, 0.01, 0.02, 0.03]);
  });
});

describe('renderDistributionSvg(record): markdown-safe SVG for the task summary', () => {
  it('is small, script-free, style-free and class-free, and shows the win rate of the best candidate', () => {
    const svg = renderDistributionSvg(FIXTURE);
    assert.ok(svg.length > 2000 && svg.length <= MARKDOWN_SVG_MAX_CHARS, `length ${svg.length}`);
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="448"'), svg.slice(0, 120));
    for (const banned of [/<script/i, /<style/i, /\sstyle=/i, /\sclass=/i, /\son[a-z]+=/i, /href/i, /<foreignObject/i, /url\(/i]) {
      assert.doesNotMatch(svg, banned);
    }
    assert.equal((svg.match(/data-chart="metric-distribution"/g) ?? []).length, 1);
    assert.equal((svg.match(/data-chart="delta-distribution"/g) ?? []).length, 1);
    assert.match(svg, /data-label="win-rate"[^>]*>Win rate 100\.0% \(needs \u2265 95\.0%\)<\/text>/);
    assert.match(svg, />logreg_all_features<\/text>/);
    assert.match(svg, /fill="#107c10"/, 'fixed light colours as attributes');
    assert.match(renderDistributionSvg(FIXTURE, { theme: 'dark' }), /fill="#54b054"/);
  });

  it('stays under the budget with many models by using fewer bins', () => {
    const r = clone();
    const base = r.decision.models[1];
    for (let i = 0; i < 12; i++) {
      const name = `extra_${i}`;
      r.decision.models.push({ ...base, name });
      r.decision.distributions[name] = r.decision.distributions[BEST_KEY];
      r.decision.deltaDistributions[name] = r.decision.deltaDistributions[BEST_KEY];
    }
    const svg = renderDistributionSvg(r);
    assert.ok(svg.length > 0 && svg.length <= MARKDOWN_SVG_MAX_CHARS, `length ${svg.length}`);
  });

  it('draws DeLong records (no resamples) from the intervals and the variance', () => {
    const svg = renderDistributionSvg(delongRecord());
    assert.match(svg, /normal approximation from the intervals/);
    assert.match(svg, /data-label="win-rate"[^>]*>Win rate 100\.0%/);
  });

  it('returns "" when there is nothing to draw', () => {
    const r = delongRecord();
    for (const m of r.decision.models) delete m.ci;
    assert.equal(renderDistributionSvg(r), '');
  });
});

describe('renderReportHtml(record) for the other outcomes', () => {
  it('none (no candidates): the task sentence, an empty table and no chart, with the reason why', () => {
    const html = renderReportHtml({
      schema: 'mlopspipelines.evaluation/v1',
      outcome: 'noCandidates',
      sentence: 'No candidates: no finished run tagged candidate=true with a logged model; nothing was changed.',
      dryRun: false,
      models: [],
      skippedCandidates: [],
      decision: { decision: 'none', reason: 'No candidates.', metric: 'roc_auc', higherIsBetter: true, method: 'bootstrap', seed: 1, resamples: 1000, confidence: 0.95, winRateThreshold: 0.95, minDelta: 0, models: [], degenerateResamples: 0, n: 0, positives: 0 },
      context: { modelName: 'm', links: {} },
    });
    assert.match(html, /data-decision="none"/);
    assert.match(html, /<span class="eval-pill">No change<\/span>/);
    assert.match(html, /No candidates: no finished run tagged candidate=true with a logged model; nothing was changed\./);
    assert.match(html, /This record holds no per-resample distribution or interval to draw\./);
    assert.match(html, /There is no production model, so there is no paired difference to show\./);
    assert.doesNotMatch(html, /<svg/);
  });

  it('a dry-run promotion says "Would promote"; DeLong shows p-values and normal-approximation charts', () => {
    const r = delongRecord();
    r.dryRun = true;
    const html = renderReportHtml(r);
    assert.match(html, /<span class="eval-pill">Would promote<\/span>/);
    assert.match(html, /<div data-fact="method"><dt>Method<\/dt><dd>DeLong test<\/dd><\/div>/);
    assert.equal((html.match(/data-col="p-value">&lt; 0\.001</g) ?? []).length, 3);
    assert.equal((html.match(/data-chart="delta-distribution"/g) ?? []).length, 3);
    assert.match(html, /normal approximation from the intervals/);
  });
});

describe('themeFromBackground(colour)', () => {
  it('reads the host background as light or dark', () => {
    assert.equal(themeFromBackground('rgba(248, 248, 248, 1)'), 'light');
    assert.equal(themeFromBackground('rgba(32, 31, 30, 1)'), 'dark');
    assert.equal(themeFromBackground('#1b1a19'), 'dark');
    assert.equal(themeFromBackground('#fff'), 'light');
    assert.equal(themeFromBackground('canvas'), undefined);
    assert.equal(themeFromBackground(undefined), undefined);
  });
});
