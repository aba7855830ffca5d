/**
 * Decision records of schema v2 (problem type, classes, guardrails, several slice columns) in the static
 * report, the tab's HTML and the task's markdown summary; and the v1 fixture, rendered byte for byte as before.
 * The v2 records are the real engine's answers (test/ui/v2-records.ts); the expected strings below were
 * checked by hand against the record's numbers (orientation, rounding, order).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deltaChart, LIGHT_PALETTE, metricDistributionChart } from '../../src/report/charts';
import { decimalsFor, metricFormat, viewFormat } from '../../src/report/format';
import { renderReportBody, renderReportHtml } from '../../src/report/html';
import { DECISION_RECORD_SCHEMA, isDecisionRecordSchema, readEvaluationRecord } from '../../src/report/record';
import { RECORD_SCHEMA, renderSummary } from '../../src/tasks/evaluate/report';
import { ROOT } from './browser';
import { checkTables } from './html-tables';
import { multiclassRecord, regressionRecord } from './v2-records';

const MINUS = '\u2212';
const V1_FIXTURE = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/evaluation-record.json'), 'utf8'));

function sha256(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/**
 * The output with ECharts' instance numbers counted from 0 in order of appearance: the server-side SVGs
 * name their clip paths `zr<instance>-c<n>`, and the instance counter is global to the process, so it
 * depends on how many charts were drawn before (by other tests), not on the record. The summary's SVG is
 * base64 in a data URI: decoded first. Everything else is compared byte for byte.
 */
function normalised(out: string): string {
  const decoded = out.replace(
    /data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/g,
    (_, b64: string) => `data:image/svg+xml;utf8,${Buffer.from(b64, 'base64').toString('utf8')}`,
  );
  const seen = new Map<string, number>();
  return decoded.replace(/\bzr(\d+)-/g, (_, n: string) => {
    if (!seen.has(n)) seen.set(n, seen.size);
    return `zr${seen.get(n)}-`;
  });
}

describe('decision record v1: read and drawn exactly as before v2', () => {
  // SHA-256 and length (UTF-16 code units) of each output (normalised, see above), taken from the renderer before schema v2
  // existed. On a mismatch the output is written to test-results/ui/ for a diff against the previous commit's.
  const BEFORE_V2: Array<[string, () => string, string, number]> = [
    ['report.html', () => renderReportHtml(V1_FIXTURE), '2ac5d19e14e51d9977febdaefc4a44e22984cc816d9f2e15ba5b04144e5ddf07', 92981],
    [
      'tab-body.html',
      () => renderReportBody(readEvaluationRecord(V1_FIXTURE), { charts: 'live' }),
      '699a4c0e9ddb1d2d7f5bea591904cc8eaed3fabcd622779828abfe1778156701',
      9587,
    ],
    ['bare-decision.html', () => renderReportHtml(V1_FIXTURE.decision), 'a7997ea9d9e1df7275504188a3f3ada76367eac556d1028eec94b5e95c9e0f27', 91160],
    ['summary.md', () => renderSummary(V1_FIXTURE), '9b0d6312543670f50af9133376dd6f03769f4078847662a7e752ccf5f58f72c0', 20807],
  ];
  for (const [name, render, hash, length] of BEFORE_V2) {
    it(`${name} of the v1 fixture is byte-identical to the output before v2`, () => {
      const out = normalised(render());
      if (sha256(out) !== hash) {
        mkdirSync(path.join(ROOT, 'test-results/ui'), { recursive: true });
        writeFileSync(path.join(ROOT, 'test-results/ui', `v1-${name}`), out);
      }
      assert.equal(out.length, length, name);
      assert.equal(sha256(out), hash, name);
    });
  }

  it('the v1 fixture says v1; the task writes v2; both are readable, nothing else is', () => {
    assert.equal(V1_FIXTURE.schema, 'mlopspipelines.evaluation/v1');
    assert.equal(RECORD_SCHEMA, 'mlopspipelines.evaluation/v2');
    assert.equal(DECISION_RECORD_SCHEMA, RECORD_SCHEMA);
    assert.equal(isDecisionRecordSchema('mlopspipelines.evaluation/v1'), true);
    assert.equal(isDecisionRecordSchema('mlopspipelines.evaluation/v2'), true);
    for (const other of ['mlopspipelines.evaluation/v3', 'mlopspipelines.promotion/v1', 2, null, undefined]) assert.equal(isDecisionRecordSchema(other), false);
    const v = readEvaluationRecord(V1_FIXTURE);
    assert.deepEqual([v.problemType, v.classNames, v.guardrails, v.sliceReports, v.warnings], [undefined, undefined, [], [], []]);
  });
});

describe('formatting by metric: 4 decimals in [0, 1], RMSE/MAE/MAPE by magnitude', () => {
  it('decimalsFor(scale): 4 below 1, then about 4 significant digits', () => {
    assert.deepEqual([0, 0.5, 0.999, 1, 9.9, 10, 99, 100, 999, 1000, 123456, NaN].map(decimalsFor), [4, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0, 4]);
  });

  it('metricFormat: scores keep 4 decimals; RMSE in dollars is grouped with no decimals, its differences by their own size', () => {
    const auc = metricFormat('roc_auc', [0.8], [0.01]);
    assert.deepEqual([auc.value(0.85634), auc.delta(-0.001671), auc.amount(0.005)], ['0.8563', `${MINUS}0.0017`, '0.0050']);
    const rmse = metricFormat('rmse', [14102.4, 12856.2], [1220.3, -878.9, 0]);
    assert.deepEqual(
      [rmse.value(14102.4), rmse.delta(1220.3), rmse.delta(-878.9), rmse.delta(0.2), rmse.amount(500)],
      ['14,102', '+1,220', `${MINUS}879`, '0', '500'],
    );
    const small = metricFormat('mae', [3.217, 2.9], [0.05]);
    assert.deepEqual([small.value(3.2171), small.delta(0.05123)], ['3.217', '+0.0512']);
    const mape = metricFormat('mape', [0.1234], [0.0123]);
    assert.deepEqual([mape.value(0.12345), mape.delta(-0.01234)], ['0.1235', `${MINUS}0.0123`]);
    // A zero label makes MAPE huge (|p| / 2^-52): still a readable number.
    assert.equal(metricFormat('mape', [4.5e15], [0]).value(4.5e15), '4,500,000,000,000,000');
    assert.deepEqual([metricFormat('log_loss', [1.7], [0.2]).value(1.7), metricFormat('r2', [-3.5], [0.1]).value(-3.5)], ['1.7000', `${MINUS}3.5000`]);
  });

  it('orientation: the engine says it; a record without it gets the metric table (RMSE, MAE, MAPE and losses lower, R² and scores higher)', () => {
    const bare = (metric: string) => readEvaluationRecord({ decision: 'keep', metric, models: [{ name: 'a', estimate: 1 }] }).higherIsBetter;
    assert.deepEqual(['rmse', 'mae', 'mape', 'log_loss', 'brier', 'r2', 'accuracy', 'f1_macro', 'roc_auc_ovr', 'roc_auc_ovr_weighted', 'roc_auc'].map(bare), [
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
  });
});

describe('a regression record (real engine: RMSE, guardrails on MAE and R², slice columns region and channel)', function () {
  this.timeout(30_000);
  const record = regressionRecord();
  const view = readEvaluationRecord(record);

  it('is v2, kept because of the north region, and reads without a warning', () => {
    assert.equal(record.schema, 'mlopspipelines.evaluation/v2');
    assert.equal(record.decision.decision, 'keep');
    assert.equal(
      record.decision.reason,
      "Keep 'production': the best candidate 'run_1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6' passes the RMSE gate but fails on slice 'north' of 'region' (1,000 rows): its RMSE worsens by more than 0 in 100.0% of that slice's 400 resamples (limit 95.0%; mean change \u22125,085).",
    );
    assert.deepEqual(view.warnings, []);
    assert.deepEqual(
      [view.problemType, view.metric, view.higherIsBetter, view.guardrails.length, view.sliceReports.map((r) => r.column)],
      ['regression', 'rmse', false, 2, ['region', 'channel']],
    );
  });

  it('HTML: the problem, the metric with its orientation, no positives; the reason with run names', () => {
    const html = renderReportBody(view);
    assert.match(
      html,
      /<div data-fact="problem"><dt>Problem<\/dt><dd>Regression<\/dd><\/div><div data-fact="metric"><dt>Metric<\/dt><dd>RMSE \(lower is better\)<\/dd><\/div>/,
    );
    assert.doesNotMatch(html, /data-fact="positives"/);
    assert.match(html, /<div data-fact="rows"><dt>Rows<\/dt><dd>4,000<\/dd><\/div>/);
    assert.ok(
      html.includes(
        '<p class="eval-reason" data-testid="decision-reason">The best candidate gbm_prices_v2 passes the RMSE gate but fails on slice &#39;north&#39; of &#39;region&#39; (1,000 rows): its RMSE worsens by more than 0 in 100.0% of that slice&#39;s 400 resamples (limit 95.0%; mean change \u22125,085).</p>',
      ),
    );
    assert.ok(html.includes('<td class="num" data-col="estimate">14,102</td><td class="num" data-col="ci">[13,796, 14,438]</td>'));
    assert.ok(html.includes('Δ = production − candidate, so positive always means the candidate is better.'));
  });

  it('HTML: one table per guardrail and one per slice column, judged slices worst first, then the one not judged with why', () => {
    assert.deepEqual(checkTables(renderReportBody(view)), [
      {
        testid: 'guardrail',
        heading: 'Guardrail: MAE (lower is better)',
        rows: [['gbm_prices_v2', '500', '11,176', '9,833', '+1,325', '[+954, +1,698]', '0.0% (0)', '< 5.0%', 'passes']],
      },
      {
        testid: 'guardrail',
        heading: 'Guardrail: R² (higher is better)',
        rows: [['gbm_prices_v2', '0.0100', '0.9036', '0.9199', '+0.0160', '[+0.0096, +0.0227]', '0.0% (0)', '< 5.0%', 'passes']],
      },
      {
        testid: 'slices',
        heading: 'Slices of region: fails',
        rows: [
          ['north', '1,000', '13,852', '18,897', `${MINUS}5,085`, `[${MINUS}6,061, ${MINUS}4,129]`, '100.0%', 'fails'],
          ['west', '900', '14,107', '10,196', '+3,893', '[+3,140, +4,757]', '0.0%', 'passes'],
          ['south', '1,000', '14,196', '10,043', '+4,112', '[+3,321, +4,894]', '0.0%', 'passes'],
          ['east', '1,000', '14,229', '10,053', '+4,179', '[+3,369, +5,016]', '0.0%', 'passes'],
          ['islands', '100', 'fewer than 500 rows', 'not judged'],
        ],
      },
      {
        testid: 'slices',
        heading: 'Slices of channel: passes',
        rows: [
          ['auction', '1,354', '14,038', '13,042', '+948', '[+98, +1,748]', '1.3%', 'passes'],
          ['web', '1,342', '14,091', '12,737', '+1,353', '[+590, +2,144]', '0.0%', 'passes'],
          ['agent', '1,304', '14,179', '12,782', '+1,389', '[+640, +2,250]', '0.0%', 'passes'],
        ],
      },
    ]);
  });

  it('markdown summary: the problem line, the models in dollars, a table per guardrail and per slice column', () => {
    const md = renderSummary(record);
    const lines = md.split('\n');
    const from = (start: string, count: number): string[] => {
      const i = lines.indexOf(start);
      assert.ok(i >= 0, start);
      return lines.slice(i, i + count);
    };
    assert.ok(lines.includes('Regression: RMSE (lower is better) on 4000 rows, paired bootstrap, 400 resamples, seed 7; 95% intervals.'));
    assert.ok(lines.some((l) => l.endsWith(' **best** | 12856 | [12544, 13222] | 100.0% | +1220 | [+750, +1716] | +824 > 0 |')));
    assert.deepEqual(
      from(
        'Checks of gbm_prices_v2 beyond the RMSE gate: the guardrail on MAE passes, the guardrail on R² passes, slices of region fail (north), slices of channel pass.',
        30,
      ),
      [
        'Checks of gbm_prices_v2 beyond the RMSE gate: the guardrail on MAE passes, the guardrail on R² passes, slices of region fail (north), slices of channel pass.',
        '',
        'Guardrail on MAE (lower is better): may worsen by at most 500 in fewer than 5.0% of the resamples.',
        '',
        '| Candidate | Production | Candidate value | Mean improvement | Improvement 95% interval | Resamples over the allowance | Allowed | Verdict |',
        '|---|---|---|---|---|---|---|---|',
        '| gbm_prices_v2 | 11176 | 9833 | +1325 | [+954, +1698] | 0.0% (0) | < 5.0% | passes |',
        '',
        'Guardrail on R² (higher is better): may worsen by at most 0.0100 in fewer than 5.0% of the resamples.',
        '',
        '| Candidate | Production | Candidate value | Mean improvement | Improvement 95% interval | Resamples over the allowance | Allowed | Verdict |',
        '|---|---|---|---|---|---|---|---|',
        '| gbm_prices_v2 | 0.9036 | 0.9199 | +0.0160 | [+0.0096, +0.0227] | 0.0% (0) | < 5.0% | passes |',
        '',
        'Slices of region: **fails**; 4 of 5 slices judged (at least 500 rows, at most the 50 largest, tolerance 0).',
        '',
        '| Slice | Rows | Production | Candidate | Mean improvement | Improvement 95% interval | Resamples worse | Verdict |',
        '|---|---|---|---|---|---|---|---|',
        '| north | 1000 | 13852 | 18897 | -5085 | [-6061, -4129] | 100.0% | **fails** |',
        '| west | 900 | 14107 | 10196 | +3893 | [+3140, +4757] | 0.0% | passes |',
        '| south | 1000 | 14196 | 10043 | +4112 | [+3321, +4894] | 0.0% | passes |',
        '| east | 1000 | 14229 | 10053 | +4179 | [+3369, +5016] | 0.0% | passes |',
        '| islands | 100 | – | – | – | – | – | not judged: fewer than 500 rows |',
        '',
        'Slices of channel: passes; 3 of 3 slices judged (at least 500 rows, at most the 50 largest, tolerance 0).',
        '',
        '| Slice | Rows | Production | Candidate | Mean improvement | Improvement 95% interval | Resamples worse | Verdict |',
        '|---|---|---|---|---|---|---|---|',
        '| auction | 1354 | 14038 | 13042 | +948 | [+98, +1748] | 1.3% | passes |',
        '| web | 1342 | 14091 | 12737 | +1353 | [+590, +2144] | 0.0% | passes |',
      ],
    );
  });

  it('charts: RMSE values grouped in the tooltip, the paired difference titled production minus the candidate', () => {
    const metric = metricDistributionChart(view, LIGHT_PALETTE)!;
    const series = metric.option.series as Array<{ name: string; tooltip: { formatter: string } }>;
    assert.deepEqual(
      series.map((s) => s.tooltip.formatter),
      ['production<br/>RMSE 14,102 on the full data', 'gbm_prices_v2<br/>RMSE 12,856 on the full data', 'linear_prices_v3<br/>RMSE 14,969 on the full data'],
    );
    const best = view.models.find((m) => m.isBest)!;
    const delta = deltaChart(view, best, LIGHT_PALETTE)!;
    assert.equal(delta.title, 'Paired difference of RMSE, production minus gbm_prices_v2: win rate 100.0%, mean +1,220');
    // Bars right of zero (the candidate better) are green, left of zero red: the orientation of the record.
    const bars = (delta.option.series as Array<{ type: string; data: Array<{ value: [number, number]; itemStyle: { color: string } }> }>)[0];
    assert.equal(bars.type, 'bar');
    for (const b of bars.data)
      assert.equal(b.itemStyle.color, b.value[0] > 0 ? LIGHT_PALETTE.win : b.value[0] < 0 ? LIGHT_PALETTE.loss : LIGHT_PALETTE.neutral);
    assert.equal(viewFormat(view).delta(view.minDelta!), '0');
  });
});

describe('a multiclass record (real engine: log loss, three named classes, guardrails, slice columns country and store)', function () {
  this.timeout(30_000);
  const record = multiclassRecord();
  const view = readEvaluationRecord(record);

  it('HTML: the problem, the orientation, the classes by name with their rows', () => {
    assert.deepEqual(view.warnings, []);
    assert.equal(record.decision.decision, 'promote');
    const html = renderReportBody(view);
    assert.ok(html.includes('<div data-fact="problem"><dt>Problem</dt><dd>Multiclass classification</dd></div>'));
    assert.ok(html.includes('<div data-fact="metric"><dt>Metric</dt><dd>Log loss (lower is better)</dd></div>'));
    assert.ok(html.includes('<div data-fact="classes"><dt>Classes</dt><dd>3: setosa (2,139), versicolor (2,015), virginica (1,976)</dd></div>'));
    assert.doesNotMatch(html, /data-fact="positives"/);
  });

  it('HTML: guardrail and slice tables; the store column is capped at 50 judged and says so', () => {
    const tables = checkTables(renderReportBody(view));
    assert.deepEqual(
      tables.map((t) => [t.heading, t.rows.length]),
      [
        ['Guardrail: Accuracy (higher is better)', 1],
        ['Guardrail: Macro F1 (higher is better)', 1],
        ['Slices of country: passes', 3],
        ['Slices of store: passes', 61],
      ],
    );
    assert.deepEqual(tables[0].rows[0], ['mlp_species_v5', '0.0100', '0.7869', '0.8967', '+0.1096', '[+0.0959, +0.1201]', '0.0% (0)', '< 5.0%', 'passes']);
    assert.deepEqual(tables[2].rows, [
      ['DE', '2,043', '0.5575', '0.3753', '+0.1829', '[+0.1572, +0.2096]', '0.0%', 'passes'],
      ['NL', '1,021', '0.5565', '0.3622', '+0.1916', '[+0.1541, +0.2297]', '0.0%', 'passes'],
      ['FR', '3,066', '0.5711', '0.3689', '+0.2022', '[+0.1825, +0.2214]', '0.0%', 'passes'],
    ]);
    const store = tables[3].rows;
    assert.deepEqual(store.slice(0, 2), [
      ['S35', '100', '0.4612', '0.4264', '+0.0272', `[${MINUS}0.0975, +0.1422]`, '12.5%', 'passes'],
      ['S42', '100', '0.5372', '0.4570', '+0.0725', `[${MINUS}0.0609, +0.2185]`, '4.5%', 'passes'],
    ]);
    assert.deepEqual(store.slice(48, 51), [
      ['S45', '100', '0.6692', '0.3303', '+0.3408', '[+0.2208, +0.4646]', '0.0%', 'passes'],
      ['S00', '130', 'cannot be bootstrapped: classes 1, 2 absent', 'not judged'],
      ['S50', '100', 'beyond the 50 largest slices (the cap on judged slices)', 'not judged'],
    ]);
    const html = renderReportBody(view);
    assert.ok(
      html.includes(
        '<p class="eval-hint" data-testid="slices-capped">Capped: more slices had enough rows than the cap on judged slices (50); the slices beyond the largest are listed as not judged.</p>',
      ),
    );
    assert.ok(
      html.includes(
        '49 of 61 slices judged: slices of at least 50 rows are judged; at most the 50 largest; a slice fails when Log loss worsens by more than 0.0500',
      ),
    );
  });

  it('markdown summary: the classes, the guardrail tables, the capped store column with its 12 slices not judged listed (fewer than the 20 the summary lists)', () => {
    const lines = renderSummary(record).split('\n');
    assert.ok(
      lines.includes(
        'Multiclass classification: Log loss (lower is better) on 6130 rows in 3 classes (setosa: 2139 rows, versicolor: 2015 rows, virginica: 1976 rows), paired bootstrap, 200 resamples, seed 11; 95% intervals.',
      ),
    );
    assert.ok(lines.includes('| mlp_species_v5 | 0.7868 | 0.8966 | +0.1096 | [+0.0959, +0.1201] | 0.0% (0) | < 5.0% | passes |'));
    assert.ok(
      lines.includes(
        'Slices of store: passes; 49 of 61 slices judged (at least 50 rows, at most the 50 largest, tolerance 0.0500); **capped**: more slices had enough rows than were judged.',
      ),
    );
    assert.ok(lines.includes('| S00 | 130 | – | – | – | – | – | not judged: cannot be bootstrapped: classes 1, 2 absent |'));
    assert.equal(lines.filter((l) => /^\| S\d\d \|/.test(l)).length, 61);
  });

  it('chart: the paired difference of log loss is production minus the candidate', () => {
    const best = view.models.find((m) => m.isBest)!;
    assert.equal(deltaChart(view, best, LIGHT_PALETTE)!.title, 'Paired difference of Log loss, production minus mlp_species_v5: win rate 100.0%, mean +0.1936');
  });
});

describe('v2 fields from a hostile or damaged record: warnings, never a crash or markup', function () {
  this.timeout(30_000);
  const base = regressionRecord();
  const clone = (): any => JSON.parse(JSON.stringify(base));

  it('wrong types are dropped with a warning each, and the rest is still drawn', () => {
    const r = clone();
    const d = r.decision;
    d.problemType = 5;
    d.classes = 3;
    d.classCounts = ['x'];
    d.classNames = ['a', 'b'];
    d.guardrails = [null, { metric: 'mae' }, { ...d.guardrails[1], deltaCi: [1, 0] }];
    d.slices = [
      { column: 'region', slices: [{ name: 'a', rows: 'many', judged: true }, { name: 'b', rows: 10, judged: true }, ...d.slices[0].slices] },
      'x',
      { column: 'c' },
    ];
    const v = readEvaluationRecord(r);
    assert.deepEqual(v.warnings, [
      'problemType is not binaryClassification, regression or multiclass; the problem type is not shown',
      'classCounts is not a list of numbers and is not shown',
      'classNames is not a list of one name per class and is not shown',
      'guardrail #1 names no metric and is not shown',
      'guardrail on mae: maxWorsening, baselineEstimate, candidateEstimate, meanDelta, exceedShare, allowedShare, passed missing or not valid; the guardrail is not shown',
      'guardrail on r2: deltaCi is not a [low, high] pair',
      "slice #1 of 'region' has no name, row count or judged flag and is not shown",
      "slice 'b' of 'region' is judged but has no mean delta or verdict and is not shown",
      'slice check #2 has no column or no slices list and is not shown',
      'slice check #3 has no column or no slices list and is not shown',
    ]);
    assert.deepEqual(
      [v.problemType, v.classNames, v.classCounts, v.guardrails.map((g) => g.metric), v.sliceReports.map((s) => s.slices.length)],
      [undefined, undefined, undefined, ['r2'], [5]],
    );
    const html = renderReportHtml(r);
    assert.ok(html.includes('<section class="eval-card eval-warnings" data-testid="warnings">'));
    assert.deepEqual(
      checkTables(html).map((t) => t.heading),
      ['Guardrail: R² (higher is better)', 'Slices of region: fails'],
    );
  });

  it('lists that are not lists, a verdict that contradicts its slices, an unknown schema: said, not believed', () => {
    const r = clone();
    r.schema = 'mlopspipelines.evaluation/v9';
    r.decision.guardrails = { metric: 'mae' };
    r.decision.slices[0].passed = true;
    r.decision.slices.pop();
    const v = readEvaluationRecord(r);
    assert.deepEqual(v.warnings, [
      'the record\'s schema "mlopspipelines.evaluation/v9" is not one this version reads (mlopspipelines.evaluation/v1, mlopspipelines.evaluation/v2); it is shown as far as it is understood',
      'guardrails is not a list and is not shown',
      "slices of 'region': the recorded verdict does not match its slices; the slices' verdict is shown",
    ]);
    assert.equal(v.sliceReports[0].passed, false);
  });

  it('one slice report as an object (the single-column engine) is read as a list of one; judged slices are re-sorted worst first', () => {
    const r = clone();
    const report = r.decision.slices[0];
    report.slices.reverse();
    r.decision.slices = report;
    const v = readEvaluationRecord(r);
    assert.deepEqual(v.warnings, []);
    assert.deepEqual(
      v.sliceReports[0].slices.map((s) => s.name),
      ['north', 'west', 'south', 'east', 'islands'],
    );
  });

  it('markup in column, slice, note, metric and class names is escaped in the HTML and the summary', () => {
    const r = clone();
    const evil = '<img src=x onerror=alert(1)>|"';
    r.decision.problemType = 'multiclass';
    r.decision.classes = 2;
    r.decision.classNames = ['</dd><script>alert(1)</script>', evil];
    r.decision.guardrails[0].metric = '<script>alert(2)</script>';
    r.decision.slices[0].column = '<script>alert(3)</script>';
    r.decision.slices[0].slices[0].name = evil;
    r.decision.slices[0].slices[4].note = '"><script>alert(4)</script>';
    const html = renderReportHtml(r);
    assert.doesNotMatch(html, /<script>alert|<img src=x/);
    assert.ok(html.includes('&lt;/dd&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('<tr data-slice="&lt;img src=x onerror=alert(1)&gt;|&quot;" data-judged="true">'));
    assert.ok(html.includes('<h2>Slices of &lt;script&gt;alert(3)&lt;/script&gt;: fails</h2>'));
    assert.ok(html.includes('&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;'));
    const md = renderSummary(r);
    assert.doesNotMatch(md, /<script>|<img/);
    assert.ok(md.includes('| &lt;img src=x onerror=alert(1)&gt;\\|" | 1000 |'));
    assert.ok(md.includes('Slices of &lt;script&gt;alert(3)&lt;/script&gt;: **fails**'));
  });

  it('a failing guardrail says fails in the table, the summary and the checks line', () => {
    const r = clone();
    Object.assign(r.decision.guardrails[0], { passed: false, exceeded: 123, exceedShare: 0.3075 });
    const html = renderReportBody(readEvaluationRecord(r));
    assert.deepEqual(checkTables(html)[0].rows[0], ['gbm_prices_v2', '500', '11,176', '9,833', '+1,325', '[+954, +1,698]', '30.8% (123)', '< 5.0%', 'fails']);
    const md = renderSummary(r);
    assert.ok(md.includes('| gbm_prices_v2 | 11176 | 9833 | +1325 | [+954, +1698] | 30.8% (123) | < 5.0% | **fails** |'));
    assert.ok(
      md.includes('beyond the RMSE gate: the guardrail on MAE fails, the guardrail on R² passes, slices of region fail (north), slices of channel pass.'),
    );
  });

  it('thousands of small slices: the tab lists 200 not judged and counts the rest, the summary 20', () => {
    const r = clone();
    const report = r.decision.slices[1];
    for (let i = 0; i < 250; i++) report.slices.push({ name: `tiny${i}`, rows: 3, judged: false, note: 'fewer than 500 rows' });
    const html = renderReportBody(readEvaluationRecord(r));
    const channel = checkTables(html)[3];
    assert.equal(channel.rows.length, 3 + 200);
    assert.ok(html.includes('<p class="eval-hint" data-testid="slices-more">50 more slices not judged, smaller than those listed, are not shown.</p>'));
    const lines = renderSummary(r).split('\n');
    assert.equal(lines.filter((l) => l.startsWith('| tiny')).length, 20);
    assert.ok(lines.includes('230 more slices not judged, smaller than those listed, are left out (the Model evaluation tab lists up to 200).'));
  });
});
