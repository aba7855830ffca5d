import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DARK_PALETTE, deltaAxisRange, deltaChart, histogram, LIGHT_PALETTE, metricDistributionChart, tickLabel } from '../../src/report/charts';
import { renderChartSvg } from '../../src/report/render-svg';
import { decisionReason, decisionSentence, formatDelta, formatInterval, formatMetric, formatPercent } from '../../src/report/format';
import { renderReportHtml } from '../../src/report/html';
import { readEvaluationRecord, RecordError } from '../../src/report/record';
import { MARKDOWN_SVG_MAX_CHARS, renderDistributionSvg } from '../../src/report/svg';
import { themeFromBackground } from '../../src/report/theme';
import { ROOT } from './browser';
import { BEST_KEY, FIXTURE_TASK_SENTENCE } from './expected';
import { buildFixture, FIXTURE_PATH, fixtureText, STORED_REASON, TODAY_REASON } from './generate-fixture';

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

  it('decisionSentence words keep and none in plain words; decisionReason gives the why once, with run names', () => {
    const keep = readEvaluationRecord({
      sentence: 'Kept production version 3: ...',
      models: [{ key: 'run_abc', runName: 'gbm-07' }],
      decision: {
        decision: 'keep',
        reason: "Keep 'production': the best candidate 'run_abc' improves on it by more than 0.001 only in 12.0% of 1000 paired resamples (required 95.0%)",
        metric: 'roc_auc',
        baseline: 'production',
        best: 'run_abc',
        models: [
          { name: 'production', estimate: 0.8, isBaseline: true },
          { name: 'run_abc', estimate: 0.81 },
        ],
      },
      context: { modelName: 'm', productionVersion: '3' },
    });
    assert.equal(decisionSentence(keep), 'Kept production (m version 3).');
    assert.equal(decisionReason(keep), 'The best candidate gbm-07 improves on it by more than 0.001 only in 12.0% of 1000 paired resamples (required 95.0%).');
    const none = readEvaluationRecord({ decision: 'none', reason: 'There is no candidate.', metric: 'roc_auc', models: [] });
    assert.equal(decisionSentence(none), 'No model was promoted.');
    assert.equal(decisionReason(none), '');
    const noCandidates = readEvaluationRecord({
      sentence: 'No candidates: nothing was changed',
      decision: { decision: 'none', reason: 'No candidates.', metric: 'roc_auc', models: [] },
    });
    assert.equal(decisionSentence(noCandidates), 'No candidates: nothing was changed.');
  });

  it('decisionSentence: promoted, dry run, challenger and a bare engine decision (mlops-eval), each said once', () => {
    const promoted = readEvaluationRecord(FIXTURE);
    assert.equal(
      decisionSentence(promoted),
      'Promoted logreg_all_features (MLflow run 9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8) to main.ml.churn_classifier version 8 (alias champion).',
    );
    const dry = clone();
    dry.dryRun = true;
    assert.equal(
      decisionSentence(readEvaluationRecord(dry)),
      'Dry run: would promote logreg_all_features (MLflow run 9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8) to main.ml.churn_classifier (alias champion). Nothing was changed.',
    );
    const challenger = clone();
    challenger.outcome = 'challenger';
    assert.equal(
      decisionSentence(readEvaluationRecord(challenger)),
      'logreg_all_features (MLflow run 9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8) is the challenger: main.ml.churn_classifier version 8. Production is unchanged until an approved promote step.',
    );
    assert.match(renderReportHtml(challenger), /<span class="eval-pill">Challenger<\/span>/);
    const bare = readEvaluationRecord(FIXTURE.decision);
    assert.equal(decisionSentence(bare), `Promote ${BEST_KEY} over production.`);
    // Said once: the headline does not repeat the reason, and the reason does not repeat "Promote '...':".
    for (const v of [promoted, bare]) {
      assert.doesNotMatch(decisionReason(v), /^Promote|run_[0-9a-f]{32}'/);
      assert.doesNotMatch(decisionSentence(v), /exceeds|resamples/);
    }
    assert.equal(
      decisionReason(promoted),
      'Its ROC AUC improvement over production exceeds 0.005 in 100.0% of 1000 paired resamples (required 95.0%; lower 95.0% bound +0.01986, mean +0.02593) and its ROC AUC 0.869 meets the floor 0.75.',
    );
  });
});

describe('the fixture record', () => {
  it('is exactly what the engine and the Evaluate record type produce today, with the reason it stored (regenerate: node out/test/ui/generate-fixture.js)', () => {
    assert.equal(readFileSync(FIXTURE_PATH, 'utf8'), fixtureText());
    // Today's engine writes the reason in the report's number format; the stored record keeps the text it was written with.
    assert.equal(buildFixture().decision.reason, TODAY_REASON);
    assert.equal(FIXTURE.decision.reason, STORED_REASON);
    assert.equal(FIXTURE.sentence, `Promoted run ${BEST_KEY.slice(4)} as main.ml.churn_classifier version 8 to alias champion. ${STORED_REASON}`);
  });
});

describe('readEvaluationRecord(record)', () => {
  it('reads the fixture: roles, runs, versions and distributions, with no warning', () => {
    const v = readEvaluationRecord(FIXTURE);
    assert.deepEqual(v.warnings, []);
    assert.equal(v.decision, 'promote');
    assert.deepEqual(
      v.models.map((m) => [
        m.name,
        m.label,
        m.isBaseline,
        m.isBest,
        m.version,
        m.runId?.slice(0, 8),
        m.runUrl !== undefined,
        m.distribution?.length,
        m.deltaDistribution?.length,
      ]),
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
    assert.equal(v.sentence, FIXTURE_TASK_SENTENCE);
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
      assert.throws(
        () => readEvaluationRecord(input),
        (e: unknown) => e instanceof RecordError && e.message === message,
        message,
      );
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
    assert.deepEqual(
      v.context.links.map((l) => l.label),
      ['Build', 'Production model version', 'Promoted model version', 'Best candidate run'],
    );
  });
});

describe('chart helpers', () => {
  it('histogram(values, lo, hi, bins) counts every value once, clamping the ends', () => {
    assert.deepEqual(histogram([0, 0.1, 0.5, 0.99, 1, 2, -1], 0, 1, 4), [3, 0, 1, 3]);
  });

  it('tickLabel(v, signed) writes axis ticks with a true minus, a plus on the difference axis, no float noise', () => {
    assert.equal(tickLabel(0.8200000000000001, false), '0.82');
    assert.equal(tickLabel(0.025, true), '+0.025');
    assert.equal(tickLabel(-0.01, true), '\u22120.01');
    assert.equal(tickLabel(1e-12, true), '0');
  });
});

/** Counts of `values` in equal bins over [lo, hi], written out plainly here (not the code under test). */
function binCounts(values: number[], lo: number, hi: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))]++;
  return counts;
}

describe("chart options (Apache ECharts): the numbers plotted are the record's", () => {
  const view = readEvaluationRecord(FIXTURE);
  const dists: Record<string, number[]> = FIXTURE.decision.distributions;
  const deltas: Record<string, number[]> = FIXTURE.decision.deltaDistributions;

  it('metric chart: one step curve per model, production first and dashed, each the histogram of its resamples in bins shared by all, on a count axis', () => {
    const spec = metricDistributionChart(view, LIGHT_PALETTE, { width: 720, height: 300, bins: 40 })!;
    const opt = spec.option as any;
    assert.equal(spec.kind, 'metric-distribution');
    assert.deepEqual(
      opt.series.map((x: any) => x.id),
      ['production', BEST_KEY, 'run_5c8a2e1f9d3b47c6a0e4f7b2d1c9a8e3', 'run_e7d4a9c2b5f14e8a9c3d6b0f2a7e5c41'],
    );
    assert.deepEqual(
      opt.series.map((x: any) => x.name),
      ['production', 'logreg_all_features (best)', 'logreg_plus_f5', 'logreg_no_f2'],
    );
    assert.deepEqual(opt.series[0].lineStyle.type, [5, 3]);
    assert.deepEqual(
      opt.series.map((x: any) => x.color),
      ['#605e5c', '#0078d4', '#8764b8', '#038387'],
    );
    // The shared range: every model's resamples, widened by 4% each side.
    const all = Object.values(dists).flat();
    const pad = (lo: number, hi: number): [number, number] => [lo - (hi - lo) * 0.04, hi + (hi - lo) * 0.04];
    const [lo, hi] = pad(Math.min(...all), Math.max(...all));
    assert.ok(Math.abs(opt.xAxis.min - lo) < 1e-12 && Math.abs(opt.xAxis.max - hi) < 1e-12);
    // Bins: the narrowest model's padded range spans at least 20 of them (half of 40), 40 to 80 bins in all.
    const narrowest = Math.min(
      ...Object.values(dists).map((v) => {
        const [a, b] = pad(Math.min(...v), Math.max(...v));
        return b - a;
      }),
    );
    const bins = Math.min(80, Math.max(40, Math.ceil((40 * (hi - lo)) / (2 * narrowest))));
    assert.ok(bins >= 40 && bins <= 80, `bins ${bins}`);
    for (const series of opt.series) {
      const values = dists[series.id];
      assert.equal(values.length, 1000);
      assert.equal(series.data.length, 2 * bins, series.id);
      assert.ok(Math.abs(series.data[0][0] - lo) < 1e-6 && Math.abs(series.data[series.data.length - 1][0] - hi) < 1e-6, series.id);
      // Step curve: two points per bin at the bin's edges, both at the bin's count of resamples.
      const counts = series.data.filter((_: unknown, i: number) => i % 2 === 0).map((p: [number, number]) => p[1]);
      assert.deepEqual(counts, binCounts(values, lo, hi, bins), series.id);
      assert.equal(
        counts.reduce((a: number, b: number) => a + b, 0),
        1000,
      );
      // The full-data estimate marked from the axis to near the top of the plot, ending in a dot.
      const model = FIXTURE.decision.models.find((m: any) => m.name === series.id);
      assert.deepEqual(
        series.markLine.data[0].map((p: any) => p.coord[0]),
        [model.estimate, model.estimate],
      );
      assert.equal(series.markLine.data[0][0].coord[1], 0);
      assert.equal(series.markLine.data[0][1].coord[1], opt.yAxis.max * 0.92);
      assert.deepEqual(series.markLine.symbol, ['none', 'circle']);
    }
    // The count axis: shown, from 0, named with the bin width.
    assert.equal(opt.yAxis.min, 0);
    assert.notEqual(opt.yAxis.show, false);
    assert.equal(opt.yAxis.name, `resamples per ${tickLabel(Number(((hi - lo) / bins).toPrecision(2)), false)}`);
    const peak = Math.max(...opt.series.flatMap((x: any) => x.data.map((p: [number, number]) => p[1])));
    assert.equal(opt.yAxis.max, peak * 1.08);
  });

  it("delta chart: the bars are the record's paired differences (1000 in all), coloured by zone, with zero, min Δ and mean marks", () => {
    const best = view.models.find((m) => m.name === 'run_e7d4a9c2b5f14e8a9c3d6b0f2a7e5c41')!;
    const spec = deltaChart(view, best, LIGHT_PALETTE, { width: 560, height: 230, bins: 40 })!;
    const opt = spec.option as any;
    assert.equal(spec.model, 'run_e7d4a9c2b5f14e8a9c3d6b0f2a7e5c41');
    const bars = opt.series.find((x: any) => x.type === 'bar');
    // 40 bins over the differences' own range widened by 4% each side; the axis also shows 0 and min Δ.
    const values = deltas[best.name];
    const lo = Math.min(...values) - (Math.max(...values) - Math.min(...values)) * 0.04;
    const hi = Math.max(...values) + (Math.max(...values) - Math.min(...values)) * 0.04;
    // The x axis is the one all panels share: every candidate's differences, 0 and min Δ, padded by 4%.
    const all = Object.values(deltas).flat();
    const [sLo, sHi] = [Math.min(...all, 0, 0.005), Math.max(...all, 0, 0.005)];
    const shared = [sLo - (sHi - sLo) * 0.04, sHi + (sHi - sLo) * 0.04];
    assert.deepEqual([opt.xAxis.min, opt.xAxis.max], shared);
    assert.deepEqual(deltaAxisRange(view), shared);
    for (const m of view.models.filter((x) => !x.isBaseline)) {
      const o = deltaChart(view, m, LIGHT_PALETTE, { width: 560, height: 230, bins: 40 })!.option as any;
      assert.deepEqual([o.xAxis.min, o.xAxis.max], shared, m.name);
    }
    // The count axis.
    assert.equal(opt.yAxis.name, 'resamples');
    assert.equal(opt.yAxis.min, 0);
    const w = (hi - lo) / 40;
    const expected = binCounts(values, lo, hi, 40);
    const shown = new Array<number>(40).fill(0);
    for (const b of bars.data) shown[Math.floor((b.value[0] - lo) / w)] = b.value[1];
    assert.deepEqual(shown, expected);
    assert.equal(
      bars.data.reduce((a: number, b: any) => a + b.value[1], 0),
      1000,
    );
    for (const b of bars.data) {
      const x = b.value[0];
      assert.equal(b.itemStyle.color, x < 0 ? LIGHT_PALETTE.loss : x > 0.005 ? LIGHT_PALETTE.win : LIGHT_PALETTE.neutral, `bar at ${x}`);
    }
    const marks = opt.series.find((x: any) => x.id === 'marks').markLine.data;
    assert.deepEqual(
      marks.map((pair: any) => pair[0].coord[0]),
      [0, best.vsBaseline!.meanDelta, 0.005],
    );
    assert.equal(marks[2][0].label.formatter, 'min \u0394 +0.0050');
    assert.deepEqual(
      opt.title.map((t: any) => t.text),
      ['logreg_no_f2', 'Win rate 1.5% (needs \u2265 95.0%)', `mean \u0394 \u22120.0075 \u00b7 lower 95.0% bound \u22120.0170`],
    );
  });

  it('no delta chart for a model without a comparison (production itself, or any model when there is no production)', () => {
    assert.equal(
      deltaChart(
        view,
        view.models.find((m) => m.isBaseline)!,
        DARK_PALETTE,
      ),
      undefined,
    );
    const r = clone();
    r.decision.models = r.decision.models.filter((m: any) => m.name !== 'production');
    r.decision.baseline = null;
    for (const m of r.decision.models) delete m.vsBaseline;
    const alone = readEvaluationRecord(r);
    assert.deepEqual(
      alone.models.map((m) => deltaChart(alone, m, LIGHT_PALETTE)),
      [undefined, undefined, undefined],
    );
    assert.equal(metricDistributionChart(alone, LIGHT_PALETTE)?.kind, 'metric-distribution');
  });

  it("renderChartSvg: ECharts' server-side SVG, marked and labelled, without hover styles or event metadata", () => {
    const spec = deltaChart(view, view.models[1], LIGHT_PALETTE)!;
    const svg = renderChartSvg(spec);
    assert.ok(
      svg.startsWith(
        `<svg role="img" aria-label="Paired difference of ROC AUC, logreg_all_features minus production: win rate 100.0%, mean +0.0259" data-chart="delta-distribution" data-model="${BEST_KEY}" `,
      ),
      svg.slice(0, 300),
    );
    for (const banned of [/<style/, /\sclass=/, /ecmeta_/, /pointer-events/, /<script/i, /\n/]) assert.doesNotMatch(svg, banned);
    assert.match(svg, />Win rate 100\.0% \(needs \u2265 95\.0%\)<\/text>/);
    assert.match(svg, />min \u0394 \+0\.0050<\/text>/);
    assert.match(svg, /stroke-dasharray="4,3"/);
  });
});

describe("renderDistributionSvg(record): the SVG for the task's markdown summary", () => {
  it('is small, script-free and self-contained, and shows the win rate of the best candidate', () => {
    const svg = renderDistributionSvg(FIXTURE);
    assert.ok(svg.length > 2000 && svg.length <= MARKDOWN_SVG_MAX_CHARS, `length ${svg.length}`);
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="448"'), svg.slice(0, 120));
    // Shown as an image (data: URI): no script, no event handler, nothing fetched; only in-document
    // url(#clip) references, which ECharts uses to clip the curves to the plot.
    for (const banned of [/<script/i, /<style/i, /\sclass=/i, /\son[a-z]+=/i, /href/i, /<foreignObject/i, /url\((?!#zr\d+-c\d+\))/i]) {
      assert.doesNotMatch(svg, banned);
    }
    assert.equal((svg.match(/data-chart="metric-distribution"/g) ?? []).length, 1);
    assert.equal((svg.match(/data-chart="delta-distribution"/g) ?? []).length, 1);
    assert.match(svg, />Win rate 100\.0% \(needs \u2265 95\.0%\)<\/text>/);
    assert.match(svg, />logreg_all_features<\/text>/);
    assert.match(svg, />logreg_all_features \(best\)<\/text>/);
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
    assert.match(svg, />Win rate 100\.0%/);
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
      decision: {
        decision: 'none',
        reason: 'No candidates.',
        metric: 'roc_auc',
        higherIsBetter: true,
        method: 'bootstrap',
        seed: 1,
        resamples: 1000,
        confidence: 0.95,
        winRateThreshold: 0.95,
        minDelta: 0,
        models: [],
        degenerateResamples: 0,
        n: 0,
        positives: 0,
      },
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
    // Each chart twice: the light and the dark rendering (the stylesheet shows one).
    assert.equal((html.match(/data-chart-box="delta-distribution"/g) ?? []).length, 3);
    assert.equal((html.match(/<svg [^>]*data-chart="delta-distribution"/g) ?? []).length, 6);
    assert.match(html, /normal approximation from the intervals/);
  });
});

describe('renderReportHtml(record): the colour key and the facts say only what applies', () => {
  const legend = (html: string): string[] =>
    [...html.matchAll(/<span data-zone="([a-z-]+)"><i class="eval-bg-[a-z]+"><\/i>([^<]*)<\/span>/g)].map((m) => `${m[1]}: ${m[2]}`);

  it('the fixture (min \u0394 0.005, differences in all three zones): three entries naming min \u0394', () => {
    assert.deepEqual(legend(renderReportHtml(FIXTURE)), [
      'worse: worse than production',
      'not-win: better by at most min \u0394 (+0.0050): not a win',
      'win: better by more than min \u0394 (+0.0050): a win',
    ]);
  });

  it('min \u0394 0 and no tie: no "min \u0394" entry and no dashed line; a tie-free win is "better than production"', () => {
    const r = clone();
    r.decision.minDelta = 0;
    for (const k of Object.keys(r.decision.deltaDistributions))
      r.decision.deltaDistributions[k] = r.decision.deltaDistributions[k].filter((v: number) => v !== 0);
    const html = renderReportHtml(r);
    assert.deepEqual(legend(html), ['worse: worse than production', 'win: better than production: a win']);
    assert.doesNotMatch(html, /min \u0394 \+0\.0000|stroke-dasharray="4,3"/);
    assert.match(html, /The win rate is the share strictly right of 0 \(no minimum improvement is required; a tie is not a win\)\./);
  });

  it('min \u0394 0 with exact ties: the grey entry says "no difference: a tie, not a win"', () => {
    const r = clone();
    r.decision.minDelta = 0;
    r.decision.deltaDistributions[BEST_KEY][0] = 0;
    assert.deepEqual(legend(renderReportHtml(r)), [
      'worse: worse than production',
      'not-win: no difference: a tie, not a win',
      'win: better than production: a win',
    ]);
  });

  it('only wins (one candidate far better): one entry', () => {
    const r = clone();
    r.decision.models = r.decision.models.filter((m: any) => m.name === 'production' || m.name === BEST_KEY);
    assert.deepEqual(legend(renderReportHtml(r)), ['win: better by more than min \u0394 (+0.0050): a win']);
  });

  it('redrawn one-class resamples: in plain words, and only when there were any', () => {
    assert.doesNotMatch(renderReportHtml(FIXTURE), /data-fact="degenerate"|One-class|redrawn/);
    const r = clone();
    r.decision.degenerateResamples = 3;
    assert.match(renderReportHtml(r), /<div data-fact="degenerate"><dt>Resamples drawn again<\/dt><dd>3 \(they held only one class\)<\/dd><\/div>/);
  });

  it("the headline links the promoted model's MLflow run when its URL is known, and shows its id without a link otherwise", () => {
    const html = renderReportHtml(FIXTURE);
    assert.ok(
      html.includes(
        '<p class="eval-sentence" data-testid="decision-sentence">Promoted logreg_all_features (MLflow run <a href="https://adb-1234567890123456.7.azuredatabricks.net/#mlflow/experiments/4213/runs/9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8" target="_blank" rel="noopener noreferrer" title="9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8" data-testid="headline-run">9b1e4d7c</a>) to main.ml.churn_classifier version 8 (alias champion).</p>',
      ),
    );
    const r = clone();
    const entry = r.models.find((m: any) => m.key === BEST_KEY);
    delete entry.runUrl;
    delete r.context.runs[BEST_KEY].url;
    assert.ok(
      renderReportHtml(r).includes(
        'Promoted logreg_all_features (MLflow run <span title="9b1e4d7c2a5f48e0b3c6d9f1a2e4b7c8" data-testid="headline-run">9b1e4d7c</span>) to main.ml.churn_classifier',
      ),
    );
    // Once: the task's own sentence (with the internal key) is not on the page.
    assert.ok(!html.includes("Promote 'run_") && !html.includes('Promoted run '));
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
